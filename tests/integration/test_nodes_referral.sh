# test_nodes_referral.sh: referrals on two server nodes sharing one
# PostgreSQL database (casework.c, "Several nodes"; PROTOCOL.md,
# "Referrals"), the requests of each race written at once on raw
# connections logged in beforehand at both nodes. Programmes A (Ada; Sam,
# on node a) and B (Bea; Lou, one place, working on node b; Kim and Max,
# away) are partners.
# - Four clients of Sam accept their referrals to B at once, two at each
#   node: each is answered, one referral has Lou, in its case once, and
#   the three others wait (a join takes a place in Lou's caseload:
#   PROTOCOL.md). Before, Lou joined all four at his one place.
# - Sam hands that one over to Lou at node a while a new client asks for
#   a place of B's at node b: both are answered, and the client waits
#   (the handover moves Lou's place from the referral to his own case).
# - Lou away, a fifth referral waits in B's queue; Lou and Max take it at
#   node a while Kim takes it and Bea assigns it to Max at node b: one of
#   them has it, the others are answered not_found (taken by another),
#   and one counsellor of B is in the case. It was two, one a node,
#   before the referral's counsellor was set only while it had none.
# PostgreSQL only: SQLite has one node.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_only "several nodes share a PostgreSQL database"

# connect NODE:NAME:WHO...: for each, a raw connection of WHO's account
# (a copy of its key file, as NAME) logs in at node NODE (a or b),
# recording its frames in $T/watch-NAME.out, as watch_start does, all at
# once; returns once every one is logged in.
connect() {
	local a node name who port
	for a in "$@"; do
		IFS=: read -r node name who <<<"$a"
		port=PORT_$node
		cp "$IDS/$who.key" "$IDS/$name.key"
		PORT=${!port} PASS_OVERRIDE=pass-$who watch_open "$name"
	done
	for a in "$@"; do
		IFS=: read -r node name who <<<"$a"
		watch_wait "$name"
	done
}

# send NAME FRAME: connection NAME (connect) writes FRAME (its "id" 7).
send() {
	local fd=WATCH_FD_$1
	printf '%s\n' "$2" >&"${!fd}"
}

# answers NAME...: waits for the answer to each connection's request (at
# most 20 s); the connections end. ANSWER_NAME is the frames answering
# NAME's, one a line.
answers() {
	local name fd
	for name in "$@"; do
		wait_for "$name's answer" 20 \
			file_has "$T/watch-$name.out" '"re":7'
	done
	for name in "$@"; do
		fd=WATCH_FD_$name
		fd=${!fd}
		exec {fd}>&-
	done
	for name in "$@"; do
		fd=WATCH_PID_$name
		wait "${!fd}" 2>/dev/null || true
		OUT=$(<"$T/watch-$name.out")
		reply_line 7
		printf -v "ANSWER_$name" '%s' "$REPLY_LINE"
	done
	WATCH_FDS=()
}

# race NAME=FRAME...: each connection NAME writes its FRAME, all at once,
# then waits for their answers (answers).
race() {
	local a names=()
	for a in "$@"; do
		send "${a%%=*}" "${a#*=}"
		names+=("${a%%=*}")
	done
	answers "${names[@]}"
}

# answered DESC NAME TYPE: NAME's request had one answer, of TYPE.
answered() {
	local v=ANSWER_$2
	local a=${!v} re="\"type\":\"$3\""
	if [[ "$a" != *$'\n'* && "$a" =~ $re ]]; then
		pass "$1"
	else
		fail "$1: not one $3: $a"
	fi
}

# b_members CASE: the counsellors of B in CASE now.
b_members() {
	sql "SELECT count(*) FROM case_members m JOIN accounts a
	    ON a.id = m.account_id WHERE m.case_id = $1
	    AND a.programme_id = $B AND m.left_at IS NULL"
}

# open_of ID: the counsellor's open cases in the store, and the open
# cases of the accepted referrals it joined (PROTOCOL.md, "A place in
# the partner counsellor's caseload"): "LED+JOINED".
open_of() {
	echo "$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $1
	    AND status IN (1, 2, 4)")+$(sql "SELECT count(*) FROM referrals r
	    JOIN cases c ON c.id = r.case_id WHERE r.receiver_id = $1
	    AND r.status = 1 AND c.status IN (1, 2, 4)")"
}

start_node a
setup_pool			# A: Ada, its key, Sam (daemon on node a)
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
cli admin counsellor-update "$KEY_couns" --capacity 20 >/dev/null
new_programme_admin "Second Path" admin2 Bea
LOG_a=$SERVER_ERR		# node a's log since that restart
for who in lou:Lou kim:Kim max:Max; do
	COUNS_DAEMON=0 add_counsellor admin2 "${who%%:*}" "${who#*:}" \
		--languages en --topics leaving
done
certify_pending Lou Kim Max --by admin2
cli_out out admin2 counsellor-update Lou --capacity 1
assert_field "Lou has one place" 1 "$out" capacity
# Kim and Max only ever take (or are given) a referral: never matched
for who in Kim Max; do
	cli_out out admin2 counsellor-update "$who" --presence away
	assert_field "$who is away" away "$out" presence
done
LOU=$(account_id lou)
partners_ab
keygen c1 c2 c3 c4 c5 cb
for c in c1 c2 c3 c4 c5; do
	cli_out out "$c" request --language en --topic leaving --programme "$A"
	printf -v "CASE_$c" '%s' "$(field "$out" case)"
	assert_field "$c's case is Sam's" Sam "$out" counsellor
	c=CASE_$c
	cli couns referral propose "${!c}" "$B" >/dev/null
done
start_node b
PORT=$PORT_a
PORT=$PORT_b counsellor_up lou	# Lou works on node b
wait_for "node a to see Lou there on node b" 15 \
	file_has "$LOG_a" 'counsellors there on other nodes anew'

# accept CASE: the client's yes to its referral, as a frame.
accept() {
	echo "{\"v\":1,\"type\":\"referral.answer\",\"id\":7,\"case\":$1,\"accept\":true}"
}

step "four accepts at once, two at each node: Lou, one place, joins one"
connect a:c1a:c1 b:c2b:c2 a:c3a:c3 b:c4b:c4
race c1a="$(accept "$CASE_c1")" c2b="$(accept "$CASE_c2")" \
	c3a="$(accept "$CASE_c3")" c4b="$(accept "$CASE_c4")"
JOINED= waits=0
for c in c1a c2b c3a c4b; do
	answered "$c's accept answered" "$c" 'referral\.answer\.ok'
	k=CASE_${c%?}
	got="$(sql "SELECT receiver_id FROM referrals
	    WHERE case_id = ${!k}")|$(b_members "${!k}")"
	case $got in
	"$LOU|1") [ -n "$JOINED" ] && fail "Lou joined ${c%?}'s too"
		JOINED=${c%?} ;;
	"|0") waits=$((waits + 1)) ;;
	*) fail "${c%?}'s referral: neither Lou's, once, nor waiting: $got" ;;
	esac
done
assert_eq "one referral has Lou, in its case once; three wait" "1 3" \
	"$([ -n "$JOINED" ] && echo 1 || echo 0) $waits"
assert_eq "Lou's one place is the referral's" "0+1" "$(open_of "$LOU")"
cli_out out admin2 counsellors
assert_contains "  as B's admin is told" "$out" "$KEY_lou Lou open=1 capacity=1 "

step "a handover to Lou at node a, a request for a place of B's at node b meanwhile"
CJ=CASE_$JOINED
CJ=${!CJ}
V=$(sql "SELECT members FROM cases WHERE id = $CJ")
for who in "$JOINED" couns; do
	clirun "$who" raw --login --count 1 <<<"{\"v\":1,\"type\":\"case.seen\",\"id\":5,\"case\":$CJ,\"members\":$V}"
	assert_match "$who confirms Lou" "$OUT" '"case\.seen\.ok"'
done
clirun "$JOINED" raw --login --count 1 <<<"{\"v\":1,\"type\":\"referral.approve\",\"id\":5,\"case\":$CJ,\"digest\":\"$(b64_random 32)\"}"
assert_match "$JOINED approves a summary" "$OUT" '"referral\.approve\.ok"'
clirun couns raw --login --count 1 <<<"{\"v\":1,\"type\":\"referral.summary\",\"id\":5,\"case\":$CJ,\"mid\":\"$(b64_random 16)\",\"to\":\"$KEY_lou\",\"ct\":\"$(b64_random 64)\"}"
assert_match "Sam sends it to Lou" "$OUT" '"referral\.summary\.ok"'
connect a:sama:couns b:cbb:cb
race sama="{\"v\":1,\"type\":\"referral.complete\",\"id\":7,\"case\":$CJ}" \
	cbb="{\"v\":1,\"type\":\"case.request\",\"id\":7,\"language\":\"en\",\"topic\":\"leaving\",\"programme\":$B}"
answered "Sam's handover answered" sama 'referral\.complete\.ok'
assert_eq "  $JOINED's case is Lou's and B's" "$LOU|$B" \
	"$(sql "SELECT counsellor_id, programme_id FROM cases WHERE id = $CJ")"
answered "cb's request answered" cbb 'case\.request\.ok'
CB=$(sql "SELECT id FROM cases WHERE client_id = $(account_id cb)")
assert_eq "  cb waits: Lou's one place is taken, before and after" 1 \
	"$(sql "SELECT status FROM cases WHERE id = $CB")"
assert_eq "Lou has the handed-over case alone" "1+0" "$(open_of "$LOU")"

step "a referral waiting in B's queue: three take it and Bea assigns it at once"
cli_out out admin2 counsellor-update Lou --capacity 5 --presence away
assert_field "Lou is away" away "$out" presence
cli_out out c5 referral accept "$CASE_c5"
assert_match "c5 accepts" "$out" '^referral: accepted$'
assert_eq "  nobody of B is there: it waits" "|0" \
	"$(sql "SELECT receiver_id FROM referrals WHERE case_id = $CASE_c5")|$(b_members "$CASE_c5")"
connect a:loua:lou b:kimb:kim a:maxa:max b:beab:admin2
take="{\"v\":1,\"type\":\"case.take\",\"id\":7,\"case\":$CASE_c5}"
race loua="$take" kimb="$take" maxa="$take" \
	beab="{\"v\":1,\"type\":\"case.assign\",\"id\":7,\"case\":$CASE_c5,\"key\":\"$KEY_max\"}"
won=0 lost=0
for r in loua kimb maxa beab; do
	v=ANSWER_$r
	a=${!v}
	if [[ "$a" == *$'\n'* || -z "$a" ]]; then
		fail "$r: not one answer: $a"
	elif [[ "$a" =~ \"type\":\"case\.(take|assign)\.ok\" ]]; then
		won=$((won + 1))
		echo "   ($r had it)"
	elif [[ "$a" =~ \"code\":\"not_found\" ]]; then
		lost=$((lost + 1))
	elif [ "$r" = maxa ] && [[ "$a" =~ \"code\":\"bad_state\" ]] &&
		[[ "$ANSWER_beab" =~ \"type\":\"case\.assign\.ok\" ]]; then
		# Bea's assignment came first and put Max in the case: a take
		# by one in it is bad_state (PROTOCOL.md, case.take)
		lost=$((lost + 1))
		echo "   ($r: bad_state, in the case by Bea's assignment)"
	elif [[ "$a" =~ \"code\":\"unavailable\" ]]; then
		# a deadlock between the turns of the two nodes (node b's turn
		# holds the referral Kim took and waits for Max's row, which an
		# assignment reads the counsellor under; node a's turn holds it
		# and waits for the referral), broken by PostgreSQL: the
		# retryable answer of a request that did not get it
		lost=$((lost + 1))
		echo "   ($r: unavailable, a deadlock broken)"
	else
		fail "$r: neither ok nor not_found: $a"
	fi
done
assert_eq "one had it, three were told not_found (or unavailable; Max bad_state once Bea gave it him)" "1 3" "$won $lost"
assert_eq "one counsellor of B is in c5's case, the referral's" \
	"1|$(sql "SELECT receiver_id FROM referrals WHERE case_id = $CASE_c5")" \
	"$(b_members "$CASE_c5")|$(sql "SELECT max(m.account_id)
	    FROM case_members m JOIN accounts a ON a.id = m.account_id
	    WHERE m.case_id = $CASE_c5 AND a.programme_id = $B
	    AND m.left_at IS NULL")"

finish
