# test_presence.sh: presence follows the connection. A counsellor who
# chose online gets new cases only while at least one of its connections
# is logged in and it is not idle: waiting clients get their case when it
# connects; it keeps getting cases while any connection is left; after the
# idle time with no request of its own it counts as away, and its next
# request brings it back (and the waiting case to it). What it chose
# (away) still holds while connected. Being there is never stored: after
# a restart nobody is. Admins and the counsellor see why new cases come
# or not; a bad --idle-away is refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server --rematch-period 1 --idle-away 0
COUNS_DAEMON=0 setup_pool		# Sam: online, certified, not connected

# sam_line: Sam's line of the admin's counsellor list. status_of WHO
# CASE: the status of CASE in WHO's list. The polls below use sam_has and
# status_is, without a subshell or a pipe (a fork costs milliseconds of
# CPU on the 2-core VM): first_match sets FIRST_MATCH.
sam_line() {
	local out
	cli_out out admin counsellors || true
	first_match "$out" '^(.* Sam .*)$' || true
	echo "$FIRST_MATCH"
}
sam_has() {
	local out
	cli_out out admin counsellors || return 1
	first_match "$out" '^(.* Sam .*)$' && [[ "$FIRST_MATCH" == *"$1"* ]]
}
status_of() {
	local out
	cli_out out "$1" cases || true
	first_match "$out" "^$2 ([a-z]*) " || true
	echo "$FIRST_MATCH"
}
status_is() {
	local out
	cli_out out "$1" cases || true
	first_match "$out" "^$2 ([a-z]*) " && [ "$FIRST_MATCH" = "$3" ]
}
waits() { status_is "$1" "$2" waiting; }
active() { status_is "$1" "$2" active; }
# request WHO: WHO (made here) asks for a case; sets CASE.
request() {
	keygen "$1"
	CASE=$(field "$(cli "$1" request --language en --topic leaving)" case)
	assert_match "$1 has a case" "$CASE" '^[0-9]+$'
}

step "not connected: online and certified, but no case comes"
assert_contains "the admin sees Sam not connected" "$(sam_line)" \
	"presence=online certified=yes disabled=no connections=0 new-cases=not-connected"
request c1
C1=$CASE
assert_eq "the case waits" waiting "$(status_of c1 "$C1")"
holds 2500 waits c1 "$C1" && pass "through two rematch jobs it still waits" ||
	fail "a case went to a counsellor who is not connected"

step "Sam connects: the waiting client gets its case at once"
counsellor_up couns
wait_for "c1's case to become active" 10 active c1 "$C1" &&
	pass "c1's case is active"
assert_match "  with Sam" "$(cli c1 cases | grep "^$C1 ")" "[ ,]Sam([ ,]|$)"
assert_contains "the admin sees Sam connected" "$(sam_line)" "connections=1 new-cases=yes"
cli_out out couns profile
assert_field "Sam's profile: one connection (the daemon's)" 1 "$out" connections
assert_field "  and new cases come" yes "$out" "new cases"

step "any connection will do: the daemon stops, a second one stays"
watch_start couns			# a second connection of Sam's account
counsellor_down couns
assert_contains "one connection left" "$(sam_line)" "connections=1 new-cases=yes"
request c2
assert_eq "c2's case goes to Sam at once" active "$(status_of c2 "$CASE")"
watch_stop couns
gone() { sam_has "connections=0 new-cases=not-connected"; }
wait_for "Sam's last connection to be gone" 10 gone && pass "the last connection closed"
request c3
C3=$CASE
holds 2500 waits c3 "$C3" && pass "with none left, c3 waits" ||
	fail "c3's case went to a counsellor with no connection"

step "what Sam chose still holds: away while connected takes no case"
counsellor_up couns
wait_for "c3's case to go to Sam, connected again" 10 active c3 "$C3" &&
	pass "c3's case is active"
cli_out out couns profile --presence away
assert_field "Sam chose away" away "$out" presence
assert_field "  so no new cases, though connected" "no (away)" "$out" "new cases"
request c4
C4=$CASE
holds 2500 waits c4 "$C4" && pass "c4 waits while Sam is away" ||
	fail "a case went to a counsellor who chose away"
cli couns profile --presence online >/dev/null
wait_for "c4's case to go to Sam, online again" 10 active c4 "$C4" &&
	pass "online again: c4's case is Sam's"

step "being there is not stored: after a restart, nobody is until they connect"
for c in c1 c2 c3 c4; do		# Sam's caseload (5) has room again
	cli "$c" close "$(cli "$c" cases | sed -n 's/^\([0-9]*\) active .*/\1/p')" >/dev/null
done
counsellor_down couns
stop_server
# --idle-away 10: longer than a CLI command takes on a busy machine, so
# that the admin's look right after Sam's request still sees Sam at work.
start_server --rematch-period 1 --idle-away 10
assert_contains "after the restart Sam is not connected" "$(sam_line)" "connections=0"

step "idle: connected, but no request of its own for --idle-away seconds"
counsellor_up couns
idle() { sam_has "connections=1 new-cases=idle"; }
WAIT_EVERY=1 wait_for "Sam to be idle" 30 idle && pass "the admin sees Sam idle"
request c5
C5=$CASE
holds 2500 waits c5 "$C5" && pass "c5 waits while Sam is idle" ||
	fail "a case went to an idle counsellor"
cli couns queue >/dev/null		# looking at the queue is work
assert_contains "the admin sees Sam at work" "$(sam_line)" "new-cases=yes"
wait_for "c5's case to go to Sam, back at work" 10 active c5 "$C5" &&
	pass "a request of Sam's own (queue) brought Sam back, and c5's case to Sam"
WAIT_EVERY=1 wait_for "Sam to be idle again" 30 idle && pass "idle again after --idle-away"
cli_out out couns profile
assert_field "Sam's own look at the profile counts as work" yes "$out" "new cases"

if on_pg; then
	step "a matching undone part way is told to nobody (PostgreSQL: another session holds a case's row)"
	# Sam, idle again, comes back to work: its unit of work gives c6's case
	# to Sam, then waits for c7's row, which a psql session holds, and
	# gives up (the lock wait's 2 s): undone, c6 was told nothing of it
	WAIT_EVERY=1 wait_for "Sam to be idle once more" 30 idle
	request c6
	C6=$CASE
	request c7
	C7=$CASE
	watch_start c6
	hold_row "cases WHERE id = $C7"
	cli couns queue >/dev/null	# back at work, and the rematch job
	holds 3000 waits c6 "$C6" && pass "c6's case still waits in the store" ||
		fail "c6's case did not wait"
	assert_no_match "  and c6 was told of no counsellor" \
		"$(<"$T/watch-c6.out")" '"type":"case".*"status":"active"'
	release_row
	wait_for "c6's case to go to Sam, the row released" 10 active c6 "$C6" &&
		pass "released, c6's case is Sam's"
	watch_expect "  and c6 is told so" c6 "\"type\":\"case\".*\"id\":$C6.*\"status\":\"active\""
	watch_stop c6
fi

step "bad --idle-away values are refused at start"
for bad in -1 86401 soon; do
	RC=0
	out=$("$OFFRAMP_SERVER_BIN" --data "$T/bad" --idle-away "$bad" --check-config 2>&1) || RC=$?
	assert_eq "--idle-away $bad: exit 2" 2 "$RC"
	assert_contains "  named" "$out" "idle-away"
done

counsellors_down
stop_server
finish
