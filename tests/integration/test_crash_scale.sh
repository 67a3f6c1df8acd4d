# test_crash_scale.sh: crash durability at scale (issue 10, point 7).
# Four clients send to their counsellor without pause (tests/tools/
# crashload.c: up to four messages each unanswered, sent again with the
# same mid after a drop) while the server is killed with SIGKILL 50 times
# at random moments, some a few milliseconds after the load came back,
# and restarted on the same data directory and port. Then every
# acknowledged message must have been delivered, none stored twice, each
# sender's in its order. Last, the check itself is shown to fail on a
# violation made by hand in its records.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sqlite_only "it starts the server itself on the data directory's SQLite store, in the release build (kill -9 on PostgreSQL: test_durability)"

: "${OFFRAMP_CRASHLOAD_BIN:?set OFFRAMP_CRASHLOAD_BIN to the crashload tool}"
PAIRS=4
KILLS=50
LOAD_PID=""

# The kill loop runs no process it can do without: on this 2-core
# machine each fork costs tens of milliseconds, and 50 rounds of them
# were most of the test's time.

# nap SECONDS: a pause without a process (read's timeout on a pipe
# nobody writes to).
exec {NAP_FD}<> <(:)
nap() {
	read -rt "$1" -u "$NAP_FD" _ || true
}

# acked DIR: sets ACKED, the messages acknowledged so far (the sum of
# crashload's progress files in DIR).
acked() {
	local f n
	ACKED=0
	for f in "$1"/progress-*; do
		[ -f "$f" ] || continue
		n=0
		read -r n <"$f" || true
		ACKED=$((ACKED + ${n:-0}))
	done
}

# await_acked DESC DIR N SECS: waits until more than N messages are
# acknowledged, at most SECS seconds; else records a failure, returns 1.
await_acked() {
	local end=$((SECONDS + $4))
	while acked "$2"; [ "$ACKED" -le "$3" ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			fail "timed out after $4 s waiting for: $1"
			return 1
		fi
		nap 0.005
	done
}

# restart_server: start_server's work for a restart on the same data
# directory and port, without its helper processes; falls back to
# start_server when the server does not start (the port taken meanwhile).
restart_server() {
	local n=$SERVER_COUNT line end=$((SECONDS + 30))
	SERVER_COUNT=$((n + 1))
	SERVER_OUT="$T/server$n.stdout"
	SERVER_ERR="$T/server$n.stderr"
	SERVER_LOGS+=("$SERVER_OUT" "$SERVER_ERR")
	"$OFFRAMP_SERVER_BIN" --data "$DATA" --listen 127.0.0.1 --port "$PORT" \
		--pow-bits 8 --pow-max-bits 12 \
		>"$SERVER_OUT" 2>"$SERVER_ERR" </dev/null &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	until { read -r line <"$SERVER_OUT"; } 2>/dev/null &&
		[[ $line == "offramp-server: listening on port $PORT"* ]]; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID" || true
			start_server >/dev/null
			return
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			fail "server $n did not listen within 30 s"
			return 1
		fi
		nap 0.005
	done
}

_load_gone() {
	pid_gone "$LOAD_PID"
}

# load_start DIR [ARGS...]: crashload in the background, its output in
# DIR.out and DIR.err; sets LOAD_PID.
load_start() {
	local d=$1 args=() i
	shift
	mkdir -p "$d"
	for ((i = 0; i < PAIRS; i++)); do
		args+=(--pair "$IDS/c$i.key,pass-c$i,${CASES[$i]}")
	done
	"$OFFRAMP_CRASHLOAD_BIN" --url "$SERVER_URL" --dir "$d" \
		--couns "$IDS/couns.key,pass-couns" "${args[@]}" "$@" \
		>"$d.out" 2>"$d.err" &
	LOAD_PID=$!
}

# load_finish: tells crashload to stop making messages, waits for its
# check; sets LOAD_RC.
load_finish() {
	kill -USR1 "$LOAD_PID"
	wait_for "crashload to finish its check" 90 _load_gone || kill -9 "$LOAD_PID"
	LOAD_RC=0
	wait "$LOAD_PID" || LOAD_RC=$?
}

# at exit, crashload too, if it still runs (its senders die with it);
# then lib.sh's exit trap with the test's exit status
_crash_exit() {
	local rc=$?
	trap - ERR
	set +e
	[ -z "$LOAD_PID" ] || kill -9 "$LOAD_PID" 2>/dev/null
	(exit "$rc")
	_on_exit
}
trap _crash_exit EXIT

# ws:// on loopback, as the server allows it: the many logins after the
# kills need no TLS handshake
SERVER_TLS=0
start_server
SERVER_URL="ws://127.0.0.1:$PORT"
setup_pool
step "$PAIRS clients, each with a case of Sam's"
CASES=()
for ((i = 0; i < PAIRS; i++)); do
	keygen "c$i"
	cli "c$i" login >/dev/null
	CASES+=("$(field "$(cli "c$i" request --language en --topic leaving)" case)")
	assert_match "client $i has a case" "${CASES[$i]}" '^[0-9]+$'
done
assert_eq "every case has Sam" "$PAIRS" \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id IS NOT NULL")"
# the load's recipient is Sam's only connection: the daemon would take
# (and ack) the pushes
counsellors_down

step "load, and $KILLS kills with SIGKILL at random moments"
L="$T/load"
load_start "$L"
t0=$SECONDS
for ((k = 1; k <= KILLS; k++)); do
	acked "$L"
	await_acked "the load to flow again before kill $k" "$L" "$ACKED" 30 || break
	# the random moment: one kill in four within 3 ms of the first
	# acknowledgement after the restart (mid-commit), the rest within
	# 250 ms
	if ((RANDOM % 4 == 0)); then ms=$((RANDOM % 3)); else ms=$((RANDOM % 250)); fi
	printf -v delay '0.%03d' "$ms"
	((ms == 0)) || nap "$delay"
	kill9_server
	restart_server
done
assert_eq "killed $KILLS times under load" $((KILLS + 1)) "$k"
acked "$L"
await_acked "the load to flow after the last restart" "$L" "$ACKED" 30
load_finish
echo "   ($((SECONDS - t0)) s of load and kills)"
sed 's/^/   /' "$L.out"
[ ! -s "$L.err" ] || sed 's/^/   stderr: /' "$L.err" | head -n 20
assert_eq "crashload's check passes" 0 "$LOAD_RC"
assert_match "every acknowledged message delivered, no message stored twice, order kept" \
	"$(cat "$L.out")" 'every acknowledged message delivered, no message stored twice, every sender.s order kept'
line=$(grep -m1 ' acknowledged, ' "$L.out" || true)
made=$(sed -n 's/.*window [0-9]*: \([0-9]*\) made.*/\1/p' <<<"$line")
ack=$(sed -n 's/.* \([0-9]*\) acknowledged.*/\1/p' <<<"$line")
drops=$(sed -n 's/.* \([0-9]*\) sender logins after a drop.*/\1/p' <<<"$line")
assert_match "messages were acknowledged" "$ack" '^[1-9][0-9]*$'
assert_eq "every message made was acknowledged in the end" "$made" "$ack"
assert_eq "senders logged in again after each kill" 1 "$((drops >= KILLS))"
assert_eq "every copy acked: none left on the server" 0 \
	"$(sql "SELECT count(*) FROM deliveries")"

step "the check fails on a violation made by hand"
for what in lose dup order; do
	load_start "$T/inject-$what" --inject "$what"
	await_acked "the load to flow ($what)" "$T/inject-$what" 20 30
	load_finish
	out=$(cat "$T/inject-$what.out")
	assert_eq "--inject $what: crashload exits 1" 1 "$LOAD_RC"
	case $what in
	lose) want='VIOLATION: sender [0-9]+: message [0-9]+ acknowledged, never delivered' ;;
	dup) want='VIOLATION: sender [0-9]+: message [0-9]+ delivered with another mid' ;;
	order) want='VIOLATION: sender [0-9]+: message [0-9]+ first delivered after message' ;;
	esac
	assert_match "--inject $what: the violation is named" "$out" "$want"
done

stop_server
finish
