# test_caseload.sh: a counsellor's caseload through the real server and
# CLI: the cases list with status, unread count and last activity; pause,
# resume and reopen with their bad_state errors; and case notes, which
# round-trip, reach the server only as ciphertext, and are their author's
# alone; the list past a hundred cases or one frame: open ones first, and
# a message of a case left out of it kept on the server, not deleted as a
# stranger's.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# Sam: en, leaving

keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the case is Sam's" Sam "$out" counsellor

ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

step "the counsellor's cases: status, unread, last activity"
cli_out out couns cases
assert_match "active, nothing unread, an ISO time" "$out" "^$CASE active en leaving .* unread=0 updated=$ISO$"
cli_out out client cases
assert_no_match "a client's list has no unread field" "$out" 'unread='
cli client send "$CASE" "first" >/dev/null
cli client send "$CASE" "second" >/dev/null
cli_out out couns cases
assert_match "two unread" "$out" "^$CASE active en leaving .* unread=2 updated=$ISO$"
upd=$(printf '%s\n' "$out" | sed -n 's/.* updated=\(.*\)$/\1/p')
upd_s=$(date -u -d "$upd" +%s)
now=$(date +%s)
if [ "$upd_s" -le "$now" ] && [ "$upd_s" -ge $((now - 60)) ]; then
	pass "updated ($upd) is the last message's time"
else
	fail "updated $upd is not within the last minute (now $(date -u +%FT%TZ))"
fi
cli_out out couns recv --count 2
assert_contains "Sam received the messages" "$out" "second"
cli_out out couns cases
assert_match "after recv, nothing unread" "$out" "^$CASE active en leaving .* unread=0 "
cli client send "$CASE" "third" >/dev/null
assert_match "a new message: one unread" "$(cli couns cases)" "^$CASE active en leaving .* unread=1 "

step "pause, resume, reopen and their bad_state errors"
clirun couns resume "$CASE"
assert_match "resume of an active case: bad_state" "$ERR" '^offramp: bad_state: case\.resume'
clirun couns reopen "$CASE"
assert_match "reopen of an active case: bad_state" "$ERR" '^offramp: bad_state: case\.reopen'
cli_out out couns pause "$CASE"
assert_field "paused" paused "$out" status
assert_match "the client sees it paused" "$(cli client cases)" "^$CASE paused "
assert_match "Sam's list says paused" "$(cli couns cases)" "^$CASE paused "
clirun couns pause "$CASE"
assert_match "pause of a paused case: bad_state" "$ERR" '^offramp: bad_state: case\.pause'
cli client send "$CASE" "still there?" >/dev/null
assert_match "messages still flow while paused" "$(cli couns recv --count 2)" "still there?"
cli_out out couns resume "$CASE"
assert_field "resumed" active "$out" status
cli_out out couns close "$CASE"
assert_field "closed" closed "$out" status
clirun couns pause "$CASE"
assert_match "pause of a closed case: bad_state" "$ERR" '^offramp: bad_state: case\.pause'
clirun couns resume "$CASE"
assert_match "resume of a closed case: bad_state" "$ERR" '^offramp: bad_state: case\.resume'
cli_out out couns reopen "$CASE"
assert_field "reopened" active "$out" status
assert_match "the client sees it active again, with Sam" "$(cli client cases)" "^$CASE active en leaving .*Sam"

step "case notes: encrypted to their author"
MARK="note-marker-$(b64_random 9 | tr -dc 'a-zA-Z0-9')"
cli_out out couns note "$CASE" "client mentions family, $MARK"
assert_match "note added" "$(field "$out" note)" '^[0-9]+$'
cli couns note "$CASE" "second note" >/dev/null
cli_out out couns notes "$CASE"
assert_match "first note back, with its time" "$out" "^$ISO client mentions family, $MARK$"
assert_eq "two notes, oldest first" "client mentions family, $MARK|second note" \
	"$(printf '%s\n' "$out" | cut -d' ' -f2- | tr '\n' '|' | sed 's/|$//')"

step "another counsellor cannot list them"
add_counsellor admin kim Kim --languages de
certify_pending Kim
clirun kim notes "$CASE"
assert_eq "Kim's notes exits 1" 1 "$RC"
assert_match "Kim: not_found" "$ERR" '^offramp: not_found: note\.list'
clirun kim note "$CASE" "intrusion"
assert_match "Kim cannot add one: not_found" "$ERR" '^offramp: not_found: note\.add'
clirun client notes "$CASE"
assert_match "the client cannot list them: forbidden" "$ERR" '^offramp: forbidden: note\.list'

step "the server holds ciphertext only"
stop_server
found=""
for f in $(data_files) "$T"/server*.std*; do
	if grep -aq "$MARK" "$f"; then found+=" $f"; fi
done
assert_eq "the note text is in no data file nor log" "" "$found"
n=$(sql "SELECT count(*) FROM case_notes")
assert_eq "two notes are stored" 2 "$n"

step "a hundred newer closed cases: the open one is listed first, its messages are read"
# copies of the case, closed, each a second newer (case.list gives 100)
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
	INSERT INTO cases (id, client_id, counsellor_id, status, language, topic, created, updated, queued)
	SELECT 1000 + i, client_id, counsellor_id, 3, language, topic, created + i, updated + i, queued + 1000 + i
	FROM cases, n WHERE id = $CASE"
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
	INSERT INTO case_participants (case_id, account_id, role, joined, kind, since, seen)
	SELECT 1000 + i, account_id, role, joined, kind, since, seen FROM case_participants, n
	WHERE case_id = $CASE"
start_server
clirun couns cases
assert_match "the open case first" "$(head -n1 <<<"$OUT")" "^$CASE active "
assert_eq "a hundred listed" 100 "$(wc -l <<<"$OUT")"
assert_contains "told that more are left out" "$ERR" "more are not shown"
cli client send "$CASE" "past the hundred" >/dev/null
cli_out out couns recv --count 1
assert_contains "Sam reads it" "$out" "past the hundred"

step "a message of a closed case past the list stays on the server"
SAM_ID=$(account_id couns)
cli client send "$CASE" "sent before the close" >/dev/null
cli client close "$CASE" >/dev/null
clirun couns cases
assert_no_match "the closed case is past the hundred" "$OUT" "^$CASE "
cli_out out couns recv --count 1
assert_contains "Sam is told it is kept" "$out" "[kept on the server: its case is past the server's list of yours]"
assert_eq "its copy is not deleted" 1 "$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $SAM_ID")"

step "a hundred cases of five: the list stops within one frame, and says so"
# three certified colleagues in each closed case make it some 2 kB: a
# hundred would be past the 131072 bytes of a frame
COUNS_DAEMON=0
names=()
for n in 1 2 3; do
	add_counsellor admin "col$n" "A-colleague-of-Sams-team-number-$n-of-three-in-every-case"
	names+=("A-colleague-of-Sams-team-number-$n-of-three-in-every-case")
done
certify_pending "${names[@]}"
stop_server
sql_rw "INSERT INTO case_participants (case_id, account_id, role, joined, kind, since, seen)
	SELECT c.id, a.id, a.role, c.created, 2, c.created, 0 FROM cases c, accounts a
	WHERE c.id BETWEEN 1001 AND 1100 AND a.name LIKE 'A-colleague-of-Sams-team-%'"
start_server
clirun couns cases
assert_eq "the list is answered" 0 "$RC"
n=$(wc -l <<<"$OUT")
if [ "$n" -gt 40 ] && [ "$n" -lt 100 ]; then
	pass "as many cases as one frame holds ($n)"
else
	fail "$n cases listed, not between 40 and 100"
fi
assert_contains "told that more are left out" "$ERR" "more are not shown"
assert_match "the newest first" "$(head -n1 <<<"$OUT")" "^1100 closed "

step "notes past one frame: read a page at a time"
cli couns reopen "$CASE" >/dev/null
# over 1024 bytes, each is padded to 16282 (some 21.7 kB in base64): seven
# are past the 131072 bytes of a frame
long=$(printf 'a long note 0123456789 %.0s' $(seq 1 60))
for i in 1 2 3 4 5 6 7; do
	cli couns note "$CASE" "$i $long" >/dev/null
done
cli_out out couns notes "$CASE"
assert_eq "all nine notes" 9 "$(grep -cE "^$ISO " <<<"$out")"
assert_match "the last one too, in its order" "$(tail -n1 <<<"$out")" "^$ISO 7 a long note "

step "a counsellor disabled with more cases than one batch: every one moved"
# 300 more active cases of Sam (an admin's case.assign gives past
# capacity), each of its own client, and the first colleague brought into
# them too (after the hundred closed ones): before, the disable moved 256
# of each and left the rest with a counsellor who cannot log in
stop_server
if on_pg; then kx="decode(md5(i::text) || md5((-i)::text), 'hex')"; else kx="randomblob(32)"; fi
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
	INSERT INTO accounts (id, key, role, programme_id, name, created)
	SELECT 5000 + i, $kx, a.role, a.programme_id, a.name, a.created FROM accounts a, n
	WHERE a.id = (SELECT client_id FROM cases WHERE id = $CASE)"
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
	INSERT INTO cases (id, client_id, counsellor_id, status, language, topic, created, updated, queued)
	SELECT 2000 + i, 5000 + i, counsellor_id, 2, language, topic, created + i, updated + i, queued + 2000 + i
	FROM cases, n WHERE id = $CASE"
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
	INSERT INTO case_participants (case_id, account_id, role, joined, kind, since, seen)
	SELECT 2000 + i, CASE WHEN p.account_id = c.client_id THEN 5000 + i ELSE p.account_id END,
	p.role, p.joined, p.kind, p.since, p.seen FROM case_participants p, cases c, n
	WHERE p.case_id = $CASE AND c.id = $CASE AND p.kind = 0"
sql_rw "INSERT INTO case_participants (case_id, account_id, role, joined, kind, since, seen)
	SELECT c.id, a.id, a.role, c.created, 2, c.created, 0 FROM cases c, accounts a
	WHERE c.id BETWEEN 2001 AND 2300 AND a.name = '${names[0]}'"
# and notes: a hundred of Sam's in case 1002, a hundred and one in 1003
if on_pg; then nx="decode('00', 'hex')"; else nx="zeroblob(1)"; fi
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 201)
	INSERT INTO case_notes (case_id, author_id, ct, created)
	SELECT CASE WHEN i <= 100 THEN 1002 ELSE 1003 END, $SAM_ID, $nx, i FROM n"
start_server
clirun couns raw --login --answered <<<'{"v":1,"type":"note.list","id":5,"case":1002}
{"v":1,"type":"note.list","id":6,"case":1003}'
page100=$(grep '"re": *5' <<<"$OUT" || true)
page101=$(grep '"re": *6' <<<"$OUT" || true)
assert_eq "a hundred notes: one page of a hundred" 100 "$(grep -o '"ct"' <<<"$page100" | wc -l)"
assert_no_match "  and no more (before, more, and an empty page after)" "$page100" '"more"'
assert_eq "a hundred and one: a page of a hundred" 100 "$(grep -o '"ct"' <<<"$page101" | wc -l)"
assert_match "  and more" "$page101" '"more": *true'
COL1=$(account_id col1)
open_with() {
	sql "SELECT count(*) FROM case_participants p JOIN cases c ON c.id = p.case_id
		WHERE p.account_id = $1 AND c.status IN (1, 2, 4)"
}
assert_eq "the colleague is in 300 open cases" 300 "$(open_with "$COL1")"
cli_out out admin disable "$KEY_col1"
assert_eq "the colleague, disabled, is in no open case" 0 "$(open_with "$COL1")"
assert_eq "Sam has 301 open cases" 301 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $SAM_ID AND status IN (1, 2, 4)")"
cli_out out admin disable "$KEY_couns"
assert_eq "Sam, disabled, has no open case" 0 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $SAM_ID AND status IN (1, 2, 4)")"
assert_eq "nor is in one" 0 "$(open_with "$SAM_ID")"

finish
