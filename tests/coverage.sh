#!/usr/bin/env bash
# coverage.sh: line coverage of the C code by the unit and integration
# tests. Builds ./build-cov with -DOFFRAMP_COVERAGE=ON (gcc --coverage),
# runs ctest there, then asks gcov for each source file of proto/,
# server/ and client-cli/ and prints one line per file and the total:
#   PERCENT  LINES-RUN/LINES  FILE
# Needs only gcc's own gcov. Exits non-zero when the build or a test fails
# (the figures are printed all the same).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bdir=build-cov

cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Debug -DOFFRAMP_COVERAGE=ON >/dev/null
cmake --build "$bdir" -j2 >/dev/null
# Counts from an earlier run would add up; start from zero.
find "$bdir" -name '*.gcda' -delete
rc=0
(cd "$bdir" && ctest -j2 --output-on-failure "$@") >"$bdir/coverage-ctest.log" 2>&1 || rc=$?
grep -E '^[0-9]+% tests passed' "$bdir/coverage-ctest.log" || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/offramp-cov.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# gcov -n prints, for each source it was given:
#   File '/path/x.c'
#   Lines executed:82.35% of 340
# An object never run has no .gcda: its lines count as not executed.
printf '%7s  %11s  %s\n' "lines" "run/all" "file"
total_run=0
total_all=0
for dir in proto server client-cli; do
	for gcno in $(find "$bdir/$dir" -name '*.c.gcno' | sort); do
		src=$(basename "$gcno" .gcno)
		[ -f "$dir/$src" ] || continue
		out=$(cd "$tmp" && gcov -n -o "$root/$gcno" "$root/$dir/$src" 2>/dev/null |
			awk -v f="$root/$dir/$src" '
				/^File / { want = (index($0, f) > 0) }
				want && /^Lines executed:/ {
					sub(/^Lines executed:/, ""); print; exit }')
		if [ -z "$out" ]; then
			printf '%7s  %11s  %s\n' "-" "no data" "$dir/$src"
			continue
		fi
		pct=${out%%%*}
		all=${out##* of }
		run=$(awk -v p="$pct" -v a="$all" 'BEGIN { printf "%d", p * a / 100 + 0.5 }')
		total_run=$((total_run + run))
		total_all=$((total_all + all))
		printf '%6.1f%%  %5d/%-5d  %s\n' "$pct" "$run" "$all" "$dir/$src"
	done
done
awk -v r="$total_run" -v a="$total_all" \
	'BEGIN { printf "%6.1f%%  %5d/%-5d  total\n", a ? 100 * r / a : 0, r, a }'
exit "$rc"
