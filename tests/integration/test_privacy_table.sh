# test_privacy_table.sh: the database holds nothing PRIVACY.md does not
# list ("What the server stores"). After a scripted conversation (a
# request with preferences, messages both ways, a note, a close and a
# reopen), every column of every table of the database (sqlite_master,
# PRAGMA table_info; SQLite's own sqlite_* tables aside) must be named in
# PRIVACY.md's table as `table.column`, and every `table.column` named
# there must be a column of the database, so that the document cannot
# drift from the schema. Every table is read whole, to the last column.
# Closing the case clears its intake (urgency, stated preferences); the
# clients' one-time prekey ids are random; a note's time is kept to the
# minute, a programme's, an invite's and a signed prekey's to the day.
# On PostgreSQL, the planner's statistics hold no sample of a column that
# names a person or holds what one wrote. (That nothing of an erased
# client or an expired case is left after erasure or retention is
# test_retention's and the erasure tests' part.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOC="$REPO_ROOT/PRIVACY.md"

# doc_columns: the `table.column` names of PRIVACY.md's section "What the
# server stores", one a line, sorted.
doc_columns() {
	awk '/^## /{ on = ($0 == "## What the server stores") } on' "$DOC" |
		sed -n 's/^| `\([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\)` |.*/\1/p' |
		sort
}

# db_columns: table.column of every column of the database, sorted.
db_columns() {
	local t
	for t in $(sql "SELECT name FROM sqlite_master WHERE type = 'table'
	    AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
		sql "SELECT '$t.' || name FROM pragma_table_info('$t')"
	done | sort
}

step "PRIVACY.md lists columns"
DOCCOLS=$(doc_columns)
n=$(printf '%s\n' "$DOCCOLS" | grep -c . || true)
if [ "$n" -ge 50 ]; then
	pass "PRIVACY.md names $n columns"
else
	fail "PRIVACY.md names only $n columns in \"What the server stores\""
fi
assert_eq "no column is listed twice" "" \
	"$(printf '%s\n' "$DOCCOLS" | uniq -d)"

start_server
setup_pool			# Sam: en, leaving

step "a conversation: request, messages both ways, a note, close, reopen"
keygen client
out=$(cli client request --language en --topic leaving --age-band 30-44 \
	--region de-by)
field_to CASE "$out" case
assert_match "the client has a case" "$CASE" '^[0-9]+$'
assert_eq "  and Sam has it" 2 "$(sql "SELECT status FROM cases WHERE id = $CASE")"
cli client send "$CASE" "hello from the client" >/dev/null
assert_contains "Sam reads it" "$(cli couns recv --count 1)" "hello from the client"
cli couns send "$CASE" "hello from Sam" >/dev/null
assert_contains "the client reads the answer" "$(cli client recv --count 1)" "hello from Sam"
cli couns note "$CASE" "a note on the case" >/dev/null
cli couns send "$CASE" "one the client has not read yet" >/dev/null
assert_eq "  its stated preferences are kept while it is open" "2 de-by" \
	"$(sql "SELECT pref_age || ' ' || pref_region FROM cases WHERE id = $CASE")"
assert_eq "the case is closed" closed "$(field "$(cli couns close "$CASE")" status)"
assert_eq "  its intake is cleared: urgency normal, no preference" \
	"1|||0|0|0|" "$(sql "SELECT urgency, pref_gender, pref_region, pref_age,
	    pref_background, pref_format, '' FROM cases WHERE id = $CASE")"
assert_ne "  what was asked (kinds, no values) stays" 0 \
	"$(sql "SELECT asked FROM cases WHERE id = $CASE")"
assert_eq "and reopened" active "$(field "$(cli couns reopen "$CASE")" status)"

step "one-time prekey ids are random, not counted up"
# the client's keys on the server, in order of upload
ids=$(sql "SELECT o.otk_id FROM one_time_prekeys o JOIN accounts a
    ON a.id = o.account_id WHERE a.key = X'$(hexkey "$KEY_client")'
    ORDER BY o.ord")
n=$(printf '%s\n' "$ids" | grep -c . || true)
assert_ne "the client has one-time prekeys on the server" 0 "$n"
steps=$(printf '%s\n' "$ids" | awk 'NR > 1 && $1 == prev + 1 { s++ } { prev = $1 }
	END { print s + 0 }')
assert_eq "  no id is the one before it plus one ($n ids)" 0 "$steps"
assert_ne "  nor all small" "$n" \
	"$(printf '%s\n' "$ids" | awk '$1 < 65536' | grep -c . || true)"

step "times no rule reads to the second are coarser"
assert_eq "a note's time is to the minute" 0 \
	"$(sql "SELECT count(*) FROM case_notes WHERE created % 60 != 0")"
assert_eq "programmes, invites and signed prekeys: to the day" 0 \
	"$(sql "SELECT (SELECT count(*) FROM programmes WHERE created % 86400 != 0)
	    + (SELECT count(*) FROM invites WHERE created % 86400 != 0)
	    + (SELECT count(*) FROM signed_prekeys WHERE updated % 86400 != 0)")"

step "every table is read whole"
for t in $(sql "SELECT name FROM sqlite_master WHERE type = 'table'
    AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
	rc=0
	sql "SELECT * FROM \"$t\"" >/dev/null || rc=$?
	rows=$(sql "SELECT count(*) FROM \"$t\"")
	assert_eq "  $t read ($rows rows)" 0 "$rc"
done
for t in accounts signed_prekeys one_time_prekeys counsellor_profiles \
	cases case_participants sent deliveries case_notes invites \
	audit programmes; do
	# (a table that is not there fails the count: no number)
	n=$(sql "SELECT count(*) FROM \"$t\"" 2>/dev/null) || n=""
	assert_match "  $t holds rows after the conversation" "$n" '^[1-9][0-9]*$'
done

if on_pg; then
	step "PostgreSQL's planner statistics hold no key, name, mid, ciphertext or preference"
	# ANALYZE (autovacuum's) keeps sample values of a column in
	# pg_statistic, readable after their rows are gone
	sql_rw "ANALYZE" >/dev/null
	kept=$(sql "SELECT string_agg(tablename || '.' || attname, ' ' ORDER BY 1)
	    FROM pg_stats WHERE schemaname = 'public' AND (tablename, attname) IN
	    (('accounts', 'key'), ('accounts', 'name'), ('accounts', 'cert'),
	    ('deliveries', 'mid'), ('deliveries', 'ct'), ('sent', 'mid'),
	    ('case_notes', 'ct'), ('feedback', 'id'), ('feedback', 'sealed'),
	    ('signed_prekeys', 'spk'), ('signed_prekeys', 'sig'),
	    ('one_time_prekeys', 'pk'), ('invites', 'hash'),
	    ('referrals', 'digest'), ('cases', 'pref_gender'),
	    ('cases', 'pref_region'))")
	assert_eq "none of those columns has statistics" "" "$kept"
	assert_match "  the check can fail: ANALYZE kept the others'" \
		"$(sql "SELECT count(*) FROM pg_stats WHERE schemaname = 'public'
		    AND tablename = 'accounts' AND attname = 'role'")" '^1$'
fi

step "every column of the database is in PRIVACY.md, and no other"
DBCOLS=$(db_columns)
missing=$(comm -23 <(printf '%s\n' "$DBCOLS") <(printf '%s\n' "$DOCCOLS"))
extra=$(comm -13 <(printf '%s\n' "$DBCOLS") <(printf '%s\n' "$DOCCOLS"))
assert_eq "columns of the database that PRIVACY.md does not list" "" "$missing"
assert_eq "columns PRIVACY.md lists that the database does not have" "" "$extra"
assert_eq "  as many columns in both" \
	"$(printf '%s\n' "$DBCOLS" | wc -l)" "$(printf '%s\n' "$DOCCOLS" | wc -l)"

step "the check can fail: a column added behind the document's back"
stop_server
sql_rw "ALTER TABLE cases ADD COLUMN client_ip TEXT"
assert_contains "an unlisted column is found" \
	"$(comm -23 <(db_columns) <(printf '%s\n' "$DOCCOLS"))" "cases.client_ip"

finish
