# test_cocounsel.sh: co-counselling and moves that lose nothing
# (PROTOCOL.md, "Co-counselling", "No stranded case"). Sam brings Kim, a
# supervisor, into a client's case; Kim is listed at once as joining, and
# nothing goes to or from Kim (not_told, nothing stored) until the
# client's CLI has shown it and confirmed; then messages go three ways,
# each readable by both others. The client has Kim removed; a message Kim
# sent before still reads for the client, Kim gets nothing sent after,
# and cannot send. Then Sam is disabled and enabled: the case is not
# stranded, the admin sees it waiting and gives it back to Sam.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool
# Kim speaks German only: the client's case (English) is never matched
# to her; she comes in as Sam's supervisor.
add_counsellor admin kim Kim --languages de --topics leaving
certify_pending Kim
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the client's case is active with Sam" Sam "$out" counsellor
KIM_ID=$(account_id kim)

# raw_send WHO TO...: msg.send by WHO of one made-up copy per key TO
# (only the server's checks are tried: nothing is stored either way).
raw_send() {
	local who=$1 copies="" k
	shift
	for k in "$@"; do
		copies+="${copies:+,}{\"to\":\"$k\",\"ct\":\"$(b64_random 64)\"}"
	done
	clirun "$who" raw --login --count 1 <<<"{\"v\":1,\"type\":\"msg.send\",\"id\":5,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[$copies]}"
}

step "Sam and the client talk, two of them"
cli couns send "$CASE" "hello from Sam" >/dev/null
assert_contains "the client reads Sam" "$(cli client recv --count 1)" "hello from Sam"

step "Sam brings Kim in as supervisor: listed at once, joining"
cli_out out couns bring "$CASE" "$KEY_kim" --as supervisor
assert_match "Kim is listed as a joining supervisor" "$out" '^member Kim \(supervisor\) joining'
assert_field "the membership version is 1" 1 "$out" members
cli_out out couns cases
assert_match "Sam's case lists the client, Sam and Kim" "$out" "^$CASE active en leaving [^ ]+,Sam,Kim"

# stored: the copies and records of sends (a CLI that tries may take
# prekeys for its sessions first: not a message).
stored() {
	sql "SELECT (SELECT count(*) FROM deliveries) || ' ' ||
	    (SELECT count(*) FROM sent)"
}

step "nothing to or from Kim before the client was told: not_told, nothing stored"
before=$(stored)
raw_send couns "$KEY_client" "$KEY_kim"
assert_error "Sam: a copy for Kim before the client was told" not_told
raw_send kim "$KEY_client" "$KEY_couns"
assert_error "Kim: a message before the client was told" not_told
clirun kim send "$CASE" "too early"
assert_eq "Kim's send exits 1" 1 "$RC"
assert_match "Kim's send: not_told" "$ERR" 'not_told'
assert_eq "nothing stored" "$before" "$(stored)"
before=$(table_counts)
clirun kim raw --login --count 1 <<<"{\"v\":1,\"type\":\"case.close\",\"id\":5,\"case\":$CASE}"
assert_error "Kim, a colleague, closing the case" forbidden
assert_eq "  the case is still active (2), nothing changed" "2|$before" \
	"$(sql "SELECT status FROM cases WHERE id = $CASE")|$(table_counts)"
# Sam's own client leaves Kim out while she joins: the message goes.
cli couns send "$CASE" "only for the client" >/dev/null
assert_contains "the client reads it" "$(cli client recv --count 1)" "only for the client"
assert_eq "no copy was stored for Kim" 0 "$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"

step "a server that says the client was told of Kim: the client's CLI seals to no colleague it has not shown"
# the server's word alone (a compromised server: the client's
# confirmation written in its store): Kim is "in the case" for the client
CLIENT_ID=$(account_id client)
sql_rw "UPDATE case_participants SET seen = 1 WHERE case_id = $CASE AND account_id = $CLIENT_ID" >/dev/null
keyfile_before=$(sha256sum <"$IDS/client.key")
clirun client send "$CASE" "for Sam, I believe"
assert_eq "the client's send exits 1" 1 "$RC"
assert_eq "  its key file unchanged (no running number, no session spent)" \
	"$keyfile_before" "$(sha256sum <"$IDS/client.key")"
assert_match "  not_told: Kim was never shown to this user" "$ERR" 'not_told: .*never shown here.*offramp members'
assert_eq "  no copy for Kim (before, one was stored)" 0 "$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"
# and a referral made up in the store, to a made-up programme, Kim its
# counsellor: listed as the referral's counsellor, Kim is still a
# colleague the client was never shown
PROG=$(sql "SELECT programme_id FROM accounts WHERE id = $KIM_ID")
sql_rw "INSERT INTO programmes(id, name, created) VALUES (9001, 'Made up', 1)" >/dev/null
sql_rw "INSERT INTO referrals(case_id, from_programme, to_programme, receiver_id, status, proposed, answered) VALUES ($CASE, $PROG, 9001, $KIM_ID, 1, 1, 1)" >/dev/null
clirun client raw --login --count 1 <<<'{"v":1,"type":"case.list","id":5}'
assert_match "  the server lists Kim as the referral's counsellor" "$OUT" '"as": *"referral"'
clirun client send "$CASE" "for Sam, I believe"
assert_eq "  the client's send exits 1" 1 "$RC"
assert_match "  not_told" "$ERR" 'not_told: .*never shown here'
assert_eq "  no copy for Kim (before, one was stored)" 0 "$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"
sql_rw "DELETE FROM referrals WHERE case_id = $CASE" >/dev/null
sql_rw "DELETE FROM programmes WHERE id = 9001" >/dev/null
sql_rw "UPDATE case_participants SET seen = 0 WHERE case_id = $CASE AND account_id = $CLIENT_ID" >/dev/null

step "the client's CLI shows Kim and confirms: Kim joins"
cli_out out client members "$CASE"
assert_match "the client sees Kim joining" "$out" '^member Kim \(supervisor\) joining'
assert_match "and Sam in the case" "$out" '^member Sam \(counsellor\) in the case$'
assert_eq "the client confirmed version 1" "confirmed: members=1" "$(tail -n1 <<<"$out")"
cli_out out couns members "$CASE"
assert_match "Sam sees Kim in the case now" "$out" '^member Kim \(supervisor\) in the case$'
# Kim's safety number pins nothing: her certificate vouches for her, and
# the key pinned for the case's counsellor stays Sam's
NUM=$(cli client safety "$CASE" | sed -n 's/^Kim \(\([0-9]\{5\} \)\{11\}[0-9]\{5\}\) .*/\1/p')
assert_match "the client's safety numbers list Kim" "$NUM" '^([0-9]{5} ){11}[0-9]{5}$'
clirun client verify "$CASE" "$NUM"
assert_eq "verifying Kim, a colleague, verifies nothing: exits 1" 1 "$RC"
assert_match "  Sam's key still the counsellor's: unverified, not changed" \
	"$(cli client safety "$CASE")" '^Sam [0-9 ]+ unverified$'

step "three ways: each message readable by both others"
cli couns send "$CASE" "Sam to both" >/dev/null
assert_contains "the client reads Sam" "$(cli client recv --count 1)" "Sam to both"
assert_contains "Kim reads Sam" "$(cli kim recv --count 1)" "Sam to both"
cli kim send "$CASE" "Kim to both" >/dev/null
assert_contains "the client reads Kim" "$(cli client recv --count 1)" "Kim to both"
assert_contains "Sam reads Kim" "$(cli couns recv --count 1)" "Kim to both"
cli client send "$CASE" "client to both" >/dev/null
assert_contains "Sam reads the client" "$(cli couns recv --count 1)" "client to both"
assert_contains "Kim reads the client" "$(cli kim recv --count 1)" "client to both"
# Sam's recvs read the case pushes his daemon queued before Kim came:
# older than what he confirmed, they drop nothing
clirun couns send "$CASE" "Sam again, to both"
assert_eq "Sam writes to both again: exit 0" 0 "$RC"
assert_contains "  Kim reads it" "$(cli kim recv --count 1)" "Sam again, to both"
assert_contains "  the client reads it" "$(cli client recv --count 1)" "Sam again, to both"

step "Kim writes, then the client has her removed: the message still reads"
# Kim's connection records what she is told: of Sam's copy, read while
# she is in the case, and of nothing read after she left it
watch_start kim
cli kim send "$CASE" "Kim before her removal" >/dev/null
assert_contains "Sam reads Kim's message" "$(cli couns recv --count 1)" \
	"Kim before her removal"
watch_expect "Kim is told Sam has it" kim '"type":"msg\.delivered"'
cli_out out client remove "$CASE" Kim
assert_match "Kim is a former participant, removed" "$out" '^former Kim \(supervisor\) left: removed from the case at a participant.s request'
assert_field "the membership version is 2" 2 "$out" members
assert_contains "the client reads Kim's message sent before" \
	"$(cli client recv --count 1)" "Kim before her removal"
# a receipt would have been queued for Kim before the client's ack was
# answered, so before the answer to a ping she sends now
echo '{"v":1,"type":"ping","id":2}' >&"$WATCH_FD_kim"
watch_expect "Kim's ping after the client's read is answered" kim \
	'"type":"ping\.ok".*"re":2'
assert_eq "Kim, removed, is not told the client has it" 1 \
	"$(grep -c '"type":"msg\.delivered"' "$T/watch-kim.out")"
watch_stop kim

step "a removed participant gets nothing and cannot send"
cli couns send "$CASE" "after Kim left" >/dev/null
assert_contains "the client reads Sam" "$(cli client recv --count 1)" "after Kim left"
assert_eq "nothing stored for Kim" 0 "$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"
before=$(table_counts)
raw_send kim "$KEY_client" "$KEY_couns"
assert_error "Kim: a message after her removal" not_found
clirun kim raw --login --count 1 <<<"{\"v\":1,\"type\":\"case.seen\",\"id\":5,\"case\":$CASE,\"members\":2}"
assert_error "Kim: case.seen after her removal" not_found
assert_eq "nothing changed" "$before" "$(table_counts)"
assert_not_contains "Kim's cases lack it" "$(cli kim cases)" "$CASE"
raw_send couns "$KEY_client" "$KEY_kim"
assert_error "Sam: a copy for Kim after her removal" bad_recipients

step "a server that lists Kim again, joined at the version the client saw her at: the client's CLI, which saw her gone, seals nothing to her"
sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $CASE, id, role, 10, 1, 1, 1 FROM accounts WHERE id = $KIM_ID" >/dev/null
clirun client send "$CASE" "with Kim listed again"
assert_eq "the client's send exits 1" 1 "$RC"
assert_match "  not_told: Kim is to be shown again" "$ERR" 'not_told: .*never shown here.*offramp members'
assert_eq "  nothing stored for Kim (a copy was, when the CLI kept her key)" 0 \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"
sql_rw "DELETE FROM case_participants WHERE case_id = $CASE AND account_id = $KIM_ID" >/dev/null

# chat_start LINE: the client's chat in the case (its lines from fd 7,
# its errors in $T/chat.err), LINE sent and read by Sam
chat_start() {
	: >"$T/chat.err"
	exec 7<>"$T/chat.in"
	cli client chat "$CASE" <"$T/chat.in" >/dev/null 2>"$T/chat.err" 7>&- &
	chat_pid=$!
	printf '%s\n' "$1" >&7
	assert_contains "Sam reads the chat's line" "$(cli couns recv --count 1)" "$1"
}
# pushed N: Sam pauses and resumes the case, and the chat has read the
# N-th push of it active again
pushed() {
	cli couns pause "$CASE" >/dev/null
	cli couns resume "$CASE" >/dev/null
	_actives() { [ "$(grep -c "^notice: case $CASE active" "$T/chat.err")" -ge "$1" ]; }
	wait_for "the chat to read push $1" 20 _actives "$1"
}
# chat_refuses LINE PATTERN WHY: LINE typed, the chat says PATTERN (WHY
# it refuses), and ends
chat_refuses() {
	printf '%s\n' "$1" >&7
	_said() { grep -q "$1" "$T/chat.err"; }
	wait_for "the chat to refuse the line" 20 _said "$2" &&
		pass "chat refuses the line: $3" ||
		fail "chat sent it: $(cat "$T/chat.err")"
	exec 7>&-
	wait "$chat_pid" || true
}
mkfifo "$T/chat.in"

step "the client in chat; the server lists a second client and pushes the case: chat sends nothing"
keygen mal
cli mal login >/dev/null
MAL_ID=$(account_id mal)
chat_start "from chat, before"
sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $CASE, id, role, 11, 0, 0, 1 FROM accounts WHERE id = $MAL_ID" >/dev/null
pushed 1
chat_refuses "from chat, after" "not sent: the server lists someone" "a second client listed"
assert_eq "  nothing stored for Mal (a copy was before)" 0 \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $MAL_ID")"
sql_rw "DELETE FROM case_participants WHERE case_id = $CASE AND account_id = $MAL_ID" >/dev/null

step "the client in chat sees a colleague it confirmed leave, then listed again: chat writes nothing to her"
kim_in() {
	sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $CASE, id, role, 12, 1, 1, 1 FROM accounts WHERE id = $KIM_ID" >/dev/null
}
kim_out() {
	sql_rw "DELETE FROM case_participants WHERE case_id = $CASE AND account_id = $KIM_ID" >/dev/null
}
kim_in
cli client members "$CASE" >/dev/null	# the client shown Kim (made up)
chat_start "to Sam and Kim"
kim_copies=$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")
kim_out
pushed 1
kim_in
pushed 2
chat_refuses "to Sam alone, I believe" "not_told" "Kim to be shown again"
assert_eq "  no new copy for Kim (one was before)" "$kim_copies" \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"
kim_out

step "the history keeps who was in the case, and why each left"
assert_eq "Kim's stay ended, removed (3)" "1|3" \
	"$(sql "SELECT count(*), max(why) FROM case_members WHERE case_id = $CASE AND account_id = $KIM_ID AND left_at IS NOT NULL")"

step "removed, never back: Sam cannot bring Kim into the case again"
before=$(table_counts)
clirun couns bring "$CASE" "$KEY_kim" --as supervisor
assert_eq "bringing Kim back exits 1" 1 "$RC"
assert_match "  forbidden (before, she was in again, as often as Sam liked)" "$ERR" 'forbidden'
assert_eq "  nothing changed" "$before" "$(table_counts)"

step "Sam disabled, then enabled: the case is not stranded"
cli_out out admin disable Sam
cli_out out client cases
assert_match "the case waits (nobody else speaks English)" "$out" "^$CASE waiting "
cli_out out client members "$CASE"
assert_match "the client is told Sam left because he was disabled" "$out" \
	"^former Sam \\(counsellor\\) left: the programme's admin disabled the counsellor's account"
cli_out out admin waiting
assert_match "the admin sees it waiting" "$out" "^$CASE en leaving normal waiting=[0-9]+s$"
cli admin enable Sam >/dev/null
cli_out out admin waiting
assert_match "enabled, Sam does not get it back by himself: it still waits" "$out" "^$CASE "
cli_out out admin assign "$CASE" Sam
assert_field "the admin gives it back to Sam" active "$out" status
cli_out out client cases
assert_match "the client's case is active with Sam again" "$out" "^$CASE active en leaving [^ ]+,Sam$"
assert_eq "nothing waits any more" "" "$(cli admin waiting 2>/dev/null | grep -E "^$CASE " || true)"

# handed_to_kim CASE: a completed referral of CASE made up in the store:
# Sam left for it, Kim (of Sam's programme) in his place, everyone told
handed_to_kim() {
	sql_rw "UPDATE referrals SET receiver_id = $KIM_ID, status = 5, answered = 1, completed = 2 WHERE case_id = $1" >/dev/null
	sql_rw "UPDATE case_members SET left_at = 3, why = 5 WHERE case_id = $1 AND account_id = $SAM_ID AND left_at IS NULL" >/dev/null
	sql_rw "DELETE FROM case_participants WHERE case_id = $1 AND account_id = $SAM_ID" >/dev/null
	sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $1, id, role, 4, 0, 0, 1 FROM accounts WHERE id = $KIM_ID" >/dev/null
	sql_rw "INSERT INTO case_members(case_id, account_id, kind, joined_at) VALUES ($1, $KIM_ID, 0, 4)" >/dev/null
	sql_rw "UPDATE cases SET counsellor_id = $KIM_ID WHERE id = $1" >/dev/null
	sql_rw "UPDATE case_participants SET seen = 1 WHERE case_id = $1" >/dev/null
}
# not_to_kim WHO CASE: WHO's send in CASE is refused, Kim's key a changed
# one, and nothing is stored for her there
not_to_kim() {
	clirun "$1" send "$2" "for Sam, I believe"
	assert_eq "the client's send exits 1" 1 "$RC"
	assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"
	assert_eq "  nothing stored for Kim (a copy was)" 0 \
		"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID AND case_id = $2")"
}
SAM_ID=$(account_id couns)
sql_rw "INSERT INTO programmes(id, name, created) VALUES (9002, 'Made up too', 1)" >/dev/null

step "a handover made up in the store, to the programme the client's request named: Kim's key is not taken for Sam's"
keygen named
cli_out out named request --language en --topic leaving --programme "$PROG"
field_to NCASE "$out" case
cli couns send "$NCASE" "hello from Sam" >/dev/null
assert_contains "the client reads Sam (his key pinned)" "$(cli named recv --count 1)" "hello from Sam"
# first a referral proposed to that very programme, which the client's
# CLI answers: a yes the server refuses, or to where the case began,
# makes no partner of it
sql_rw "INSERT INTO referrals(case_id, from_programme, to_programme, status, proposed) VALUES ($NCASE, 9002, $PROG, 0, 1)" >/dev/null
clirun named referral accept "$NCASE"
handed_to_kim "$NCASE"
not_to_kim named "$NCASE"

step "a request that named no programme: no yes goes while the server lists Sam in a made-up programme"
if on_pg; then zero="decode(repeat('00', 129), 'hex')"; else zero="zeroblob(129)"; fi
sql_rw "INSERT INTO partnerships(proposer_id, partner_id, status, proposer_statement, partner_statement, created) VALUES (9002, $PROG, 1, $zero, $zero, 1)" >/dev/null
keygen free
cli_out out free request --language en --topic leaving
field_to FCASE "$out" case
cli couns send "$FCASE" "hello from Sam" >/dev/null
assert_contains "the client reads Sam (his key pinned)" "$(cli free recv --count 1)" "hello from Sam"
sql_rw "INSERT INTO referrals(case_id, from_programme, to_programme, status, proposed) VALUES ($FCASE, 9002, $PROG, 0, 1)" >/dev/null
sql_rw "UPDATE accounts SET programme_id = 9002 WHERE id = $SAM_ID" >/dev/null
clirun free referral accept "$FCASE"
assert_eq "  the yes is not sent: exit 1" 1 "$RC"
assert_contains "  it says why" "$ERR" "not answered"
assert_eq "  the referral is still proposed" 0 \
	"$(sql "SELECT status FROM referrals WHERE case_id = $FCASE")"
sql_rw "UPDATE accounts SET programme_id = $PROG WHERE id = $SAM_ID" >/dev/null
handed_to_kim "$FCASE"
not_to_kim free "$FCASE"

stop_server
finish
