# test_pg_crash.sh: crashes under load on the PostgreSQL store (issue
# 15). The loop commits without waiting for PostgreSQL's disk; the store
# thread makes the commits durable, and an answer leaves only after that.
# Each round pipelines msg.send on one connection and, once some are
# acknowledged, crashes something mid-stream: PostgreSQL stopped at once
# (pg_ctl -m immediate: what is not flushed is gone), the node killed with
# SIGKILL, or both. Then everything starts again, and every mid
# acknowledged before the crash must be stored exactly once with its copy
# in the counsellor's queue: an acknowledged message is never lost. The
# server itself must live through PostgreSQL's crashes and reconnect.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pg_only "it needs the PostgreSQL store"
PG_SH="$(dirname "${BASH_SOURCE[0]}")/../tools/pg.sh"
# the cluster's directory: the URL's host (pg.sh's socket directory)
PG_DIR=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$STORE_URL")
[ -d "$PG_DIR/data" ] ||
	{ echo "no cluster directory in $STORE_URL" >&2; exit 1; }

N=1000

start_server
case_kept

# acked FILE: the mids of the msg.send.ok answers in FILE, one a line.
acked() {
	grep -E '"type": *"msg\.send\.ok"' "$1" |
		sed -n 's/.*"mid": *"\([^"]*\)".*/\1/p' || true
}
n_acked() {
	[ "$(acked "$1" | wc -l)" -ge "$2" ]
}
_send_ok() {
	out=$(printf '%s\n' '{"v":1,"type":"case.list","id":1}' |
		cli client raw --login --count 1 --idle 10 2>/dev/null)
	[[ $out == *'"case.list.ok"'* ]]
}

total=0
for round in 1 2 3 4; do
	case $round in
	1|2) what="PostgreSQL stopped at once" ;;
	3) what="the node killed with SIGKILL" ;;
	4) what="PostgreSQL stopped at once, then the node killed" ;;
	esac
	step "round $round: $N sends pipelined; $what once some are acknowledged"
	"$PYTHON3" - "$N" "$CASE" "$CKEY" >"$T/sends$round" <<-'PY'
	import base64, os, sys
	n, case, to = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
	ct = base64.b64encode(os.urandom(48)).decode()
	for i in range(n):
	    mid = base64.b64encode(os.urandom(16)).decode()
	    print('{"v":1,"type":"msg.send","id":%d,"case":%d,"mid":"%s",'
	          '"copies":[{"to":"%s","ct":"%s"}]}' % (i + 2, case, mid, to, ct))
	PY
	cli client raw --login --count "$N" --idle 15 <"$T/sends$round" \
		>"$T/answers$round" 2>/dev/null &
	raw_pid=$!
	wait_for "some sends acknowledged" 60 n_acked "$T/answers$round" 5
	case $round in
	1|2|4) bash "$PG_SH" halt "$PG_DIR" ;;
	esac
	case $round in
	3|4) kill9_server ;;
	esac
	wait "$raw_pid" 2>/dev/null || true
	acked "$T/answers$round" >"$T/acked$round"
	n=$(wc -l <"$T/acked$round")
	total=$((total + n))
	echo "   ($n of $N acknowledged before the crash)"
	[ "$n" -ge 5 ] && pass "some sends were acknowledged" ||
		fail "only $n sends were acknowledged"
	[ "$n" -lt "$N" ] && pass "the crash came mid-stream" ||
		fail "every send was answered before the crash: the round proves nothing"
	if [ "$round" -le 2 ]; then
		assert_match "the sends after the crash are answered unavailable" \
		    "$(cat "$T/answers$round")" '"code": *"unavailable"'
		kill -0 "$SERVER_PID" && pass "the server lives through it"
	fi
	[ "$round" = 3 ] || bash "$PG_SH" resume "$PG_DIR"
	if [ "$round" -ge 3 ]; then
		start_server
	fi
	# the server back at work: reconnected by itself, after its backoff
	WAIT_EVERY=0.5 wait_for "a request answered after the restart" 30 _send_ok
	# the acknowledged mids not stored exactly once with Sam's copy
	rows=""
	while read -r mid; do
		hexkey -v hex "$mid"
		rows+="${rows:+,}(decode('$hex', 'hex'))"
	done <"$T/acked$round"
	lost=0
	[ -z "$rows" ] || lost=$(sql "WITH acked(mid) AS (VALUES $rows)
		SELECT count(*) FROM acked
		WHERE (SELECT count(*) FROM sent WHERE sent.mid = acked.mid) != 1
		   OR (SELECT count(*) FROM deliveries d
		       WHERE d.mid = acked.mid) != 1;")
	assert_eq "round $round: every acknowledged send stored, its copy queued" \
	    0 "$lost"
done
logs=$(cat "$T"/server*.stderr)
assert_match "the server logs the lost connection" "$logs" \
    'connection to PostgreSQL at .* is lost'
assert_match "and its new one" "$logs" 'connected to PostgreSQL at .* again'
echo "   ($total sends acknowledged in all)"

stop_server
finish
