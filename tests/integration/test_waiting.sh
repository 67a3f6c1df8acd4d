# test_waiting.sh: a case with no counsellor for its language waits; a
# second request is refused; a counsellor who speaks it is matched once
# the programme has certified its key (not before).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# Sam speaks en only

step "a request in a language nobody speaks waits"
keygen client
cli_out out client request --language de
field_to CASE "$out" case
assert_match "request printed a case id" "$CASE" '^[0-9]+$'
assert_field "the case waits" waiting "$out" status
assert_field "no counsellor line while waiting" "" "$out" counsellor
cli_out out client cases
assert_match "client's cases show it waiting" "$out" "^$CASE waiting de - "

step "a second request is refused with case_open, and changes nothing"
before=$(table_counts)
clirun client request --language en
assert_eq "second request exits 1" 1 "$RC"
assert_match "second request: case_open" "$ERR" '^offramp: case_open'
assert_contains "  and in plain words what to do" "$ERR" \
	"  You already have an open conversation: continue it (offramp cases shows it, offramp chat ID), or close it first (offramp close ID)."
assert_eq "nothing changed" "$before" "$(table_counts)"

step "sending to a waiting case is refused with case_waiting"
clirun client send "$CASE" "anyone there?"
assert_eq "send to a waiting case exits 1" 1 "$RC"
assert_match "send to a waiting case: case_waiting" "$ERR" '^offramp: case_waiting'
assert_contains "  and in plain words" "$ERR" "  Nobody has joined this conversation yet, so there is nobody to send to"

step "the en counsellor does not get the de case"
cli_out out couns cases
assert_not_contains "Sam's cases lack the de case" "$out" "$CASE"

step "a counsellor who speaks de appears and takes the case"
inv=$(cli admin invite --role counsellor | tail -n1)
keygen kim
cli_out out kim redeem "$inv" --name Kim --languages en,de --topics leaving,family
assert_field "Kim is a counsellor" counsellor "$out" role
counsellor_up kim		# Kim is connected from now on

step "an uncertified counsellor is not matched: the case still waits"
cli_out out client cases
assert_match "the case still waits while Kim, connected, has no certificate" "$out" "^$CASE waiting de - "
cli_out out kim cases
assert_not_contains "Kim's cases lack the case" "$out" "$CASE"

step "the admin certifies Kim, who then takes the case"
certify_pending Kim
cli_out out admin certify
assert_eq "nothing left to certify: no output" "" "$out"
case_active() {
	cli client cases | grep "^$CASE active de - " >/dev/null
}
wait_for "the client's case to become active" 20 case_active && \
	pass "client's case became active"
cli_out out client cases
assert_match "the case names Kim" "$(grep "^$CASE " <<<"$out")" 'Kim'
cli_out out kim cases
assert_match "Kim's cases show the case" "$out" "^$CASE active de - "

step "the client still has an open case: a new request is refused"
clirun client request --language de
assert_match "request while active: case_open" "$ERR" '^offramp: case_open'

stop_server
finish
