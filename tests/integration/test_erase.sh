# test_erase.sh: self-erasure (PRIVACY.md, "Erasure"; PROTOCOL.md,
# account.delete and counsellor.delete). A client with an active case with
# Sam, messages both ways and a note, erases itself with `offramp erase
# --yes`: Sam hears the case closed (a case push, nothing about why), no
# row of the client or its case is left in any table, Sam's other case is
# untouched, and the key file, its lock and the daemon directory are gone.
# A counsellor's account.delete is forbidden, a client's account.delete
# naming a key is bad_field, and neither changes a table. `forget CASE`
# empties a case's local history; `history-keep DAYS|off` is kept in the
# key file (its expiry by age is test_cli_store's, with given times). An admin deletes a counsellor: its
# profile, prekeys and account go, its closed case goes, its open case
# waits in the queue again, and no row names it.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# rows_naming ID: "table.column=N" for every column of every table that
# names an account (and accounts.id), where N > 0 rows hold ID; "" when
# none does. Two queries (the columns, then every count in one), not one
# process a table and a column.
rows_naming() {
	local tc n q="" out=""
	for tc in $(sql "SELECT m.name || '.' || p.name
	    FROM sqlite_master m, pragma_table_info(m.name) p
	    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
	    AND (p.name IN ('account_id', 'client_id', 'counsellor_id',
	    'sender_id', 'recipient_id', 'author_id', 'actor_id',
	    'target_id', 'left_counsellor', 'created_by')
	    OR (m.name = 'accounts' AND p.name = 'id'))"); do
		q+="${q:+ UNION ALL }SELECT '$tc', count(*) FROM \"${tc%%.*}\" WHERE \"${tc#*.}\" = $1"
	done
	while IFS='|' read -r tc n; do
		[ -z "$tc" ] || [ "$n" = 0 ] || out+="$tc=$n "
	done <<<"$(sql "$q ORDER BY 1")"
	echo "$out"
}

start_server
setup_pool			# Sam: en, leaving

step "a client with an active case with Sam, messages both ways, a note"
keygen eve
cli_out out eve request --language en --topic leaving
field_to CASE "$out" case
assert_field "Eve's case is active with Sam" active "$out" status
EVE=$(account_id eve)
cli eve send "$CASE" "hello from Eve" >/dev/null
assert_contains "Sam reads it" "$(cli couns recv --count 1)" "hello from Eve"
cli couns send "$CASE" "hello from Sam" >/dev/null
assert_contains "Eve reads the answer" "$(cli eve recv --count 1)" "hello from Sam"
cli couns send "$CASE" "Eve never reads this" >/dev/null
cli couns note "$CASE" "a note on Eve's case" >/dev/null
# a message goes with its last copy: the two read are gone, their
# records of the send (sent) are not linked to the case
assert_eq "one copy waiting, and a note" "1 1" \
	"$(sql "SELECT (SELECT count(*) FROM deliveries WHERE case_id = $CASE)
	    || ' ' || (SELECT count(*) FROM case_notes WHERE case_id = $CASE)")"
assert_ne "rows name Eve" "" "$(rows_naming "$EVE")"

step "another client's case with Sam"
keygen olga
cli_out out olga request --language en --topic leaving
field_to OPEN "$out" case
assert_field "Olga's case is active with Sam" active "$out" status
cli olga send "$OPEN" "hello from Olga" >/dev/null
assert_contains "Sam reads Olga" "$(cli couns recv --count 1)" "hello from Olga"
cli couns send "$OPEN" "hello Olga" >/dev/null
assert_contains "Olga reads Sam" "$(cli olga recv --count 1)" "hello Olga"
OPEN_ROWS=$(sql "SELECT (SELECT count(*) FROM deliveries WHERE case_id = $OPEN)
    || ' ' || (SELECT count(*) FROM case_participants WHERE case_id = $OPEN)
    || ' ' || status FROM cases WHERE id = $OPEN")

step "bad input: a counsellor's account.delete, a client's naming a key"
cli eve login >/dev/null
before=$(table_counts)
clirun couns raw --login --count 1 <<<'{"v":1,"type":"account.delete","id":2}'
assert_match "a counsellor's account.delete: forbidden" "$OUT" '"re":2,.*"code":"forbidden"|"code":"forbidden".*"re":2[,}]'
clirun admin raw --login --count 1 <<<'{"v":1,"type":"account.delete","id":2}'
assert_match "an admin's account.delete: forbidden" "$OUT" '"code":"forbidden"'
clirun olga raw --login --count 1 <<<"{\"v\":1,\"type\":\"account.delete\",\"id\":2,\"key\":\"$KEY_eve\"}"
assert_match "a client's account.delete naming Eve's key: bad_field" "$OUT" '"code":"bad_field"'
assert_match "  the field named is key" "$OUT" '"field":"key"'
clirun olga raw --login --count 1 <<<'{"v":1,"type":"account.delete","id":2,"target":1}'
assert_match "  and naming a target: bad_field target" "$OUT" '"code":"bad_field".*"field":"target"|"field":"target".*"code":"bad_field"'
assert_eq "no table changed" "$before" "$(table_counts)"
assert_eq "Olga's account is there" 1 \
	"$(sql "SELECT count(*) FROM accounts WHERE id = $(account_id olga)")"
clirun couns erase --yes
assert_ne "offramp erase beside a running daemon fails" 0 "$RC"
assert_contains "  it says to stop the daemon first" "$ERR" "offramp daemon runs for"
assert_eq "  Sam's key file stays" yes "$([ -f "$IDS/couns.key" ] && echo yes)"
clirun admin erase --yes
assert_ne "offramp erase as an admin fails" 0 "$RC"
assert_contains "  forbidden, said before sending" "$ERR" "forbidden: account.delete"
assert_eq "  the admin's key file stays" yes "$([ -f "$IDS/admin.key" ] && echo yes)"
clirun eve erase </dev/null
assert_eq "erase without --yes and no terminal: usage error" 2 "$RC"
assert_eq "  nothing changed" "$before" "$(table_counts)"

# what of Eve and her case the database holds: her key, pseudonym and
# the mid of her send, the case id, the first bytes of its waiting copy
# and of its note
TRACES=$(traces_of_case "$CASE"; traces_of_account eve)
assert_eq "six traces of Eve and her case, all found in the database" \
	"6 6" "$(wc -l <<<"$TRACES") $(db_traces <<<"$TRACES" | wc -l)"

# _eve_on_disk: Eve's public key is in the bytes of offramp.db or its
# -wal (SQLite only: PostgreSQL keeps a deleted row in its files until
# it writes over it, PRIVACY.md "On PostgreSQL")
_eve_on_disk() {
	local f
	for f in "$DATA/offramp.db" "$DATA/offramp.db-wal"; do
		[ -e "$f" ] || continue
		od -An -tx1 -v "$f" | tr -d ' \n' | grep -q -i -F -- "$EVE_HEX" && return 0
	done
	return 1
}
_eve_off_disk() {
	! _eve_on_disk
}
EVE_HEX=$(hexkey "$KEY_eve")
on_pg || { _eve_on_disk && pass "the check can fail: Eve's key is in the database's files"; } ||
	fail "Eve's key is not found in the database's files before the erasure"

step "Eve erases herself; Sam hears the case closed, not why"
watch_start couns
clirun eve erase --yes
assert_eq "offramp erase --yes succeeds" 0 "$RC"
assert_contains "it says the server deleted everything" "$OUT" \
	"The server deleted your account, your cases and everything it held about you."
assert_contains "it says the key file is destroyed" "$OUT" \
	"The key file $IDS/eve.key was overwritten with zeros and removed"
watch_expect "Sam's connection gets the case push: closed" couns \
	"\"type\":\"case\".*\"id\":$CASE.*\"status\":\"closed\"|\"id\":$CASE.*\"status\":\"closed\".*\"type\":\"case\""
push=$(grep -E "\"id\":$CASE" "$T/watch-couns.out" | grep closed | head -n1)
assert_no_match "  the push says nothing about why" "$push" 'eras|delet|reason'
watch_stop couns
# the erasure's commit asks for the checkpoint that copies the zeroed
# pages into offramp.db and empties the -wal (not the 30 s job's)
on_pg || { wait_for "Eve's key to be gone from offramp.db and its -wal" 3 _eve_off_disk &&
	pass "within seconds, no byte of the files holds Eve's key"; }

step "no row of Eve or her case is left"
assert_eq "no column of any table names Eve" "" "$(rows_naming "$EVE")"
assert_eq "no row of case $CASE in cases, participants, messages, copies, notes" 0 \
	"$(rows_of_case "$CASE")"
assert_eq "no prekey of Eve" 0 \
	"$(sql "SELECT (SELECT count(*) FROM signed_prekeys WHERE account_id = $EVE)
	    + (SELECT count(*) FROM one_time_prekeys WHERE account_id = $EVE)")"
assert_eq "no account with Eve's key" "" "$(account_id eve)"
assert_eq "no trace of Eve or her case in any row of any table" "" \
	"$(db_traces <<<"$TRACES")"
assert_not_contains "Sam's case list has no case $CASE" "$(cli couns cases)" "$CASE"

step "Sam's other case is untouched"
assert_eq "Olga's case: same copies, participants and status" "$OPEN_ROWS" \
	"$(sql "SELECT (SELECT count(*) FROM deliveries WHERE case_id = $OPEN)
	    || ' ' || (SELECT count(*) FROM case_participants WHERE case_id = $OPEN)
	    || ' ' || status FROM cases WHERE id = $OPEN")"
cli couns send "$OPEN" "still here" >/dev/null
assert_contains "  and the conversation goes on" "$(cli olga recv --count 1)" "still here"

step "the key file is gone"
assert_eq "no key file" no "$([ -e "$IDS/eve.key" ] && echo yes || echo no)"
assert_eq "no lock file" no "$([ -e "$IDS/eve.key.lock" ] && echo yes || echo no)"
assert_eq "no daemon directory" no "$([ -e "$IDS/eve.key.d" ] && echo yes || echo no)"
clirun eve whoami
assert_ne "Eve's identity cannot be loaded" 0 "$RC"

step "forget CASE removes the local history"
assert_contains "Olga's history has the case" "$(cli olga history "$OPEN")" "hello Olga"
cli_out out olga forget "$OPEN"
assert_match "forget says what went" "$out" "^Case $OPEN is forgotten here: [1-9][0-9]* messages"
clirun olga history "$OPEN"
assert_eq "history prints nothing" "" "$OUT"
assert_contains "  and says so" "$ERR" "no messages kept for this case"

step "history-keep DAYS|off: a setting of the key file"
cli_out out olga history-keep
assert_contains "off by default" "$out" "history-keep: off"
clirun olga history-keep 0
assert_eq "0 days: usage error" 2 "$RC"
clirun olga history-keep 3651
assert_eq "over ten years: usage error" 2 "$RC"
cli_out out olga history-keep 30
assert_contains "set to 30 days" "$out" "history-keep: 30 days"
assert_contains "  nothing of today went" "$out" "removed: 0"
assert_contains "the setting stays in the key file" "$(cli olga history-keep)" "history-keep: 30 days"
cli olga send "$OPEN" "new and kept" >/dev/null
assert_contains "a message Olga sends now is in her history (older ones: test_cli_store)" \
	"$(cli olga history "$OPEN")" "new and kept"
cli_out out olga --json history-keep off
assert_contains "off again, --json" "$out" '"type":"history-keep.ok"'
assert_contains "  days 0" "$out" '"days":0'

step "an admin deletes a counsellor"
cli couns profile --presence away >/dev/null	# new cases wait
COUNS_DAEMON=0 add_counsellor admin kit Kit --languages en --topics leaving
certify_pending Kit
KIT=$(account_id kit)
keygen k1
C1=$(field "$(cli k1 request --language en --topic leaving)" case)
assert_eq "k1's case waits" 1 "$(sql "SELECT status FROM cases WHERE id = $C1")"
clirun kit take "$C1"		# unless Kit got it at its login
assert_eq "Kit has k1's case" "2 $KIT" \
	"$(sql "SELECT status || ' ' || counsellor_id FROM cases WHERE id = $C1")"
cli kit send "$C1" "hello from Kit" >/dev/null
cli kit note "$C1" "Kit's note" >/dev/null
cli kit close "$C1" >/dev/null
assert_eq "Kit's first case is closed" 3 "$(sql "SELECT status FROM cases WHERE id = $C1")"
keygen k2
C2=$(field "$(cli k2 request --language en --topic leaving)" case)
clirun kit take "$C2"
cli kit send "$C2" "Kit on the open case" >/dev/null
assert_eq "Kit's second case is active with Kit" "2 $KIT" \
	"$(sql "SELECT status || ' ' || counsellor_id FROM cases WHERE id = $C2")"
assert_ne "rows name Kit" "" "$(rows_naming "$KIT")"
cli_out out admin counsellor-delete Kit
assert_field "counsellor-delete Kit" yes "$out" deleted
assert_field "  the key it deleted" "$KEY_kit" "$out" key
assert_eq "no account, profile or prekey of Kit" 0 \
	"$(sql "SELECT (SELECT count(*) FROM accounts WHERE id = $KIT)
	    + (SELECT count(*) FROM counsellor_profiles WHERE account_id = $KIT)
	    + (SELECT count(*) FROM signed_prekeys WHERE account_id = $KIT)
	    + (SELECT count(*) FROM one_time_prekeys WHERE account_id = $KIT)")"
assert_eq "Kit's open case waits in the queue again, with no counsellor" "1 -" \
	"$(sql "SELECT status || ' ' || coalesce(CAST(counsellor_id AS TEXT), '-') FROM cases WHERE id = $C2")"
assert_eq "  its client is still a participant" 1 \
	"$(sql "SELECT count(*) FROM case_participants WHERE case_id = $C2")"
assert_eq "Kit's closed case is gone" 0 "$(sql "SELECT count(*) FROM cases WHERE id = $C1")"
assert_match "no column names Kit but the audit log's targets (certify, delete)" \
	"$(rows_naming "$KIT")" '^audit\.target_id=2 $'
assert_eq "  the newest audit entry: its deletion, with its key" \
	"counsellor.delete $KIT $(hexkey "$KEY_kit")" \
	"$(sql "SELECT action || ' ' || target_id || ' ' || detail FROM audit
	    ORDER BY id DESC LIMIT 1")"
assert_match "the audit log has the deletion" "$(cli admin audit --limit 1)" "counsellor.delete"
clirun admin counsellor-delete Kit
assert_ne "Kit cannot be deleted twice" 0 "$RC"
clirun kit login
assert_ne "Kit cannot log in as a counsellor" 0 "$RC"
cli couns profile --presence online >/dev/null
wait_for "the waiting case to go to Sam" 20 test "$(sql "SELECT status FROM cases WHERE id = $C2")" = 2 &&
	pass "Sam gets Kit's former case"

step "an erased account's id is never given again, not even the newest's"
keygen zed amy
cli zed login >/dev/null
ZED=$(account_id zed)
assert_eq "Zed is the newest account" "$ZED" "$(sql "SELECT max(id) FROM accounts")"
clirun zed erase --yes
assert_eq "Zed erases itself" 0 "$RC"
cli amy login >/dev/null
AMY=$(account_id amy)
assert_eq "the next account gets the next id, not Zed's" "$((ZED + 1))" "$AMY"

stop_server
finish
