# test_metrics.sh: metrics and health for the operator. Off by default; a
# metrics address that is not loopback is refused at start, with the file
# and line. On, a second port bound to loopback only serves GET /metrics
# in the Prometheus text format, with figures that follow real traffic
# (logins, frames, errors by code, messages stored and delivered, the
# queue and its oldest wait, connections by role, a commit histogram, the
# database's size) and no label that holds an account, a case or a key;
# GET /healthz answers 200 while the store can commit, 503 on a full disk,
# and 200 again once it can.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# http_request METHOD HOST PORT PATH [BODY]: one HTTP/1.1 request over
# bash's /dev/tcp (no process started); sets HTTP_STATUS (none when it
# failed), HTTP_TYPE and HTTP_BODY (read to its Content-Length, less its
# trailing newlines).
http_request() {
	local fd line len="" LC_ALL=C
	HTTP_STATUS=none HTTP_TYPE="" HTTP_BODY=""
	{ exec {fd}<>"/dev/tcp/$2/$3"; } 2>/dev/null || return 0
	printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n' "$1" "$4" "$2" >&"$fd"
	if [ $# -ge 5 ]; then
		printf 'Content-Length: %d\r\n\r\n%s' "${#5}" "$5" >&"$fd"
	else
		printf '\r\n' >&"$fd"
	fi
	if IFS= read -r -t 10 line <&"$fd" && [[ "$line" =~ ^HTTP/1\.[01]\ ([0-9]{3})\  ]]; then
		HTTP_STATUS=${BASH_REMATCH[1]}
		while IFS= read -r -t 10 line <&"$fd" && [ "$line" != $'\r' ]; do
			line=${line%$'\r'}
			case ${line,,} in
			content-type:*) HTTP_TYPE=${line#*:} HTTP_TYPE=${HTTP_TYPE# } ;;
			content-length:*) len=${line#*:} len=${len// /} ;;
			esac
		done
		if [[ "$len" =~ ^[0-9]+$ ]] && [ "$len" -gt 0 ]; then
			IFS= read -r -N "$len" -t 10 HTTP_BODY <&"$fd" || true
		fi
		# less its trailing newlines, as $(...) would
		while [[ "$HTTP_BODY" == *$'\n' ]]; do
			HTTP_BODY=${HTTP_BODY%$'\n'}
		done
	fi
	exec {fd}>&-
}

# http_get HOST PORT PATH: http_request GET.
http_get() {
	http_request GET "$@"
}

# scrape: GET /metrics of the running server into M.
scrape() {
	http_get 127.0.0.1 "$MPORT" /metrics
	M=$HTTP_BODY
}

# val NAME{LABELS}: its value in M ("" when absent).
val() {
	local k v
	while read -r k v _; do
		if [ "$k" = "$1" ]; then
			printf '%s\n' "$v"
			return 0
		fi
	done <<<"$M"
}

# val_now NAME{LABELS}: scrapes, then val. In $(...) the scrape stays in
# the subshell: read other values of the same scrape with scrape and val.
val_now() {
	scrape
	val "$1"
}

# is_value NAME{LABELS} N: the metric is N now (for wait_for).
is_value() {
	[ "$(val_now "$1")" = "$2" ]
}

# at_least NAME{LABELS} N: the metric is N or more now (for wait_for).
at_least() {
	local v
	v=$(val_now "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

# healthz_is STATUS: GET /healthz answers STATUS (for wait_for).
healthz_is() {
	http_get 127.0.0.1 "$MPORT" /healthz
	[ "$HTTP_STATUS" = "$1" ]
}

# listeners PID: "ADDRESS PORT" of each TCP socket PID listens on, the
# address in /proc/net/tcp's hex (0100007F is 127.0.0.1, and
# 00000000000000000000000001000000 is ::1).
listeners() {
	local inodes addr port
	inodes=" $(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		sed 's/socket:\[\([0-9]*\)\]/\1/' | sort -u | tr '\n' ' ')"
	awk -v inodes="$inodes" 'FNR > 1 && $4 == "0A" && index(inodes, " " $10 " ") {
		sub(":", " ", $2); print $2 }' /proc/net/tcp /proc/net/tcp6 |
		while read -r addr port; do
			echo "$addr $((16#$port))"
		done | sort
}

# start_metrics ARGS...: start_server, then MPORT from its metrics line.
start_metrics() {
	start_server "$@"
	MPORT=$(sed -n 's/^offramp-server: metrics on 127\.0\.0\.1 port \([0-9][0-9]*\) .*/\1/p' \
		"$SERVER_OUT" | head -n1)
	assert_match "the server says where the metrics are" "$MPORT" '^[1-9][0-9]*$'
}

step "off by default"
out=$("$OFFRAMP_SERVER_BIN" --data "$DATA" --check-config)
assert_contains "--check-config: metrics not set" "$out" "# metrics (not set)	# default"
start_server
assert_not_contains "no metrics line" "$(cat "$SERVER_OUT")" "metrics on"
assert_eq "one listening socket: the listener's, on 127.0.0.1" "0100007F $PORT" "$(listeners "$SERVER_PID")"
stop_server

step "a metrics address that is not loopback is refused at start, with the file and line"
# refused FILE ARGS...: starts the server with --config FILE; sets RC, ERR.
refused() {
	local f=$1
	shift
	RC=0
	timeout -k 5 30 "$OFFRAMP_SERVER_BIN" --config "$f" --port 0 "$@" \
		>"$T/refused.out" 2>"$T/refused.err" </dev/null || RC=$?
	ERR=$(cat "$T/refused.err")
}
printf 'data = %s\n# the figures, for everyone\nmetrics = 0.0.0.0:9464\n' "$DATA" >"$T/any.conf"
refused "$T/any.conf"
assert_eq "metrics = 0.0.0.0:9464: exit 2" 2 "$RC"
assert_eq "  named with its file and line" \
	"offramp-server: $T/any.conf:3: refusing to serve metrics on a non-loopback address (0.0.0.0): metrics takes an address of 127.0.0.0/8 or ::1" \
	"$ERR"
assert_eq "  and nothing was started" "" "$(cat "$T/refused.out")"
printf 'data = %s\n' "$DATA" >"$T/plain.conf"
for a in 192.0.2.7:9464 '[::]:9464' '[2001:db8::1]:9464' '[::ffff:127.0.0.1]:9464'; do
	refused "$T/plain.conf" --metrics "$a"
	assert_eq "--metrics $a: exit 2" 2 "$RC"
	assert_contains "  refused as not loopback" "$ERR" "offramp-server: --metrics: refusing to serve metrics on a non-loopback address"
done
for a in 127.0.0.1 9464 '::1:9464' 127.0.0.1:99999 'localhost'; do
	refused "$T/plain.conf" --metrics "$a"
	assert_eq "--metrics $a: exit 2" 2 "$RC"
	assert_contains "  not ADDRESS:PORT" "$ERR" "offramp-server: --metrics: metrics takes ADDRESS:PORT"
done
for a in 127.0.0.1:9464 127.1.2.3:0 '[::1]:9464' localhost:9464; do
	RC=0
	out=$("$OFFRAMP_SERVER_BIN" --config "$T/plain.conf" --metrics "$a" --check-config 2>&1) || RC=$?
	assert_eq "--metrics $a is taken" 0 "$RC"
	assert_contains "  and printed with its source" "$out" "metrics = $a	# --metrics"
done

if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
	step "on [::1], the metrics listener binds ::1 and nothing else"
	start_server --metrics '[::1]:0'
	p6=$(sed -n 's/^offramp-server: metrics on ::1 port \([0-9][0-9]*\) .*/\1/p' "$SERVER_OUT")
	assert_match "the server says where the metrics are" "$p6" '^[1-9][0-9]*$'
	assert_eq "two listening sockets: 127.0.0.1 and ::1" \
		"$(printf '0100007F %s\n00000000000000000000000001000000 %s' "$PORT" "$p6" | sort)" \
		"$(listeners "$SERVER_PID")"
	http_get ::1 "$p6" /healthz
	assert_eq "/healthz on ::1: 200" 200 "$HTTP_STATUS"
	stop_server
fi

step "on, a second port on 127.0.0.1 serves the Prometheus text format"
start_metrics --metrics 127.0.0.1:0
assert_eq "two listening sockets, both on 127.0.0.1" \
	"$(printf '0100007F %s\n0100007F %s' "$PORT" "$MPORT" | sort)" "$(listeners "$SERVER_PID")"
scrape
assert_eq "GET /metrics: 200" 200 "$HTTP_STATUS"
assert_eq "  of version 0.0.4" "text/plain; version=0.0.4; charset=utf-8" "$HTTP_TYPE"
families=$(sed -n 's/^# TYPE \([a-z_]*\) \(counter\|gauge\|histogram\)$/\1/p' <<<"$M")
# is_family NAME: NAME, or NAME less a _bucket, _sum or _count at its
# end, is one of the families (a whole line of $families).
is_family() {
	local base=$1
	[[ "$1" =~ ^(.*)_(bucket|sum|count)$ ]] && base=${BASH_REMATCH[1]}
	[[ $'\n'"$families"$'\n' == *$'\n'"$1"$'\n'* ||
	   $'\n'"$families"$'\n' == *$'\n'"$base"$'\n'* ]]
}
for f in offramp_connections offramp_logins_total offramp_frames_total \
	offramp_requests_total offramp_errors_total offramp_messages_stored_total \
	offramp_copies_stored_total offramp_copies_delivered_total \
	offramp_queue_waiting offramp_queue_oldest_wait_seconds \
	offramp_commit_duration_seconds offramp_commit_failures_total \
	offramp_db_size_bytes offramp_db_wal_size_bytes; do
	assert_match "$f has its # TYPE" "$families" "^$f$"
	assert_match "  and its # HELP" "$M" "^# HELP $f [A-Z]"
done
bad=$(grep -v '^#' <<<"$M" | grep -vE '^[a-z_]+(\{[a-z]+="[^"\\]*"(,[a-z]+="[^"\\]*")*\})? -?[0-9]+(\.[0-9]+)?$' || true)
assert_eq "every sample line is NAME{LABELS} VALUE" "" "$bad"
untyped=""
for name in $(grep -v '^#' <<<"$M" | sed 's/[{ ].*//' | sort -u); do
	is_family "$name" || untyped+="$name "
done
assert_eq "every sample belongs to a family with a # TYPE" "" "$untyped"
assert_eq "logins of clients: none yet" 0 "$(val 'offramp_logins_total{role="client"}')"
assert_eq "no commit failed" 0 "$(val offramp_commit_failures_total)"

step "logins, requests and frames follow real traffic"
setup_pool
keygen client
scrape
logins=$(val 'offramp_logins_total{role="client"}')
cli client login >/dev/null
scrape
assert_eq "a client's login: one more" $((logins + 1)) "$(val 'offramp_logins_total{role="client"}')"
assert_match "the admin and the counsellor logged in" \
	"$(val 'offramp_logins_total{role="admin"}') $(val 'offramp_logins_total{role="counsellor"}')" \
	'^[1-9][0-9]* [1-9][0-9]*$'
frames=$(val offramp_frames_total)
pings=$(val 'offramp_requests_total{type="ping"}')
logins=$(val 'offramp_requests_total{type="login"}')
clirun client raw --login --answered <<<'{"v":1,"type":"ping","id":1}
{"v":1,"type":"ping","id":2}'
assert_contains "two pings answered" "$OUT" '"re":2}'
scrape
# the CLI pings once itself after its login
assert_eq "two pings: three more ping requests, with the CLI's own" \
	$((${pings:-0} + 3)) "$(val 'offramp_requests_total{type="ping"}')"
assert_eq "  and one more login request" $((logins + 1)) "$(val 'offramp_requests_total{type="login"}')"
[ "$(val offramp_frames_total)" -ge $((frames + 3)) ] && pass "  and three frames more, or more: $frames, then $(val offramp_frames_total)" ||
	fail "frames did not grow by 3 or more: $frames, then $(val offramp_frames_total)"

step "errors, by code"
unknown=$(val_now 'offramp_errors_total{code="unknown_type"}')
notin=$(val 'offramp_errors_total{code="not_logged_in"}')
clirun client raw --login --count 1 <<<'{"v":1,"type":"no.such.type","id":3}'
assert_contains "an unknown type is refused" "$OUT" '"unknown_type"'
assert_eq "  and counted once" $((unknown + 1)) "$(val_now 'offramp_errors_total{code="unknown_type"}')"
clirun client raw --count 1 <<<'{"v":1,"type":"case.list","id":4}'
assert_contains "a request before login is refused" "$OUT" '"not_logged_in"'
scrape
assert_eq "  and counted once" $((notin + 1)) "$(val 'offramp_errors_total{code="not_logged_in"}')"
assert_eq "  under its own code only" $((unknown + 1)) "$(val 'offramp_errors_total{code="unknown_type"}')"

step "messages stored and delivered"
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case with Sam" "$CASE" '^[0-9]+$'
scrape
stored=$(val offramp_messages_stored_total)
copies=$(val offramp_copies_stored_total)
delivered=$(val offramp_copies_delivered_total)
for i in 1 2 3; do
	cli client send "$CASE" "hello $i" >/dev/null
done
scrape
assert_eq "three messages sent: three stored" $((stored + 3)) "$(val offramp_messages_stored_total)"
assert_eq "  one copy each (for Sam)" $((copies + 3)) "$(val offramp_copies_stored_total)"
assert_eq "  none delivered yet" "$delivered" "$(val offramp_copies_delivered_total)"
cli_out out couns recv --count 3
assert_contains "Sam read them" "$out" "hello 3"
assert_eq "Sam's acks: three delivered" $((delivered + 3)) "$(val_now offramp_copies_delivered_total)"
cli client send "$CASE" "hello 3" >/dev/null
assert_eq "  a new message is stored" $((stored + 4)) "$(val_now offramp_messages_stored_total)"

step "the queue and its oldest wait, per programme"
PROG=$(sql "SELECT min(id) FROM programmes")
scrape
assert_eq "nobody waits for any programme" 0 "$(val 'offramp_queue_waiting{programme="any"}')"
assert_eq "  nor for programme $PROG" 0 "$(val "offramp_queue_waiting{programme=\"$PROG\"}")"
keygen waiter
WAIT_CASE=$(field "$(cli waiter request --language de)" case)
assert_eq "a case in a language nobody speaks waits" waiting "$(sql "SELECT CASE status WHEN 1 THEN 'waiting' END FROM cases WHERE id = $WAIT_CASE")"
assert_eq "  one waits, for any programme" 1 "$(val_now 'offramp_queue_waiting{programme="any"}')"
keygen waiter2
WAIT_CASE2=$(field "$(cli waiter2 request --language de --programme "$PROG")" case)
assert_match "a case for programme $PROG waits too" "$WAIT_CASE2" '^[0-9]+$'
assert_eq "  one waits for programme $PROG" 1 "$(val_now "offramp_queue_waiting{programme=\"$PROG\"}")"
wait_for "the oldest wait to reach 2 seconds" 20 at_least 'offramp_queue_oldest_wait_seconds{programme="any"}' 2 &&
	pass "the oldest wait grows: 2 s or more"
since=$(sql "SELECT updated FROM cases WHERE id = $WAIT_CASE")
scrape
now=$(date +%s)
oldest=$(val 'offramp_queue_oldest_wait_seconds{programme="any"}')
if [ "$oldest" -ge $((now - since - 2)) ] && [ "$oldest" -le $((now - since + 2)) ]; then
	pass "  it is the time since the case began to wait ($oldest s)"
else
	fail "oldest wait $oldest s, but the case waits since $((now - since)) s"
fi
cli waiter close "$WAIT_CASE" >/dev/null
scrape
assert_eq "its case closed: nobody waits for any programme" 0 "$(val 'offramp_queue_waiting{programme="any"}')"
assert_eq "  and the oldest wait is 0" 0 "$(val 'offramp_queue_oldest_wait_seconds{programme="any"}')"

step "connections by role"
assert_eq "Sam's daemon is counted" 1 "$(val_now 'offramp_connections{role="counsellor"}')"
counsellor_down couns
wait_for "no counsellor connected" 20 is_value 'offramp_connections{role="counsellor"}' 0 &&
	pass "  and no more when it stopped"
watch_start couns
assert_eq "Sam's connection is counted" 1 "$(val_now 'offramp_connections{role="counsellor"}')"
watch_stop couns
wait_for "Sam's connection to go" 20 is_value 'offramp_connections{role="counsellor"}' 0 &&
	pass "  and no more when it closed"
wait_for "no connection left" 20 is_value 'offramp_connections{role="none"}' 0 &&
	pass "  and none is left before login"

step "the commit histogram"
scrape
buckets=$(sed -n 's/^offramp_commit_duration_seconds_bucket{le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p' <<<"$M")
assert_match "it has buckets" "$buckets" '^0\.0005 [0-9]+$'
assert_eq "  ending at +Inf" "+Inf" "$(tail -n1 <<<"$buckets" | cut -d' ' -f1)"
assert_eq "  monotone in le and in count" "" "$(awk 'NR > 1 && ($2 < c || ($1 != "+Inf" && $1 + 0 <= le)) { print } { c = $2; le = $1 + 0 }' <<<"$buckets")"
count=$(val offramp_commit_duration_seconds_count)
assert_eq "+Inf is the count" "$count" "$(tail -n1 <<<"$buckets" | cut -d' ' -f2)"
[ "$count" -ge 10 ] && pass "  commits counted: $count" || fail "only $count commits counted"
assert_match "the sum is seconds, above 0" "$(val offramp_commit_duration_seconds_sum)" '^([1-9][0-9]*|0)\.[0-9]{6}$'
assert_ne "  not 0.000000" 0.000000 "$(val offramp_commit_duration_seconds_sum)"
assert_eq "no commit failed" 0 "$(val offramp_commit_failures_total)"

step "the database's size"
db=$(val offramp_db_size_bytes)
# PostgreSQL's size is pg_database_size(): in bytes, pages of one byte
page=1
on_pg || page=$(sql "PRAGMA page_size")
[ "$db" -gt 0 ] && pass "the database has a size: $db bytes" || fail "database size $db"
assert_eq "  a whole number of pages" 0 $((db % page))
# 0 right after a TRUNCATE checkpoint (an ack's commit, or the job's)
assert_match "the WAL has a size" "$(val offramp_db_wal_size_bytes)" '^[0-9]+$'

step "no label holds an account, a case or a key"
labels=$(grep -v '^#' <<<"$M" | grep -o '[a-z]*="[^"]*"' | sort -u)
codes=$(sed -n 's/^.*{ OFR_E_[A-Z_]*, *"\([a-z_]*\)" }.*$/\1/p' "$ROOT/proto/err.c" | paste -sd'|')
assert_match "the error codes of proto/err.c" "$codes" '^bad_json\|too_big\|'
programmes=$(sql "SELECT id FROM programmes" | paste -sd'|')
assert_eq "label values are roles, request types, codes, programme ids and bounds only" "" \
	"$(grep -vE "^(role=\"(none|client|counsellor|admin)\"|type=\"[a-z]+(\.[a-z]+)*\"|code=\"($codes)\"|programme=\"(any|$programmes)\"|le=\"([0-9.]+|\+Inf)\")$" <<<"$labels" || true)"
types=$(sed -n 's/^type="\(.*\)"$/\1/p' <<<"$labels")
dispatch=$(<"$ROOT/server/dispatch.c")
for t in $types; do
	[[ "$dispatch" == *"{ \"$t\","* ]] || fail "type $t is not a request type of the dispatch table"
done
pass "every type label is a request type of the dispatch table"
secrets=("$KEY_admin" "$KEY_couns" "$KEY_client" "$KEY_waiter" "$KEY_waiter2"
	"$PROGRAMME_KEY" "$CASE" "$WAIT_CASE" "$WAIT_CASE2" "$ADMIN_NAME" "$COUNS_NAME")
for k in "$KEY_admin" "$KEY_couns" "$KEY_client" "$KEY_waiter" "$KEY_waiter2"; do
	secrets+=("$(hexkey "$k")")
done
while read -r name; do
	secrets+=("$name")
done < <(sql "SELECT name FROM accounts")
for s in "${secrets[@]}"; do
	[ -n "$s" ] || continue
	if [[ "$M" == *"$s"* ]]; then
		fail "the metrics hold [$s]"
	fi
done
pass "none of ${#secrets[@]} keys, case ids and names is anywhere in the text"

step "/healthz, and 404 for the rest"
http_get 127.0.0.1 "$MPORT" /healthz
assert_eq "GET /healthz: 200" 200 "$HTTP_STATUS"
assert_eq "  ok" ok "$HTTP_BODY"
for p in / /metrics/ /healthz/x /index.html; do
	http_get 127.0.0.1 "$MPORT" "$p"
	assert_eq "GET $p: 404" 404 "$HTTP_STATUS"
done
http_request POST 127.0.0.1 "$MPORT" /metrics x
assert_eq "POST /metrics: 404" 404 "$HTTP_STATUS"

step "the metrics in the docs are the server's"
for f in deploy/alerts.yml README.md deploy/man/offramp-server.8 deploy/offramp.conf; do
	for name in $(grep -oE 'offramp_[a-z_]+' "$ROOT/$f" | sort -u); do
		is_family "$name" ||
			fail "$f names $name, which the server does not serve"
	done
done
pass "every offramp_ metric the docs name is served"
assert_match "deploy/alerts.yml alerts on /healthz" "$(cat "$ROOT/deploy/alerts.yml")" 'offramp-healthz'
stop_server

step "/healthz: 503 while the disk is full, 200 again after"
if on_pg; then
	echo "   (skipped: on PostgreSQL the store is not in the data directory)"
elif [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v nsenter >/dev/null; then
	# The server runs in a mount namespace of its own, its data directory
	# (a copy of the one above) on a small tmpfs mounted there.
	SMALL="$T/small"
	mkdir -p "$SMALL"
	# server-small ARGS...: the server with ARGS, in a mount namespace of
	# its own with a 64 MiB tmpfs on $SMALL (room for the server's 8 MiB
	# spare file, offramp.spare, twice over and for a whole -wal of 16
	# MiB, which it asks for before it takes the spare back) holding a
	# copy of $DATA.
	{
		echo '#!/usr/bin/env bash'
		printf 'exec unshare -m --propagation private sh -c %q _ %q %q %q "$@"\n' \
			'mount -t tmpfs -o size=64m,mode=0700 tmpfs "$1" && cp -a "$2" "$1/data" || exit 1
server=$3
shift 3
exec "$server" "$@"' "$SMALL" "$DATA" "$OFFRAMP_SERVER_BIN"
	} >"$T/server-small"
	chmod +x "$T/server-small"
	OLD_DATA=$DATA
	DATA="$SMALL/data"
	OFFRAMP_SERVER_BIN="$T/server-small" start_metrics --metrics 127.0.0.1:0
	in_ns() {
		nsenter -t "$SERVER_PID" -m -- "$@"
	}
	assert_eq "the data directory is on the small tmpfs" tmpfs "$(in_ns stat -f -c %T "$DATA")"
	wait_for "/healthz to answer 200" 20 healthz_is 200 && pass "GET /healthz: 200"
	in_ns sh -c 'dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null; true' _ "$SMALL"
	assert_eq "the disk is full" 0 "$(in_ns df --output=avail -B1 "$SMALL" | tail -n1 | tr -d ' ')"
	http_get 127.0.0.1 "$MPORT" /healthz
	assert_eq "a full disk: 503" 503 "$HTTP_STATUS"
	assert_eq "  saying why" "the disk is full: msg.send is refused until 32 MiB are free" "$HTTP_BODY"
	scrape
	assert_eq "/metrics still answers" 200 "$HTTP_STATUS"
	# The server saw it coming: before the commit it gave up its spare
	# file (room for acks), so no commit failed (test_faults has one).
	assert_match "  the log says the disk is full" "$(cat "$SERVER_ERR")" 'the disk is full: .*offramp.spare is given up'
	in_ns rm -f "$SMALL/fill"
	wait_for "/healthz to answer 200 with room again" 20 healthz_is 200 &&
		pass "room again: 200"
	assert_eq "a client still logs in" client "$(field "$(cli client login)" role)"
	stop_server
	DATA=$OLD_DATA
else
	echo "   (skipped: a small tmpfs needs root, unshare and nsenter)"
fi

finish
