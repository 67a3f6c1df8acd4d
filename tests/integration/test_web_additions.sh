# test_web_additions.sh: what the web client asked of the server
# (PROTOCOL.md): delivery receipts (msg.delivered) reach the sender and
# nobody else; a waiting client sees its queue_position, in queue order,
# and is told by queue pushes as it moves up. (Presence following the
# connection: test_presence.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server --rematch-period 1
setup_pool			# Sam: en, leaving; certified

# raw_as NAME LINES: NAME logs in with `offramp raw`, sends LINES (one
# frame each) and prints every frame received until each has its answer.
raw_as() {
	printf '%s\n' "$2" | cli "$1" raw --login --answered
}


# presence NAME: the stored presence of counsellor NAME (2 online,
# 1 away, 0 offline).
step "receipts: the sender hears of each copy its recipient acked"
keygen client
cli_out out client request --language en
field_to CASE "$out" case
assert_field "the client's case is active with Sam" active "$out" status
add_counsellor admin kim Kim --languages fr --topics leaving
certify_pending Kim
watch_start client
watch_start kim
cli_out out client send "$CASE" "hello Sam"
field_to MID "$out" sent
assert_match "the client's message was sent" "$MID" '^[A-Za-z0-9+/]{22}==$'
cli_out out couns recv
assert_contains "Sam read the message" "$out" "hello Sam"
watch_expect "the client got msg.delivered for its copy to Sam" client \
	"\"type\":\"msg.delivered\".*\"case\":$CASE"
line=$(grep '"msg.delivered"' "$T/watch-client.out" | head -n1 || true)
assert_eq "msg.delivered names the mid" "$MID" "$(json_str "$line" mid)"
assert_eq "msg.delivered names the recipient" "$KEY_couns" "$(json_str "$line" to)"
assert_eq "one push for one acked copy" 1 "$(grep -c '"msg.delivered"' "$T/watch-client.out")"
# a frame after the receipt: Kim's watcher has had every push by then
echo '{"v":1,"type":"ping","id":2}' >&"$WATCH_FD_kim"
wait_for "Kim's second ping" 20 grep -q '"re":2' "$T/watch-kim.out"
assert_not_contains "Kim, in no case with them, learns nothing" \
	"$(cat "$T/watch-kim.out")" "msg.delivered"
watch_stop kim

step "receipts: acking again (a seq already deleted) tells nothing more"
out=$(raw_as couns '{"v":1,"type":"msg.ack","id":1,"seqs":[1,2,3]}')
assert_contains "msg.ack of gone copies acks none" "$out" '"acked":0'
echo '{"v":1,"type":"ping","id":2}' >&"$WATCH_FD_client"
wait_for "the client's second ping" 20 grep -q '"re":2' "$T/watch-client.out"
assert_eq "still one msg.delivered" 1 "$(grep -c '"msg.delivered"' "$T/watch-client.out")"
watch_stop client

step "queue: three waiting clients see their place, urgency first"
keygen w1 w2 w3
out=$(raw_as w1 '{"v":1,"type":"case.request","id":1,"language":"de"}')
C1=$(printf '%s\n' "$out" | grep -o '"case.request.ok".*' | grep -o '"id":[0-9]*' | head -n1 | cut -d: -f2)
assert_match "w1 waits at place 1" "$out" '"case.request.ok".*"queue_position":1[,}]'
out=$(raw_as w2 '{"v":1,"type":"case.request","id":1,"language":"de"}')
assert_match "w2 waits at place 2" "$out" '"case.request.ok".*"queue_position":2[,}]'
out=$(raw_as w3 '{"v":1,"type":"case.request","id":1,"language":"de","urgency":"high"}')
C3=$(printf '%s\n' "$out" | grep -o '"case.request.ok".*' | grep -o '"id":[0-9]*' | head -n1 | cut -d: -f2)
assert_match "w3 (urgent) goes first: place 1" "$out" '"case.request.ok".*"queue_position":1[,}]'
out=$(raw_as w1 '{"v":1,"type":"case.list","id":1}')
assert_match "case.list: w1 is now second" "$out" '"case.list.ok".*"queue_position":2[,}]'
out=$(raw_as w2 '{"v":1,"type":"case.list","id":1}')
assert_match "case.list: w2 is third" "$out" '"case.list.ok".*"queue_position":3[,}]'
out=$(raw_as client '{"v":1,"type":"case.list","id":1}')
assert_not_contains "an active case has no queue_position" "$out" "queue_position"
out=$(raw_as couns '{"v":1,"type":"case.list","id":1}')
assert_not_contains "the counsellor's view has none" "$out" "queue_position"

step "queue: a client moves up when a case ahead leaves, and is told"
watch_start w1
watch_expect "w1 gets a queue push with its place (2)" w1 \
	"\"type\":\"queue\".*\"case\":$C1.*\"queue_position\":2[,}]|\"queue_position\":2,.*\"type\":\"queue\""
out=$(raw_as w3 "{\"v\":1,\"type\":\"case.close\",\"id\":1,\"case\":$C3}")
assert_contains "w3 closed its case" "$out" '"case.close.ok"'
watch_expect "w1 is told it is next (queue push, place 1)" w1 \
	"\"type\":\"queue\".*\"queue_position\":1[,}]|\"queue_position\":1,.*\"type\":\"queue\""
assert_not_contains "w1 never hears of another client's case" \
	"$(cat "$T/watch-w1.out")" "\"case\":$C3"
watch_stop w1

stop_server
finish
