# test_referral_queue.sh: an accepted referral that finds no counsellor
# at the partner waits in the partner's queues (PROTOCOL.md, "Referrals",
# `case.queue`, `case.waiting`). Programmes A (Ada, Sam) and B (Bea, Lou,
# Kim) are partners; B's counsellors are away, so nobody is matched. The
# referral is in Lou's queue and Bea's waiting list, marked as referred by
# A and showing the client's request only, and in no queue of A's; Lou
# takes it, joins as the referral's counsellor, and the three talk. Bea
# disables Lou: the referral waits in her list again, with its approved
# summary to go again, and she gives it to Kim. A second referral she
# gives to Kim too. Then B's admin ends the partnership:
# the referrals still open are cancelled, Kim leaves for it, visibly, and
# nothing of a referral goes on.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# A: Ada, its key (in the trust file), Sam
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
ANAME=$(sql "SELECT name FROM programmes WHERE id = $A")

step "programme B (Bea; Lou and Kim, away) a partner of A"
new_programme_admin "Second Path" admin2 Bea
COUNS_DAEMON=0 add_counsellor admin2 lou Lou --languages en --topics leaving
COUNS_DAEMON=0 add_counsellor admin2 kim Kim --languages en --topics leaving
certify_pending Lou Kim --by admin2
for who in Lou Kim; do
	cli_out out admin2 counsellor-update "$who" --presence away
	assert_field "Bea set $who away: never matched" away "$out" presence
done
partners_ab
trust_a_only

# referred CLIENT [any]: CLIENT's case with Sam (any: its request names
# no programme), referred to B, accepted; nobody of B is matched. Sets
# CASE.
referred() {
	keygen "$1"
	local prog=(--programme "$A")
	[ "${2:-}" != any ] || prog=()
	cli_out out "$1" request --language en --topic leaving --format chat "${prog[@]}"
	field_to CASE "$out" case
	assert_field "$1's case is Sam's" Sam "$out" counsellor
	cli couns referral propose "$CASE" "$B" >/dev/null
	cli_out out "$1" referral accept "$CASE"
	assert_match "$1 accepts" "$out" '^referral: accepted$'
	assert_eq "  nobody of B is matched" "" \
		"$(sql "SELECT receiver_id FROM referrals WHERE case_id = $CASE")"
}

step "the waiting referral is in B's queues, as referred by A"
referred client
LINE="^$CASE en leaving normal waiting=[0-9]+s referred by partner programme $A $ANAME\$"
assert_match "Lou's queue has it" "$(cli lou queue)" "$LINE"
assert_match "Bea's waiting list has it" "$(cli admin2 waiting)" "$LINE"
clirun lou raw --login --count 1 <<<'{"v":1,"type":"case.queue","id":5}'
assert_match "the entry: referred_by A" "$OUT" "\"referred_by\": *$A"
assert_match "  the stated preferences" "$OUT" '"asked": *\[ *"format" *\]'
assert_no_match "  nobody in the case named" "$OUT" 'participants|"name"|"key"'
assert_not_contains "Sam's queue lacks it" "$(cli couns queue)" "$CASE"
assert_not_contains "Ada's waiting list lacks it" "$(cli admin waiting)" "$CASE"

step "Lou takes it: he joins as the referral's counsellor, and the three talk"
cli_out out lou take "$CASE"
assert_field "the case stays active" active "$out" status
assert_match "Lou is told it is a referral from A, and how he joins" "$out" \
	"^referral: from partner programme $A $ANAME; you join as the referral's counsellor, joining until the others confirmed you\$"
assert_eq "Lou is the referral's counsellor" "$(account_id lou)" \
	"$(sql "SELECT receiver_id FROM referrals WHERE case_id = $CASE")"
assert_eq "the case is still Sam's, not B's" "$(account_id couns)|1" \
	"$(sql "SELECT counsellor_id, CAST(coalesce(programme_id, 0) != $B AS INTEGER) FROM cases WHERE id = $CASE")"
cli_out out client members "$CASE"
assert_match "Lou joins as the referral's counsellor" "$out" '^member Lou \(referral\) joining'
assert_not_contains "the queue no longer has it" "$(cli kim queue)" "$CASE"
req() {
	clirun "$1" raw --login --count 1 <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}
req kim case.take "\"case\":$CASE"
assert_error "Kim taking it too" not_found
cli couns members "$CASE" >/dev/null
cli couns send "$CASE" "Sam to both" >/dev/null
assert_contains "the client reads Sam" "$(cli client recv --count 1)" "Sam to both"
assert_contains "Lou reads Sam" "$(cli lou recv --count 1)" "Sam to both"
cli lou send "$CASE" "Lou to both" >/dev/null
assert_contains "the client reads Lou" "$(cli client recv --count 1)" "Lou to both"
assert_contains "Sam reads Lou" "$(cli couns recv --count 1)" "Lou to both"
cli client send "$CASE" "client to both" >/dev/null
assert_contains "Sam reads the client" "$(cli couns recv --count 1)" "client to both"
assert_contains "Lou reads the client" "$(cli lou recv --count 1)" "client to both"

step "Bea disables Lou: the referral waits again at B, its summary to go again"
SUMMARY="summary for B $RANDOM"
cli couns referral draft "$CASE" "$SUMMARY" >/dev/null
assert_contains "the client reads the draft" "$(cli client recv --count 1)" "$SUMMARY"
cli client referral approve "$CASE" "$SUMMARY" >/dev/null
cli couns referral summary "$CASE" "$SUMMARY" >/dev/null
assert_contains "Lou reads the summary" "$(cli lou recv --count 1)" "$SUMMARY"
cli_out out admin2 disable "$KEY_lou"
assert_field "Bea disables Lou" yes "$out" disabled
assert_eq "nobody of B chosen, the summary to send, the approval kept" "|0|1" \
	"$(sql "SELECT receiver_id, summary_sent, CAST(digest IS NOT NULL AS INTEGER) FROM referrals WHERE case_id = $CASE")"
assert_match "Bea's waiting list has it again" "$(cli admin2 waiting)" "$LINE"
assert_match "Kim's queue has it" "$(cli kim queue)" "$LINE"
cli_out out client members "$CASE"
assert_match "the client sees Lou left, disabled" "$out" \
	"^former Lou \(co-counsellor\) left: the programme's admin disabled the counsellor's account"
assert_no_match "  and nobody as the referral's counsellor" "$out" '\(referral\)'
cli_out out client referral show "$CASE"
assert_match "the referral is still accepted" "$out" '^referral: accepted$'
cli_out out admin2 assign "$CASE" Kim
assert_field "Bea assigns it to Kim" active "$out" status
cli_out out client members "$CASE"
assert_match "Kim joins as the referral's counsellor" "$out" '^member Kim \(referral\) joining'
cli couns members "$CASE" >/dev/null
req couns referral.complete "\"case\":$CASE"
assert_error "no handover before the summary went to Kim" bad_state
cli couns referral summary "$CASE" "$SUMMARY" >/dev/null
assert_contains "Kim reads the summary the client approved" \
	"$(cli kim recv --count 1)" "$SUMMARY"
assert_eq "  sent once more" 1 \
	"$(sql "SELECT summary_sent FROM referrals WHERE case_id = $CASE")"

step "Bea assigns a second waiting referral to Kim"
referred client2 any	# its CLI goes on taking Sam, of A, after its yes to B
before=$(table_counts)
req admin case.assign "\"case\":$CASE,\"key\":\"$KEY_kim\""
assert_error "Ada: the case does not wait at A" bad_state
req admin2 case.assign "\"case\":$CASE,\"key\":\"$KEY_couns\""
assert_error "Bea: to Sam, not of B" not_found
assert_eq "nothing changed" "$before" "$(table_counts)"
cli_out out admin2 assign "$CASE" Kim
assert_field "the case stays active" active "$out" status
cli_out out client2 members "$CASE"
assert_match "Kim joins as the referral's counsellor" "$out" '^member Kim \(referral\) joining'
assert_eq "Bea's two assignments are in B's audit log" 2 \
	"$(sql "SELECT count(*) FROM audit WHERE programme_id = $B AND action = 'case.assign'")"
clirun kim send "$CASE" "Kim before Sam saw her"
assert_contains "Kim writes nobody before Sam too was shown her" "$ERR" "not_told"
cli couns members "$CASE" >/dev/null		# Sam sees Kim
cli kim send "$CASE" "Kim to both" >/dev/null
assert_contains "the client reads Kim" "$(cli client2 recv --count 1)" "Kim to both"
assert_contains "Sam reads Kim" "$(cli couns recv --count 1)" "Kim to both"
cli couns send "$CASE" "Sam after the yes" >/dev/null
assert_contains "the client, whose request named no programme, still reads Sam" \
	"$(cli client2 recv --count 1)" "Sam after the yes"

step "the partnership ends: the open referrals are cancelled, Kim leaves"
keygen client3
cli_out out client3 request --language en --topic leaving --format chat --programme "$A"
field_to CASE3 "$out" case
cli couns referral propose "$CASE3" "$B" >/dev/null
P=$(sql "SELECT id FROM partnerships WHERE status = 1")
cli_out out admin2 partnership end "$P"
assert_field "Bea ends it" ended "$out" status
assert_eq "no referral open between A and B: all cancelled" "0|3" \
	"$(sql "SELECT sum(status < 2), sum(status = 4) FROM referrals")"
cli_out out client2 members "$CASE"
assert_match "Kim left, visibly, for the partnership" "$out" \
	'^former Kim \(co-counsellor\) left: the partnership between the programmes ended'
assert_eq "  stored as such (6)" 6 \
	"$(sql "SELECT why FROM case_members WHERE case_id = $CASE AND account_id = $(account_id kim)")"
assert_eq "the case is still Sam's, not B's" "$(account_id couns)|1" \
	"$(sql "SELECT counsellor_id, CAST(coalesce(programme_id, 0) != $B AS INTEGER) FROM cases WHERE id = $CASE")"
cli_out out client2 referral show "$CASE"
assert_match "the client sees it cancelled" "$out" '^referral: cancelled$'
before=$(table_counts)
req client3 referral.answer "\"case\":$CASE3,\"accept\":true"
assert_error "accepting the cancelled proposal" bad_state
req couns referral.complete "\"case\":$CASE"
assert_error "Sam completing" bad_state
req couns referral.summary "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"to\":\"$KEY_kim\",\"ct\":\"$(b64_random 64)\""
assert_error "Sam's summary to Kim" bad_state
req couns referral.propose "\"case\":$CASE,\"partner\":$B"
assert_error "Sam proposing B again: no partner, not blocked" not_found
assert_eq "nothing changed" "$before" "$(table_counts)"

stop_server
finish
