# test_referral_intake.sh: the automatic intake of accepted referrals
# (server/casework_referral.c, casework_referral_rematch) takes 100 in a
# pass; those nobody at the partner can take must not keep a later one
# from it for ever. Programmes A (Sam, en; Tom, en and de) and B (Max,
# de only, not connected) are partners. 100 clients asking in English,
# then one in German, are referred to B and say yes: nobody of B is
# chosen. Max, away, finds the German one in his queue (a queue lists
# the referrals its counsellor may take of the 1,000 oldest); online and
# connected, it is his within a few passes of the rematch (every second
# here), and the English ones still wait. Ela, English, joins B: the
# passes start from the oldest again, and she takes the oldest five.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STALE=100	# INTAKE_BATCH: a pass of the intake

# joined CASE WHO: WHO is the counsellor of CASE's referral
joined() {
	[ "$(sql "SELECT receiver_id FROM referrals WHERE case_id = $1")" = \
		"$(account_id "$2")" ]
}

start_server --rematch-period 1
setup_pool			# A: Ada, Sam (en)
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
add_counsellor admin tom Tom --languages en,de --topics leaving
certify_pending Tom
for who in Sam Tom; do
	cli_out out admin counsellor-update "$who" --capacity 100
	assert_field "$who takes up to 100 cases" 100 "$out" capacity
done

step "programme B (Bea; Max, German only, not connected) a partner of A"
new_programme_admin "Second Path" admin2 Bea
COUNS_DAEMON=0 add_counsellor admin2 max Max --languages de --topics leaving
certify_pending Max --by admin2
partners_ab
trust_a_only
# new_programme_admin started the server again, with the defaults
stop_server
start_server --rematch-period 1

step "$STALE clients asking in English and one in German are referred to B"
names=()
for i in $(seq 0 "$STALE"); do names+=("c$i"); done
keygen "${names[@]}"
GERMAN=
for i in $(seq 0 "$STALE"); do
	lang=en
	[ "$i" -lt "$STALE" ] || lang=de
	cli_out out "c$i" request --language "$lang" --topic leaving --format chat --programme "$A"
	field_to case "$out" case
	field_to who "$out" counsellor
	case $who in
	Sam) by=couns ;;
	Tom) by=tom ;;
	*) fail "c$i's case $case: led by [$who], not Sam or Tom"; break ;;
	esac
	cli "$by" referral propose "$case" "$B" >/dev/null
	cli_out out "c$i" referral accept "$case"
	if [[ "$out" != *"referral: accepted"* ]]; then
		fail "c$i accepts the referral of case $case: $out"
		break
	fi
done
GERMAN=$case
assert_eq "$((STALE + 1)) accepted, nobody of B chosen" "$((STALE + 1))|0" \
	"$(sql "SELECT count(*), count(receiver_id) FROM referrals WHERE status = 1")"
assert_eq "the German one proposed last" "$GERMAN" \
	"$(sql "SELECT case_id FROM referrals ORDER BY proposed DESC, id DESC LIMIT 1")"

step "Max, away, sees the German referral in his queue, past the $STALE he may not take"
cli_out out admin2 counsellor-update Max --presence away
assert_field "Bea sets Max away" away "$out" presence
cli_out out max queue
assert_match "Max's queue lists it" "$out" "^$GERMAN de leaving normal waiting=[0-9]+s referred by partner programme $A "
assert_eq "  and it alone" 1 "$(grep -c . <<<"$out")"

step "Max connects, online: the German referral is his, past the $STALE before it"
cli_out out admin2 counsellor-update Max --presence online
assert_field "Bea sets Max online" online "$out" presence
counsellor_up max
if wait_for "the German referral's counsellor to be Max" 20 joined "$GERMAN" max; then
	pass "Max joined the German referral"
fi
assert_eq "the English ones wait still" 0 \
	"$(sql "SELECT count(receiver_id) FROM referrals WHERE case_id != $GERMAN")"

step "Ela (English) joins B: the intake starts from the oldest again"
COUNS_DAEMON=0 add_counsellor admin2 ela Ela --languages en --topics leaving
certify_pending Ela --by admin2
OLDEST=$(sql "SELECT case_id FROM referrals ORDER BY proposed, id LIMIT 1")
counsellor_up ela
if wait_for "the oldest referral's counsellor to be Ela" 20 joined "$OLDEST" ela; then
	pass "Ela joined the oldest referral"
fi
assert_eq "as many as her room (5), the oldest first" 5 \
	"$(sql "SELECT count(*) FROM (SELECT receiver_id FROM referrals WHERE case_id != $GERMAN ORDER BY proposed, id LIMIT 5) t WHERE receiver_id = $(account_id ela)")"

stop_server
finish
