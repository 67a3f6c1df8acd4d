#!/bin/bash
# bench_intake.sh [SECONDS] [WORKERS]: fake cases a minute one attacker
# opens (bench_intake.c: a new client account and a high-urgency case
# request each, on WORKERS processes, 2 by default: a 2-core attacker),
# before (pow-bits 0) and after (the defaults: 20 bits, one more for each
# 30 intakes a minute, at most 24). The server runs on the same machine.
# Prints figures; asserts nothing. Build first (build/).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD:-$here/build}
secs=${1:-60}
workers=${2:-2}
tmp=$(mktemp -d)
pid=
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

run() {	# LABEL SERVER-ARGS...
	local label=$1 port
	shift
	rm -rf "$tmp/data" "$tmp/out"
	"$bin/server/offramp-server" --data "$tmp/data" --port 0 \
		--log-level warn "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 100); do
		port=$(sed -n 's/^offramp-server: listening on port \([0-9]*\).*/\1/p' "$tmp/out" 2>/dev/null || true)
		[ -z "$port" ] || break
		sleep 0.1
	done
	printf '%-34s ' "$label:"
	"$bin/bench/bench_intake" "ws://127.0.0.1:$port" "$secs" "$workers"
	echo "  waiting cases in the store: $(sqlite3 "$tmp/data/offramp.db" \
		'SELECT count(*) FROM cases WHERE status = 1')"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

run "before (no proof of work)" --pow-bits 0
run "after (the defaults)"
