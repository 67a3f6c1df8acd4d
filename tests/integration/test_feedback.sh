# test_feedback.sh: anonymous feedback at the end of a case and the small
# counts of programme figures (PRIVACY.md, "Feedback" and "Figures";
# PROTOCOL.md, "Feedback"). The admin certifies its own key as an admin
# (programme-key admin-cert); a client rates its closed case once, with a
# text sealed to that admin, who reads it decrypted; feedback on an open
# case, a second time, on someone else's case and by a counsellor is
# refused with its code and changes nothing; the stored row names no case
# and no account and keeps a Monday as its week, listed once that week has
# ended; an admin who leaves is disabled by another. pool.stats says "fewer
# than 5" for 1..4 waiting cases and the number from 5.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# Ada (admin), Sam (counsellor, connected)

step "the admin certifies its own key as the programme's admin"
# shellcheck disable=SC2046
out=$(cli admin programme-key admin-cert $(signing admin))
assert_eq "admin-cert signed and stored" "admin-cert: 365 days" "$out"

step "a case with Sam, answered"
keygen eve
cli_out out eve request --language en --topic leaving
field_to CASE "$out" case
assert_field "Eve's case is active with Sam" active "$out" status
cli couns send "$CASE" "hello Eve" >/dev/null

step "refused: an open case, a counsellor, someone else's case"
before=$(table_counts)
clirun eve feedback "$CASE" --helpful yes
assert_eq "open case: exit 1" 1 "$RC"
assert_contains "open case: bad_state" "$ERR" "offramp: bad_state"
clirun eve raw --login --count 2 <<<"{\"v\":1,\"type\":\"feedback.keys\",\"id\":5,\"case\":$CASE}"
assert_contains "the admins' certificates: not for an open case" "$OUT" '"code":"bad_state"'
clirun couns feedback "$CASE" --helpful yes
assert_contains "a counsellor: forbidden" "$ERR" "offramp: forbidden"
cli eve close "$CASE" >/dev/null
keygen olga
clirun olga feedback "$CASE" --helpful no
assert_contains "someone else's case: not_found" "$ERR" "offramp: not_found"
clirun eve feedback "$CASE" --helpful maybe
assert_eq "a rating that is not yes or no: usage" 2 "$RC"
clirun eve raw --login --count 2 <<<"{\"v\":1,\"type\":\"feedback.send\",\"id\":5,\"case\":$CASE,\"helpful\":\"yes\"}"
assert_contains "a rating that is not a boolean: bad_field" "$OUT" '"field":"helpful"'
clirun eve raw --login --count 2 <<<"{\"v\":1,\"type\":\"feedback.send\",\"id\":5,\"case\":$CASE,\"text\":[{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 1072)\"}]}"
assert_contains "text to a key that is not an admin's: bad_field" "$OUT" '"field":"text"'
after=$(table_counts)
assert_eq "no refused request stored feedback" \
	"$(printf '%s' "$before" | grep -o 'feedback=[0-9]*')" \
	"$(printf '%s' "$after" | grep -o 'feedback=[0-9]*')"
assert_eq "the case is not marked" 0 "$(sql "SELECT feedback FROM cases WHERE id = $CASE")"

step "the client gives feedback once, after the close"
MARK="feedback-marker-$RANDOM$RANDOM"
# the week may turn while the test runs: the send's time is in [T0, T1]
T0=$(date +%s) WEEK0=$(date -u +%G-W%V)
cli_out out eve feedback "$CASE" --helpful yes --recommend no --text "thanks: $MARK"
assert_field "sent" sent "$out" feedback
assert_field "the text is sealed to the admin" "sealed to the programme's admins" "$out" text
# its commit links the case's mark and the row: the -wal holding it is
# emptied within a second of it (SQLite; not the 30 s job's checkpoint)
_wal_empty() {
	[ ! -s "$DATA/offramp.db-wal" ]
}
on_pg || { wait_for "the -wal to be emptied after the feedback's commit" 3 _wal_empty &&
	pass "the commit that links the feedback to its case leaves the -wal at once"; }
clirun eve feedback "$CASE" --helpful no
T1=$(date +%s) WEEK1=$(date -u +%G-W%V)
assert_contains "a second time: limit" "$ERR" "offramp: limit"
assert_eq "one row" 1 "$(sql "SELECT count(*) FROM feedback")"
assert_eq "the case is marked, nothing more" 1 "$(sql "SELECT feedback FROM cases WHERE id = $CASE")"

step "the stored row: no case, no account, a week"
assert_eq "its columns" "helpful id programme_id recommend sealed week" \
	"$(sql "SELECT group_concat(name, ' ') FROM (SELECT name FROM pragma_table_info('feedback') ORDER BY name) AS c")"
EVE=$(account_id eve)
assert_eq "no value of the row is the case id or Eve's account" 0 \
	"$(sql "SELECT count(*) FROM feedback WHERE programme_id IN ($CASE, $EVE) AND programme_id != 1
	    OR week IN ($CASE, $EVE) OR helpful IN ($CASE, $EVE) OR recommend IN ($CASE, $EVE)")"
assert_eq "the week starts on a Monday, 00:00 UTC" "Mon 00:00:00" \
	"$(date -u -d "@$(sql "SELECT week FROM feedback")" '+%a %H:%M:%S')"
assert_eq "and holds the time it was sent" 1 \
	"$(sql "SELECT CAST(week <= $T1 AND $T0 < week + 604800 AS INTEGER) FROM feedback")"
assert_eq "ratings as given" "1 0" "$(sql "SELECT helpful || ' ' || recommend FROM feedback")"
assert_eq "the text is not in the database" 0 \
	"$(sql "SELECT count(*) FROM feedback WHERE instr($(blob_text sealed), '$MARK') > 0")"
assert_eq "one sealed copy: key and sealed box" 1104 "$(sql "SELECT length(sealed) FROM feedback")"

step "one entry: its totals and itself withheld"
clirun admin feedback
assert_eq "totals under 5 are withheld" \
	"totals: entries=fewer than 5 helpful=fewer than 5/fewer than 5 recommend=fewer than 5/fewer than 5" "$OUT"
assert_eq "  and the entry too" "(fewer than 5 entries: none shown)" "$ERR"

step "five entries of this week: none listed until the week has ended"
# four more of the same week, ratings only, as four more clients would
# leave them (written while the server is stopped)
stop_server
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4)
    INSERT INTO feedback (programme_id, week, id, helpful, recommend)
    SELECT programme_id, week, randomblob(16), 1, NULL FROM feedback, n"
start_server
cli_out out admin feedback
assert_eq "none listed: the week goes on (a poll would tell each new one)" 0 \
	"$(grep -c '^week=' <<<"$out")"

step "five entries of a week that ended: the admin reads them, the text decrypted"
# the same five, a week older
stop_server
sql_rw "UPDATE feedback SET week = week - 604800"
start_server
WEEKP0=$(date -u -d "@$((T0 - 604800))" +%G-W%V) WEEKP1=$(date -u -d "@$((T1 - 604800))" +%G-W%V)
cli_out out admin feedback
assert_eq "five entries" 5 "$(grep -c '^week=' <<<"$out")"
assert_contains "totals from 5: the number" "$out" "totals: entries=5 helpful="
assert_match "the client's entry: its week, ratings and text" "$out" \
	"^week=($WEEKP0|$WEEKP1) helpful=yes recommend=no text: thanks: $MARK\$"
clirun couns feedback
assert_eq "a counsellor does not read feedback" 1 "$RC"

step "a hundred texts: as many as one answer holds, newest first, and said"
# each text is sealed to the admin (some 1.5 kB listed): a hundred are
# past the 131072 bytes of a frame
stop_server
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99)
    INSERT INTO feedback (programme_id, week, id, helpful, recommend, sealed)
    SELECT programme_id, week, randomblob(16), helpful, recommend, sealed FROM feedback, n
    WHERE sealed IS NOT NULL"
start_server
clirun admin feedback
assert_eq "answered" 0 "$RC"
n=$(grep -c '^week=' <<<"$OUT")
if [ "$n" -gt 40 ] && [ "$n" -lt 100 ]; then
	pass "as many as one frame holds ($n)"
else
	fail "$n entries listed, not between 40 and 100"
fi
assert_contains "the totals are theirs" "$OUT" "totals: entries=$n "
assert_contains "told" "$ERR" "more entries than one answer holds"

step "an admin who leaves: disabled by another, it logs in no more, feedback is not sealed to it"
inv=$(cli admin invite --role admin | tail -n1)
keygen ann
cli_out out ann redeem "$inv" --name Ann
assert_field "Ann is an admin" admin "$out" role
# shellcheck disable=SC2046
cli ann programme-key admin-cert $(signing admin) >/dev/null
keys_of_case() {
	clirun eve raw --login --count 2 <<<"{\"v\":1,\"type\":\"feedback.keys\",\"id\":5,\"case\":$CASE}"
	printf '%s\n' "$OUT"
}
assert_contains "feedback is sealed to Ann too" "$(keys_of_case)" "$KEY_ann"
# Ann, about to leave, makes an admin invite to come back with, and stays
# connected
back=$(cli ann invite --role admin | tail -n1)
watch_start ann
cli_out out admin admin-disable "$KEY_ann"
assert_field "Ann disabled" yes "$out" disabled
if wait_for "Ann's connection to be closed" 20 _daemon_gone "$WATCH_PID_ann"; then
	pass "Ann's connection was closed"
fi
watch_stop ann
keygen ann2
clirun ann2 redeem "$back" --name Ann2
assert_eq "the invite Ann made before is gone" 1 "$RC"
clirun ann feedback
assert_eq "Ann cannot log in" 1 "$RC"
assert_contains "  disabled" "$ERR" "disabled"
assert_not_contains "feedback is no longer sealed to Ann" "$(keys_of_case)" "$KEY_ann"
assert_contains "  but to Ada" "$(keys_of_case)" "$KEY_admin"
clirun admin admin-disable "$KEY_admin"
assert_contains "an admin does not disable itself: forbidden" "$ERR" "offramp: forbidden"
clirun admin admin-disable "$KEY_couns"
assert_contains "a counsellor is no admin: not_found" "$ERR" "offramp: not_found"
assert_contains "in the audit log" "$(cli admin audit)" "admin.disable"
cli_out out admin admin-enable "$KEY_ann"
assert_field "Ann enabled" no "$out" disabled
clirun ann feedback
assert_eq "Ann logs in again" 0 "$RC"
assert_contains "feedback is sealed to Ann again" "$(keys_of_case)" "$KEY_ann"

step "a client who left its counsellor, its case closed while it waited: feedback goes to that counsellor's programme"
keygen rita
cli_out out rita request --language en --topic leaving
field_to RCASE "$out" case
assert_field "Rita has Sam" Sam "$out" counsellor
cli_out out rita reassign "$RCASE"
assert_field "it waits (Sam is never matched back)" waiting "$out" status
cli rita close "$RCASE" >/dev/null
cli_out out rita feedback "$RCASE" --helpful no --text "I asked for another"
assert_field "sent" sent "$out" feedback
assert_field "  sealed to Sam's programme's admins" "sealed to the programme's admins" "$out" text

step "stats: fewer than 5 from 1 to 4, the number from 5"
cli couns profile --presence away >/dev/null
keygen w1 w2 w3 w4 w5
for c in w1 w2 w3 w4; do
	cli "$c" request --language en >/dev/null
done
cli_out out admin stats
assert_eq "four wait: fewer than 5" "queue: fewer than 5" "$(printf '%s\n' "$out" | head -n1)"
assert_eq "one first response: withheld with its times" \
	"first-response: cases=fewer than 5 median=- p90=-" "$(printf '%s\n' "$out" | sed -n 2p)"
cli w5 request --language en >/dev/null
cli_out out admin stats
assert_eq "five wait: the number" "queue: 5" "$(printf '%s\n' "$out" | head -n1)"
clirun admin raw --login --count 1 <<<'{"v":1,"type":"pool.stats","id":3}'
assert_contains "on the wire: null, and the threshold" "$OUT" '"min_count":5'
assert_match "first_response cases null" "$OUT" '"cases": *null'

finish
