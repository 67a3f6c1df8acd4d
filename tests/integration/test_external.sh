# test_external.sh: external referral (PROTOCOL.md, case.referred;
# CRYPTO.md, "Plaintext envelope", kind referral). The admin keeps an
# external partner in the directory; the counsellor refers the client's
# case to it: the referral card (the partner's name and contact from the
# directory, shown, and sent without a terminal only with --contact the
# same; what to expect and what to say) goes end-to-end encrypted,
# and the client reads it in recv, history and --json. The server keeps
# only that the case was referred (a flag on the case) and counts such
# cases for the programme's figures (none shown under 5); neither its
# database nor its logs hold what the counsellor wrote on the card. Only
# the case's assigned counsellor may say it referred a case, and not of a
# closed one.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARK="rf$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
EXPECT="a first talk, anonymous, no files $MARK-e"
SAY="Ich komme über offramp, Fall Nord $MARK-s"
echo "   (marker $MARK)"

start_server
setup_pool
out=$(cli admin external add "Exit Nord" --contact "phone +49 40 0000 0000" \
	--regions hamburg --formats in-person --topics leaving)
X=$(printf '%s\n' "$out" | sed -n 's/^external \([0-9]*\) .*/\1/p')
assert_match "Ada keeps an external partner" "$X" '^[0-9]+$'

keygen client c2 c3 c4 c5
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'
CASES=()
for c in c2 c3 c4 c5; do
	CASES+=("$(field "$(cli "$c" request --language en --topic leaving)" case)")
done
assert_match "four more clients have cases with Sam" "${CASES[*]}" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$'
# Sam's key file is searched below without a daemon holding it
counsellor_down couns

# req WHO TYPE FIELDS: one request of TYPE by WHO, raw; sets OUT.
req() {
	clirun "$1" raw --login --count 1 <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}
referred() {
	sql "SELECT referred_external FROM cases WHERE id = $1"
}

step "the counsellor refers the case to the external partner"
assert_eq "the case is not referred yet" 0 "$(referred "$CASE")"
CONTACT="phone +49 40 0000 0000"
clirun couns refer-external "$CASE" "$X" --expect "$EXPECT" --say "$SAY"
assert_eq "not on a terminal, without --contact: refused" 1 "$RC"
assert_contains "  the card's contact shown" "$ERR" "the card names: Exit Nord; contact: $CONTACT"
assert_contains "  and how to send it" "$ERR" "give it with --contact"
clirun couns refer-external "$CASE" "$X" --contact "phone +49 40 0000 0001" --expect "$EXPECT"
assert_eq "another contact than the directory's (the server changed it): refused" 1 "$RC"
assert_contains "  says so" "$ERR" "not sent: the directory's contact is not the one given with --contact"
assert_eq "  nothing sent, the case not referred" 0 "$(referred "$CASE")"
clirun couns refer-external "$CASE" "$X" --contact "$CONTACT" --expect "$EXPECT" --say "$SAY"
assert_eq "refer-external exits 0" 0 "$RC"
assert_match "  the card is sent" "$OUT" '^sent: '
assert_field "  and the server told" "$CASE" "$OUT" referred
assert_eq "the case is flagged" 1 "$(referred "$CASE")"
CARD="[referral to Exit Nord; contact: phone +49 40 0000 0000; what to expect: $EXPECT; what to say: $SAY]"
clirun client recv --count 1
assert_eq "the client reads the card" "$CASE"$'\t'"$COUNS_NAME"$'\t'"$CARD" "$OUT"
assert_eq "  with no warning" "" "$ERR"
assert_contains "the client's history keeps it" "$(cli client history "$CASE")" "$CARD"
assert_contains "Sam's history keeps it" "$(cli couns history "$CASE")" "$CARD"
clirun couns refer-external "$CASE" "$X" --contact "$CONTACT"
assert_eq "a card with only the directory's fields, again: no change" 1 "$(referred "$CASE")"
clirun client --json recv --count 1
assert_contains "  --json says it is a referral" "$OUT" '"kind":"referral"'
assert_contains "  and gives the card" "$OUT" '[referral to Exit Nord; contact: phone +49 40 0000 0000]'
clirun couns refer-external "$CASE" 999999
assert_eq "an external partner not in the directory" 1 "$RC"
assert_contains "  says so" "$ERR" "no external partner 999999"
clirun couns refer-external "$CASE"
assert_eq "  usage without one" 2 "$RC"

step "only the assigned counsellor, of a case that is open"
add_counsellor admin kim Kim --languages en --topics leaving
certify_pending Kim
cli_out out couns bring "$CASE" "$KEY_kim" --as supervisor
assert_match "Sam brought Kim in" "$out" '^member Kim \(supervisor\) joining'
before=$(table_counts)
flags=$(sql "SELECT group_concat(referred_external) FROM cases")
req kim case.referred "\"case\":${CASES[0]}"
assert_error "Kim: a case she is not in" not_found
req kim case.referred "\"case\":$CASE"
assert_error "Kim, a colleague of the case" forbidden
req client case.referred "\"case\":$CASE"
assert_error "the client" forbidden
req admin case.referred "\"case\":$CASE"
assert_error "the admin" forbidden
req couns case.referred "\"case\":$CASE,\"partner\":\"Exit Nord\""
assert_error "a partner named in the frame" bad_field partner
req couns case.referred '"case":"x"'
assert_error "a case that is no id" bad_field case
assert_eq "nothing changed" "$before" "$(table_counts)"
assert_eq "  no case flagged" "$flags" "$(sql "SELECT group_concat(referred_external) FROM cases")"

step "the figures: fewer than 5, then the number"
assert_eq "Ada's stats: fewer than 5" "referred-external: fewer than 5" \
	"$(cli admin stats | grep '^referred-external:')"
for c in "${CASES[@]}"; do
	req couns case.referred "\"case\":$c"
	assert_contains "Sam refers case $c" "$OUT" '"type":"case.referred.ok"'
done
assert_eq "five cases flagged" 5 "$(sql "SELECT count(*) FROM cases WHERE referred_external = 1")"
assert_eq "Ada's stats: 5" "referred-external: 5" \
	"$(cli admin stats | grep '^referred-external:')"
clirun admin --json stats
assert_contains "  pool.stats carries it" "$OUT" '"referred_external":5'
cli c5 close "${CASES[3]}" >/dev/null
req couns case.referred "\"case\":${CASES[3]}"
assert_error "a closed case" case_closed

step "no plaintext of the card's own text on the server or in the key files"
files=()
mapfile -t files < <(data_files)
if grep -a -q -F -- "$MARK" "${files[@]}" "${SERVER_LOGS[@]}"; then
	fail "the marker is in the server's files"
else
	pass "nothing the counsellor wrote on the card is in the database files or logs"
fi
assert_ne "the check can fail: the marker is in this script's text" "" \
	"$(printf '%s\n' "$SAY" | grep -a -F -- "$MARK" || true)"
for who in client couns; do
	if grep -a -q -F -e "$MARK" "$IDS/$who.key"; then
		fail "the $who's key file holds it in the clear"
	else
		pass "the $who's key file holds none of it in the clear"
	fi
done

stop_server
finish
