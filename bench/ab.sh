#!/usr/bin/env bash
# ab.sh: two builds of offramp-server side by side under the same relay
# load (or logins), interleaved (A, B, B, A, ...), so that a busy machine's
# noise falls on both alike. For a change's before and after; figures only.
#
#   bench/ab.sh BUILD_A BUILD_B [ROUNDS]
#   MODE=logins bench/ab.sh BUILD_A BUILD_B [ROUNDS]
#
# Each BUILD is a build directory holding server/offramp-server and
# bench/offramp-loadgen (BUILD_B's generator drives both). Modes (see
# loadgen.c): relay saturation at K=50 W=1 and K=200 W=8, and the fixed-rate
# latency at K=50 and RATE msg/s (default 300); MODES (default "k50w1
# k200w8 latency") picks some of them, SECS (default 3) the seconds of
# each; mode k200w8slow is K=200 W=8 with recipients that read slowly
# (each acks READ_RATE copies a second, default 4); mode logins (or
# MODE=logins): connections that log in and close, CONC (default 32) at a
# time, new accounts then returning ones, with the server's CPU time per
# login (server_us_*: on a busy machine steadier than the rates). The data directories are
# under TMPDIR (default /tmp): a disk, not tmpfs, for figures that mean
# anything. Traffic stays on 127.0.0.1.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: bench/ab.sh BUILD_A BUILD_B [ROUNDS]" >&2; exit 2; }
A=$1 B=$2 ROUNDS=${3:-3}
RATE=${RATE:-300}
CONC=${CONC:-32}
SECS=${SECS:-3}
MODES=${MODES:-k50w1 k200w8 latency}
[ "${MODE:-}" = logins ] && MODES=logins
READ_RATE=${READ_RATE:-4}
GEN=$B/bench/offramp-loadgen
T=$(mktemp -d "${TMPDIR:-/tmp}/offramp-ab.XXXXXX")
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

# start NAME BUILD: an offramp-server of BUILD on a free port; sets PORT_NAME
# and PID_NAME.
start() {
	local name=$1 build=$2 i
	"$build/server/offramp-server" --data "$T/$name" --listen 127.0.0.1 \
		--port 0 --pow-bits 0 --pow-max-bits 0 \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	PIDS+=($!)
	eval "PID_$name=$!"
	for i in $(seq 1 600); do
		grep -q '^offramp-server: listening on port' "$T/$name.out" && break
		sleep 0.05
	done
	eval "PORT_$name=$(sed -n 's/^offramp-server: listening on port \([0-9]*\).*/\1/p' "$T/$name.out" | head -n1)"
	[ "$MODES" = logins ] && return 0
	"$GEN" --port "$(eval echo "\$PORT_$name")" setup \
		--token "$(head -n1 "$T/$name/bootstrap-token")" \
		--state "$T/$name.pairs" --pairs 200 2>>"$T/gen.err" >/dev/null
}

# gen NAME MODE ARGS...: one measurement; its result line, with
# stored_after: the copies in NAME's store once the generator has
# stopped (after its drain), counted in the database.
gen() {
	local name=$1 line
	shift
	line=$(timeout -k 5 120 "$GEN" --target offramp --port "$(eval echo "\$PORT_$name")" \
		--pid "$(eval echo "\$PID_$name")" "$@" --state "$T/$name.pairs" \
		2>>"$T/gen.err" | sed -n "s/^result /$name /p")
	[ -n "$line" ] || return 0
	line+=" stored_after=$(sqlite3 -readonly -cmd '.timeout 5000' \
		"$T/$name/offramp.db" 'SELECT count(*) FROM deliveries')"
	printf '%s\n' "$line" | tee -a "$T/res"
}

# summary KEY...: per build and measurement, the median of each KEY.
summary() {
	awk -v keys="$*" '{ n = split(keys, k, " ");
	  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  w = $5 ~ /^window=/ ? $5 : "-"
	  for (j = 1; j <= n; j++)
	    print $2, $4, w, $1, j, k[j], f[k[j]] }' "$T/res" |
	sort -k1,1 -k2,2 -k3,3 -k4,4 -k5,5n -k7,7g |
	awk '{ g = $1 " " $2 " " $3 " " $4; c = g " " $6 }
	  c != last { flush(); last = c; m = 0 }
	  { v[++m] = $7; grp = g; key = $6 }
	  function flush() { if (m == 0) return;
	    if (grp != lastg) { if (line != "") print line; line = grp; lastg = grp }
	    line = line " " key "=" v[int((m + 1) / 2)] }
	  END { flush(); if (line != "") print line }'
}

start A "$A"
start B "$B"
echo "== A: $A (port $PORT_A), B: $B (port $PORT_B); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for who in $order; do
		for m in $MODES; do
			case $m in
			k50w1) gen "$who" relay --pairs 50 --window 1 --secs "$SECS" ;;
			k200w8) gen "$who" relay --pairs 200 --window 8 --secs "$SECS" ;;
			k200w8slow) gen "$who" relay --pairs 200 --window 8 --secs "$SECS" \
				--read-rate "$READ_RATE" ;;
			latency) gen "$who" latency --pairs 50 --rate "$RATE" --secs "$SECS" ;;
			logins) gen "$who" logins --conc "$CONC" --secs "$SECS" ;;
			*) echo "ab.sh: unknown mode $m" >&2; exit 2 ;;
			esac
		done
	done
done
echo "== load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== medians of $ROUNDS"
if [ "$MODES" = logins ]; then
	summary new_per_s returning_per_s server_us_new server_us_returning \
		server_cpu_new server_cpu_returning gen_cpu
else
	summary delivered_per_s acked_per_s receipts_per_s server_us_per_msg \
		store_backlog_end stored_after ack_p50 ack_p99 deliv_p50 deliv_p99
fi
