# test_hostile.sh: the CLI against a server that is not ours
# (tests/tools/hostile_server.py, a stand-in that speaks the protocol and
# lies): a client bounds what such a server can make it do. A proof of
# work above the protocol's most (28 bits) is refused at once, not
# searched for days; an answer to a request the client never made ends
# the connection, where answers of any "re" were kept without a bound (a
# flood of them took the CLI's memory to 480 MB).
# about the CLI: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sqlite_only "the server is a stand-in (tests/tools/hostile_server.py): no store"

# hostile SCENARIO: the stand-in, listening; sets PORT and WS_SCHEME.
hostile() {
	rm -f "$T/hostile.port"
	python3 "$REPO_ROOT/tests/tools/hostile_server.py" "$T/hostile.port" "$1" \
		2>"$T/hostile-$1.err" &
	HOSTILE_PID=$!
	wait_for "the stand-in server to listen" 10 test -s "$T/hostile.port" || return 1
	read -r PORT <"$T/hostile.port"
	WS_SCHEME=ws
}

keygen client

step "a proof of work of 29 bits asked: refused at once"
hostile pow-high
t0=$EPOCHREALTIME
CLI_LIMIT=20 clirun client login
ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
assert_ne "the login fails" 0 "$RC"
assert_match "  saying the challenge is bad" "$ERR" 'bad challenge \(pow\)'
assert_eq "  at once, not after a search (${ms} ms)" 1 "$(( ms < 10000 ))"
wait "$HOSTILE_PID" || true

step "an answer to a request never made: the connection ends"
hostile stray-answer
CLI_LIMIT=20 clirun client login
assert_ne "the login fails" 0 "$RC"
assert_match "  saying so" "$ERR" 'answer to no request'
wait "$HOSTILE_PID" || true

finish
