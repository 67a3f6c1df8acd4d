# test_matching.sh: the matching rule of PROTOCOL.md ("case.request"),
# through the real server and CLI: its constraints and preferences. Each
# hard constraint filters (and the case is matched as soon as the
# constraint is met); each preference picks between two counsellors that
# differ only in it, and is reported met or unmet, never blocking. A
# client's answers (its case, case list, programmes, prekeys) carry none
# of its counsellor's gender, age band, background or region, only which
# of its own preferences were met. Each part uses its own language, so the
# parts do not meet. The order (ties, the queue, taking, reassigning,
# disabling) is test_matching_order.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/matching.sh"

start_server
setup_pool				# Ada, Sam (en, leaving)
# every identity of the test, made at once (keygen: one process)
keygen admin2 lou client0 kit hc hc2 una \
	pa_pg pb_pg c_pg pa_pa pb_pa c_pa pa_pb pb_pb c_pb pa_pf pb_pf c_pf \
	pa_pr pb_pr c_pr pz c_zq

step "a second programme with a counsellor, Lou (language hp)"
new_programme "Second Path"
cli_out out admin2 redeem "$PROG_TOKEN" --name Bea
assert_field "Bea is programme 2's admin" admin "$out" role
programme_key admin2
add_counsellor admin2 lou Lou --languages hp --topics leaving
certify_pending Lou --by admin2
P2=$(cli client0 programmes | sed -n 's/^\([0-9]*\) Second Path .*/\1/p')
assert_match "programmes lists Second Path with an id" "$P2" '^[0-9]+$'

# ------------------------------------------------------ hard constraints

step "hard constraints: Kit (language hc, topic family) and one client"
add_counsellor admin kit Kit --languages hc --topics family
certify_pending Kit

step "language: a case in hc2 waits; Kit learns hc2 and gets it at once"
request hc --language hc2
assert_eq "hc2 waits" waiting "$STATUS"
assert_eq "no counsellor line while waiting" "" "$COUNS"
cli_out out admin counsellor-update "$KEY_kit" --languages hc,hc2
assert_field "Ada gave Kit hc2" "hc,hc2" "$out" languages
expect_case "the hc2 case went to Kit" hc "$CASE" active Kit
close_case hc "$CASE"

step "topic: a case on 'leaving' waits for Kit (family only)"
request hc --language hc --topic leaving
assert_eq "the leaving case waits" waiting "$STATUS"
cli_out out kit queue
assert_no_match "Kit's queue lacks a case of a topic it does not take" "$out" "^$CASE "
cli_out out kit profile --topics family,leaving
assert_field "Kit takes leaving now" "family,leaving" "$out" topics
expect_case "the leaving case went to Kit" hc "$CASE" active Kit
close_case hc "$CASE"

for pres in away offline; do
	step "presence $pres: Kit is not matched, and is when online again"
	cli_out out kit profile --presence "$pres"
	assert_field "Kit is $pres" "$pres" "$out" presence
	request hc --language hc --topic family
	assert_eq "the case waits while Kit is $pres" waiting "$STATUS"
	cli_out out kit cases
	assert_not_contains "Kit ($pres) lacks the case" "$out" "$CASE"
	cli kit profile --presence online >/dev/null
	expect_case "Kit back online got the case" hc "$CASE" active Kit
	close_case hc "$CASE"
done

step "working hours: outside them Kit is not matched"
h=$(utc_hour)
d=$(utc_weekday)
if [ "$h" -ge 2 ]; then hours="$d:0-1"; else hours="$d:12-13"; fi
cli_out out kit profile --hours "$hours"
assert_field "Kit works $hours (UTC, now day $d hour $h)" "$hours" "$out" hours
request hc --language hc
assert_eq "the case waits outside Kit's hours" waiting "$STATUS"
cli_out out kit profile --hours ""
assert_field "Kit's hours cleared: any time" "-" "$out" hours
expect_case "Kit, at work any time now, got the case" hc "$CASE" active Kit
close_case hc "$CASE"

step "disabled: a disabled Kit is not matched and cannot log in"
cli_out out admin disable "$KEY_kit"
assert_field "Kit is disabled" yes "$out" disabled
request hc --language hc
assert_eq "the case waits while Kit is disabled" waiting "$STATUS"
clirun kit login
assert_eq "disabled Kit's login exits 1" 1 "$RC"
assert_match "disabled Kit's login: account_disabled" "$ERR" '^offramp: account_disabled: login'
cli_out out admin enable "$KEY_kit"
assert_field "Kit is enabled" no "$out" disabled
cli kit login >/dev/null	# Kit's daemon connects now (else at its next retry)
expect_case "enabled Kit got the case" hc "$CASE" active Kit
close_case hc "$CASE"

step "capacity: full Kit is not matched; a closed case gives room"
cli_out out admin counsellor-update "$KEY_kit" --capacity 1
assert_field "Kit's capacity is 1" 1 "$out" capacity
request hc --language hc
assert_eq "first case goes to Kit" Kit "$COUNS"
C1=$CASE
request hc2 --language hc
assert_eq "second case waits: Kit is full" waiting "$STATUS"
C2=$CASE
cli_out out admin counsellors
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
cli_out out lou cases
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
cli_out seen c_zq --json request --language zq --gender gz-hidden --region elsewhere
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
cli_out out pa_pr profile --formats in-person
request c_pr --language pr --format in-person --region de-be
assert_eq "format beats region: A-pr" "A-pr" "$COUNS"
assert_eq "format met" "format" "$MET"
assert_eq "region unmet" "region" "$UNMET"
close_case c_pr "$CASE"

stop_server
finish
