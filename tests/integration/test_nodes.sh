# test_nodes.sh: two server nodes on one PostgreSQL database (its store
# from tests/tools/pg.sh run; STORE_URL unset: skipped). A client on node
# a and its counsellor on node b converse live both ways (each node wakes
# the other through the database's LISTEN/NOTIFY), the sender on a is told
# of a delivery on b, a recipient that connects to the other node gets
# everything undelivered, and so does one that was offline; an account
# disabled on a loses its connection on b, even when b's listening
# connection was ended and the note of it lost; PostgreSQL restarted, both
# nodes listen again by themselves; a push whose read fails (a lock timed
# out) is read again by itself; a client sending from both nodes at
# once reaches its counsellor's connection with every copy, live, in seq
# order; a node started while the schema's lock is held (another node
# migrating) waits for it past the 3 s of any other lock, then starts;
# the periodic jobs run on one node only, and on the other once
# that one is stopped (SIGSTOP: its idle session ended) or gone (kill
# -9); a waiting client connected to the node that does not
# run them keeps its case past keep-waiting.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_only "several nodes need a PostgreSQL store"

# each node: the rematch job every second, a waiting case closed 3 s
# after its client is gone, metrics on (start_node sets MPORT_NAME)
NODE_ARGS=(--metrics 127.0.0.1:0 --rematch-period 1 --keep-waiting 3s)

# jobs_run NAME: the periodic jobs' runs on node NAME so far (its
# /metrics), or "" when it does not answer.
jobs_run() {
	local mport="MPORT_$1" fd line n=""
	{ exec {fd}<>"/dev/tcp/127.0.0.1/${!mport}"; } 2>/dev/null || return 0
	printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$fd"
	while IFS= read -r -t 10 line <&"$fd"; do
		case $line in
		'offramp_jobs_run_total '*) n=${line##* } n=${n%$'\r'} ;;
		esac
	done
	exec {fd}>&-
	echo "$n"
}

_jobs_ran() {
	local n
	n=$(jobs_run "$1")
	[ -n "$n" ] && [ "$n" -gt "$2" ]
}

# _jobs_sum_over N: both nodes ran more than N jobs in all; RUNS_a and
# RUNS_b their counts.
_jobs_sum_over() {
	RUNS_a=$(jobs_run a) RUNS_b=$(jobs_run b)
	[ -n "$RUNS_a" ] && [ -n "$RUNS_b" ] && [ $((RUNS_a + RUNS_b)) -gt "$1" ]
}

# _backends_gone PIDS: none of the PostgreSQL backends PIDS (a,b,...) runs.
_backends_gone() {
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE pid IN ($1)")" = 0 ]
}

_case_closed() {
	[ "$(sql "SELECT status FROM cases WHERE id = $1")" = 3 ]
}

# _log_more FILE PATTERN N: FILE has more than N lines with PATTERN
_log_more() {
	[ "$(grep -c "$2" "$1" || true)" -gt "$3" ]
}

_listening_again() {
	grep -q 'cluster: listening again' "$LOG_a" &&
		grep -q 'cluster: listening again' "$LOG_b"
}

# burst NAME N: N msg.send frames of the client to Sam, written at once
# to NAME's raw connection (watch_start).
burst() {
	local fdv="WATCH_FD_$1" i mid out=""
	for ((i = 1; i <= $2; i++)); do
		b64_random -v mid 16
		out+=$(printf '{"v":1,"type":"msg.send","id":%d,"case":%s,"mid":"%s","copies":[{"to":"%s","ct":"AAECAwQFBgc="}]}' \
			"$((i + 10))" "$CASE" "$mid" "$KEY_couns")$'\n'
	done
	printf '%s' "$out" >&"${!fdv}"
}

# pushes NAME: the msg pushes NAME's raw connection has had.
pushes() {
	grep -c '"type":"msg"' "$T/watch-$1.out" || true
}

_pushed() {
	[ "$(pushes "$1")" -ge "$2" ]
}

_send_after() {
	clirun client send "$CASE" "$1"
	[ "$RC" -eq 0 ]
}

# _recv_after: the counsellor reads one message (in OUT), or fails.
_recv_after() {
	clirun couns recv --count 1
	[ "$RC" -eq 0 ]
}

start_node a "${NODE_ARGS[@]}"
COUNS_DAEMON=0 setup_pool

step "a node started while the schema's lock is held (another node migrating) waits for it, then starts"
# a psql session holds the migrations' advisory lock; once node b's log
# says it waits (and it does not listen yet), the session ends
rm -f "$T/lock.in"
mkfifo "$T/lock.in"
"$PG_BIN/psql" -X -q -d "$STORE_URL" -c 'SELECT pg_advisory_lock(7361646)' \
	-f "$T/lock.in" >"$T/lock.out" 2>&1 &
LOCKER=$!
exec {LOCK_FD}>"$T/lock.in"
_lock_held() {
	[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7361646 AND granted")" = 1 ]
}
wait_for "the psql session to hold the schema's lock" 10 _lock_held
NEXT_ERR="$T/server$SERVER_COUNT.stderr" NEXT_OUT="$T/server$SERVER_COUNT.stdout"
# node b waits, neither listening nor failed, past the session's
# lock_timeout (3 s), which ended its start before
_b_waits() {
	! file_has "$NEXT_OUT" 'listening on port' && ! file_has "$NEXT_ERR" 'migration:'
}
(
	if wait_for "node b to wait for the lock" 20 file_has "$NEXT_ERR" 'waiting for it'; then
		holds 4000 _b_waits && echo waited >"$T/lock.seen" || echo gave-up >"$T/lock.seen"
	fi
	echo '\q' >&"$LOCK_FD"
) &
RELEASER=$!
start_node b "${NODE_ARGS[@]}"
wait "$RELEASER" || true
exec {LOCK_FD}>&-
wait "$LOCKER" || true
assert_eq "node b waited 4 s for the lock, without listening or failing" waited "$(cat "$T/lock.seen" 2>/dev/null)"
file_has "$LOG_b" "the schema's lock is free again" && pass "node b logged the lock's release" ||
	fail "node b did not log the lock's release"

step "the counsellor works on node b, and the client's case is made there"
PORT=$PORT_b
counsellor_up couns
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'

step "client on node a -> counsellor on node b, live; the sender is told of the delivery"
PORT=$PORT_a
watch_start client
text1="Hello from node a $RANDOM$RANDOM"
cli_out out client send "$CASE" "$text1"
assert_match "node a stored the client's message" "$out" '^sent: '
cli_out out couns recv --count 1
assert_eq "the counsellor's daemon on node b got it" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"$text1" "$out"
watch_expect "the client's connection on node a is told it was delivered" \
	client "\"type\": *\"msg.delivered\".*\"case\": *$CASE"

step "counsellor on node b -> client on node a, live"
text2="Hello from node b $RANDOM$RANDOM"
cli_out out couns send "$CASE" "$text2"
assert_match "node b stored the counsellor's message" "$out" '^sent: '
watch_expect "the client's connection on node a is pushed it" \
	client "\"type\": *\"msg\".*\"case\": *$CASE"
watch_stop client

step "the client connects to node b: everything undelivered is there"
PORT=$PORT_b
cli_out out client recv --count 1
assert_eq "the message pushed on node a (never acked) comes from node b" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"$text2" "$out"

step "a message sent while the client is offline arrives at its next login, on node a"
text3="While you were away $RANDOM$RANDOM"
cli_out out couns send "$CASE" "$text3"
assert_match "node b stored it" "$out" '^sent: '
PORT=$PORT_a
cli_out out client recv --count 1
assert_eq "the client gets it on node a" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"$text3" "$out"

step "an account disabled on node a loses its connection on node b"
inv=$(cli admin invite --role counsellor | tail -n1)
keygen kim
assert_eq "Kim is a counsellor" counsellor \
	"$(field "$(cli kim redeem "$inv" --name Kim --languages en)" role)"
PORT=$PORT_b
watch_start kim
PORT=$PORT_a
cli_out out admin disable "$KEY_kim"
assert_field "the admin on node a disabled Kim" yes "$out" disabled
if wait_for "Kim's connection on node b to be closed" 20 _daemon_gone "$WATCH_PID_kim"; then
	pass "Kim's connection on node b was closed"
fi
watch_stop kim

step "a disable whose note node b missed still closes the account there"
inv=$(cli admin invite --role counsellor | tail -n1)
keygen jo
assert_eq "Jo is a counsellor" counsellor \
	"$(field "$(cli jo redeem "$inv" --name Jo --languages en)" role)"
PORT=$PORT_b
watch_start jo
# node b held still while its listening connection is ended and Jo is
# disabled: the note of the disable comes while b listens to nothing
kill -STOP "$PID_b"
listeners=$(sql "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
    WHERE application_name = 'offramp-cluster'")
assert_match "the nodes' listening connections are there" "$listeners" '^[0-9,]+$'
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE pid IN ($listeners)" >/dev/null
wait_for "the listening connections to end" 20 _backends_gone "$listeners"
PORT=$PORT_a
cli_out out admin disable "$KEY_jo"
assert_field "the admin on node a disabled Jo" yes "$out" disabled
kill -CONT "$PID_b"
if wait_for "Jo's connection on node b to be closed" 20 _daemon_gone "$WATCH_PID_jo"; then
	pass "Jo's connection on node b was closed"
fi
watch_stop jo

step "PostgreSQL restarted under both nodes: they listen again by themselves"
PG_DIR=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$STORE_URL")
bash "$LIB_DIR/../tools/pg.sh" halt "$PG_DIR"
bash "$LIB_DIR/../tools/pg.sh" resume "$PG_DIR"
pass "the cluster stopped at once and started again"
wait_for "both nodes to listen again" 40 _listening_again
pass "both nodes listen again"
text4="After the restart $RANDOM$RANDOM"
# the first request after the restart may meet the lost connection or
# its backoff (unavailable, nothing stored): retried as a client does
WAIT_EVERY=0.5 wait_for "node a to store a message again" 30 _send_after "$text4"
# node b lost its connection as well, and may still be making it again
# (its recv's case.list answered unavailable, nothing read): so too
WAIT_EVERY=0.5 wait_for "the counsellor on node b to read it" 30 _recv_after
assert_eq "the counsellor's daemon on node b got it live" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"$text4" "$OUT"

step "a read of node b's push that fails (a lock timed out) is tried again by itself"
# node b held still while node a stores a copy for Sam and a session of
# psql takes the copies' table; let go, b hears the note, and its read
# waits for the table past its lock_timeout (3 s) and fails. Sam's
# connection asks for nothing (a raw one): only b's retry brings it.
counsellor_down couns
PORT=$PORT_b
watch_start couns
_table_held() {
	[ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c
	    ON c.oid = l.relation WHERE c.relname = 'deliveries'
	    AND l.mode = 'AccessExclusiveLock' AND l.granted")" -gt 0 ]
}
kill -STOP "$PID_b"
PORT=$PORT_a
text5="Read again $RANDOM$RANDOM"
cli_out out client send "$CASE" "$text5"
assert_match "node a stored it" "$out" '^sent: '
mkfifo "$T/holder"
"$PG_BIN/psql" -X -q -d "$STORE_URL" <"$T/holder" >"$T/holder.out" 2>&1 &
holder_pid=$!
exec {hfd}>"$T/holder"
printf 'BEGIN;\nLOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE;\n' >&"$hfd"
wait_for "psql to hold the copies' table" 10 _table_held
fails=$(grep -c 'relay: cannot' "$LOG_b" || true)
kill -CONT "$PID_b"
wait_for "node b's read of Sam's copies to fail" 20 \
	_log_more "$LOG_b" 'relay: cannot' "$fails"
exec {hfd}>&-			# psql ends, its transaction undone
wait "$holder_pid" || true
watch_expect "Sam's connection on node b is pushed it, having asked for nothing" \
	couns "\"type\": *\"msg\".*\"case\": *$CASE"
watch_stop couns
PORT=$PORT_b
counsellor_up couns
cli_out out couns recv --count 1
assert_eq "and it is Sam's to ack" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"$text5" "$out"

step "the client sends from both nodes at once: Sam's connection gets every copy live, in order"
counsellor_down couns
PORT=$PORT_b
watch_start couns
cp "$IDS/client.key" "$IDS/client_b.key"	# a second connection of the client
PASS_OVERRIDE=pass-client watch_start client_b
PORT=$PORT_a
watch_start client
N=40
burst client "$N" &
burst_pid=$!
burst client_b "$N"
wait "$burst_pid"
if wait_for "Sam's connection on node b to have $((2 * N)) copies" 30 _pushed couns $((2 * N)); then
	pass "every copy reached Sam's connection live"
fi
seqs=$(grep '"type":"msg"' "$T/watch-couns.out" | grep -o '"seq":[0-9]*' | cut -d: -f2)
assert_eq "each once, in seq order" "$(sort -nu <<<"$seqs")" "$seqs"
watch_stop client
watch_stop client_b
watch_stop couns

step "the periodic jobs run on one node"
_jobs_sum_over 0 || true
a0=${RUNS_a:-0} b0=${RUNS_b:-0}
wait_for "the nodes to run the jobs a few times" 30 _jobs_sum_over $((a0 + b0 + 3))
da=$((RUNS_a - a0)) db=$((RUNS_b - b0))
echo "   (runs meanwhile: node a $da, node b $db)"
if [ "$da" -gt 0 ] && [ "$db" -eq 0 ]; then
	lead=a other=b
elif [ "$db" -gt 0 ] && [ "$da" -eq 0 ]; then
	lead=b other=a
else
	fail "the jobs ran on both nodes, or on none: a $da, b $db"
	lead=a other=b
fi
pass "the jobs ran on node $lead alone"
log="LOG_$lead"
assert_contains "node $lead says it runs them" "$(cat "${!log}")" \
	"this node runs the periodic jobs"

step "a waiting client connected to node $other only keeps its case past keep-waiting"
port="PORT_$other"
PORT=${!port}
keygen waiter
watch_start waiter
cli_out out waiter request --language de --topic leaving
field_to WCASE "$out" case
assert_eq "the waiter's case waits (nobody speaks de)" 1 \
	"$(sql "SELECT status FROM cases WHERE id = $WCASE")"
ran=$(jobs_run "$lead")
# the rematch job every second, keep-waiting 3 s: 8 runs on node $lead
# are past the 3 s from the first that could find the waiter gone
wait_for "node $lead to run the jobs 8 times more" 40 _jobs_ran "$lead" $((ran + 8))
assert_eq "node $lead kept the waiting case of a client on node $other" 1 \
	"$(sql "SELECT status FROM cases WHERE id = $WCASE")"
watch_stop waiter
if wait_for "the waiter's case to close once it is gone from every node" 40 \
	_case_closed "$WCASE"; then
	pass "the waiting case closed once its client was gone"
fi

step "node $lead stopped (SIGSTOP): its idle session ends, node $other takes the jobs over"
# a stopped process keeps its connections open (its kernel answers):
# PostgreSQL ends the listener's session once it has sent nothing for
# cluster.c's CLUSTER_IDLE_END (10 s), and the jobs' lock with it
pid="PID_$lead"
log="LOG_$lead"
again=$(grep -c 'cluster: listening again' "${!log}" || true)
ran=$(jobs_run "$other")
kill -STOP "${!pid}"	# (lib.sh's exit trap kills it, stopped or not)
if wait_for "node $other to take the jobs over" 40 _jobs_ran "$other" "$ran"; then
	pass "node $other runs the jobs while node $lead is stopped"
fi
kill -CONT "${!pid}"
if wait_for "node $lead, running again, to listen again" 30 	_log_more "${!log}" 'cluster: listening again' "$again"; then
	pass "node $lead found its session ended and listens again"
fi
ran_lead=$(jobs_run "$lead")
ran=$(jobs_run "$other")
wait_for "node $other to run the jobs 3 times more" 30 _jobs_ran "$other" $((ran + 2))
assert_eq "node $lead, running again, runs none" "$ran_lead" "$(jobs_run "$lead")"

step "node $other gone (kill -9), node $lead runs them again"
pid="PID_$other"
SERVER_PID=${!pid}
ran=$(jobs_run "$lead")
kill9_server
if wait_for "node $lead to take the jobs over" 20 _jobs_ran "$lead" "$ran"; then
	pass "node $lead runs the jobs once node $other is gone"
fi
port="PORT_$lead"
PORT=${!port}
WAIT_EVERY=0.5 wait_for "node $lead to store a message" 30 _send_after "Later $RANDOM"
pass "node $lead still relays"

pid="PID_$lead"
SERVER_PID=${!pid}
finish
