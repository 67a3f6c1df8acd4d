# test_authz.sh: the authorisation matrix of proto/PROTOCOL.md, cell by
# cell. The list of request types and the cells come from the matrix
# table itself, so a type added to the protocol without a row here (or a
# row without a well-formed request here) fails this test. Every refused
# cell is sent, well-formed, by `offramp raw` for each role (and before
# login), and must get its exact error code and change no row of any
# table (table_digest). Then the
# programme boundaries: an admin of a second programme sees and touches
# nothing of the first, and counsellors cannot act on each other's cases;
# a partnership is acted on only by its two programmes' admins, and a
# counsellor of a programme that is no partner (yet, or any more) sees
# nothing of the other's directory. Last, a handover under way: who of
# those in the case, or of the partner, may act on it, and the summary's
# one copy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROTOCOL="$REPO_ROOT/proto/PROTOCOL.md"

# ---------------------------------------------------------- the matrix

# The rows of the table under "## Authorisation matrix": "type pre client
# counsellor admin", each cell 1 (allowed) or 0.
matrix_rows() {
	sed -n '/^## Authorisation matrix/,/^## /p' "$PROTOCOL" |
		grep -E '^\| *`[a-z.]+` *\|' |
		while IFS='|' read -r _ t pre cl co ad _; do
			t=${t//[ \`]/}
			printf '%s' "$t"
			for c in "$pre" "$cl" "$co" "$ad"; do
				if [[ "$c" == *"✓"* ]]; then printf ' 1'; else printf ' 0'; fi
			done
			printf '\n'
		done
}

ROWS=$(matrix_rows)
NROWS=$(printf '%s\n' "$ROWS" | grep -c .)
step "the matrix of PROTOCOL.md parses"
assert_match "the matrix has rows" "$ROWS" '^ping 1 1 1 1$'
if [ "$NROWS" -ge 30 ]; then pass "the matrix has $NROWS types"; else fail "only $NROWS types in the matrix"; fi

start_server
setup_pool
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the client's case is active with Sam" active "$out" status

K=$KEY_couns			# a real counsellor key of programme 1
B64_32=$(b64_random 32)
B64_64=$(b64_random 64)
INVITE=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
FAKE_CERT=$(b64_random 121)

# body TYPE: sets BODY to the fields of a well-formed request of TYPE
# (without v, type, id), so that only authorisation can refuse it; empty
# (status 1) for a type this test does not know. A variable, not output:
# the matrix's loops would fork a subshell a request.
body() {
	local r16 r64 r80 r83 r129 r145 r200
	BODY=''
	case "$1" in
	ping|case.list|case.queue|programme.list|counsellor.pending|\
	counsellor.list|pool.stats|account.delete|partnership.list|\
	partner.directory)
		BODY='' ;;
	login)	BODY="\"role\":\"client\",\"key\":\"$B64_32\",\"sig\":\"$B64_64\"" ;;
	redeem)	BODY="\"invite\":\"$INVITE\",\"key\":\"$B64_32\",\"sig\":\"$B64_64\",\"name\":\"Eve\"" ;;
	case.request)
		BODY='"language":"en","topic":"leaving","urgency":"high"' ;;
	case.close|case.reassign|case.pause|case.resume|case.reopen|\
	case.take|note.list)
		BODY="\"case\":$CASE" ;;
	note.add) b64_random -v r80 80; BODY="\"case\":$CASE,\"ct\":\"$r80\"" ;;
	msg.send)
		b64_random -v r16 16; b64_random -v r64 64; BODY="\"case\":$CASE,\"mid\":\"$r16\",\"copies\":[{\"to\":\"$K\",\"ct\":\"$r64\"}]" ;;
	msg.ack) BODY='"seqs":[1]' ;;
	profile.set) BODY='"name":"Mallory","presence":"online"' ;;
	prekeys.upload) b64_random -v r200 200; BODY="\"bundle\":\"$r200\"" ;;
	prekeys.get) BODY="\"key\":\"$K\"" ;;
	programme.get) BODY='"programme":1' ;;
	programme.set) BODY='"name":"Taken over","languages":["en"]' ;;
	programme.key.set) BODY="\"key\":\"$B64_32\"" ;;
	programme.key.rotate) b64_random -v r145 145; BODY="\"statement\":\"$r145\"" ;;
	programme.partner) b64_random -v r129 129; BODY="\"statement\":\"$r129\"" ;;
	programme.revoke) b64_random -v r83 83; BODY="\"list\":\"$r83\"" ;;
	invite.create) BODY='"role":"admin","ttl":3600' ;;
	counsellor.certify) BODY="\"key\":\"$K\",\"cert\":\"$FAKE_CERT\"" ;;
	counsellor.update) BODY="\"key\":\"$K\",\"capacity\":0" ;;
	counsellor.disable|counsellor.enable|counsellor.delete)
		BODY="\"key\":\"$K\"" ;;
	admin.disable|admin.enable) BODY="\"key\":\"$B64_32\"" ;;
	audit.list) BODY='"limit":10' ;;
	feedback.keys) BODY="\"case\":$CASE" ;;
	feedback.send) BODY="\"case\":$CASE,\"helpful\":true" ;;
	feedback.list) BODY='"limit":10' ;;
	admin.certify) BODY="\"cert\":\"$FAKE_CERT\"" ;;
	partnership.propose) b64_random -v r129 129; BODY="\"statement\":\"$r129\"" ;;
	partnership.accept)
		b64_random -v r129 129; BODY="\"partnership\":1,\"statement\":\"$r129\"" ;;
	partnership.end) BODY='"partnership":1' ;;
	partner.external.set) BODY='"name":"Taken over","contact":"x"' ;;
	partner.external.remove) BODY='"external":1' ;;
	case.invite) BODY="\"case\":$CASE,\"key\":\"$K\",\"as\":\"supervisor\"" ;;
	case.seen) BODY="\"case\":$CASE,\"members\":0" ;;
	case.remove|case.assign) BODY="\"case\":$CASE,\"key\":\"$K\"" ;;
	case.waiting) BODY='' ;;
	# external referral
	case.referred) BODY="\"case\":$CASE" ;;
	referral.propose) BODY="\"case\":$CASE,\"partner\":2" ;;
	referral.answer) BODY="\"case\":$CASE,\"accept\":true" ;;
	referral.withdraw|referral.complete) BODY="\"case\":$CASE" ;;
	referral.approve) BODY="\"case\":$CASE,\"digest\":\"$B64_32\"" ;;
	referral.summary)
		b64_random -v r16 16; b64_random -v r64 64; BODY="\"case\":$CASE,\"mid\":\"$r16\",\"to\":\"$K\",\"ct\":\"$r64\"" ;;
	referral.stats) BODY='' ;;
	*) return 1 ;;
	esac
}

# frame TYPE ID: the request line. _frame sets FRAME to it (no process,
# for the loops).
_frame() {
	body "$1" || true
	FRAME="{\"v\":1,\"type\":\"$1\",\"id\":$2${BODY:+,$BODY}}"
}
frame() {
	_frame "$@"
	echo "$FRAME"
}

step "every type of the matrix has a well-formed request in this test"
while read -r t _; do
	if body "$t"; then
		pass "a request body for $t"
	else
		fail "no request body for $t: add it to test_authz.sh"
	fi
done <<<"$ROWS"

# Every identity logs in once first, so that its first prekeys are up and
# the refused requests below are the only thing that could change a row.
cli admin login >/dev/null
cli couns login >/dev/null
cli client login >/dev/null

# refused_cells COLUMN: "type code" of the cells of COLUMN (2: before login,
# 3 client, 4 counsellor, 5 admin) that must be refused.
refused_cells() {
	local col=$1
	while read -r -a r; do
		[ "${r[$((col - 1))]}" = 0 ] || continue
		local code=forbidden
		if [ "$col" = 2 ]; then
			code=not_logged_in
		elif [ "${r[1]}" = 1 ]; then
			code=already_logged_in	# login, redeem
		fi
		echo "${r[0]} $code"
	done <<<"$ROWS"
}

# check_role LABEL COLUMN [WHO]: sends every refused cell of COLUMN in one
# connection (as WHO, logged in; or not logged in), each followed by a ping
# so that the refusals do not add up to a disconnect, and checks each exact
# code and that no table changed.
check_role() {
	local label=$1 col=$2 who=${3:-} cells input="" id=100 n=0
	cells=$(refused_cells "$col")
	while read -r t code; do
		[ -n "$t" ] || continue
		_frame "$t" "$id"
		input+=$FRAME$'\n'
		input+="{\"v\":1,\"type\":\"ping\",\"id\":$((id + 1))}"$'\n'
		id=$((id + 2))
		n=$((n + 1))
	done <<<"$cells"
	step "$label: $n refused types"
	local before
	before=$(table_digest)
	if [ -n "$who" ]; then
		clirun "$who" raw --login --count $((2 * n)) <<<"${input%$'\n'}"
	else
		clirun admin raw --count $((2 * n)) <<<"${input%$'\n'}"
	fi
	assert_eq "$label: raw exits 0" 0 "$RC"
	id=100
	while read -r t code; do
		[ -n "$t" ] || continue
		reply_line "$id"
		local line=$REPLY_LINE
		if [[ "$line" == *"\"type\":\"error\""* && "$line" == *"\"code\":\"$code\""* ]]; then
			pass "$label: $t refused with $code"
		else
			fail "$label: $t: expected error $code, got [${line:-no answer}]"
		fi
		id=$((id + 2))
	done <<<"$cells"
	assert_not_contains "$label: the connection stayed open" "$OUT" "closed"
	assert_eq "$label: no table changed" "$before" "$(table_digest)"
}

check_role "before login" 2
check_role "client" 3 client
check_role "counsellor" 4 couns
check_role "admin" 5 admin

step "allowed cells are not refused for lack of rights (spot checks)"
clirun admin raw --login --count 3 <<<"$(frame pool.stats 7)
$(frame audit.list 8)
$(frame counsellor.list 9)"
assert_match "admin: pool.stats answered" "$OUT" '"type":"pool.stats.ok"'
assert_match "admin: audit.list answered" "$OUT" '"type":"audit.list.ok"'
assert_match "admin: counsellor.list answered" "$OUT" '"type":"counsellor.list.ok"'
clirun couns raw --login --count 2 <<<"$(frame case.queue 7)
$(frame note.list 8)"
assert_match "counsellor: case.queue answered" "$OUT" '"type":"case.queue.ok"'
assert_match "counsellor: note.list of its case answered" "$OUT" '"type":"note.list.ok"'

# ---------------------------------------------------- programme boundaries

step "a second programme, made by the operator, with its own admin"
new_programme_admin "Second Path" admin2 Bea
assert_match "Bea made programme 2's key" "$PKEY_admin2" '^[A-Za-z0-9+/]{43}=$'
add_counsellor admin2 couns2 Lou --languages en --topics leaving
certify_pending Lou --by admin2
out=$(cli admin2 invite --role counsellor)	# an audit entry of programme 2
cli_out out client programmes
assert_match "the programme list has programme 1" "$out" '^1 '
assert_match "the programme list has Second Path" "$out" '^[0-9]+ Second Path '
P2=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) Second Path .*/\1/p')

step "Bea sees only programme 2's counsellors"
cli_out out admin2 counsellors
assert_contains "Bea's list has Lou" "$out" "$KEY_couns2 Lou open=0 "
assert_not_contains "Bea's list lacks Sam" "$out" "$KEY_couns"
assert_eq "Bea's list has one counsellor" 1 "$(printf '%s\n' "$out" | grep -c .)"
cli_out out admin counsellors
assert_not_contains "Ada's list lacks Lou" "$out" "$KEY_couns2"
assert_contains "Ada's list has Sam" "$out" "$KEY_couns Sam open=1 "

step "Bea cannot touch programme 1's counsellor: not_found, nothing changes"
before=$(table_digest)
sam_before=$(cli admin counsellors | grep "^$KEY_couns ")
for c in "counsellor-update $KEY_couns --capacity 0" "counsellor-update $KEY_couns --name Owned" \
    "disable $KEY_couns" "enable $KEY_couns" "counsellor-delete $KEY_couns"; do
	# shellcheck disable=SC2086
	clirun admin2 $c
	assert_eq "Bea: $c exits 1" 1 "$RC"
	assert_match "Bea: $c: not_found" "$ERR" '^offramp: not_found: counsellor\.'
done
clirun admin2 raw --login --count 1 <<<"{\"v\":1,\"type\":\"counsellor.certify\",\"id\":5,\"key\":\"$KEY_couns\",\"cert\":\"$FAKE_CERT\"}"
assert_match "Bea: counsellor.certify of Sam: not_found" "$OUT" '"re":5,.*"code":"not_found"|"code":"not_found".*"re":5[,}]'
for c in admin-disable admin-enable; do
	clirun admin2 "$c" "$KEY_admin"
	assert_match "Bea: $c of Ada, programme 1's admin: not_found" "$ERR" '^offramp: not_found: admin\.'
done
assert_eq "nothing changed in the database" "$before" "$(table_digest)"
assert_eq "Sam as Ada sees him is unchanged" "$sam_before" "$(cli admin counsellors | grep "^$KEY_couns ")"
clirun couns login
assert_eq "Sam can still log in" 0 "$RC"

step "each admin's audit log and stats are its programme's only"
cli_out out admin2 audit
assert_match "Bea's audit has her invite" "$out" '^[0-9]+ [0-9T:-]+Z Bea invite\.create - counsellor$'
assert_match "Bea's audit has her certify of Lou" "$out" ' Bea counsellor\.certify Lou -$'
assert_no_match "Bea's audit has nothing of Ada" "$out" ' Ada '
assert_no_match "Bea's audit has no entry about Sam" "$out" ' Sam '
cli_out out admin audit
assert_no_match "Ada's audit has nothing of Bea" "$out" ' Bea '
assert_match "Ada's audit has her certify of Sam" "$out" ' Ada counsellor\.certify Sam -$'
cli_out out admin2 stats
assert_match "Bea's stats list Lou" "$out" '^counsellor Lou open=0 capacity=5 presence=online$'
assert_no_match "Bea's stats lack Sam" "$out" '^counsellor Sam '
cli_out out admin stats
assert_match "Ada's stats list Sam with his case" "$out" '^counsellor Sam open=1 capacity=5 presence=online$'
assert_no_match "Ada's stats lack Lou" "$out" '^counsellor Lou '

step "partnerships: a counsellor of a programme that is no partner sees nothing of it"
cli_out out admin external add "Exit Nord" --contact "phone 0000"
X=$(printf '%s\n' "$out" | sed -n 's/^external \([0-9]*\) .*/\1/p')
assert_match "Ada keeps an external partner" "$X" '^[0-9]+$'
out=$(cli admin partnership propose $(signing admin) "$P2" "$PKEY_admin2")
field_to PSHIP "$out" partnership
assert_field "Ada proposes a partnership with Second Path" proposed "$out" status
assert_eq "Lou (programme 2, not a partner yet) sees nothing" "" "$(cli couns2 directory)"
before=$(table_digest)
clirun admin2 raw --login --count 2 <<<"{\"v\":1,\"type\":\"partner.external.remove\",\"id\":5,\"external\":$X}
{\"v\":1,\"type\":\"partner.external.set\",\"id\":6,\"external\":$X,\"name\":\"Owned\"}"
assert_eq "Bea: programme 1's external partner: not_found, twice" 2 "$(grep -c '"code": *"not_found"' <<<"$OUT")"
clirun admin raw --login --count 1 <<<"{\"v\":1,\"type\":\"partnership.accept\",\"id\":5,\"partnership\":$PSHIP,\"statement\":\"$(b64_random 129)\"}"
assert_error "Ada accepting her own proposal" forbidden
assert_eq "nothing changed" "$before" "$(table_digest)"
out=$(cli admin2 partnership accept $(signing admin2) "$PSHIP" "$PROGRAMME_KEY")
assert_field "Bea accepts" active "$out" status
cli_out out couns2 directory
assert_match "Lou sees programme 1, a partner now" "$out" '^partner 1 '
assert_not_contains "  but not its external partners" "$out" "Exit Nord"

step "partnerships: a partner after the partnership ended"
cli_out out admin2 partnership end "$PSHIP"
assert_field "Bea ends it" ended "$out" status
assert_eq "Lou sees nothing again" "" "$(cli couns2 directory)"
assert_no_match "Sam's directory lacks Second Path" "$(cli couns directory)" '^partner '
before=$(table_digest)
clirun admin2 raw --login --count 3 <<<"{\"v\":1,\"type\":\"partnership.accept\",\"id\":5,\"partnership\":$PSHIP,\"statement\":\"$(b64_random 129)\"}
{\"v\":1,\"type\":\"partnership.end\",\"id\":6,\"partnership\":$PSHIP}
{\"v\":1,\"type\":\"partner.external.remove\",\"id\":7,\"external\":$X}"
assert_eq "Bea: accept and end of the ended one: bad_state" 2 "$(grep -c '"code": *"bad_state"' <<<"$OUT")"
assert_error "Bea: programme 1's external partner still" not_found
assert_eq "nothing changed" "$before" "$(table_digest)"

step "a counsellor cannot act on another counsellor's case"
before=$(table_digest)
clirun couns2 note "$CASE" "not my case"
assert_match "Lou: note on Sam's case: not_found" "$ERR" '^offramp: not_found: note\.add'
clirun couns2 notes "$CASE"
assert_match "Lou: notes of Sam's case: not_found" "$ERR" '^offramp: not_found: note\.list'
clirun couns2 pause "$CASE"
assert_match "Lou: pause of Sam's case: not_found" "$ERR" '^offramp: not_found: case\.pause'
clirun couns2 close "$CASE"
assert_match "Lou: close of Sam's case: not_found" "$ERR" '^offramp: not_found: case\.close'
# PROTOCOL.md: another counsellor's case is not_found, as one that does
# not exist (bad_state would tell Lou it exists).
clirun couns2 take "$CASE"
assert_eq "Lou: take of Sam's active case exits 1" 1 "$RC"
assert_match "Lou: take of Sam's active case: not_found" "$ERR" '^offramp: not_found: case\.take'
clirun couns take "$CASE"
assert_match "Sam: take of his own active case: bad_state" "$ERR" '^offramp: bad_state: case\.take'
assert_eq "nothing changed" "$before" "$(table_digest)"
cli_out out couns cases
assert_match "the case is still Sam's and active" "$out" "^$CASE active en leaving "

step "a waiting case that chose programme 1 is not Lou's to take: forbidden"
cli_out out admin counsellor-update "$KEY_couns" --presence away
assert_field "Ada set Sam away" away "$out" presence
keygen client2
cli_out out client2 request --language en --topic leaving --programme 1
field_to CASE2 "$out" case
assert_field "the programme-1 case waits" waiting "$out" status
cli_out out couns2 queue
assert_not_contains "Lou's queue lacks the programme-1 case" "$out" "$CASE2"
before=$(table_digest)
clirun couns2 take "$CASE2"
assert_eq "Lou: take exits 1" 1 "$RC"
assert_match "Lou: take of a programme-1 case: forbidden" "$ERR" '^offramp: forbidden: case\.take'
assert_eq "nothing changed" "$before" "$(table_digest)"
cli_out out client2 cases
assert_match "the case still waits" "$out" "^$CASE2 waiting en leaving "
cli_out out couns queue
assert_match "Sam's queue has it" "$out" "^$CASE2 en leaving normal waiting=[0-9]+s$"
cli_out out couns take "$CASE2"
assert_field "Sam takes it" active "$out" status

step "a client cannot act on another client's case"
clirun client2 close "$CASE"
assert_match "client2: close of client's case: not_found" "$ERR" '^offramp: not_found: case\.close'
clirun client2 reassign "$CASE"
assert_match "client2: reassign of client's case: not_found" "$ERR" '^offramp: not_found: case\.reassign'

# ------------------------------------ co-counselling and the admin's queue

# req WHO TYPE FIELDS: one request of TYPE by WHO, raw; sets OUT.
req() {
	clirun "$1" raw --login --count 1 <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}

step "co-counselling: who may bring whom in, remove, confirm"
add_counsellor admin kim Kim --languages de --topics leaving
certify_pending Kim
before=$(table_digest)
req couns case.invite "\"case\":$CASE,\"key\":\"$KEY_couns2\",\"as\":\"supervisor\""
assert_error "Sam: a counsellor of another programme invited" not_found
req client case.invite "\"case\":$CASE,\"key\":\"$KEY_kim\",\"as\":\"supervisor\""
assert_error "the client inviting" forbidden
req couns2 case.invite "\"case\":$CASE,\"key\":\"$KEY_couns2\",\"as\":\"supervisor\""
assert_error "Lou: invite into a case he is not in" not_found
req couns2 case.remove "\"case\":$CASE,\"key\":\"$KEY_couns\""
assert_error "Lou: remove in a case he is not in" not_found
req couns2 case.seen "\"case\":$CASE,\"members\":0"
assert_error "Lou: case.seen of a case he is not in" not_found
req couns case.invite "\"case\":$CASE,\"key\":\"$KEY_kim\",\"as\":\"boss\""
assert_error "Sam: an unknown kind" bad_field as
req client case.remove "\"case\":$CASE,\"key\":\"$KEY_couns\""
assert_error "the client: removing the assigned counsellor" forbidden
assert_eq "nothing changed" "$before" "$(table_digest)"

cli_out out couns bring "$CASE" "$KEY_kim" --as supervisor
assert_match "Sam brought Kim in" "$out" '^member Kim \(supervisor\) joining'
before=$(table_digest)
req kim case.invite "\"case\":$CASE,\"key\":\"$KEY_kim\",\"as\":\"co-counsellor\""
assert_error "Kim, a colleague, inviting" forbidden
req kim case.remove "\"case\":$CASE,\"key\":\"$KEY_client\""
assert_error "Kim removing the client" forbidden
req client case.seen "\"case\":$CASE,\"members\":9"
assert_error "the client: a membership version not reached" bad_field members
req couns case.invite "\"case\":$CASE,\"key\":\"$KEY_kim\",\"as\":\"supervisor\""
assert_error "Sam: Kim again" bad_state
assert_eq "nothing changed" "$before" "$(table_digest)"

cli_out out client remove "$CASE" Kim
assert_match "the client had Kim removed" "$out" '^former Kim \(supervisor\) left: removed'
before=$(table_digest)
req kim msg.send "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_client\",\"ct\":\"$(b64_random 64)\"},{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 64)\"}]"
assert_error "Kim, removed, sending" not_found
req kim case.seen "\"case\":$CASE,\"members\":2"
assert_error "Kim, removed, confirming" not_found
req kim case.remove "\"case\":$CASE,\"key\":\"$KEY_kim\""
assert_error "Kim, removed, leaving again" not_found
req kim case.close "\"case\":$CASE"
assert_error "Kim, removed, closing" not_found
assert_not_contains "Kim, removed, does not see the case" "$(cli kim cases)" "$CASE"
assert_eq "nothing changed" "$before" "$(table_digest)"

step "the waiting queue: each admin its programme's, and assigns only its own"
keygen client3
cli_out out client3 request --language en --topic leaving --programme 1
field_to CASE3 "$out" case
assert_field "a programme-1 case waits (Sam is away)" waiting "$out" status
assert_match "Ada sees it" "$(cli admin waiting)" "^$CASE3 en leaving "
assert_not_contains "Bea does not" "$(cli admin2 waiting)" "$CASE3"
before=$(table_digest)
req admin2 case.assign "\"case\":$CASE3,\"key\":\"$KEY_couns2\""
assert_error "Bea: assigning a programme-1 case to Lou" not_found
req admin2 case.assign "\"case\":$CASE3,\"key\":\"$KEY_couns\""
assert_error "Bea: assigning to Sam" not_found
req admin case.assign "\"case\":$CASE3,\"key\":\"$KEY_couns2\""
assert_error "Ada: assigning to Lou" not_found
req admin case.assign "\"case\":$CASE,\"key\":\"$KEY_couns\""
assert_error "Ada: assigning a case that does not wait" bad_state
assert_eq "nothing changed" "$before" "$(table_digest)"
cli_out out admin assign "$CASE3" Sam
assert_field "Ada gives it to Sam, away or not" active "$out" status

# ------------------------------------------------------------ referrals

step "referrals: a programme that is no partner, or no longer one"
before=$(table_digest)
req couns referral.propose "\"case\":$CASE,\"partner\":$P2"
assert_error "Sam: to programme 2 after the partnership ended" not_found
req couns2 referral.propose "\"case\":$CASE,\"partner\":1"
assert_error "Lou (no partner): proposing in Sam's case" not_found
req kim referral.propose "\"case\":$CASE,\"partner\":$P2"
assert_error "Kim, removed from the case, proposing" not_found
assert_eq "nothing changed" "$before" "$(table_digest)"

step "referrals: a partner, a pending referral, who may answer"
new_programme_admin "Third Way" admin3 Cid
P3=$(sql "SELECT id FROM programmes WHERE name = 'Third Way'")
out=$(cli admin partnership propose $(signing admin) "$P3" "$PKEY_admin3")
out=$(cli admin3 partnership accept $(signing admin3) "$(field "$out" partnership)" "$PKEY_admin")
assert_field "A and programme 3 are partners" active "$out" status
cli_out out couns referral propose "$CASE" "$P3"
assert_match "Sam proposes programme 3" "$out" '^referral: proposed$'
before=$(table_digest)
req couns referral.propose "\"case\":$CASE,\"partner\":$P3"
assert_error "Sam: a second referral while one is pending" bad_state
req client2 referral.answer "\"case\":$CASE,\"accept\":true"
assert_error "another client consenting" not_found
req kim referral.withdraw "\"case\":$CASE"
assert_error "Kim, removed, withdrawing" not_found
req couns2 referral.withdraw "\"case\":$CASE"
assert_error "Lou (no partner) withdrawing" not_found
req couns referral.approve "\"case\":$CASE,\"digest\":\"$B64_32\""
assert_error "Sam approving for the client" forbidden
req client referral.approve "\"case\":$CASE,\"digest\":\"$B64_32\""
assert_error "the client approving before anyone joined" bad_state
req couns referral.complete "\"case\":$CASE"
assert_error "Sam completing a referral not accepted" bad_state
clirun admin3 raw --login --count 1 <<<'{"v":1,"type":"referral.stats","id":5}'
assert_match "Cid's figures: counts under 5 are null" "$OUT" '"received": *\{[^}]*"proposed": *null'
assert_eq "nothing changed" "$before" "$(table_digest)"
cli_out out client referral decline "$CASE"
assert_match "the client declines" "$out" '^referral: declined$'

# -------------------------------------- a referral waiting at the partner

step "a referral waiting at programme 3: only programme 3 takes or assigns it"
COUNS_DAEMON=0 add_counsellor admin3 cy Cy --languages en --topics leaving
certify_pending Cy --by admin3
cli_out out admin3 counsellor-update Cy --presence away
assert_field "Cid set Cy away: nobody is matched" away "$out" presence
# refer3: Sam refers the case to programme 3 and the client accepts.
refer3() {
	cli couns referral propose "$CASE" "$P3" >/dev/null
	cli_out out client referral accept "$CASE"
	assert_match "the client accepts programme 3" "$out" '^referral: accepted$'
	assert_match "Cy's queue has it" "$(cli cy queue)" "^$CASE .* referred by partner programme 1 "
}
refer3
cli_out out kim profile --languages en,de
before=$(table_digest)
req kim case.take "\"case\":$CASE"
assert_error "Kim (programme 1, fitting) taking it" not_found
req couns case.take "\"case\":$CASE"
assert_error "Sam, its counsellor, taking it" bad_state
req couns2 case.take "\"case\":$CASE"
assert_error "Lou (no partner) taking it" not_found
req admin case.assign "\"case\":$CASE,\"key\":\"$KEY_cy\""
assert_error "Ada assigning it to Cy" bad_state
req admin case.assign "\"case\":$CASE,\"key\":\"$KEY_kim\""
assert_error "Ada assigning it to Kim" bad_state
assert_eq "nothing changed" "$before" "$(table_digest)"
assert_not_contains "Kim's queue lacks it" "$(cli kim queue)" "$CASE"
assert_not_contains "Ada's waiting list lacks it" "$(cli admin waiting)" "$CASE"

step "a waiting referral withdrawn, or its partnership ended, is in no queue"
cli_out out client referral withdraw "$CASE"
assert_match "the client withdraws" "$out" '^referral: withdrawn$'
assert_not_contains "Cy's queue lacks it" "$(cli cy queue)" "$CASE"
before=$(table_digest)
req cy case.take "\"case\":$CASE"
assert_error "Cy taking it after the withdrawal" not_found
req admin3 case.assign "\"case\":$CASE,\"key\":\"$KEY_cy\""
assert_error "Cid assigning it after the withdrawal" bad_state
assert_eq "nothing changed" "$before" "$(table_digest)"
refer3
P13=$(sql "SELECT id FROM partnerships WHERE partner_id = $P3")
cli_out out admin3 partnership end "$P13"
assert_field "Cid ends the partnership" ended "$out" status
assert_not_contains "Cy's queue lacks it" "$(cli cy queue)" "$CASE"
assert_not_contains "Cid's waiting list lacks it" "$(cli admin3 waiting)" "$CASE"
before=$(table_digest)
req cy case.take "\"case\":$CASE"
assert_error "Cy taking it after the partnership ended" not_found
req admin3 case.assign "\"case\":$CASE,\"key\":\"$KEY_cy\""
assert_error "Cid assigning it after the partnership ended" bad_state
assert_eq "nothing changed" "$before" "$(table_digest)"

# --------------------------------- a handover: who may act, and to whom

# ask WHO TYPE FIELDS: as req, reading until the answer (pushes aside).
ask() {
	clirun "$1" raw --login --answered <<<"{\"v\":1,\"type\":\"$2\",\"id\":5,$3}"
}
# summary_to WHO KEY: WHO sends a referral.summary copy to KEY.
summary_to() {
	ask "$1" referral.summary "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"to\":\"$2\",\"ct\":\"$B64_64\""
}

step "a handover under way: Sam's colleague Mo present, Cy of programme 3 chosen"
out=$(cli admin partnership propose $(signing admin) "$P3" "$PKEY_admin3")
out=$(cli admin3 partnership accept $(signing admin3) "$(field "$out" partnership)" "$PKEY_admin")
assert_field "A and programme 3 are partners again" active "$out" status
COUNS_DAEMON=0 add_counsellor admin3 dee Dee --languages fr --topics leaving
certify_pending Dee --by admin3
COUNS_DAEMON=0 add_counsellor admin mo Mo --languages en --topics leaving
certify_pending Mo
cli_out out couns bring "$CASE" "$KEY_mo" --as co-counsellor
assert_match "Sam brings Mo in" "$out" '^member Mo \(co-counsellor\) joining'
before=$(table_digest)
ask couns msg.send "\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_client\",\"ct\":\"$B64_64\"},{\"to\":\"$KEY_mo\",\"ct\":\"$B64_64\"}]"
assert_error "Sam: a copy for Mo, joining, before the client was told" not_told
assert_eq "nothing changed" "$before" "$(table_digest)"
# seen WHO: WHO's client confirms the case's membership as it is now.
seen() {
	ask "$1" case.seen "\"case\":$CASE,\"members\":$(sql "SELECT members FROM cases WHERE id = $CASE")"
	assert_match "$1 confirms the membership" "$OUT" '"type": *"case.seen.ok"'
}
seen client				# the client is told of Mo
cli couns referral propose "$CASE" "$P3" >/dev/null
ask client referral.answer "\"case\":$CASE,\"accept\":true"
assert_match "the client accepts programme 3" "$OUT" '"type": *"referral.answer.ok"'
cli_out out admin3 assign "$CASE" Cy
assert_field "Cid gives the waiting referral to Cy" active "$out" status
seen client				# everyone is told of Cy
seen mo
seen couns				# Sam too (he invited nobody)
ask client referral.approve "\"case\":$CASE,\"digest\":\"$B64_32\""
assert_match "the client approves a summary" "$OUT" '"type": *"referral.approve.ok"'

step "a handover: the refused cells of Mo, Cy, Dee (not chosen) and the summary's copy"
before=$(table_digest)
ask mo referral.propose "\"case\":$CASE,\"partner\":$P3"
assert_error "Mo, Sam's colleague, proposing" forbidden
ask mo referral.withdraw "\"case\":$CASE"
assert_error "Mo cancelling" forbidden
summary_to mo "$KEY_cy"
assert_error "Mo sending the summary" forbidden
ask mo referral.complete "\"case\":$CASE"
assert_error "Mo completing" forbidden
ask cy referral.propose "\"case\":$CASE,\"partner\":1"
assert_error "Cy, the partner's counsellor, proposing" forbidden
ask cy referral.withdraw "\"case\":$CASE"
assert_error "Cy cancelling" forbidden
ask cy referral.complete "\"case\":$CASE"
assert_error "Cy completing" forbidden
ask dee referral.propose "\"case\":$CASE,\"partner\":1"
assert_error "Dee, of programme 3 but not chosen, proposing" not_found
ask dee referral.withdraw "\"case\":$CASE"
assert_error "Dee cancelling" not_found
summary_to dee "$KEY_cy"
assert_error "Dee sending the summary" not_found
ask dee referral.complete "\"case\":$CASE"
assert_error "Dee completing" not_found
summary_to couns "$KEY_client"
assert_error "Sam: the summary's copy to the client" bad_recipients
summary_to couns "$KEY_mo"
assert_error "Sam: the summary's copy to Mo, a colleague" bad_recipients
summary_to couns "$B64_32"
assert_error "Sam: the summary's copy to an unknown key" bad_recipients
assert_eq "nothing changed" "$before" "$(table_digest)"

stop_server
finish
