# test_nodes_race.sh: two server nodes on one PostgreSQL database, each
# deciding on a case or a counsellor another node is changing at the same
# moment. A psql session holds a case's row (or a counsellor's) for under
# a second, so that the first request waits for it before the second
# comes: the second is then decided on what the first committed, as on
# one node. Found by a
# probe of the two-node paths: a pause at node b over a close at node a
# left the closed case paused; a counsellor moved out by a reassignment at
# node a brought a colleague into the case at node b, and was answered
# with the counsellor who took it over; a counsellor disabled at node a
# was given a new case at node b, and kept it, and so was one whose
# certificate was revoked at node a; a counsellor certified at node b
# while its key was revoked at node a stayed certified; two admins who
# disabled each other
# at two nodes at once were both disabled; an invite at node a and a
# close at node b left node b's connections told the case active after
# closed (the invite's push came late); and when the jobs moved to the
# other node, it closed a waiting case whose client had gone a moment
# before, counting from its own start. PostgreSQL only.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_only "several nodes need a PostgreSQL store"

# race (lib.sh): a psql session holds a row, the first request waits for
# it, the second comes; ANSWER1 and ANSWER2 their answers.

# waiting cases whose client has gone are closed after 5 s, looked at
# every second (the last step)
KW=5
start_node a --rematch-period 1 --keep-waiting ${KW}s
COUNS_DAEMON=0 setup_pool
COUNS_DAEMON=0 add_counsellor admin kim Kim --languages de --topics leaving
certify_pending Kim
COUNS_DAEMON=0 add_counsellor admin lou Lou --languages en --topics leaving
certify_pending Lou
start_node b --rematch-period 1 --keep-waiting ${KW}s
SAM=$(account_id couns)
KIM=$(account_id kim)
watch_on "$PORT_a" sam_a couns
watch_on "$PORT_b" sam_b couns

step "a close at node a, a pause at node b: the case stays closed, the pause is bad_state"
keygen c1
out=$(PORT=$PORT_a cli c1 request --language en --topic leaving)
field_to CASE "$out" case
assert_field "c1 has Sam" Sam "$out" counsellor
watch_on "$PORT_a" c1_a c1
RACE_ID=7 race "cases WHERE id = $CASE" c1_a "{\"v\":1,\"type\":\"case.close\",\"id\":7,\"case\":$CASE}" \
	sam_b "{\"v\":1,\"type\":\"case.pause\",\"id\":7,\"case\":$CASE}"
assert_match "the close is answered" "$ANSWER1" '"type": *"case.close.ok"'
assert_match "the pause is refused: bad_state" "$ANSWER2" '"code": *"bad_state"'
assert_eq "the case is closed" 3 "$(sql "SELECT status FROM cases WHERE id = $CASE")"
watch_stop c1_a

step "a reassignment at node a, Sam bringing Kim in at node b: Sam is out, Kim never in"
keygen c2
out=$(PORT=$PORT_a cli c2 request --language en --topic leaving)
field_to CASE "$out" case
assert_field "c2 has Sam" Sam "$out" counsellor
# Lou comes to work, to take the case over
PORT=$PORT_a counsellor_up lou
watch_on "$PORT_a" c2_a c2
RACE_ID=8 race "cases WHERE id = $CASE" c2_a "{\"v\":1,\"type\":\"case.reassign\",\"id\":8,\"case\":$CASE}" \
	sam_b "{\"v\":1,\"type\":\"case.invite\",\"id\":8,\"case\":$CASE,\"key\":\"$KEY_kim\",\"as\":\"supervisor\"}"
assert_match "the reassignment is answered" "$ANSWER1" '"type": *"case.reassign.ok"'
assert_match "Sam's invite is refused (not its case any more)" "$ANSWER2" '"code": *"(not_found|forbidden)"'
assert_eq "Lou has the case" "$(account_id lou)" "$(sql "SELECT counsellor_id FROM cases WHERE id = $CASE")"
assert_eq "Kim is not in it" 0 \
	"$(sql "SELECT count(*) FROM case_participants WHERE case_id = $CASE AND account_id = $KIM")"
assert_no_match "Sam's answer names nobody who took it over" "$ANSWER2" 'Lou'
counsellor_down lou
watch_stop c2_a

step "Sam disabled at node a while a client is matched at node b: never Sam's"
keygen c3 c4
out=$(PORT=$PORT_a cli c3 request --language en --topic leaving)
field_to C3 "$out" case
assert_field "c3 has Sam" Sam "$out" counsellor
watch_on "$PORT_a" adm_a admin
# the disable locks Sam's open cases' rows first: it waits for c3's, which
# the psql session holds, while c4 requests at node b and may be matched
# to Sam; whatever c4 was answered, once the disable has committed c4's
# case is not Sam's (before: the disable moved only the cases it had read
# before c4's commit, and c4 kept Sam)
RACE_SECOND='PORT=$PORT_b cli c4 request --language en --topic leaving >"$T/c4.out" 2>&1 & C4_PID=$!'
RACE_ID=9 race "cases WHERE id = $C3" adm_a "{\"v\":1,\"type\":\"counsellor.disable\",\"id\":9,\"key\":\"$KEY_couns\"}" "" ""
wait "$C4_PID" || true
assert_match "the disable is answered" "$ANSWER1" '"type": *"counsellor.disable.ok"'
assert_match "c4's request is answered" "$(cat "$T/c4.out")" '^case: '
C4=$(field "$(cat "$T/c4.out")" case)
assert_ne "c4's case is not Sam's" "$SAM" "$(sql "SELECT coalesce(counsellor_id, 0) FROM cases WHERE id = $C4")"
assert_eq "Sam, disabled, has no open case" 0 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $SAM AND status IN (1, 2, 4)")"
watch_stop adm_a

step "Sam brings Kim in at node a, the client closes at node b: once closed, no connection is told active"
# at node a, whose pool then has Sam at once (node b reads it every 10 s)
PORT=$PORT_a cli admin enable "$KEY_couns" >/dev/null
watch_on "$PORT_a" sam_q couns		# Sam's requests; a connection, so it is matched
keygen c5
out=$(PORT=$PORT_a cli c5 request --language en --topic leaving)
field_to C5 "$out" case
assert_field "c5 has Sam" Sam "$out" counsellor
watch_on "$PORT_b" c5_q c5			# c5's requests
for w in sam2_a:a:couns sam2_b:b:couns c5_a:a:c5 c5_b:b:c5; do
	IFS=: read -r name node who <<<"$w"
	p=PORT_$node
	watch_on "${!p}" "$name" "$who"
done
RACE_ID=10 race "cases WHERE id = $C5" sam_q "{\"v\":1,\"type\":\"case.invite\",\"id\":10,\"case\":$C5,\"key\":\"$KEY_kim\",\"as\":\"supervisor\"}" \
	c5_q "{\"v\":1,\"type\":\"case.close\",\"id\":10,\"case\":$C5}"
assert_match "the invite is answered" "$ANSWER1" '"type": *"case.invite.ok"'
assert_match "the close is answered" "$ANSWER2" '"type": *"case.close.ok"'
# the statuses of the case pushes NAME had, one a line
statuses() {
	grep -E '"type": *"case"' "$T/watch-$1.out" | grep -o '"status": *"[a-z]*"' |
		sed 's/.*"\([a-z]*\)"$/\1/'
}
# told active after closed
_reopened() { statuses "$1" | sed -n '/^closed$/,$p' | grep -q '^active$'; }
# node b has the invite's note (from node a, committed first): dropped,
# or (before) pushed after the close
_invite_at_b() {
	grep -q 'come late from another node: dropped' "$LOG_b" || _reopened c5_b
}
wait_for "the invite's note to reach node b" 20 _invite_at_b
for w in sam2_a sam2_b c5_a c5_b; do
	wait_for "$w to be told the case closed" 20 eval 'statuses "$w" | grep -q "^closed$"'
	if _reopened "$w"; then
		fail "$w was told the case active after closed: $(statuses "$w" | tr '\n' ' ')"
	else
		pass "$w: closed, and never active after ($(statuses "$w" | tr '\n' ' '))"
	fi
done
for w in sam_q c5_q sam2_a sam2_b c5_a c5_b; do
	watch_stop "$w"
done

watch_stop sam_a
watch_stop sam_b

step "Lou's certificate revoked at node a while node b assigns a client to Lou: never Lou's"
LOU=$(account_id lou)
PORT=$PORT_b counsellor_up lou
# the psql session holds Lou's row as an assignment to Lou under way at
# another node does: the revocation waits for it (before, it went on, and
# an assignment that had read Lou's certificate gave Lou the case after
# it), then the assignment at node b, which reads it after the revocation.
# A lock is waited for 2 s at most (store_pg.c): where the client's
# request came later than that (a busy machine), the revocation was
# answered unavailable, retryable, and the race is run again, three
# times at most, with a new client (its account made beforehand).
for attempt in 1 2 3; do
	c=c6_$attempt
	keygen "$c"
	PORT=$PORT_b cli "$c" cases >/dev/null
	hold_row "counsellor_profiles WHERE account_id = $LOU"
	PORT=$PORT_a cli admin revoke $(signing admin) Lou >"$T/revoke.out" 2>&1 &
	REVOKE_PID=$!
	wait_for "the revocation to wait for the assignment under way" 20 _waiting_locks 1
	PORT=$PORT_b cli "$c" request --language en --topic leaving >"$T/c6.out" 2>&1 &
	C6_PID=$!
	WAIT_EVERY=0.05 wait_for "$c's match at node b to wait for Lou's row, or the revocation to give up" 20 \
		eval '_waiting_locks 2 || ! kill -0 "$REVOKE_PID" 2>/dev/null'
	release_row
	wait "$REVOKE_PID" || true
	wait "$C6_PID" || true
	grep -q unavailable "$T/revoke.out" || break
	echo "   (attempt $attempt: the revocation gave up waiting; again)"
	[ "$(field "$(cat "$T/c6.out")" counsellor)" != Lou ] ||
		PORT=$PORT_b cli "$c" close "$(field "$(cat "$T/c6.out")" case)" >/dev/null
done
assert_eq "Lou revoked" "revoked: Lou" "$(cat "$T/revoke.out")"
assert_eq "Lou has no certificate" 0 \
	"$(sql "SELECT count(*) FROM accounts WHERE id = $LOU AND cert IS NOT NULL")"
assert_match "the client's request is answered" "$(cat "$T/c6.out")" '^case: '
C6=$(field "$(cat "$T/c6.out")" case)
assert_match "its case number" "$C6" '^[0-9]+$'
assert_ne "its case is not Lou's" "$LOU" "$(sql "SELECT coalesce(counsellor_id, 0) FROM cases WHERE id = ${C6:-0}")"
counsellor_down lou

step "a counsellor certified at node b while node a revokes its key: never certified after the revocation"
# the psql session holds the counsellor's account row, as a request under
# way at a third node would: the certification at node b waits for it to
# write the certificate, and the revocation at node a comes meanwhile. It
# waits for the certification's end (the programme's row), then drops the
# certificate (before, the certification had read the list before the
# revocation, wrote the certificate after it, and the counsellor stayed
# certified on the list: matched to clients that refuse it). A lock is
# waited for 2 s at most (store_pg.c): where the revocation came later
# than that (a busy machine), the certification was answered
# unavailable, retryable, and the race is run again with another new
# counsellor (the revocation made meanwhile lists this one), three times
# at most. The certification from a copy of the admin's key file: a
# command holds its key file's lock while it runs.
cp "$IDS/admin.key" "$IDS/admin_b.key"
for attempt in 1 2 3; do
	m=max$attempt
	COUNS_DAEMON=0 add_counsellor admin "$m" "Max$attempt" --languages en --topics leaving
	MAX=$(account_id "$m")
	hold_row "accounts WHERE id = $MAX"
	PASS_OVERRIDE=pass-admin PORT=$PORT_b cli admin_b certify $(signing admin) "Max$attempt" \
		>"$T/certify.out" 2>&1 &
	CERT_PID=$!
	wait_for "the certification to wait for the counsellor's row" 20 _waiting_locks 1
	PORT=$PORT_a cli admin revoke $(signing admin) "Max$attempt" >"$T/revoke.out" 2>&1 &
	REVOKE_PID=$!
	WAIT_EVERY=0.05 wait_for "the revocation to wait for the certification, or to be answered" 20 \
		eval '_waiting_locks 2 || ! kill -0 "$REVOKE_PID" 2>/dev/null'
	release_row
	wait "$CERT_PID" || true
	wait "$REVOKE_PID" || true
	grep -q unavailable "$T/certify.out" || break
	echo "   (attempt $attempt: the certification gave up waiting; again)"
done
assert_eq "Max$attempt certified (before the revocation)" "certified: Max$attempt" "$(cat "$T/certify.out")"
assert_eq "Max$attempt revoked" "revoked: Max$attempt" "$(cat "$T/revoke.out")"
assert_eq "Max$attempt has no certificate" 0 \
	"$(sql "SELECT count(*) FROM accounts WHERE id = $MAX AND cert IS NOT NULL")"

step "two admins disable each other at two nodes at once: one is left"
inv=$(PORT=$PORT_a cli admin invite --role admin | tail -n1)
keygen ann
PORT=$PORT_a cli ann redeem "$inv" --name Ann >/dev/null 2>&1
ADMIN=$(account_id admin)
ANN=$(account_id ann)
watch_on "$PORT_a" adm_a admin
watch_on "$PORT_b" ann_b ann
# the psql session holds the lower of the two rows, as a third request
# would: both disables wait for it, and the second then for the first
# (before, each read only that it was not disabling itself, and both
# were disabled: nobody left to run the programme)
hold_row "accounts WHERE id = $(( ADMIN < ANN ? ADMIN : ANN ))"
wsend adm_a "{\"v\":1,\"type\":\"admin.disable\",\"id\":11,\"key\":\"$KEY_ann\"}"
wait_for "the first disable to wait" 20 _waiting_locks 1
wsend ann_b "{\"v\":1,\"type\":\"admin.disable\",\"id\":11,\"key\":\"$KEY_admin\"}"
wait_for "the second disable to wait" 20 _waiting_locks 2
release_row
_both_done() {
	{ _answered adm_a 11 || ! kill -0 "$WATCH_PID_adm_a" 2>/dev/null; } &&
		{ _answered ann_b 11 || ! kill -0 "$WATCH_PID_ann_b" 2>/dev/null; }
}
wait_for "both disables to be answered (or their connection closed)" 20 _both_done
assert_eq "one of the two admins is still enabled" 1 \
	"$(sql "SELECT count(*) FROM accounts WHERE id IN ($ADMIN, $ANN) AND disabled = 0")"
assert_match "the first disable is answered" "$(answer adm_a 11)" '"type": *"admin.disable.ok"'
assert_no_match "the second is not done" "$(answer ann_b 11)" '"type": *"admin.disable.ok"'
watch_stop adm_a
watch_stop ann_b

step "the jobs move to the other node: a waiting client gone a moment ago keeps its place"
_jobs_at() { grep -q 'this node runs the periodic jobs' "$1"; }
wait_for "a node to run the jobs" 20 eval '_jobs_at "$LOG_a" || _jobs_at "$LOG_b"'
if _jobs_at "$LOG_a"; then lead=a other=b; else lead=b other=a; fi
lport=PORT_$lead lpid=PID_$lead olog=LOG_$other
keygen w
watch_on "${!lport}" w_lead w
out=$(PORT=${!lport} cli w request --language fr --topic leaving)
field_to WCASE "$out" case
assert_field "w waits (nobody speaks French)" waiting "$out" status
# connected all along at the node that runs the jobs, longer than the
# keep-waiting time: kept
t_req=$(date +%s)
_past() { [ "$(date +%s)" -ge "$1" ]; }
wait_for "the keep-waiting time to pass with w connected" $((KW + 20)) _past $((t_req + KW + 1))
assert_eq "w's case waits while w is connected" 1 "$(sql "SELECT status FROM cases WHERE id = $WCASE")"
watch_stop w_lead
# its node stops (a restart, one node at a time): the other takes the jobs
kill -TERM "${!lpid}"
wait "${!lpid}" 2>/dev/null || true
wait_for "node $other to take the jobs over" 20 _jobs_at "${!olog}"
t_over=$(date +%s)
wait_for "two of its rematch passes" 20 _past $((t_over + 2))
assert_eq "w's case still waits: its absence counts from then, not from node $other's start" \
	1 "$(sql "SELECT status FROM cases WHERE id = $WCASE")"
_closed() { [ "$(sql "SELECT status FROM cases WHERE id = $WCASE")" = 3 ]; }
wait_for "w's case to close once the keep-waiting time has passed" $((KW + 20)) _closed
pass "w's case closed after the keep-waiting time"
finish
