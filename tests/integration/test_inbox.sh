#!/usr/bin/env bash
# test_inbox: offramp inbox in a terminal (tmux), as a person uses it: a
# counsellor with two cases sees both with unread counts, is told of a
# message in the other case while typing without the typed line broken,
# switches cases and reads the history with times, sends (✓, then ✓✓ once
# the client received it) and reads multi-line messages, sees a new case
# come and a case close; a client's inbox under offramp daemon sees its
# counsellor leave (disabled) and another join; /quit and Ctrl-C give the terminal
# its settings back.
# about the CLI: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || { fail "tmux is not installed (deploy/install-deps.sh --test)"; finish; }

TMUX_SOCK="$T/tmux.sock"
tm() {
	tmux -S "$TMUX_SOCK" "$@"
}
# the tmux server goes with the test, however it ends
trap '_rc=$?; trap - ERR; set +e; tmux -S "$TMUX_SOCK" kill-server 2>/dev/null; (exit $_rc); _on_exit' EXIT

# pane NAME: the screen of window NAME as it is now (wide lines joined).
pane() {
	tm capture-pane -p -J -t "$1"
}
# pane_has NAME TEXT: the screen of NAME shows TEXT (a fixed string).
pane_has() {
	[[ "$(pane "$1")" == *"$2"* ]]
}
# pane_match NAME ERE
pane_match() {
	pane "$1" | grep -qE -- "$2"
}
# last_line NAME: the last line of NAME's screen that is not empty.
last_line() {
	pane "$1" | sed 's/[[:space:]]*$//; /^$/d' | tail -n1
}
last_is() {
	[ "$(last_line "$1")" == "$2" ]
}
# expect_pane DESC NAME TEXT: waits for TEXT on NAME's screen; one
# assertion.
expect_pane() {
	if wait_for "$1" 20 pane_has "$2" "$3"; then
		pass "$1"
	else
		pane "$2" | tail -n 25 | sed 's/^/        | /'
	fi
}
expect_pane_match() {
	if wait_for "$1" 20 pane_match "$2" "$3"; then
		pass "$1"
	else
		pane "$2" | tail -n 25 | sed 's/^/        | /'
	fi
}
# type NAME TEXT: TEXT typed into NAME, as it is (no Enter).
type_in() {
	tm send-keys -t "$1" -l -- "$2"
}
enter() {
	tm send-keys -t "$1" Enter
}

# inbox_script WHO FILE [OPTIONS...]: a script that runs WHO's inbox in
# a terminal, with the terminal's settings saved before and after and the
# exit status.
inbox_script() {
	local who=$1 f=$2
	shift 2
	cat >"$f" <<EOF
#!/usr/bin/env bash
trap : INT	# Ctrl-C is the inbox's: this script goes on after it
stty -a >"$T/$who.stty.before"
OFFRAMP_TRUST_FILE="$IDS/trust" OFFRAMP_PASSPHRASE="pass-$who" \\
timeout --foreground -k 5 120 "$OFFRAMP_CLI_BIN" \\
	--server "$WS_SCHEME://127.0.0.1:$PORT" \\
	--ca "$CERT" --key "$IDS/$who.key" --timeout 20 $* inbox
echo "exit=\$?" >"$T/$who.rc"
stty -a >"$T/$who.stty.after"
EOF
	chmod +x "$f"
}
# inbox_start NAME WHO: WHO's inbox in a new tmux window NAME, 100x40.
inbox_start() {
	rm -f "$T/$2.rc" "$T/$2.stty.before" "$T/$2.stty.after"
	inbox_script "$2" "$T/$2.sh"
	if tm has-session -t inbox 2>/dev/null; then
		tm new-window -d -t inbox -n "$1" "$T/$2.sh"
	else
		tm new-session -d -s inbox -n "$1" -x 100 -y 40 "$T/$2.sh"
		tm set-option -g remain-on-exit on
	fi
}

start_server
setup_pool

step "two clients, two cases of Sam, a message waiting in each"
keygen cla clb
cli_out out cla request --language en --topic leaving
field_to CASE_A "$out" case
cli_out out clb request --language en --topic leaving
field_to CASE_B "$out" case
NAME_A=$(field "$(cli cla login)" name)
NAME_B=$(field "$(cli clb login)" name)
assert_contains "case A is Sam's" "$(cli cla cases)" Sam
assert_contains "case B is Sam's" "$(cli clb cases)" Sam
cli cla send "$CASE_A" "first from A" >/dev/null
cli clb send "$CASE_B" "first from B" >/dev/null

step "Sam's inbox lists both cases with their unread counts"
inbox_start sam couns
expect_pane "the inbox starts" sam "offramp inbox of Sam"
expect_pane_match "case A with its client and 1 unread" sam "#[0-9]+ +case $CASE_A  active  with $NAME_A  1 unread"
expect_pane_match "case B with its client and 1 unread" sam "#[0-9]+ +case $CASE_B  active  with $NAME_B  1 unread"
screen=$(pane sam)
# the one opened first is the first of the list (newest first: B)
NUM_B=$(sed -n "s/^.*#\([0-9]*\) *case $CASE_B .*/\1/p" <<<"$screen" | head -n1)
NUM_A=$(sed -n "s/^.*#\([0-9]*\) *case $CASE_A .*/\1/p" <<<"$screen" | head -n1)
OPEN=$(sed -n 's/^== case #\([0-9]*\) .*/\1/p' <<<"$screen" | head -n1)
if [ "$OPEN" = "$NUM_A" ]; then
	OTHER_NUM=$NUM_B OTHER=clb OTHER_CASE=$CASE_B OTHER_NAME=$NAME_B
	OPEN_CASE=$CASE_A OPEN_CL=cla OPEN_NAME=$NAME_A
else
	OTHER_NUM=$NUM_A OTHER=cla OTHER_CASE=$CASE_A OTHER_NAME=$NAME_A
	OPEN_CASE=$CASE_B OPEN_CL=clb OPEN_NAME=$NAME_B
fi
expect_pane_match "the open case shows its waiting message with its time" sam \
	"^[0-9]{2}:[0-9]{2} $OPEN_NAME: first from"
expect_pane "the prompt names the open case and the unread elsewhere" sam "[1 unread] #$OPEN>"

step "a message in the other case while Sam types: a notice above, the line kept"
type_in sam "half a sentence"
if wait_for "the typed text on screen" 10 last_is sam "[1 unread] #$OPEN> half a sentence"; then
	pass "the typed text shows after the prompt"
fi
cli "$OTHER" send "$OTHER_CASE" "second from the other" >/dev/null
expect_pane "the notice of the new message" sam "-- new message in #$OTHER_NUM ($OTHER_NAME): 2 unread (/open $OTHER_NUM)"
if wait_for "the typed line redrawn under it" 10 last_is sam "[2 unread] #$OPEN> half a sentence"; then
	pass "the typed line is whole on the last line, with 2 unread"
fi
assert_not_contains "the message text of the other case is not shown" "$(pane sam)" "second from the other"

step "sending from the inbox: ✓ on the server's ack, ✓✓ once received"
type_in sam " and its end"
enter sam
expect_pane_match "Sam's message shows with its time and ✓" sam \
	"^[0-9]{2}:[0-9]{2} me: half a sentence and its end ✓$"
cli_out out "$OPEN_CL" recv --count 1
assert_eq "the client receives it" "$OPEN_CASE"$'\t'"Sam"$'\t'"half a sentence and its end" "$out"
expect_pane_match "✓✓ once the client received it" sam \
	"^[0-9]{2}:[0-9]{2} ✓✓ delivered: \"half a sentence and its end\"$"

step "multi-line messages both ways"
type_in sam 'first line\'
enter sam
expect_pane "a continued line is shown as composed" sam "  | first line"
type_in sam 'second line'
enter sam
expect_pane_match "the message shows on two lines" sam "^[0-9]{2}:[0-9]{2} me: first line$"
expect_pane_match "  the second indented, with ✓" sam "^        second line ✓$"
cli_out out "$OPEN_CL" --json recv --count 1
assert_contains "the client gets the line break" "$out" '"text":"first line\nsecond line"'
printf 'one\ntwo\nthree' | cli "$OPEN_CL" send "$OPEN_CASE" - >/dev/null
expect_pane_match "a client's multi-line message: first line" sam "^[0-9]{2}:[0-9]{2} $OPEN_NAME: one$"
expect_pane "  then its other lines, indented" sam $'        two\n        three'

step "switching cases shows the history with times"
type_in sam "/open $OTHER_NUM"
enter sam
expect_pane "the other case opens" sam "== case #$OTHER_NUM ($OTHER_NAME) $OTHER_CASE, active =="
expect_pane_match "its first message, with its time" sam "^[0-9]{2}:[0-9]{2} $OTHER_NAME: first from"
expect_pane_match "and the one that came while Sam typed" sam "^[0-9]{2}:[0-9]{2} $OTHER_NAME: second from the other$"
if wait_for "no unread left in the prompt" 10 last_is sam "#$OTHER_NUM>"; then
	pass "the prompt has no unread left"
fi
type_in sam "/who"
enter sam
expect_pane "/who lists the participants" sam "  $OTHER_NAME (client)"
expect_pane "  and Sam, as you" sam "  Sam (counsellor, you)"
type_in sam "/open $OPEN"
enter sam
expect_pane_match "back in the first case, Sam's message with ✓✓" sam \
	"^[0-9]{2}:[0-9]{2} me: half a sentence and its end ✓✓$"

step "a new case comes live; a case closed is told"
keygen clc
cli_out out clc request --language en --topic leaving
field_to CASE_C "$out" case
expect_pane_match "the new case is told as assigned" sam "^-- #[0-9]+ \([^)]*\) case $CASE_C: assigned to you"
cli "$OTHER" close "$OTHER_CASE" >/dev/null
expect_pane "the closed case is told" sam "-- #$OTHER_NUM ($OTHER_NAME): case closed"
type_in sam "/cases"
enter sam
expect_pane_match "/cases lists three" sam "^cases \(3\):"

step "/quit gives the terminal back"
type_in sam "/quit"
enter sam
wait_for "the inbox to end" 20 test -f "$T/couns.rc" || true
assert_eq "the inbox exits 0" "exit=0" "$(cat "$T/couns.rc" 2>/dev/null)"
wait_for "the settings after" 10 test -s "$T/couns.stty.after" || true
assert_eq "the terminal settings are as before" "$(cat "$T/couns.stty.before")" "$(cat "$T/couns.stty.after")"

step "a client's inbox in offramp daemon: its counsellor leaves, another joins"
add_counsellor admin lee Lee --languages en --topics leaving
certify_pending Lee
(umask 077; printf 'pass-%s\n' "$OPEN_CL" >"$T/$OPEN_CL.pass")
OFFRAMP_TRUST_FILE="$IDS/trust" timeout -k 5 120 "$OFFRAMP_CLI_BIN" \
	--server "$WS_SCHEME://127.0.0.1:$PORT" --ca "$CERT" --key "$IDS/$OPEN_CL.key" \
	--passphrase-file "$T/$OPEN_CL.pass" --timeout 5 daemon 2>"$T/daemon.err" </dev/null &
DAEMON_PID=$!
wait_for "the daemon to connect" 20 grep -q 'connected to' "$T/daemon.err" || true
inbox_start cl "$OPEN_CL"
expect_pane "the client's inbox starts in the daemon" cl "== case #1 (Sam) $OPEN_CASE, active =="
cli admin disable Sam >/dev/null
expect_pane "Sam left" cl "Sam (counsellor) left"
expect_pane "Lee joined" cl "Lee (counsellor) joined"
tm send-keys -t cl C-d
wait_for "the client's inbox to end" 20 test -f "$T/$OPEN_CL.rc" || true
assert_eq "Ctrl-D ends it, status 0" "exit=0" "$(cat "$T/$OPEN_CL.rc" 2>/dev/null)"
wait_for "the settings after" 10 test -s "$T/$OPEN_CL.stty.after" || true
assert_eq "the terminal settings are as before (daemon)" \
	"$(cat "$T/$OPEN_CL.stty.before")" "$(cat "$T/$OPEN_CL.stty.after")"
inbox_start cl2 "$OPEN_CL"
expect_pane "the client's inbox starts in the daemon again" cl2 "== case #1 (Lee) $OPEN_CASE"
tm send-keys -t cl2 C-c
wait_for "the settings after Ctrl-C" 20 test -s "$T/$OPEN_CL.stty.after" || true
assert_eq "Ctrl-C: the terminal settings are as before (daemon)" \
	"$(cat "$T/$OPEN_CL.stty.before")" "$(cat "$T/$OPEN_CL.stty.after")"
# the inbox there ends with its caller: another long command may run
if wait_for "the daemon's inbox to end with its caller" 10 \
	cli "$OPEN_CL" recv --wait 0.1; then
	pass "the daemon's inbox ended with its caller; the daemon serves on"
fi
if kill -TERM "$DAEMON_PID" 2>/dev/null; then
	pass "the daemon still runs after its inboxes"
else
	fail "the daemon ended before it was stopped:"
	tail -n 30 "$T/daemon.err" | sed 's/^/        | /'
fi
RC=0; wait "$DAEMON_PID" 2>/dev/null || RC=$?
assert_eq "the daemon exits 0 (no sanitizer report)" 0 "$RC"

step "Ctrl-C gives the terminal back"
inbox_start lee lee
expect_pane "Lee's inbox starts, with the cases moved to Lee" lee "offramp inbox of Lee"
tm send-keys -t lee C-c
wait_for "the settings after Ctrl-C" 20 test -s "$T/lee.stty.after" || true
assert_eq "Ctrl-C ends the inbox as SIGINT does" "exit=130" "$(cat "$T/lee.rc" 2>/dev/null)"
assert_eq "the terminal settings are as before (Ctrl-C)" "$(cat "$T/lee.stty.before")" "$(cat "$T/lee.stty.after")"

step "without a terminal the inbox reads lines"
out=$(printf '/cases\n/open 1\nfrom a pipe\n' | cli lee inbox 2>&1)
assert_match "a line sent from a pipe, with ✓" "$out" "^[0-9]{2}:[0-9]{2} me: from a pipe ✓$"
assert_not_contains "no prompt drawn" "$out" "#1>"

finish
