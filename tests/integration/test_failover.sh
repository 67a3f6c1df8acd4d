# test_failover.sh: a PostgreSQL standby takes over (issue 15, point 4;
# registered only in a build with OFFRAMP_POSTGRES). A primary (tests/
# tools/pg.sh) and a standby made by deploy/pg-standby.sh with synchronous
# replication, each on a Unix socket in a directory of its own; one node
# on the URL that names both hosts with target_session_attrs=read-write.
# Under a continuous stream of msg.send on one connection, every process
# of the primary is killed with SIGKILL and the script promotes the
# standby. Then: the node serves again without a restart, the stream goes
# on, every request got exactly one answer, each msg.send.ok or the
# retryable unavailable, and every acknowledged message (before and after
# the kill) is stored, with its copy for the counsellor, on the new
# primary; messages sent in plain text before and after are delivered.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_SH="$LIB_DIR/../tools/pg.sh"
STANDBY_SH="$REPO_ROOT/deploy/pg-standby.sh"
PG_BIN=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null ||
	dirname "$(command -v pg_ctl)")}
PG_DIR=""
SB_DIR=""
WRITER_PID=""
RAW_PID=""

owner=$( [ "$(id -u)" -eq 0 ] && echo postgres || id -un)

# at exit: the load, the standby, the primary; then lib.sh's exit trap
_failover_exit() {
	local rc=$? pid
	trap - ERR
	set +e
	for pid in $WRITER_PID $RAW_PID; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "$SB_DIR" ]; then
		[ ! -f "$SB_DIR/data/postmaster.pid" ] ||
			as_owner "$PG_BIN/pg_ctl" -D "$SB_DIR/data" -m immediate \
			    -w -t 60 stop >/dev/null 2>&1
		[ "$rc" -eq 0 ] || tail -n 30 "$SB_DIR/offramp_standby.log"
		rm -rf -- "$SB_DIR"
	fi
	[ -z "$PG_DIR" ] || bash "$PG_SH" stop "$PG_DIR"
	(exit "$rc")
	_on_exit
}
trap _failover_exit EXIT

step "a primary, and a synchronous standby made by deploy/pg-standby.sh"
out=$(bash "$PG_SH" start)
PG_DIR=$(sed -n 1p <<<"$out")
SB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/offramp-standby.XXXXXX")
chmod 0700 "$SB_DIR"
[ "$(id -u)" -ne 0 ] || chown postgres: "$SB_DIR"
out=$(as_owner bash "$STANDBY_SH" setup --bindir "$PG_BIN" --wait 60 \
	--primary "host=$PG_DIR user=$owner" --data "$SB_DIR/data" \
	--socket "$SB_DIR" --listen '' 2>&1) ||
	{ printf '%s\n' "$out"; fail "pg-standby.sh setup failed"; finish; }
assert_match "the script says the standby is synchronous" "$out" \
	'offramp_standby is a synchronous standby'
PRIMARY="host=$PG_DIR user=$owner dbname=offramp"
STANDBY="host=$SB_DIR user=$owner dbname=offramp"
assert_eq "the primary reports the standby as sync" "streaming|sync" \
	"$(psql -X -A -t -d "$PRIMARY" -c "SELECT state || '|' || sync_state
	    FROM pg_stat_replication WHERE application_name = 'offramp_standby'")"
assert_eq "the standby is in recovery" t \
	"$(psql -X -A -t -d "$STANDBY" -c 'SELECT pg_is_in_recovery()')"

step "one node on both hosts, a client's case with Sam"
STORE_URL="postgresql:///offramp?host=$PG_DIR,$SB_DIR&user=$owner&target_session_attrs=read-write"
start_server
case_kept
cli_out out couns send "$CASE" "before the failover"
assert_match "Sam's message before the failover acknowledged" "$out" '^sent: '

step "a stream of msg.send on one connection"
# one msg.send every 20 ms (a pace, not a wait) until $T/stop exists,
# three minutes at most; each line also in $T/sent
send_stream 0.02

# oks: OKS, the msg.send.ok answers so far; unavail: UNAVAIL, the
# errors unavailable (no process)
count_answers() {
	local l ok='"type":"msg\.send\.ok"' un='"code":"unavailable"'
	OKS=0 UNAVAIL=0
	while IFS= read -r l; do
		if [[ $l =~ $ok ]]; then OKS=$((OKS + 1))
		elif [[ $l =~ $un ]]; then UNAVAIL=$((UNAVAIL + 1)); fi
	done <"$T/answers"
}
oks_above() { count_answers; [ "$OKS" -gt "$1" ]; }
unavail_above() { count_answers; [ "$UNAVAIL" -gt "$1" ]; }
wait_for "sends acknowledged on the primary" 60 oks_above 30
count_answers
echo "   ($OKS acknowledged before the kill)"

step "every process of the primary killed with SIGKILL under load"
pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
# shellcheck disable=SC2046
kill -9 "$pm" $(pgrep -P "$pm") 2>/dev/null || true
# gone: no such process, or a zombie not yet reaped by whoever adopted it
_pm_gone() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pm/status" \
		2>/dev/null || true)
	{ [ -z "$st" ] || [ "$st" = Z ]; } && [ -z "$(pgrep -P "$pm")" ]
}
wait_for "the primary's processes to be gone" 20 _pm_gone &&
	pass "postmaster $pm and its children killed"
count_answers
at_kill=$UNAVAIL
wait_for "sends answered unavailable while no primary runs" 30 \
	unavail_above "$at_kill"
kill -0 "$SERVER_PID" && pass "the node runs on"

step "deploy/pg-standby.sh promotes the standby"
count_answers
before_promote=$OKS
out=$(as_owner bash "$STANDBY_SH" promote --bindir "$PG_BIN" --wait 60 \
	--data "$SB_DIR/data" 2>&1) || { printf '%s\n' "$out"; fail "promote failed"; }
assert_match "the script says the standby accepts writes" "$out" \
	'the standby is the primary and accepts writes'
assert_eq "the new primary is out of recovery" f \
	"$(psql -X -A -t -d "$STANDBY" -c 'SELECT pg_is_in_recovery()')"
assert_eq "the new primary waits for no standby" "" \
	"$(psql -X -A -t -d "$STANDBY" -c 'SHOW synchronous_standby_names')"

step "the node finds the new primary by itself: the stream goes on"
wait_for "sends acknowledged on the new primary" 60 oks_above \
	$((before_promote + 30))
assert_match "the node logged the loss" "$(cat "$SERVER_ERR")" \
	'connection to PostgreSQL at .* is lost'
assert_match "the node logged the new connection" "$(cat "$SERVER_ERR")" \
	'connected to PostgreSQL at .* again'
assert_no_match "no password or secret in the log" "$(cat "$SERVER_ERR")" \
	'password='
: >"$T/stop"
_raw_gone() { ! kill -0 "$RAW_PID" 2>/dev/null; }
wait_for "the stream's last answers" 60 _raw_gone
raw_rc=0
wait "$RAW_PID" || raw_rc=$?
RAW_PID=""
wait "$WRITER_PID" || true
WRITER_PID=""
assert_eq "the stream's connection got every answer" 0 "$raw_rc"
[ ! -s "$T/raw.err" ] || sed 's/^/   raw: /' "$T/raw.err"
assert_no_match "the stream's connection was never closed" \
	"$(cat "$T/answers")" '^closed$'

step "every request got one answer: msg.send.ok or unavailable"
sent=$(wc -l <"$T/sent")
count_answers
echo "   ($sent sent: $OKS acknowledged, $UNAVAIL unavailable)"
# the answers are the frames with "re" (the rest are pushes: Sam's message)
other=$(grep '"re":' "$T/answers" |
	grep -c -v -E '"type":"msg\.send\.ok"|"code":"unavailable"' || true)
assert_eq "no other answer" 0 "$other"
assert_eq "one answer per request" "$sent" "$(grep -c '"re":' "$T/answers")"
assert_eq "no request answered twice" "$sent" \
	"$(sed -n 's/.*"re":\([0-9]*\).*/\1/p' "$T/answers" | sort -u | wc -l)"
# the answers in the order of the requests: oks, then unavailable, then
# oks again (none acknowledged in the gap)
order=$(sed -n 's/.*"re":\([0-9]*\).*"type":"\([a-z.]*\)".*/\1 \2/p;
	s/.*"type":"\([a-z.]*\)".*"re":\([0-9]*\).*/\2 \1/p' "$T/answers" |
	sort -n | awk '{ t = $2 == "msg.send.ok" ? "ok" : "unavailable" }
	t != last { printf "%s%s", sep, t; sep = " "; last = t }')
assert_eq "acknowledged, then refused, then acknowledged again" \
	"ok unavailable ok" "$order"

step "every acknowledged message is on the new primary, with Sam's copy"
rows=""
while read -r mid; do
	hexkey -v hex "$mid"
	rows+="${rows:+,}(X'$hex')"
done < <(sed -n 's/.*"type":"msg\.send\.ok".*"mid":"\([^"]*\)".*/\1/p;
	t; s/.*"mid":"\([^"]*\)".*"type":"msg\.send\.ok".*/\1/p' "$T/answers")
assert_eq "every ok names its mid" "$OKS" "$(tr ',' '\n' <<<"$rows" | grep -c X)"
# lib.sh's sql reads with default_transaction_read_only on, which
# read-write would refuse: the primary, by pg_is_in_recovery()
lost=$(STORE_URL=${STORE_URL/%read-write/primary} sql "WITH acked(mid) AS (VALUES $rows)
	SELECT count(*) FROM acked WHERE (SELECT count(*) FROM deliveries d
	    WHERE d.mid = acked.mid) != 1")
assert_eq "none lost, none stored twice ($OKS acknowledged)" 0 "$lost"

step "a conversation after the failover, without a restart"
cli_out out couns send "$CASE" "after the failover"
assert_match "Sam's message after the failover acknowledged" "$out" '^sent: '
cli_out out client recv --count 2
assert_contains "the message from before delivered" "$out" "before the failover"
assert_contains "the message from after delivered" "$out" "after the failover"
assert_eq "one node all along" 1 "$SERVER_COUNT"

stop_server
finish
