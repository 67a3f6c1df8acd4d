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
# login (server_us_*: on a busy machine steadier than the rates). IDLE=N:
# the relay and latency modes hold N more connections meanwhile, logged
# in and silent (new client accounts each run). The data directories are
# under TMPDIR (default /tmp): a disk, not tmpfs, for figures that mean
# anything. Traffic stays on 127.0.0.1. Servers are started and measured
# by bench/side.sh, as bench/stores.sh does.
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
# shellcheck source=bench/side.sh
source "$(dirname "${BASH_SOURCE[0]}")/side.sh"

cleanup() {
	side_stop
	rm -rf "$T"
}
trap cleanup EXIT

side_start A "$A"
side_start B "$B"
side_setups A B
echo "== A: $A (port ${PORT[A]}), B: $B (port ${PORT[B]}); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
side_rounds "$ROUNDS" A B
echo "== load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== medians of $ROUNDS"
if [ "$MODES" = logins ]; then
	side_summary new_per_s returning_per_s server_us_new server_us_returning \
		server_cpu_new server_cpu_returning gen_cpu
else
	side_summary delivered_per_s acked_per_s receipts_per_s server_us_per_msg \
		store_backlog_end stored_after ack_p50 ack_p99 deliv_p50 deliv_p99
fi
