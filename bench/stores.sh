#!/usr/bin/env bash
# stores.sh: the same relay load and logins against one node on SQLite,
# one node on PostgreSQL and two nodes on one PostgreSQL database, side
# by side, interleaved and repeated (issue 15), and one table per mode.
# Figures only: it asserts nothing about time.
#
#   bench/stores.sh [ROUNDS]      (default 3: medians of 3; about 4
#                                  minutes on a busy 2-core machine)
#
# Builds offramp-server (with -DOFFRAMP_POSTGRES=ON) and offramp-loadgen
# in BUILD (default build/ of the repository, Release: the binary that
# ships), starts two throwaway PostgreSQL clusters with
# tests/tools/pg.sh (a Unix socket in a temporary directory, fsync and
# synchronous_commit on), one for each PostgreSQL side, and three sides
# with bench/side.sh, as bench/ab.sh does:
#   sqlite   one offramp-server, its store in its data directory
#   pg       one offramp-server on the first cluster
#   pg2      two offramp-servers on the second cluster's database; each
#            pair's client logs in to the first node, its counsellor (the
#            recipient) to the second (offramp-loadgen --port2), and the
#            logins go to both in turn
# The modes (MODES, default "k50w1 k200w8 latency logins"; see ab.sh and
# loadgen.c): relay saturation at K=50, W=1 and K=200, W=8, the fixed
# rate (RATE msg/s, default 300, at K=50), and logins (CONC at a time,
# default 32), SECS seconds each (default 2, after 1 s). Each table gives, per
# side, the medians of: messages per second delivered and acked,
# send-to-ack and send-to-delivery p50 / p99 (ms), the server's CPU
# (the two nodes' summed) and PostgreSQL's (its processes' CPU time over
# the measured seconds, from /proc), each also per message acked, and the
# copies left in the store once the generator has stopped (counted in the
# database: sqlite3, psql). Data directories and clusters are under
# TMPDIR (default /tmp): a disk, not tmpfs. Traffic stays on 127.0.0.1
# and Unix sockets. Run as root, the clusters run as the postgres user.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
ROUNDS=${1:-3}
RATE=${RATE:-300}
CONC=${CONC:-32}
SECS=${SECS:-2}
MODES=${MODES:-k50w1 k200w8 latency logins}
READ_RATE=${READ_RATE:-4}
PG_SH=$REPO/tests/tools/pg.sh
START=$SECONDS

echo "== building offramp-server and offramp-loadgen in $BUILD"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
	-DOFFRAMP_POSTGRES=ON >/dev/null
cmake --build "$BUILD" -j2 --target offramp-server offramp-loadgen >/dev/null

GEN=$BUILD/bench/offramp-loadgen
T=$(mktemp -d "${TMPDIR:-/tmp}/offramp-stores.XXXXXX")
# shellcheck source=bench/side.sh
source "$REPO/bench/side.sh"

cleanup() {
	local f
	side_stop
	for f in "$T"/pg*.out; do
		[ ! -s "$f" ] || bash "$PG_SH" stop "$(sed -n 1p "$f")" || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

# pg_cluster N: starts a new cluster in the background (pg.sh prints its
# directory, then its URL, to T/pgN.out); pg_wait N waits for it and sets
# PG_URL and PG_PID (its postmaster), or exits.
declare -A PG_JOB
pg_cluster() {
	bash "$PG_SH" start >"$T/pg$1.out" &
	PG_JOB[$1]=$!
}
pg_wait() {
	wait "${PG_JOB[$1]}" || { echo "stores.sh: PostgreSQL did not start" >&2; exit 1; }
	PG_URL=$(sed -n 2p "$T/pg$1.out")
	PG_PID=$(head -n1 "$(sed -n 1p "$T/pg$1.out")/data/postmaster.pid")
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $(nproc) cores, load $LOAD0; $ROUNDS rounds of: $MODES ($SECS s each)"
pg_cluster 1
pg_cluster 2
side_start sqlite "$BUILD"
pg_wait 1
side_start pg "$BUILD" "$PG_URL" 1 "$PG_PID"
pg_wait 2
side_start pg2 "$BUILD" "$PG_URL" 2 "$PG_PID"
echo "== started; $((SECONDS - START)) s"
side_setups sqlite pg pg2
echo "== sqlite: port ${PORT[sqlite]}; pg: port ${PORT[pg]}; pg2: ports" \
	"${PORT[pg2]} and ${PORT2[pg2]}; $((SECONDS - START)) s"
side_rounds "$ROUNDS" sqlite pg pg2
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

SIDES=(sqlite pg pg2)
declare -A LABEL=([sqlite]="SQLite, 1 node" [pg]="PostgreSQL, 1 node"
	[pg2]="PostgreSQL, 2 nodes")

# relay_table TITLE FILTER...: the table of one relay mode.
relay_table() {
	local title=$1 s
	shift
	local f=("$@")
	echo
	echo "$title: medians of $ROUNDS rounds of $SECS s"
	echo
	echo "| store | msg/s delivered | msg/s acked | send-to-ack p50 / p99 ms |" \
		"send-to-delivery p50 / p99 ms | server CPU | PostgreSQL CPU |" \
		"server µs per msg acked | PostgreSQL µs per msg acked |" \
		"copies in the store after |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for s in "${SIDES[@]}"; do
		m() { side_median "$s" "$1" "${f[@]}"; }
		echo "| ${LABEL[$s]} | $(m delivered_per_s) | $(m acked_per_s) |" \
			"$(m ack_p50) / $(m ack_p99) |" \
			"$(m deliv_p50) / $(m deliv_p99) |" \
			"$(m server_cpu) | $(m pg_cpu) |" \
			"$(m server_us_per_ack) | $(m pg_us_per_ack) |" \
			"$(m stored_after) |"
	done
}

echo
echo "== load at the start $LOAD0, at the end $LOAD1; $((SECONDS - START)) s"
for m in $MODES; do
	case $m in
	k50w1) relay_table "Relay saturation, K=50 pairs, window W=1" \
		mode=relay pairs=50 window=1 read_rate=0 ;;
	k200w8) relay_table "Relay saturation, K=200 pairs, window W=8" \
		mode=relay pairs=200 window=8 read_rate=0 ;;
	k200w8slow) relay_table "K=200, W=8, recipients acking $READ_RATE copies a second" \
		mode=relay pairs=200 window=8 "read_rate=$READ_RATE" ;;
	latency) relay_table "Fixed rate, K=50 pairs at $RATE msg/s" \
		mode=latency ;;
	logins)
		echo
		echo "Logins, $CONC at a time: medians of $ROUNDS rounds of $SECS s"
		echo
		echo "| store | new accounts per s | returning per s |" \
			"server µs per login, new / returning |" \
			"PostgreSQL µs per login, new / returning |" \
			"server CPU, new / returning | PostgreSQL CPU, new / returning |"
		echo "|---|---|---|---|---|---|---|"
		for s in "${SIDES[@]}"; do
			m() { side_median "$s" "$1" mode=logins; }
			echo "| ${LABEL[$s]} | $(m new_per_s) | $(m returning_per_s) |" \
				"$(m server_us_new) / $(m server_us_returning) |" \
				"$(m pg_us_new) / $(m pg_us_returning) |" \
				"$(m server_cpu_new) / $(m server_cpu_returning) |" \
				"$(m pg_cpu_new) / $(m pg_cpu_returning) |"
		done
		;;
	esac
done
echo
echo "Generator CPU, share of one core: at most $(sed -n 's/.* gen_cpu=\([^ ]*\).*/\1/p' \
	"$T/res" | sort -g | tail -n1)"
echo "Errors seen by the generator, over every run:" "$(for s in "${SIDES[@]}"; do
	printf '%s %s\n' "$s" "$(sed -n "s/^$s .* errors=\([^ ]*\).*/\1/p" "$T/res" |
		awk '{ n += $1 } END { print n + 0 }')"; done | paste -sd, | sed 's/,/, /g')"
[ ! -s "$T/gen.err" ] || { echo "---- generator stderr (first 20 lines)"; head -n 20 "$T/gen.err"; }
echo "== $((SECONDS - START)) s"
