# lib.sh: sourced by every tests/integration/test_*.sh. Starts the real
# offramp-server ($OFFRAMP_SERVER_BIN) on a free loopback port with a data
# directory under a per-test temporary directory, drives the real CLI
# ($OFFRAMP_CLI_BIN), and counts assertions. Every wait has a deadline.
#
# A test calls `finish` at its end; it prints "integration: N passed, M
# failed" and exits non-zero on any failure. A test that stops early (a
# command failed under set -e) is reported as failed by the exit trap, which
# also kills every server started and prints their logs.

set -Eeuo pipefail

: "${OFFRAMP_SERVER_BIN:?set OFFRAMP_SERVER_BIN to the offramp-server binary}"
: "${OFFRAMP_CLI_BIN:?set OFFRAMP_CLI_BIN to the offramp binary}"

# (no process: a fork of a shell costs milliseconds of CPU on the 2-core
# VM, and every test runs these)
LIB_DIR=${BASH_SOURCE[0]%/*}
[ "$LIB_DIR" != "${BASH_SOURCE[0]}" ] || LIB_DIR=.
[[ "$LIB_DIR" == /* ]] || LIB_DIR=$PWD/$LIB_DIR
LIB_DIR=${LIB_DIR%/.}
# a path with .. or the like in it: the shell's own resolution, once
[[ "$LIB_DIR" == */tests/integration ]] || LIB_DIR=$(cd "$LIB_DIR" && pwd)
REPO_ROOT=${LIB_DIR%/tests/integration}
TEST_NAME=${0##*/}
TEST_NAME=${TEST_NAME%.sh}

# The CLI must see only what a test gives it.
unset OFFRAMP_SERVER OFFRAMP_CA OFFRAMP_KEY OFFRAMP_PASSPHRASE

# The interpreter of the tests' Python helpers: Debian's (install-deps.sh
# --test installs python3), not the first on PATH, which may be a version
# manager's shim (pyenv's: a dozen shell processes a start, 0.37 CPU s
# against 0.03 on the 2-core VM; some twenty starts a run on one store).
PYTHON3=/usr/bin/python3
[ -x "$PYTHON3" ] || PYTHON3=python3

STORE_URL=${STORE_URL:-${OFFRAMP_STORE_URL:-}}
T=$(mktemp -d "${TMPDIR:-/tmp}/offramp-$TEST_NAME.XXXXXX")
DATA="$T/data"			# the server's data directory
TLS_DIR="$T/tls"		# cert.pem, key.pem for 127.0.0.1
CERT="$TLS_DIR/cert.pem"
CERT_KEY="$TLS_DIR/key.pem"
IDS="$T/id"			# one CLI key file per identity
mkdir -p "$IDS"

PASSED=0
FAILED=0
FINISHED=0
SERVER_PIDS=()			# every server started, for the exit trap
SERVER_LOGS=()
SERVER_COUNT=0
SERVER_PID=""
SERVER_OUT=""
SERVER_ERR=""
PORT=""
TOKEN=""
ABORT_AT=""

echo "== $TEST_NAME (temp dir $T)"

# ---------------------------------------------------------------- reporting

# step TEXT: says what the next assertions check.
step() {
	echo "-- $*"
}

pass() {
	PASSED=$((PASSED + 1))
	echo "   ok   $*"
}

# fail TEXT: records a failed assertion and goes on.
fail() {
	FAILED=$((FAILED + 1))
	echo "   FAIL $*"
}

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1: expected [$2], got [$3]"
	fi
}

# assert_ne DESC UNEXPECTED ACTUAL
assert_ne() {
	if [ "$2" != "$3" ]; then
		pass "$1"
	else
		fail "$1: got [$3], which it must not be"
	fi
}

# assert_contains DESC HAYSTACK NEEDLE (a fixed string)
assert_contains() {
	if [[ "$2" == *"$3"* ]]; then
		pass "$1"
	else
		fail "$1: [$3] not found in:"
		printf '%s\n' "$2" | head -n 40 | sed 's/^/        | /'
	fi
}

# assert_not_contains DESC HAYSTACK NEEDLE (a fixed string)
assert_not_contains() {
	if [[ "$2" != *"$3"* ]]; then
		pass "$1"
	else
		fail "$1: [$3] found in:"
		printf '%s\n' "$2" | head -n 40 | sed 's/^/        | /'
	fi
}

# some_line_matches HAYSTACK ERE: some line of HAYSTACK matches ERE, as
# grep -Eq would say, without a process (bash's =~ anchors ^ and $ at the
# ends of the string: one line at a time).
some_line_matches() {
	local l re=$2
	while IFS= read -r l; do
		[[ "$l" =~ $re ]] && return 0
	done <<<"$1"
	return 1
}

# file_has FILE STRING: FILE exists and holds STRING (a fixed string), as
# grep -qF would say, without a process (for the polls of wait_for).
file_has() {
	local c
	[ -f "$1" ] || return 1
	c=$(<"$1")
	[[ "$c" == *"$2"* ]]
}

# file_matches FILE ERE: some line of FILE matches ERE, as grep -Eq would
# say, without a process.
file_matches() {
	local c
	[ -f "$1" ] || return 1
	c=$(<"$1")
	some_line_matches "$c" "$2"
}

# first_match TEXT ERE: FIRST_MATCH is the first group of ERE in the first
# line of TEXT that matches it (as sed -n 's/ERE.*/\1/p' | head -n1), or "".
first_match() {
	local l re=$2
	FIRST_MATCH=""
	while IFS= read -r l; do
		if [[ "$l" =~ $re ]]; then
			FIRST_MATCH=${BASH_REMATCH[1]}
			return 0
		fi
	done <<<"$1"
	return 1
}

# assert_match DESC HAYSTACK ERE: some line of HAYSTACK matches ERE.
assert_match() {
	if some_line_matches "$2" "$3"; then
		pass "$1"
	else
		fail "$1: no line matches /$3/ in:"
		printf '%s\n' "$2" | head -n 40 | sed 's/^/        | /'
	fi
}

# assert_no_match DESC HAYSTACK ERE: no line of HAYSTACK matches ERE.
assert_no_match() {
	if ! some_line_matches "$2" "$3"; then
		pass "$1"
	else
		fail "$1: a line matches /$3/:"
		printf '%s\n' "$2" | grep -E -- "$3" | head -n 10 | sed 's/^/        | /'
	fi
}

# pg_keys_unlogged: on PostgreSQL, its log holds no refusal by a unique
# or foreign key of the test's database: such an error's DETAIL names
# the key's values (a client's account id, a case's id), and the log
# outlives retention and erasure (PRIVACY.md). The store asks so that
# an expected refusal is no error (ON CONFLICT DO NOTHING, a guard).
pg_keys_unlogged() {
	local dirs db d logs=()
	on_pg || return 0
	# the cluster's directory, or each host of the URL (a primary and
	# its standby: test_failover)
	dirs=${OFFRAMP_PG_DIR:-$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$STORE_URL")}
	db=$(sed -n 's|^postgresql://[^/]*/\([^?]*\).*|\1|p' <<<"$STORE_URL")
	IFS=, read -r -a dirs <<<"$dirs"
	for d in "${dirs[@]}"; do
		[ ! -r "$d/server.log" ] || logs+=("$d/server.log")
	done
	if [ -z "$db" ] || [ "${#logs[@]}" -eq 0 ]; then
		fail "PostgreSQL's log of database ${db:-?} not found (${dirs[*]})"
		return
	fi
	# (a key's refusal, "Key (...)=(...)", and a check's or a not-null's,
	# "Failing row contains (...)": both print values)
	assert_eq "PostgreSQL logged no key of this test's rows" "" \
		"$(cat "${logs[@]}" | grep -F " db=$db " | grep -E 'DETAIL:  (Key \(|Failing row contains)' | head -n 3 || true)"
}

# finish: the summary line; the exit status of the test.
finish() {
	FINISHED=1
	pg_keys_unlogged
	echo "integration: $PASSED passed, $FAILED failed"
	if [ "$FAILED" -ne 0 ] || [ "$PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

_on_err() {
	ABORT_AT="line $1: $2 (exit $3)"
}

_on_exit() {
	local rc=$?
	set +e
	if [ "$FINISHED" -eq 0 ]; then
		echo "   FAIL $TEST_NAME stopped early at ${ABORT_AT:-exit $rc}"
		FAILED=$((FAILED + 1))
	fi
	local pid
	! on_pg || _pg_close
	for pid in "${DAEMON_PIDS[@]}" $ZYGOTE_PID; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${SERVER_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	if [ "$FAILED" -ne 0 ] || [ "$rc" -ne 0 ]; then
		local f
		for f in "${SERVER_LOGS[@]}" "$T"/daemon-*.err; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 150 lines)"
			tail -n 150 "$f"
		done
	fi
	if [ "$FINISHED" -eq 0 ]; then
		echo "integration: $PASSED passed, $FAILED failed"
		[ "$rc" -ne 0 ] || rc=1
	fi
	rm -rf "$T"
	exit "$rc"
}
trap '_on_err "$LINENO" "$BASH_COMMAND" "$?"' ERR
trap _on_exit EXIT

# ------------------------------------------------------------------ waiting

# now_ms: milliseconds since the epoch. _now_ms sets NOW_MS to it, for
# the loops below: no process (EPOCHREALTIME's microseconds, whatever the
# locale's decimal point).
now_ms() {
	_now_ms
	echo "$NOW_MS"
}
_now_ms() {
	NOW_MS=$(( ${EPOCHREALTIME//[!0-9]/} / 1000 ))
}

# nap SECONDS: sleeps, without a process: a read with a timeout on a FIFO
# of this shell's own that nothing ever writes (the polling loops run
# hundreds of times a test). Not a wait for an event: a retry interval.
mkfifo "$T/nap"
exec {NAP_FD}<>"$T/nap"
nap() {
	read -r -t "$1" -u "$NAP_FD" _ || true
}

# raw_silent WHO: a raw connection of WHO, not logged in, that sends
# nothing and holds its stdin open (a FIFO nobody closes) until the server
# closes it, or raw's idle limit of 10 s; OUT (clirun) has what came, and
# RAW_MS how long it lasted.
raw_silent() {
	local t0
	[ -p "$T/hold" ] || mkfifo "$T/hold"
	exec 7<>"$T/hold"
	t0=$(now_ms)
	clirun "$1" raw --idle 10 <"$T/hold" 7>&-
	RAW_MS=$(($(now_ms) - t0))
	exec 7>&-
	echo "   (raw ended after $RAW_MS ms)"
}

# wait_for DESC TIMEOUT_SEC CMD...: runs CMD until it succeeds, at most
# TIMEOUT_SEC seconds. Returns 0 when it did, else records a failure and
# returns 1. Between tries 0.05 s, then 0.1, then 0.2 s for as long as it
# takes (a CMD that runs a process each try, sqlite3 or a CLI command,
# costs a long wait hundreds of them); WAIT_EVERY=SECONDS: that interval
# every time.
wait_for() {
	local desc=$1 timeout=$2
	shift 2
	local deadline t0=$EPOCHREALTIME every=${WAIT_EVERY:-0.05}
	_now_ms
	deadline=$((NOW_MS + timeout * 1000))
	while true; do
		if "$@" >/dev/null 2>&1; then
			[ -z "${OFFRAMP_TEST_PROFILE:-}" ] ||
				printf '%d %s:%s wait %s\n' \
					"$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))" \
					"$TEST_NAME" "${BASH_LINENO[0]}" "$desc" >>"$OFFRAMP_TEST_PROFILE"
			return 0
		fi
		_now_ms
		if [ "$NOW_MS" -ge "$deadline" ]; then
			fail "timed out after ${timeout}s waiting for: $desc"
			return 1
		fi
		nap "$every"
		if [ -z "${WAIT_EVERY:-}" ]; then
			case $every in
			0.05) every=0.1 ;;
			*) every=0.2 ;;
			esac
		fi
	done
}

# holds MS CMD...: CMD succeeds every time it is run for MS milliseconds
# (an observation window: what must not change does not).
holds() {
	local until
	_now_ms
	until=$((NOW_MS + $1))
	shift
	while _now_ms && [ "$NOW_MS" -lt "$until" ]; do
		"$@" || return 1
		nap 0.1
	done
}

# --------------------------------------------------------------- the server

# The transport: plain ws:// on loopback (the server started without
# --cert/--key, the CLI and the daemons on ws://127.0.0.1:PORT), which
# the server allows on a loopback address and the CLI to a loopback host
# alone: above the transport the server runs the same code either way,
# and a TLS handshake and its keys cost a one-shot CLI command a third of
# its CPU (a login: 60 ms under the sanitizers over wss://, 38 over
# ws://). TLS (wss://, the test's certificate as the CLI's only CA) for
# the tests whose subject is the transport or the deployed path, and
# where the traffic is heaviest or is cut by kills, so that TLS is
# covered there:
# - test_tls, test_websocket (RFC 6455 frames over TLS), test_proxy
#   (nginx in front), test_fdlimit (descriptors of TLS connections),
#   test_backpressure (flow control under TLS's own buffering);
# - test_readme and test_package (the README's walk-through, the
#   package: wss:// as deployed), test_config (a server from a
#   configuration file that names its certificate: its own SERVER_TLS=1);
# - test_relay (the relay both ways, chat), test_durability,
#   test_durability_load (kill -9 mid-stream), and on PostgreSQL
#   test_pg_crash, test_pg_lost, test_pg_stall, test_failover (PostgreSQL
#   crashed or stalled under a stream of sends) and the several nodes'
#   tests (test_nodes, test_nodes_cases, test_nodes_match).
# test_crash_scale runs ws:// by its own choice (its 50 restarts' logins).
# SERVER_TLS=1 (or 0) in the environment runs every test so; SERVER_TLS=0
# (or 1) before a start_server call, that server.
case $TEST_NAME in
test_tls | test_websocket | test_proxy | test_fdlimit | test_backpressure | \
test_readme | test_package | test_relay | test_durability | \
test_durability_load | test_pg_crash | test_pg_lost | test_pg_stall | \
test_failover | test_nodes | test_nodes_cases | test_nodes_match)
	SERVER_TLS=${SERVER_TLS:-1} ;;
*)	SERVER_TLS=${SERVER_TLS:-0} ;;
esac
WS_SCHEME=ws			# the last server's: ws or wss (start_server)

# ensure_cert: the test's certificate for 127.0.0.1, made once.
ensure_cert() {
	if [ ! -f "$CERT" ]; then
		bash "$REPO_ROOT/deploy/gen-cert.sh" "$TLS_DIR" >/dev/null
	fi
}

_server_up() {
	file_matches "$SERVER_OUT" '^offramp-server: listening on port [0-9]'
}

_server_up_or_gone() {
	_server_up && return 0
	kill -0 "$SERVER_PID" 2>/dev/null || return 0
	return 1
}

# _pick_port: PICKED_PORT is a random port below the range of ephemeral ports
# (32768-60999 on Linux), so that no client connection of this or another
# test is ever given it as its local port while a server restarts on it.
_pick_port() {
	PICKED_PORT=$((10000 + RANDOM % 22768))
}

# start_server [ARGS...]: starts offramp-server on 127.0.0.1, a
# random free port below the ephemeral range (_pick_port; the port of the
# last server again when that one has stopped, so that running daemons
# find it) and the data directory
# $DATA, a proof of work of 8 to 12 bits (a millisecond or two), plus
# ARGS (which may override it) (SERVER_TLS=1: with the test's certificate,
# --cert/--key, see above; SERVER_LISTEN: another
# --listen address; SERVER_WRAP: a command, split at spaces, that runs the
# server, e.g. "prlimit --nofile=64:64 --"; STORE_URL, by default
# $OFFRAMP_STORE_URL: the store, a postgresql:// URL, as
# tests/tools/pg.sh run gives). Waits for its "listening on port" line; sets
# SERVER_PID, PORT, WS_SCHEME (wss or ws: the CLI's server is
# $WS_SCHEME://127.0.0.1:$PORT unless SERVER_URL says otherwise), and
# TOKEN (the bootstrap token when printed at once, else empty: see
# need_token).
start_server() {
	local scheme=ws
	if [ "$SERVER_TLS" = 1 ]; then
		ensure_cert
		scheme=wss
	fi
	local n=$SERVER_COUNT
	SERVER_COUNT=$((n + 1))
	SERVER_OUT="$T/server$n.stdout"
	SERVER_ERR="$T/server$n.stderr"
	SERVER_LOGS+=("$SERVER_OUT" "$SERVER_ERR")
	local tls=(--cert "$CERT" --key "$CERT_KEY") port store=() fresh=1
	[ "$SERVER_TLS" = 1 ] || tls=()
	[ -z "${STORE_URL:-}" ] || store=(--store "$STORE_URL")
	if [ -n "${PORT:-}" ] && [ -n "${SERVER_PID:-}" ] &&
	   [ "${SERVER_DATA:-}" = "$DATA" ] &&
	   ! kill -0 "$SERVER_PID" 2>/dev/null; then
		port=$PORT
		fresh=0
	else
		_pick_port
		port=$PICKED_PORT
	fi
	local tries=0
	while true; do
		${SERVER_WRAP:-} "$OFFRAMP_SERVER_BIN" --data "$DATA" \
			--listen "${SERVER_LISTEN:-127.0.0.1}" --port "$port" \
			--pow-bits 8 --pow-max-bits 12 \
			"${tls[@]}" "${store[@]}" "$@" \
			>"$SERVER_OUT" 2>"$SERVER_ERR" </dev/null &
		SERVER_PID=$!
		SERVER_PIDS+=("$SERVER_PID")
		wait_for "offramp-server to print its port" 30 _server_up_or_gone || return 1
		_server_up && break
		# the port is taken (by another test's server): a new one at a
		# first start; the old one again a few times at a restart
		if [ "$tries" -lt 25 ] &&
		   file_has "$SERVER_ERR" 'ERROR on binding'; then
			tries=$((tries + 1))
			wait "$SERVER_PID" 2>/dev/null || true
			if [ "$fresh" = 1 ]; then
				_pick_port
				port=$PICKED_PORT
			else
				sleep 0.2	# a retry interval: no event tells the port is free
			fi
			continue
		fi
		fail "offramp-server exited at start"
		return 1
	done
	first_match "$(<"$SERVER_OUT")" '^offramp-server: listening on port ([0-9]+)'
	PORT=$FIRST_MATCH
	TOKEN=""
	if _token_told; then
		IFS= read -r TOKEN <"$DATA/bootstrap-token" || true
	fi
	WS_SCHEME=$scheme
	echo "   (server $n: pid $SERVER_PID, port $PORT, $scheme)"
	[ "$fresh" = 1 ] || _daemons_back
	SERVER_DATA=$DATA
}

# _daemons_back: after a restart on the same data directory and port,
# every daemon still running connects again (it retries by itself)
# before the test goes on.
_daemons_back() {
	local v pid who
	for v in ${!DAEMON_PID_@}; do
		pid=${!v}
		who=${v#DAEMON_PID_}
		kill -0 "$pid" 2>/dev/null || continue
		wait_for "$who's daemon to connect to server $((SERVER_COUNT - 1))" 40 \
			_daemon_connected "$who" || return 1
	done
}

# _daemon_connected NAME: NAME's daemon logged in after the last server
# started (its log has more "connected to" lines than then).
_daemon_connected() {
	local seen=DAEMON_SEEN_$1 n
	local l
	n=0
	while IFS= read -r l; do
		[[ "$l" != *"connected to"* ]] || n=$((n + 1))
	done <"$T/daemon-$1.err"
	[ "$n" -gt "${!seen:-0}" ] || return 1
	printf -v "$seen" '%s' "$n"
}

_token_told() {
	local c
	c=$'\n'$(<"$SERVER_OUT")
	[[ "$c" == *$'\n'"offramp-server: bootstrap admin token in $DATA/bootstrap-token "* ]]
}

# need_token: sets TOKEN to the bootstrap token of the running server,
# from the file the server says it is in (never its output), waiting a
# little for that line when it was not printed yet.
need_token() {
	if [ -z "$TOKEN" ]; then
		wait_for "the bootstrap admin token" 10 _token_told || return 1
		IFS= read -r TOKEN <"$DATA/bootstrap-token" || true
	fi
	[ -n "$TOKEN" ]
}

# pid_gone PID: no such process, or one that exited and waits to be
# reaped (a zombie: kill -0 still finds it; a shell busy in a builtin,
# nap's read, may reap its children late, and a wait on kill -0 alone
# then ran out of time on a process long gone).
pid_gone() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}

_server_gone() {
	pid_gone "$SERVER_PID"
}

# stop_server: SIGTERM, then waits (with a deadline) for a clean exit; the
# exit status must be 0 (a sanitizer report makes it non-zero).
stop_server() {
	local pid=$SERVER_PID rc=0
	kill -TERM "$pid"
	if ! wait_for "offramp-server (pid $pid) to exit after SIGTERM" 20 _server_gone; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	assert_eq "server exits with status 0 on SIGTERM" 0 "$rc"
}

# kill9_server: kills the server with SIGKILL and reaps it.
kill9_server() {
	local pid=$SERVER_PID
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------- CLI

# cli NAME ARGS...: the CLI as identity NAME (key file $IDS/NAME.key,
# passphrase "pass-NAME"), talking to the server on $PORT (over wss://
# with the test's certificate as CA, or ws://: WS_SCHEME), and trusting
# the programme keys of the test's trust file ($IDS/trust, as an operator publishes one; see
# programme_key). Bounded by the CLI's --timeout and, should that fail, by
# timeout(1).
cli() {
	local who=$1 key="$IDS/$1.key"
	shift
	# raw speaks the protocol itself and never runs through a daemon:
	# beside one, it logs in from a copy of the key file, a second
	# connection of the same account (the copy never takes part in a
	# conversation).
	if [ "${1:-}" = raw ] && [ -S "$key.d/sock" ]; then
		cp "$key" "$T/raw-$who.key"
		key="$T/raw-$who.key"
	fi
	local t0 rc=0 asan=${ASAN_OPTIONS:-} bin=$OFFRAMP_CLI_BIN
	# Under the sanitizers (tests/run.sh), a command that exits at once
	# skips LeakSanitizer's scan at exit (it cost a fifth of the sanitized
	# run) and keeps no stack of each allocation and free
	# (malloc_context_size=0: a fifth of such a command's CPU, most of it
	# page faults of the stack depot). Every bad access is still caught
	# and reported with its own stack; only a report's "allocated/freed
	# here" lines are left out. The server, the daemons, chat and inbox
	# keep both, and so do the unit tests of the CLI's core.
	# A test about the server drives it with the release build's CLI
	# (OFFRAMP_CLI_DRIVER_BIN, set by tests/run.sh): the sanitizers
	# watch the server; a sanitized process's start and exit cost about
	# 20 ms of CPU more (ASan's mappings), a third of test_matching's
	# CPU. A test about the CLI itself (CLI_SANITIZED=1 before sourcing
	# lib.sh: its crypto, its files, its commands) keeps the sanitized
	# one, and so do every daemon, chat and inbox.
	local oneshot=0
	case "${1:-}" in
	daemon | chat | inbox) ;;
	*)
		oneshot=1
		asan="${asan:+$asan:}detect_leaks=0:malloc_context_size=0"
		[ "${CLI_SANITIZED:-0}" = 1 ] || bin=${OFFRAMP_CLI_DRIVER_BIN:-$bin}
		;;
	esac
	[ -z "${OFFRAMP_TEST_PROFILE:-}" ] || t0=$EPOCHREALTIME
	local args=(--server "${SERVER_URL:-$WS_SCHEME://127.0.0.1:$PORT}"
		--ca "${CLI_CA:-$CERT}" --key "$key" --timeout "${CLI_TIMEOUT:-20}"
		"$@")
	# A one-shot command runs in the zygote (below) when there is one
	# for its build, and not under a CLI_WRAP; else the binary itself.
	# CLI_WRAP: a command the CLI runs under (faketime's, say)
	local trust=${TRUST_FILE-$IDS/trust} pass=${PASS_OVERRIDE:-pass-$who}
	if [ "$oneshot" = 0 ] || [ -n "${CLI_WRAP:-}" ] ||
		[ "$bin" != "${ZYGOTE_CLI:-}" ] ||
		! _zygote_run "$trust" "$pass" "$bin" "${args[@]}"; then
		rc=0
		# shellcheck disable=SC2086
		ASAN_OPTIONS=$asan \
		OFFRAMP_TRUST_FILE="$trust" \
		OFFRAMP_PASSPHRASE="$pass" \
		${CLI_WRAP:-} timeout -k 5 "${CLI_LIMIT:-90}" "$bin" \
			"${args[@]}" || rc=$?
	else
		rc=$ZYGOTE_RC
	fi
	# OFFRAMP_TEST_PROFILE=FILE: one line per run, to find slow steps:
	# milliseconds, test, caller's line, exit status, arguments
	[ -z "${OFFRAMP_TEST_PROFILE:-}" ] ||
		printf '%d %s:%s %d %s\n' \
			"$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))" "$TEST_NAME" \
			"${BASH_LINENO[0]},${BASH_LINENO[1]:-},${BASH_LINENO[2]:-}" "$rc" "$who $*" | cut -c1-200 >>"$OFFRAMP_TEST_PROFILE"
	return "$rc"
}

# The zygote: a test's one-shot CLI commands (all but daemon, chat and
# inbox) run in processes forked from one cli_zygote of the build whose
# CLI they use (tests/tools/cli_zygote.c: the CLI's own offramp_main, in
# a new process a command), asked over a loopback connection of this
# shell's (/dev/tcp, no process here): no exec of the binary, no dynamic
# loader, no timeout(1) a command. On the 2-core VM a fork and an exec
# cost milliseconds of CPU each, and a one-shot command's start under
# timeout more than most commands' work: test_matching's CPU (perf
# stat's task-clock, every process of the test) fell from 5.4 to 3.8 s.
# The command gets this shell's standard input, output and error
# themselves (pidfd_getfd(2): the same open files and offsets; it needs
# the right to ptrace this shell, as root has), its working directory,
# umask and the environment the CLI reads, and its limit (CLI_LIMIT,
# answered 124 as timeout(1) does); where the zygote cannot run it (no
# such right), the binary runs as before. The binary itself runs in
# test_readme (the README's commands as a shell runs them), test_man,
# test_package, and as every daemon, chat and inbox.
# ZYGOTE_CLI is the binary whose code the zygote runs
# (OFFRAMP_CLI_DRIVER_BIN's zygote, OFFRAMP_CLI_ZYGOTE_DRIVER_BIN,
# under tests/run.sh's sanitized run; this build's otherwise); ZYGOTE=0
# in the environment: none.
ZYGOTE_CLI=""
ZYGOTE_PORT=""
ZYGOTE_KEY=""
ZYGOTE_PID=""
_zygote_start() {
	local zbin=${OFFRAMP_CLI_ZYGOTE_BIN:-} cli=$OFFRAMP_CLI_BIN
	[ "${ZYGOTE:-1}" = 1 ] || return 0
	if [ "${CLI_SANITIZED:-0}" != 1 ] && [ -n "${OFFRAMP_CLI_DRIVER_BIN:-}" ]; then
		zbin=${OFFRAMP_CLI_ZYGOTE_DRIVER_BIN:-}
		cli=$OFFRAMP_CLI_DRIVER_BIN
	fi
	[ -n "$zbin" ] && [ -x "$zbin" ] || return 0
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:malloc_context_size=0" \
		"$zbin" "$T/zygote.port" </dev/null >/dev/null 2>>"$T/zygote.err" &
	ZYGOTE_PID=$!
	# not a job of this shell's: a bare wait does not wait for it
	disown "$ZYGOTE_PID"
	# its port and key, or none (the binary then runs each command):
	# no failure of the test's own
	local until
	_now_ms
	until=$((NOW_MS + 30000))
	while [ ! -s "$T/zygote.port" ]; do
		_now_ms
		if [ "$NOW_MS" -ge "$until" ] || ! kill -0 "$ZYGOTE_PID" 2>/dev/null; then
			echo "   (no CLI zygote: $(cat "$T/zygote.err" 2>/dev/null))"
			return 0
		fi
		nap 0.01
	done
	read -r ZYGOTE_PORT ZYGOTE_KEY <"$T/zygote.port"
	ZYGOTE_CLI=$cli
}

# _zygote_run TRUST_FILE PASSPHRASE ARGV...: runs ARGV in the zygote as
# cli would run it, with OFFRAMP_TRUST_FILE and OFFRAMP_PASSPHRASE so;
# ZYGOTE_RC is its exit status. Returns 1 when the zygote could not run
# it (nothing ran).
_zygote_run() {
	local trust=$1 pass=$2 fd i="" o="" e="" n line req=() limit=${CLI_LIMIT:-90}
	shift 2
	[ -n "$ZYGOTE_PORT" ] || return 1
	# a limit in whole seconds (timeout(1) takes more forms: those run
	# under it)
	[[ "$limit" =~ ^[1-9][0-9]{0,4}$ ]] || return 1
	if ! { exec {fd}<>"/dev/tcp/127.0.0.1/$ZYGOTE_PORT"; } 2>/dev/null; then
		ZYGOTE_PORT=""	# gone: the binary from now on
		return 1
	fi
	# copies of the standard streams, which printf's redirection below
	# leaves as they are (none closed: else the binary runs it; the
	# copy of 2 made outside the group that hides the others' errors)
	if ! exec {e}>&2 || ! { exec {i}<&0 {o}>&1; } 2>/dev/null; then
		exec {fd}>&-
		[ -z "$e" ] || exec {e}>&-
		[ -z "$i" ] || exec {i}<&-
		[ -z "$o" ] || exec {o}>&-
		return 1
	fi
	req=("K$ZYGOTE_KEY" "P$BASHPID" "S$i,$o,$e" "C$PWD" "L$limit"
		"EOFFRAMP_TRUST_FILE=$trust" "EOFFRAMP_PASSPHRASE=$pass")
	# what else the CLI reads from its environment, as this shell has it
	for n in HOME TZ OFFRAMP_SERVER OFFRAMP_CA OFFRAMP_KEY \
		OFFRAMP_PROGRAMME_KEY OFFRAMP_SIGNING_PASSPHRASE OFFRAMP_DEBUG; do
		if [[ -v $n && ${!n@a} == *x* ]]; then
			req+=("E$n=${!n}")
		else
			req+=("X$n")
		fi
	done
	for n in "$@"; do
		req+=("A$n")
	done
	line=""
	if printf '%s\0' "${req[@]}" "" >&"$fd" 2>/dev/null; then
		# the command's limit is the zygote's (its alarm), this read's
		# a little longer: a command stopped or a zygote stuck ends
		# here, the connection closed kills it
		IFS= read -r -t $((limit + 10)) -u "$fd" line || true
	else
		line=E
	fi
	exec {fd}>&- {i}<&- {o}>&- {e}>&-
	case $line in
	E) return 1 ;;
	"" | *[!0-9]*)
		# it may have run: not again; and the binary from now on
		echo "lib.sh: the CLI's zygote gave no answer in time" >&2
		ZYGOTE_PORT=""
		ZYGOTE_RC=124
		;;
	*) ZYGOTE_RC=$line ;;
	esac
}

# cli_out VAR NAME ARGS...: as VAR=$(cli NAME ARGS...) (the command's
# standard output without its last newlines, its exit status), without
# the subshell (a fork of the test's shell costs a one-shot command a
# tenth of its CPU).
cli_out() {
	local _co_var=$1 _co_rc=0 _co_f="$T/cli_out.$BASHPID" _co_s=""
	shift
	cli "$@" >"$_co_f" || _co_rc=$?
	IFS= read -r -d '' _co_s <"$_co_f" || true
	[[ "$_co_s" == *[!$'\n']* ]] && _co_s=${_co_s%"${_co_s##*[!$'\n']}"} || _co_s=""
	printf -v "$_co_var" '%s' "$_co_s"
	return "$_co_rc"
}

# cut_listing WHAT PREFIX MIN TOTAL: the last clirun, a CLI listing of
# TOTAL entries (more than one frame of the server's holds), exited 0,
# listed more than MIN and fewer than TOTAL lines starting PREFIX, and
# said on stderr that the rest were left out.
cut_listing() {
	local n
	assert_eq "$1: exit 0" 0 "$RC"
	n=$(grep -c "^$2" <<<"$OUT" || true)
	if [ "$n" -gt "$3" ] && [ "$n" -lt "$4" ]; then
		pass "  as many as one frame holds ($n of $4)"
	else
		fail "  $n listed, of $4"
	fi
	assert_contains "  and says the rest were left out" "$ERR" \
		"than one answer holds"
}

# error_line CODE: ERROR_LINE is the first line of $OUT that is an error
# frame with CODE (an extended regular expression), or "" (no process).
error_line() {
	local l t='"type": *"error"' c="\"code\": *\"$1\""
	ERROR_LINE=""
	while IFS= read -r l; do
		if [[ "$l" =~ $t && "$l" =~ $c ]]; then
			ERROR_LINE=$l
			return 0
		fi
	done <<<"$OUT"
}

# reply_line ID: REPLY_LINE is the lines of $OUT (from clirun ... raw)
# that answer request ID ("re":ID, as the server writes it), or ""; no
# process.
reply_line() {
	local l re="\"re\":$1[,}]"
	REPLY_LINE=""
	while IFS= read -r l; do
		[[ "$l" =~ $re ]] && REPLY_LINE+=${REPLY_LINE:+$'\n'}$l
	done <<<"$OUT"
	return 0
}

# assert_error DESC CODE [FIELD]: $OUT (from clirun ... raw) holds an
# error frame with CODE (and "field": FIELD when given).
assert_error() {
	local line
	error_line "$2"
	line=$ERROR_LINE
	if [ -z "$line" ]; then
		fail "$1: no error $2 in: ${OUT:0:400} ${ERR:-}"
		return
	fi
	pass "$1: error $2"
	[ -z "${3:-}" ] || assert_match "$1: field $3" "$line" "\"field\": *\"$3\""
}

# clirun NAME ARGS...: as cli, but never stops the test: sets OUT (stdout),
# ERR (stderr) and RC (exit status). Standard input is passed on.
clirun() {
	local errf="$T/clirun.err"
	RC=0
	cli_out OUT "$@" 2>"$errf" || RC=$?
	IFS= read -r -d '' ERR <"$errf" || true
	# as $(cat) has it: no newline at the end
	[[ "$ERR" == *[!$'\n']* ]] && ERR=${ERR%"${ERR##*[!$'\n']}"} || ERR=""
}

# field TEXT NAME: the value of the first "NAME: value" line of TEXT.
# field_to VAR TEXT NAME: VAR is that value ("" when there is none), and
# assert_field DESC WANT TEXT NAME asserts it: no subshell (a fork of the
# test's shell costs milliseconds of CPU on the 2-core VM) and no read
# of a here-string (a system call a byte): string matching alone.
field_to() {
	local _ft_t=$'\n'"$2" _ft_k=$'\n'"$3: " _ft_v=""
	if [[ "$_ft_t" == *"$_ft_k"* ]]; then
		_ft_v=${_ft_t#*"$_ft_k"}
		_ft_v=${_ft_v%%$'\n'*}
	fi
	printf -v "$1" '%s' "$_ft_v"
}
field() {
	local v
	field_to v "$1" "$2"
	[[ $'\n'"$1" != *$'\n'"$2: "* ]] || printf '%s\n' "$v"
}
assert_field() {
	local v
	field_to v "$3" "$4"
	assert_eq "$1" "$2" "$v"
}

# keygen NAME...: makes identities NAME... (key files $IDS/NAME.key, as
# `offramp keygen --kdf min` makes them, with the CLI's own code, but in
# one process for all: tests/tools/keygen_batch); sets KEY_<NAME> to each
# public key. The CLI's keygen command has tests of its own (test_perms,
# test_trust, test_readme). Under the sanitizers the release build's
# (OFFRAMP_KEYGEN_DRIVER_BIN, set by tests/run.sh), as the CLI driver
# (below): a sanitized one cost 24 ms a run against 7, 410 runs; a test
# about the CLI itself (CLI_SANITIZED=1) keeps this build's.
keygen() {
	: "${OFFRAMP_KEYGEN_BATCH_BIN:?set OFFRAMP_KEYGEN_BATCH_BIN to tests/tools/keygen_batch}"
	local out name k made=0 bin=$OFFRAMP_KEYGEN_BATCH_BIN
	[ "${CLI_SANITIZED:-0}" = 1 ] || bin=${OFFRAMP_KEYGEN_DRIVER_BIN:-$bin}
	out=$("$bin" "$IDS" "$@")
	while read -r name k; do
		[ -n "$k" ] || continue
		printf -v "KEY_$name" '%s' "$k"
		made=$((made + 1))
	done <<<"$out"
	if [ "$made" -ne $# ]; then
		fail "keygen $* made $made keys: $out"
		return 1
	fi
}

# json_str JSON_TEXT KEY: the first string value of KEY in the JSON text.
json_str() {
	local nl=$'\n'
	local re="\"$2\": *\"([^\"$nl]*)\""
	[[ "$1" =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
	return 0
}

# participant_key JSON_TEXT ROLE: the key of the first participant object
# (a flat {...} holding "role":ROLE) in JSON_TEXT.
participant_key() {
	local s=$1 obj re='\{[^{}]*\}' role="\"role\": *\"$2\""
	while [[ "$s" =~ $re ]]; do
		obj=${BASH_REMATCH[0]}
		s=${s#*"$obj"}
		if [[ "$obj" =~ $role ]]; then
			json_str "$obj" key
			return 0
		fi
	done
	return 0
}

# b64_random [-v VAR] N: base64 of N random bytes (no newline), printed
# or, with -v, put in VAR (no subshell: for loops). Up to 3072 bytes
# without a process: each 32-bit SRANDOM (getrandom(2)) gives 3 bytes,
# written as 4 characters of 6 random bits each; a last byte or two gives
# 2 or 3 characters whose unused low bits are 0, and the padding.
B64_ALPHABET=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
b64_random() {
	local var="" n a=$B64_ALPHABET out="" r i
	if [ "$1" = -v ]; then
		var=$2
		shift 2
	fi
	n=$1
	if [ "$n" -gt 3072 ]; then
		out=$(head -c "$n" /dev/urandom | base64 -w0)
	else
		for ((i = 0; i + 3 <= n; i += 3)); do
			r=$SRANDOM
			out+=${a:r&63:1}${a:r>>6&63:1}${a:r>>12&63:1}${a:r>>18&63:1}
		done
		case $((n - i)) in
		1) r=$SRANDOM; out+=${a:r&63:1}${a:(r>>6&3)*16:1}== ;;
		2) r=$SRANDOM; out+=${a:r&63:1}${a:r>>6&63:1}${a:(r>>12&15)*4:1}= ;;
		esac
	fi
	if [ -n "$var" ]; then
		printf -v "$var" '%s' "$out"
	else
		printf '%s' "$out"
	fi
}

# setup_pool: a server must run. The admin redeems the bootstrap token
# (name "Ada") and makes the programme's signing key (PROGRAMME_KEY), invites
# a counsellor, who redeems it as "Sam" with --languages en --topics
# leaving, and certifies Sam (only certified counsellors get cases), and
# Sam's daemon keeps Sam connected (counsellor_up; not with
# COUNS_DAEMON=0: a counsellor not connected gets no case). Sets
# ADMIN_NAME, COUNS_NAME, KEY_admin, KEY_couns, PROGRAMME_KEY.
setup_pool() {
	need_token
	keygen admin couns
	local out
	cli_out out admin redeem "$TOKEN" --name Ada
	field_to ADMIN_NAME "$out" name
	assert_field "bootstrap token redeemed as admin" admin "$out" role
	programme_key admin
	PROGRAMME_KEY=$PKEY_admin
	assert_match "the admin made the programme key" "$PROGRAMME_KEY" '^[A-Za-z0-9+/]{43}=$'

	local inv
	cli_out inv admin invite --role counsellor
	inv=${inv##*$'\n'}
	if [ -z "$inv" ]; then
		fail "admin invite printed no token"
		return 1
	fi
	cli_out out couns redeem "$inv" --name Sam --languages en --topics leaving
	field_to COUNS_NAME "$out" name
	assert_field "counsellor invite redeemed as counsellor" counsellor "$out" role
	assert_eq "counsellor display name" Sam "$COUNS_NAME"
	certify_pending Sam
	[ "${COUNS_DAEMON:-1}" = 0 ] || counsellor_up couns
}

# counsellor_up NAME: NAME's `offramp daemon`, in the background (the
# passphrase from a file, asked once), keeps a connection logged in, so
# the counsellor is there and gets cases, as a counsellor at work runs
# it. NAME's commands then run through it. Waits until it is connected;
# counsellor_down stops it, and every daemon stops when the test ends.
counsellor_up() {
	local who=$1 f="$T/daemon-$1.err"
	(umask 077; printf 'pass-%s\n' "$who" >"$T/$who.dpass")
	: >"$f"
	OFFRAMP_TRUST_FILE="${TRUST_FILE-$IDS/trust}" timeout -k 5 1200 \
		"$OFFRAMP_CLI_BIN" --server "${SERVER_URL:-$WS_SCHEME://127.0.0.1:$PORT}" \
		--ca "${CLI_CA:-$CERT}" --key "$IDS/$who.key" \
		--passphrase-file "$T/$who.dpass" --timeout 10 daemon \
		2>"$f" </dev/null &
	printf -v "DAEMON_PID_$who" '%s' "$!"
	DAEMON_PIDS+=("$!")
	printf -v "DAEMON_SEEN_$who" '%s' 0
	wait_for "$who's daemon to connect" 30 _daemon_connected "$who"
}
DAEMON_PIDS=()

_daemon_gone() {
	pid_gone "$1"
}

# counsellor_down NAME: stops NAME's daemon (its connection closes).
counsellor_down() {
	local pidv="DAEMON_PID_$1"
	local pid=${!pidv}
	kill -TERM "$pid" 2>/dev/null || true
	wait_for "$1's daemon to stop" 20 _daemon_gone "$pid"
	wait "$pid" 2>/dev/null || true
	unset "DAEMON_PID_$1"
}

# counsellors_down: stops every daemon counsellor_up started.
counsellors_down() {
	local v
	for v in ${!DAEMON_PID_@}; do
		counsellor_down "${v#DAEMON_PID_}"
	done
}

# programme_key ADMIN: ADMIN makes its programme's signing key, in its own
# file $IDS/ADMIN.pkey (passphrase file $IDS/ADMIN.ppass); sets
# PKEY_<ADMIN> and adds the key to the test's trust file, as an operator
# publishes the keys of its programmes.
programme_key() {
	local out
	(umask 077; printf 'programme-pass-%s\n' "$1" >"$IDS/$1.ppass")
	out=$(cli "$1" programme-key new --out "$IDS/$1.pkey" --kdf min \
		--new-passphrase-file "$IDS/$1.ppass")
	printf -v "PKEY_$1" '%s' "$(field "$out" programme-key)"
	printf '%s programme of %s\n' "$(field "$out" programme-key)" "$1" >>"$IDS/trust"
}

# signing ADMIN: the options that open ADMIN's programme key file.
signing() {
	echo --signing-key "$IDS/$1.pkey" --signing-passphrase-file "$IDS/$1.ppass"
}

# verify_shown WHO CASE [NAME]: WHO verifies the key behind the safety
# number that `safety` shows now (for NAME, else the first participant),
# as a user does after comparing it.
verify_shown() {
	local num
	num=$(cli "$1" safety "$2" | grep -E "^${3:-.*} ([0-9]{5} ){12}" | head -n1 |
		grep -oE '([0-9]{5} ){11}[0-9]{5}')
	cli "$1" verify "$2" "$num" ${3:+--name "$3"}
}

# _sorted_words VAR WORD...: VAR is the words in order (the locale's, as
# sort(1) has it), each followed by a space; no process (a handful of
# names).
_sorted_words() {
	local _sw_var=$1
	shift
	local a=("$@") i j t out=""
	for ((i = 1; i < ${#a[@]}; i++)); do
		for ((j = i; j > 0; j--)); do
			[[ "${a[j - 1]}" > "${a[j]}" ]] || break
			t=${a[j]}
			a[j]=${a[j - 1]}
			a[j - 1]=$t
		done
	done
	for t in "${a[@]}"; do
		out+="$t "
	done
	printf -v "$_sw_var" '%s' "$out"
}

# certify_pending NAME... [--by ADMIN]: the admin (ADMIN, default admin)
# lists the counsellors waiting for a certificate, which must be exactly
# NAME..., and certifies them by name.
certify_pending() {
	local out want="" got n by=admin names=()
	while [ $# -gt 0 ]; do
		if [ "$1" = --by ]; then by=$2; shift 2; continue; fi
		names+=("$1")
		shift
	done
	cli_out out "$by" certify
	local l pending=()
	while IFS= read -r l; do
		[[ "$l" =~ ^pending:\ ([^ ]*)\ fingerprint= ]] && pending+=("${BASH_REMATCH[1]}")
	done <<<"$out"
	_sorted_words got "${pending[@]}"
	_sorted_words want "${names[@]}"
	assert_eq "waiting for a certificate: ${names[*]}" "$want" "$got"
	want=""
	for n in "${names[@]}"; do
		want+="certified: $n"$'\n'
	done
	# shellcheck disable=SC2046
	out=$(cli "$by" certify $(signing "$by") "${names[@]}")
	assert_eq "$by certified: ${names[*]}" "${want%$'\n'}" "$out"
}

# --------------------------------------------------------------------- data

# The database helpers below work on either store: SQLite's file
# $DATA/offramp.db through the sqlite3 CLI, or, with STORE_URL set, the
# PostgreSQL database it names through psql (-X -A -t, '|' between
# columns, as sqlite3's list mode prints). On PostgreSQL a query runs with
# the schema offramp_sqlite on its search_path after public (PGOPTIONS:
# the test's psql sessions alone, never the server's), where pg_compat
# puts the few SQLite functions the tests' SQL uses (hex, group_concat,
# randomblob, strftime('%s', 'now'), instr, last_insert_rowid,
# pragma_table_info, sqlite_master, and sum() of a comparison, a boolean
# there; a comparison's own value is t or f there, 1 or 0 in SQLite:
# CAST it AS INTEGER), and a blob literal X'..' is rewritten to
# PostgreSQL's '\x..'::bytea. The table schema_version is left out of
# sqlite_master (SQLite keeps the version in a PRAGMA). What has no
# common form has a branch of its own (table_digest, db_traces' dump,
# blob_text).

# PG_BIN: the directory of PostgreSQL's psql and pg_dump themselves (as
# tests/tools/pg.sh finds its pg_ctl), not Debian's wrapper of the same
# name in /usr/bin, a Perl program that costs a tenth of a second before
# each call on a busy machine, and a test makes hundreds.
PG_BIN=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
[ -d "$PG_BIN" ] ||
	PG_BIN=$(dirname "$(command -v psql || echo /usr/bin/psql)")

# on_pg: the test's server runs on PostgreSQL.
on_pg() {
	[ -n "${STORE_URL:-}" ]
}

# pg_only REASON: a test that needs the PostgreSQL store (several nodes,
# PostgreSQL's own crashes and standbys) ends here on SQLite, saying why
# (exit status 77: ctest's SKIP_RETURN_CODE for its entry).
pg_only() {
	! on_pg || return 0
	echo "   skip $TEST_NAME: $* (STORE_URL unset: tests/tools/pg.sh run)"
	FINISHED=1
	exit 77
}

# as_owner CMD...: CMD as the owner of tests/tools/pg.sh's clusters (the
# postgres user when root: initdb refuses root).
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# start_node NAME [ARGS...]: one more server node on the store of the
# first (start_server with ARGS), on data directory $T/data-NAME with the
# first node's server key copied (one server, several nodes); sets
# PORT_NAME, PID_NAME, LOG_NAME (its stderr) and, when it serves
# metrics, MPORT_NAME.
start_node() {
	local name=$1
	shift
	DATA="$T/data-$name"
	if [ -n "${DATA_FIRST:-}" ]; then
		mkdir -p -m 700 "$DATA"
		cp -p "$DATA_FIRST/server.key" "$DATA/"
	fi
	start_server "$@"
	DATA_FIRST=${DATA_FIRST:-$DATA}
	printf -v "PORT_$name" '%s' "$PORT"
	printf -v "PID_$name" '%s' "$SERVER_PID"
	printf -v "LOG_$name" '%s' "$SERVER_ERR"
	printf -v "MPORT_$name" '%s' "$(sed -n \
		's/^offramp-server: metrics on 127\.0\.0\.1 port \([0-9][0-9]*\) .*/\1/p' \
		"$SERVER_OUT" | head -n1)"
}

# Races of two nodes (test_nodes_race, test_nodes_locks): a psql session
# holds a row, so that a request at one node waits for it while another
# comes at the other node. wsend NAME FRAME: FRAME on NAME's connection
# (watch_on); answer NAME ID: the answer NAME's connection had to its
# request ID; _waiting_locks N: N sessions or more wait for a lock.
wsend() {
	local fd=WATCH_FD_$1
	printf '%s\n' "$2" >&"${!fd}"
}

# answer NAME ID: the answer NAME's connection had to its request ID.
answer() {
	grep -E "\"re\": *$2[,}]" "$T/watch-$1.out" || true
}
_answered() { [ -n "$(answer "$1" "$2")" ]; }

_waiting_locks() {
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")" -ge "$1" ]
}
# The holder is idle in its transaction once its BEGIN has run as well
# as once its SELECT ... FOR UPDATE has: only the lock's statement, as its
# last, says the row is held (psql sends the two one after the other).
_holder_in() {
	[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder' AND state = 'idle in transaction' AND query LIKE '%FOR UPDATE%'")" = 1 ]
}

# hold_row WHERE: a psql session locks the row of "SELECT 1 FROM WHERE"
# until release_row.
hold_row() {
	rm -f "$T/hold.in"
	mkfifo "$T/hold.in"
	PGAPPNAME=holder "$PG_BIN/psql" -X -q -d "$STORE_URL" <"$T/hold.in" \
		>"$T/hold.out" 2>&1 &
	HOLDER=$!
	exec {HOLD}>"$T/hold.in"
	echo "BEGIN; SELECT 1 FROM $1 FOR UPDATE;" >&"$HOLD"
	wait_for "the psql session to hold the row" 10 _holder_in
}
release_row() {
	echo "COMMIT;" >&"$HOLD"
	exec {HOLD}>&-
	wait "$HOLDER" || true
}

# race ROW NAME1 FRAME1 NAME2 FRAME2: a psql session holds ROW ("TABLE
# WHERE ..."); FRAME1 goes on NAME1's connection and waits for it (one
# answered at once fails the test: it no longer takes that lock), then
# FRAME2 on NAME2's, which waits for the first (a second session waits
# for a lock) or is answered at once (decided on what it read); the
# session commits; both are answered. Both frames' id is RACE_ID
# ("id":RACE_ID, in each). ANSWER1 and ANSWER2 are their last answers.
# With FRAME2 empty, the caller's command RACE_SECOND starts the second
# request (in the background) instead, and the race does not wait for it
# to wait (ANSWER2 empty). The caller's command RACE_HELD, when set, runs
# while both wait, before the session commits.
# A lock is waited for 2 s at most (store_pg.c). On a busy machine: a
# first request seen waiting only a second or more after it was sent
# would give up before the second's turn; it is let give up (answered
# unavailable, having changed nothing), and the race run again, with id
# RACE_ID + 100, + 200, three tries. One that gave up after the second
# came all the same is sent again after it (the race did not happen:
# said, and the caller's checks of the order fail), and so is a second
# that gave up.
_first_waits() {
	_waiting_locks 1 || _answered "$1" "$2"
}
_second_waits() {
	_waiting_locks 2 || _answered "$1" "$3" || _answered "$2" "$3"
}
_race_again() {
	local n=$1 f=$2 again=$3
	wsend "$n" "${f/\"id\":$RACE_ID,/\"id\":$again,}"
	wait_for "the answer to the request sent again" 20 _answered "$n" "$again"
	RACE_AGAIN=$(answer "$n" "$again")
}
race() {
	local row=$1 n1=$2 f1=$3 n2=$4 f2=$5 id=$RACE_ID try sent
	for try in 1 2 3; do
		hold_row "$row"
		_now_ms
		sent=$NOW_MS
		wsend "$n1" "${f1/\"id\":$RACE_ID,/\"id\":$id,}"
		wait_for "the first request to wait" 10 _first_waits "$n1" "$id"
		_now_ms
		# seen late: it gives up within 2 s of its wait's start
		[ "$try" -eq 3 ] || _answered "$n1" "$id" || [ $((NOW_MS - sent)) -lt 1000 ] ||
			wait_for "the first request, seen waiting late, to give up" 10 _answered "$n1" "$id"
		if [ "$try" -lt 3 ] && [[ "$(answer "$n1" "$id")" == *'"unavailable"'* ]]; then
			echo "   (the first request gave up waiting before the second came; the race again)"
			release_row
			id=$((id + 100))
			continue
		fi
		break
	done
	if _answered "$n1" "$id" && [[ "$(answer "$n1" "$id")" != *'"unavailable"'* ]]; then
		release_row
		fail "the first request did not wait for the row held: $(answer "$n1" "$id")"
		return 1
	fi
	if [ -n "$f2" ]; then
		wsend "$n2" "${f2/\"id\":$RACE_ID,/\"id\":$id,}"
		WAIT_EVERY=0.05 wait_for "the second request to wait for the first, or be answered" 20 \
			_second_waits "$n1" "$n2" "$id"
	else
		eval "$RACE_SECOND"
	fi
	[ -z "${RACE_HELD:-}" ] || eval "$RACE_HELD"
	release_row
	wait_for "the first request's answer" 20 _answered "$n1" "$id"
	ANSWER1=$(answer "$n1" "$id")
	ANSWER2=""
	if [ -n "$f2" ]; then
		wait_for "the second request's answer" 20 _answered "$n2" "$id"
		ANSWER2=$(answer "$n2" "$id")
	fi
	# the first waited longest: past its bound on a busy machine, it is
	# decided again after the second (no race then, said)
	if [[ "$ANSWER1" == *'"unavailable"'* ]]; then
		echo "   (the first request gave up waiting (the third try: perhaps before the second came): no race; again, after the second)"
		_race_again "$n1" "$f1" $((id + 1000))
		ANSWER1=$RACE_AGAIN
	fi
	if [[ "$ANSWER2" == *'"unavailable"'* ]]; then
		echo "   (the second request gave up waiting; again)"
		_race_again "$n2" "$f2" $((id + 1000))
		ANSWER2=$RACE_AGAIN
	fi
}

# case_kept: a client's case with Sam (setup_pool's counsellor, whose
# daemons go down: nobody takes Sam's copies off the server, they stay
# stored); sets CASE and CKEY, Sam's key in the case. After start_server.
case_kept() {
	local out
	setup_pool
	keygen client
	cli client login >/dev/null
	CASE=$(field "$(cli client request --language en --topic leaving)" case)
	assert_match "the client has a case" "$CASE" '^[0-9]+$'
	out=$(printf '%s\n' '{"v":1,"type":"case.list","id":1}' |
		cli client raw --login --count 1 --idle 10)
	CKEY=$(participant_key "$out" counsellor)
	assert_match "the counsellor's key is known" "$CKEY" '^[A-Za-z0-9+/=]{44}$'
	counsellors_down
}

# send_stream PACE [RAW_ARGS...]: one msg.send of random ciphertext for
# Sam in the client's case (case_kept) every PACE seconds (a pace, not a
# wait: raw --answered has room for 256 unanswered) on one raw connection
# of the client, until $T/stop exists, three minutes at most; each request
# also in $T/sent, the answers in $T/answers. Sets WRITER_PID, RAW_PID.
send_stream() {
	local pace=$1
	shift
	mkfifo "$T/stream"
	"$PYTHON3" - "$CASE" "$CKEY" "$T/stop" "$T/sent" "$pace" >"$T/stream" <<-'PY' &
	import base64, os, sys, time
	case, to, stop, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
	pace = float(sys.argv[5])
	end = time.monotonic() + 180
	with open(log, "w") as f:
	    i = 1
	    while not os.path.exists(stop) and time.monotonic() < end:
	        i += 1
	        mid = base64.b64encode(os.urandom(16)).decode()
	        ct = base64.b64encode(os.urandom(48)).decode()
	        line = ('{"v":1,"type":"msg.send","id":%d,"case":%d,"mid":"%s",'
	                '"copies":[{"to":"%s","ct":"%s"}]}' % (i, case, mid, to, ct))
	        print(line, flush=True)
	        f.write(line + "\n")
	        f.flush()
	        time.sleep(pace)
	PY
	WRITER_PID=$!
	CLI_LIMIT=300 cli client raw --login --answered "$@" <"$T/stream" \
		>"$T/answers" 2>"$T/raw.err" &
	RAW_PID=$!
}

# sqlite_only REASON: a test about SQLite's own files ends here on
# PostgreSQL, saying why (exit status 77: ctest's SKIP_RETURN_CODE for the
# PostgreSQL entries).
sqlite_only() {
	on_pg || return 0
	echo "   skip $TEST_NAME on PostgreSQL: $*"
	FINISHED=1
	exit 77
}

# pg_compat: the schema offramp_sqlite, once a test (idempotent: a
# cluster may serve several tests one after the other).
pg_compat() {
	[ ! -e "$T/pg_compat" ] || return 0
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$STORE_URL" >/dev/null <<'SQL'
CREATE SCHEMA IF NOT EXISTS offramp_sqlite;
SET search_path = offramp_sqlite;
CREATE OR REPLACE FUNCTION hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT upper(encode($1, 'hex')) $$;
CREATE OR REPLACE FUNCTION hex(bigint) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT upper(encode(convert_to($1::text, 'UTF8'), 'hex')) $$;
CREATE OR REPLACE FUNCTION hex(text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT upper(encode(convert_to($1, 'UTF8'), 'hex')) $$;
CREATE OR REPLACE FUNCTION instr(text, text) RETURNS int LANGUAGE sql
    IMMUTABLE AS $$ SELECT strpos($1, $2) $$;
CREATE OR REPLACE FUNCTION randomblob(int) RETURNS bytea LANGUAGE sql
    VOLATILE AS $$ SELECT decode(string_agg(lpad(to_hex(
    floor(random() * 256)::int), 2, '0'), ''), 'hex')
    FROM generate_series(1, $1) $$;
CREATE OR REPLACE FUNCTION strftime(text, text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$ BEGIN
    IF $1 <> '%s' OR $2 <> 'now' THEN
	RAISE EXCEPTION 'strftime(%, %): only (''%%s'', ''now'')', $1, $2;
    END IF;
    RETURN floor(extract(epoch FROM now()))::bigint; END $$;
CREATE OR REPLACE FUNCTION last_insert_rowid() RETURNS bigint
    LANGUAGE sql VOLATILE AS $$ SELECT lastval() $$;
CREATE OR REPLACE FUNCTION gc_step(text, anyelement, text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN $2 IS NULL THEN $1
    WHEN $1 IS NULL THEN $2::text ELSE $1 || $3 || $2::text END $$;
CREATE OR REPLACE FUNCTION gc_step(text, anyelement) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT gc_step($1, $2, ',') $$;
DO $$ BEGIN
    CREATE AGGREGATE group_concat(anyelement) (SFUNC = gc_step,
	STYPE = text);
    CREATE AGGREGATE group_concat(anyelement, text) (SFUNC = gc_step,
	STYPE = text);
EXCEPTION WHEN duplicate_function THEN NULL; END $$;
CREATE OR REPLACE FUNCTION sum_step(bigint, boolean) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN $2 IS NULL THEN $1
    ELSE coalesce($1, 0) + $2::int END $$;
DO $$ BEGIN
    CREATE AGGREGATE sum(boolean) (SFUNC = sum_step, STYPE = bigint);
EXCEPTION WHEN duplicate_function THEN NULL; END $$;
CREATE OR REPLACE FUNCTION pragma_table_info(text) RETURNS TABLE(name text)
    LANGUAGE sql STABLE AS $$ SELECT column_name::text
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = $1
    ORDER BY ordinal_position $$;
CREATE OR REPLACE VIEW sqlite_master AS SELECT 'table'::text AS type,
    tablename::text AS name FROM pg_tables WHERE schemaname = 'public'
    AND tablename <> 'schema_version';
SQL
	: >"$T/pg_compat"
}

# _psql [-w] QUERY: QUERY on PostgreSQL, read-only unless -w, with blob
# literals rewritten; every statement's rows printed; its status psql's
# (non-zero at the first statement that fails: ON_ERROR_STOP), and
# psql's messages on standard error.
_psql() {
	local ro=on q out="" re="(^|[^A-Za-z0-9_])[xX]'([0-9a-fA-F]*)'"
	if [ "$1" = -w ]; then
		ro=off
		shift
	fi
	pg_compat
	q=$1
	# X'..' to '\x..'::bytea, as sed -E 's/$re/\1'\''\\x\2'\''::bytea/g'
	while [[ "$q" =~ $re ]]; do
		out+=${q%%"${BASH_REMATCH[0]}"*}${BASH_REMATCH[1]}"'\\x${BASH_REMATCH[2]}'::bytea"
		q=${q#*"${BASH_REMATCH[0]}"}
	done
	_pg_query "$ro" "$out$q;"
}

# The test's psql session: one psql process (and one backend) for every
# query of the test, not one each (a process and a backend cost a
# PostgreSQL test a third of its CPU). It reads the queries from the FIFO
# $T/psql.in and writes each query's rows to $T/psql.rows (\o), then a
# line of its own (\echo) to the FIFO $T/psql.out, which says the rows are
# there; a line "__offramp_psql_exit STATUS" when it has ended (an error
# under ON_ERROR_STOP, a lost connection). Its pid and URL in
# $T/psql.pid, so that any shell of the test (a $(sql ...) subshell too)
# uses it, or starts it again when it has ended or STORE_URL changed. One
# query at a time: no sql from a background job of the test.

# _pg_alive PID: PID runs (and is no zombie).
_pg_alive() {
	local s
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
		IFS= read -r s <"/proc/$1/stat" 2>/dev/null && [[ "$s" != *") Z "* ]]
}

# _pg_session: sets PG_SESSION to the pid of the test's psql session,
# started here unless one runs on STORE_URL.
_pg_session() {
	local pid="" url="" fd
	[ ! -e "$T/psql.pid" ] || read -r pid url <"$T/psql.pid" || true
	if _pg_alive "$pid"; then
		if [ "$url" = "$STORE_URL" ]; then
			PG_SESSION=$pid
			return 0
		fi
		kill -TERM "$pid" 2>/dev/null || true
	fi
	[ -p "$T/psql.in" ] || mkfifo "$T/psql.in" "$T/psql.out" "$T/psql.nap"
	rm -f "$T/psql.pid"
	(
		# nothing of the caller's kept open (a $(...)'s pipe, a
		# watcher's stdin, ...)
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -le 2 ] || [ "$fd" = 255 ] || exec {fd}>&-
		done
		exec {fd}<>"$T/psql.out"
		PGOPTIONS="-c search_path=public,offramp_sqlite -c default_transaction_read_only=on -c lock_timeout=5000" \
			"$PG_BIN/psql" -X -A -t -q -F '|' -v ON_ERROR_STOP=1 \
			-d "$STORE_URL" <>"$T/psql.in" 1<>"$T/psql.out" 2>>"$T/psql.err" &
		psql=$!
		echo "$psql $STORE_URL" >"$T/psql.pid"
		# psql reads a FIFO it holds open itself: it ends with the
		# test's shell ($$), however that ends (kill -9 too)
		exec {nap}<>"$T/psql.nap"
		while _pg_alive "$psql"; do
			kill -0 $$ 2>/dev/null || kill -TERM "$psql" 2>/dev/null
			read -r -t 0.2 -u "$nap" _ || true
		done
		rc=0
		wait "$psql" || rc=$?
		echo "__offramp_psql_exit $rc" >&"$fd"
	) </dev/null >/dev/null 2>&1 &
	while [ ! -s "$T/psql.pid" ]; do
		nap 0.01
	done
	read -r PG_SESSION url <"$T/psql.pid"
}

# _pg_query on|off SQL: SQL (whole statements) in the test's psql
# session, read-only (on) or not (off); prints its rows, passes on
# psql's messages, returns psql's status. A session whose connection was
# lost (PostgreSQL stopped or restarted under it) ends at the first
# statement: the query runs again once on a new session, as it would
# have on a psql of its own.
_pg_query() {
	local ro=$1 sql=$2 fi fo line rc tries=0 mark rows e
	[ "$ro" = on ] || sql="SET default_transaction_read_only = off;
$sql
SET default_transaction_read_only = on;"
	while true; do
		_pg_session
		: >"$T/psql.err"
		: >"$T/psql.rows"
		PG_SEQ=$((${PG_SEQ:-0} + 1))
		mark="__offramp_psql_done $BASHPID $PG_SEQ"
		exec {fi}<>"$T/psql.in" {fo}<>"$T/psql.out"
		printf '\\o %s\n%s\n\\o\n\\echo %s\n' "$T/psql.rows" "$sql" "$mark" >&"$fi"
		rc=""
		while [ -z "$rc" ]; do
			if IFS= read -r -t 2 -u "$fo" line; then
				if [ "$line" = "$mark" ]; then
					rc=0
				elif [[ "$line" == "__offramp_psql_exit "* ]]; then
					rc=${line##* }
				fi
			elif ! _pg_alive "$PG_SESSION"; then
				rc=2
			fi
		done
		exec {fi}>&- {fo}>&-
		[ "$rc" = 0 ] || rc=$((rc == 0 ? 1 : rc))
		e=""
		[ ! -s "$T/psql.err" ] || IFS= read -r -d '' e <"$T/psql.err" || true
		if [ "$rc" != 0 ] && [ "$tries" = 0 ] &&
		   [[ "$e" == *"connection to server"* ||
		      "$e" == *"server closed the connection"* ||
		      "$e" == *"terminating connection"* ]]; then
			tries=1
			continue
		fi
		break
	done
	rows=""
	IFS= read -r -d '' rows <"$T/psql.rows" || true
	printf '%s' "$rows"
	[ -z "$e" ] || printf '%s' "$e" >&2
	return "$rc"
}

# _pg_close: ends the test's psql session (at exit), waiting 5 s at most.
_pg_close() {
	local pid url i
	[ -e "$T/psql.pid" ] || return 0
	read -r pid url <"$T/psql.pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		_pg_alive "$pid" || return 0
		nap 0.05
	done
}

# blob_text COLUMN: an SQL expression of a blob column's bytes as text, to
# look for letters in (SQLite's CAST AS TEXT; on PostgreSQL, the escape
# encoding, where every byte outside printable ASCII is a backslash and
# digits: a letter in it is a letter of the blob).
blob_text() {
	if on_pg; then
		echo "encode($1, 'escape')"
	else
		echo "CAST($1 AS TEXT)"
	fi
}

# sql [QUERY]: QUERY (else standard input), read-only, on the server's
# database (sql .dump: every row of every table, as db_traces reads it).
sql() {
	if on_pg; then
		if [ $# -eq 0 ]; then
			# the query from standard input, as $(cat) has it
			local q=""
			IFS= read -r -d '' q || true
			[[ "$q" == *[!$'\n']* ]] && q=${q%"${q##*[!$'\n']}"} || q=""
			set -- "$q"
		fi
		if [ "$1" = .dump ]; then
			"$PG_BIN/pg_dump" --data-only --no-owner -d "$STORE_URL"
			return
		fi
		_psql "$1"
		return
	fi
	sqlite3 -readonly -batch -noheader -cmd '.timeout 5000' \
		"$DATA/offramp.db" "$@"
}

# sql_rw QUERY: QUERY, writable (the server must be stopped).
sql_rw() {
	if on_pg; then
		_psql -w "$1"
		return
	fi
	sqlite3 -batch -cmd '.timeout 5000' "$DATA/offramp.db" "$1"
}

# hexkey [-v VAR] B64: the hex of a base64 value, printed or, with -v, put
# in VAR; without a process (six bits a character, a byte out at every
# eight). Fails on a character outside the alphabet, as base64 -d would.
hexkey() {
	local var="" s c i v=0 bits=0 pre out="" h
	if [ "$1" = -v ]; then
		var=$2
		shift 2
	fi
	s=${1%%=*}
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		pre=${B64_ALPHABET%%"$c"*}
		[ ${#pre} -lt 64 ] || return 1
		v=$(((v << 6) | ${#pre}))
		bits=$((bits + 6))
		if [ "$bits" -ge 8 ]; then
			bits=$((bits - 8))
			printf -v h '%02x' $(((v >> bits) & 255))
			out+=$h
			v=$((v & ((1 << bits) - 1)))
		fi
	done
	if [ -n "$var" ]; then
		printf -v "$var" '%s' "$out"
	else
		printf '%s' "$out"
	fi
}

# table_counts: "table=rows" for every table of the database, one line.
# The query is made once a test, in $T/table_counts.sql (the schema is the
# server's, migrated at its first start): one sqlite3 process a call.
table_counts() {
	local q="$T/table_counts.sql"
	[ -s "$q" ] || sql "SELECT group_concat(x, ' UNION ALL ') FROM (SELECT
	    'SELECT ''' || name || '='' || count(*) FROM \"' || name || '\"' AS x
	    FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
	    ORDER BY name) AS s" >"$q"
	local c
	sql "$(<"$q")" >"$T/table_counts.out"
	c=$(<"$T/table_counts.out")
	echo "${c//$'\n'/ } "
}

# table_digest: the SHA-256 of every row of every table of the database,
# each table's rows in order, every column quoted: a refused request that
# changed a value (a status, a digest) changes it, where table_counts
# would not see it. Left out: accounts.seen, which a client's login moves
# (the day it was last seen). The query is made once a test, as
# table_counts' is: one sqlite3 process a call, whose shell's sha3_query()
# hashes the rows (SHA3-256 of every value with its type); on PostgreSQL,
# quote_nullable() for quote(), and sha256sum over the rows as psql
# prints them (a digest is compared with another of the same store
# only).
table_digest() {
	local q="$T/table_digest.sql" h
	if on_pg && [ ! -s "$q" ]; then
		sql "SELECT string_agg(x, ';' || chr(10) ORDER BY t) FROM (
		    SELECT c.table_name AS t, 'SELECT ''' || c.table_name
		    || ''', ' || string_agg('quote_nullable(\"' || c.column_name
		    || '\")', ', ' ORDER BY c.ordinal_position) || ' FROM \"'
		    || c.table_name || '\" ORDER BY ' || string_agg('\"'
		    || c.column_name || '\"', ', ' ORDER BY c.ordinal_position)
		    AS x FROM information_schema.columns c
		    WHERE c.table_schema = 'public'
		    AND c.table_name <> 'schema_version'
		    AND NOT (c.table_name = 'accounts' AND c.column_name = 'seen')
		    GROUP BY c.table_name) s" >"$q"
	fi
	[ -s "$q" ] || sql "SELECT group_concat(x, ';' || char(10)) FROM (
	    SELECT 'SELECT ''' || m.name || ''', ' || group_concat('quote(\"'
	    || p.name || '\")', ', ') || ' FROM \"' || m.name || '\" ORDER BY '
	    || group_concat('\"' || p.name || '\"', ', ') AS x
	    FROM sqlite_master m, pragma_table_info(m.name) p
	    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
	    AND NOT (m.name = 'accounts' AND p.name = 'seen')
	    GROUP BY m.name ORDER BY m.name)" >"$q"
	if on_pg; then
		sql "$(<"$q")" >"$T/table_digest.rows"
		sha256sum "$T/table_digest.rows" >"$T/table_digest.sum"
		read -r h _ <"$T/table_digest.sum"
		echo "$h"
		return
	fi
	h=$(<"$q")
	sql "SELECT lower(hex(sha3_query('${h//\'/\'\'}')))"
}

# account_id NAME: the id of identity NAME's account (by its key).
account_id() {
	local _ai_key="KEY_$1" _ai_hex
	hexkey -v _ai_hex "${!_ai_key}"
	sql "SELECT id FROM accounts WHERE key = X'$_ai_hex'"
}

# rows_of_case CASE: the rows of CASE left in every table that holds any.
rows_of_case() {
	sql "SELECT (SELECT count(*) FROM cases WHERE id = $1)
	    + (SELECT count(*) FROM case_participants WHERE case_id = $1)
	    + (SELECT count(*) FROM deliveries WHERE case_id = $1)
	    + (SELECT count(*) FROM case_notes WHERE case_id = $1)"
}

# traces_of_case CASE: what of case CASE stands in the database, one
# string a line, to look for later with db_traces: its id, and the first
# 32 bytes of each of its waiting copies' and its notes' ciphertexts, in
# hex.
traces_of_case() {
	echo "$1"
	sql "SELECT hex(substr(ct, 1, 32)) FROM deliveries WHERE case_id = $1;
	    SELECT hex(substr(ct, 1, 32)) FROM case_notes WHERE case_id = $1"
}

# traces_of_account NAME: identity NAME's public key, in hex, the name
# its account has, and the mids of its sends on record, in hex.
traces_of_account() {
	local id
	id=$(account_id "$1")
	sql "SELECT hex(key) FROM accounts WHERE id = $id;
	    SELECT name FROM accounts WHERE id = $id;
	    SELECT hex(mid) FROM sent WHERE sender_id = $id"
}

# db_traces: the lines of standard input (from traces_of_*) found anywhere
# in the database, one a line: every row of every table as sqlite3's .dump
# writes it (blobs as hex), numbers as whole words, letters of any case.
db_traces() {
	local dump t
	dump=$(sql .dump)
	while IFS= read -r t; do
		[ -n "$t" ] || continue
		if [[ "$t" =~ ^[0-9]+$ ]]; then
			grep -qw -- "$t" <<<"$dump" && echo "$t"
		else
			grep -qiF -- "$t" <<<"$dump" && echo "$t"
		fi
	done
	return 0
}

# data_files: the database files of the data directory that exist now.
# On PostgreSQL, whose files are the cluster's: a dump of the test's
# database (every row, $T/pg_rows.sql) and the cluster's WAL segments,
# where every commit is written first (a shared cluster's hold other
# tests' rows too; what a test looks for is its own).
data_files() {
	local f dir
	if on_pg; then
		sql .dump >"$T/pg_rows.sql"
		echo "$T/pg_rows.sql"
		dir=${OFFRAMP_PG_DIR:-$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$STORE_URL")}
		for f in "$dir"/data/pg_wal/0*; do
			[ -f "$f" ] && echo "$f"
		done
		return 0
	fi
	for f in "$DATA/offramp.db" "$DATA/offramp.db-wal" "$DATA/offramp.db-shm"; do
		[ -e "$f" ] && echo "$f"
	done
	return 0
}

# file_mode PATH: octal permission bits, e.g. 600.
file_mode() {
	stat -c %a "$1"
}

# ------------------------------------------------------ pools and pushes

# add_counsellor ADMIN ID NAME [PROFILE OPTIONS...]: ADMIN invites a
# counsellor, identity ID (made here, unless keygen made it before)
# redeems it as NAME with the options
# and starts its daemon (counsellor_up; not with COUNS_DAEMON=0). It is
# not certified yet (see certify_pending).
add_counsellor() {
	local admin=$1 id=$2 name=$3 inv out
	shift 3
	cli_out inv "$admin" invite --role counsellor
	inv=${inv##*$'\n'}
	local made="KEY_$id"
	[ -n "${!made:-}" ] || keygen "$id"
	cli_out out "$id" redeem "$inv" --name "$name" "$@"
	assert_field "$name redeemed a counsellor invite" counsellor "$out" role
	[ "${COUNS_DAEMON:-1}" = 0 ] || counsellor_up "$id"
}

# new_programme NAME: stops the running server, adds a programme with
# offramp-server --new-programme on the same data directory, and starts
# the server again. Sets PROG_TOKEN to the new programme's admin invite.
new_programme() {
	local out
	stop_server
	out=$("$OFFRAMP_SERVER_BIN" --data "$DATA" \
		${STORE_URL:+--store "$STORE_URL"} --new-programme "$1" 2>&1)
	PROG_TOKEN=$(printf '%s\n' "$out" |
		sed -n 's/^offramp-server: programme ".*" created; its admin invite token: *\([^ ]*\).*/\1/p' |
		head -n1)
	if [ -z "$PROG_TOKEN" ]; then
		fail "--new-programme $1 printed no token: $out"
		return 1
	fi
	start_server
}

# new_programme_admin NAME ADMIN ADMIN_NAME: a new programme NAME (as
# new_programme), its admin ADMIN (display name ADMIN_NAME) by its token,
# and its programme key (as programme_key ADMIN).
new_programme_admin() {
	local out
	new_programme "$1" || return 1
	keygen "$2"
	cli_out out "$2" redeem "$PROG_TOKEN" --name "$3"
	assert_field "$3 is the admin of $1" admin "$out" role
	programme_key "$2"
}

# partners_ab: programme "Second Path" (B, its admin admin2, as
# new_programme_admin made it) and the first programme (A, its admin
# admin) become partners: A proposes, B accepts. Sets B.
partners_ab() {
	local out
	B=$(sql "SELECT id FROM programmes WHERE name = 'Second Path'")
	out=$(cli admin partnership propose $(signing admin) "$B" "$PKEY_admin2")
	out=$(cli admin2 partnership accept $(signing admin2) "$(field "$out" partnership)" "$PKEY_admin")
	assert_field "A and B are partners" active "$out" status
}

# summed CLIENT CASE: CLIENT confirms who is in CASE and approves the
# summary "summary of case CASE" (raw frames); Sam (couns) sees who is
# in it (members) and sends it to the referral's partner counsellor.
summed() {
	local m text digest
	m=$(sql "SELECT members FROM cases WHERE id = $2")
	text="summary of case $2"
	digest=$(printf '%s' "$text" | b2sum -l 256 | cut -d' ' -f1 | xxd -r -p | base64 -w0)
	clirun "$1" raw --login --answered <<<"{\"v\":1,\"type\":\"case.seen\",\"id\":6,\"case\":$2,\"members\":$m}"
	# Sam confirms the partner's counsellor too (matching chose it: its
	# joining is every other participant's to confirm), and his CLI
	# writes to no colleague it has not shown him
	cli couns members "$2" >/dev/null
	clirun "$1" raw --login --answered <<<"{\"v\":1,\"type\":\"referral.approve\",\"id\":7,\"case\":$2,\"digest\":\"$digest\"}"
	assert_match "$1 confirms and approves a summary" "$OUT" '"type": *"referral.approve.ok"'
	cli couns referral summary "$2" "$text" >/dev/null
	assert_eq "  Sam sent it" 1 "$(sql "SELECT summary_sent FROM referrals
	    WHERE case_id = $2 ORDER BY id DESC LIMIT 1")"
}

# trust_a_only: the clients' CLIs are given A's programme key alone (a
# trust file of one line), as a client of A is.
trust_a_only() {
	printf '%s programme A\n' "$PKEY_admin" >"$T/trust-a"
	export TRUST_FILE="$T/trust-a"
}

# watch_start NAME: identity NAME logs in with `offramp raw --login` in the
# background and records every frame it receives in $T/watch-NAME.out,
# until watch_stop NAME. Returns once the login is done.
watch_start() {
	watch_open "$1"
	watch_wait "$1"
}

# watch_on PORT NAME WHO: a raw connection of WHO's account (a copy of its
# key file, as NAME) logged in at PORT (a node's), recording its frames.
watch_on() {
	cp "$IDS/$3.key" "$IDS/$2.key"
	PORT=$1 PASS_OVERRIDE=pass-$3 watch_start "$2"
}
WATCH_FDS=()

# watch_open NAME: watch_start without waiting for the login, so that
# several connections log in at once (PORT and PASS_OVERRIDE as the
# caller sets them); watch_wait NAME waits for it.
watch_open() {
	local who=$1 f="$T/watch-$1.out" fd
	: >"$f"
	mkfifo "$T/watch-$who.in"
	(
		# the writing ends of the other watchers' stdin stay ours only
		for fd in "${WATCH_FDS[@]}"; do
			exec {fd}>&-
		done
		CLI_LIMIT=600 cli "$who" raw --login --idle 1 \
			<"$T/watch-$who.in" >"$f" 2>&1
	) &
	printf -v "WATCH_PID_$who" '%s' "$!"
	exec {fd}>"$T/watch-$who.in"
	printf -v "WATCH_FD_$who" '%s' "$fd"
	WATCH_FDS+=("$fd")
	echo '{"v":1,"type":"ping","id":1}' >&"$fd"
}
watch_wait() {
	wait_for "$1's watcher to log in" 30 file_has "$T/watch-$1.out" \
		'"ping.ok"'
}

# watch_expect DESC NAME ERE: waits (at most 20 s) for a frame received by
# NAME's watcher that matches ERE; one assertion.
watch_expect() {
	local desc=$1 f="$T/watch-$2.out"
	if wait_for "$desc" 20 file_matches "$f" "$3"; then
		pass "$desc"
	fi
}

# watch_stop NAME: ends NAME's watcher (its stdin ends; it exits a second
# after the last frame).
watch_stop() {
	local pidv="WATCH_PID_$1" fdv="WATCH_FD_$1"
	local pid=${!pidv} fd=${!fdv} i
	exec {fd}>&-
	for i in "${!WATCH_FDS[@]}"; do
		[ "${WATCH_FDS[$i]}" != "$fd" ] || unset 'WATCH_FDS[i]'
	done
	wait "$pid" 2>/dev/null || true
	rm -f "$T/watch-$1.in"
}

# utc_hour: the current UTC hour, 0..23; utc_weekday: 0 (Monday)..6.
utc_hour() {
	echo $((10#$(date -u +%H)))
}
utc_weekday() {
	echo $(($(date -u +%u) - 1))
}

_zygote_start
