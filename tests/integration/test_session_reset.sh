# test_session_reset.sh: a session that cannot go on starts again by
# itself, and nobody is left unaware. The counsellor's store is rolled
# back to a copy taken before a DH ratchet step: the client's next message
# cannot be decrypted. The counsellor is told, not given "[cannot decrypt]"
# and silence; the client is told by a report that comes in a new session;
# the messages after it decrypt both ways. A replayed message is refused
# and starts nothing. Also: a first message prints no error, and a text
# comes from standard input ("send CASE -") within the same bounds as one
# on the command line.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'
# the case is Sam's now; Sam's key file is rolled back below, which a
# running daemon (holding it) would not see: Sam works without one
counsellor_down couns

# recv_one WHO: one message line of WHO's recv into OUT, stderr into ERR.
recv_one() {
	clirun "$1" recv --count 1
}

step "a first message goes out without an error printed"
clirun client send "$CASE" "hello, first"
assert_eq "the first send exits 0" 0 "$RC"
assert_match "  and is acknowledged" "$OUT" '^sent: '
assert_eq "  and prints nothing on stderr" "" "$ERR"
recv_one couns
assert_eq "the counsellor reads it" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"hello, first" "$OUT"

step "a few rounds: DH ratchet steps on both sides"
cli couns send "$CASE" "reply 0" >/dev/null
recv_one client
assert_eq "the client reads reply 0" "$CASE"$'\t'"$COUNS_NAME"$'\t'"reply 0" "$OUT"
cp "$IDS/couns.key" "$T/couns-old.key"	# before the next DH steps
for i in 1 2; do
	cli client send "$CASE" "client $i" >/dev/null
	recv_one couns
	assert_eq "round $i: the counsellor reads the client" \
		"$CASE"$'\t'"$CLIENT_NAME"$'\t'"client $i" "$OUT"
	cli couns send "$CASE" "reply $i" >/dev/null
	recv_one client
	assert_eq "round $i: the client reads the counsellor" \
		"$CASE"$'\t'"$COUNS_NAME"$'\t'"reply $i" "$OUT"
done

step "the counsellor's store rolled back: the next message cannot be read"
cp "$T/couns-old.key" "$IDS/couns.key"
cli client send "$CASE" "lost in the old session" >/dev/null
cli client send "$CASE" "also lost" >/dev/null
clirun couns recv --count 2
assert_eq "the counsellor's recv exits 0" 0 "$RC"
assert_eq "the counsellor is shown both as unreadable, by name" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[could not be read]"$'\n'"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[could not be read]" "$OUT"
assert_not_contains "  not as [cannot decrypt]" "$OUT" "[cannot decrypt]"
assert_contains "  and warned on stderr" "$ERR" \
	"warning: a message in case $CASE from $CLIENT_NAME could not be read"
assert_contains "  the client is told, in a new session" "$ERR" \
	"notice: told $CLIENT_NAME that 2 of their messages could not be read; a new secure session has started"
assert_eq "the unreadable copies are acknowledged; the report waits for the client" 1 \
	"$(sql "SELECT count(*) FROM deliveries")"
hdr=$(sql "SELECT hex(substr(ct, 1, 2)) FROM deliveries ORDER BY seq DESC LIMIT 1")
assert_match "  the report is a first message of a new session (X3DH fields)" "$hdr" '^..0[13]$'

step "the client is told by the report"
clirun client recv
assert_eq "the client's recv exits 0" 0 "$RC"
assert_eq "  the report is no message line" "" "$OUT"
assert_contains "  it tells who could not read how many" "$ERR" \
	"notice: $COUNS_NAME could not read 2 of your messages"
assert_contains "  and that a new session began" "$ERR" "a new secure session has started"
assert_eq "the report is acknowledged" 0 "$(sql "SELECT count(*) FROM deliveries")"

step "the new session carries messages both ways"
cli client send "$CASE" "after the reset" >/dev/null
recv_one couns
assert_eq "the counsellor reads the client" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"after the reset" "$OUT"
assert_eq "  with no warning" "" "$ERR"
cli couns send "$CASE" "and back" >/dev/null
recv_one client
assert_eq "the client reads the counsellor" "$CASE"$'\t'"$COUNS_NAME"$'\t'"and back" "$OUT"
assert_eq "  with no warning" "" "$ERR"

# last_ct: the base64 of the newest copy waiting on the server.
last_ct() {
	sql "SELECT hex(ct) FROM deliveries ORDER BY seq DESC LIMIT 1" |
		xxd -r -p | base64 -w0
}

step "a replayed message is refused, and starts no new session"
cli client send "$CASE" "once only" >/dev/null
replay_ct=$(last_ct)
recv_one couns
assert_eq "the counsellor reads it once" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"once only" "$OUT"
out=$(cli client raw --login --count 1 --idle 5 <<<"{\"v\":1,\"type\":\"msg.send\",\"id\":1,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$replay_ct\"}]}")
assert_match "the server takes the replay under a new mid" "$out" '"dup": *false'
recv_one couns
assert_eq "the counsellor refuses the replay" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[refused: replayed or repeated message]" "$OUT"
assert_not_contains "  and tells nobody of a new session" "$ERR" "told"
assert_eq "  no report waits for the client" 0 "$(sql "SELECT count(*) FROM deliveries")"
cli client send "$CASE" "the session goes on" >/dev/null
recv_one couns
assert_eq "the session goes on" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"the session goes on" "$OUT"

step "send CASE -: the text from standard input, within the same bounds"
printf 'from stdin\n' | cli client send "$CASE" - >/dev/null
recv_one couns
assert_eq "a line from stdin arrives (its newline dropped)" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"from stdin" "$OUT"
printf 'two\nlines\n' | cli client send "$CASE" - >/dev/null
recv_one couns
assert_eq "two lines arrive as one text" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"two lines" "$OUT"
max=16105
long=$(head -c "$max" /dev/zero | tr '\0' 'a')
clirun client send "$CASE" - < <(printf '%s\n' "$long")
assert_eq "a text of $max bytes from stdin is sent" 0 "$RC"
recv_one couns
assert_eq "  and arrives whole (its length)" $((${#CASE} + ${#CLIENT_NAME} + 2 + max)) "${#OUT}"
assert_eq "  (its text)" "$long" "${OUT##*$'\t'}"
clirun client send "$CASE" - < <(printf '%sb' "$long")
assert_eq "one byte more is refused" 1 "$RC"
assert_contains "  as too big" "$ERR" "at most $max bytes"
clirun client send "$CASE" "${long}b"
assert_eq "the same text on the command line is refused alike" 1 "$RC"
assert_contains "  as too big" "$ERR" "at most $max bytes"
clirun client send "$CASE" - </dev/null
assert_ne "an empty stdin sends nothing" 0 "$RC"
assert_eq "nothing more waits on the server" 0 "$(sql "SELECT count(*) FROM deliveries")"

finish
