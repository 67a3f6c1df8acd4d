# test_relay.sh: a client and a counsellor talk through the server: request,
# send and recv both ways, case lists, close, chat mode.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool

step "an invite works once; a client cannot invite"
inv=$(cli admin invite --role counsellor --ttl 600 | tail -n1)
keygen lee
cli_out out lee redeem "$inv" --name Lee --languages fr
assert_field "Lee redeems a fresh invite" counsellor "$out" role
keygen mo
before=$(table_counts)
clirun mo redeem "$inv" --name Mo
assert_eq "the used invite is refused" 1 "$RC"
assert_match "  with bad_invite" "$ERR" '^offramp: bad_invite'
assert_eq "  and nothing changed" "$before" "$(table_counts)"
clirun mo redeem "not-a-real-invite-token" --name Mo
assert_match "an unknown invite: bad_invite" "$ERR" '^offramp: bad_invite'

step "client logs in and requests a case in en/leaving: active, with Sam"
keygen client
cli_out out client login
field_to CLIENT_NAME "$out" name
assert_field "client login role" client "$out" role
assert_field "client account created at first login" yes "$out" created
assert_ne "client got a pseudonym" "" "$CLIENT_NAME"
cli_out out client login
assert_field "second login finds the account" no "$out" created
assert_field "pseudonym is stable" "$CLIENT_NAME" "$out" name

cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_match "request printed a case id" "$CASE" '^[0-9]+$'
assert_field "case is active" active "$out" status
assert_field "case got the counsellor" "$COUNS_NAME" "$out" counsellor

step "client -> counsellor: the exact text arrives"
text1="Hello, I want out. Grüße – $RANDOM$RANDOM"
cli_out out client send "$CASE" "$text1"
assert_match "send printed the message id" "$out" '^sent: [A-Za-z0-9+/=_-]+$'
cli_out out couns recv --count 1
assert_eq "counsellor receives case, sender and text" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"$text1" "$out"

step "counsellor -> client: the reply arrives"
text2="We are here to listen. $RANDOM$RANDOM"
cli_out out couns send "$CASE" "$text2"
assert_match "counsellor send acknowledged" "$out" '^sent: '
cli_out out client recv --count 1
assert_eq "client receives case, sender and text" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"$text2" "$out"

step "both sides list the case"
cli_out out client cases
assert_match "client's cases show the active case" "$out" \
	"^$CASE active en leaving .*"
assert_contains "client's case names the counsellor" "$(grep "^$CASE " <<<"$out")" "$COUNS_NAME"
assert_contains "client's case names the client" "$(grep "^$CASE " <<<"$out")" "$CLIENT_NAME"
cli_out out couns cases
assert_match "counsellor's cases show the active case" "$out" \
	"^$CASE active en leaving .*"
assert_contains "counsellor's case names the client" "$(grep "^$CASE " <<<"$out")" "$CLIENT_NAME"

step "a client may not invite"
clirun client invite --role counsellor
assert_eq "client invite exits 1" 1 "$RC"
assert_match "client invite: forbidden" "$ERR" '^offramp: forbidden'

step "the admin takes no part in cases"
clirun admin cases
assert_eq "admin cases fails" 1 "$RC"
assert_match "admin cases: forbidden" "$ERR" '^offramp: forbidden'

step "live pushes: a connected counsellor gets msg and case pushes at once"
mkfifo "$T/live.in"
exec 8<>"$T/live.in"		# the counsellor's raw connection reads this
cli couns raw --login --count 4 --idle 30 <"$T/live.in" >"$T/live.out" 8>&- &
live_pid=$!
echo '{"v":1,"type":"ping","id":1}' >&8
wait_for "the counsellor's connection to answer a ping" 20 \
	grep -qE '"type": *"ping\.ok"' "$T/live.out" && pass "counsellor connected"
live_text="live $RANDOM"
cli client send "$CASE" "$live_text" >/dev/null
wait_for "a msg push on the open connection" 20 \
	grep -qE '"type": *"msg"' "$T/live.out" && pass "msg pushed while connected"
push=$(grep -E '"type": *"msg"' "$T/live.out" | head -n1)
assert_match "the push names the case" "$push" "\"case\": *$CASE[,}]"
assert_eq "the push names the sender's key" "$KEY_client" "$(json_str "$push" from)"
seq=$(printf '%s\n' "$push" | grep -oE '"seq": *[0-9]+' | grep -oE '[0-9]+$')
echo "{\"v\":1,\"type\":\"msg.ack\",\"id\":2,\"seqs\":[$seq]}" >&8
wait_for "msg.ack.ok" 20 grep -qE '"type": *"msg\.ack\.ok"' "$T/live.out" &&
	pass "the push is acknowledged"
assert_match "  one copy deleted" "$(cat "$T/live.out")" '"acked": *1[,}]'
# Sam's daemon, the account's other connection, had the push too
assert_contains "the daemon kept the push for recv" \
	"$(cli couns recv --count 1)" "$live_text"

step "close, then sending fails with case_closed"
cli_out out client close "$CASE"
assert_field "close names the case" "$CASE" "$out" case
assert_field "case is closed" closed "$out" status
cli_out out couns cases
assert_match "counsellor sees the case closed" "$out" "^$CASE closed en leaving "
case_closed_pushed() {
	grep -E '"type": *"case"' "$T/live.out" | grep -E '"status": *"closed"' >/dev/null
}
wait_for "a case push with status closed" 20 case_closed_pushed &&
	pass "the connected counsellor got a case push: closed"
exec 8>&-			# EOF: raw ends, having printed its 4 frames
rc=0
wait_for "the counsellor's raw connection to end" 20 eval '! kill -0 $live_pid' || kill "$live_pid"
wait "$live_pid" || rc=$?
assert_eq "raw ended normally" 0 "$rc"
clirun couns send "$CASE" "too late"
assert_eq "send to a closed case exits 1" 1 "$RC"
assert_match "send to a closed case: case_closed" "$ERR" '^offramp: case_closed'
clirun client send "$CASE" "too late"
assert_match "client send to a closed case: case_closed" "$ERR" '^offramp: case_closed'

step "chat mode: two stdin lines arrive in order"
cli_out out client request --language en --topic leaving
field_to CASE2 "$out" case
assert_field "a new case after the close is active" active "$out" status
assert_ne "the new case has a new id" "$CASE" "$CASE2"
line1="first line from chat $RANDOM"
line2="second line: with  two spaces $RANDOM"
rc=0
printf '%s\n%s\n' "$line1" "$line2" | cli client chat "$CASE2" >"$T/chat.out" || rc=$?
assert_eq "chat exits 0 after stdin EOF" 0 "$rc"
cli_out out couns recv --count 2
expected="$CASE2"$'\t'"$CLIENT_NAME"$'\t'"$line1"$'\n'"$CASE2"$'\t'"$CLIENT_NAME"$'\t'"$line2"
assert_eq "counsellor receives both chat lines in order" "$expected" "$out"

step "chat prints incoming messages as 'name: text'"
text3="reply for chat $RANDOM"
cli couns send "$CASE2" "$text3" >/dev/null
rc=0
# stdin stays open until the reply was printed (bounded), then closes.
mkfifo "$T/chat.in"
exec 7<>"$T/chat.in"
cli client chat "$CASE2" <"$T/chat.in" >"$T/chat2.out" 7>&- &
chat_pid=$!
wait_for "chat to print the counsellor's reply" 20 grep -qF "$COUNS_NAME: $text3" "$T/chat2.out" || true
exec 7>&-
wait "$chat_pid" || rc=$?
assert_eq "chat exits 0 after stdin EOF" 0 "$rc"
assert_contains "chat printed the reply" "$(cat "$T/chat2.out")" "$COUNS_NAME: $text3"

stop_server
finish
