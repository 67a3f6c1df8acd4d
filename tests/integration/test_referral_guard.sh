# test_referral_guard.sh: what a referral must not do (PROTOCOL.md,
# "Referrals"), each found by probing the server from outside.
# Programmes A (Ada, Sam), B (Bea; Lou, there; Kim and Pia, away) and C
# (Cid; Max, away); A and B are partners, C is nobody's.
# - A partner counsellor the client removed is not brought back into the
#   case by a new referral's intake, nor by its own take, nor listed in
#   its queue (as Bea's assignment already refused him). Before, the
#   intake put him straight back.
# - A partner counsellor that had the summary, left the case and was
#   deleted gives the referral back with its summary to go again: no
#   handover to the next one before it went. Before, the handover went
#   to one that never had it.
# - A referral of a case that a counsellor of C now leads (its request
#   named no programme, and Sam was disabled) is inert: no yes to it, no
#   partner counsellor for it, only its end. Before, C's counsellor
#   handed A's client over to B.
# - The client's withdrawal before its yes is its no (declined).
# - A referral's partner counsellor never makes a 9th participant: the
#   case keeps it a place from the proposal on (a colleague brought then
#   is refused, limit), a proposal into a full case is refused (limit),
#   and a referral given back to the partner while the case is full
#   waits (the rematch joins nobody, a take or an assignment is limit)
#   until a place is free. The join at the rematch is told to every
#   participant. Before, the 9th joined, and every read of the case's
#   participants failed: its case.list was internal, nobody told.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# A: Ada, its key (in the trust file), Sam
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")

step "programmes B (Bea; Lou there, Kim and Pia away) and C (Cid; Max, away)"
new_programme_admin "Second Path" admin2 Bea
add_counsellor admin2 lou Lou --languages en --topics leaving
for who in kim:Kim pia:Pia; do
	COUNS_DAEMON=0 add_counsellor admin2 "${who%%:*}" "${who#*:}" \
		--languages en --topics leaving
done
certify_pending Lou Kim Pia --by admin2
for who in Kim Pia; do
	cli admin2 counsellor-update "$who" --presence away >/dev/null
done
new_programme_admin "Third Way" admin3 Cid
COUNS_DAEMON=0 add_counsellor admin3 max Max --languages en --topics leaving
certify_pending Max --by admin3
cli_out out admin3 counsellor-update Max --presence away
assert_field "Max is away: never matched" away "$out" presence
partners_ab
trust_a_only
LOU=$(account_id lou)

req() {
	clirun "$1" raw --login --count 1 <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}

# receiver CASE: the partner counsellor of CASE's newest referral.
receiver() {
	sql "SELECT receiver_id FROM referrals WHERE case_id = $1
	    ORDER BY id DESC LIMIT 1"
}

step "c1 removes Lou; a new referral's intake does not bring him back"
keygen c1
cli_out out c1 request --language en --topic leaving --programme "$A"
field_to C1 "$out" case
cli couns referral propose "$C1" "$B" >/dev/null
cli_out out c1 referral accept "$C1"
assert_eq "Lou joins c1's referral" "$LOU" "$(receiver "$C1")"
cli c1 remove "$C1" Lou >/dev/null
assert_match "c1 removed Lou" "$(cli c1 members "$C1")" '^former Lou .* left: removed'
cli_out out c1 referral withdraw "$C1"
assert_match "c1 withdraws" "$out" '^referral: withdrawn$'
cli couns referral propose "$C1" "$B" >/dev/null
cli_out out c1 referral accept "$C1"
assert_match "c1 accepts again" "$out" '^referral: accepted$'
assert_eq "  Lou is not matched: it waits (Kim and Pia away)" "" "$(receiver "$C1")"
assert_not_contains "  nor in Lou's queue" "$(cli lou queue)" "$C1"
assert_match "  but in Kim's" "$(cli kim queue)" "^$C1 "
before=$(table_counts)
req lou case.take "\"case\":$C1"
assert_error "Lou taking it" forbidden
req admin2 case.assign "\"case\":$C1,\"key\":\"$KEY_lou\""
assert_error "Bea giving it to Lou" forbidden
assert_eq "  nothing changed" "$before" "$(table_counts)"

step "Kim, who had the summary, leaves and is deleted: the summary goes again"
cli_out out admin2 assign "$C1" Kim
assert_eq "Bea gives it to Kim" "$(account_id kim)" "$(receiver "$C1")"
summed c1 "$C1"
cli kim remove "$C1" Kim >/dev/null
assert_match "Kim left by himself" "$(cli c1 members "$C1")" '^former Kim .* left the case by itself'
cli_out out admin2 counsellor-delete Kim
assert_eq "Bea deletes Kim; the referral waits, its summary to go again" "|0|1" \
	"$(sql "SELECT receiver_id, summary_sent, CAST(digest IS NOT NULL AS INTEGER)
	    FROM referrals WHERE case_id = $C1 AND status = 1")"
cli_out out admin2 assign "$C1" Pia
assert_eq "Bea gives it to Pia" "$(account_id pia)" "$(receiver "$C1")"
cli c1 members "$C1" >/dev/null		# c1 confirms Pia
before=$(table_counts)
req couns referral.complete "\"case\":$C1"
assert_error "no handover before the summary went to Pia" bad_state
assert_eq "  nothing changed" "$before" "$(table_counts)"
cli couns members "$C1" >/dev/null	# Sam sees Pia
cli couns referral summary "$C1" "summary of case $C1" >/dev/null
cli_out out couns referral complete "$C1"
assert_match "after it went, the handover" "$out" '^referral: completed$'

step "a case C's counsellor leads: its proposed referral takes no yes"
cli_out out admin2 counsellor-update Lou --presence away
assert_field "Lou away: requests naming no programme go to Sam" away "$out" presence
keygen c2
cli_out out c2 request --language en --topic leaving
field_to C2 "$out" case
assert_field "c2's request names no programme: Sam has it" Sam "$out" counsellor
cli couns referral propose "$C2" "$B" >/dev/null
cli_out out admin disable "$KEY_couns"
assert_field "Ada disables Sam" yes "$out" disabled
cli_out out admin3 assign "$C2" Max
assert_eq "Cid gives c2's case to Max" "$(account_id max)" \
	"$(sql "SELECT counsellor_id FROM cases WHERE id = $C2")"
before=$(table_counts)
req c2 referral.answer "\"case\":$C2,\"accept\":true"
assert_error "c2 accepting A's referral to B" bad_state
assert_eq "  nothing changed" "$before" "$(table_counts)"
# (raw: c2's CLI trusts A's programme alone, and C's Max is in the case)
req c2 referral.withdraw "\"case\":$C2"
assert_match "c2 withdraws" "$OUT" '"type": *"referral.withdraw.ok"'
assert_eq "  before its yes: its no (2, declined)" 2 \
	"$(sql "SELECT status FROM referrals WHERE case_id = $C2")"

step "a case C's counsellor leads: its accepted referral gets no partner counsellor, only its end"
cli_out out admin enable "$KEY_couns"
assert_field "Ada enables Sam" no "$out" disabled
counsellor_down couns
counsellor_up couns		# Sam at work again
keygen c3
cli_out out c3 request --language en --topic leaving
field_to C3 "$out" case
assert_field "c3's request names no programme: Sam has it" Sam "$out" counsellor
cli couns referral propose "$C3" "$B" >/dev/null
cli_out out c3 referral accept "$C3"
assert_eq "c3's referral waits: B's counsellors are away" "" "$(receiver "$C3")"
cli_out out admin2 assign "$C3" Lou
assert_eq "Bea gives it to Lou" "$LOU" "$(receiver "$C3")"
cli admin disable "$KEY_couns" >/dev/null
assert_eq "Sam disabled: Lou left with him, the referral released" "" "$(receiver "$C3")"
cli_out out admin3 assign "$C3" Max
assert_eq "Cid gives c3's case to Max" "$(account_id max)" \
	"$(sql "SELECT counsellor_id FROM cases WHERE id = $C3")"
assert_not_contains "the referral is not in Bea's waiting list" "$(cli admin2 waiting)" "$C3"
before=$(table_counts)
req admin2 case.assign "\"case\":$C3,\"key\":\"$KEY_lou\""
assert_error "Bea giving it to Lou" bad_state
req lou case.take "\"case\":$C3"
assert_error "Lou taking it" not_found
assert_eq "  nothing changed" "$before" "$(table_counts)"
cli_out out max referral withdraw "$C3"
assert_match "Max can end it" "$out" '^referral: cancelled$'

step "a referral keeps its partner counsellor a place among the case's 8"
for i in 1 2 3 4 5 6; do
	COUNS_DAEMON=0 add_counsellor admin k$i K$i --languages en --topics leaving
done
certify_pending K1 K2 K3 K4 K5 K6
cli admin enable "$KEY_couns" >/dev/null
counsellor_down couns
counsellor_up couns		# Sam at work again
keygen c4
cli_out out c4 request --language en --topic leaving --programme "$A"
field_to C4 "$out" case
assert_field "c4's case is Sam's" Sam "$out" counsellor
# people CASE: how many are in CASE.
people() {
	sql "SELECT count(*) FROM case_participants WHERE case_id = $1"
}
# bring K...: Sam brings each into c4, one session; OUT the answers.
bring() {
	local frames="" k n=10
	for k in "$@"; do
		k=KEY_$k
		frames+="{\"v\":1,\"type\":\"case.invite\",\"id\":$n,\"case\":$C4,\"key\":\"${!k}\",\"as\":\"co-counsellor\"}"$'\n'
		n=$((n + 1))
	done
	clirun couns raw --login --answered <<<"${frames%$'\n'}"
}
bring k1 k2 k3 k4 k5
assert_eq "Sam brings K1..K5: 7 in c4" "5|7" \
	"$(grep -c '"case.invite.ok"' <<<"$OUT")|$(people "$C4")"
cli couns referral propose "$C4" "$B" >/dev/null
cli_out out c4 referral accept "$C4"
assert_match "c4 accepts B" "$out" '^referral: accepted$'
assert_eq "  it waits: B's counsellors are away" "" "$(receiver "$C4")"
bring k6
assert_error "K6 as the 8th: the place is the referral's" limit
assert_eq "  still 7 in c4" 7 "$(people "$C4")"

step "Lou online: the rematch joins him as the 8th, and everyone is told"
watch_start c4
watch_start k1
cli_out out admin2 counsellor-update Lou --presence online
assert_eq "Lou joins c4's referral" "$LOU" "$(receiver "$C4")"
assert_eq "  8 in c4" 8 "$(people "$C4")"
watch_expect "c4 is told Lou joined" c4 '"type": *"case".*"name": *"Lou"'
watch_expect "K1 is told Lou joined" k1 '"type": *"case".*"name": *"Lou"'
watch_stop c4
watch_stop k1
clirun c4 raw --login --count 1 <<<'{"v":1,"type":"case.list","id":5}'
assert_match "c4 lists its cases" "$OUT" '"type": *"case.list.ok"'

step "given back to B while c4 is full, the referral waits for a place"
cli lou remove "$C4" Lou >/dev/null
bring k6
assert_match "Lou left by himself (he keeps the referral): K6 is the 8th" \
	"$OUT" '"type": *"case.invite.ok"'
counsellor_down lou
cli_out out admin2 counsellor-delete Lou
assert_eq "Bea deletes Lou: the referral waits at B again" "" "$(receiver "$C4")"
counsellor_up pia
cli_out out admin2 counsellor-update Pia --presence online
assert_eq "Pia online: the rematch does not join her, c4 is full" "|8" \
	"$(receiver "$C4")|$(people "$C4")"
before=$(table_counts)
# (answered: Pia has messages of c1 queued, sent first)
clirun pia raw --login --answered <<<"{\"v\":1,\"type\":\"case.take\",\"id\":5,\"case\":$C4}"
assert_error "Pia taking it" limit
req admin2 case.assign "\"case\":$C4,\"key\":\"$KEY_pia\""
assert_error "Bea giving it to Pia" limit
assert_eq "  nothing changed" "$before" "$(table_counts)"
clirun c4 raw --login --count 1 <<<'{"v":1,"type":"case.list","id":5}'
assert_match "c4 lists its cases" "$OUT" '"type": *"case.list.ok"'
cli k6 remove "$C4" K6 >/dev/null
cli_out out pia take "$C4"
assert_eq "K6 left: Pia takes it, the 8th" "$(account_id pia)|8" \
	"$(receiver "$C4")|$(people "$C4")"

step "no proposal into a case with no place for the partner's counsellor"
cli c4 referral withdraw "$C4" >/dev/null
bring k6
assert_match "c4 withdrew, Pia left: K6 back as the 8th" "$OUT" \
	'"type": *"case.invite.ok"'
before=$(table_counts)
req couns referral.propose "\"case\":$C4,\"partner\":$B"
assert_error "Sam proposing B" limit
assert_eq "  nothing changed" "$before" "$(table_counts)"

step "a long history bounds invitations, not a referral's partner counsellor"
cli k6 remove "$C4" K6 >/dev/null
# c4's history made 64 stays (written into the store: bringing K6 in and
# out 25 times more would take half a minute)
n=$(sql "SELECT count(*) FROM case_members WHERE case_id = $C4")
sql_rw "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 64 - $n)
INSERT INTO case_members(case_id, account_id, kind, joined_at, left_at, why)
SELECT $C4, $(account_id k6), 1, 0, 1, 4 FROM g" >/dev/null
assert_eq "7 in c4, 64 stays in its history" "7|64" \
	"$(people "$C4")|$(sql "SELECT count(*) FROM case_members WHERE case_id = $C4")"
bring k6
assert_error "K6 brought in again: limit (the history)" limit
cli_out out couns referral propose "$C4" "$B"
assert_match "Sam proposes B all the same" "$out" '^referral: proposed'
cli_out out c4 referral accept "$C4"
assert_match "c4 accepts" "$out" '^referral: accepted$'
COUNS_DAEMON=0 add_counsellor admin2 ray Ray --languages en --topics leaving
certify_pending Ray --by admin2
# Ray, online and certified but not connected, asks to take it: his
# request brings him to work, and the rematch joins him first
clirun ray take "$C4"
assert_match "Ray taking it: bad_state (he is in it already)" "$ERR" '^offramp: bad_state: case\.take'
assert_eq "  Ray of B joined it: the 8th, the history's 65th stay" "$(account_id ray)|8|65" \
	"$(receiver "$C4")|$(people "$C4")|$(sql "SELECT count(*) FROM case_members WHERE case_id = $C4")"

stop_server
finish
