# test_admin.sh: a programme admin's pool tools through the real server
# and CLI: invite, update (capacity), disable (a connection of the
# counsellor's closed once it is committed) and enable, pool figures
# (queue length, first-response median and p90; counts under 5 withheld), and the audit log: one
# entry per admin action, in order, which neither the protocol nor the
# database lets anyone change.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$(date +%s)
start_server
setup_pool			# Ada: programme-key, invite, certify Sam

step "the counsellor list"
cli_out out admin counsellors
assert_eq "one counsellor, Sam, as the list prints it" \
	"$KEY_couns Sam open=0 capacity=5 presence=online certified=yes disabled=no connections=1 new-cases=yes" "$out"

step "invite and redeem a second counsellor"
add_counsellor admin kim Kim --languages de
certify_pending Kim
cli_out out admin counsellors
assert_eq "two counsellors, by account age" "Sam Kim" "$(printf '%s\n' "$out" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')"

step "update: the admin sets Sam's capacity"
cli_out out admin counsellor-update "$KEY_couns" --capacity 2 --gender male
assert_field "the answer names Sam's key" "$KEY_couns" "$out" key
assert_field "capacity 2" 2 "$out" capacity
assert_field "gender male" male "$out" gender
assert_contains "the list shows capacity=2" "$(cli admin counsellors)" "$KEY_couns Sam open=0 capacity=2 "
clirun couns profile --capacity 9
assert_eq "a counsellor's own --capacity is a usage error" 2 "$RC"
assert_contains "it points to the admin's command" "$ERR" "counsellor-update KEY --capacity N"
clirun admin counsellor-update "$KEY_couns" --capacity 101
assert_eq "capacity over 100: usage error" 2 "$RC"

step "disable and enable"
watch_start kim			# Kim connected: the disable closes her connection
cli_out out admin disable "$KEY_kim"
assert_field "Kim disabled" yes "$out" disabled
if wait_for "Kim's connection to be closed" 20 _daemon_gone "$WATCH_PID_kim"; then
	pass "Kim's connection was closed"
fi
watch_stop kim
assert_contains "the list shows it" "$(cli admin counsellors)" "$KEY_kim Kim open=0 capacity=5 presence=online certified=yes disabled=yes"
clirun kim login
assert_match "Kim cannot log in" "$ERR" '^offramp: account_disabled: login'
cli_out out admin enable "$KEY_kim"
assert_field "Kim enabled" no "$out" disabled
clirun kim login
assert_eq "Kim logs in again" 0 "$RC"

step "stats: the queue"
cli_out out admin stats
assert_eq "nothing waits: fewer than 5 (PROTOCOL.md, Figures)" "queue: fewer than 5" "$(printf '%s\n' "$out" | head -n1)"
assert_eq "no first responses yet" "first-response: cases=fewer than 5 median=- p90=-" "$(printf '%s\n' "$out" | sed -n 2p)"
cli couns profile --presence away >/dev/null
keygen c1 c2 c3 c4 c5
for c in c1 c2 c3 c4 c5; do
	cli_out out "$c" request --language en
	printf -v "CASE_$c" '%s' "$(field "$out" case)"
	assert_field "$c waits (Sam is away)" waiting "$out" status
done
cli_out out admin stats
assert_eq "five wait" "queue: 5" "$(printf '%s\n' "$out" | head -n1)"
assert_match "Sam's line: away, capacity 2" "$out" '^counsellor Sam open=0 capacity=2 presence=away$'
assert_match "Kim's line" "$out" '^counsellor Kim open=0 capacity=5 presence=online$'
cli admin counsellor-update "$KEY_couns" --capacity 5 >/dev/null
cli couns profile --presence online >/dev/null
cli_out out admin stats
assert_eq "Sam came online and took all five" "queue: fewer than 5" "$(printf '%s\n' "$out" | head -n1)"
assert_match "Sam: open=5" "$out" '^counsellor Sam open=5 capacity=5 presence=online$'

step "stats: first response after Sam replied to each case"
for c in c1 c2 c3 c4 c5; do
	v="CASE_$c"
	cli "$c" send "${!v}" "hello, is anyone there?" >/dev/null
done
cli_out out couns recv --count 5
assert_eq "Sam got five messages" 5 "$(printf '%s\n' "$out" | grep -c 'hello, is anyone there?')"
cli_out out admin stats
fr=$(printf '%s\n' "$out" | sed -n 2p)
assert_eq "the clients' messages are not responses" "first-response: cases=fewer than 5 median=- p90=-" "$fr"
for c in c1 c2 c3 c4 c5; do
	v="CASE_$c"
	cli couns send "${!v}" "I am here." >/dev/null
done
ELAPSED=$(($(date +%s) - T0 + 1))
cli_out out admin stats
fr=$(printf '%s\n' "$out" | sed -n 2p)
assert_match "five first responses with figures" "$fr" '^first-response: cases=5 median=[0-9]+s p90=[0-9]+s$'
med=$(printf '%s\n' "$fr" | sed -n 's/.* median=\([0-9]*\)s .*/\1/p')
p90=$(printf '%s\n' "$fr" | sed -n 's/.* p90=\([0-9]*\)s$/\1/p')
if [ -n "$med" ] && [ -n "$p90" ] && [ "$med" -ge 0 ] && [ "$med" -le "$p90" ] && \
    [ "$p90" -le "$ELAPSED" ]; then
	pass "0 <= median ($med) <= p90 ($p90) <= the test's age ($ELAPSED s)"
else
	fail "implausible first-response figures: median=$med p90=$p90 (test age $ELAPSED s)"
fi
cli couns send "$CASE_c1" "a second reply" >/dev/null
cli_out out admin stats
assert_match "a second reply is not another first response" "$out" '^first-response: cases=5 '

step "programme-set"
out=$(cli admin programme-set --name "Exit North" --description "peer-led exit work" \
	--languages en,de --formats chat,in-person)
assert_field "the programme's name" "Exit North" "$out" name
assert_field "its formats" "chat,in-person" "$out" formats
cli_out out c1 programmes
assert_match "clients see it" "$out" '^1 Exit North en,de chat,in-person$'

step "the audit log: every admin action, newest first"
cli_out out admin audit
actions=$(printf '%s\n' "$out" | awk '{print $4 ":" $5}' | tac | tr '\n' ' ' | sed 's/ $//')
assert_eq "the actions in order, with their targets" \
	"programme.key.set:- invite.create:- counsellor.certify:Sam invite.create:- counsellor.certify:Kim counsellor.update:Sam counsellor.disable:Kim counsellor.enable:Kim counsellor.update:Sam programme.set:-" \
	"$actions"
assert_match "entries name the actor Ada, with ISO times" "$out" '^[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z Ada programme\.set - -$'
assert_match "an invite's detail is its role" "$out" ' Ada invite\.create - counsellor$'
ids=$(printf '%s\n' "$out" | awk '{print $1}')
if [ "$(printf '%s\n' "$ids" | sort -rn)" = "$ids" ] && [ "$(printf '%s\n' "$ids" | sort -u | wc -l)" -eq 10 ]; then
	pass "ids are distinct and newest first"
else
	fail "ids not strictly descending: $(echo $ids)"
fi
cli_out out2 admin audit --limit 3
assert_eq "--limit 3: the three newest" "$(printf '%s\n' "$out" | head -n3)" "$out2"
third=$(printf '%s\n' "$out" | sed -n 3p | awk '{print $1}')
cli_out out3 admin audit --before "$third" --limit 100
assert_eq "--before: the older ones" "$(printf '%s\n' "$out" | sed -n '4,$p')" "$out3"
clirun admin audit --limit 101
assert_eq "--limit over 100: usage error" 2 "$RC"

step "the audit log cannot be changed through the protocol"
before=$(table_counts)
clirun admin raw --login --count 4 <<<'{"v":1,"type":"audit.delete","id":2,"before":1000}
{"v":1,"type":"audit.update","id":3,"entry":1,"detail":"x"}
{"v":1,"type":"audit.clear","id":4}
{"v":1,"type":"audit.set","id":5,"entry":1}'
for i in 2 3 4 5; do
	assert_match "a frame to change the audit log ($i): unknown_type" "$OUT" "\"re\":$i,.*\"code\":\"unknown_type\"|\"code\":\"unknown_type\".*\"re\":$i[,}]"
done
assert_eq "no table changed" "$before" "$(table_counts)"

stop_server

step "nor in the database: UPDATE and DELETE on audit fail (writable)"
audit_rows=$(sql "SELECT * FROM audit ORDER BY id")
rc=0
err=$(sql_rw "UPDATE audit SET detail = 'tampered'" 2>&1) || rc=$?
assert_ne "UPDATE on audit fails" 0 "$rc"
assert_contains "the database says why" "$err" "append-only"
rc=0
err=$(sql_rw "DELETE FROM audit" 2>&1) || rc=$?
assert_ne "DELETE on audit fails" 0 "$rc"
assert_contains "the database says why" "$err" "append-only"
rc=0
sql_rw "CREATE TABLE probe_w(x INTEGER); DROP TABLE probe_w;" || rc=$?
assert_eq "the connection was writable" 0 "$rc"
assert_eq "the audit rows are as they were" "$audit_rows" "$(sql "SELECT * FROM audit ORDER BY id")"
assert_not_contains "no entry was tampered with" "$audit_rows" "tampered"

start_server
step "counsellors by name or key prefix; an ambiguous name lists the candidates"
cli_out out admin counsellor-update Kim --capacity 5
assert_field "by display name" "$KEY_kim" "$out" key
cli_out out admin disable "${KEY_kim:0:6}"
assert_field "by a key prefix" yes "$out" disabled
out=$(cli admin enable "$(cli kim whoami | sed -n 's/^fingerprint: //p')")
assert_field "by fingerprint" no "$out" disabled
add_counsellor admin kim2 Kim --languages fr
clirun admin counsellor-update Kim --capacity 4
assert_eq "two named Kim: a usage error" 2 "$RC"
assert_contains "  that says so" "$ERR" "Kim names 2 counsellors; name one by its fingerprint or key:"
assert_contains "  and lists the first" "$ERR" "  Kim fingerprint="
assert_contains "  and the second" "$ERR" "key=$KEY_kim2"
clirun admin disable Nobody
assert_eq "a name of nobody: not found" 1 "$RC"

step "plain words: invite expiry, empty lists, an uncertified counsellor, --version"
cli_out out admin invite --role counsellor --ttl 3600
assert_match "invite prints its expiry first" "$(printf '%s\n' "$out" | head -n1)" \
	'^expires: [0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}'
assert_eq "  and the token last" 2 "$(printf '%s\n' "$out" | wc -l)"
keygen lonely
clirun lonely cases
assert_eq "no cases: nothing on stdout" "" "$OUT"
assert_eq "  and it says so" "(no cases yet)" "$ERR"
clirun kim2 login
assert_contains "an uncertified counsellor is told why no case comes" "$ERR" \
	"Your programme has not certified your key yet, so no case comes to you"
clirun couns login
assert_not_contains "  a certified one is not" "$ERR" "not certified"
assert_match "--version" "$(cli admin --version)" '^offramp [0-9]+\.[0-9]+\.[0-9]+$'


step "--json: JSON lines for scripts, errors too"
cli_out out admin --json counsellors
assert_eq "counsellors --json: one line, the server's answer" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_match "  counsellor.list.ok" "$out" '^\{"v":1,"type":"counsellor\.list\.ok",.*"counsellors":\[\{'
cli_out out kim2 --json whoami
assert_match "whoami --json: its own result" "$out" '^\{"key":"[A-Za-z0-9+/]{43}=","fingerprint":"[0-9a-f ]{24}"\}$'
clirun admin --json take 1
assert_eq "a refused request: exit 1" 1 "$RC"
assert_match "  the error as a JSON line on stdout" "$OUT" \
	'^\{"error":"forbidden","type":"case\.take","message":"Only a counsellor'
assert_contains "  and in words on stderr" "$ERR" "offramp: forbidden: case.take"
clirun admin --json disable Nobody
assert_match "a local error as JSON" "$OUT" '^\{"error":"not_found","message":"Nobody names no counsellor here'
clirun lonely cases --json
assert_eq "--json after the command" '' "$(grep -v '^{"v":1,"type":"case\.list\.ok"' <<<"$OUT")"
clirun lonely --json chat 1
assert_eq "chat has no --json: usage" 2 "$RC"

step "figures of a pool too big for one frame: as many counsellors as fit, and more"
# 700 counsellors of Ada's programme, written into the store (making
# them one by one would take minutes): names of 64 bytes, some 160 kB of
# entries, over the 131072 bytes of a frame
P=$(sql "SELECT programme_id FROM accounts WHERE name = 'Ada'")
key='randomblob(32)'
! on_pg || key="decode(md5(n::text) || md5((n + 1000)::text), 'hex')"
sql_rw "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 700)
INSERT INTO accounts(id, key, role, programme_id, name, disabled, created)
SELECT 900000 + n, $key, 2, $P,
substr('Filler ' || n || '................................................................', 1, 64), 0, 0 FROM g" >/dev/null
sql_rw "INSERT INTO counsellor_profiles(account_id) SELECT id FROM accounts WHERE id > 900000" >/dev/null
clirun admin raw --login --count 1 <<<'{"v":1,"type":"pool.stats","id":3}'
assert_contains "pool.stats answers" "$OUT" '"pool.stats.ok"'
assert_match "  and says more" "$OUT" '"more": *true'
clirun admin stats
cut_listing "the CLI's stats" "counsellor " 300 702
stop_server
finish
