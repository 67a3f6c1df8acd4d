# test_offline.sh: messages sent while the counsellor is offline wait on the
# server, arrive in order at the next recv, and are deleted once acked.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "client has a case" "$CASE" '^[0-9]+$'

step "three messages sent while the counsellor is not connected"
base=$(sql "SELECT count(*) FROM deliveries")
assert_eq "no stored copies before sending" 0 "$base"
msgs=("offline one $RANDOM" "offline two $RANDOM" "offline three $RANDOM")
for m in "${msgs[@]}"; do
	cli_out out client send "$CASE" "$m"
	assert_match "send acknowledged: $m" "$out" '^sent: '
done
assert_eq "three copies wait on the server" 3 "$(sql "SELECT count(*) FROM deliveries")"

step "the counsellor's recv gets all three, in order"
cli_out out couns recv --count 3
expected=""
for m in "${msgs[@]}"; do
	expected+="$CASE"$'\t'"$CLIENT_NAME"$'\t'"$m"$'\n'
done
assert_eq "three messages in the order sent" "${expected%$'\n'}" "$out"

step "acked copies are deleted: a second recv gets nothing"
t0=$(now_ms)
clirun couns recv --wait 2
t1=$(now_ms)
assert_eq "second recv prints nothing" "" "$OUT"
if [ $((t1 - t0)) -lt 10000 ]; then
	pass "recv --wait 2 returned after $((t1 - t0)) ms"
else
	fail "recv --wait 2 took $((t1 - t0)) ms (not bounded by --wait)"
fi
if [ "$RC" -eq 0 ] || [ "$RC" -eq 3 ]; then
	pass "second recv ends normally (exit $RC)"
else
	fail "second recv exit status $RC: $ERR"
fi
assert_eq "deliveries table is empty" 0 "$(sql "SELECT count(*) FROM deliveries")"

step "the sender's own copies: the client receives nothing of its own"
clirun client recv --wait 1
assert_eq "client recv prints nothing" "" "$OUT"

step "recv --count waits at most --wait, or --timeout, then exits 3"
# given_up BOUND ARGS...: Sam's recv ARGS, with nothing to get, exits 3
# well before --timeout's 20 s (BOUND: what bounds it)
given_up() {
	local bound=$1 t0 t1
	shift
	t0=$(now_ms)
	clirun couns recv "$@"
	t1=$(now_ms)
	assert_eq "recv $* with nothing to get: exit 3" 3 "$RC"
	if [ $((t1 - t0)) -lt 10000 ]; then
		pass "  gave up after $((t1 - t0)) ms ($bound)"
	else
		fail "  took $((t1 - t0)) ms ($bound)"
	fi
}
CLI_TIMEOUT=2 given_up "--timeout 2" --count 1
assert_match "  with a timeout error" "$ERR" '^offramp: timeout'
given_up "--wait 2" --count 1 --wait 2
assert_contains "  0 of 1 in the 2 s of --wait" "$ERR" "0 of 1 messages in 2000 ms"

step "a recv that cannot write what it read acknowledges nothing"
FULL="to a full disk $RANDOM$RANDOM"
cli couns send "$CASE" "$FULL" >/dev/null
assert_eq "one copy waits for the client" 1 "$(sql "SELECT count(*) FROM deliveries")"
rc=0
cli client recv --wait 2 >/dev/full 2>"$T/full.err" || rc=$?
assert_eq "recv into a full disk: exits 1" 1 "$rc"
assert_contains "  and says why" "$(<"$T/full.err")" "could not be written out: not acknowledged"
assert_eq "  the copy still waits" 1 "$(sql "SELECT count(*) FROM deliveries")"
assert_contains "  what was read is in the client's history" "$(cli client history "$CASE")" "$FULL"
clirun client recv --count 1
assert_eq "the next recv acknowledges it (read already: a repeat)" 0 \
	"$(sql "SELECT count(*) FROM deliveries")"

step "a message the server refused for good gives its running number back: Sam sees no gap"
stop_server
start_server --queue-copies 1
cli client send "$CASE" "the first, stored" >/dev/null
clirun client send "$CASE" "the second, over Sam's queue"
assert_eq "the second is refused (Sam's queue is full)" 1 "$RC"
assert_contains "  recipient_full" "$ERR" "recipient_full"
clirun couns recv --count 1
assert_contains "Sam reads the first" "$OUT" "the first, stored"
clirun client send "$CASE" "the third"
assert_eq "the third goes" 0 "$RC"
clirun couns recv --count 1
assert_contains "Sam reads the third" "$OUT" "the third"
assert_not_contains "  with no message held back before it" "$ERR" "held back"
# the same in chat: a line refused for good gives its number back
cli client send "$CASE" "the fourth, stored" >/dev/null
mkfifo "$T/chat.in"
exec 7<>"$T/chat.in"
cli client chat "$CASE" <"$T/chat.in" >/dev/null 2>"$T/chat.err" 7>&- &
chat_pid=$!
printf 'the fifth, over the queue\n' >&7
_refused() { grep -q recipient_full "$T/chat.err"; }
wait_for "the chat to be told recipient_full" 20 _refused &&
	pass "chat: the fifth is refused (Sam's queue is full)" ||
	fail "chat: $(cat "$T/chat.err")"
clirun couns recv --count 1
assert_contains "Sam reads the fourth" "$OUT" "the fourth, stored"
printf 'the sixth\n' >&7
exec 7>&-
wait "$chat_pid" || true
clirun couns recv --count 1
assert_contains "Sam reads chat's sixth" "$OUT" "the sixth"
assert_not_contains "  with no message held back before it" "$ERR" "held back"

stop_server
finish
