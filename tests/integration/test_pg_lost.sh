# test_pg_lost.sh: PostgreSQL lost while the server runs (its store on a
# throwaway cluster of its own, tests/tools/pg.sh; registered only in a
# build with OFFRAMP_POSTGRES). The cluster is stopped at once (pg_ctl -m
# immediate): requests get the retryable error unavailable within a
# bound, never an answer of success; the cluster started again, the server
# reconnects by itself, sends succeed, and every acknowledged message is
# delivered. A sync given up while a push waits for it has the copies
# pumped again from after the last one written, each pushed once.
PG_SH="$(dirname "${BASH_SOURCE[0]}")/../tools/pg.sh"
PG_OUT=$(bash "$PG_SH" start)
PG_DIR=$(sed -n 1p <<<"$PG_OUT")
STORE_URL=$(sed -n 2p <<<"$PG_OUT")
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# lib.sh's exit trap, and the cluster stopped and removed after it
trap '_pg_rc=$?; set +e; bash "$PG_SH" stop "$PG_DIR"; (exit "$_pg_rc")
_on_exit' EXIT

start_server
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "client has a case" "$CASE" '^[0-9]+$'

acked=()
# send_one TEXT: the client sends TEXT; 0 and TEXT noted as acknowledged
# when the server said sent, else 1 with ERR the CLI's complaint.
send_one() {
	clirun client send "$CASE" "$1"
	if [ "$RC" -eq 0 ] && [[ "$OUT" == sent:* ]]; then
		acked+=("$1")
		return 0
	fi
	return 1
}

step "a conversation on PostgreSQL"
for i in 1 2; do
	send_one "before $i $RANDOM" || fail "send $i before the loss: $ERR"
done
cli_out out couns send "$CASE" "from Sam"
assert_match "the counsellor's message acknowledged" "$out" '^sent: '
assert_eq "two sends acknowledged" 2 "${#acked[@]}"

step "the cluster stops at once: sends get unavailable, within a bound"
bash "$PG_SH" halt "$PG_DIR"
pass "cluster stopped (pg_ctl stop -m immediate)"
t0=$(now_ms)
if send_one "during $RANDOM"; then
	fail "a send acknowledged while PostgreSQL is down: $OUT"
else
	assert_match "the send is refused as unavailable" "$ERR" \
	    'offramp: unavailable'
fi
took=$(( $(now_ms) - t0 ))
echo "   (answered in $took ms)"
if [ "$took" -lt 15000 ]; then pass "answered within 15 s"; else
	fail "the refusal took $took ms"; fi
# while down, every request is refused at once: again, still unavailable
t0=$(now_ms)
clirun client cases
assert_ne "a read while down fails" 0 "$RC"
assert_match "the read is refused as unavailable" "$ERR" 'offramp: unavailable'
took=$(( $(now_ms) - t0 ))
if [ "$took" -lt 15000 ]; then pass "the read answered within 15 s"; else
	fail "the read took $took ms"; fi
assert_match "the server logs the loss" "$(cat "$SERVER_ERR")" \
    'connection to PostgreSQL at .* is lost'
assert_no_match "the log holds no password or socket secret" \
    "$(cat "$SERVER_ERR")" 'password='
kill -0 "$SERVER_PID" && pass "the server runs on"

step "the cluster starts again: the server reconnects by itself"
bash "$PG_SH" resume "$PG_DIR"
pass "cluster started again"
# the first request after the start may still meet the lost connection
# or the backoff (at most 5 s): retried as a client does
_send_after() { send_one "after $RANDOM"; }
WAIT_EVERY=0.5 wait_for "a send acknowledged after the restart" 30 _send_after
for i in 2 3; do
	send_one "after $i $RANDOM" || fail "send $i after the restart: $ERR"
done
assert_match "the server logs the new connection" "$(cat "$SERVER_ERR")" \
    'connected to PostgreSQL at .* again'

step "every acknowledged message is delivered"
cli_out out couns recv --count "${#acked[@]}"
for m in "${acked[@]}"; do
	assert_contains "delivered: $m" "$out" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"$m"
done
cli_out out client recv --count 1
assert_contains "the counsellor's message delivered" "$out" "from Sam"

step "a sync given up while a push waits for it: the connection is pushed each copy once"
# the client's raw connection (it acks nothing) is pushed one copy; then
# PostgreSQL waits for a standby that is not there, so the sync of the
# next is given up (the server's deadline), its push dropped and the
# copies pumped again: from after the one written, not from the start
standby() {
	"$PG_BIN/psql" -X -q -d "$STORE_URL" -c "ALTER SYSTEM SET synchronous_standby_names = '$1'" \
		-c 'SELECT pg_reload_conf()' >/dev/null
}
pushed() {	# SEQ: how many pushes of copy SEQ the connection had
	grep -c "\"type\": *\"msg\",.*\"seq\": *$1[,}]" "$T/watch-client.out" || true
}
watch_start client
cli couns send "$CASE" "before the sync is lost" >/dev/null
watch_expect "the connection is pushed it" client '"type": *"msg"'
seq1=$(grep -m1 -o '"seq": *[0-9]*' "$T/watch-client.out" | grep -o '[0-9]*$')
# Sam's raw connection sends while the sync waits (a CLI's send would
# wait for its own reads' syncs first)
watch_on "$PORT" sender couns
losses() { grep -c 'may be lost: every request' "$SERVER_ERR" || true; }
lost=$(losses)
standby nobody
printf '{"v":1,"type":"msg.send","id":77,"case":%s,"mid":"%s","copies":[{"to":"%s","ct":"AAECAwQFBgc="}]}\n' \
	"$CASE" "$(b64_random 16)" "$KEY_client" >&"$WATCH_FD_sender"
wait_for "the server to give the sync up" 30 eval '[ "$(losses)" -gt "$lost" ]'
watch_expect "the send answered unavailable" sender '"re": *77,.*"code": *"unavailable"'
standby ""
watch_stop sender
_after_sent() { clirun couns send "$CASE" "after the loss"; [ "$RC" -eq 0 ]; }
WAIT_EVERY=0.5 wait_for "a send acknowledged again" 30 _after_sent
seq3=$(sql "SELECT max(seq) FROM deliveries WHERE case_id = $CASE")
wait_for "its push" 20 eval '[ "$(pushed "$seq3")" -ge 1 ]'
assert_eq "the copy written before the loss: pushed once" 1 "$(pushed "$seq1")"
assert_eq "  the one after it: once" 1 "$(pushed "$seq3")"
watch_stop client

stop_server
finish
