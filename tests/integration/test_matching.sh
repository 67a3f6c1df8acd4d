# test_matching.sh: the matching rule of PROTOCOL.md ("case.request"),
# through the real server and CLI. Each hard constraint filters (and the
# case is matched as soon as the constraint is met); each preference picks
# between two counsellors that differ only in it, and is reported met or
# unmet, never blocking; ties go to the lower caseload ratio, then to the
# least recently assigned; the queue is served by urgency, then by time;
# counsellors take waiting cases themselves; reassign and disable move
# cases. A client's answers (its case, case list, programmes, prekeys)
# carry none of its counsellor's gender, age band, background or region,
# only which of its own preferences were met. Each part uses its own
# language, so the parts do not meet.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool				# Ada, Sam (en, leaving)

step "a second programme with a counsellor, Lou (language hp)"
new_programme "Second Path"
keygen admin2
out=$(cli admin2 redeem "$PROG_TOKEN" --name Bea)
assert_eq "Bea is programme 2's admin" admin "$(field "$out" role)"
programme_key admin2
add_counsellor admin2 lou Lou --languages hp --topics leaving
certify_pending Lou --by admin2
keygen client0
P2=$(cli client0 programmes | sed -n 's/^\([0-9]*\) Second Path .*/\1/p')
assert_match "programmes lists Second Path with an id" "$P2" '^[0-9]+$'

# ---------------------------------------------------------- helpers

# case_line NAME CASE: NAME's `cases` line for CASE.
case_line() {
	cli "$1" cases | grep "^$2 " || true
}
_case_is() {	# NAME CASE STATUS [WHO]
	local l
	l=$(case_line "$1" "$2")
	[[ "$l" == "$2 $3 "* ]] || return 1
	[ -z "${4:-}" ] || [[ "$l" == *"$4"* ]]
}
# expect_case DESC NAME CASE STATUS [COUNSELLOR]: waits until NAME's case
# CASE has STATUS (and names COUNSELLOR).
expect_case() {
	if wait_for "$1" 20 _case_is "$2" "$3" "$4" "${5:-}"; then
		pass "$1"
	fi
}
# request NAME ARGS...: NAME opens a case; sets CASE, STATUS, COUNS, MET,
# UNMET from what `request` printed.
request() {
	local who=$1 out
	shift
	out=$(cli "$who" request "$@")
	CASE=$(field "$out" case)
	STATUS=$(field "$out" status)
	COUNS=$(field "$out" counsellor)
	MET=$(field "$out" met)
	UNMET=$(field "$out" unmet)
}
# close_case NAME CASE
close_case() {
	local out
	out=$(cli "$1" close "$2")
	assert_eq "case $2 closed" closed "$(field "$out" status)"
}
# next_second: waits until the clock is on a later second than now.
next_second() {
	local s
	s=$(date +%s)
	wait_for "the next second" 5 _later_than "$s"
}
_later_than() {
	[ "$(date +%s)" -gt "$1" ]
}

# ------------------------------------------------------ hard constraints

step "hard constraints: Kit (language hc, topic family) and one client"
add_counsellor admin kit Kit --languages hc --topics family
certify_pending Kit
keygen hc

step "language: a case in hc2 waits; Kit learns hc2 and gets it at once"
request hc --language hc2
assert_eq "hc2 waits" waiting "$STATUS"
assert_eq "no counsellor line while waiting" "" "$COUNS"
out=$(cli admin counsellor-update "$KEY_kit" --languages hc,hc2)
assert_eq "Ada gave Kit hc2" "hc,hc2" "$(field "$out" languages)"
expect_case "the hc2 case went to Kit" hc "$CASE" active Kit
close_case hc "$CASE"

step "topic: a case on 'leaving' waits for Kit (family only)"
request hc --language hc --topic leaving
assert_eq "the leaving case waits" waiting "$STATUS"
out=$(cli kit queue)
assert_no_match "Kit's queue lacks a case of a topic it does not take" "$out" "^$CASE "
out=$(cli kit profile --topics family,leaving)
assert_eq "Kit takes leaving now" "family,leaving" "$(field "$out" topics)"
expect_case "the leaving case went to Kit" hc "$CASE" active Kit
close_case hc "$CASE"

for pres in away offline; do
	step "presence $pres: Kit is not matched, and is when online again"
	out=$(cli kit profile --presence "$pres")
	assert_eq "Kit is $pres" "$pres" "$(field "$out" presence)"
	request hc --language hc --topic family
	assert_eq "the case waits while Kit is $pres" waiting "$STATUS"
	out=$(cli kit cases)
	assert_not_contains "Kit ($pres) lacks the case" "$out" "$CASE"
	cli kit profile --presence online >/dev/null
	expect_case "Kit back online got the case" hc "$CASE" active Kit
	close_case hc "$CASE"
done

step "working hours: outside them Kit is not matched"
h=$(utc_hour)
d=$(utc_weekday)
if [ "$h" -ge 2 ]; then hours="$d:0-1"; else hours="$d:12-13"; fi
out=$(cli kit profile --hours "$hours")
assert_eq "Kit works $hours (UTC, now day $d hour $h)" "$hours" "$(field "$out" hours)"
request hc --language hc
assert_eq "the case waits outside Kit's hours" waiting "$STATUS"
out=$(cli kit profile --hours "")
assert_eq "Kit's hours cleared: any time" "-" "$(field "$out" hours)"
expect_case "Kit, at work any time now, got the case" hc "$CASE" active Kit
close_case hc "$CASE"

step "disabled: a disabled Kit is not matched and cannot log in"
out=$(cli admin disable "$KEY_kit")
assert_eq "Kit is disabled" yes "$(field "$out" disabled)"
request hc --language hc
assert_eq "the case waits while Kit is disabled" waiting "$STATUS"
clirun kit login
assert_eq "disabled Kit's login exits 1" 1 "$RC"
assert_match "disabled Kit's login: account_disabled" "$ERR" '^offramp: account_disabled: login'
out=$(cli admin enable "$KEY_kit")
assert_eq "Kit is enabled" no "$(field "$out" disabled)"
cli kit login >/dev/null	# Kit's daemon connects now (else at its next retry)
expect_case "enabled Kit got the case" hc "$CASE" active Kit
close_case hc "$CASE"

step "capacity: full Kit is not matched; a closed case gives room"
out=$(cli admin counsellor-update "$KEY_kit" --capacity 1)
assert_eq "Kit's capacity is 1" 1 "$(field "$out" capacity)"
request hc --language hc
assert_eq "first case goes to Kit" Kit "$COUNS"
C1=$CASE
keygen hc2
request hc2 --language hc
assert_eq "second case waits: Kit is full" waiting "$STATUS"
C2=$CASE
out=$(cli admin counsellors)
assert_contains "Kit: open=1 capacity=1" "$out" "$KEY_kit Kit open=1 capacity=1 presence=online certified=yes disabled=no"
close_case hc "$C1"
expect_case "with room again, Kit got the waiting case" hc2 "$C2" active Kit
close_case hc2 "$C2"
cli admin counsellor-update "$KEY_kit" --capacity 5 >/dev/null

step "uncertified: Una (language hu) is matched only once certified"
add_counsellor admin una Una --languages hu
request hc --language hu
assert_eq "the hu case waits for uncertified Una" waiting "$STATUS"
certify_pending Una
expect_case "certified Una got the case" hc "$CASE" active Una
close_case hc "$CASE"

step "programme: a case for programme 1 never goes to Lou (programme 2)"
request hc --language hp --programme 1
assert_eq "hp for programme 1 waits" waiting "$STATUS"
out=$(cli lou cases)
assert_not_contains "Lou lacks it" "$out" "$CASE"
close_case hc "$CASE"
request hc --language hp --programme "$P2"
assert_eq "hp for programme 2 goes to Lou" Lou "$COUNS"
close_case hc "$CASE"
request hc --language hp
assert_eq "hp for any programme goes to Lou" Lou "$COUNS"
close_case hc "$CASE"

# ------------------------------------------------------------ preferences

# pref_pair LANG OPT VALUE_A VALUE_B PREF: counsellors A then B (B is the
# newer account, so a tie would go to A), equal but for OPT; a client
# asking PREF=VALUE_B gets B with PREF met.
pref_pair() {
	local lang=$1 opt=$2 va=$3 vb=$4 pref=$5 a="pa_$1" b="pb_$1"
	step "preference $pref: $va vs $vb"
	add_counsellor admin "$a" "A-$lang" --languages "$lang" "$opt" "$va"
	add_counsellor admin "$b" "B-$lang" --languages "$lang" "$opt" "$vb"
	certify_pending "A-$lang" "B-$lang"
	keygen "c_$lang"
	request "c_$lang" --language "$lang" "--$pref" "$vb"
	assert_eq "$pref=$vb: B-$lang (who has it) is chosen" "B-$lang" "$COUNS"
	assert_eq "$pref is met" "$pref" "$MET"
	assert_eq "nothing unmet" "-" "$UNMET"
	close_case "c_$lang" "$CASE"
	request "c_$lang" --language "$lang" "--$pref" "$va"
	assert_eq "$pref=$va: A-$lang is chosen" "A-$lang" "$COUNS"
	assert_eq "$pref is met again" "$pref" "$MET"
	close_case "c_$lang" "$CASE"
}
pref_pair pg --gender male female gender
pref_pair pa --age-band 30-44 60-plus age-band
pref_pair pb --background professional peer background
pref_pair pf --formats chat in-person format
pref_pair pr --region de-by de-be region

step "preferences never block: an unmet one still gets a counsellor"
request c_pg --language pg --gender diverse --age-band 18-29
assert_eq "a case with unmeetable preferences is active" active "$STATUS"
assert_match "it has a counsellor" "$COUNS" '^[AB]-pg$'
assert_eq "nothing met" "-" "$MET"
assert_eq "both unmet" "gender,age-band" "$UNMET"
close_case c_pg "$CASE"
request c_pf --language pf --format phone-video --region x
assert_eq "unmet format and region: still active" active "$STATUS"
assert_eq "format and region unmet" "format,region" "$UNMET"
close_case c_pf "$CASE"

step "a client never receives its counsellor's gender, age band, background or region"
inv=$(cli admin invite --role counsellor | tail -n1)
keygen pz
clirun pz redeem "$inv" --name Zed --languages zq --gender gz-hidden \
	--age-band 45-59 --background professional --region rz-hidden
assert_eq "Zed redeems with a full profile" 0 "$RC"
assert_contains "  the CLI says the name must be a pseudonym" "$ERR" \
	"use a pseudonym,"
counsellor_up pz
certify_pending Zed
out=$(cli admin --json counsellors | grep '"name":"Zed"')
for v in '"gender":"gz-hidden"' '"age_band":"45-59"' '"background":"professional"' '"region":"rz-hidden"'; do
	assert_contains "  the admin sees Zed's $v" "$out" "$v"
done
keygen c_zq
seen=$(cli c_zq --json request --language zq --gender gz-hidden --region elsewhere)
assert_contains "the client's case is with Zed" "$seen" '"name":"Zed"'
assert_contains "  its preferences: gender met, region unmet" "$seen" \
	'"preferences":{"asked":["gender","region"],"met":["gender"],"unmet":["region"]}'
seen+=$(cli c_zq --json cases)
seen+=$(cli c_zq raw --login --idle 1 <<EOF2
{"v":1,"type":"case.list","id":2}
{"v":1,"type":"programme.list","id":3}
{"v":1,"type":"prekeys.get","id":4,"key":"$KEY_pz"}
EOF2
)
assert_contains "  (the raw view has the answers)" "$seen" '"type":"prekeys.get.ok"'
assert_no_match "no answer to the client names an age band" "$seen" '45-59|age_band"?:"'
assert_no_match "  nor a background" "$seen" 'professional|"background":"'
assert_no_match "  nor Zed's region" "$seen" 'rz-hidden|"region":"'
assert_no_match "  nor a gender value (the one it asked for included)" "$seen" 'gz-hidden|"gender":"'
close_case c_zq "$(sed -n 's/.*"case":{"id":\([0-9]*\).*/\1/p' <<<"$seen" | head -n1)"

step "a heavier preference wins over a lighter one (format 16 > region 1)"
out=$(cli pa_pr profile --formats in-person)
request c_pr --language pr --format in-person --region de-be
assert_eq "format beats region: A-pr" "A-pr" "$COUNS"
assert_eq "format met" "format" "$MET"
assert_eq "region unmet" "region" "$UNMET"
close_case c_pr "$CASE"

# ------------------------------------------------------------------ ties

step "ties: the lower caseload ratio first"
add_counsellor admin t1 T1 --languages tq
add_counsellor admin t2 T2 --languages tq
certify_pending T1 T2
cli admin counsellor-update "$KEY_t1" --capacity 2 >/dev/null
cli admin counsellor-update "$KEY_t2" --capacity 4 >/dev/null
for c in tc1 tc2 tc3; do keygen "$c"; done
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
keygen lc
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
for c in qa qb qc; do keygen "$c"; done
request qa --language qo
QA=$CASE
assert_eq "qa (normal) waits" waiting "$STATUS"
request qb --language qo
QB=$CASE
request qc --language qo --urgency high
QC=$CASE
assert_eq "qc (high) waits too" waiting "$STATUS"
out=$(cli q queue)
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
out=$(cli q queue)
assert_match "qb is in Quinn's queue" "$out" "^$QB qo - normal waiting="
clirun q take "$QB"
assert_match "Quinn is full: take gives limit" "$ERR" '^offramp: limit: case\.take'
assert_contains "  in plain words" "$ERR" "You have as many open cases as your capacity allows"
cli admin counsellor-update "$KEY_q" --capacity 3 >/dev/null
# the update rematches: qb may already be Quinn's; else Quinn takes it
if ! _case_is qb "$QB" active Quinn; then
	out=$(cli q take "$QB")
	assert_eq "Quinn took qb" active "$(field "$out" status)"
fi
expect_case "qb is active with Quinn" qb "$QB" active Quinn
cli q profile --presence away >/dev/null
cli admin counsellor-update "$KEY_q" --capacity 4 >/dev/null
keygen qd
request qd --language qo
assert_eq "Quinn away: the case waits" waiting "$STATUS"
out=$(cli q take "$CASE")
assert_eq "away Quinn takes it from the queue" active "$(field "$out" status)"
expect_case "the client sees Quinn" qd "$CASE" active Quinn
keygen qe
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
keygen rc
request rc --language rr
assert_eq "R1 first" R1 "$COUNS"
RCASE=$CASE
watch_start r1
watch_start rc
clirun rc reassign "$RCASE"
out=$OUT
assert_eq "reassign: the case is active" active "$(field "$out" status)"
assert_eq "reassign: now with R2" R2 "$(field "$out" counsellor)"
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
out=$(cli r1 cases)
assert_not_contains "R1 no longer lists the case" "$out" "$RCASE"
assert_match "R2 lists it" "$(cli r2 cases)" "^$RCASE active rr "

step "reassign with nobody else: the case waits; W1 never gets it back"
add_counsellor admin w1 W1 --languages rw
certify_pending W1
keygen wc
request wc --language rw
assert_eq "W1 has it" W1 "$COUNS"
WCASE=$CASE
out=$(cli wc reassign "$WCASE")
assert_eq "the case waits" waiting "$(field "$out" status)"
assert_eq "no counsellor" "" "$(field "$out" counsellor)"
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
keygen dc1
keygen dc2
request dc1 --language dd
DC1=$CASE
assert_eq "dc1 with D1" D1 "$COUNS"
request dc2 --language dd
DC2=$CASE
assert_eq "dc2 with D1" D1 "$COUNS"
cli d2 profile --presence online >/dev/null
cli admin counsellor-update "$KEY_d2" --capacity 1 >/dev/null
watch_start dc1
out=$(cli admin disable "$KEY_d1")
assert_eq "D1 disabled" yes "$(field "$out" disabled)"
assert_eq "D1 has no open case" 0 "$(field "$out" open)"
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
keygen tkc
request tkc --language newlang
assert_eq "and is matched for it" TK2 "$COUNS"

stop_server
finish
