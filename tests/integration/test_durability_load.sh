# test_durability_load.sh: kill -9 in the middle of a stream of sends.
# Commits are synced by the store thread while the loop goes on reading;
# an answer leaves only after the sync of its commit. Each round pipelines
# a few thousand msg.send on one connection, kills the server with SIGKILL
# once some are acknowledged, restarts it, and checks that every mid
# acknowledged before the kill is stored (and that the round did kill the
# server mid-stream: some of its sends were never answered).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=3000

start_server
setup_pool
keygen client
cli client login >/dev/null
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'
out=$(printf '%s\n' '{"v":1,"type":"case.list","id":1}' |
	cli client raw --login --count 1 --idle 10)
ckey=$(participant_key "$out" counsellor)
assert_match "the counsellor's key is known" "$ckey" '^[A-Za-z0-9+/=]{44}$'

# acked FILE: the mids of the msg.send.ok answers in FILE, one a line.
acked() {
	grep -E '"type": *"msg\.send\.ok"' "$1" |
		sed -n 's/.*"mid": *"\([^"]*\)".*/\1/p' || true
}
n_acked() {
	[ "$(acked "$1" | wc -l)" -ge "$2" ]
}

for round in 1 2 3; do
	step "round $round: $N sends pipelined, kill -9 once some are acknowledged"
	"$PYTHON3" - "$N" "$CASE" "$ckey" >"$T/sends$round" <<-'PY'
	import base64, os, sys
	n, case, to = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
	ct = base64.b64encode(os.urandom(48)).decode()
	for i in range(n):
	    mid = base64.b64encode(os.urandom(16)).decode()
	    print('{"v":1,"type":"msg.send","id":%d,"case":%d,"mid":"%s",'
	          '"copies":[{"to":"%s","ct":"%s"}]}' % (i + 2, case, mid, to, ct))
	PY
	cli client raw --login --count "$N" --idle 20 <"$T/sends$round" \
		>"$T/answers$round" 2>/dev/null &
	raw_pid=$!
	wait_for "some sends acknowledged" 60 n_acked "$T/answers$round" 5
	kill9_server
	wait "$raw_pid" 2>/dev/null || true
	acked "$T/answers$round" >"$T/acked$round"
	n=$(wc -l <"$T/acked$round")
	echo "   ($n of $N acknowledged before the kill)"
	[ "$n" -ge 5 ] && pass "some sends were acknowledged" ||
		fail "only $n sends were acknowledged"
	[ "$n" -lt "$N" ] && pass "the kill came mid-stream" ||
		fail "every send was answered before the kill: the round proves nothing"
	start_server
	# the acknowledged mids not stored exactly once, in one query
	rows=""
	while read -r mid; do
		hexkey -v hex "$mid"
		rows+="${rows:+,}(X'$hex')"
	done <"$T/acked$round"
	lost=0
	[ -z "$rows" ] || lost=$(sql <<<"WITH acked(mid) AS (VALUES $rows)
		SELECT count(*) FROM acked
		WHERE (SELECT count(*) FROM sent WHERE sent.mid = acked.mid) != 1;")
	assert_eq "round $round: every acknowledged send is stored" 0 "$lost"
done

stop_server
finish
