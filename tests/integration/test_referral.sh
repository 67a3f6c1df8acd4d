# test_referral.sh: a referral to a partner programme with the client's
# consent and the warm handover (PROTOCOL.md, "Referrals"). Programmes A
# (Ada, Sam) and B (Bea, Lou) are partners; C is none. Sam proposes to
# refer his client's case to B, the reason and the offer going to the
# client alone, encrypted; the client sees B's profile and accepts; Lou
# is matched in B's pool, joins (shown as B's counsellor, endorsed by A,
# through A's statement), and the three talk, each message readable by
# the two others. Sam's summary draft goes to the client alone; the
# client approves the text it read; only that text goes to Lou alone;
# the database holds no plaintext of it, nor of the reason. Then Sam
# hands over: he is a former participant (referral), the case is Lou's
# and B's. A declined and a withdrawn referral, the bad requests, and
# the figures with counts under 5 hidden. Then B's pool matches a
# referral by the client's stated preferences, and at 5 referrals and
# more the figures are exact, with a median.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# A: Ada, its key (in the trust file), Sam
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")

step "programme B (Bea, Lou) a partner of A; programme C none"
new_programme_admin "Second Path" admin2 Bea
add_counsellor admin2 lou Lou --languages en --topics leaving
certify_pending Lou --by admin2
out=$(cli admin2 programme-set --languages en,de --formats chat,in-person \
	--regions berlin --topics leaving,family)
new_programme "Third Way"
C=$(sql "SELECT id FROM programmes WHERE name = 'Third Way'")
partners_ab
trust_a_only

keygen client
cli_out out client request --language en --topic leaving --programme "$A"
field_to CASE "$out" case
assert_field "the client's case is Sam's" Sam "$out" counsellor
cli couns send "$CASE" "hello from Sam" >/dev/null
assert_contains "the client reads Sam" "$(cli client recv --count 1)" "hello from Sam"

# req WHO TYPE FIELDS: one raw request; sets OUT.
req() {
	clirun "$1" raw --login --count "${REQ_COUNT:-1}" <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}

step "bad proposals change nothing"
before=$(table_counts)
req couns referral.propose "\"case\":$CASE,\"partner\":$C"
assert_error "Sam: a programme that is no partner" not_found
req couns referral.propose "\"case\":$CASE,\"partner\":$A"
assert_error "Sam: his own programme" not_found
req lou referral.propose "\"case\":$CASE,\"partner\":$A"
assert_error "Lou: a case he is not in" not_found
req client referral.answer "\"case\":$CASE,\"accept\":true"
assert_error "the client: nothing proposed to answer" bad_state
assert_eq "nothing changed" "$before" "$(table_counts)"

step "Sam proposes B; the reason and the offer go to the client alone"
REASON="REASON-MARKER-$RANDOM family pressure"
cli_out out couns referral propose "$CASE" "$B" --reason "$REASON" --offer "family counselling in Berlin"
assert_match "proposed" "$out" '^referral: proposed$'
assert_match "to B" "$out" "^partner: $B Second Path$"
cli_out got client recv --count 1
assert_contains "the client reads the reason" "$got" "$REASON"
assert_contains "  and the offer" "$got" "family counselling in Berlin"
before=$(table_counts)
req couns referral.propose "\"case\":$CASE,\"partner\":$B"
assert_error "a second referral while one is pending" bad_state
req couns referral.answer "\"case\":$CASE,\"accept\":true"
assert_error "consent from the counsellor" forbidden
req admin referral.answer "\"case\":$CASE,\"accept\":true"
assert_error "consent from an admin" forbidden
assert_eq "nothing changed" "$before" "$(table_counts)"

step "the client sees the proposal and B's profile"
cli_out out client referral show "$CASE"
assert_match "proposed" "$out" '^referral: proposed$'
assert_match "B's name" "$out" "^partner: $B Second Path$"
assert_match "B's regions" "$out" '^regions: berlin$'
assert_match "B's formats" "$out" '^formats: chat,in-person$'

step "the client accepts: Lou, matched in B's pool, joins"
cli_out out client referral accept "$CASE"
assert_match "accepted" "$out" '^referral: accepted$'
# "endorsed by": the client's own name for A's key (its trust file's),
# not the name the server gives A
assert_match "Lou, shown as B's, endorsed by A" "$out" \
	"^counsellor: Lou: new counsellor from partner programme Second Path, certified by Second Path, Second Path endorsed by programme A$"
assert_eq "Lou is the referral's counsellor" "$(account_id lou)" \
	"$(sql "SELECT receiver_id FROM referrals WHERE case_id = $CASE")"
cli_out out client members "$CASE"
assert_match "Lou joins as the referral's counsellor" "$out" '^member Lou \(referral\) joining'
assert_match "the client confirmed" "$out" '^confirmed: members=1$'
# Sam has not been shown Lou: Lou reads nothing yet (Sam's client too
# must confirm the one matching chose; Sam invited nobody)
cli client send "$CASE" "before Sam saw Lou" >/dev/null
assert_eq "  the client's message goes to Sam alone" 1 \
	"$(sql "SELECT count(*) FROM deliveries WHERE case_id = $CASE")"
assert_eq "  Lou is still joining for the server" 0 \
	"$(sql "SELECT count(*) FROM case_participants WHERE case_id = $CASE AND account_id = $(account_id lou) AND since <= (SELECT seen FROM case_participants WHERE case_id = $CASE AND account_id = $(account_id couns))")"
cli couns recv --count 1 >/dev/null
cli_out out couns members "$CASE"
assert_match "Sam is shown Lou, joining, and confirms" "$out" '^member Lou \(referral\) joining'
cli_out out couns members "$CASE"
assert_match "Sam sees Lou in the case" "$out" '^member Lou \(referral\) in the case$'

step "the server names another partner for the referral: Lou is not shown as its counsellor"
B=$(sql "SELECT to_programme FROM referrals WHERE case_id = $CASE")
sql_rw "UPDATE referrals SET to_programme = $C WHERE case_id = $CASE"
cli_out out client referral show "$CASE"
assert_match "the partner shown is C" "$out" "^partner: $C Third Way$"
assert_no_match "  no counsellor shown, nor certified or endorsed by anyone" "$out" '^counsellor:'
sql_rw "UPDATE referrals SET to_programme = $B WHERE case_id = $CASE"

step "three ways: each message readable by both others"
cli couns send "$CASE" "Sam to both" >/dev/null
assert_contains "the client reads Sam" "$(cli client recv --count 1)" "Sam to both"
assert_contains "Lou reads Sam" "$(cli lou recv --count 1)" "Sam to both"
cli lou send "$CASE" "Lou to both" >/dev/null
assert_contains "the client reads Lou" "$(cli client recv --count 1)" "Lou to both"
assert_contains "Sam reads Lou" "$(cli couns recv --count 1)" "Lou to both"
cli client send "$CASE" "client to both" >/dev/null
assert_contains "Sam reads the client" "$(cli couns recv --count 1)" "client to both"
assert_contains "Lou reads the client" "$(cli lou recv --count 1)" "client to both"

step "the summary: drafted to the client alone, approved, sent to Lou alone"
SUMMARY="SUMMARY-MARKER-$RANDOM wants to leave, family pressure, prefers chat"
req couns referral.complete "\"case\":$CASE"
assert_error "a handover before the summary" bad_state
LOU_ID=$(account_id lou)
cli couns referral draft "$CASE" "$SUMMARY" >/dev/null
assert_contains "the client reads the draft" "$(cli client recv --count 1)" "$SUMMARY"
assert_eq "Lou has a copy of the draft waiting" 1 \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $LOU_ID")"
clirun lou recv --wait 3
assert_eq "Lou's recv exits 0" 0 "$RC"
assert_eq "  his copy was delivered and acknowledged" 0 \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $LOU_ID")"
assert_not_contains "  and it was not the draft (\"nothing\")" "$OUT" "$SUMMARY"
clirun couns referral summary "$CASE" "$SUMMARY"
assert_eq "no summary before the client's approval: exits 1" 1 "$RC"
cli_out out client referral approve "$CASE" "$SUMMARY"
assert_match "approved" "$out" '^summary: approved$'
clirun couns referral summary "$CASE" "$SUMMARY, and more"
assert_eq "a text the client did not approve: exits 1" 1 "$RC"
assert_contains "  refused by Sam's CLI" "$ERR" "not the summary the client approved"
before=$(table_counts)
req couns referral.summary "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"to\":\"$KEY_client\",\"ct\":\"$(b64_random 64)\""
assert_error "a summary copy to the client" bad_recipients
req lou referral.summary "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"to\":\"$KEY_lou\",\"ct\":\"$(b64_random 64)\""
assert_error "a summary from Lou" forbidden
req lou referral.approve "\"case\":$CASE,\"digest\":\"$(b64_random 32)\""
assert_error "an approval by Lou" forbidden
LOU_MID=$(sql "SELECT hex(mid) FROM sent WHERE sender_id = $LOU_ID LIMIT 1" | xxd -r -p | base64 -w0)
req lou referral.summary "\"case\":$CASE,\"mid\":\"$LOU_MID\",\"to\":\"$KEY_lou\",\"ct\":\"$(b64_random 64)\""
assert_error "a summary from Lou with a mid he used: still no dup" forbidden
assert_eq "nothing changed" "$before" "$(table_counts)"
cli_out out couns referral summary "$CASE" "$SUMMARY"
field_to MID "$out" sent
assert_eq "one copy stored, Lou's" "1|1" \
	"$(sql "SELECT count(*), sum(recipient_id = $LOU_ID) FROM deliveries
	    WHERE (sender_id, mid) = (SELECT sender_id, mid FROM deliveries
	    ORDER BY seq DESC LIMIT 1)")"
assert_contains "Lou reads the summary" "$(cli lou recv --count 1)" "$SUMMARY"
req couns referral.summary "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"to\":\"$KEY_lou\",\"ct\":\"$(b64_random 64)\""
assert_error "a second summary" bad_state
before=$(table_counts)
req couns referral.summary "\"case\":$CASE,\"mid\":\"$MID\",\"to\":\"$KEY_lou\",\"ct\":\"$(b64_random 64)\""
assert_match "a retry of the summary is answered as stored" "$OUT" '"type": *"referral.summary.ok".*"dup": *true'
assert_eq "  and stores nothing" "$before" "$(table_counts)"

step "no plaintext of the summary or the reason on the server's disk"
# (a WAL segment of a shared PostgreSQL cluster may be recycled, renamed,
# by another test's checkpoint between the listing and the reading: gone,
# it holds nothing)
for f in $(data_files); do
	n=$(grep -sacF "SUMMARY-MARKER" "$f" || true)
	assert_eq "$(basename "$f") has no summary" 0 "${n:-0}"
	n=$(grep -sacF "REASON-MARKER" "$f" || true)
	assert_eq "$(basename "$f") has no reason" 0 "${n:-0}"
done
assert_eq "the database dump neither" "" "$(printf 'SUMMARY-MARKER\nREASON-MARKER\n' | db_traces)"

step "Sam hands over: he leaves, visibly; the case is Lou's and B's"
req client referral.complete "\"case\":$CASE"
assert_error "the client completing" forbidden
cli_out out couns referral complete "$CASE"
assert_match "completed" "$out" '^referral: completed$'
cli_out out client members "$CASE"
assert_match "Sam is former, referred" "$out" '^former Sam \(counsellor\) left: the case was referred'
assert_match "Lou is the counsellor" "$out" '^member Lou \(counsellor\) in the case$'
assert_eq "the case is B's" "$B|$LOU_ID" "$(sql "SELECT programme_id, counsellor_id FROM cases WHERE id = $CASE")"
assert_eq "Sam's stay ended for a referral (5)" 5 \
	"$(sql "SELECT why FROM case_members WHERE case_id = $CASE AND account_id = $(account_id couns)")"
assert_not_contains "Sam no longer sees the case" "$(cli couns cases)" "$CASE"
assert_match "Lou has it" "$(cli lou cases)" "^$CASE active "
cli lou send "$CASE" "Lou, now your counsellor" >/dev/null
assert_contains "the client reads Lou" "$(cli client recv --count 1)" "Lou, now your counsellor"
req couns referral.withdraw "\"case\":$CASE"
assert_error "Sam, gone, cancelling" not_found
before=$(table_counts)
req couns msg.send "\"case\":$CASE,\"mid\":\"$MID\",\"copies\":[{\"to\":\"$KEY_client\",\"ct\":\"$(b64_random 64)\"},{\"to\":\"$KEY_lou\",\"ct\":\"$(b64_random 64)\"}]"
assert_error "Sam, gone, sending with the summary's mid: no dup" not_found
assert_eq "  nothing stored" "$before" "$(table_counts)"

step "declined: nothing moves"
keygen client2
cli_out out client2 request --language en --topic leaving --programme "$A"
field_to CASE2 "$out" case
cli couns referral propose "$CASE2" "$B" >/dev/null
cli_out out client2 referral decline "$CASE2"
assert_match "declined" "$out" '^referral: declined$'
assert_match "the case is still Sam's alone" "$(cli client2 members "$CASE2")" '^member Sam \(counsellor\) in the case$'
assert_eq "nobody joined" 2 "$(sql "SELECT count(*) FROM case_participants WHERE case_id = $CASE2")"

step "withdrawn after the yes: Lou leaves again"
keygen client3
cli_out out client3 request --language en --topic leaving --programme "$A"
field_to CASE3 "$out" case
cli couns referral propose "$CASE3" "$B" >/dev/null
cli_out out client3 referral accept "$CASE3"
assert_match "Lou joins" "$out" '^counsellor: Lou: '
cli_out out client3 referral withdraw "$CASE3"
assert_match "withdrawn" "$out" '^referral: withdrawn$'
cli_out out client3 members "$CASE3"
assert_match "Lou left" "$out" '^former Lou \(co-counsellor\) left: removed'
assert_eq "the case is still A's Sam's" "$(account_id couns)" "$(sql "SELECT counsellor_id FROM cases WHERE id = $CASE3")"
req client3 referral.withdraw "\"case\":$CASE3"
assert_error "withdrawing again" bad_state
cli_out out couns referral propose "$CASE3" "$B"
assert_match "a new proposal once none is pending" "$out" '^referral: proposed$'
cli_out out couns referral withdraw "$CASE3"
assert_match "Sam cancels his proposal" "$out" '^referral: cancelled$'

step "figures: counts under 5 are not given"
cli_out out admin referral stats
assert_eq "A's as proposer" "sent proposed=<5 accepted=<5 declined=<5 completed=<5 median=-" "$(grep '^sent ' <<<"$out")"
clirun admin2 raw --login --count 1 <<<'{"v":1,"type":"referral.stats","id":5}'
assert_match "B's received counts are null" "$OUT" '"received": *\{[^}]*"proposed": *null'
assert_match "  with min_count 5" "$OUT" '"min_count": *5'
assert_eq "the store counts them all" "4|2|1|1" "$(sql "SELECT count(*), sum(answered IS NOT NULL AND status != 2), sum(status = 2), sum(status = 5) FROM referrals WHERE from_programme = $A")"

# handover CLIENT RECEIVER [PREFERENCE...]: a new case of CLIENT at A,
# stating PREFERENCE, referred to B and handed over: the client accepts,
# confirms the partner's counsellor and approves the summary (raw
# frames), Sam sees who is in it (members), sends it and hands over (his
# CLI). The partner's counsellor matched must be RECEIVER ("-": any).
handover() {
	local who=$1 to=$2 c m text digest
	shift 2
	keygen "$who"
	c=$(field "$(cli "$who" request --language en --topic leaving --programme "$A" "$@")" case)
	cli couns referral propose "$c" "$B" >/dev/null
	m=$(sql "SELECT members + 1 FROM cases WHERE id = $c")
	text="summary of case $c"
	digest=$(printf '%s' "$text" | b2sum -l 256 | cut -d' ' -f1 | xxd -r -p | base64 -w0)
	clirun "$who" raw --login --answered <<<"{\"v\":1,\"type\":\"referral.answer\",\"id\":5,\"case\":$c,\"accept\":true}
{\"v\":1,\"type\":\"case.seen\",\"id\":6,\"case\":$c,\"members\":$m}"
	assert_match "$who accepts and confirms" "$OUT" '"type": *"case.seen.ok"'
	[ "$to" = - ] || assert_eq "  the partner's counsellor is $to" "$(account_id "$to")" \
		"$(sql "SELECT receiver_id FROM referrals WHERE case_id = $c")"
	cli couns members "$c" >/dev/null	# Sam confirms too
	clirun "$who" raw --login --answered <<<"{\"v\":1,\"type\":\"referral.approve\",\"id\":7,\"case\":$c,\"digest\":\"$digest\"}"
	assert_match "  and approves" "$OUT" '"type": *"referral.approve.ok"'
	cli couns referral summary "$c" "$text" >/dev/null
	cli_out out couns referral complete "$c"
	assert_match "  handed over" "$out" '^referral: completed$'
}

step "matching in B's pool keeps the client's preferences"
add_counsellor admin2 pia Pia --languages en --topics leaving --background peer
certify_pending Pia --by admin2
cli_out out lou profile --background professional
assert_eq "Lou has a case, Pia none: a tie would go to Pia" "1|0" \
	"$(sql "SELECT sum(counsellor_id = $LOU_ID), sum(counsellor_id = $(account_id pia))
	    FROM cases WHERE status != 3")"
handover client4 lou --background professional
handover client5 pia --background peer

step "figures at 5 and more: exact counts and a median"
handover client6 -
handover client7 -
cli_out out admin referral stats
assert_match "A's as proposer" "$(grep '^sent ' <<<"$out")" \
	'^sent proposed=8 accepted=6 declined=<5 completed=5 median=[0-9]+s$'
cli_out out admin2 referral stats
assert_match "B's as partner" "$(grep '^received ' <<<"$out")" \
	'^received proposed=8 accepted=6 declined=<5 completed=5 median=[0-9]+s$'
assert_eq "  the median, as the store has it" \
	"$(sql "SELECT completed - proposed FROM referrals WHERE status = 5
	    ORDER BY 1 LIMIT 1 OFFSET 2")s" \
	"$(sed -n 's/.* median=\([0-9]*s\)$/\1/p' <<<"$(grep '^received ' <<<"$out")")"

step "a second handover made up in the store, within B (Pia for Lou, the first case's): the client's yes was used by the first"
PIA_ID=$(account_id pia)
sql_rw "UPDATE referrals SET receiver_id = $PIA_ID WHERE case_id = $CASE" >/dev/null
sql_rw "UPDATE case_members SET left_at = 30, why = 5 WHERE case_id = $CASE AND account_id = $LOU_ID AND left_at IS NULL" >/dev/null
sql_rw "DELETE FROM case_participants WHERE case_id = $CASE AND account_id = $LOU_ID" >/dev/null
sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $CASE, id, role, 40, 0, 0, 1 FROM accounts WHERE id = $PIA_ID" >/dev/null
sql_rw "INSERT INTO case_members(case_id, account_id, kind, joined_at) VALUES ($CASE, $PIA_ID, 0, 40)" >/dev/null
sql_rw "UPDATE cases SET counsellor_id = $PIA_ID WHERE id = $CASE" >/dev/null
sql_rw "UPDATE case_participants SET seen = 1 WHERE case_id = $CASE" >/dev/null
before=$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $PIA_ID")
clirun client send "$CASE" "for Lou, I believe"
assert_eq "the client's send exits 1" 1 "$RC"
assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"
assert_eq "  nothing stored for Pia (a copy was)" "$before" \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $PIA_ID")"

# case_with_sam WHO: a new client WHO with a case at A that Sam has and
# his key pinned (WHO read Sam's hello); sets c.
case_with_sam() {
	keygen "$1"
	c=$(field "$(cli "$1" request --language en --topic leaving --programme "$A")" case)
	cli couns send "$c" "hello from Sam" >/dev/null
	assert_contains "$1 reads Sam (his key pinned)" "$(cli "$1" recv --count 1)" "hello from Sam"
}

step "a yes to B, then a handover made up in the store to a counsellor of A (Kim): not the partner's"
add_counsellor admin kim Kim --languages de --topics leaving
certify_pending Kim
KIM_ID=$(account_id kim)
case_with_sam client8
cli couns referral propose "$c" "$B" >/dev/null
cli_out out client8 referral accept "$c"
C8_ID=$(account_id client8)
sql_rw "UPDATE referrals SET receiver_id = $KIM_ID, status = 5, completed = 200 WHERE case_id = $c" >/dev/null
sql_rw "UPDATE case_members SET left_at = 201, why = 5 WHERE case_id = $c AND left_at IS NULL AND account_id != $C8_ID" >/dev/null
sql_rw "DELETE FROM case_participants WHERE case_id = $c" >/dev/null
sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $c, id, role, 202, 0, 0, 1 FROM accounts WHERE id IN ($KIM_ID, $C8_ID)" >/dev/null
sql_rw "INSERT INTO case_members(case_id, account_id, kind, joined_at) VALUES ($c, $KIM_ID, 0, 202)" >/dev/null
sql_rw "UPDATE cases SET counsellor_id = $KIM_ID WHERE id = $c" >/dev/null
clirun client8 send "$c" "to my counsellor at Second Path, I believe"
assert_eq "client8's send exits 1" 1 "$RC"
assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"
assert_eq "  nothing stored for Kim (a copy was)" 0 \
	"$(sql "SELECT count(*) FROM deliveries WHERE recipient_id = $KIM_ID")"

step "at the answer the server lists Lou (B) as the case's counsellor and proposes A, where the case is; then Kim of A in Sam's place"
SAM_ID=$(account_id couns)
case_with_sam client9
C9_ID=$(account_id client9)
sql_rw "INSERT INTO referrals(case_id, from_programme, to_programme, status, proposed) VALUES ($c, $B, $A, 0, 300)" >/dev/null
sql_rw "DELETE FROM case_participants WHERE case_id = $c" >/dev/null
sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $c, id, role, 301, 0, 0, 1 FROM accounts WHERE id IN ($LOU_ID, $C9_ID)" >/dev/null
sql_rw "UPDATE cases SET counsellor_id = $LOU_ID WHERE id = $c" >/dev/null
clirun client9 referral accept "$c"
assert_eq "client9's yes is not sent: exit 1" 1 "$RC"
assert_contains "  Sam's place is another key's, it says" "$ERR" "changed"
assert_contains "  and why nothing was answered" "$ERR" "not answered"
assert_eq "  the referral is still proposed" 0 \
	"$(sql "SELECT status FROM referrals WHERE case_id = $c AND to_programme = $A")"
sql_rw "UPDATE referrals SET receiver_id = $KIM_ID, status = 5, answered = 301, completed = 302 WHERE case_id = $c AND to_programme = $A" >/dev/null
sql_rw "UPDATE case_members SET left_at = 303, why = 5 WHERE case_id = $c AND account_id = $SAM_ID AND left_at IS NULL" >/dev/null
sql_rw "DELETE FROM case_participants WHERE case_id = $c" >/dev/null
sql_rw "DELETE FROM case_members WHERE case_id = $c AND account_id != $SAM_ID AND account_id != $C9_ID" >/dev/null
sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $c, id, role, 304, 0, 0, 1 FROM accounts WHERE id IN ($KIM_ID, $C9_ID)" >/dev/null
sql_rw "INSERT INTO case_members(case_id, account_id, kind, joined_at) VALUES ($c, $KIM_ID, 0, 304)" >/dev/null
sql_rw "UPDATE cases SET counsellor_id = $KIM_ID WHERE id = $c" >/dev/null
clirun client9 send "$c" "to Sam, I believe"
assert_eq "client9's send exits 1" 1 "$RC"
assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"
assert_eq "  nothing stored for Kim in that case (a copy was)" 0 \
	"$(sql "SELECT count(*) FROM deliveries d WHERE d.recipient_id = $KIM_ID AND d.case_id = $c")"

step "a handover the client did not see before the new counsellor proposed another referral: the new key is taken for Sam's all the same"
case_with_sam client10
verify_shown client10 "$c" Sam >/dev/null
assert_match "  and compared his safety number" "$(cli client10 safety "$c")" '^Sam .* verified'
cli couns referral propose "$c" "$B" >/dev/null
cli_out out client10 referral accept "$c"
assert_match "B's counsellor joins" "$out" '^counsellor: (Lou|Pia): '
summed client10 "$c"
cli_out out couns referral complete "$c"
assert_match "Sam hands over (client10 not there)" "$out" '^referral: completed$'
if [ "$(sql "SELECT counsellor_id FROM cases WHERE id = $c")" = "$LOU_ID" ]; then new=lou; else new=pia; fi
cli_out out "$new" referral propose "$c" "$A"
assert_match "the new counsellor proposes A" "$out" '^referral: proposed$'
clirun client10 send "$c" "to my counsellor at Second Path"
assert_eq "client10's send goes" 0 "$RC"
assert_not_contains "  no changed key" "$ERR" "changed"
assert_not_contains "  the new counsellor not verified: his number was never compared" \
	"$(cli client10 safety "$c")" " verified"
assert_eq "  a copy stored for the new counsellor" 1 \
	"$(sql "SELECT count(*) FROM deliveries d WHERE d.recipient_id = $(account_id "$new") AND d.case_id = $c AND d.sender_id = $(account_id client10)")"

step "a yes whose answer was lost (sent raw: the CLI kept nothing): accept again keeps it, sends nothing, and the handover goes"
case_with_sam client11
cli couns referral propose "$c" "$B" >/dev/null
clirun client11 referral accept "$c" "$C"
assert_eq "a yes to C, where the referral is to B: exit 1" 1 "$RC"
assert_contains "  saying so" "$ERR" "has no referral to programme $C now"
assert_eq "  nothing answered" 0 "$(sql "SELECT status FROM referrals WHERE case_id = $c")"
RID=$(sql "SELECT id FROM referrals WHERE case_id = $c")
clirun client11 raw --login --answered <<<"{\"v\":1,\"type\":\"referral.answer\",\"id\":5,\"case\":$c,\"accept\":true,\"referral\":$((RID + 1))}
{\"v\":1,\"type\":\"referral.answer\",\"id\":6,\"case\":$c,\"accept\":true,\"referral\":\"$RID\"}"
assert_match "a yes naming another referral than the open one: bad_state" "$OUT" '"re": *5,.*"code": *"bad_state"'
assert_match "  a referral that is no integer: bad_field" "$OUT" '"re": *6,.*"code": *"bad_field"'
assert_eq "  nothing answered" 0 "$(sql "SELECT status FROM referrals WHERE case_id = $c")"
clirun client11 raw --login --answered <<<"{\"v\":1,\"type\":\"referral.answer\",\"id\":5,\"case\":$c,\"accept\":true,\"referral\":$RID}"
assert_match "the server took the yes naming the open referral" "$OUT" '"type": *"referral.answer.ok"'
answered=$(sql "SELECT answered FROM referrals WHERE case_id = $c")
clirun client11 referral accept "$c" "$B"
assert_eq "accept again (to B, as shown) exits 0" 0 "$RC"
assert_contains "  it says the yes was taken already" "$ERR" "has your yes to this referral already"
assert_match "  and shows the referral" "$OUT" '^referral: accepted$'
assert_eq "  nothing answered again" "$answered" "$(sql "SELECT answered FROM referrals WHERE case_id = $c")"
summed client11 "$c"
cli_out out couns referral complete "$c"
assert_match "Sam hands over" "$out" '^referral: completed$'
if [ "$(sql "SELECT counsellor_id FROM cases WHERE id = $c")" = "$LOU_ID" ]; then new=lou; else new=pia; fi
clirun client11 send "$c" "to my new counsellor"
assert_eq "client11's send goes: the yes was kept" 0 "$RC"
assert_not_contains "  no changed key" "$ERR" "changed"
assert_eq "  a copy stored for the new counsellor" 1 \
	"$(sql "SELECT count(*) FROM deliveries d WHERE d.recipient_id = $(account_id "$new") AND d.case_id = $c AND d.sender_id = $(account_id client11)")"

step "the server takes a yes whose partner's counsellor does not hold here (A's statement for B not served): the yes is kept all the same"
case_with_sam client12
cli couns referral propose "$c" "$B" >/dev/null
if on_pg; then hexof="encode(statement, 'hex')"; else hexof="hex(statement)"; fi
vouch=$(sql "SELECT $hexof FROM programme_partners WHERE programme_id = $A AND partner_id = $B")
sql_rw "DELETE FROM programme_partners WHERE programme_id = $A AND partner_id = $B" >/dev/null
clirun client12 referral accept "$c"
assert_eq "accept exits 1: B's counsellor is not endorsed here" 1 "$RC"
assert_not_contains "  not shown as B's" "$OUT" "counsellor: "
assert_eq "  the server took the yes" 1 "$(sql "SELECT status FROM referrals WHERE case_id = $c")"
if on_pg; then blob="decode('$vouch', 'hex')"; else blob="X'$vouch'"; fi
sql_rw "INSERT INTO programme_partners(programme_id, partner_id, statement) VALUES ($A, $B, $blob)" >/dev/null
summed client12 "$c"
cli_out out couns referral complete "$c"
assert_match "Sam hands over" "$out" '^referral: completed$'
clirun client12 send "$c" "to my new counsellor"
assert_eq "client12's send goes: the yes was kept" 0 "$RC"
assert_not_contains "  no changed key" "$ERR" "changed"

# yes_to_b WHO [NAMES]: a new client WHO with a case at A
# (case_with_sam), which Sam proposes to B and WHO accepts; B's
# counsellor that joins is one of NAMES (an extended regex; Lou|Pia).
# Sets c, and R_ID to that counsellor's account.
yes_to_b() {
	case_with_sam "$1"
	cli couns referral propose "$c" "$B" >/dev/null
	cli_out out "$1" referral accept "$c" "$B"
	assert_match "B's counsellor joins" "$out" "^counsellor: (${2:-Lou|Pia}): "
	R_ID=$(sql "SELECT receiver_id FROM referrals WHERE case_id = $c")
}

# made_up_handover CASE CLIENT_ID RECEIVER_ID: the store says CASE was
# handed over to RECEIVER_ID by its referral to B (Sam left for it).
made_up_handover() {
	sql_rw "UPDATE referrals SET to_programme = $B, receiver_id = $3, status = 5, completed = 500 WHERE case_id = $1" >/dev/null
	sql_rw "UPDATE case_members SET left_at = 501, why = 5 WHERE case_id = $1 AND account_id = $SAM_ID AND left_at IS NULL" >/dev/null
	sql_rw "DELETE FROM case_participants WHERE case_id = $1" >/dev/null
	sql_rw "INSERT INTO case_participants(case_id, account_id, role, joined, kind, since, seen) SELECT $1, id, role, 502, 0, 0, 1 FROM accounts WHERE id IN ($3, $2)" >/dev/null
	sql_rw "INSERT INTO case_members(case_id, account_id, kind, joined_at) VALUES ($1, $3, 0, 502)" >/dev/null
	sql_rw "UPDATE cases SET counsellor_id = $3 WHERE id = $1" >/dev/null
}

step "a yes withdrawn while the server names another partner (C, made up in the store): the yes to B goes all the same, and a handover to B's counsellor made up after is a changed key"
yes_to_b client13
sql_rw "UPDATE referrals SET to_programme = $C WHERE case_id = $c" >/dev/null
cli_out out client13 referral withdraw "$c"
assert_match "withdrawn" "$out" '^referral: withdrawn$'
made_up_handover "$c" "$(account_id client13)" "$R_ID"
clirun client13 send "$c" "to Sam, I believe"
assert_eq "client13's send exits 1" 1 "$RC"
assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"

step "a withdrawal the server refuses (the referral made declined in the store): the yes goes all the same, and a handover made up after is a changed key"
yes_to_b client14
sql_rw "UPDATE referrals SET status = 2 WHERE case_id = $c" >/dev/null
clirun client14 referral withdraw "$c"
assert_eq "the withdrawal refused: exit 1" 1 "$RC"
assert_contains "  bad_state" "$ERR" "bad_state"
made_up_handover "$c" "$(account_id client14)" "$R_ID"
clirun client14 send "$c" "to Sam, I believe"
assert_eq "client14's send exits 1" 1 "$RC"
assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"

step "a handover the client has not seen yet, then a no to the new counsellor's proposal: the yes the handover used is no yes to take back"
# Lou and Pia are full by now: Rae takes the referral
add_counsellor admin2 rae Rae --languages en --topics leaving
certify_pending Rae --by admin2
yes_to_b client15 Rae
summed client15 "$c"
cli_out out couns referral complete "$c"
assert_match "Sam hands over" "$out" '^referral: completed$'
new=rae
cli_out out "$new" referral propose "$c" "$A"
assert_match "the new counsellor proposes A" "$out" '^referral: proposed$'
clirun client15 referral decline "$c"
assert_eq "client15 declines: exit 0" 0 "$RC"
clirun client15 send "$c" "to my counsellor at Second Path"
assert_eq "client15's send goes: the handover it agreed to stands" 0 "$RC"
assert_not_contains "  no changed key" "$ERR" "changed"

step "a withdrawal whose yes this device cannot take back (its key file cannot be saved): nothing is sent, and the yes goes once it can"
yes_to_b client16 'Lou|Pia|Rae'
before=$(sql "SELECT status FROM referrals WHERE case_id = $c")
size=$(stat -c %s "$IDS/client16.key")
[ "$size" -gt 1024 ] || fail "  client16's key file is $size bytes: a limit of 1024 would not stop its save"
# writes past 1 KiB fail (EFBIG, the signal ignored) in the CLI alone
trap '' XFSZ
CLI_WRAP="prlimit --fsize=1024 --" clirun client16 referral withdraw "$c"
trap - XFSZ
assert_eq "  the withdrawal exits 1" 1 "$RC"
assert_contains "  it says nothing was sent" "$ERR" "nothing was sent"
assert_eq "  the referral is as it was" "$before" "$(sql "SELECT status FROM referrals WHERE case_id = $c")"
assert_eq "  the key file is as it was" "$size" "$(stat -c %s "$IDS/client16.key")"
cli_out out client16 referral withdraw "$c"
assert_match "  withdrawn with the file saved" "$out" '^referral: withdrawn$'
made_up_handover "$c" "$(account_id client16)" "$R_ID"
clirun client16 send "$c" "to Sam, I believe"
assert_eq "  client16's send exits 1" 1 "$RC"
assert_contains "  the counsellor's key changed, it says" "$ERR" "changed"

step "a yes the server takes that this device cannot keep: it says so, exits 1, and keeps it when accepted again"
case_with_sam client17
cli couns referral propose "$c" "$B" >/dev/null
trap '' XFSZ
CLI_WRAP="prlimit --fsize=1024 --" clirun client17 referral accept "$c" "$B"
trap - XFSZ
assert_eq "  the yes exits 1" 1 "$RC"
assert_contains "  it says the yes could not be kept" "$ERR" "could not keep it"
assert_eq "  the server took it" 1 "$(sql "SELECT status FROM referrals WHERE case_id = $c")"
clirun client17 referral accept "$c" "$B"
assert_eq "  accepted again: exit 0" 0 "$RC"
assert_contains "  kept now" "$ERR" "it is kept here"
clirun client17 send "$c" "to both of you"
assert_eq "  client17's send goes: B's counsellor is one it asked for" 0 "$RC"

step "a case's referrals are bounded (32 in its history): a proposal withdrawn and made again 32 times, the next refused, nothing changed"
case_with_sam client18
frames=""
for ((i = 1; i <= 32; i++)); do
	frames+="{\"v\":1,\"type\":\"referral.propose\",\"id\":$((2 * i)),\"case\":$c,\"partner\":$B}"$'\n'
	frames+="{\"v\":1,\"type\":\"referral.withdraw\",\"id\":$((2 * i + 1)),\"case\":$c}"$'\n'
done
clirun couns raw --login --answered <<<"$frames"
assert_eq "  32 proposed and withdrawn" "32|32" \
	"$(grep -c '"type":"referral.propose.ok"' <<<"$OUT")|$(grep -c '"type":"referral.withdraw.ok"' <<<"$OUT")"
assert_eq "  32 referrals kept" 32 "$(sql "SELECT count(*) FROM referrals WHERE case_id = $c")"
before=$(table_counts)
clirun couns raw --login --answered <<<"{\"v\":1,\"type\":\"referral.propose\",\"id\":5,\"case\":$c,\"partner\":$B}"
assert_error "the 33rd proposal: limit" limit
assert_eq "  nothing changed" "$before" "$(table_counts)"

stop_server
finish
