# test_referral_room.sh: an accepted referral holds a place in its
# partner counsellor's caseload from the join on (PROTOCOL.md,
# "Referrals", "A place in the partner counsellor's caseload").
# Programmes A (Ada, Sam) and B (Bea; Lou, one place, there; Kim, one
# place, away) are partners.
# - Two referrals accepted: Lou joins the first and is full; the second
#   waits, and Lou's take of it is refused (limit). Before, Lou joined
#   both.
# - The first withdrawn: Lou has his place back and the waiting referral
#   gets it at once. Its case closed: the place back again, and a third
#   referral gets it. The closed case reopened: it holds its place again
#   (room or not); cancelled, it gives it back.
# - The handover: the place becomes that of Lou's own case.
# - Kim, given a referral by Bea, is full (a take refused); its case's
#   client asks for another counsellor, Kim leaves with Sam and has room:
#   the take goes through.
# - Lou, removed from a referral's case by its client, keeps the referral
#   but not the place: a waiting referral has it at once.
# - The partnership ends: the places held by referrals come back.
# Each count as Bea's `counsellors` gives it (the store's), each refusal
# and match from the matching's pool.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# A: Ada, its key (in the trust file), Sam
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
cli admin counsellor-update "$KEY_couns" --capacity 20 >/dev/null

step "programme B (Bea; Lou, one place; Kim, one place, away) a partner of A"
new_programme_admin "Second Path" admin2 Bea
add_counsellor admin2 lou Lou --languages en --topics leaving
COUNS_DAEMON=0 add_counsellor admin2 kim Kim --languages en --topics leaving
certify_pending Lou Kim --by admin2
cli_out out admin2 counsellor-update Lou --capacity 1
assert_field "Lou has one place" 1 "$out" capacity
cli_out out admin2 counsellor-update Kim --capacity 1 --presence away
assert_eq "Kim has one place, away: never matched" "1|away" \
	"$(field "$out" capacity)|$(field "$out" presence)"
LOU=$(account_id lou)
KIM=$(account_id kim)
partners_ab
trust_a_only

# open_of NAME [ADMIN]: NAME's open= in ADMIN's list of its programme's
# counsellors (Bea's, of B's, by default).
open_of() {
	local out
	cli_out out "${2:-admin2}" counsellors
	sed -n "s/^[^ ]* $1 open=\([0-9]*\) .*/\1/p" <<<"$out"
}

# receiver CASE: the account id of the partner counsellor of CASE's
# newest referral ("" when none).
receiver() {
	sql "SELECT receiver_id FROM referrals WHERE case_id = $1
	    ORDER BY id DESC LIMIT 1"
}

# proposed CLIENT: CLIENT's new case with Sam, referred to B. Sets CASE.
proposed() {
	keygen "$1"
	cli_out out "$1" request --language en --topic leaving --programme "$A"
	field_to CASE "$out" case
	assert_field "$1's case is Sam's" Sam "$out" counsellor
	cli couns referral propose "$CASE" "$B" >/dev/null
}

# accepted CLIENT: proposed, and CLIENT accepts.
accepted() {
	proposed "$1"
	cli_out out "$1" referral accept "$CASE"
	assert_match "$1 accepts" "$out" '^referral: accepted$'
}

req() {
	clirun "$1" raw --login --count 1 <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}

step "two referrals accepted: Lou joins the first, the second waits"
accepted c1
C1=$CASE
assert_eq "Lou joins c1's referral" "$LOU" "$(receiver "$C1")"
assert_eq "  it holds his one place" 1 "$(open_of Lou)"
accepted c2
C2=$CASE
assert_eq "c2's referral waits: Lou is full, Kim away" "" "$(receiver "$C2")"
assert_match "  in Bea's waiting list" "$(cli admin2 waiting)" "^$C2 .* referred by partner programme $A "
before=$(table_counts)
req lou case.take "\"case\":$C2"
assert_error "Lou taking it: no room" limit
assert_eq "  nothing changed" "$before" "$(table_counts)"

step "c1 withdraws: Lou's place back, and c2's referral has it at once"
cli_out out c1 referral withdraw "$C1"
assert_match "withdrawn" "$out" '^referral: withdrawn$'
assert_eq "Lou joins c2's referral" "$LOU" "$(receiver "$C2")"
assert_eq "  one place held, c2's" 1 "$(open_of Lou)"

step "c2's case closed: the place back, and c3's referral has it"
cli_out out couns close "$C2"
assert_field "Sam closes c2's case" closed "$out" status
assert_eq "Lou's place is free" 0 "$(open_of Lou)"
accepted c3
C3=$CASE
assert_eq "Lou joins c3's referral" "$LOU" "$(receiver "$C3")"
assert_eq "  one place held, c3's" 1 "$(open_of Lou)"

step "c2's case reopened: its place held again, room or not; cancelled, given back"
cli_out out couns reopen "$C2"
assert_field "Sam reopens it" active "$out" status
assert_eq "c2's referral is still Lou's" "$LOU" "$(receiver "$C2")"
assert_eq "  Lou holds two places of one" 2 "$(open_of Lou)"
cli_out out couns referral withdraw "$C2"
assert_match "Sam cancels it" "$out" '^referral: cancelled$'
assert_eq "Lou holds c3's place alone" 1 "$(open_of Lou)"

step "the handover: the place becomes that of Lou's own case, and Sam's place freed by it goes at once to a case waiting for him"
sam_open=$(open_of Sam admin)
cli admin counsellor-update "$KEY_couns" --capacity "$sam_open" >/dev/null
keygen w1
cli_out out w1 request --language en --topic leaving --programme "$A"
field_to W1 "$out" case
assert_eq "w1's case waits: Sam is full ($sam_open), Lou too, Kim away" "waiting|" \
	"$(field "$out" status)|$(sql "SELECT counsellor_id FROM cases WHERE id = $W1")"
summed c3 "$C3"
cli_out out couns referral complete "$C3"
assert_match "handed over" "$out" '^referral: completed$'
assert_eq "c3's case is Lou's" "$LOU" "$(sql "SELECT counsellor_id FROM cases WHERE id = $C3")"
assert_eq "  one place, the same" 1 "$(open_of Lou)"
assert_eq "  w1's case is Sam's at once, in the place c3's left" \
	"$(account_id couns)|$sam_open" \
	"$(sql "SELECT counsellor_id FROM cases WHERE id = $W1")|$(open_of Sam admin)"
cli admin counsellor-update "$KEY_couns" --capacity 20 >/dev/null

step "Kim, given a referral by Bea, is full; moved out of it, he has room"
accepted c4
C4=$CASE
assert_eq "c4's referral waits: Lou full, Kim away" "" "$(receiver "$C4")"
cli_out out admin2 assign "$C4" Kim
assert_eq "Bea gives it to Kim" "$KIM" "$(receiver "$C4")"
assert_eq "  it holds Kim's one place" 1 "$(open_of Kim)"
accepted c5
C5=$CASE
req kim case.take "\"case\":$C5"
assert_error "Kim taking c5's referral: no room" limit
cli_out out c4 reassign "$C4"
assert_match "c4 asks for another counsellor: Sam and Kim leave" \
	"$(cli c4 members "$C4")" '^former Kim '
assert_eq "c4's referral waits again, Kim's place free" "|0" \
	"$(receiver "$C4")|$(open_of Kim)"
cli_out out kim take "$C5"
assert_eq "Kim takes c5's referral" "$KIM" "$(receiver "$C5")"
assert_eq "  it holds his place" 1 "$(open_of Kim)"

step "Lou removed from a referral's case: the referral stays his, the place does not"
cli_out out admin2 counsellor-update Lou --capacity 2
assert_field "Lou has two places" 2 "$out" capacity
accepted c6
C6=$CASE
assert_eq "Lou joins c6's referral: his second place" "$LOU|2" \
	"$(receiver "$C6")|$(open_of Lou)"
accepted c7
C7=$CASE
assert_eq "c7's referral waits: Lou full, Kim away and full" "" "$(receiver "$C7")"
cli_out out c6 remove "$C6" Lou
assert_match "c6 removes Lou" "$(cli c6 members "$C6")" '^former Lou .* left: removed'
assert_eq "c6's referral is still Lou's" "$LOU" "$(receiver "$C6")"
assert_eq "c7's referral has Lou's place at once" "$LOU|2" \
	"$(receiver "$C7")|$(open_of Lou)"

step "the partnership ends: the places held by referrals come back"
P=$(sql "SELECT id FROM partnerships WHERE status = 1")
cli_out out admin2 partnership end "$P"
assert_field "Bea ends it" ended "$out" status
assert_eq "Kim has no place held" 0 "$(open_of Kim)"
assert_eq "Lou has c3's case alone" 1 "$(open_of Lou)"
assert_eq "the store agrees: Lou leads one case, no referral holds a place" \
	"1|0" "$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $LOU
	    AND status IN (1, 2, 4)")|$(sql "SELECT count(*) FROM referrals
	    WHERE status = 1 AND receiver_id IS NOT NULL")"

stop_server
finish
