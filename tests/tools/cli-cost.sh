#!/usr/bin/env bash
# cli-cost.sh: the CPU time and page faults of one one-shot CLI command
# (as lib.sh's cli runs it) against a real server on loopback, under
# several environments, measured by perf stat in alternating rounds (a busy
# machine slows every variant alike). Prints, per variant, the median and
# mean task-clock (ms) and page faults.
#
#   bash tests/tools/cli-cost.sh [BUILD_DIR [ROUNDS [VARIANT...]]]
#
# BUILD_DIR defaults to ./build-asan (its server, its CLI); ROUNDS to 20.
# A VARIANT is a list of words: NAME=VALUE sets that variable for the
# command (ASAN_OPTIONS=..., UBSAN_OPTIONS=...), CLI=PATH runs another
# build's CLI. The default variants are lib.sh's one-shot settings and the
# full settings of tests/run.sh. CMD (default "login") is the command, run
# as a client whose account and prekeys exist already.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build-asan}" && pwd)
rounds=${2:-20}
shift $(($# < 2 ? $# : 2))
variants=("$@")
run_asan="detect_leaks=1"
run_ubsan="halt_on_error=1:print_stacktrace=1"
if [ ${#variants[@]} -eq 0 ]; then
	variants=("ASAN_OPTIONS=$run_asan:detect_leaks=0:malloc_context_size=0 UBSAN_OPTIONS=$run_ubsan"
		"ASAN_OPTIONS=$run_asan UBSAN_OPTIONS=$run_ubsan")
fi

export OFFRAMP_SERVER_BIN=$build/server/offramp-server
export OFFRAMP_CLI_BIN=$build/client-cli/offramp
export OFFRAMP_KEYGEN_BATCH_BIN=$build/tests/keygen_batch
export OFFRAMP_FORGE_BIN=$build/tests/forge_cert
export ASAN_OPTIONS=$run_asan UBSAN_OPTIONS=$run_ubsan
command -v perf >/dev/null || { echo "cli-cost.sh: needs perf (linux-perf)" >&2; exit 2; }

# lib.sh's server, identities and exit trap (which stops the server);
# its reports go to stderr, the table alone to stdout
# shellcheck source=tests/integration/lib.sh
source "$root/tests/integration/lib.sh" >&2
{
	start_server
	COUNS_DAEMON=0 setup_pool
	keygen client
	cli client login >/dev/null
} >&2

# one_run I: one perf-measured command of variant I; appends "ms faults"
# to $T/vI
one_run() {
	local i=$1 words=() envs=() w bin=$OFFRAMP_CLI_BIN
	read -r -a words <<<"${variants[$i]}"
	for w in "${words[@]}"; do
		case $w in
		CLI=*) bin=${w#CLI=} ;;
		*) envs+=("$w") ;;
		esac
	done
	# shellcheck disable=SC2086
	env "${envs[@]}" OFFRAMP_TRUST_FILE="$IDS/trust" OFFRAMP_PASSPHRASE=pass-client \
		perf stat -x, -e task-clock,page-faults -o "$T/perf" -- \
		"$bin" --server "wss://127.0.0.1:$PORT" --ca "$CERT" --key "$IDS/client.key" \
		--timeout 20 ${CMD:-login} >/dev/null 2>"$T/err" ||
		{ echo "variant $i failed: $(head -c 300 "$T/err")" >&2; return 1; }
	awk -F, '$3 ~ /^task-clock/ { ms = $1 } $3 ~ /^page-faults/ { pf = $1 }
		END { print ms, pf }' "$T/perf" >>"$T/v$i"
}

for ((r = 0; r < rounds; r++)); do
	for i in "${!variants[@]}"; do
		one_run "$i"
	done
done

printf '%8s %8s %8s %8s  %s\n' med_ms mean_ms med_pf mean_pf variant
for i in "${!variants[@]}"; do
	read -r mm am < <(sort -n -k1,1 "$T/v$i" | awk '{ v[NR] = $1; s += $1 }
		END { printf "%.1f %.1f\n", v[int((NR + 1) / 2)], s / NR }')
	read -r mp ap < <(sort -n -k2,2 "$T/v$i" | awk '{ v[NR] = $2; s += $2 }
		END { printf "%d %.0f\n", v[int((NR + 1) / 2)], s / NR }')
	printf '%8s %8s %8s %8s  %s\n' "$mm" "$am" "$mp" "$ap" "${variants[$i]}"
done
# shellcheck disable=SC2034 # (lib.sh's exit trap: a run that finished)
FINISHED=1
