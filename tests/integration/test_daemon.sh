#!/usr/bin/env bash
# test_daemon: offramp daemon holds a key file and a connection; every
# command of that key file runs through it with no passphrase, also while
# a chat runs; it connects again after the server restarts; and it refuses
# a second daemon, another key file, a socket or directory that is not
# private, and a request over its size bound; started with a relative key
# path, it saves to that file whatever directory a command comes from; its
# passphrase is not left in its environment, and it makes no core file.
# about the CLI: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
. "$(dirname "$0")/lib.sh"

start_server
COUNS_DAEMON=0 setup_pool	# this test starts Sam's daemon itself

SOCK="$IDS/couns.key.d/sock"
(umask 077; printf 'pass-couns\n' >"$T/couns.pass")

# daemon_start: Sam's daemon, passphrase from a file, in the background.
daemon_start() {
	: >"$T/daemon.err"
	OFFRAMP_TRUST_FILE="$IDS/trust" timeout -k 5 120 "$OFFRAMP_CLI_BIN" \
		--server "$WS_SCHEME://127.0.0.1:$PORT" --ca "$CERT" \
		--key "$IDS/couns.key" --passphrase-file "$T/couns.pass" \
		--timeout 5 daemon 2>"$T/daemon.err" </dev/null &
	DAEMON_PID=$!
	wait_for "the daemon to connect" 20 grep -q 'connected to' "$T/daemon.err"
}
daemon_gone() {
	! kill -0 "$DAEMON_PID" 2>/dev/null
}

# dcli ARGS...: Sam's CLI with no passphrase at all.
dcli() {
	OFFRAMP_TRUST_FILE="$IDS/trust" timeout -k 5 60 "$OFFRAMP_CLI_BIN" \
		--server "$WS_SCHEME://127.0.0.1:$PORT" --ca "$CERT" \
		--key "$IDS/couns.key" --timeout 10 "$@"
}
dclirun() {
	RC=0
	OUT=$(dcli "$@" 2>"$T/dcli.err") || RC=$?
	ERR=$(cat "$T/dcli.err")
}

step "the daemon starts with the passphrase once; its socket is private"
daemon_start
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the client's case is active: Sam is connected" active "$out" status
assert_eq "socket directory mode" 700 "$(file_mode "$IDS/couns.key.d")"
assert_eq "socket mode" 600 "$(file_mode "$SOCK")"

step "commands run through it with no passphrase"
dclirun cases
assert_eq "cases exits 0" 0 "$RC"
assert_match "cases lists the case" "$OUT" "^$CASE active"
dclirun whoami
assert_eq "whoami exits 0" 0 "$RC"
assert_field "whoami prints Sam's key" "$KEY_couns" "$OUT" key
dclirun --json cases
assert_match "--json through the daemon: the answer as a JSON line" "$OUT" \
	'^\{"v":1,"type":"case\.list\.ok",'
dclirun --json chat "$CASE"
assert_eq "  chat --json through the daemon: usage" 2 "$RC"
RC=0
OUT=$(printf 'from stdin\n' | dcli send "$CASE" - 2>"$T/dcli.err") || RC=$?
assert_eq "send CASE - exits 0" 0 "$RC"
assert_match "send prints the mid" "$OUT" '^sent: '
cli_out out client recv --count 1
assert_contains "the client got the text from stdin" "$out" "from stdin"
dclirun send "$CASE" "hello" "there"
assert_eq "send exits 0" 0 "$RC"
dclirun history "$CASE"
assert_contains "history through the daemon" "$OUT" "me: hello there"
dclirun take 1
assert_eq "a usage error keeps its status through the daemon" 1 "$((RC != 0))"
dclirun nosuch
assert_eq "an unknown command is a usage error" 2 "$RC"

step "a command while a chat runs in the daemon"
mkfifo "$T/chat.in"
dcli chat "$CASE" <"$T/chat.in" >"$T/chat.out" 2>"$T/chat.err" &
CHAT_PID=$!
exec {CHATFD}>"$T/chat.in"
echo "line from chat" >&"$CHATFD"
cli_out out client recv --count 2
assert_contains "the chat's line arrived" "$out" "line from chat"
dclirun cases
assert_eq "cases during the chat exits 0" 0 "$RC"
assert_match "cases during the chat" "$OUT" "^$CASE active"
dclirun send "$CASE" "beside the chat"
assert_eq "send during the chat exits 0" 0 "$RC"
dclirun recv --wait 1
assert_eq "a second long command is refused" 1 "$RC"
assert_contains "and says why" "$ERR" "one of chat, inbox and recv --wait at a time"
cli client send "$CASE" "to the chat" >/dev/null
wait_for "the chat to show the client's line" 20 grep -q "to the chat" "$T/chat.out"
assert_contains "the chat shows the client's line" "$(cat "$T/chat.out")" "to the chat"
exec {CHATFD}>&-
RC=0
wait "$CHAT_PID" || RC=$?
assert_eq "the chat ends with its stdin, status 0" 0 "$RC"

step "a chat whose caller is killed ends in the daemon"
cli client recv >/dev/null	# what the client had not read yet
mkfifo "$T/chat2.in"
dcli chat "$CASE" <"$T/chat2.in" >/dev/null 2>&1 &
CHAT_PID=$!
exec {CHATFD}>"$T/chat2.in"
echo "second chat" >&"$CHATFD"
cli_out out client recv --count 1
assert_contains "the second chat runs" "$out" "second chat"
kill -9 "$CHAT_PID"; wait "$CHAT_PID" 2>/dev/null || true
exec {CHATFD}>&-
dclirun recv --wait 0.2
assert_eq "a long command runs again once the caller is gone" 0 "$RC"

step "the daemon connects again after the server restarts"
OLDPORT=$PORT
stop_server
start_server --port "$OLDPORT"
wait_for "the daemon to connect again" 30 bash -c "[ \$(grep -c 'connected to' '$T/daemon.err') -ge 2 ]"
cli client recv >/dev/null
dclirun send "$CASE" "after the restart"
assert_eq "send after the restart exits 0" 0 "$RC"
cli_out out client recv --count 1
assert_contains "the client got it" "$out" "after the restart"

step "bad input"
RC=0
OFFRAMP_TRUST_FILE="$IDS/trust" "$OFFRAMP_CLI_BIN" --server "$WS_SCHEME://127.0.0.1:$PORT" \
	--ca "$CERT" --key "$IDS/couns.key" --passphrase-file "$T/couns.pass" daemon \
	2>"$T/second.err" </dev/null || RC=$?
assert_eq "a second daemon exits 1" 1 "$RC"
assert_contains "a second daemon is refused" "$(cat "$T/second.err")" "a daemon already serves"
dclirun cases --key "$IDS/client.key"
assert_eq "--key of another file after the command: usage error" 2 "$RC"
assert_contains "and says which key file the daemon serves" "$ERR" "names another key file"
mkdir -m 700 "$IDS/other.key.d"
cp "$IDS/client.key" "$IDS/other.key"
ln -s "$SOCK" "$IDS/other.key.d/sock"
dclirun --key "$IDS/other.key" cases
assert_eq "a socket that is a symlink is refused" 1 "$RC"
rm "$IDS/other.key.d/sock"
"$PYTHON3" - "$SOCK" "$IDS/other.key.d/sock" <<'PY'
import os, socket, sys
# a socket named for other.key, handing requests to Sam's daemon
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[2]); os.chmod(sys.argv[2], 0o600)
PY
rm "$IDS/other.key.d/sock"
ln "$SOCK" "$IDS/other.key.d/sock" 2>/dev/null || cp -a "$SOCK" "$IDS/other.key.d/sock"
dclirun --key "$IDS/other.key" cases
assert_eq "another key file's request is refused" 1 "$RC"
assert_contains "with the key file the daemon serves" "$ERR" "serves the key file"
rm -rf "$IDS/other.key.d" "$IDS/other.key"
chmod 755 "$IDS/couns.key.d"
dclirun cases
assert_eq "a socket directory of mode 755 is refused" 1 "$RC"
assert_contains "and says the mode" "$ERR" "has mode 755"
chmod 700 "$IDS/couns.key.d"
chmod 644 "$SOCK"
dclirun cases
assert_eq "a socket of mode 644 is refused" 1 "$RC"
assert_contains "and says the mode" "$ERR" "has mode 644"
chmod 600 "$SOCK"
out=$("$PYTHON3" - "$SOCK" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack(">I", 10_000_000) + b"x" * 1000)
n = struct.unpack(">I", s.recv(4))[0]
print(s.recv(n).decode())
PY
)
assert_contains "a frame over the bound is refused" "$out" "refuses a request over 65536 bytes"
dclirun cases
assert_eq "the daemon still serves" 0 "$RC"

step "the daemon stops on SIGTERM and commands run alone again"
kill -TERM "$DAEMON_PID"
wait_for "the daemon to stop" 20 daemon_gone
RC=0; wait "$DAEMON_PID" || RC=$?
assert_eq "the daemon exits 0" 0 "$RC"
assert_eq "its socket is gone" no "$([ -e "$SOCK" ] && echo yes || echo no)"
clirun couns cases
assert_eq "cases without the daemon" 0 "$RC"

step "a passphrase file others may read is said to be so"
printf 'pass-couns\n' >"$T/open.pass"
chmod 644 "$T/open.pass"
clirun couns --passphrase-file "$T/open.pass" whoami
assert_eq "it opens the key file all the same" 0 "$RC"
assert_contains "  with a warning" "$ERR" "warning: the passphrase file $T/open.pass is readable by others (mode 644)"
clirun couns --passphrase-file "$T/couns.pass" whoami
assert_not_contains "a file of mode 600: no warning" "$ERR" "warning"

step "a daemon started with a relative key path saves to its key file, whoever's directory a command comes from"
: >"$T/daemon.err"
# (its passphrase from the environment this time)
(cd "$IDS" && exec env OFFRAMP_TRUST_FILE="$IDS/trust" OFFRAMP_PASSPHRASE=pass-couns \
	timeout -k 5 120 "$OFFRAMP_CLI_BIN" \
	--server "$WS_SCHEME://127.0.0.1:$PORT" --ca "$CERT" \
	--key couns.key --timeout 5 daemon 2>"$T/daemon.err" </dev/null) &
DAEMON_PID=$!
wait_for "the daemon to connect" 20 grep -q 'connected to' "$T/daemon.err"
dpid=$(pgrep -P "$DAEMON_PID" | head -n1)
assert_match "the daemon's process" "$dpid" '^[0-9]+$'
assert_eq "the passphrase is not left in its environment (wiped where exec put it)" 0 \
	"$(tr '\0' '\n' <"/proc/$dpid/environ" | grep -c 'pass-couns' || true)"
assert_match "it makes no core file" "$(grep '^Max core file size' "/proc/$dpid/limits")" \
	'^Max core file size +0 +0 '
mkdir -p "$T/elsewhere"
(cd "$T/elsewhere" && dclirun history-keep 7 && [ "$RC" -eq 0 ])
assert_eq "no key file made where the command came from" "" "$(ls "$T/elsewhere")"
kill -TERM "$DAEMON_PID"
wait_for "the daemon to stop" 20 daemon_gone
wait "$DAEMON_PID" || true
clirun couns history-keep
assert_contains "the key file itself keeps the setting" "$OUT" "7 days"
cli couns history-keep off >/dev/null

step "without a daemon, a busy key file points to offramp daemon"
mkfifo "$T/chat3.in"
cli couns chat "$CASE" <"$T/chat3.in" >/dev/null 2>&1 &
CHAT_PID=$!
exec {CHATFD}>"$T/chat3.in"
echo "third chat" >&"$CHATFD"
cli_out out client recv --count 1
assert_contains "the chat without a daemon runs" "$out" "third chat"
CLI_TIMEOUT=1 clirun couns cases
assert_eq "cases during it fails" 1 "$RC"
assert_contains "and names offramp daemon" "$ERR" "offramp daemon lets several commands use it at once"
exec {CHATFD}>&-
wait "$CHAT_PID" || true
finish
