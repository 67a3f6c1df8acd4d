# test_fdlimit.sh: the server at its limit of open files (issue 16). Under
# `prlimit --nofile=64`, a client opens far more connections than the
# server has descriptors for: the server says so in one log line (not one
# per refused connection), closes the excess at once instead of leaving it
# to wait, stays up, and once some connections close it accepts again (one
# line) and a new client logs in.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LIMIT=64
OPEN=150		# connections the client opens: well over LIMIT
SERVER_WRAP="prlimit --nofile=$LIMIT:$LIMIT --" start_server
keygen client

# The client: opens OPEN TCP connections at once, waits (at most 30 s) for
# the server to close some of them, prints how many it closed, closes 20
# of those still open, prints "freed", and holds the rest until $T/done
# exists (at most 60 s).
"$PYTHON3" - "$PORT" "$OPEN" "$T/done" >"$T/flood.out" 2>&1 <<'EOF' &
import os, select, socket, sys, time
port, n, done = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = [socket.create_connection(("127.0.0.1", port), timeout=10)
         for _ in range(n)]
def closed_by_server(c):
    r, _, _ = select.select([c], [], [], 0)
    if not r:
        return False
    try:
        return c.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
end = time.time() + 30
closed = []
while time.time() < end:
    closed = [c for c in conns if closed_by_server(c)]
    if closed:
        time.sleep(0.5)		# the rest of the refused, closed in the same turn
        closed = [c for c in conns if closed_by_server(c)]
        break
    time.sleep(0.05)
print("closed by the server:", len(closed), flush=True)
open_ = [c for c in conns if c not in closed]
for c in open_[:20]:
    c.close()
print("freed", flush=True)
end = time.time() + 60
while not os.path.exists(done) and time.time() < end:
    time.sleep(0.05)
print("holding", len(open_) - 20, "at the end", flush=True)
EOF
FLOOD=$!

_flood_freed() { grep -q '^freed' "$T/flood.out"; }
wait_for "the client to open its connections and free some" 60 _flood_freed || true

step "the excess connections are closed, not left waiting"
closed=$(sed -n 's/^closed by the server: //p' "$T/flood.out")
assert_match "the server closed some of the $OPEN connections" "${closed:-0}" '^[1-9][0-9]*$'

step "one line when it starts refusing, none per attempt"
assert_eq "one 'out of file descriptors' line" 1 \
	"$(grep -c 'ws: out of file descriptors' "$SERVER_ERR" || true)"
assert_eq "no lws line per failed accept" 0 \
	"$(grep -c 'accept: errno' "$SERVER_ERR" || true)"
if kill -0 "$SERVER_PID" 2>/dev/null; then
	pass "the server is still up"
else
	fail "the server exited"
fi

step "descriptors freed: a new client logs in"
out=$(cli client login 2>&1) || fail "login after descriptors freed: $out"
assert_match "the new client is logged in" "$out" '^created: yes$'
_resumed() { grep -q 'ws: accepting connections again' "$SERVER_ERR"; }
wait_for "the 'accepting again' line" 10 _resumed
assert_eq "one 'accepting again' line" 1 \
	"$(grep -c 'ws: accepting connections again' "$SERVER_ERR" || true)"
assert_match "it counts the refused connections" \
	"$(grep 'ws: accepting connections again' "$SERVER_ERR")" '\(([1-9][0-9]*) refused meanwhile\)'

touch "$T/done"
wait "$FLOOD" || fail "the flooding client failed: $(cat "$T/flood.out")"
assert_match "the client held its connections to the end" \
	"$(cat "$T/flood.out")" 'holding [0-9]+ at the end'
stop_server
finish
