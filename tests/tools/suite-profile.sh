#!/usr/bin/env bash
# suite-profile.sh: what each integration test costs, one test at a time,
# against a build directory: wall seconds, CPU seconds (user + system, of
# the test and every process it waited for) and the number of processes
# it started (it runs in a PID namespace of its own, whose last pid is
# that count; needs root or unprivileged user namespaces). On a shared,
# busy machine the CPU seconds and the process counts are the figures to
# trust; wall time varies with the load.
#
#   bash tests/tools/suite-profile.sh [--pg] [BUILD_DIR [TEST_NAME...]] >table
#
# --pg: each test on PostgreSQL, on a database of its own in one cluster
# for the whole run (tests/tools/pg.sh share and in, as ctest's
# integration-pg/* entries run); the cluster's own CPU is not counted.
# BUILD_DIR defaults to ./build-asan (the sanitized build, as tests/run.sh
# runs the integration tests); TEST_NAME (e.g. test_e2e) defaults to every
# tests/integration/test_*.sh. Prints one line a test: name, exit status,
# wall, user, sys, user+sys, processes; then the totals.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pg=0
if [ "${1:-}" = --pg ]; then
	pg=1
	shift
fi
build=$(cd "${1:-$root/build-asan}" && pwd)
[ $# -eq 0 ] || shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$root"/tests/integration/test_*.sh; do
		names+=("$(basename "$f" .sh)")
	done
fi

export OFFRAMP_BUILD_DIR=$build
export OFFRAMP_SERVER_BIN=$build/server/offramp-server
export OFFRAMP_CLI_BIN=$build/client-cli/offramp
export OFFRAMP_FORGE_BIN=$build/tests/forge_cert
export OFFRAMP_SEED_SCAN_BIN=$build/tests/seed_scan
for t in "$build"/tests/*; do
	# the other test tools, by their variable name (tool_x: OFFRAMP_TOOL_X_BIN)
	[ -x "$t" ] && [ -f "$t" ] || continue
	n=$(basename "$t")
	case $n in test_* | *.*) continue ;; esac
	v=$(tr 'a-z-' 'A-Z_' <<<"$n")
	export "OFFRAMP_${v}_BIN=$t"
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

log=$(mktemp -d "${TMPDIR:-/tmp}/suite-profile.XXXXXX")
trap 'rm -rf "$log"' EXIT
run=(bash)
if [ "$pg" -eq 1 ]; then
	trap 'bash "$root/tests/tools/pg.sh" unshare "$log/pg"; rm -rf "$log"' EXIT
	bash "$root/tests/tools/pg.sh" share "$log/pg" >/dev/null
	run=(bash "$root/tests/tools/pg.sh" in "$log/pg" bash)
fi
printf '%-24s %3s %7s %7s %7s %7s %6s\n' test rc wall user sys cpu procs
tw=0 tc=0 tp=0
for n in "${names[@]}"; do
	rc=0
	unshare --pid --fork --mount-proc /usr/bin/time -o "$log/time" -f '%e %U %S' \
		bash -c '"${@:4}" "$1" >"$2" 2>&1; rc=$?; cat /proc/sys/kernel/ns_last_pid >"$3"; exit $rc' \
		_ "$root/tests/integration/$n.sh" "$log/$n.out" "$log/pids" "${run[@]}" || rc=$?
	# (time(1) writes "Command exited with non-zero status N" first)
	read -r wall user sys < <(tail -n1 "$log/time")
	procs=$(cat "$log/pids")
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	printf '%-24s %3s %7s %7s %7s %7s %6s\n' "$n" "$rc" "$wall" "$user" "$sys" "$cpu" "$procs"
	[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || tail -n 30 "$log/$n.out" | sed 's/^/    | /' >&2
	tw=$(awk -v a="$tw" -v b="$wall" 'BEGIN { print a + b }')
	tc=$(awk -v a="$tc" -v b="$cpu" 'BEGIN { print a + b }')
	tp=$((tp + procs))
done
printf '%-24s %3s %7s %7s %7s %7s %6s\n' total "" "$tw" "" "" "$tc" "$tp"
