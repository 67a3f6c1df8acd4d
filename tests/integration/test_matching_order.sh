# test_matching_order.sh: the matching rule of PROTOCOL.md ("case.request"),
# through the real server and CLI, its order: ties go to the lower caseload
# ratio, then to the least recently assigned; the queue is served by
# urgency, then by time; counsellors take waiting cases themselves;
# reassign and disable move cases; a counsellor change the client did not
# ask for is shown, not accepted; profile tokens are reclaimed. Each part
# uses its own language, so the parts do not meet. The constraints and
# the preferences are test_matching.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/matching.sh"

start_server
setup_pool				# Ada, Sam (en, leaving)
# every identity of the test, made at once (keygen: one process)
keygen t1 t2 tc1 tc2 tc3 l1 l2 lc q qa qb qc qd qe r1 r2 rc w1 wc w2 \
	d1 d2 dc1 dc2 tk1 tk2 tkc

# ------------------------------------------------------------------ ties

step "ties: the lower caseload ratio first"
add_counsellor admin t1 T1 --languages tq
add_counsellor admin t2 T2 --languages tq
certify_pending T1 T2
cli admin counsellor-update "$KEY_t1" --capacity 2 >/dev/null
cli admin counsellor-update "$KEY_t2" --capacity 4 >/dev/null
request tc1 --language tq
assert_eq "both empty: the older account, T1" T1 "$COUNS"
request tc2 --language tq
assert_eq "T1 at 1/2, T2 at 0/4: T2" T2 "$COUNS"
request tc3 --language tq
assert_eq "T1 at 1/2, T2 at 1/4: T2 again, though assigned last" T2 "$COUNS"

step "ties: then the least recently assigned (never assigned first)"
add_counsellor admin l1 L1 --languages lr
add_counsellor admin l2 L2 --languages lr
certify_pending L1 L2
cli l1 profile --presence away >/dev/null
request lc --language lr
assert_eq "L1 away: L2" L2 "$COUNS"
close_case lc "$CASE"
cli l1 profile --presence online >/dev/null
next_second
request lc --language lr
assert_eq "L1 never assigned: L1 before L2" L1 "$COUNS"
close_case lc "$CASE"
next_second
request lc --language lr
assert_eq "L2 assigned longer ago than L1: L2 (the newer account)" L2 "$COUNS"
close_case lc "$CASE"

# ------------------------------------------------------------------ queue

step "the queue: urgency first, then time of request"
add_counsellor admin q Quinn --languages qo
certify_pending Quinn
cli admin counsellor-update "$KEY_q" --capacity 0 >/dev/null
request qa --language qo
QA=$CASE
assert_eq "qa (normal) waits" waiting "$STATUS"
request qb --language qo
QB=$CASE
request qc --language qo --urgency high
QC=$CASE
assert_eq "qc (high) waits too" waiting "$STATUS"
cli_out out q queue
assert_eq "Quinn's queue: high first, then by time" \
	"$QC qo - high $QA qo - normal $QB qo - normal" \
	"$(printf '%s\n' "$out" | sed 's/ waiting=[0-9]*s$//' | tr '\n' ' ' | sed 's/ $//')"
assert_match "queue lines show the wait" "$out" "^$QA qo - normal waiting=[0-9]+s$"
cli admin counsellor-update "$KEY_q" --capacity 1 >/dev/null
expect_case "room for one: the high-urgency case is matched" qc "$QC" active Quinn
assert_match "qa still waits" "$(case_line qa "$QA")" "^$QA waiting "
assert_match "qb still waits" "$(case_line qb "$QB")" "^$QB waiting "
cli admin counsellor-update "$KEY_q" --capacity 2 >/dev/null
expect_case "room for another: the older normal case" qa "$QA" active Quinn
assert_match "qb still waits" "$(case_line qb "$QB")" "^$QB waiting "

step "a counsellor takes a waiting case itself; not one it does not fit"
cli_out out q queue
assert_match "qb is in Quinn's queue" "$out" "^$QB qo - normal waiting="
clirun q take "$QB"
assert_match "Quinn is full: take gives limit" "$ERR" '^offramp: limit: case\.take'
assert_contains "  in plain words" "$ERR" "You have as many open cases as your capacity allows"
cli admin counsellor-update "$KEY_q" --capacity 3 >/dev/null
# the update rematches: qb may already be Quinn's; else Quinn takes it
if ! _case_is qb "$QB" active Quinn; then
	cli_out out q take "$QB"
	assert_field "Quinn took qb" active "$out" status
fi
expect_case "qb is active with Quinn" qb "$QB" active Quinn
cli q profile --presence away >/dev/null
cli admin counsellor-update "$KEY_q" --capacity 4 >/dev/null
request qd --language qo
assert_eq "Quinn away: the case waits" waiting "$STATUS"
cli_out out q take "$CASE"
assert_field "away Quinn takes it from the queue" active "$out" status
expect_case "the client sees Quinn" qd "$CASE" active Quinn
request qe --language qz
before=$(table_counts)
clirun q take "$CASE"
assert_match "take of a case Quinn does not fit (qz): forbidden" "$ERR" '^offramp: forbidden: case\.take'
assert_eq "nothing changed" "$before" "$(table_counts)"
close_case qe "$CASE"

# ---------------------------------------------------------- reassign

step "reassign: the client moves from R1 to R2; R1 is told and loses it"
add_counsellor admin r1 R1 --languages rr
add_counsellor admin r2 R2 --languages rr
certify_pending R1 R2
request rc --language rr
assert_eq "R1 first" R1 "$COUNS"
RCASE=$CASE
watch_start r1
watch_start rc
clirun rc reassign "$RCASE"
out=$OUT
assert_field "reassign: the case is active" active "$out" status
assert_field "reassign: now with R2" R2 "$out" counsellor
assert_not_contains "the counsellor asked for is no changed key" "$ERR" "changed"
clirun rc cases
assert_not_contains "  nor later" "$ERR" "changed"
watch_expect "R1 is told (a case push without it)" r1 "\"type\":\"case\".*\"id\":$RCASE"
watch_expect "the client's other connection is told: R2" rc "\"type\":\"case\".*\"id\":$RCASE.*\"name\":\"R2\""
watch_stop r1
watch_stop rc
# (R1 is in its "former" list, with why it left: not a participant)
assert_no_match "R1 was not in the push it got" "$(grep "\"id\":$RCASE" "$T/watch-r1.out" | grep -o '"participants":\[[^]]*\]')" '"name":"R1"'
assert_match "  but among the former, reassigned" "$(grep "\"id\":$RCASE" "$T/watch-r1.out")" '"former":\[\{[^]]*"name":"R1"[^]]*"reason":"reassigned"'
assert_no_match "R1 is not told who took over" "$(grep "\"id\":$RCASE" "$T/watch-r1.out")" '"name":"R2"'
cli_out out r1 cases
assert_not_contains "R1 no longer lists the case" "$out" "$RCASE"
assert_match "R2 lists it" "$(cli r2 cases)" "^$RCASE active rr "

step "reassign again, from R2: R1, left before, never gets it back"
cli_out out rc reassign "$RCASE"
assert_field "the case waits: R1 there, but left" waiting "$out" status
assert_not_contains "not in R1's queue" "$(cli r1 queue)" "$RCASE"
clirun r1 take "$RCASE"
assert_match "R1 cannot take it back: forbidden" "$ERR" '^offramp: forbidden: case\.take'
close_case rc "$RCASE"

step "reassign with nobody else: the case waits; W1 never gets it back"
add_counsellor admin w1 W1 --languages rw
certify_pending W1
request wc --language rw
assert_eq "W1 has it" W1 "$COUNS"
WCASE=$CASE
cli_out out wc reassign "$WCASE"
assert_field "the case waits" waiting "$out" status
assert_field "no counsellor" "" "$out" counsellor
assert_not_contains "W1 no longer lists it" "$(cli w1 cases)" "$WCASE"
cli w1 profile --presence away >/dev/null
cli w1 profile --presence online >/dev/null	# a rematch trigger
assert_match "still waiting after W1 came online" "$(case_line wc "$WCASE")" "^$WCASE waiting "
assert_not_contains "not in W1's queue" "$(cli w1 queue)" "$WCASE"
clirun w1 take "$WCASE"
assert_match "W1 cannot take it back: forbidden" "$ERR" '^offramp: forbidden: case\.take'
add_counsellor admin w2 W2 --languages rw
certify_pending W2
expect_case "a new counsellor W2 gets it" wc "$WCASE" active W2
clirun wc cases
assert_not_contains "W2 is no changed key for the client who asked" "$ERR" "changed"

# ---------------------------------------------------------- disable

step "disable: D1's open cases go back to matching, clients told"
add_counsellor admin d1 D1 --languages dd
add_counsellor admin d2 D2 --languages dd
certify_pending D1 D2
cli d2 profile --presence away >/dev/null
request dc1 --language dd
DC1=$CASE
assert_eq "dc1 with D1" D1 "$COUNS"
request dc2 --language dd
DC2=$CASE
assert_eq "dc2 with D1" D1 "$COUNS"
cli d2 profile --presence online >/dev/null
cli admin counsellor-update "$KEY_d2" --capacity 1 >/dev/null
watch_start dc1
cli_out out admin disable "$KEY_d1"
assert_field "D1 disabled" yes "$out" disabled
assert_field "D1 has no open case" 0 "$out" open
watch_expect "dc1 is told its case moved" dc1 "\"type\":\"case\".*\"id\":$DC1"
watch_stop dc1
a=$(case_line dc1 "$DC1")
b=$(case_line dc2 "$DC2")
assert_no_match "dc1's case no longer names D1" "$a" 'D1'
assert_no_match "dc2's case no longer names D1" "$b" 'D1'
assert_eq "D2 (room for one) took one, the other waits" \
	"active waiting" "$(printf '%s\n%s\n' "$a" "$b" | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//')"
clirun d1 login
assert_match "D1 cannot log in: account_disabled" "$ERR" '^offramp: account_disabled'

step "a counsellor change the client did not ask for is shown, not accepted"
for who in dc1 dc2; do
	c=$DC1
	[ "$who" = dc2 ] && c=$DC2
	line=$(case_line "$who" "$c")
	case "$line" in
	*" active "*)
		clirun "$who" send "$c" "hello D2"
		assert_eq "$who: send refuses until verify" 1 "$RC"
		assert_contains "$who: warned of the new key" "$ERR" \
			"warning: the key of D2 in case $c changed"
		verify_shown "$who" "$c" >/dev/null
		clirun "$who" send "$c" "hello D2"
		assert_eq "$who: after verify, D2 (certified) is accepted" 0 "$RC"
		;;
	esac
done

step "tokens no profile names any more are reclaimed (the table holds 255)"
add_counsellor admin tk1 TK1 --languages tk
add_counsellor admin tk2 TK2 --languages tk
certify_pending TK1 TK2
for r in $(seq 1 9); do
	langs=$(seq -s, -f "l${r}x%g" 1 16)
	topics=$(seq -s, -f "t${r}x%g" 1 16)
	clirun tk1 profile --languages "$langs" --topics "$topics"
	assert_eq "round $r: 32 new tokens accepted" 0 "$RC"
done
clirun tk2 profile --languages tk,newlang
assert_eq "another counsellor can still add a language" 0 "$RC"
request tkc --language newlang
assert_eq "and is matched for it" TK2 "$COUNS"

stop_server
finish
