# test_nodes_match.sh: two server nodes on one PostgreSQL database, and
# matching across them (casework.c, "Several nodes"): a client on node A
# is matched to a counsellor logged in only on node B; clients racing
# case requests at both nodes at once never get one counsellor's last
# place twice (the counsellor's lock in the store), and a request that
# cannot have that lock within 2 s (a case request, a close whose rematch
# gives the counsellor's place again) is answered unavailable and leaves
# nothing behind; when node B is killed, its counsellor is there no more
# once its stored presence expires (10 s), and a new case on node A
# waits. PostgreSQL only: SQLite has one node.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_only "several nodes share a PostgreSQL database"

# start_node_b: a second server node on the same database, with a data
# directory and a port of its own; sets B_PID, B_PORT, B_URL, B_ERR.
start_node_b() {
	local out="$T/nodeb.stdout"
	B_ERR="$T/nodeb.stderr"
	SERVER_LOGS+=("$out" "$B_ERR")
	"$OFFRAMP_SERVER_BIN" --data "$T/data-b" --listen 127.0.0.1 --port 0 \
		--pow-bits 8 --pow-max-bits 12 --cert "$CERT" --key "$CERT_KEY" \
		--store "$STORE_URL" >"$out" 2>"$B_ERR" </dev/null &
	B_PID=$!
	SERVER_PIDS+=("$B_PID")
	wait_for "node B to print its port" 30 \
		grep -q '^offramp-server: listening on port [0-9]' "$out"
	B_PORT=$(sed -n 's/^offramp-server: listening on port \([0-9][0-9]*\).*/\1/p' \
		"$out" | head -n1)
	B_URL="wss://127.0.0.1:$B_PORT"
	echo "   (node B: pid $B_PID, port $B_PORT)"
}

# on_b CMD...: CMD (cli, counsellor_up) talks to node B.
on_b() {
	SERVER_URL=$B_URL "$@"
}

# logged FILE ERE: a line of FILE (a node's log) matches ERE.
logged() {
	grep -Eq -- "$2" "$1"
}

# sam_stored: Sam is there on some node, by the store's unexpired rows.
sam_stored() {
	[ "$(sql "SELECT count(*) FROM nodes.presence WHERE account_id = $SAM
	    AND expires >= floor(extract(epoch FROM now()))::bigint")" -gt 0 ]
}

start_server			# node A
A_ERR=$SERVER_ERR
COUNS_DAEMON=0 setup_pool	# Sam: en, leaving; not connected yet
SAM=$(sql "SELECT id FROM accounts WHERE name = 'Sam'")
cli_out out admin counsellor-update "$KEY_couns" --capacity 2
assert_field "Sam's capacity is 2" 2 "$out" capacity
start_node_b

step "a client on node A is matched to a counsellor only on node B"
on_b counsellor_up couns
wait_for "Sam stored as there (node B)" 10 sam_stored
wait_for "node A to see a counsellor there on another node" 15 \
	logged "$A_ERR" 'counsellors there on other nodes anew'
keygen c0
cli_out out c0 request --language en --topic leaving
assert_field "node A matched c0 at once" Sam "$out" counsellor
field_to C0 "$out" case
assert_eq "the store has c0's case with Sam" "2|$SAM" \
	"$(sql "SELECT status, counsellor_id FROM cases WHERE id = $C0")"

step "another holds Sam's lock: a request waits 2 s at most, then unavailable"
mkfifo "$T/holder.in"
PGAPPNAME=holder psql -X -q -v ON_ERROR_STOP=1 -d "$STORE_URL" \
	<"$T/holder.in" >"$T/holder.out" 2>&1 &
HOLDER=$!
exec {hold}>"$T/holder.in"
echo "BEGIN; SELECT 1 FROM counsellor_profiles WHERE account_id = $SAM
    FOR UPDATE;" >&"$hold"
wait_for "the holder to lock Sam's row" 10 eval '[ "$(sql "SELECT count(*)
    FROM pg_stat_activity WHERE application_name = '"'holder'"'
    AND state = '"'idle in transaction'"'")" = 1 ]'
keygen cw
cases=$(sql "SELECT count(*) FROM cases")
clirun cw request --language en --topic leaving
assert_match "the request is answered unavailable (not held)" "$ERR" \
	'^offramp: unavailable: case\.request'
assert_eq "nothing of it was kept: no new case" "$cases" \
	"$(sql "SELECT count(*) FROM cases")"
echo "COMMIT;" >&"$hold"
exec {hold}>&-
wait "$HOLDER"
clirun cw request --language en --topic leaving
assert_eq "once the lock is let go, the same request gets Sam" Sam \
	"$(field "$OUT" counsellor)"
out=$(cli cw close "$(field "$OUT" case)")
assert_field "cw closes it: Sam has one place again" closed "$out" status

step "clients racing at both nodes: Sam's one place left is given once"
RACERS=(r1 r2 r3 r4 r5 r6 r7 r8)
keygen "${RACERS[@]}"
pids=()
i=0
for r in "${RACERS[@]}"; do
	url="wss://127.0.0.1:$PORT"
	[ $((i % 2)) -eq 0 ] || url=$B_URL
	i=$((i + 1))
	(
		set +e
		# all at once: each waits for the start (a retry interval)
		while [ ! -e "$T/go" ]; do nap 0.01; done
		SERVER_URL=$url cli "$r" request --language en --topic leaving \
			>"$T/race-$r.out" 2>"$T/race-$r.err"
		echo $? >"$T/race-$r.rc"
	) &
	pids+=($!)
done
: >"$T/go"			# every racer starts now
for p in "${pids[@]}"; do
	wait "$p" || true
done
ok=0 got=0
for r in "${RACERS[@]}"; do
	if [ "$(cat "$T/race-$r.rc" 2>/dev/null)" = 0 ]; then
		ok=$((ok + 1))
	else
		echo "   ($r: $(cat "$T/race-$r.err" 2>/dev/null))"
	fi
	[ "$(field "$(cat "$T/race-$r.out")" counsellor)" = Sam ] && got=$((got + 1))
done
assert_eq "every racer's request was answered" "${#RACERS[@]}" "$ok"
assert_eq "one racer was told Sam" 1 "$got"
assert_eq "Sam has 2 open cases in the store (capacity 2)" 2 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $SAM
	    AND status IN (1, 2, 4)")"
assert_eq "the other racers wait" $((${#RACERS[@]} - 1)) \
	"$(sql "SELECT count(*) FROM cases WHERE status = 1")"

step "a close whose rematch cannot have Sam's lock is answered unavailable, and undone"
mkfifo "$T/holder2.in"
PGAPPNAME=holder psql -X -q -v ON_ERROR_STOP=1 -d "$STORE_URL" \
	<"$T/holder2.in" >"$T/holder2.out" 2>&1 &
HOLDER=$!
exec {hold}>"$T/holder2.in"
echo "BEGIN; SELECT 1 FROM counsellor_profiles WHERE account_id = $SAM
    FOR UPDATE;" >&"$hold"
wait_for "the holder to lock Sam's row" 10 eval '[ "$(sql "SELECT count(*)
    FROM pg_stat_activity WHERE application_name = '"'holder'"'
    AND state = '"'idle in transaction'"'")" = 1 ]'
# c0's close gives Sam room: its rematch claims Sam for a waiting racer
clirun c0 close "$C0"
assert_match "the close is answered unavailable (retryable), not internal" \
	"$ERR" '^offramp: unavailable: case\.close'
assert_eq "nothing of it was kept: c0's case is still open with Sam" \
	"2|$SAM" "$(sql "SELECT status, counsellor_id FROM cases WHERE id = $C0")"
echo "COMMIT;" >&"$hold"
exec {hold}>&-
wait "$HOLDER"
cli_out out c0 close "$C0"
assert_eq "retried once the lock is let go, the close is done" closed \
	"$(field "$out" status)"
assert_eq "and Sam took a waiting racer's case: 2 open again" 2 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $SAM
	    AND status IN (1, 2, 4)")"

step "node B killed: Sam is there no more once its presence expires"
kill -9 "$B_PID"
wait "$B_PID" 2>/dev/null || true
# NODES_EXPIRY (10 s) after node B's last refresh, then node A's next
# sync (2 s)
wait_for "Sam's stored presence to expire" 14 eval '! sam_stored'
wait_for "node A to see that counsellor gone" 6 \
	logged "$A_ERR" 'counsellors of other nodes there no more'
cli_out out admin counsellor-update "$KEY_couns" --capacity 20
assert_field "Sam's capacity is 20" 20 "$out" capacity
assert_eq "Sam, gone, was given none of the waiting cases" 2 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $SAM
	    AND status IN (1, 2, 4)")"
keygen c9
cli_out out c9 request --language en --topic leaving
assert_field "a new case on node A waits" waiting "$out" status

finish
