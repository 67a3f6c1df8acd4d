# test_jobs.sh: the periodic jobs (server/jobs.c). Their periods come from
# --rematch-period and --purge-period and are checked; each job runs on the
# loop's timer at its period; the rematch also runs at the first turn, and
# what it writes is committed by that turn's end like a request's writes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "periods out of range are refused"
for args in "--rematch-period 0" "--purge-period 0" \
	"--rematch-period 86401" "--purge-period 86401"; do
	rc=0
	# shellcheck disable=SC2086
	"$OFFRAMP_SERVER_BIN" --data "$T/refused" $args >/dev/null 2>&1 || rc=$?
	assert_eq "$args: usage error" 2 "$rc"
done

# count_ran JOB: how many times the server's log says JOB ran.
count_ran() {
	grep -c "jobs: $1 ran" "$SERVER_ERR" || true
}
_ran_at_least() {
	[ "$(count_ran "$1")" -ge "$2" ]
}

step "each job runs at its period"
start_server --log-level debug --rematch-period 1 --purge-period 2
wait_for "the rematch to run three times" 20 _ran_at_least rematch 3 &&
	pass "the rematch ran $(count_ran rematch) times"
wait_for "the purge to run twice" 20 _ran_at_least purge 2 &&
	pass "the purge ran $(count_ran purge) times"
r=$(count_ran rematch)
p=$(count_ran purge)
assert_eq "the rematch runs about twice as often as the purge" 1 \
	"$(( r >= p && r <= 2 * p + 2 ))"
setup_pool			# Sam speaks en only

step "a case waits while its only counsellor is away"
cli couns profile --presence away >/dev/null
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the case waits" waiting "$out" status
stop_server

step "the rematch of the first turn matches it, and its write is committed"
# Behind the server's back, as a restore would: Sam is online again.
sql_rw \
	"UPDATE counsellor_profiles SET presence = 2"
start_server --rematch-period 3600
_case_active() {
	[ "$(sql "SELECT status FROM cases WHERE id = $CASE")" = 2 ]
}
wait_for "the case to be active on disk" 20 _case_active &&
	pass "the case is active in the database"
cli_out out client cases
assert_match "the client sees Sam on the case" "$out" \
	"^$CASE active en leaving "
stop_server

finish
