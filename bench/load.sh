#!/usr/bin/env bash
# load.sh: offramp-server and Mosquitto under the same load, side by side
# (issue 16). Builds offramp-server and bench/offramp-loadgen, then runs
# itself again in a private network namespace (unshare -n: Mosquitto's
# WebSocket listener binds every interface; there only lo exists), starts
# both servers there with temporary directories, runs the same work
# against each, interleaved and repeated, and prints tables. Figures only:
# it asserts nothing about time.
#
#   bench/load.sh           the whole benchmark (about 6 minutes)
#   bench/load.sh --quick   a sanity run of every mode (about 30 s)
#   bench/load.sh --idle    idle connections only, ws:// (about 3 minutes)
#   bench/load.sh --tls     idle connections only, both servers over
#                           wss:// with one self-signed certificate
#                           (deploy/gen-cert.sh)
#
# Needs root (unshare -n); installs what it needs with
# deploy/install-deps.sh --bench (Debian's mosquitto, never started as a
# service, and ip(8)).
# BUILD=DIR: the build directory (default: build/ of the repository).
# IDLE_TOP=N: the highest count of idle connections (default: the hard
# limit of open files less 200, in hundreds; see IDLE below).
#
# Both servers are measured over ws:// on 127.0.0.1 (offramp-server
# without --cert, as it allows on loopback). The modes (see loadgen.c):
#   relay    K pairs, each a sender with W requests unanswered and a
#            recipient that acks what each read brought in one request;
#            offramp: a client and its counsellor in one case, msg.send of
#            one 1024-byte copy and msg.ack; Mosquitto: QoS 1 PUBLISH of
#            1024 bytes to the pair's topic, SUBSCRIBE QoS 1 and PUBACK.
#   latency  K=50 pairs at a fixed total rate, 70% of offramp's relay
#            saturation at K=50: p50/p99/max of send-to-ack and
#            send-to-delivery.
#   idle     connections held open, logged in (offramp: new client
#            accounts) or CONNACKed; the server's RSS rise per connection.
#   logins   32 connections at a time, each connecting, logging in (or
#            CONNECT/CONNACK) and closing; offramp with new keys, then
#            with keys that have accounts.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
QUICK=0
TLS=0
IDLE_ONLY=0
if [ "${1:-}" = --quick ]; then
	QUICK=1
elif [ "${1:-}" = --tls ]; then
	TLS=1
elif [ "${1:-}" = --idle ]; then
	IDLE_ONLY=1
elif [ $# -gt 0 ]; then
	echo "usage: bench/load.sh [--quick | --idle | --tls]" >&2
	exit 2
fi

if [ -z "${LOADBENCH_NETNS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "load.sh: needs root for unshare -n" >&2
		exit 1
	fi
	# Debian's mosquitto (never started as a service), ip, unshare
	bash "$(dirname "${BASH_SOURCE[0]}")/../deploy/install-deps.sh" --bench
	echo "== building offramp-server and offramp-loadgen in $BUILD"
	cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j2 --target offramp-server offramp-loadgen >/dev/null
	exec unshare -n env LOADBENCH_NETNS=1 BUILD="$BUILD" \
		IDLE_TOP="${IDLE_TOP:-}" bash "$0" "$@"
fi

# ------------------------------------------- inside the network namespace

START=$SECONDS
ip link set lo up
# one descriptor per connection: as many as the hard limit allows (see
# IDLE below)
ulimit -n "$(ulimit -Hn)"
IDLE_MAX=$(( ($(ulimit -n) - 200) / 100 * 100 ))

SERVER=$BUILD/server/offramp-server
GEN=$BUILD/bench/offramp-loadgen
T=$(mktemp -d "${TMPDIR:-/tmp}/offramp-load.XXXXXX")
chmod 755 "$T"			# Mosquitto runs as its own user
RES=$T/results
: >"$RES"
OFR_PID=""
MQ_PID=""

cleanup() {
	local pid
	for pid in $OFR_PID $MQ_PID; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

if [ "$QUICK" = 1 ]; then
	RELAY=("10 1" "20 8")
	REPS=1
	SECS=2
	IDLE=200,1000
	LAT_PAIRS=10
	LOGIN_SECS=1
else
	RELAY=("50 1" "50 8" "200 8" "200 32")
	REPS=3
	SECS=3
	# Each idle connection is a descriptor in the server and one in the
	# generator, and the limit is per process. The top count leaves 200
	# of the hard limit for the rest of each process's descriptors (the
	# listeners, the database and its journal, the logs, lws's own, the
	# spare kept for EMFILE in offramp-server: 30 or so), in hundreds:
	# 19,800 where the hard limit is 20,000 (IDLE_MAX, above). One
	# destination port takes as many connections as the ephemeral range
	# has ports (28,232 in a new namespace), more than any limit here.
	IDLE_TOP=${IDLE_TOP:-$IDLE_MAX}
	IDLE=""
	for n in 1000 5000 10000 20000; do
		[ "$n" -ge "$IDLE_TOP" ] || IDLE+="$n,"
	done
	IDLE+=$IDLE_TOP
	LAT_PAIRS=50
	LOGIN_SECS=2
fi
# --tls: the levels where the issue measured (a TLS login costs more)
[ "$TLS" = 0 ] || IDLE=1000,2000
MAXPAIRS=0
for kw in "${RELAY[@]}"; do
	set -- $kw
	[ "$1" -le "$MAXPAIRS" ] || MAXPAIRS=$1
done
[ "$LAT_PAIRS" -le "$MAXPAIRS" ] || MAXPAIRS=$LAT_PAIRS

# wait_until SECS CMD...: runs CMD until it succeeds, at most SECS seconds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The relay is measured, not intake: no proof of work for the load's new
# clients and cases (bench/bench_intake.sh measures that).
# --tls: one certificate for both, readable by Mosquitto's user (a
# benchmark's throwaway key in a temporary directory)
TLS_ARGS=()
GEN_TLS=()
if [ "$TLS" = 1 ]; then
	bash "$REPO/deploy/gen-cert.sh" "$T/tls" >/dev/null
	chmod 755 "$T/tls"
	chmod 644 "$T/tls/key.pem"
	TLS_ARGS=(--cert "$T/tls/cert.pem" --key "$T/tls/key.pem")
	GEN_TLS=(--tls)
fi

start_offramp() {
	"$SERVER" --data "$T/offramp" --listen 127.0.0.1 --port 0 --pow-bits 0 \
		--pow-max-bits 0 "${TLS_ARGS[@]}" \
		>"$T/offramp.out" 2>"$T/offramp.err" </dev/null &
	OFR_PID=$!
	if ! wait_until 30 grep -q '^offramp-server: listening on port' "$T/offramp.out"; then
		echo "load.sh: offramp-server did not start:" >&2
		cat "$T/offramp.err" >&2
		exit 1
	fi
	OFR_PORT=$(sed -n 's/^offramp-server: listening on port \([0-9]*\).*/\1/p' \
		"$T/offramp.out" | head -n1)
}

# Mosquitto 2.0.11 does not start with a WebSocket listener alone
# (eclipse-mosquitto/mosquitto#2284): a plain MQTT listener on loopback
# goes with it, unused.
start_mosquitto() {
	MQ_PORT=18830
	cat >"$T/mosquitto.conf" <<-EOF
	listener 18831 127.0.0.1
	listener $MQ_PORT
	protocol websockets
	$([ "$TLS" = 1 ] && printf 'certfile %s\nkeyfile %s' "$T/tls/cert.pem" "$T/tls/key.pem")
	allow_anonymous true
	persistence false
	log_dest stderr
	log_type error
	log_type warning
	EOF
	mosquitto -c "$T/mosquitto.conf" 2>"$T/mosquitto.err" </dev/null &
	MQ_PID=$!
	if ! wait_until 30 port_open "$MQ_PORT"; then
		echo "load.sh: mosquitto did not start:" >&2
		cat "$T/mosquitto.err" >&2
		exit 1
	fi
}

# gen offramp|mosquitto MODE ARGS...: one measurement; its result line
# goes to $RES, and is shown. offramp's gets stored_after: the copies in
# its store once the generator has stopped, counted in the database.
gen() {
	local who=$1 port pid line
	shift
	if [ "$who" = offramp ]; then
		port=$OFR_PORT pid=$OFR_PID
	else
		port=$MQ_PORT pid=$MQ_PID
	fi
	line=$(timeout -k 5 300 "$GEN" --target "$who" --port "$port" --pid "$pid" "${GEN_TLS[@]}" "$@" \
		2>>"$T/gen.err" | grep '^result ' || true)
	[ -n "$line" ] || return 0
	if [ "$who" = offramp ] && [ -f "$T/offramp/offramp.db" ]; then
		line+=" stored_after=$(sqlite3 -readonly -cmd '.timeout 5000' \
			"$T/offramp/offramp.db" 'SELECT count(*) FROM deliveries')"
	fi
	printf '%s\n' "$line" | tee -a "$RES" | sed 's/^result /   /' | cut -c1-160
}

# pick KEY FILTER...: the values of KEY in the result lines that hold
# every FILTER (key=value words), one a line.
pick() {
	local key=$1 f
	shift
	local lines
	lines=$(cat "$RES")
	for f in "$@"; do
		lines=$(grep -- " $f\( \|$\)" <<<"$lines" || true)
	done
	sed -n "s/.* $key=\([^ ]*\).*/\1/p" <<<"$lines"
}

# median: of the numbers on standard input ("-" when none).
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
	    else if (NR % 2) print v[(NR + 1) / 2];
	    else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
maxof() {
	sort -g | tail -n1
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0)
	    print "-"; else printf "%.2f\n", a / b }'
}

# idle_cell WHO N: the median rise per connection at level N, and how many
# were held and failed when not all N were.
idle_cell() {
	local b h f
	b=$(pick bytes_per_conn mode=idle "target=$1" "conns=$2" | median)
	h=$(pick held mode=idle "target=$1" "conns=$2" | median)
	f=$(pick failed mode=idle "target=$1" "conns=$2" | maxof)
	if [ "$h" = - ] || [ "$h" = "$2" ]; then
		echo "$b"
	else
		echo "$b (held $h, $f failed)"
	fi
}

# idle_table: the idle connections' table, IDLE_MAX named for what it is.
idle_table() {
	local n o m label
	echo
	echo "Idle connections: server RSS rise per connection (bytes), fresh" \
		"servers, $([ "$TLS" = 1 ] && echo wss:// || echo ws://)"
	echo
	echo "| connections | offramp | Mosquitto | ratio |"
	echo "|---|---|---|---|"
	for n in ${IDLE//,/ }; do
		o=$(idle_cell offramp "$n")
		m=$(idle_cell mosquitto "$n")
		label=$n
		[ "$n" != "$IDLE_MAX" ] ||
			label="$n: the most this machine's limit of $(ulimit -Hn) open files allows"
		echo "| $label | $o | $m | $(ratio "${o%% *}" "${m%% *}") |"
	done
}

start_offramp
start_mosquitto
echo "== offramp-server (pid $OFR_PID, port $OFR_PORT) and mosquitto" \
	"$(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p')" \
	"(pid $MQ_PID, port $MQ_PORT), in a private network namespace; $(nproc) cores"

echo "== idle connections, fresh servers: $IDLE"
gen offramp idle --conns "$IDLE" --conc 128
gen mosquitto idle --conns "$IDLE" --conc 128

if [ "$TLS" = 1 ] || [ "$IDLE_ONLY" = 1 ]; then
	idle_table
	echo "Errors seen by the generator: $(pick errors | awk '{ s += $1 } END { print s + 0 }')"
	[ ! -s "$T/gen.err" ] || head -n 20 "$T/gen.err"
	echo "== $((SECONDS - START)) s in the namespace"
	exit 0
fi

echo "== setup: $MAXPAIRS counsellors, clients and cases on offramp"
"$GEN" --port "$OFR_PORT" setup --token "$(head -n1 "$T/offramp/bootstrap-token")" \
	--state "$T/pairs" --pairs "$MAXPAIRS" 2>>"$T/gen.err" | sed 's/^/   /'

echo "== relay saturation, $REPS rounds, ${SECS} s each (after 1 s)"
for ((rep = 1; rep <= REPS; rep++)); do
	for kw in "${RELAY[@]}"; do
		set -- $kw
		if [ $((rep % 2)) = 1 ]; then order="offramp mosquitto"; else order="mosquitto offramp"; fi
		for who in $order; do
			gen "$who" relay --state "$T/pairs" --pairs "$1" --window "$2" --secs "$SECS"
		done
	done
done

# the fixed rate: 70% of offramp's saturation (median delivered) at
# LAT_PAIRS pairs, over the windows measured there
sat=0
for kw in "${RELAY[@]}"; do
	set -- $kw
	[ "$1" = "$LAT_PAIRS" ] || continue
	m=$(pick delivered_per_s mode=relay target=offramp "pairs=$1" "window=$2" | median)
	[ "$m" = - ] || sat=$(awk -v a="$sat" -v b="$m" 'BEGIN { print (b > a) ? b : a }')
done
[ "$sat" != 0 ] || sat=$(pick delivered_per_s mode=relay target=offramp | maxof)
RATE=$(awk -v s="$sat" 'BEGIN { r = int(s * 0.7); print (r < 10) ? 10 : r }')
echo "== fixed-rate latency: $LAT_PAIRS pairs, $RATE msg/s (70% of $sat), $REPS rounds"
for ((rep = 1; rep <= REPS; rep++)); do
	if [ $((rep % 2)) = 1 ]; then order="offramp mosquitto"; else order="mosquitto offramp"; fi
	for who in $order; do
		gen "$who" latency --state "$T/pairs" --pairs "$LAT_PAIRS" --rate "$RATE" --secs "$SECS"
	done
done

echo "== logins, 32 at a time, $REPS rounds"
for ((rep = 1; rep <= REPS; rep++)); do
	gen offramp logins --conc 32 --secs "$LOGIN_SECS"
	gen mosquitto logins --conc 32 --secs "$LOGIN_SECS"
done

# ------------------------------------------------------------------ tables

echo
echo "Relay saturation: median of $REPS, messages per second over ${SECS} s"
echo
echo "| pairs K, window W | offramp msg/s delivered | offramp msg/s acked | Mosquitto WS msg/s | ratio |"
echo "|---|---|---|---|---|"
for kw in "${RELAY[@]}"; do
	set -- $kw
	od=$(pick delivered_per_s mode=relay target=offramp "pairs=$1" "window=$2" | median)
	oa=$(pick acked_per_s mode=relay target=offramp "pairs=$1" "window=$2" | median)
	md=$(pick delivered_per_s mode=relay target=mosquitto "pairs=$1" "window=$2" | median)
	echo "| $1, $2 | $od | $oa | $md | $(ratio "$od" "$md") |"
done
echo
echo "| pairs K, window W | offramp CPU | Mosquitto CPU | offramp copies stored, not yet acked, at the end | the same, counted in its store after the drain | generator CPU (max) |"
echo "|---|---|---|---|---|---|"
for kw in "${RELAY[@]}"; do
	set -- $kw
	echo "| $1, $2 | $(pick server_cpu mode=relay target=offramp "pairs=$1" "window=$2" | median)" \
		"| $(pick server_cpu mode=relay target=mosquitto "pairs=$1" "window=$2" | median)" \
		"| $(pick store_backlog_end mode=relay target=offramp "pairs=$1" "window=$2" | median)" \
		"| $(pick stored_after mode=relay target=offramp "pairs=$1" "window=$2" | median)" \
		"| $(pick gen_cpu mode=relay "pairs=$1" "window=$2" | maxof) |"
done

echo
echo "Fixed rate, $LAT_PAIRS pairs at $RATE msg/s: milliseconds, median of $REPS"
echo
echo "| | send-to-ack p50 | p99 | max | send-to-delivery p50 | p99 | max | delivered msg/s |"
echo "|---|---|---|---|---|---|---|---|"
for who in offramp mosquitto; do
	row="| $who"
	for k in ack_p50 ack_p99 ack_max deliv_p50 deliv_p99 deliv_max delivered_per_s; do
		row+=" | $(pick $k mode=latency target=$who | median)"
	done
	echo "$row |"
done
op99=$(pick ack_p99 mode=latency target=offramp | median)
mp99=$(pick ack_p99 mode=latency target=mosquitto | median)
echo
echo "p99 send-to-ack, offramp over Mosquitto: $(ratio "$op99" "$mp99")×"

idle_table

echo
echo "Logins per second (32 at a time), median of $REPS"
echo
echo "| | new accounts | returning | ratio to Mosquitto CONNECT |"
echo "|---|---|---|---|"
on=$(pick new_per_s mode=logins target=offramp | median)
orr=$(pick returning_per_s mode=logins target=offramp | median)
mn=$(pick new_per_s mode=logins target=mosquitto | median)
echo "| offramp | $on | $orr | $(ratio "$on" "$mn") |"
echo "| Mosquitto (CONNECT/CONNACK) | $mn | $mn | 1 |"

echo
echo "Generator CPU, share of one core: at most $(pick gen_cpu | maxof)" \
	"(relay: $(pick gen_cpu mode=relay | maxof))"
errs=$(pick errors | awk '{ s += $1 } END { print s + 0 }')
echo "Errors seen by the generator: $errs$( [ "$errs" = 0 ] || echo " (see the lines above; $T/gen.err is removed at exit)")"
if [ -s "$T/gen.err" ]; then
	echo "---- generator stderr (first 20 lines)"
	head -n 20 "$T/gen.err"
fi
echo "== $((SECONDS - START)) s in the namespace"
