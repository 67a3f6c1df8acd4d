# test_durability.sh: an acknowledged message survives kill -9 of the
# server; a msg.send repeated with the same mid is stored once.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "client has a case" "$CASE" '^[0-9]+$'

step "five acknowledged messages, then kill -9 at once"
msgs=()
for i in 1 2 3 4 5; do
	m="durable $i $RANDOM$RANDOM"
	msgs+=("$m")
	cli_out out client send "$CASE" "$m"
	assert_match "message $i acknowledged" "$out" '^sent: '
done
kill9_server
pass "server killed with SIGKILL"

step "restart on the same data directory: the counsellor gets all five"
old_port=$PORT
start_server
echo "   (old port $old_port, new port $PORT)"
assert_eq "no bootstrap token once an admin exists" "" "$TOKEN"
cli_out out couns recv --count 5
expected=""
for m in "${msgs[@]}"; do
	expected+="$CASE"$'\t'"$CLIENT_NAME"$'\t'"$m"$'\n'
done
assert_eq "all acknowledged messages delivered after kill -9" "${expected%$'\n'}" "$out"
assert_eq "no copies left after the acks" 0 "$(sql "SELECT count(*) FROM deliveries")"

step "the case list carries the participants' keys"
out=$(printf '%s\n' '{"v":1,"type":"case.list","id":1}' |
	cli client raw --login --count 1 --idle 10)
assert_match "case.list.ok answered" "$out" '"type": *"case\.list\.ok"'
ckey=$(participant_key "$out" counsellor)
assert_eq "counsellor key in the case list is Sam's" "$KEY_couns" "$ckey"
assert_eq "client key in the case list is the client's" "$KEY_client" \
	"$(participant_key "$out" client)"

step "the same msg.send twice: stored once, the second answer says dup"
mid=$(b64_random 16)
ct=$(b64_random 48)
send="{\"v\":1,\"type\":\"msg.send\",\"id\":ID,\"case\":$CASE,\"mid\":\"$mid\",\"copies\":[{\"to\":\"$ckey\",\"ct\":\"$ct\"}]}"
before=$(sql "SELECT count(*) FROM deliveries")
out=$(printf '%s\n%s\n' "${send/ID/2}" "${send/ID/3}" |
	cli client raw --login --count 2 --idle 10)
first=$(grep -E '"re": *2[,}]' <<<"$out" || true)
second=$(grep -E '"re": *3[,}]' <<<"$out" || true)
assert_match "first send: msg.send.ok" "$first" '"type": *"msg\.send\.ok"'
assert_match "first send: dup false" "$first" '"dup": *false'
assert_contains "first send: echoes the mid" "$first" "$mid"
assert_match "second send: msg.send.ok" "$second" '"type": *"msg\.send\.ok"'
assert_match "second send: dup true" "$second" '"dup": *true'
after=$(sql "SELECT count(*) FROM deliveries")
assert_eq "one more stored copy in all" $((before + 1)) "$after"
mid_hex=$(printf '%s' "$mid" | base64 -d | od -An -tx1 -v | tr -d ' \n')
per_mid="SELECT count(*) FROM deliveries WHERE mid = X'$mid_hex'"
assert_eq "deliveries for that mid: 1 row" 1 "$(sql "$per_mid")"

step "the same mid again on a new connection: still dup, still one copy"
out=$(printf '%s\n' "${send/ID/4}" | cli client raw --login --count 1 --idle 10)
assert_match "third send: dup true" "$out" '"dup": *true'
assert_eq "still one stored copy" "$after" "$(sql "SELECT count(*) FROM deliveries")"
assert_eq "deliveries for that mid: still 1 row" 1 "$(sql "$per_mid")"

step "a retry after the case was closed is still answered as stored"
cli client close "$CASE" >/dev/null
out=$(printf '%s\n' "${send/ID/5}" | cli client raw --login --count 1 --idle 10)
assert_match "retry after close: dup true, not case_closed" "$out" '"dup": *true'

stop_server
finish
