# test_nodes_locks.sh: two server nodes on one PostgreSQL database; a
# request that reads a counsellor or a partnership at one node while
# another node changes it. A psql session holds a row, so that the first
# request waits in the middle (as one under way at a third node makes it
# wait) while the second comes. Found by a probe of the two-node paths:
# an admin's case.assign at node b gave a case to a counsellor disabled
# at node a meanwhile, and kept it; a colleague brought into a case at
# node b stayed in it, disabled at node a; a client's acceptance of a
# referral at node b left the partner's counsellor in the case after the
# partnership's end at node a; and a referral proposed at node a along a
# partnership ended at node b stayed open; an assignment of a case its
# client closed meanwhile was answered not_found. Each request now reads what it
# decides on under a lock the other takes too: the second waits for the
# first, or the first's read is the second's result. A lock is waited
# for 2 s at most: a request answered unavailable (retryable: a busy
# machine) is sent again. PostgreSQL only.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_only "several nodes need a PostgreSQL store"

# race (lib.sh): the psql session holds a row, the first request waits
# for it, the second comes; a request that gave up is sent again.

# sams_cases NAME...: new clients NAME... each with a case of A, Sam's;
# CASE_<NAME> its id
sams_cases() {
	local c out
	keygen "$@"
	for c in "$@"; do
		cli_out out "$c" request --language en --topic leaving --programme "$A"
		printf -v "CASE_$c" '%s' "$(field "$out" case)"
		assert_field "$c's case is Sam's" Sam "$out" counsellor
	done
}

start_node a
setup_pool			# A: Ada, its key, Sam (daemon on node a)
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
cli admin counsellor-update "$KEY_couns" --capacity 20 >/dev/null
for who in kim:Kim lou:Lou; do
	COUNS_DAEMON=0 add_counsellor admin "${who%%:*}" "${who#*:}" --languages de --topics leaving
	certify_pending "${who#*:}"
done
new_programme_admin "Second Path" admin2 Bea	# B (node a restarts)
new_programme_admin "Third Way" admin3 Cy	# C, again
COUNS_DAEMON=0 add_counsellor admin2 rae Rae --languages en --topics leaving
certify_pending Rae --by admin2
start_node b
PORT=$PORT_a
SAM=$(account_id couns)
KIM=$(account_id kim)
LOU=$(account_id lou)
watch_on "$PORT_a" adm_a admin
watch_on "$PORT_b" adm_b admin
watch_on "$PORT_b" sam_b couns

step "an admin's case.assign to Kim at node b, Kim disabled at node a: Kim, disabled, keeps no case"
keygen w1
out=$(PORT=$PORT_a cli w1 request --language fr --topic leaving)
field_to W1 "$out" case
assert_field "w1 waits (nobody speaks French)" waiting "$out" status
# the waiting case's row: the assignment waits for it to write the case,
# after reading Kim (before, it read Kim enabled without Kim's lock, and
# the disable, which found no case of Kim's to move, did not wait for it)
RACE_ID=21 race "cases WHERE id = $W1" \
	adm_b "{\"v\":1,\"type\":\"case.assign\",\"id\":21,\"case\":$W1,\"key\":\"$KEY_kim\"}" \
	adm_a "{\"v\":1,\"type\":\"counsellor.disable\",\"id\":21,\"key\":\"$KEY_kim\"}"
assert_match "Kim disabled" "$ANSWER2" '"type": *"counsellor.disable.ok"'
assert_eq "Kim, disabled, has no open case" 0 \
	"$(sql "SELECT count(*) FROM cases WHERE counsellor_id = $KIM AND status IN (1, 2, 4)")"
assert_match "the assignment was answered" "$ANSWER1" '"type": *"case.assign.ok"|"code": *"forbidden"'

step "Sam brings Lou into a case at node b, Lou disabled at node a: Lou, disabled, is in no case"
keygen w2
out=$(PORT=$PORT_a cli w2 request --language en --topic leaving)
field_to W2 "$out" case
assert_field "w2's case is Sam's" Sam "$out" counsellor
# Sam's participant row: the invite writes it last (Sam has seen the new
# membership), after reading Lou and adding Lou (before, without Lou's
# lock: the disable did not find this case among Lou's and did not wait)
RACE_ID=23 race "case_participants WHERE case_id = $W2 AND account_id = $SAM" \
	sam_b "{\"v\":1,\"type\":\"case.invite\",\"id\":23,\"case\":$W2,\"key\":\"$KEY_lou\",\"as\":\"supervisor\"}" \
	adm_a "{\"v\":1,\"type\":\"counsellor.disable\",\"id\":23,\"key\":\"$KEY_lou\"}"
assert_match "Lou disabled" "$ANSWER2" '"type": *"counsellor.disable.ok"'
assert_eq "Lou, disabled, is no participant of w2's case" 0 \
	"$(sql "SELECT count(*) FROM case_participants WHERE case_id = $W2 AND account_id = $LOU")"
step "an admin's case.assign at node b, the client's close at node a: the case stays closed, the assignment is bad_state"
keygen w3
out=$(PORT=$PORT_a cli w3 request --language fr --topic leaving)
field_to W3 "$out" case
assert_field "w3 waits (nobody speaks French)" waiting "$out" status
watch_on "$PORT_a" w3_a w3
# Sam's row: the assignment waits for it after reading the case waiting;
# the close comes meanwhile (before, the assignment's write found no
# waiting case and was answered not_found, as for a case unknown)
RACE_ID=25 race "counsellor_profiles WHERE account_id = $SAM" \
	adm_b "{\"v\":1,\"type\":\"case.assign\",\"id\":25,\"case\":$W3,\"key\":\"$KEY_couns\"}" \
	w3_a "{\"v\":1,\"type\":\"case.close\",\"id\":25,\"case\":$W3}"
assert_match "the close is done" "$ANSWER2" '"type": *"case.close.ok"'
assert_match "the assignment: bad_state (the case no longer waits)" "$ANSWER1" '"code": *"bad_state"'
assert_eq "w3's case is closed, nobody's" "3|0" \
	"$(sql "SELECT status || '|' || coalesce(counsellor_id, 0) FROM cases WHERE id = $W3")"
watch_stop w3_a
for w in adm_a adm_b sam_b; do watch_stop "$w"; done

step "a referral accepted at node b, the partnership ended at node a: B's counsellor leaves the case"
RAE=$(account_id rae)
partners_ab
sams_cases c1 c2
cli couns referral propose "$CASE_c1" "$B" >/dev/null
PORT=$PORT_b counsellor_up rae		# Rae works at node b
watch_on "$PORT_a" ada_a admin
watch_on "$PORT_b" ada_b admin
watch_on "$PORT_b" c1_b c1
watch_on "$PORT_a" sam_a couns
P=$(sql "SELECT id FROM partnerships WHERE status = 1")
# Rae's row: the acceptance waits for it in its intake, after writing
# 'accepted' (before, the end read the referral proposed, with nobody of
# B's in the case, and cancelled it leaving Rae in)
RACE_ID=31 race "counsellor_profiles WHERE account_id = $RAE" \
	c1_b "{\"v\":1,\"type\":\"referral.answer\",\"id\":31,\"case\":$CASE_c1,\"accept\":true}" \
	ada_a "{\"v\":1,\"type\":\"partnership.end\",\"id\":31,\"partnership\":$P}"
assert_match "the partnership ended" "$ANSWER2" '"type": *"partnership.end.ok"'
assert_eq "Rae (B's) is no participant of c1's case once the partnership ended" 0 \
	"$(sql "SELECT count(*) FROM case_participants WHERE case_id = $CASE_c1 AND account_id = $RAE")"

step "a referral proposed at node a, the partnership ended at node b: none stays open"
partners_ab
P=$(sql "SELECT id FROM partnerships WHERE status = 1")
# B's programme row: the proposal waits for it (before, after reading the
# partnership active, at the insert's reference to B; the end did not
# wait for it, and the referral stayed open along an ended partnership)
RACE_ID=32 race "programmes WHERE id = $B" \
	sam_a "{\"v\":1,\"type\":\"referral.propose\",\"id\":32,\"case\":$CASE_c2,\"partner\":$B}" \
	ada_b "{\"v\":1,\"type\":\"partnership.end\",\"id\":32,\"partnership\":$P}"
assert_match "the partnership ended" "$ANSWER2" '"type": *"partnership.end.ok"'
assert_eq "no open referral of c2's case along the ended partnership" 0 \
	"$(sql "SELECT count(*) FROM referrals WHERE case_id = $CASE_c2 AND status < 2")"

step "Sam reopens c2's case at node a, c2 gives feedback at node b: the feedback is bad_state (the case is open again)"
cli couns close "$CASE_c2" >/dev/null
watch_on "$PORT_b" c2_b c2
# the case's row: the reopen waits for it, the feedback comes meanwhile
# and waits for the reopen (before, it read the case closed without its
# lock, its mark of the case then found it open and it was answered
# limit, as for feedback given twice)
RACE_ID=33 race "cases WHERE id = $CASE_c2" \
	sam_a "{\"v\":1,\"type\":\"case.reopen\",\"id\":33,\"case\":$CASE_c2}" \
	c2_b "{\"v\":1,\"type\":\"feedback.send\",\"id\":33,\"case\":$CASE_c2,\"helpful\":true}"
assert_match "the case reopened" "$ANSWER1" '"type": *"case.reopen.ok"'
assert_match "the feedback: bad_state (the case is not closed)" "$ANSWER2" '"code": *"bad_state"'
assert_eq "no feedback stored" 0 "$(sql "SELECT count(*) FROM feedback")"

step "the partnership ended at node a, Sam disabled at node b: both done, no deadlock"
partners_ab
P=$(sql "SELECT id FROM partnerships WHERE status = 1")
sams_cases c3 c4
# (case ids are random) referrals of the case of the higher id, then of
# the lower: in the order of the referrals, the end would lock the
# higher's row, then the lower's; the disable locks Sam's cases in the
# order of their ids, the lower's first. The psql session holds the
# lower's row: the disable waits for it, then the end comes. Before, the
# end held the higher's and waited for the lower's, the disable then
# held the lower's and waited for the higher's: a deadlock, one of them
# answered unavailable (by PostgreSQL's deadlock check or a lock's 2 s
# bound, whichever came first). Now the end waits for the lower's first,
# holding neither: the higher's row is locked by nobody while both wait
# (pgrowlocks, PostgreSQL's contrib module: the row locks of a table)
LO=$CASE_c3 HI=$CASE_c4
[ "$LO" -lt "$HI" ] || { LO=$CASE_c4; HI=$CASE_c3; }
cli couns referral propose "$HI" "$B" >/dev/null
cli couns referral propose "$LO" "$B" >/dev/null
sql_rw "CREATE EXTENSION IF NOT EXISTS pgrowlocks" >/dev/null
watch_on "$PORT_b" adm_b admin
RACE_HELD='HI_LOCKS=$(sql "SELECT count(*) FROM pgrowlocks('"'"'cases'"'"') r JOIN cases c ON c.ctid = r.locked_row WHERE c.id = $HI")'
RACE_ID=34 race "cases WHERE id = $LO" \
	adm_b "{\"v\":1,\"type\":\"counsellor.disable\",\"id\":34,\"key\":\"$KEY_couns\"}" \
	ada_a "{\"v\":1,\"type\":\"partnership.end\",\"id\":34,\"partnership\":$P}"
RACE_HELD=""
assert_eq "while both wait, the higher case's row is locked by nobody (the end waits first for the lower's)" 0 "$HI_LOCKS"
assert_match "Sam disabled" "$ANSWER1" '"type": *"counsellor.disable.ok"'
assert_match "the partnership ended" "$ANSWER2" '"type": *"partnership.end.ok"'
assert_eq "no open referral of c3's or c4's case" 0 \
	"$(sql "SELECT count(*) FROM referrals WHERE case_id IN ($CASE_c3, $CASE_c4) AND status < 2")"
for w in ada_a ada_b c1_b sam_a c2_b adm_b; do watch_stop "$w"; done

step "A proposes to C at node a, B to C at node b, one place left under C's bound: one is refused (limit)"
C=$(sql "SELECT id FROM programmes WHERE name = 'Third Way'")
# A's and B's statements for C, as the server keeps them, from a
# proposal each, ended (raw frames: the race sends them)
for who in admin:A admin2:B; do
	out=$(cli "${who%%:*}" partnership propose $(signing "${who%%:*}") "$C" "$PKEY_admin3")
	field_to P "$out" partnership
	cli "${who%%:*}" partnership end "$P" >/dev/null
	printf -v "ST_${who#*:}" '%s' "$(sql "SELECT replace(encode(proposer_statement, 'base64'), chr(10), '')
	    FROM partnerships WHERE id = $P")"
done
# 99 programmes (written into the store) propose to C
sql_rw "INSERT INTO programmes(id, name, created) SELECT 800000 + n, 'Filler ' || n, 0
    FROM generate_series(1, 99) AS n" >/dev/null
sql_rw "INSERT INTO partnerships(proposer_id, partner_id, status, proposer_statement, created)
SELECT id, $C, 0, decode(repeat('00', 129), 'hex'), 0 FROM programmes WHERE id > 800000" >/dev/null
watch_on "$PORT_a" ada_a admin
watch_on "$PORT_b" bea_b admin2
# C's row: each proposal counts C's partnerships under it (before, under
# no lock, both counted 99 and C had 101)
RACE_ID=41 race "programmes WHERE id = $C" \
	ada_a "{\"v\":1,\"type\":\"partnership.propose\",\"id\":41,\"statement\":\"$ST_A\"}" \
	bea_b "{\"v\":1,\"type\":\"partnership.propose\",\"id\":41,\"statement\":\"$ST_B\"}"
verdict=""
for a in "$ANSWER1" "$ANSWER2"; do
	if [[ "$a" =~ \"type\":\ *\"partnership\.propose\.ok\" ]]; then
		verdict+="ok "
	elif [[ "$a" =~ \"code\":\ *\"limit\" ]]; then
		verdict+="limit "
	else
		verdict+="other "
	fi
done
assert_match "one proposal is taken, the other refused: limit ($ANSWER1 / $ANSWER2)" \
	"$verdict" '^(ok limit|limit ok) $'
assert_eq "C has 100 partnerships proposed or active, its bound" 100 \
	"$(sql "SELECT count(*) FROM partnerships WHERE $C IN (proposer_id, partner_id) AND status < 2")"
for w in ada_a bea_b; do watch_stop "$w"; done

step "A rotates its key at node a, B accepts A's proposal at node b: the acceptance is refused (it vouches for the key rotated away)"
# A's programme row: the rotation waits for it, the acceptance comes
# meanwhile and waits for the rotation (before, it read A's key without
# the programmes' locks and was accepted, vouching for a key rotated
# away at that moment). The CLI's commands, which sign. A lock is waited
# for 2 s at most: where the rotation gave up (a busy machine; it changed
# nothing), the proposal is ended (the acceptance may have gone through,
# no race then) and the step run again with a new one, three times at
# most
for attempt in 1 2 3; do
	out=$(cli admin partnership propose $(signing admin) "$B" "$PKEY_admin2")
	field_to PROP "$out" partnership
	assert_match "A proposes" "$PROP" '^[0-9]+$'
	hold_row "programmes WHERE id = $A"
	rm -f "$IDS/admin.rot.pkey"	# the new key of a rotation given up
	PORT=$PORT_a cli admin programme-key rotate $(signing admin) --out "$IDS/admin.rot.pkey" --kdf min \
		--new-passphrase-file "$IDS/admin.ppass" >"$T/rotate.out" 2>&1 &
	ROT_PID=$!
	wait_for "the rotation to wait for A's row, or give up" 20 \
		eval '_waiting_locks 1 || ! kill -0 "$ROT_PID" 2>/dev/null'
	PORT=$PORT_b cli admin2 partnership accept $(signing admin2) "$PROP" "$PKEY_admin" >"$T/accept.out" 2>&1 &
	ACC_PID=$!
	WAIT_EVERY=0.05 wait_for "the acceptance to wait for the rotation, or be answered" 20 \
		eval '_waiting_locks 2 || ! kill -0 "$ACC_PID" 2>/dev/null || ! kill -0 "$ROT_PID" 2>/dev/null'
	release_row
	wait "$ROT_PID" || true
	wait "$ACC_PID" || true
	! grep -q '^rotated:' "$T/rotate.out" || break
	echo "   (attempt $attempt: the rotation gave up; again, with a new proposal)"
	[ "$(sql "SELECT status FROM partnerships WHERE id = $PROP")" = 2 ] ||
		cli admin partnership end "$PROP" >/dev/null
done
assert_match "A's key rotated" "$(cat "$T/rotate.out")" '^rotated: fingerprint'
# refused: B's statement vouches for A's key before the rotation
# (bad_field statement), and A's proposal is signed by it (bad_state)
assert_match "the acceptance is refused" "$(cat "$T/accept.out")" "^offramp: (bad_field: partnership.accept: statement|bad_state)"
assert_eq "the proposal is still a proposal (0), not active" 0 \
	"$(sql "SELECT status FROM partnerships WHERE id = $PROP")"
finish
