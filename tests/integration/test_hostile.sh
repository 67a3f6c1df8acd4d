# test_hostile.sh: the CLI against a server that is not ours
# (tests/tools/hostile_server.py, a stand-in that speaks the protocol and
# lies): a client bounds what such a server can make it do. A proof of
# work above the protocol's most (28 bits) is refused at once, not
# searched for days; an answer to a request the client never made ends
# the connection, where answers of any "re" were kept without a bound (a
# flood of them took the CLI's memory to 480 MB); a login answered for
# another role than the key file's (a client told it is a counsellor,
# which would take a stranger in its case as a client) is refused.
# about the CLI: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sqlite_only "the server is a stand-in (tests/tools/hostile_server.py): no store"

# hostile SCENARIO: the stand-in, listening; sets PORT and WS_SCHEME.
hostile() {
	rm -f "$T/hostile.port"
	"$PYTHON3" "$REPO_ROOT/tests/tools/hostile_server.py" "$T/hostile.port" "$1" \
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

step "a flood of pushes, each many times its bytes once parsed: memory bounded"
# what the CLI sets aside for a later wait is kept as the text the server
# sent, at most 16 MiB of it (parsed, these 36 MB took 2.4 GB)
# hwm.sh CMD...: runs CMD, writes the highest peak resident set (kB) of
# the processes it waited for (timeout(1) and its CLI: getrusage's
# RUSAGE_CHILDREN, the VmHWM of the largest) to $HWM_FILE, exits as CMD
# did; no polling (a loop of processes every 50 ms took CPU from the CLI
# it measured). Its floor is Python's own 10 MB, which the child has
# before its exec: the bound below is the one that matters.
cat >"$T/hwm.sh" <<EOF2
#!/usr/bin/env bash
exec "$PYTHON3" -c '
import os, resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL)
with open(os.environ["HWM_FILE"], "w") as f:
    f.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)
' "\$@"
EOF2
chmod +x "$T/hwm.sh"
hostile push-flood
# (a sanitized CLI: ASan's quarantine of freed memory, 256 MB, would
# count as resident; 8 MB of it here). The step bounds memory, not time:
# the sanitized CLI reading the 36 MB took more than the usual 20 s of
# --timeout once, in a clean clone's whole suite beside every PostgreSQL
# run (7 s alone).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8" \
	HWM_FILE=$T/hwm CLI_WRAP="$T/hwm.sh" CLI_TIMEOUT=90 CLI_LIMIT=120 \
	clirun client login
read -r hwm <"$T/hwm" || hwm=0
echo "   (the CLI's peak resident set: $hwm kB)"
assert_eq "the login goes through" 0 "$RC"
assert_eq "  its peak resident set under 400 MB (${hwm} kB)" 1 "$(( hwm > 0 && hwm < 400000 ))"
wait "$HOSTILE_PID" || true

step "a login answered for another role (a client told it is a counsellor): refused"
hostile role-lie
CLI_LIMIT=20 clirun client login
assert_ne "the login fails" 0 "$RC"
assert_match "  saying so" "$ERR" 'answered for another role'
wait "$HOSTILE_PID" || true

step "an answer to a request never made: the connection ends"
hostile stray-answer
CLI_LIMIT=20 clirun client login
assert_ne "the login fails" 0 "$RC"
assert_match "  saying so" "$ERR" 'answer to no request'
wait "$HOSTILE_PID" || true

finish
