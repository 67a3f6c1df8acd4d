# test_pg_stall.sh: a PostgreSQL that stalls without going away (issue
# 15): no request waits on it forever. Under a stream of msg.send on one
# connection:
# - every process of the cluster stopped with SIGSTOP (the kernel still
#   acknowledges, no keepalive fires): the requests in flight are answered
#   unavailable within the node's deadline (5 s) and a margin, and the
#   node answers other requests meanwhile (ping); SIGCONT, and the node
#   serves again by itself;
# - a synchronous standby (deploy/pg-standby.sh) killed with SIGKILL while
#   the primary lives: the sends are answered unavailable within the same
#   bound, never ok (a wait for the standby cancelled from outside, which
#   PostgreSQL ends with a WARNING and a COMMIT made on the primary alone,
#   too); the primary's synchronous_standby_names emptied, and they are
#   acknowledged again;
# - the deliveries lock (relay.c's, store_lock) held from outside by a
#   psql session idle in its transaction: a msg.send is answered
#   unavailable at the node's lock_timeout (3 s), its connection to
#   PostgreSQL kept, and the node answers other requests meanwhile; once
#   PostgreSQL ends the holder (its idle_in_transaction_session_timeout)
#   sends are acknowledged again;
# - SIGTERM to the node while the cluster is stopped: it exits, and with
#   status 0, within the same bound (its listener's queries wait a
#   deadline too, and hear the stop).
# Every request gets exactly one answer, and every acknowledged message is
# stored once, with its copy for the counsellor.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pg_only "it needs the PostgreSQL store"
STANDBY_SH="$REPO_ROOT/deploy/pg-standby.sh"
PG_BIN=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null ||
	dirname "$(command -v pg_ctl)")}
# the cluster's directory: the URL's host (pg.sh's socket directory)
PG_DIR=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$STORE_URL")
[ -d "$PG_DIR/data" ] ||
	{ echo "no cluster directory in $STORE_URL" >&2; exit 1; }
owner=$( [ "$(id -u)" -eq 0 ] && echo postgres || id -un)
PRIMARY="host=$PG_DIR user=$owner dbname=offramp"
# the node's deadline for a command (store_pg.c, PG_DEADLINE_MS), that
# of the sync an answer waits for after it (the same), and the margin on
# a loaded machine (11-12 s were seen at load 10)
BOUND=$((5 + 5 + 20))
SB_DIR=""
WRITER_PID=""
RAW_PID=""
HOLDER_PID=""
STOPPED=""


# at exit: the cluster running again, the load, the standby; then
# lib.sh's exit trap
_stall_exit() {
	local rc=$? pid
	trap - ERR
	set +e
	# shellcheck disable=SC2086
	[ -z "$STOPPED" ] || kill -CONT $STOPPED 2>/dev/null
	for pid in $WRITER_PID $RAW_PID $HOLDER_PID; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ -e "$T/answers" ]; then
		echo "---- the stream's last answers, and its errors"
		tail -n 5 "$T/answers"
		tail -n 5 "$T/raw.err"
	fi
	if [ -n "$SB_DIR" ]; then
		[ ! -f "$SB_DIR/data/postmaster.pid" ] ||
			as_owner "$PG_BIN/pg_ctl" -D "$SB_DIR/data" -m immediate \
			    -w -t 60 stop >/dev/null 2>&1
		rm -rf -- "$SB_DIR"
		psql -X -q -d "$PRIMARY" -c \
		    "ALTER SYSTEM SET synchronous_standby_names = ''" \
		    -c 'SELECT pg_reload_conf()' >/dev/null 2>&1
	fi
	(exit "$rc")
	_on_exit
}
trap _stall_exit EXIT

step "a client's case with Sam, and a stream of msg.send on one connection"
start_server
case_kept
# one msg.send every 50 ms until $T/stop exists
send_stream 0.05 --idle 60

# count_answers: OKS, UNAVAIL, the answers so far; LAST_OK, the greatest
# request id answered msg.send.ok
count_answers() {
	local l ok='"type":"msg\.send\.ok"' un='"code":"unavailable"'
	local re='"re":([0-9]+)'
	OKS=0 UNAVAIL=0 LAST_OK=0
	while IFS= read -r l; do
		if [[ $l =~ $ok ]]; then
			OKS=$((OKS + 1))
			[[ $l =~ $re ]] && [ "${BASH_REMATCH[1]}" -gt "$LAST_OK" ] &&
				LAST_OK=${BASH_REMATCH[1]}
		elif [[ $l =~ $un ]]; then
			UNAVAIL=$((UNAVAIL + 1))
		fi
	done <"$T/answers"
}
oks_above() { count_answers; [ "$OKS" -gt "$1" ]; }
unavail_above() { count_answers; [ "$UNAVAIL" -gt "$1" ]; }
# answered_to ID: every request up to id ID has its answer
answered_to() {
	local n
	n=$(sed -n 's/.*"re":\([0-9]*\).*/\1/p' "$T/answers" |
		awk -v m="$1" '$1 <= m' | sort -u | wc -l)
	[ "$n" -ge $(($1 - 1)) ]	# ids from 2
}
# the id of the last request sent
last_sent() { sed -n '$s/.*"id":\([0-9]*\),.*/\1/p' "$T/sent"; }
ping_ok() {
	local out
	out=$(printf '%s\n' '{"v":1,"type":"ping","id":1}' |
		CLI_LIMIT=10 cli client raw --count 1 --idle 8 2>/dev/null)
	[[ $out == *'"ping.ok"'* ]]
}
wait_for "sends acknowledged" 60 oks_above 20

step "every process of the cluster stopped with SIGSTOP under load"
pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
STOPPED="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
# shellcheck disable=SC2086
kill -STOP $STOPPED
# the first request sent to the stopped cluster
at_stop=$(($(last_sent) + 1))
count_answers
unavail_at_stop=$UNAVAIL
t0=$SECONDS
wait_for "the requests in flight answered within ${BOUND}s" "$BOUND" \
	answered_to "$at_stop" &&
	pass "answered within $((SECONDS - t0))s, PostgreSQL stopped"
count_answers
[ "$UNAVAIL" -gt "$unavail_at_stop" ] &&
	pass "they are answered unavailable" ||
	fail "no unavailable answer while PostgreSQL is stopped"
[ "$LAST_OK" -lt "$at_stop" ] &&
	pass "no send to the stopped cluster acknowledged" ||
	fail "request $LAST_OK, sent to the stopped cluster, was acknowledged"
wait_for "a ping answered while PostgreSQL is stopped" 15 ping_ok
kill -0 "$SERVER_PID" && pass "the node runs on"
later=$(last_sent)
wait_for "the later requests answered too" "$BOUND" answered_to "$later"

step "SIGCONT: the node serves again by itself"
# shellcheck disable=SC2086
kill -CONT $STOPPED
STOPPED=""
count_answers
wait_for "sends acknowledged again" 60 oks_above $((OKS + 20))
assert_match "the node logged the stall" "$(cat "$SERVER_ERR")" \
	'no answer within'
assert_match "and its new connection" "$(cat "$SERVER_ERR")" \
	'connected to PostgreSQL at .* again'

step "a synchronous standby made by deploy/pg-standby.sh"
SB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/offramp-standby.XXXXXX")
chmod 0700 "$SB_DIR"
[ "$(id -u)" -ne 0 ] || chown postgres: "$SB_DIR"
out=$(as_owner bash "$STANDBY_SH" setup --bindir "$PG_BIN" --wait 60 \
	--primary "host=$PG_DIR user=$owner" --data "$SB_DIR/data" \
	--socket "$SB_DIR" --listen '' 2>&1) ||
	{ printf '%s\n' "$out"; fail "pg-standby.sh setup failed"; finish; }
assert_match "the standby is synchronous" "$out" \
	'offramp_standby is a synchronous standby'
count_answers
wait_for "sends acknowledged with the standby" 60 oks_above $((OKS + 20))

step "the standby killed with SIGKILL: sends unavailable, never ok"
sb=$(head -n1 "$SB_DIR/data/postmaster.pid")
# shellcheck disable=SC2046
kill -9 "$sb" $(pgrep -P "$sb") 2>/dev/null || true
_sb_gone() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$sb/status" \
		2>/dev/null || true)
	{ [ -z "$st" ] || [ "$st" = Z ]; } && [ -z "$(pgrep -P "$sb")" ]
}
wait_for "the standby's processes to be gone" 20 _sb_gone
# the first request sent once the standby is gone
at_kill=$(($(last_sent) + 1))
count_answers
unavail_at_kill=$UNAVAIL
t0=$SECONDS
wait_for "the requests in flight answered within ${BOUND}s" "$BOUND" \
	answered_to "$at_kill" &&
	pass "answered within $((SECONDS - t0))s, the standby away"
wait_for "sends answered unavailable" "$BOUND" unavail_above \
	"$unavail_at_kill"
# a wait for the standby cancelled from outside: PostgreSQL then returns
# the COMMIT, committed on the primary alone, with a WARNING; the node
# counts that sync as failed
_cancel_syncrep() {
	[ "$(psql -X -A -t -d "$PRIMARY" -c "SELECT count(*) FILTER (WHERE
	    pg_cancel_backend(pid)) FROM pg_stat_activity
	    WHERE wait_event = 'SyncRep'")" -gt 0 ]
}
_warned() { grep -q 'COMMIT came with a warning' "$SERVER_ERR"; }
wait_for "a wait for the standby cancelled" "$BOUND" _cancel_syncrep
wait_for "the node counts the warned COMMIT as a failed sync" "$BOUND" \
	_warned
later=$(last_sent)
wait_for "the later requests answered too" "$BOUND" answered_to "$later"
count_answers
[ "$LAST_OK" -lt "$at_kill" ] &&
	pass "no send after the kill acknowledged" ||
	fail "request $LAST_OK, sent after the kill, was acknowledged"

step "synchronous_standby_names emptied: sends acknowledged again"
psql -X -q -d "$PRIMARY" -c \
	"ALTER SYSTEM SET synchronous_standby_names = ''" \
	-c 'SELECT pg_reload_conf()' >/dev/null
count_answers
wait_for "sends acknowledged again" 60 oks_above $((OKS + 20))
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

step "every request got one answer; every acknowledged one stored once"
sent=$(wc -l <"$T/sent")
count_answers
echo "   ($sent sent: $OKS acknowledged, $UNAVAIL unavailable)"
other=$(grep '"re":' "$T/answers" |
	grep -c -v -E '"type":"msg\.send\.ok"|"code":"unavailable"' || true)
assert_eq "no other answer" 0 "$other"
[ "$other" -eq 0 ] || grep '"re":' "$T/answers" |
	grep -v -E '"type":"msg\.send\.ok"|"code":"unavailable"' |
	head -n 5 | sed 's/^/   other: /'
assert_eq "one answer per request" "$sent" "$(grep -c '"re":' "$T/answers")"
assert_eq "no request answered twice" "$sent" \
	"$(sed -n 's/.*"re":\([0-9]*\).*/\1/p' "$T/answers" | sort -u | wc -l)"
rows=""
while read -r mid; do
	hexkey -v hex "$mid"
	rows+="${rows:+,}(decode('$hex', 'hex'))"
done < <(sed -n 's/.*"type":"msg\.send\.ok".*"mid":"\([^"]*\)".*/\1/p;
	t; s/.*"mid":"\([^"]*\)".*"type":"msg\.send\.ok".*/\1/p' "$T/answers")
assert_eq "every ok names its mid" "$OKS" \
	"$(tr ',' '\n' <<<"$rows" | grep -c decode)"
lost=$(sql "WITH acked(mid) AS (VALUES $rows)
	SELECT count(*) FROM acked WHERE (SELECT count(*) FROM deliveries d
	    WHERE d.mid = acked.mid) != 1")
assert_eq "none lost, none stored twice ($OKS acknowledged)" 0 "$lost"

step "the deliveries lock held from outside, by a session idle in its transaction"
# its key: server/store.h, STORE_LOCK_CLASS ("ofr") and STORE_LOCK_DELIVERIES
LOCK_CLASS=$((0x6f6672))
# send_one: one msg.send on a connection of its own; its answer line
send_one() {
	local mid ct
	mid=$(head -c 16 /dev/urandom | base64)
	ct=$(head -c 48 /dev/urandom | base64)
	printf '{"v":1,"type":"msg.send","id":2,"case":%d,"mid":"%s","copies":[{"to":"%s","ct":"%s"}]}\n' \
		"$CASE" "$mid" "$CKEY" "$ct" |
		CLI_LIMIT=40 cli client raw --login --count 1 --idle 30 2>&1
}
_held() {
	[ "$(psql -X -A -t -d "$PRIMARY" -c "SELECT count(*) FROM pg_locks
	    WHERE locktype = 'advisory' AND classid = $LOCK_CLASS
	    AND objid = 1 AND objsubid = 2 AND granted")" -gt 0 ]
}
_free() { ! _held; }
mkfifo "$T/holder"
# the holder's own timeout, short: PostgreSQL ends it, as it ends a
# node's session stalled inside its turn (store_pg.c, PG_IDLE_TX_TIMEOUT)
PGOPTIONS="-c idle_in_transaction_session_timeout=15000" \
	psql -X -q -d "$PRIMARY" <"$T/holder" >"$T/holder.out" 2>&1 &
HOLDER_PID=$!
exec {hfd}>"$T/holder"
printf 'BEGIN;\nSELECT pg_advisory_xact_lock(%d, 1);\n' "$LOCK_CLASS" >&"$hfd"
wait_for "the lock held by psql" 10 _held
stalls=$(grep -c 'no answer within' "$SERVER_ERR" || true)
t0=$(now_ms)
out=$(send_one)
ms=$(($(now_ms) - t0))
assert_match "the send is answered unavailable" "$out" \
	'"re":2.*"code":"unavailable"|"code":"unavailable".*"re":2'
[ "$ms" -lt $(((3 + 10) * 1000)) ] &&
	pass "within $ms ms (the lock's bound: 3 s)" ||
	fail "answered after $ms ms"
assert_match "by the node's lock_timeout" "$(cat "$SERVER_ERR")" \
	'advisory lock: .*lock timeout'
assert_eq "not by the command's deadline" "$stalls" \
	"$(grep -c 'no answer within' "$SERVER_ERR" || true)"
_held && pass "the lock is still held" || fail "the holder is gone already"
wait_for "a ping answered while the lock is held" 15 ping_ok &&
	pass "a ping on another connection answered meanwhile"
_held && pass "the lock still held then" || fail "the holder went first"
wait_for "PostgreSQL ends the idle holder and frees the lock" 40 _free &&
	pass "PostgreSQL ended the idle holder: the lock is free"
exec {hfd}>&-
wait "$HOLDER_PID" 2>/dev/null || true
HOLDER_PID=""
_sent_ok() { [[ $(send_one) == *'"msg.send.ok"'* ]]; }
wait_for "sends acknowledged again" 30 _sent_ok &&
	pass "sends acknowledged again"

step "SIGTERM while PostgreSQL is stopped: the node stops all the same"
# its last statements and its listener's query wait a deadline each
# (5 s), the listener hears the stop meanwhile: the exit is bounded
pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
STOPPED="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
# shellcheck disable=SC2086
kill -STOP $STOPPED
pid=$SERVER_PID
kill -TERM "$pid"
wait_for "the node to exit, PostgreSQL stopped" "$BOUND" _server_gone &&
	pass "the node exited"
rc=0
wait "$pid" 2>/dev/null || rc=$?
assert_eq "with status 0" 0 "$rc"
# shellcheck disable=SC2086
kill -CONT $STOPPED
STOPPED=""
finish
