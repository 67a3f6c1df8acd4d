#!/usr/bin/env bash
# run.sh: builds the fuzz targets of tests/fuzz/ as libFuzzer binaries
# (clang, -DOFFRAMP_FUZZ=ON, ASan + UBSan) in ./build-fuzz and runs each
# (FUZZ_JOBS at a time, one by default) for SECONDS (default 60) on a copy of its corpus
# and regressions (the committed corpus stays as it is). Prints each
# target's execs/s, coverage and corpus size, and exits non-zero when one
# crashed, leaked, timed out or broke a FUZZ_CHECK; the input that did it
# is kept in <build>/artifacts/<name>/. A crash found is fixed and its
# input goes to tests/fuzz/regressions/<name>/, which ctest replays.
#
# usage: tests/fuzz/run.sh [SECONDS [NAME...]]
#   e.g. tests/fuzz/run.sh 3600 keyfile    (a long run of one target)
# Environment: FUZZ_ARGS, more libFuzzer flags (e.g. "-jobs=2 -workers=2");
# FUZZ_BUILD, the build directory (default ./build-fuzz; ctest fuzz/short
# uses its own); FUZZ_JOBS, how many targets fuzz at a time (default 1);
# FUZZ_IDLE=1, the suite's way: the fuzzing in the idle scheduling class
# (chrt --idle), so that the minute of each target takes only the CPU
# that the tests beside it leave (SECONDS are wall seconds, as
# libFuzzer's -max_total_time counts them; the summary says how many CPU
# seconds each target had). The build runs as the tests do: at nice 19
# it took 413 s of a suite on a machine with no idle CPU. The summary is
# also written to <build>/summary.txt.
#   tests/fuzz/run.sh --build    builds the targets only
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
only_build=0
if [ "${1:-}" = --build ]; then
	only_build=1
	shift
fi
secs=${1:-60}
shift || true
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	names=(frame ws_rx wsguard bundle cert ratchet keyfile envelope)
fi
build=${FUZZ_BUILD:-$root/build-fuzz}

if ! command -v clang >/dev/null; then
	echo "run.sh: clang is needed (apt-get install clang)" >&2
	exit 2
fi
# clang without libFuzzer's runtime (Debian's libclang-rt-14-dev): the
# run is skipped (exit 77, ctest's SKIP_RETURN_CODE), saying why
# (a one-line target linked in a directory of its own)
linkdir=$(mktemp -d "${TMPDIR:-/tmp}/offramp-fuzz-link.XXXXXX")
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$linkdir/t.c"
if ! clang -fsanitize=fuzzer "$linkdir/t.c" -o "$linkdir/t" 2>"$linkdir/err"; then
	echo "run.sh: skipped: clang cannot link libFuzzer ($(head -n1 "$linkdir/err")); apt-get install libclang-rt-14-dev" >&2
	rm -rf "$linkdir"
	exit 77
fi
rm -rf "$linkdir"

jobs=${FUZZ_JOBS:-1}
idle=()
timeout=10	# libFuzzer's limit on one input, in wall seconds
if [ "${FUZZ_IDLE:-0}" = 1 ]; then
	# starved beside the tests (an idle-class task has a 340th of a
	# normal one's share of a busy core), an input of 0.2 CPU s may take
	# a minute: a hang is still found (or ctest's limit of 600 s ends the
	# test, failed, without its summary)
	timeout=300
	if chrt --idle 0 true 2>/dev/null; then
		idle=(chrt --idle 0)
	else
		idle=(nice -n 19)
	fi
fi

start=$(date +%s)
# Ninja for a new build directory where it is installed (as
# tests/run.sh: make runs cmake for each target's steps); one that exists
# keeps its generator
gen=()
[ -f "$build/CMakeCache.txt" ] || ! command -v ninja >/dev/null || gen=(-G Ninja)
CC=clang cmake "${gen[@]}" -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DOFFRAMP_FUZZ=ON >/dev/null
targets=()
for n in "${names[@]}"; do
	targets+=("fuzz_$n")
done
cmake --build "$build" -j2 --target "${targets[@]}" \
	>"$build/build.log" 2>&1 || { cat "$build/build.log"; exit 1; }
echo "== built ${#targets[@]} targets in $(($(date +%s) - start)) s"
[ "$only_build" = 0 ] || exit 0

work=$(mktemp -d "${TMPDIR:-/tmp}/offramp-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fuzz NAME: one target for $secs wall seconds on a copy of its corpus
# and regressions; its log in $work/NAME.log, its exit status and CPU
# seconds (user + system) in $work/NAME.rc.
fuzz() {
	local n=$1 rc=0 TIMEFORMAT='%U %S'
	mkdir -p "$work/$n" "$build/artifacts/$n"
	cp "$root/tests/fuzz/corpus/$n/"* "$work/$n/"
	if [ -d "$root/tests/fuzz/regressions/$n" ]; then
		find "$root/tests/fuzz/regressions/$n" -maxdepth 1 -type f \
			! -name '.*' -exec cp {} "$work/$n/" \;
	fi
	# shellcheck disable=SC2086
	{ time "${idle[@]}" "$build/tests/fuzz/fuzz_$n" -max_total_time="$secs" \
		-timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$n/" ${FUZZ_ARGS:-} \
		"$work/$n" >"$work/$n.log" 2>&1 || rc=$?; } 2>"$work/$n.time"
	echo "$rc $(awk '{ printf "%.1f", $1 + $2 }' "$work/$n.time")" >"$work/$n.rc"
}

echo "== fuzzing ${#names[@]} targets, $secs s each, $jobs at a time"
running=0
for n in "${names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	fuzz "$n" &
	running=$((running + 1))
done
wait

status=0
summary=()
for n in "${names[@]}"; do
	read -r rc cpu <"$work/$n.rc" || { rc=1 cpu=?; }
	# The last status line: "#N DONE cov: C ft: F corp: K/S ... exec/s: E"
	line=$(grep -E '^#[0-9]+' "$work/$n.log" | tail -n1 || true)
	runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
	corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$line")
	if [ "$rc" -ne 0 ]; then
		status=1
		echo "!! fuzz_$n FAILED (exit $rc):"
		grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written|runtime error' \
			"$work/$n.log" | head -n 20 || tail -n 40 "$work/$n.log"
		summary+=("$(printf '%-8s FAILED  see %s' "$n" "$build/artifacts/$n/")")
	else
		summary+=("$(printf '%-8s ok  %9s runs in %5s CPU s  cov %5s  ft %5s  corpus %s' \
			"$n" "${runs:-?}" "$cpu" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
	fi
done

echo
{
	echo "== fuzz summary ($secs wall seconds a target, $jobs at a time${idle:+, ${idle[*]}})"
	printf '%s\n' "${summary[@]}"
} | tee "$build/summary.txt"
exit "$status"
