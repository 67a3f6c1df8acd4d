#!/usr/bin/env bash
# run.sh: builds the fuzz targets of tests/fuzz/ as libFuzzer binaries
# (clang, -DOFFRAMP_FUZZ=ON, ASan + UBSan) in ./build-fuzz and runs each,
# one after the other, for SECONDS (default 60) on a copy of its corpus
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
# uses its own).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
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

start=$(date +%s)
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DOFFRAMP_FUZZ=ON >/dev/null
targets=()
for n in "${names[@]}"; do
	targets+=("fuzz_$n")
done
cmake --build "$build" -j2 --target "${targets[@]}" -- --no-print-directory \
	>"$build/build.log" 2>&1 || { cat "$build/build.log"; exit 1; }
echo "== built ${#targets[@]} targets in $(($(date +%s) - start)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/offramp-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
summary=()
for n in "${names[@]}"; do
	mkdir -p "$work/$n" "$build/artifacts/$n"
	cp "$root/tests/fuzz/corpus/$n/"* "$work/$n/"
	if [ -d "$root/tests/fuzz/regressions/$n" ]; then
		find "$root/tests/fuzz/regressions/$n" -maxdepth 1 -type f \
			! -name '.*' -exec cp {} "$work/$n/" \;
	fi
	echo "== fuzz_$n: $secs s"
	set +e
	# shellcheck disable=SC2086
	"$build/tests/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$n/" ${FUZZ_ARGS:-} \
		"$work/$n" >"$work/$n.log" 2>&1
	rc=$?
	set -e
	# The last status line: "#N DONE cov: C ft: F corp: K/S ... exec/s: E"
	line=$(grep -E '^#[0-9]+' "$work/$n.log" | tail -n1 || true)
	runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
	corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$line")
	eps=$(grep -E '^stat::average_exec_per_sec:' "$work/$n.log" |
		awk '{print $2}' || true)
	if [ "$rc" -ne 0 ]; then
		status=1
		echo "!! fuzz_$n FAILED (exit $rc):"
		grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written|runtime error' \
			"$work/$n.log" | head -n 20 || tail -n 40 "$work/$n.log"
		summary+=("$(printf '%-8s FAILED  see %s' "$n" "$build/artifacts/$n/")")
	else
		summary+=("$(printf '%-8s ok      %8s runs  %6s execs/s  cov %5s  ft %5s  corpus %s' \
			"$n" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
	fi
done

echo
echo "== summary ($secs s a target)"
printf '%s\n' "${summary[@]}"
exit "$status"
