# test_e2e.sh: end-to-end sessions through the real server. First
# messages go through prekeys (one-time prekeys consumed), both sides may
# start at once, the server and the CLI's local stores hold no plaintext
# while `history` shows it, safety numbers match and can be verified, bad
# bundles and certificates are refused by the server, recv tells of case
# pushes, a replayed first message (the server withholding one-time
# prekeys) is refused once its session is gone, and a compromised server
# that swaps a counsellor's key (and even the programme key) is refused by
# clients that pinned the real programme key, whoever sends first.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${OFFRAMP_FORGE_BIN:?set OFFRAMP_FORGE_BIN to the forge_cert test tool}"

MARKER="e2e$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "   (marker $MARKER)"

# otk_count KEY_B64: one-time prekeys the server holds for that account.
otk_count() {
	sql "SELECT count(*) FROM one_time_prekeys o JOIN accounts a
	    ON a.id = o.account_id WHERE a.key = X'$(hexkey "$1")'"
}

# deliveries: copies waiting on the server.
deliveries() {
	sql "SELECT count(*) FROM deliveries"
}

# last_ct: the base64 of the newest copy waiting on the server.
last_ct() {
	sql "SELECT hex(ct) FROM deliveries ORDER BY seq DESC LIMIT 1" |
		xxd -r -p | base64 -w0
}

# raw_as WHO FRAME: one frame on a logged-in raw connection; prints the
# answer.
raw_as() {
	cli "$1" raw --login --count 1 --idle 5 <<<"$2"
}

# lines_of FILE: the number of lines in FILE (0 when it is missing).
lines_of() {
	[ -f "$1" ] && wc -l <"$1" || echo 0
}

# has_lines FILE N: FILE has at least N lines.
has_lines() {
	[ "$(lines_of "$1")" -ge "$2" ]
}

start_server
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
# the client's store before it has any session, for the replay test
cp "$IDS/client.key" "$T/client-fresh.key"

step "every login stocks the account's prekeys"
assert_eq "the client has 30 one-time prekeys on the server" 30 "$(otk_count "$KEY_client")"
assert_eq "the counsellor has 30" 30 "$(otk_count "$KEY_couns")"
assert_eq "the client has a signed prekey" 1 "$(sql "SELECT count(*) FROM signed_prekeys s
    JOIN accounts a ON a.id = s.account_id WHERE a.key = X'$(hexkey "$KEY_client")'")"
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'

step "first messages both ways, sent at once: each goes through prekeys"
m1="client first: $MARKER"
m2="counsellor first, before reading $RANDOM"
cli_out out client send "$CASE" "$m1"
assert_match "the client's first message is acknowledged" "$out" '^sent: '
assert_eq "  it took one of the counsellor's one-time prekeys" 29 "$(otk_count "$KEY_couns")"
cli_out out couns send "$CASE" "$m2"
assert_match "the counsellor's first message is acknowledged" "$out" '^sent: '
assert_eq "  it took one of the client's one-time prekeys" 29 "$(otk_count "$KEY_client")"
assert_eq "two copies wait on the server" 2 "$(sql "SELECT count(*) FROM deliveries")"
hdr=$(sql "SELECT hex(substr(ct, 1, 2)) FROM deliveries ORDER BY seq LIMIT 1")
assert_match "a first message carries the X3DH fields with a one-time prekey" "$hdr" '^..03$'
cli_out out couns recv --count 1
assert_eq "the counsellor decrypts the client's first message" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"$m1" "$out"
cli_out out client recv --count 1
assert_eq "the client decrypts the counsellor's first message" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"$m2" "$out"

step "the conversation goes on both ways over the sessions"
for i in 1 2; do
	a="client says $i $MARKER"
	b="counsellor answers $i $RANDOM"
	cli client send "$CASE" "$a" >/dev/null
	cli_out out couns recv --count 1
	assert_eq "round $i: the counsellor reads the client" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"$a" "$out"
	cli couns send "$CASE" "$b" >/dev/null
	cli_out out client recv --count 1
	assert_eq "round $i: the client reads the counsellor" "$CASE"$'\t'"$COUNS_NAME"$'\t'"$b" "$out"
done
assert_eq "no further one-time prekeys were used (client)" 29 "$(otk_count "$KEY_client")"
assert_eq "no further one-time prekeys were used (counsellor)" 29 "$(otk_count "$KEY_couns")"
hdr=$(printf '%s\n' "later $MARKER" | cli client send "$CASE" - >/dev/null;
	sql "SELECT hex(substr(ct, 1, 2)) FROM deliveries ORDER BY seq DESC LIMIT 1")
assert_match "a later message has no X3DH fields" "$hdr" '^..00$'
cli_out out couns recv --count 1
assert_eq "  and decrypts" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"later $MARKER" "$out"

step "what a message holds that would move the terminal or turn text around is shown as ?"
# ESC (a terminal's escape), RLO (an override), RLI (an isolate), RLM
# and ALM (the marks: they reorder what is around them)
odd=$'a\e[2Jb\u202ec\u2067d\u200fe\u061cf'
cli client send "$CASE" "$odd" >/dev/null
cli_out out couns recv --count 1
assert_eq "each shown as ?" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"a?[2Jb?c?d?e?f" "$out"

step "no plaintext on the server or in the local stores; history has it"
files=()
mapfile -t files < <(data_files)
if grep -a -q -F -- "$MARKER" "${files[@]}" "${SERVER_LOGS[@]}"; then
	fail "the marker is in the server's files"
else
	pass "the marker is in no server file or log"
fi
assert_ne "the check can fail: the marker is in this script's own text" "" \
	"$(printf '%s\n' "$m1" | grep -a -F -- "$MARKER" || true)"
for who in client couns; do
	if grep -a -q -F -e "$MARKER" -e "counsellor answers" -e "client says" "$IDS/$who.key"; then
		fail "the $who's store holds message text in the clear"
	else
		pass "the $who's store holds no message text in the clear"
	fi
	assert_eq "the $who's store is mode 600" 600 "$(file_mode "$IDS/$who.key")"
done
assert_eq "no temporary files are left next to the stores" "" \
	"$(find "$IDS" -name '*.tmp.*' -printf '%f\n')"
# a save stopped before its rename leaves a whole copy: the next command
# that takes the key file's lock removes it (of its own key file alone)
cp -p "$IDS/client.key" "$IDS/client.key.tmp.Ab3dEf"
cp -p "$IDS/client.key" "$IDS/other.key.tmp.Ab3dEf"
cli client cases >/dev/null
assert_eq "a stopped save's copy is removed by the next command" \
	"other.key.tmp.Ab3dEf" "$(find "$IDS" -name '*.tmp.*' -printf '%f\n')"
rm -f "$IDS/other.key.tmp.Ab3dEf"
cli_out out client history "$CASE"
assert_eq "the client's history: first line, sent" "me: $m1" "$(sed -n 1p <<<"$out")"
assert_eq "  second line, received" "$COUNS_NAME: $m2" "$(sed -n 2p <<<"$out")"
assert_eq "  eight messages in all" 8 "$(wc -l <<<"$out")"
cli_out out couns history "$CASE"
assert_eq "the counsellor's history starts with its own message" "me: $m2" "$(sed -n 1p <<<"$out")"
assert_contains "  and holds the client's" "$out" "$CLIENT_NAME: $m1"

step "a wrong passphrase opens no store, with a clear error"
PASS_OVERRIDE="not-the-passphrase" clirun client history "$CASE"
assert_eq "exit status 1" 1 "$RC"
assert_match "the error names the passphrase" "$ERR" '^offramp: passphrase: wrong passphrase'
assert_eq "nothing printed" "" "$OUT"

step "safety numbers: the same on both sides; verify marks them"
cli_out s1 client safety "$CASE"
cli_out s2 couns safety "$CASE"
assert_match "the client sees Sam's number, unverified" "$s1" \
	"^$COUNS_NAME ([0-9]{5} ){12}unverified$"
assert_match "the counsellor sees the client's, unverified" "$s2" \
	"^$CLIENT_NAME ([0-9]{5} ){12}unverified$"
n1=$(grep -oE '([0-9]{5} ){11}[0-9]{5}' <<<"$s1")
n2=$(grep -oE '([0-9]{5} ){11}[0-9]{5}' <<<"$s2")
assert_eq "both print the same safety number" "$n1" "$n2"
cli_out out client verify "$CASE" "$n1" --name "$COUNS_NAME"
assert_eq "verify names Sam" "verified: $COUNS_NAME" "$out"
assert_match "the client's safety now says verified" "$(cli client safety "$CASE")" \
	"^$COUNS_NAME $n1 verified$"
cli couns verify "$CASE" "$n2" >/dev/null
assert_match "the counsellor's too" "$(cli couns safety "$CASE")" "^$CLIENT_NAME $n1 verified$"

step "two processes of one identity: the second waits, then fails clearly"
mkfifo "$T/hold.in"
exec 6<>"$T/hold.in"
cli client chat "$CASE" <"$T/hold.in" >"$T/hold.out" 2>&1 6>&- &
hold_pid=$!
chat_locked() { [ -e "$IDS/client.key.lock" ] && ! flock -n "$IDS/client.key.lock" true; }
wait_for "chat to hold the store" 20 chat_locked && pass "chat holds the store's lock"
CLI_TIMEOUT=1 clirun client history "$CASE"
assert_eq "a second process fails" 1 "$RC"
assert_match "  and says the store is in use" "$ERR" 'in use by another offramp process'
exec 6>&-
wait "$hold_pid" || true
assert_match "once chat ended the store opens again" "$(cli client history "$CASE")" "^me: "

step "recv tells of case pushes on stderr"
n1="before the pause $RANDOM"
cli couns send "$CASE" "$n1" >/dev/null
cli client recv --count 2 >"$T/notice.out" 2>"$T/notice.err" &
notice_pid=$!
wait_for "recv to print the first message" 20 has_lines "$T/notice.out" 1 &&
	pass "recv is logged in and printed the first message"
out=$(raw_as couns "{\"v\":1,\"type\":\"case.pause\",\"id\":1,\"case\":$CASE}")
assert_match "the counsellor paused the case" "$out" '"type": *"case\.pause\.ok"'
n2="after the pause $RANDOM"
cli couns send "$CASE" "$n2" >/dev/null
rc=0
wait "$notice_pid" || rc=$?
assert_eq "recv exits 0" 0 "$rc"
assert_eq "recv printed both messages" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"$n1"$'\n'"$CASE"$'\t'"$COUNS_NAME"$'\t'"$n2" \
	"$(cat "$T/notice.out")"
assert_contains "stderr tells of the case push" "$(cat "$T/notice.err")" \
	"notice: case $CASE paused counsellor $COUNS_NAME"
out=$(raw_as couns "{\"v\":1,\"type\":\"case.resume\",\"id\":1,\"case\":$CASE}")
assert_match "the counsellor resumed the case" "$out" '"type": *"case\.resume\.ok"'

step "a replayed first message, its session gone, is refused (no one-time prekey)"
# The operator withholds the counsellor's one-time prekeys; five copies of
# the client's fresh store each start a session (the counsellor keeps four
# per peer, so the first goes); the server then relays the first one's
# first message again, under a new mid. (Sam's daemon is stopped
# meanwhile: its login would upload one-time prekeys again.)
counsellor_down couns
stop_server
sql_rw "DELETE FROM one_time_prekeys WHERE account_id =
    (SELECT id FROM accounts WHERE key = X'$(hexkey "$KEY_couns")');"
start_server
for i in 1 2 3 4 5; do
	cp "$T/client-fresh.key" "$IDS/copy$i.key"
	out=$(PASS_OVERRIDE=pass-client cli "copy$i" send "$CASE" "replay test $i $MARKER")
	assert_match "copy $i of the client sends a first message" "$out" '^sent: '
	if [ "$i" = 1 ]; then
		replay_ct=$(last_ct)
		hdr=$(sql "SELECT hex(substr(ct, 1, 2)) FROM deliveries ORDER BY seq DESC LIMIT 1")
		assert_eq "  with the X3DH fields and no one-time prekey" 0201 "$hdr"
	fi
done
counsellor_up couns
cli_out out couns recv --count 5
assert_eq "the counsellor reads all five" 5 "$(grep -c "replay test [1-5] $MARKER\$" <<<"$out")"
assert_eq "nothing waits" 0 "$(deliveries)"
out=$(raw_as client "{\"v\":1,\"type\":\"msg.send\",\"id\":1,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$replay_ct\"}]}")
assert_match "the server takes the replay under a new mid" "$out" '"dup": *false'
clirun couns recv --count 1
assert_eq "recv exits 0" 0 "$RC"
assert_eq "the counsellor refuses the replay" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[refused: replayed first message]" "$OUT"
assert_eq "  and acknowledges it" 0 "$(deliveries)"
assert_eq "the history has the first message once" 1 \
	"$(cli couns history "$CASE" | grep -c "replay test 1 $MARKER\$")"

# ------------------------------------------------- the server checks keys

PROG=$(sql "SELECT programme_id FROM accounts WHERE key = X'$(hexkey "$KEY_admin")'")
keygen client2
cli client2 login >/dev/null

# try_raw DESC WHO FRAME CODE [FIELD]: one frame on a logged-in raw
# connection; the error, and no table changed.
try_raw() {
	step "$1"
	local before
	before=$(table_counts)
	clirun "$2" raw --login --count 1 --idle 5 <<<"$3"
	assert_eq "$1: raw printed only the answer (the login-time push was taken)" 1 \
		"$(grep -c . <<<"$OUT")"
	assert_error "$1" "$4" "${5:-}"
	assert_eq "$1: nothing changed" "$before" "$(table_counts)"
}

upload() {
	printf '{"v":1,"type":"prekeys.upload","id":5,"bundle":"%s"}' "$1"
}

cli_out own client bundle --dump
cli_out theirs couns bundle --dump
assert_eq "bundle --dump: 135 + 3 x 36 bytes" 243 "$(printf '%s' "$own" | base64 -d | wc -c)"
try_raw "prekeys.upload of a bundle of another identity" client "$(upload "$theirs")" bad_signature
flipped=$(printf '%s' "$own" | base64 -d | od -An -tx1 -v | tr -d ' \n' |
	sed -E 's/^(.{148})(.)/\1X\2/' | sed -E 's/X0/1/;s/X1/0/;s/X2/3/;s/X3/2/;s/X4/5/;s/X5/4/;s/X6/7/;s/X7/6/;s/X8/9/;s/X9/8/;s/Xa/b/;s/Xb/a/;s/Xc/d/;s/Xd/c/;s/Xe/f/;s/Xf/e/' |
	xxd -r -p | base64 -w0)
assert_ne "the flipped bundle differs" "$own" "$flipped"
try_raw "prekeys.upload with a flipped signature byte" client "$(upload "$flipped")" bad_signature
short=$(printf '%s' "$own" | base64 -d | head -c 200 | base64 -w0)
try_raw "prekeys.upload of a truncated bundle" client "$(upload "$short")" bad_field bundle
try_raw "prekeys.get of a key the caller shares no case with" client2 \
	"{\"v\":1,\"type\":\"prekeys.get\",\"id\":6,\"key\":\"$KEY_couns\"}" not_found
read -r _ _ forged_cert _ < <("$OFFRAMP_FORGE_BIN" "$KEY_couns" "$PROG")
try_raw "counsellor.certify with a certificate signed by another key" admin \
	"{\"v\":1,\"type\":\"counsellor.certify\",\"id\":7,\"key\":\"$KEY_couns\",\"cert\":\"$forged_cert\"}" bad_signature
try_raw "a client does programme.key.set" client \
	"{\"v\":1,\"type\":\"programme.key.set\",\"id\":8,\"key\":\"$(b64_random 32)\"}" forbidden
try_raw "a client does counsellor.certify" client \
	"{\"v\":1,\"type\":\"counsellor.certify\",\"id\":9,\"key\":\"$KEY_couns\",\"cert\":\"$forged_cert\"}" forbidden
clirun admin programme-key new --out "$IDS/second.pkey" --kdf min \
	--new-passphrase-file "$IDS/admin.ppass"
assert_eq "a second programme-key is refused" 1 "$RC"
assert_match "  clearly" "$ERR" 'already has a signing key'

step "the checks can pass: the client's own bundle is accepted"
before=$(otk_count "$KEY_client")
clirun client raw --login --count 1 --idle 5 <<<"$(upload "$own")"
assert_match "prekeys.upload.ok" "$OUT" '"type": *"prekeys\.upload\.ok"'
assert_eq "three more one-time prekeys" $((before + 3)) "$(otk_count "$KEY_client")"

# ------------------------------------------------ a compromised server

step "the operator swaps Sam's key and prekeys for an attacker's"
# the attacker is a counsellor of its own (never certified), so that its
# key file logs in as the counsellor account that gets its key
inv=$(cli admin invite --role counsellor | tail -n1)
keygen mallory
cli_out out mallory redeem "$inv" --name Mal
assert_field "the attacker redeemed a counsellor invite" counsellor "$out" role
assert_eq "nothing waits for delivery" 0 "$(sql "SELECT count(*) FROM deliveries")"
counsellor_down couns
stop_server
C=$(hexkey "$KEY_couns")
M=$(hexkey "$KEY_mallory")
sql_rw "BEGIN;
DELETE FROM signed_prekeys WHERE account_id = (SELECT id FROM accounts WHERE key = X'$C');
DELETE FROM one_time_prekeys WHERE account_id = (SELECT id FROM accounts WHERE key = X'$C');
UPDATE signed_prekeys SET account_id = (SELECT id FROM accounts WHERE key = X'$C')
    WHERE account_id = (SELECT id FROM accounts WHERE key = X'$M');
UPDATE one_time_prekeys SET account_id = (SELECT id FROM accounts WHERE key = X'$C')
    WHERE account_id = (SELECT id FROM accounts WHERE key = X'$M');
UPDATE accounts SET key = randomblob(32) WHERE key = X'$M';
UPDATE accounts SET key = X'$M' WHERE key = X'$C';
DELETE FROM one_time_prekeys WHERE account_id =
    (SELECT id FROM accounts WHERE key = X'$(hexkey "$KEY_client")');
COMMIT;"
# (the client's one-time prekeys go too: its next login uploads a bundle
# with its real signed prekey again, replacing the one of bundle --dump,
# whose secret is gone, so that the attacker's first message below would
# decrypt but for the checks)
start_server
counsellor_up mallory		# the attacker stays connected, as Sam
out=$(printf '%s\n' '{"v":1,"type":"case.list","id":1}' | cli client raw --login --count 1 --idle 10)
assert_eq "the server now names the attacker's key as Sam's" "$KEY_mallory" \
	"$(participant_key "$out" counsellor)"

step "a client that talked to Sam sees the change and refuses to send"
msgs_before=$(sql "SELECT count(*) FROM sent")
clirun client send "$CASE" "are you still there? $MARKER"
assert_eq "send exits 1" 1 "$RC"
assert_contains "it warns" "$ERR" "warning: the key of $COUNS_NAME in case $CASE changed"
assert_eq "  and prints nothing" "" "$OUT"
clirun client cases
assert_contains "cases warns too" "$ERR" "warning: the key of $COUNS_NAME in case $CASE changed"
clirun client chat "$CASE" <<<"hello"
assert_eq "chat refuses" 1 "$RC"
assert_contains "  with the warning" "$ERR" "warning: the key of $COUNS_NAME in case $CASE changed"
assert_eq "nothing was sent" 0 "$(sql "SELECT count(*) FROM deliveries")"
assert_match "safety shows the new key unverified" "$(cli client safety "$CASE" 2>/dev/null)" \
	"^$COUNS_NAME ([0-9]{5} ){12}unverified$"

step "the attacker, logged in as Sam, sends first: recv refuses the changed key"
cli_out out mallory send "$CASE" "attacker as Sam A $MARKER"
assert_match "the server relays the attacker's message" "$out" '^sent: '
assert_eq "one copy waits for the client" 1 "$(deliveries)"
for n in 1 2; do
	clirun client recv --count 1
	assert_eq "recv $n exits 0" 0 "$RC"
	assert_eq "recv $n refuses it: the key changed" \
		"$CASE"$'\t'"$COUNS_NAME"$'\t'"[refused: key changed, run offramp verify]" "$OUT"
	assert_contains "  recv $n warns" "$ERR" "warning: the key of $COUNS_NAME in case $CASE changed"
	assert_eq "  it stays on the server" 1 "$(deliveries)"
done
assert_not_contains "nothing of it is in the history" "$(cli client history "$CASE")" "attacker as Sam"

step "accepting the key with verify: the certificate check still refuses"
verify_shown client "$CASE" >/dev/null
clirun client recv --count 1
assert_eq "recv after verify exits 0" 0 "$RC"
assert_eq "recv delivers the message now: refused, not certified" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"[refused: key not certified by a programme you trust]" "$OUT"
assert_contains "  with a warning" "$ERR" "$COUNS_NAME's key is refused: no programme key you trust certified it"
assert_eq "  and acknowledges it: it can never be accepted" 0 "$(deliveries)"
assert_not_contains "nothing of it is in the history" "$(cli client history "$CASE")" "attacker as Sam"
msgs_before=$(sql "SELECT count(*) FROM sent")
clirun client send "$CASE" "after verify $MARKER"
assert_eq "send exits 1" 1 "$RC"
assert_eq "  refused: not certified" \
	"offramp: crypto: $COUNS_NAME's key is refused: no programme key you trust certified it" "$ERR"
assert_eq "nothing was sent" 0 "$(sql "SELECT count(*) FROM deliveries")"
assert_eq "no send was recorded" "$msgs_before" "$(sql "SELECT count(*) FROM sent")"

step "a new client (given the real programme key) is refused"
keygen newbie
clirun newbie request --language en --topic leaving
field_to CASE_N "$OUT" case
assert_eq "request exits 1" 1 "$RC"
assert_eq "  refused: not certified" \
	"offramp: crypto: $COUNS_NAME's key is refused: no programme key you trust certified it" "$ERR"
clirun newbie send "$CASE_N" "hello $MARKER"
assert_eq "send to the case exits 1" 1 "$RC"
assert_contains "  refused: not certified" "$ERR" "$COUNS_NAME's key is refused"
assert_eq "nothing was sent (no deliveries row)" 0 "$(sql "SELECT count(*) FROM deliveries")"
assert_eq "no one-time prekey of the attacker was fetched" 30 "$(otk_count "$KEY_mallory")"

step "the attacker, as Sam, sends first to a client that never talked to Sam"
cli_out out mallory send "$CASE_N" "attacker as Sam B $MARKER"
assert_match "the server relays the attacker's first message" "$out" '^sent: '
assert_eq "one copy waits for the new client" 1 "$(deliveries)"
clirun newbie recv --count 1
assert_eq "recv exits 0" 0 "$RC"
assert_eq "recv refuses it: not certified" \
	"$CASE_N"$'\t'"$COUNS_NAME"$'\t'"[refused: key not certified by a programme you trust]" "$OUT"
assert_contains "  with a warning" "$ERR" "$COUNS_NAME's key is refused: no programme key you trust certified it"
assert_not_contains "  not as a changed key (first seen)" "$ERR" "changed"
assert_eq "  and acknowledges it" 0 "$(deliveries)"
assert_eq "nothing is in the new client's history" "" "$(cli newbie history "$CASE_N")"
clirun newbie recv --wait 1
assert_eq "a later recv gets nothing" "" "$OUT"

step "the operator also swaps the programme key and forges Sam's certificate"
stop_server
read -r fk_b64 fk_hex _ fc_hex < <("$OFFRAMP_FORGE_BIN" "$KEY_mallory" "$PROG")
sql_rw "UPDATE programmes SET signing_key = X'$fk_hex' WHERE id = $PROG;
UPDATE accounts SET cert = X'$fc_hex' WHERE key = X'$M';"
start_server
keygen pinned
clirun pinned --programme-key "$PROGRAMME_KEY" request --language en --topic leaving
field_to CASE_P "$OUT" case
assert_eq "a client with --programme-key of the real programme: request exits 1" 1 "$RC"
assert_contains "  the server's key is not used silently" "$ERR" \
	"offramp: programme $PROG (First programme) has a key you were not given:"
assert_contains "  its fingerprint is shown" "$ERR" "fingerprint: "
assert_contains "  and the command refuses" "$ERR" "not trusted; if it is the programme's key, add it with: offramp trust add $fk_b64 NAME"
TRUST_FILE="" OFFRAMP_PROGRAMME_KEY="$PROGRAMME_KEY" clirun pinned send "$CASE_P" "hello $MARKER"
assert_eq "send (--programme-key stored: no trust file, no flag) exits 1" 1 "$RC"
assert_contains "  refused: not given" "$ERR" "has a key you were not given"
out=$(TRUST_FILE="" cli pinned trust list)
assert_match "--programme-key was stored as a trust anchor" "$out" " $(printf '%s' "$PROGRAMME_KEY" | sed 's/[+/]/./g') given revoked=0 for=\? --programme-key$"
assert_eq "nothing was sent" 0 "$(sql "SELECT count(*) FROM deliveries")"
clirun newbie send "$CASE_N" "hello again"
assert_eq "the client given the real key: still refused" 1 "$RC"
assert_contains "  not given" "$ERR" "has a key you were not given"
keygen gullible
cli gullible trust add "$fk_b64" "what the server said" >/dev/null
clirun gullible request --language en --topic leaving
assert_eq "the check can fail: a client that trusts the server's programme key accepts" 0 "$RC"
assert_eq "nothing was sent by anyone" 0 "$(sql "SELECT count(*) FROM deliveries")"

step "the operator injects a message from an account not in the case"
stop_server
sql_rw "INSERT INTO deliveries(case_id, sender_id, mid, created, recipient_id, ct)
    VALUES ($CASE_N, (SELECT id FROM accounts WHERE key = X'$(hexkey "$KEY_admin")'),
    randomblob(16), strftime('%s','now'),
    (SELECT id FROM accounts WHERE key = X'$(hexkey "$KEY_newbie")'), randomblob(200));"
start_server
assert_eq "one injected copy waits for the client" 1 "$(deliveries)"
clirun newbie recv --count 1
assert_eq "recv exits 0" 0 "$RC"
assert_eq "recv refuses it: the sender is not in the case" \
	"$CASE_N"$'\t'"?"$'\t'"[refused: the sender is not in the case]" "$OUT"
assert_contains "  with a warning" "$ERR" "its sender is not in the case"
assert_eq "  and acknowledges it: it can never be accepted" 0 "$(deliveries)"

stop_server
finish
