# test_retention.sh: deletion on a schedule (the retention job of
# server/jobs.c, PRIVACY.md "Retention"). A retention setting of zero, a
# negative one or one without a unit is refused at start (exit 2, naming
# the key, and the file and line). The real server, with short settings
# and a job every second: a closed case goes with every row of it
# (participants, messages, copies, notes) while another client's open case
# stays; a copy never acknowledged expires; a
# client with no case and no login for a while goes with its prekeys,
# one with an open case stays; used and expired invites go, a pending one
# stays; the audit log loses its old entries, from its oldest only, and
# never its newest; a counsellor's notes go once it has been out of the
# case as long as a closed case is kept.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYS="keep-closed keep-idle-client keep-unacked keep-invites keep-audit
	keep-feedback"

step "zero, negative and unit-less retention settings are refused"
for k in $KEYS; do
	for v in 0 0d -1d 30 " 2s" 3651d; do
		rc=0
		err=$("$OFFRAMP_SERVER_BIN" --data "$T/refused" "--$k" "$v" \
			--check-config 2>&1 >/dev/null) || rc=$?
		assert_eq "--$k '$v': exit 2" 2 "$rc"
		assert_contains "  the error names --$k" "$err" \
			"--$k: $k must be a duration from 1s to 3650d"
	done
done
printf 'data = %s\n# retention\nkeep-audit = 0\n' "$T/refused" >"$T/bad.conf"
rc=0
err=$("$OFFRAMP_SERVER_BIN" --config "$T/bad.conf" --check-config 2>&1 \
	>/dev/null) || rc=$?
assert_eq "keep-audit = 0 in the file: exit 2" 2 "$rc"
assert_contains "  the error names the file, line and key" "$err" \
	"$T/bad.conf:3: keep-audit must be a duration"
out=$("$OFFRAMP_SERVER_BIN" --data "$T/refused" --check-config)
for kv in "keep-closed = 30d" "keep-idle-client = 30d" "keep-unacked = 30d" \
	"keep-invites = 7d" "keep-audit = 365d" "keep-feedback = 365d" \
	"retention-period = 600"; do
	assert_contains "the default $kv" "$out" "$kv	# default"
done
out=$("$OFFRAMP_SERVER_BIN" --data "$T/refused" --keep-closed 90m \
	--keep-unacked 172800s --check-config)
assert_contains "90m is kept as given" "$out" "keep-closed = 90m	# --keep-closed"
assert_contains "172800s is printed as 2d" "$out" "keep-unacked = 2d	# --keep-unacked"

_case_gone() {
	[ "$(rows_of_case "$1")" = 0 ]
}
# account_rows ID: the rows of account ID and its prekeys.
account_rows() {
	sql "SELECT (SELECT count(*) FROM accounts WHERE id = $1)
	    + (SELECT count(*) FROM signed_prekeys WHERE account_id = $1)
	    + (SELECT count(*) FROM one_time_prekeys WHERE account_id = $1)"
}
_account_gone() {
	[ "$(account_rows "$1")" = 0 ]
}

step "the server logs its retention settings at start"
start_server --retention-period 1 --keep-closed 2s --keep-idle-client 4s \
	--keep-unacked 12s --keep-invites 1h --keep-audit 1h
assert_contains "one line with every setting" "$(cat "$SERVER_ERR")" \
	"retention: closed cases 2s after close, clients with no case 4s after their last login, unacked copies 12s, used or expired invites 1h, audit entries 1h, feedback 365d after its week; checked every 1 s"
setup_pool			# Sam: en, leaving

step "a client who only logged in has an account and prekeys"
keygen idle
cli idle login >/dev/null
IDLE=$(account_id idle)
assert_match "the idle client has an account" "$IDLE" '^[0-9]+$'
# one that logged in once and stays connected (its daemon), no case
keygen stay
counsellor_up stay
STAY=$(account_id stay)
assert_eq "  and a signed prekey" 1 \
	"$(sql "SELECT count(*) FROM signed_prekeys WHERE account_id = $IDLE")"

step "a conversation, a note, then the case is closed"
keygen client
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'
CLIENT=$(account_id client)
cli client send "$CASE" "hello from the client" >/dev/null
assert_contains "Sam reads it" "$(cli couns recv --count 1)" "hello from the client"
cli couns send "$CASE" "hello from Sam" >/dev/null
assert_contains "the client reads the answer" "$(cli client recv --count 1)" "hello from Sam"
cli couns note "$CASE" "a note on the first case" >/dev/null
cli couns send "$CASE" "never read" >/dev/null
assert_eq "  one copy not acknowledged: the two read went on their acks" 1 \
	"$(sql "SELECT count(*) FROM deliveries WHERE case_id = $CASE")"
assert_eq "  two participants, one note" "2 1" \
	"$(sql "SELECT (SELECT count(*) FROM case_participants WHERE case_id = $CASE)
	    || ' ' || (SELECT count(*) FROM case_notes WHERE case_id = $CASE)")"

step "another client's open case, with a note and a copy never read"
keygen other
OPEN=$(field "$(cli other request --language en --topic leaving)" case)
assert_match "the other client has a case" "$OPEN" '^[0-9]+$'
OTHER=$(account_id other)
cli couns note "$OPEN" "a note on the open case" >/dev/null
cli couns send "$OPEN" "the other client never reads this" >/dev/null
SEQ=$(sql "SELECT seq FROM deliveries WHERE case_id = $OPEN")
assert_match "its copy waits" "$SEQ" '^[0-9]+$'

TRACES=$(traces_of_case "$CASE"; traces_of_account client)
assert_eq "traces of the client and its case, all found in the database" \
	"$(wc -l <<<"$TRACES")" "$(db_traces <<<"$TRACES" | wc -l)"
cli_out out couns close "$CASE"
assert_field "the first case is closed" closed "$out" status

step "the closed case goes, with every row of it"
wait_for "the closed case's rows to be deleted" 20 _case_gone "$CASE" &&
	pass "no row of case $CASE is left in cases, case_participants, deliveries or case_notes"
assert_contains "the job says what it deleted" "$(cat "$SERVER_ERR")" \
	"retention: deleted 1 closed cases"

step "the open case is untouched"
assert_eq "it is active" 2 "$(sql "SELECT status FROM cases WHERE id = $OPEN")"
assert_eq "  with its two participants and its note" "2 1" \
	"$(sql "SELECT (SELECT count(*) FROM case_participants WHERE case_id = $OPEN)
	    || ' ' || (SELECT count(*) FROM case_notes WHERE case_id = $OPEN)")"
assert_eq "  and Sam's open case count" "1" \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $(account_id couns)
	    AND status IN (1, 2, 4)")"

step "a copy never acknowledged expires"
_copy_gone() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE seq = $SEQ")" = 0 ]
}
wait_for "the unacked copy to expire" 30 _copy_gone &&
	pass "copy $SEQ is gone"
assert_eq "the open case is still there" 1 \
	"$(sql "SELECT count(*) FROM cases WHERE id = $OPEN")"

step "idle clients with no case go, with their prekeys"
wait_for "the idle client to be deleted" 20 _account_gone "$IDLE" &&
	pass "the client who only logged in is gone, and its prekeys"
wait_for "the first client to be deleted" 20 _account_gone "$CLIENT" &&
	pass "the client whose case was deleted is gone, and its prekeys"
wait_for "the connected idle client to be deleted" 20 _account_gone "$STAY" &&
	pass "a client connected all along that has not logged in is deleted too"
# its connection is closed with it (as an erased account's): it must not
# act for an account that is gone, nor for the next one given its id; its
# daemon logs in again, a new account
wait_for "its daemon to be disconnected and to log in again" 20 \
	_daemon_connected stay && pass "its connection was closed with the account"
counsellor_down stay
assert_eq "no trace of that client or its case in any row of any table" "" \
	"$(db_traces <<<"$TRACES")"
assert_eq "the client with an open case stays" 1 \
	"$(sql "SELECT count(*) FROM accounts WHERE id = $OTHER")"
assert_eq "  with its signed prekey" 1 \
	"$(sql "SELECT count(*) FROM signed_prekeys WHERE account_id = $OTHER")"
assert_eq "counsellors and admins stay" 2 \
	"$(sql "SELECT count(*) FROM accounts WHERE role IN (2, 3)")"
cli_out out idle login
assert_eq "an idle client who comes back is a new account" yes \
	"$(field "$out" created)"

step "invites and audit entries stay while their settings say so"
inv_keep=$(cli admin invite --role counsellor --ttl 86400 | tail -n1)
cli admin invite --role counsellor --ttl 86400 >/dev/null
assert_eq "two invites used, two pending" "2 2" \
	"$(sql "SELECT (SELECT count(*) FROM invites WHERE used_at IS NOT NULL)
	    || ' ' || (SELECT count(*) FROM invites WHERE used_at IS NULL)")"
AUDIT_MAX=$(sql "SELECT max(id) FROM audit")
assert_match "the admin's actions are audited" "$AUDIT_MAX" '^[0-9]+$'
stop_server

step "used and expired invites go; old audit entries go, oldest first"
# One pending invite expired ten seconds ago, behind the server's back.
sql_rw "UPDATE invites SET expires = strftime('%s', 'now') - 10
    WHERE id = (SELECT max(id) FROM invites)"
start_server --retention-period 1 --keep-invites 5s --keep-audit 5s --log-level debug
_invites_done() {
	[ "$(sql "SELECT count(*) FROM invites")" = 1 ]
}
wait_for "the used and expired invites to be deleted" 20 _invites_done &&
	pass "only one invite is left"
assert_eq "  the pending one" 1 \
	"$(sql "SELECT count(*) FROM invites WHERE used_at IS NULL
	    AND expires > strftime('%s', 'now')")"
_audit_trimmed() {
	[ "$(sql "SELECT group_concat(id) FROM audit")" = "$AUDIT_MAX" ]
}
wait_for "the old audit entries to be deleted" 20 _audit_trimmed &&
	pass "every audit entry older than 5s is gone but the newest, which is never deleted"
wait_for "a run of the job after the trim" 10 grep -q "jobs: retention ran" "$SERVER_ERR" || true

step "the notes of a counsellor who left the case go once it has been out of it as long as a closed case is kept (keep-closed: 30d here)"
SAM=$(account_id couns)
assert_eq "Sam's note on the open case is there" 1 \
	"$(sql "SELECT count(*) FROM case_notes WHERE case_id = $OPEN")"
keygen third
THIRD=$(field "$(cli third request --language en --topic leaving)" case)
assert_field "a third client's case is Sam's" "$SAM" \
	"id: $(sql "SELECT counsellor_id FROM cases WHERE id = $THIRD")" id
cli couns note "$THIRD" "a note on the third case" >/dev/null
# Sam leaves both (their clients ask for another counsellor); the store
# then says he left the open case 40 days ago, past this server's
# keep-closed (30d, the default), and the third one just now
cli other reassign "$OPEN" >/dev/null
cli third reassign "$THIRD" >/dev/null
assert_eq "  Sam leads neither" "0 0" \
	"$(sql "SELECT (SELECT count(*) FROM cases WHERE id = $OPEN AND counsellor_id = $SAM)
	    || ' ' || (SELECT count(*) FROM cases WHERE id = $THIRD AND counsellor_id = $SAM)")"
sql_rw "UPDATE case_members SET left_at = left_at - 40 * 86400
    WHERE account_id = $SAM AND case_id = $OPEN AND left_at IS NOT NULL" >/dev/null
_notes_gone() {
	[ "$(sql "SELECT count(*) FROM case_notes WHERE case_id = $1")" = 0 ]
}
wait_for "Sam's note on the case he left long ago to be deleted" 20 _notes_gone "$OPEN" &&
	pass "  it is gone"
assert_contains "  the job says so" "$(cat "$SERVER_ERR")" "1 notes of former counsellors"
assert_eq "  the one on the case he left just now stays (the job ran: it deleted the other)" 1 \
	"$(sql "SELECT count(*) FROM case_notes WHERE case_id = $THIRD")"
sql_rw "UPDATE case_members SET left_at = left_at - 40 * 86400 WHERE account_id = $SAM
    AND case_id = $THIRD AND left_at IS NOT NULL" >/dev/null
wait_for "that one too once his stay is long past" 20 _notes_gone "$THIRD" &&
	pass "  it is gone too"
assert_not_contains "no run of the job failed" "$(cat "$T"/server*.stderr)" "retention failed"
stop_server
assert_ne "the pending invite was not touched" "" "$inv_keep"

step "the schema lets only the oldest audit entry be deleted"
sql_rw "INSERT INTO audit(programme_id, action, created)
    VALUES (1, 'test.old', 1), (1, 'test.new', 2)"
rc=0
err=$(sql_rw "DELETE FROM audit WHERE action = 'test.new'" 2>&1) || rc=$?
assert_ne "deleting the newer entry is refused" 0 "$rc"
assert_contains "  by the trigger" "$err" "trimmed from its oldest entry, never to nothing"
sql_rw "DELETE FROM audit WHERE id = $AUDIT_MAX"
sql_rw "DELETE FROM audit WHERE action = 'test.old'"
assert_eq "deleting the oldest, one by one, is allowed" "test.new" \
	"$(sql "SELECT group_concat(action) FROM audit")"
rc=0
sql_rw "DELETE FROM audit" >/dev/null 2>&1 || rc=$?
assert_ne "deleting the last entry is refused" 0 "$rc"
rc=0
sql_rw "UPDATE audit SET detail = 'x'" >/dev/null 2>&1 || rc=$?
assert_ne "an update is still refused" 0 "$rc"

finish
