# test_backpressure.sh: a sender with a window of unanswered sends and a
# connected recipient that reads but does not ack. Past the pacing bound
# (32 copies waiting for the recipient, PROTOCOL.md "Limits") the
# sender's answers are held, so the store holds no more than the bound
# and the window; the recipient's acks release them, the deadline does
# when it does not ack, and so does its going away. Every send has one
# answer, and nothing stored is lost.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BOUND=32		# PACE_COPIES (server/relay.c)
W=4			# the sender's window

start_server --metrics 127.0.0.1:0
MPORT=$(sed -n 's/^offramp-server: metrics on 127\.0\.0\.1 port \([0-9][0-9]*\) .*/\1/p' \
	"$SERVER_OUT" | head -n1)
assert_match "the server says where the metrics are" "$MPORT" '^[1-9][0-9]*$'
setup_pool
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the case is active" active "$out" status
CLIENT_ID=$(account_id client)

# metric NAME: its value, read from GET /metrics.
metric() {
	local fd line len="" body="" k v LC_ALL=C
	exec {fd}<>"/dev/tcp/127.0.0.1/$MPORT"
	printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$fd"
	while IFS= read -r -t 10 line <&"$fd" && [ "$line" != $'\r' ]; do
		case ${line,,} in
		content-length:*) len=${line#*:} len=${len//[ $'\r']/} ;;
		esac
	done
	[ -z "$len" ] || IFS= read -r -N "$len" -t 10 body <&"$fd" || true
	exec {fd}>&-
	while read -r k v _; do
		[ "$k" != "$1" ] || { printf '%s\n' "$v"; return 0; }
	done <<<"$body"
}

# The recipient: the client's raw connection, which prints what it gets
# and acks only what the test tells it to.
mkfifo "$T/rcpt.in" "$T/send.in"
exec 8<>"$T/rcpt.in"
cli client raw --login --idle 1 <"$T/rcpt.in" >"$T/rcpt.out" 8>&- &
RCPT_PID=$!
echo '{"v":1,"type":"ping","id":1}' >&8
wait_for "the recipient's connection" 20 grep -q '"type":"ping.ok"' "$T/rcpt.out"
# The sender: a second connection of the counsellor (its daemon stays).
exec 9<>"$T/send.in"
cli couns raw --login --idle 1 <"$T/send.in" >"$T/send.out" 8>&- 9>&- &
SEND_PID=$!
echo '{"v":1,"type":"ping","id":1000}' >&9
wait_for "the sender's connection" 20 grep -q '"type":"ping.ok"' "$T/send.out"

SENT=0
# count FILE STRING: COUNT is how many times STRING stands in FILE (a
# frame a line: as grep -c counts), without a process: room is polled
# before every send.
count() {
	local c="" rest
	[ ! -f "$1" ] || c=$(<"$1")
	rest=${c//"$2"/}
	COUNT=$(((${#c} - ${#rest}) / ${#2}))
}
answers() { count "$T/send.out" '"type":"msg.send.ok"'; echo "$COUNT"; }
pushes() { count "$T/rcpt.out" '"type":"msg"'; echo "$COUNT"; }
room() {
	count "$T/send.out" '"type":"msg.send.ok"'
	[ $((SENT - COUNT)) -lt "$W" ]
}
copies_waiting() {
	sql "SELECT count(*) FROM deliveries WHERE recipient_id = $CLIENT_ID"
}
# send_upto N: sends msg.send until N are sent, W unanswered at most.
send_upto() {
	local mid
	while [ "$SENT" -lt "$1" ]; do
		wait_for "room in the sender's window ($SENT sent)" 20 room || return 1
		SENT=$((SENT + 1))
		b64_random -v mid 16
		printf '{"v":1,"type":"msg.send","id":%d,"case":%s,"mid":"%s","copies":[{"to":"%s","ct":"AAECAwQFBgc="}]}\n' \
			"$SENT" "$CASE" "$mid" "$KEY_client" >&9
	done
}
# ack_all: the recipient acks every push it has had.
ack_all() {
	local seqs
	seqs=$(grep -o '"seq":[0-9]*' "$T/rcpt.out" | cut -d: -f2 | sort -un |
		tail -n 256 | paste -sd,)
	echo "{\"v\":1,\"type\":\"msg.ack\",\"id\":$((RANDOM + 2)),\"seqs\":[$seqs]}" >&8
}
answered() { count "$T/send.out" '"type":"msg.send.ok"'; [ "$COUNT" -eq "$1" ]; }
pushed() { count "$T/rcpt.out" '"type":"msg"'; [ "$COUNT" -ge "$1" ]; }

step "past the bound the answers wait; the store holds the bound and the window"
send_upto $((BOUND + W))
wait_for "the recipient to have every copy" 20 pushed $((BOUND + W))
assert_eq "  the copies wait in the store" $((BOUND + W)) "$(copies_waiting)"
holds 1000 answered "$BOUND" && pass "  $BOUND answered, the next $W held"
assert_eq "  the sender cannot send more" 1 "$(room && echo 0 || echo 1)"
assert_eq "  one answer paced" 1 "$(metric offramp_answers_paced_total)"

step "the recipient catches up: the held answers go, and the sender proceeds"
ack_all
wait_for "every answer" 20 answered $((BOUND + W))
assert_eq "  released by the acks, not the deadline" 0 "$(metric offramp_answers_paced_late_total)"
assert_eq "  nothing waits" 0 "$(copies_waiting)"
send_upto $((2 * (BOUND + W)))
wait_for "the recipient to have every copy" 20 pushed $((2 * (BOUND + W)))
holds 500 answered $((2 * BOUND + W)) && pass "  held again past the bound"
assert_eq "  the store holds the bound and the window" $((BOUND + W)) "$(copies_waiting)"

step "a recipient that reads but never acks: the answers go at the deadline"
t0=$SECONDS
wait_for "the held answers" 20 answered $((2 * (BOUND + W)))
assert_eq "  sent at the deadline" 1 "$(metric offramp_answers_paced_late_total)"
assert_eq "  after it, not before" 1 "$([ $((SECONDS - t0)) -ge 2 ] && echo 1 || echo 0)"

step "the recipient goes: what waits for it goes at once"
send_upto $((2 * (BOUND + W) + 1))
wait_for "the recipient to have the copy" 20 pushed $((2 * (BOUND + W) + 1))
holds 300 answered $((2 * (BOUND + W))) && pass "  held"
exec 8>&-			# EOF: the recipient's raw connection ends
wait_for "the recipient's connection to end" 20 eval '! kill -0 $RCPT_PID'
wait "$RCPT_PID" || true
wait_for "the held answer" 20 answered $((2 * (BOUND + W) + 1))
assert_eq "  not by the deadline" 1 "$(metric offramp_answers_paced_late_total)"

step "every send has one answer, ok; nothing stored is lost"
exec 9>&-
wait_for "the sender's connection to end" 20 eval '! kill -0 $SEND_PID'
wait "$SEND_PID" || true
assert_eq "no error came back" 0 "$(grep -c '"type":"error"' "$T/send.out" || true)"
dups=$(grep -o '"re":[0-9]*' "$T/send.out" | sort | uniq -d | wc -l)
assert_eq "no request answered twice" 0 "$dups"
answers_text=$(<"$T/send.out")
for ((i = 1; i <= SENT; i++)); do
	[[ "$answers_text" =~ \"re\":$i[,}] ]] || fail "send $i has no answer"
done
pass "each of the $SENT sends answered"
assert_eq "the copies not acked are stored" $((SENT - BOUND - W)) "$(copies_waiting)"
assert_eq "every message stored" "$SENT" \
	"$(sql "SELECT count(*) FROM sent WHERE sender_id = $(account_id couns)")"

finish
