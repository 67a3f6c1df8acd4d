# matching.sh: sourced by test_matching.sh and test_matching_order.sh after
# lib.sh: what both parts of the matching tests use to ask for cases and
# look at them.

# case_line NAME CASE: NAME's `cases` line for CASE.
case_line() {
	cli "$1" cases | grep "^$2 " || true
}
_case_is() {	# NAME CASE STATUS [WHO]
	local l
	l=$(case_line "$1" "$2")
	[[ "$l" == "$2 $3 "* ]] || return 1
	[ -z "${4:-}" ] || [[ "$l" == *"$4"* ]]
}
# expect_case DESC NAME CASE STATUS [COUNSELLOR]: waits until NAME's case
# CASE has STATUS (and names COUNSELLOR).
expect_case() {
	if wait_for "$1" 20 _case_is "$2" "$3" "$4" "${5:-}"; then
		pass "$1"
	fi
}
# request NAME ARGS...: NAME opens a case; sets CASE, STATUS, COUNS, MET,
# UNMET from what `request` printed.
request() {
	local who=$1 out
	shift
	cli_out out "$who" request "$@"
	field_to CASE "$out" case
	field_to STATUS "$out" status
	field_to COUNS "$out" counsellor
	field_to MET "$out" met
	field_to UNMET "$out" unmet
}
# close_case NAME CASE
close_case() {
	local out
	cli_out out "$1" close "$2"
	assert_field "case $2 closed" closed "$out" status
}
# next_second: waits until the clock is on a later second than now.
next_second() {
	local s
	s=$(date +%s)
	wait_for "the next second" 5 _later_than "$s"
}
_later_than() {
	[ "$(date +%s)" -gt "$1" ]
}
