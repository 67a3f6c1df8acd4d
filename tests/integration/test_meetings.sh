# test_meetings.sh: in-person meetings and the counselling agreement go
# inside the encryption (CRYPTO.md, "Plaintext envelope", version 2): a
# meeting proposed, rescheduled and accepted, one declined and one
# cancelled, each seen by the other side; an agreement proposed,
# revised and accepted; both sides show the state from their key files.
# Every message is bound to its case, its sender's running number and
# time: a server that holds a message back and delivers it late is seen
# (held back, then replayed), and one that moves a message into another
# case of the same two people gets it refused. Neither the server's
# database nor the key files hold the meeting's place or the agreement's
# text in the clear.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARK="mt$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PLACE1="Café Nordstern $MARK-p1"
PLACE2="Stadtbibliothek, Lesesaal $MARK-p2"
RECOG="grüner Schirm $MARK-r"
OBJ1="leave the group safely $MARK-o1"
OBJ2="leave the group safely, find work $MARK-o2"
echo "   (marker $MARK)"

start_server
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'
# Sam's store is read and edited below without a daemon holding it
counsellor_down couns

# recv_one WHO: one message line of WHO's recv into OUT, stderr into ERR.
recv_one() {
	clirun "$1" recv --count 1
}

step "a meeting proposed, rescheduled, accepted"
clirun client meeting propose "$CASE" "2030-05-04 15:30" "$PLACE1" "$RECOG"
assert_eq "propose exits 0" 0 "$RC"
field_to MID "$OUT" meeting
assert_match "  and prints the meeting's id" "$MID" '^[0-9]+$'
assert_match "  and is acknowledged" "$OUT" '^sent: '
recv_one couns
assert_eq "the counsellor reads the proposal" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[meeting $MID proposed: 2030-05-04 15:30 UTC; place: $PLACE1; recognise: $RECOG]" "$OUT"
assert_eq "  with no warning" "" "$ERR"
clirun couns meeting reschedule "$CASE" "$MID" "2030-05-05T10:00" "$PLACE2"
assert_eq "the counsellor reschedules it" 0 "$RC"
recv_one client
assert_eq "the client reads the new time and place" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"[meeting $MID rescheduled: 2030-05-05 10:00 UTC; place: $PLACE2]" "$OUT"
clirun client meeting accept "$CASE" "$MID"
assert_eq "the client accepts it" 0 "$RC"
recv_one couns
assert_eq "the counsellor reads the acceptance of the new time" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[meeting $MID accepted: 2030-05-05 10:00 UTC]" "$OUT"
assert_eq "the client's meetings: accepted by me, at the new place" \
	"$MID"$'\t'"2030-05-05 10:00 UTC"$'\t'"accepted by me"$'\t'"$PLACE2"$'\t' \
	"$(cli client meetings "$CASE")"
assert_eq "the counsellor's: accepted by the client" \
	"$MID"$'\t'"2030-05-05 10:00 UTC"$'\t'"accepted by $CLIENT_NAME"$'\t'"$PLACE2"$'\t' \
	"$(cli couns meetings "$CASE")"
clirun client meeting decline "$CASE" 4242424
assert_eq "an unknown meeting cannot be answered" 1 "$RC"
assert_contains "  it says so" "$ERR" "no meeting 4242424 in case $CASE"
clirun client meeting propose "$CASE" "tomorrow" "$PLACE1"
assert_ne "a time that is no time is refused" 0 "$RC"
assert_contains "  with the form it takes" "$ERR" "YYYY-MM-DD HH:MM"

step "a meeting declined, another cancelled: the other side sees each"
clirun couns meeting propose "$CASE" "2030-06-01 09:00" "$PLACE1"
field_to M2 "$OUT" meeting
recv_one client
assert_contains "the client reads Sam's proposal" "$OUT" "[meeting $M2 proposed: 2030-06-01 09:00 UTC; place: $PLACE1]"
clirun client meeting decline "$CASE" "$M2"
assert_eq "the client declines it" 0 "$RC"
recv_one couns
assert_eq "Sam reads the refusal" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[meeting $M2 declined: 2030-06-01 09:00 UTC]" "$OUT"
assert_contains "Sam's meetings: declined by the client" "$(cli couns meetings "$CASE")" \
	"$M2"$'\t'"2030-06-01 09:00 UTC"$'\t'"declined by $CLIENT_NAME"$'\t'
clirun client meeting propose "$CASE" "2030-06-02 09:00" "$PLACE2"
field_to M3 "$OUT" meeting
recv_one couns
assert_contains "Sam reads the client's proposal" "$OUT" "[meeting $M3 proposed: 2030-06-02 09:00 UTC"
clirun client meeting cancel "$CASE" "$M3"
assert_eq "the client calls it off" 0 "$RC"
recv_one couns
assert_eq "Sam reads the cancellation" \
	"$CASE"$'\t'"$CLIENT_NAME"$'\t'"[meeting $M3 cancelled: 2030-06-02 09:00 UTC]" "$OUT"
assert_contains "Sam's meetings: cancelled by the client" "$(cli couns meetings "$CASE")" \
	"$M3"$'\t'"2030-06-02 09:00 UTC"$'\t'"cancelled by $CLIENT_NAME"$'\t'

step "an agreement proposed, revised, accepted"
clirun couns agreement propose "$CASE" "$OBJ1" "chat" "weekly" "call 112"
assert_eq "the counsellor proposes it" 0 "$RC"
recv_one client
assert_eq "the client reads it" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"[agreement version 1 proposed: objectives: $OBJ1; formats: chat; how often: weekly; in a crisis: call 112]" "$OUT"
clirun client agreement revise "$CASE" "$OBJ2" "chat, in person" "every two weeks" "call 112, then Sam"
assert_eq "the client revises it" 0 "$RC"
clirun client agreement accept "$CASE"
assert_eq "nobody accepts their own version" 2 "$RC"
clirun couns --json recv --count 1
assert_contains "the counsellor reads version 2" "$OUT" "[agreement version 2 revised: objectives: $OBJ2; "
assert_contains "  --json says it is an agreement" "$OUT" '"kind":"agreement"'
clirun couns agreement accept "$CASE"
assert_eq "the counsellor accepts it" 0 "$RC"
recv_one client
assert_eq "the client reads the acceptance" \
	"$CASE"$'\t'"$COUNS_NAME"$'\t'"[agreement version 2 accepted]" "$OUT"
cli_out out client agreement show "$CASE"
assert_eq "the client's agreement: version 2, accepted by Sam" \
	"version 2 by me, accepted by $COUNS_NAME" "$(sed -n 1p <<<"$out")"
assert_eq "  its objectives" "objectives: $OBJ2" "$(sed -n 2p <<<"$out")"
assert_eq "  what happens in a crisis" "in a crisis: call 112, then Sam" "$(sed -n 5p <<<"$out")"
cli_out out couns agreement show "$CASE"
assert_eq "the counsellor's: the same" \
	"version 2 by $CLIENT_NAME, accepted by me" "$(sed -n 1p <<<"$out")"
clirun couns agreement propose "$CASE" "again" "" "" ""
assert_ne "a second proposal is refused: revise it" 0 "$RC"
cli_out out client history "$CASE"
assert_contains "the history shows the meeting" "$out" "me: [meeting $MID accepted: 2030-05-05 10:00 UTC]"

step "a message held back and delivered late is seen as such"
for w in one two three; do
	cli client send "$CASE" "late $w" >/dev/null
done
stop_server
A=$(sql "SELECT seq FROM deliveries WHERE case_id = $CASE
    ORDER BY seq LIMIT 1 OFFSET 1")
B=$(sql "SELECT seq FROM deliveries WHERE case_id = $CASE
    ORDER BY seq LIMIT 1 OFFSET 2")
assert_match "the three copies wait on the server" "$A $B" '^[0-9]+ [0-9]+$'
# the server swaps the second and third: the third comes first
sql_rw "CREATE TEMP TABLE t AS SELECT seq, ct FROM deliveries WHERE seq IN ($A, $B);
    UPDATE deliveries SET ct = (SELECT ct FROM t WHERE t.seq = $A + $B - deliveries.seq)
    WHERE seq IN ($A, $B);"
start_server
recv_one couns
assert_eq "the first arrives" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"late one" "$OUT"
assert_eq "  with no warning" "" "$ERR"
recv_one couns
assert_eq "the third is shown" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"late three" "$OUT"
assert_contains "  with a warning: one message before it held back" "$ERR" \
	"1 message(s) before it held back or lost"
recv_one couns
assert_eq "the second, late, is shown" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"late two" "$OUT"
assert_contains "  with a warning: replayed or repeated" "$ERR" "replayed or repeated"
cli_out out couns history "$CASE"
assert_not_contains "  and not kept as if it were new" "$out" "late two"
assert_contains "  (the others are kept)" "$out" "late three"

step "a message moved into another case of the same two people is refused"
cli client send "$CASE" "meant for case $CASE $MARK" >/dev/null
cli client close "$CASE" >/dev/null
CASE2=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a second case" "$CASE2" '^[0-9]+$'
clirun couns take "$CASE2"	# unless Sam got it already
assert_eq "  Sam's" "$(account_id couns)" "$(sql "SELECT counsellor_id FROM cases WHERE id = $CASE2")"
stop_server
sql_rw "UPDATE deliveries SET case_id = $CASE2 WHERE case_id = $CASE"
assert_eq "the server moved the waiting message" 1 \
	"$(sql "SELECT count(*) FROM deliveries WHERE case_id = $CASE2")"
start_server
recv_one couns
assert_eq "the counsellor refuses it" "$CASE2"$'\t'"$CLIENT_NAME"$'\t'"[refused: sent in another case]" "$OUT"
assert_contains "  and says where it was sent" "$ERR" "it names case $CASE, not $CASE2"
assert_eq "  it was acknowledged: nothing waits" 0 "$(sql "SELECT count(*) FROM deliveries")"
assert_no_match "  nor kept" "$(cli couns history "$CASE2")" "meant for case"
cli client send "$CASE2" "in the second case" >/dev/null
recv_one couns
assert_eq "the next message in the second case reads" "$CASE2"$'\t'"$CLIENT_NAME"$'\t'"in the second case" "$OUT"
assert_eq "  with no warning" "" "$ERR"

step "no plaintext of the meeting or the agreement on the server or in the key files"
files=()
mapfile -t files < <(data_files)
if grep -a -q -F -- "$MARK" "${files[@]}" "${SERVER_LOGS[@]}"; then
	fail "the marker is in the server's files"
else
	pass "no place, sign or agreement text in the database files or logs"
fi
assert_ne "the check can fail: the marker is in this script's text" "" \
	"$(printf '%s\n' "$PLACE1" | grep -a -F -- "$MARK" || true)"
for who in client couns; do
	if grep -a -q -F -e "$MARK" -e "Nordstern" -e "Lesesaal" "$IDS/$who.key"; then
		fail "the $who's key file holds them in the clear"
	else
		pass "the $who's key file holds none of them in the clear"
	fi
done

step "a time the server puts in the future is kept as now: it would never expire"
cli client send "$CASE2" "sent from the year 2100" >/dev/null
stop_server
sql_rw "UPDATE deliveries SET created = 4102444800"
start_server
recv_one couns
assert_contains "Sam reads it" "$OUT" "sent from the year 2100"
cli_out out couns --json history "$CASE2"
ts=$(grep -F 'sent from the year 2100' <<<"$out" | sed -n 's/.*"ts": *\([0-9]*\).*/\1/p' | tail -n1)
assert_match "  it is kept with a time" "$ts" '^[0-9]+$'
assert_eq "  no later than now (not 2100)" 1 "$(( ${ts:-4102444800} <= $(date +%s) ))"

step "a colleague's meeting and accepts count for nothing; each side answers the other's"
# (CRYPTO.md: the two sides are the client and its assigned counsellor)
add_counsellor admin kim Kim --languages de --topics leaving
certify_pending Kim
cli couns bring "$CASE2" "$KEY_kim" --as supervisor >/dev/null
cli_out out client members "$CASE2"
assert_match "Kim, Sam's supervisor, is in the client's second case" "$out" '^member Kim \(supervisor\)'
clirun client meeting propose "$CASE2" "2031-01-02 10:00" "Café am Markt"
field_to MK "$OUT" meeting
assert_match "the client proposes a meeting" "$MK" '^[0-9]+$'
clirun client meeting accept "$CASE2" "$MK"
assert_eq "  and cannot accept it for the counsellor: exits 2" 2 "$RC"
clirun kim meeting propose "$CASE2" "2031-01-03 22:00" "Back alley"
assert_eq "Kim proposes one of her own" 0 "$RC"
field_to KM "$OUT" meeting
recv_one client
assert_contains "the client reads Kim's proposal" "$OUT" "[meeting $KM proposed: "
clirun couns agreement propose "$CASE2" "$OBJ2, again" "chat" "weekly" "call 112"
assert_eq "Sam proposes the agreement of this case" 0 "$RC"
# drain WHO: every message waiting for WHO (recv without --count ends
# after a second with nothing more)
drain() {
	clirun "$1" recv
}
drain client
clirun client agreement revise "$CASE2" "$OBJ2, our way" "chat" "weekly" "call 112"
assert_eq "the client revises it: version 2" 0 "$RC"
drain kim
# Kim answers the client's meeting and version as if she were its
# counsellor: the client's CLI counts neither
clirun kim meeting accept "$CASE2" "$MK"
assert_eq "Kim's CLI sends her accept of the client's meeting" 0 "$RC"
assert_contains "  and says a colleague's counts for nothing" "$ERR" "count for nothing"
cli_out out kim meetings "$CASE2"
assert_contains "  in Kim's own view too: the meeting is still only proposed" "$out" \
	"$MK"$'\t'"2031-01-02 10:00 UTC"$'\t'"proposed by $CLIENT_NAME"
clirun kim agreement accept "$CASE2"
assert_eq "  and of the client's version" 0 "$RC"
drain client
cli_out out client meetings "$CASE2"
assert_contains "the client's meeting is still only proposed" "$out" "$MK"$'\t'"2031-01-02 10:00 UTC"$'\t'"proposed by me"
assert_not_contains "  and Kim's makes no meeting" "$out" "Back alley"
cli_out out client agreement show "$CASE2"
assert_eq "the agreement: the client's version 2, not accepted" \
	"version 2 by me, not accepted yet" "$(sed -n 1p <<<"$out")"
drain couns
clirun couns agreement accept "$CASE2"
assert_eq "Sam accepts it" 0 "$RC"
drain client
cli_out out client agreement show "$CASE2"
assert_eq "  then it is accepted, by Sam" \
	"version 2 by me, accepted by $COUNS_NAME" "$(sed -n 1p <<<"$out")"

finish
