# test_loop_timers.sh: the loop's timers keep their time while it is busy,
# and SQLite's -wal stays short.
# lws 4.1 on libev ran its timers (a login deadline among them) only in a
# pass of the loop with no event pending, or at the time of the earliest
# timer it had when it was last quiet (server/ws.c, "beat"): under a
# saturating relay load a connection that never logged in, due to be
# closed after 2 s, was closed after 9.5 s. Here bench/offramp-loadgen
# saturates the release server (50 pairs, 8 messages each in flight)
# while such a connection waits for its deadline.
# The same load once grew the -wal without end (hundreds of MiB in seconds,
# the frames of deleted copies among them): no checkpoint started it over
# while the loop kept writing (server/store_db.c, "Durability"). Its size
# is read while the load runs on.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOADGEN=${OFFRAMP_LOADGEN_BIN:-}
if [ ! -x "$LOADGEN" ]; then
	# the benchmarks are built in the release build only
	echo "   skip $TEST_NAME: no offramp-loadgen in this build ($LOADGEN)"
	FINISHED=1
	exit 77
fi

# _relayed N: more than N copies stored since the start (the counter of
# their seq, AUTOINCREMENT's or the identity's sequence: copies are
# deleted as they are acked).
if on_pg; then
	_relayed_q="SELECT coalesce(max(last_value), 0) FROM pg_sequences WHERE sequencename = 'deliveries_seq_seq'"
else
	_relayed_q="SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'deliveries'"
fi
_relayed() {
	local n
	n=$(sql "$_relayed_q")
	[ "${n:-0}" -gt "$1" ]
}

step "a connection that never logs in, on a loop kept busy by a relay load"
# the generator solves no proof of work: none asked (the last values win)
start_server --login-timeout 2 --pow-bits 0 --pow-max-bits 0
"$LOADGEN" --port "$PORT" setup --token "$TOKEN" --state "$T/pairs" \
	--pairs 50 >"$T/setup.out" 2>"$T/setup.err" ||
	fail "the generator's setup: $(tail -n 3 "$T/setup.err")"
"$LOADGEN" --target offramp --port "$PORT" --pid "$SERVER_PID" relay \
	--state "$T/pairs" --pairs 50 --window 8 --secs 8 \
	>"$T/relay.out" 2>"$T/relay.err" &
LOAD_PID=$!
wait_for "the relay load to run" 30 _relayed 2000
keygen client
raw_silent client
assert_match "the challenge came" "$OUT" '"type": *"challenge"'
assert_eq "the server closed the connection" closed "$(tail -n1 <<<"$OUT")"
if kill -0 "$LOAD_PID" 2>/dev/null; then
	pass "the load was still running when it closed"
else
	fail "the load ended before the deadline came: nothing was shown"
fi
if [ "$RAW_MS" -lt 5000 ]; then
	pass "closed within 5 s of a 2 s deadline, under load"
else
	fail "closed only after $RAW_MS ms (the deadline was 2 s)"
fi
if ! on_pg; then
	# the -wal's size, 20 times a second until the load ends (its --secs
	# 8; 30 s at most)
	wal_max=0
	wal_reads=0
	wal_end=$((SECONDS + 30))
	while kill -0 "$LOAD_PID" 2>/dev/null && [ "$SECONDS" -lt "$wal_end" ]; do
		size=$(stat -c %s "$DATA/offramp.db-wal" 2>/dev/null || echo 0)
		[ "$size" -le "$wal_max" ] || wal_max=$size
		wal_reads=$((wal_reads + 1))
		sleep 0.05
	done
	# the load runs 8 s, and its first 2,000 copies came before the
	# deadline's 2 s: a few seconds of it are left to read
	[ "$wal_reads" -ge 10 ] ||
		fail "the -wal's size was read $wal_reads times only: the load ended too soon to tell"
	[ "$wal_max" -gt 0 ] || fail "the -wal was never seen: nothing was read"
	# its bound: 12 MiB of pages (store_db.c's WAL_BOUND_PAGES) and the
	# frames of a turn or two, the file cut back to 16 MiB at each reset
	# (a turn of this load writes well under 4 MiB)
	if [ "$wal_max" -le $((32 * 1024 * 1024)) ]; then
		pass "the -wal stayed under 32 MiB under the load (at most $wal_max bytes)"
	else
		fail "the -wal grew to $wal_max bytes under the load"
	fi
fi
wait "$LOAD_PID" || fail "the generator failed: $(tail -n 3 "$T/relay.err")"
assert_match "the generator relayed" "$(<"$T/relay.out")" 'delivered_per_s=[1-9]'
stop_server

finish
