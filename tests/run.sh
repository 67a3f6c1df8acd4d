#!/usr/bin/env bash
# run.sh: the whole test suite. Installs the dependencies (Debian packages,
# chromium, the web client's npm packages with npm ci), builds the web
# client, ./build (Release, as deploy/run.sh builds it: -O3 warns where
# -O2 does not, and -Werror makes that an error; and the PostgreSQL store
# of OFFRAMP_POSTGRES) and ./build-asan (Debug, AddressSanitizer + UndefinedBehaviorSanitizer,
# the store's fault injection of OFFRAMP_FAULTS for test_inject, and the
# PostgreSQL store), runs ctest in both, prints both summaries, and exits
# non-zero if either run failed. ctest labels (tests/CMakeLists.txt) say
# where a test runs:
# - the unit tests and the fuzz corpora's replays run in both;
# - the integration tests run on both stores. On SQLite (integration/*)
#   sanitized ("asan-only"), but for those about the release build itself
#   (the README's walk-through, kill -9 durability), which run in both, and
#   the package, made of the release build ("once"): ASan+UBSan at -O1 finds what the release build would and more,
#   and a test of the shell's thousands of processes run twice did not fit
#   the ten minutes. On PostgreSQL (integration-pg/*) in the release build
#   ("once"), but for two that cover much of store_pg.c (the relay, kill
#   -9 durability), which run sanitized instead: both stores under the
#   sanitizers did not fit the ten minutes.
#   Every integration test runs on both stores (a clean clone's run took
#   327 s so beside a busy loop, on the VM of 2026-12-07; on an earlier,
#   slower one 491 to 555 s quiet and up to 674 s busy, once the tests'
#   own processes were cut, when the PostgreSQL runs of the longer tests
#   were left to OFFRAMP_PG_ALL=1; tests/CMakeLists.txt has the figures).
#   The PostgreSQL runs of a ctest run share one cluster (the fixture
#   pg/cluster-start .. pg/cluster-stop, tests/tools/pg.sh share: its
#   files and its Unix socket in /dev/shm, no TCP, no system service), each
#   test on a database of its own; the tests of SQLite's own files skip
#   there (exit status 77, their reason printed);
# - unit/test_store_pg and the tests that stop or kill PostgreSQL under the
#   server, or run a standby or two nodes (test_pg_lost, test_pg_crash,
#   test_failover, test_nodes*, test_pg_stall) each start a throwaway
#   cluster of their own (pg.sh start/run): the unit test in both builds,
#   test_pg_lost and test_nodes sanitized, the others in the release build;
# - "static" tests run no binary of the build (the web client's
#   JavaScript tests, the module graph): ./build only;
# - "once": ./build only, the release server and CLI: web/interop (the
#   web client's JavaScript against the C programs), test_crash_scale
#   (50 kill -9 rounds under load: the binary that ships, and too slow
#   sanitized), test_loop_timers (the loop's timers under the load of
#   bench/offramp-loadgen, which only this build has) and
#   integration-pg/* but the two above;
# - "browser" tests (Chromium): ./build-asan only, the sanitizers watching
#   the server they drive;
# - "live" (fuzz/short, a minute of live fuzzing a target, two at a time,
#   in the idle scheduling class: tests/fuzz/CMakeLists.txt): ./build
#   only, first of its ctest.
# Under the sanitizers, lib.sh's one-shot CLI commands skip the leak scan
# at exit and keep no stack of each allocation (every bad access is still
# caught; the server, the daemons and the unit tests keep both), and the
# integration tests about the server, and the browser tests' set-up and
# admin commands, drive it with ./build's CLI (OFFRAMP_CLI_DRIVER_BIN; and
# ./build's keygen_batch, OFFRAMP_KEYGEN_DRIVER_BIN, and its
# cli_zygote, OFFRAMP_CLI_ZYGOTE_DRIVER_BIN, which runs the one-shot
# commands, lib.sh's cli): the sanitizers
# watch the server, and those about the CLI (CLI_SANITIZED=1: its crypto,
# files and commands), the browser tests' commands that read what the
# page wrote, every daemon, chat and inbox, and the CLI's unit tests and
# fuzzers run it sanitized.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

jobs=2
# Most tests wait on sockets, processes and a browser more than they
# compute, so one more runs at a time than there are cores; in the
# release build, which runs beside the sanitized one, two more: its
# PostgreSQL runs used three quarters of a core of the two at -j4 (user +
# sys of the tests' processes over wall time, 290 s over 385 s; the
# cluster's own besides).
test_jobs=3
normal_jobs=4
normal_skip='browser|asan-only'
logdir=$(mktemp -d "${TMPDIR:-/tmp}/offramp-tests.XXXXXX")
# The PostgreSQL clusters of the run are copies of one initdb
# (tests/tools/pg.sh); the cluster's owner, postgres as root, must reach
# the directory.
OFFRAMP_PG_TEMPLATE=$(mktemp -d "${TMPDIR:-/tmp}/offramp-pg-template.XXXXXX")
chmod 0711 "$OFFRAMP_PG_TEMPLATE"
export OFFRAMP_PG_TEMPLATE
trap 'rm -rf "$logdir" "$OFFRAMP_PG_TEMPLATE"' EXIT

bash deploy/install-deps.sh --test
bash deploy/build-web.sh

# A new build directory is made for Ninja: make's build runs cmake
# itself for each target's steps (677 cmake processes for both builds, a
# sixth of the compile's CPU: a clean Release build took 59 CPU s with
# make, 50 with Ninja). One that exists keeps its generator (cmake
# refuses to change it); cmake --build drives either.
gen() {
	[ -f "$1/CMakeCache.txt" ] || echo "-G Ninja"
}

echo "== build: ./build (Release, the PostgreSQL store), at $SECONDS s"
# shellcheck disable=SC2046
cmake $(gen build) -S . -B build -DCMAKE_BUILD_TYPE=Release -DOFFRAMP_POSTGRES=ON \
	>/dev/null
cmake --build build -j"$jobs"

echo "== build: ./build-asan (Debug, ASan + UBSan, fault injection, the PostgreSQL store), at $SECONDS s"
# shellcheck disable=SC2046
cmake $(gen build-asan) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DOFFRAMP_SANITIZE=ON -DOFFRAMP_FAULTS=ON \
	-DOFFRAMP_POSTGRES=ON >/dev/null
cmake --build build-asan -j"$jobs"


# LeakSanitizer needs to stop the process to scan it (ptrace-like); some
# sandboxes forbid that and LSan then dies with a fatal error instead of
# reporting. Find out with a program that leaks on purpose, and say plainly
# when leaks cannot be checked.
leaks=1
leak_note="LeakSanitizer works here: leaks are checked (detect_leaks=1)"
printf '#include <stdlib.h>\nint main(void) { void *volatile p = malloc(33); p = 0; (void)p; return 0; }\n' \
	>"$logdir/leak.c"
if cc -fsanitize=address -g "$logdir/leak.c" -o "$logdir/leak" 2>"$logdir/leak.cc"; then
	ASAN_OPTIONS=detect_leaks=1 "$logdir/leak" >"$logdir/leak.out" 2>&1 || true
	if ! grep -q 'LeakSanitizer: detected memory leaks' "$logdir/leak.out"; then
		leaks=0
		leak_note="WARNING: LeakSanitizer cannot run here ($(grep -m1 -i -E 'leaksanitizer|ptrace|error' "$logdir/leak.out" || echo 'no report from a program that leaks')); leaks are NOT checked in this run (detect_leaks=0)"
	fi
else
	leaks=0
	leak_note="WARNING: cannot build a sanitized probe program ($(head -n1 "$logdir/leak.cc")); leaks are NOT checked"
fi
echo "== $leak_note"

status=0

# The two runs go side by side: the release build's tests mostly wait
# (its PostgreSQL runs used well under one core of the two), and the
# sanitized ones fill the rest. The release run's output follows the
# sanitized run's.
echo "== ctest: ./build and ./build-asan, side by side, at $SECONDS s"
set +e
(cd build && ctest --output-on-failure --no-tests=error -j"$normal_jobs" -LE "$normal_skip"
	rc=$?; echo "$SECONDS" >"$logdir/normal.end"; exit "$rc") \
	>"$logdir/normal.log" 2>&1 &
normal_pid=$!
(cd build-asan && \
	ASAN_OPTIONS="detect_leaks=$leaks" \
	UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
	OFFRAMP_CLI_DRIVER_BIN="$root/build/client-cli/offramp" \
	OFFRAMP_KEYGEN_DRIVER_BIN="$root/build/tests/keygen_batch" \
	OFFRAMP_CLI_ZYGOTE_DRIVER_BIN="$root/build/tests/cli_zygote" \
	ctest --output-on-failure --no-tests=error -j"$test_jobs" -LE 'static|once') 2>&1 | tee "$logdir/asan.log"
rc_asan=${PIPESTATUS[0]}
asan_end=$SECONDS
wait "$normal_pid"
rc_normal=$?
normal_end=$(cat "$logdir/normal.end" 2>/dev/null || echo "?")
echo "== ctest: ./build"
cat "$logdir/normal.log"
set -e

[ "$rc_normal" -eq 0 ] || status=1
[ "$rc_asan" -eq 0 ] || status=1

# "N% tests passed, M tests failed out of T" of one log; "0 0" when absent.
counts() {
	local line
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n1 || true)
	if [ -z "$line" ]; then
		echo "0 1"
		return
	fi
	local failed total
	failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
	total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
	echo "$((total - failed)) $failed"
}

echo
echo "== summary"
echo "$leak_note"
for run in normal asan; do
	echo "-- $run (exit $( [ $run = normal ] && echo "$rc_normal" || echo "$rc_asan" )):"
	grep -E '^[0-9]+% tests passed|^The following tests FAILED|^[[:space:]]+[0-9]+ - ' \
		"$logdir/$run.log" || echo "   (no ctest summary: ctest did not run)"
done
read -r p1 f1 < <(counts "$logdir/normal.log")
read -r p2 f2 < <(counts "$logdir/asan.log")
echo "tests: $((p1 + p2)) passed, $((f1 + f2)) failed"
echo "the run took $SECONDS s (the sanitized ctest ended at $asan_end s, the release one at $normal_end s)"
exit "$status"
