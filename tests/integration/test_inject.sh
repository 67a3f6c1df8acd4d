# test_inject.sh: faults injected in the store under load (issue 10, point
# 6), by the store's VFS in a faults build (OFFRAMP_FAULTS,
# server/store_faults.c; tests/run.sh builds ./build-asan with it, and this
# test fails on a server built without it). Three clients, each on a
# connection of its own, send their messages at once while the store
# fails: at the Nth write of the -wal, on every write (SQLITE_FULL), and at
# the store thread's Nth sync of the -wal (store_db.c, "Durability").
# Each fault then clears. It shows, for the write faults:
# - every msg.send gets exactly one answer: msg.send.ok, or an error
#   internal (an I/O error) or storage_full (a full disk), and the fault
#   did fail some of them;
# - every acknowledged message is in the store, and no refused one is,
#   before and after kill -9 of the server;
# - once it clears the server serves on: each refused message sent again
#   with its mid is taken (dup false: it was not kept), new sends too.
# For the failed sync: the commits it was to make durable are visible but
# never known to be on disk, so the server stops (as PostgreSQL does) and
# acknowledges none of them: every answer given was msg.send.ok, the
# sends of those commits got none, and after a restart every
# acknowledged message is there and the unanswered ones, sent again with
# their mids, are taken (stored once, whether the stopped server's
# commits came back from the -wal or not).
# At the end the counsellor gets every acknowledged message, each once,
# and the server, stopped, exits cleanly (no sanitizer report).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sqlite_only "the faults come from the store's SQLite VFS in a faults build"

CLIENTS=(c1 c2 c3)
PER=25			# messages per client and round: 3 x 3 x 25 < 256,
			# the counsellor's push window, so all come at once

step "the server is built with fault injection"
if "$OFFRAMP_SERVER_BIN" --help | grep -q 'offramp\.faults'; then
	pass "its --help tells of DIR/offramp.faults"
else
	fail "$OFFRAMP_SERVER_BIN has no fault injection: build it with -DOFFRAMP_FAULTS=ON"
	finish
fi

start_server --queue-copies 10000
setup_pool
declare -A CASE_OF
for c in "${CLIENTS[@]}"; do
	keygen "$c"
	CASE_OF[$c]=$(field "$(cli "$c" request --language en --topic leaving)" case)
	assert_match "$c has a case" "${CASE_OF[$c]}" '^[0-9]+$'
done
counsellor_down couns		# Sam's copies stay stored: nobody acks them
: >"$T/acked"			# "b64 hex" of every acknowledged message

# fault SPEC: the control file says SPEC (renamed over it: a new inode, so
# the server reads it again); fault "": no file, no fault.
fault() {
	if [ -z "$1" ]; then
		rm -f "$DATA/offramp.faults"
		return
	fi
	printf '%s\n' "$1" >"$DATA/offramp.faults.new"
	mv "$DATA/offramp.faults.new" "$DATA/offramp.faults"
}

# send_frame ID CLIENT MID: a msg.send from CLIENT to Sam.
CT=$(b64_random 48)
send_frame() {
	printf '{"v":1,"type":"msg.send","id":%d,"case":%s,"mid":"%s","copies":[{"to":"%s","ct":"%s"}]}\n' \
		"$1" "${CASE_OF[$2]}" "$3" "$KEY_couns" "$CT"
}

# connect: each client logs in on a raw connection of its own, fed by a
# fifo ($T/in.CLIENT, fd IN_FD[CLIENT]), its answers in $T/out.CLIENT.
declare -A IN_FD RAW_PID
CONN=0
connect() {
	local c fd
	CONN=$((CONN + 1))
	for c in "${CLIENTS[@]}"; do
		rm -f "$T/in.$c"
		mkfifo "$T/in.$c"
		exec {fd}<>"$T/in.$c"
		IN_FD[$c]=$fd
	done
	for c in "${CLIENTS[@]}"; do
		(	# none of the fifos' write ends: each sees its end
			for fd in "${IN_FD[@]}"; do exec {fd}>&-; done
			cli "$c" raw --login --answered <"$T/in.$c" >"$T/out.$c.$CONN"
		) &
		RAW_PID[$c]=$!
		echo '{"v":1,"type":"ping","id":1}' >&"${IN_FD[$c]}"
	done
	for c in "${CLIENTS[@]}"; do
		wait_for "$c to be logged in" 30 grep -q ping.ok "$T/out.$c.$CONN"
	done
}
disconnect() {
	local c fd
	for c in "${CLIENTS[@]}"; do
		fd=${IN_FD[$c]}
		exec {fd}>&-
	done
	for c in "${CLIENTS[@]}"; do
		wait "${RAW_PID[$c]}" || true
	done
}

# answer OUT ID: the answers to request ID in file OUT.
answer() {
	grep -E "\"re\": *$2[,}]" "$1" || true
}
# answer_of OUT ID: ANSWER is answer's, one process (grep), no subshell.
answer_of() {
	answer "$@" >"$T/answer"
	ANSWER=$(<"$T/answer")
}
has_answer() {	# OUT ID: request ID is answered
	grep -qE "\"re\": *$2[,}]" "$1"
}
# answered FIRST LAST N: N requests of ids FIRST..LAST are answered, on
# all the clients' connections together (each id counted once a
# connection; one process a try of wait_for's).
answered() {
	local c files=()
	for c in "${CLIENTS[@]}"; do
		files+=("$T/out.$c.$CONN")
	done
	awk -v a="$1" -v b="$2" -v n="$3" '{
		s = $0
		while (match(s, /"re": *[0-9]+/)) {
			v = substr(s, RSTART, RLENGTH)
			sub(/^"re": */, "", v)
			if (v + 0 >= a && v + 0 <= b && !seen[FILENAME, v + 0]++)
				k++
			s = substr(s, RSTART + RLENGTH)
		}
	} END { exit !(k == n) }' "${files[@]}"
}

# mids N: N lines "b64 hex", each of 16 random bytes (one awk for all).
mids() {
	head -c $((16 * $1)) /dev/urandom | od -An -v -tx1 -w16 | tr -d ' ' |
		awk 'BEGIN {
			b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			h = "0123456789abcdef"
		}
		{
			n = 0
			for (i = 1; i <= 32; i += 2)
				v[n++] = 16 * (index(h, substr($0, i, 1)) - 1) \
					+ index(h, substr($0, i + 1, 1)) - 1
			out = ""
			for (i = 0; i < 15; i += 3) {
				x = v[i] * 65536 + v[i + 1] * 256 + v[i + 2]
				out = out substr(b, int(x / 262144) + 1, 1) \
					substr(b, int(x / 4096) % 64 + 1, 1) \
					substr(b, int(x / 64) % 64 + 1, 1) substr(b, x % 64 + 1, 1)
			}
			x = v[15] * 16	# the 16th byte: two characters and ==
			out = out substr(b, int(x / 64) + 1, 1) substr(b, x % 64 + 1, 1) "=="
			print out, $0
		}'
}

# stored: the hex of every message in the store (its copies' mid),
# sorted.
stored() {
	sql "SELECT DISTINCT lower(hex(mid)) FROM deliveries" | sort
}

# in_store_check WHAT: every acknowledged message of all rounds is in the
# store, and none of $T/failed (refused, not sent again yet) is.
in_store_check() {
	local missing kept
	stored >"$T/stored"
	missing=$(cut -d' ' -f2 "$T/acked" | sort | comm -23 - "$T/stored" | wc -l)
	assert_eq "$1: every acknowledged message ($(wc -l <"$T/acked")) is stored" 0 "$missing"
	kept=$(cut -d' ' -f3 "$T/failed" | sort | comm -12 - "$T/stored" | wc -l)
	assert_eq "$1: no refused message ($(wc -l <"$T/failed")) is stored" 0 "$kept"
}

sanitizers_quiet() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$SERVER_ERR"; then
		fail "a sanitizer report in $SERVER_ERR"
	else
		pass "no sanitizer report from the server"
	fi
}

# round NAME SPEC CODE FIRST: the clients send PER messages each (ids
# FIRST..) while the store fails as SPEC says, each refused with CODE;
# then the fault clears and the answers and the store are checked, across
# kill -9 and a restart, and the refused messages are sent again.
round() {
	local name=$1 spec=$2 code=$3 first=$4 last=$(($4 + PER - 1)) c id a ok bad n
	local acked_before
	step "$name: $spec, under load"
	connect
	: >"$T/failed"
	acked_before=$(wc -l <"$T/acked")
	fault "$spec"
	for c in "${CLIENTS[@]}"; do
		mids "$PER" | awk -v id="$first" '{ print id++, $0 }' >"$T/mids.$c"
	done
	local senders=()
	for c in "${CLIENTS[@]}"; do
		while read -r id b64 _; do
			send_frame "$id" "$c" "$b64"
		done <"$T/mids.$c" >&"${IN_FD[$c]}" &
		senders+=($!)
	done
	wait_for "every msg.send of the round to be answered" 60 \
		answered "$first" "$last" $((3 * PER))
	wait "${senders[@]}"
	fault ""
	for c in "${CLIENTS[@]}"; do
		# "id kind" for each answer: ok, internal, storage_full or
		# other; then, per request, how it went.
		sed -nE 's/.*"re": *([0-9]+)[,}].*/\1 &/p' "$T/out.$c.$CONN" |
			awk '{ k = "other"
				if ($0 ~ /"type": *"msg\.send\.ok"/) k = "ok"
				else if ($0 ~ /"code": *"internal"/) k = "internal"
				else if ($0 ~ /"code": *"storage_full"/) k = "storage_full"
				print $1, k }' >"$T/kinds"
		awk -v c="$c" -v code="$code" -v acked="$T/acked" -v failed="$T/failed" '
			NR == FNR { n[$1]++; k[$1] = $2; next }
			n[$1] != 1 { print "request " $1 " got " n[$1] + 0 " answers"; next }
			k[$1] == "ok" { print $2, $3 >>acked; next }
			k[$1] == code { print c, $2, $3 >>failed; next }
			{ print "request " $1 ": neither ok nor " code " but " k[$1] }
		' "$T/kinds" "$T/mids.$c" >"$T/wrong"
		[ ! -s "$T/wrong" ] || fail "$c: $(head -n 3 "$T/wrong")"
	done
	ok=$(($(wc -l <"$T/acked") - acked_before))
	bad=$(wc -l <"$T/failed")
	assert_eq "each of the $((3 * PER)) sends got one answer, ok or $code" \
		$((3 * PER)) $((ok + bad))
	[ "$bad" -gt 0 ] && pass "the fault refused $bad sends ($ok acknowledged)" ||
		fail "no send was refused: the fault did not hit"
	assert_match "the server logged the fault" "$(cat "$SERVER_ERR")" 'faults: .*fails'
	in_store_check "after the fault"
	disconnect
	sanitizers_quiet
	kill9_server
	start_server --queue-copies 10000
	in_store_check "after kill -9 and a restart"

	connect
	id=1000
	while read -r c b64 _; do
		id=$((id + 1))
		send_frame "$id" "$c" "$b64" >&"${IN_FD[$c]}"
	done <"$T/failed"
	wait_for "the answers to the messages sent again" 60 \
		answered 1001 "$id" "$bad"
	id=1000
	n=0
	while read -r c b64 hex; do
		id=$((id + 1))
		answer_of "$T/out.$c.$CONN" "$id"
		a=$ANSWER
		if some_line_matches "$a" '"type": *"msg\.send\.ok".*"dup": *false'; then
			echo "$b64 $hex" >>"$T/acked"
			n=$((n + 1))
		else
			fail "$c's refused message $id sent again: $a"
		fi
	done <"$T/failed"
	assert_eq "the server serves on: the refused messages sent again are taken, none a dup" \
		"$bad" "$n"
	: >"$T/failed"
	disconnect
}

round "the Nth write of the -wal fails" "write 9 3" internal 100
round "the disk is full" "full" storage_full 300

step "the store thread's sync of the -wal fails, under load: the server stops"
connect
: >"$T/failed"
acked_before=$(wc -l <"$T/acked")
fault "commit 3"
senders=()
for c in "${CLIENTS[@]}"; do
	mids "$PER" | awk '{ print id++ + 200, $0 }' >"$T/mids.$c"
	while read -r id b64 _; do
		send_frame "$id" "$c" "$b64"
	done <"$T/mids.$c" >&"${IN_FD[$c]}" &
	senders+=($!)
done
wait_for "the server to stop" 60 _server_gone
wait "${senders[@]}" 2>/dev/null || true
rc=0
wait "$SERVER_PID" 2>/dev/null || rc=$?
assert_ne "the server stopped with an error status" 0 "$rc"
assert_match "  it says why: the sync failed" "$(cat "$SERVER_ERR")" 'store: cannot sync the WAL'
assert_match "  and that it acknowledges nothing after it" "$(cat "$SERVER_ERR")" 'stopping without acknowledging'
fault ""
disconnect
for c in "${CLIENTS[@]}"; do
	sed -nE 's/.*"re": *([0-9]+)[,}].*/\1 &/p' "$T/out.$c.$CONN" |
		awk '{ print $1, ($0 ~ /"type": *"msg\.send\.ok"/) ? "ok" : "other" }' >"$T/kinds"
	awk -v c="$c" -v acked="$T/acked" -v failed="$T/failed" '
		NR == FNR { n[$1]++; k[$1] = $2; next }
		n[$1] > 1 { print "request " $1 " got " n[$1] " answers"; next }
		n[$1] == 0 { print c, $2, $3 >>failed; next }
		k[$1] == "ok" { print $2, $3 >>acked; next }
		{ print "request " $1 " got another answer than msg.send.ok" }
	' "$T/kinds" "$T/mids.$c" >"$T/wrong"
	[ ! -s "$T/wrong" ] || fail "$c: $(head -n 3 "$T/wrong")"
done
ok=$(($(wc -l <"$T/acked") - acked_before))
bad=$(wc -l <"$T/failed")
[ "$bad" -gt 0 ] && pass "the failed sync left $bad sends unanswered ($ok acknowledged before it)" ||
	fail "every send was answered: the fault did not hit"
sanitizers_quiet
start_server --queue-copies 10000
stored >"$T/stored"
assert_eq "after the restart every acknowledged message ($(wc -l <"$T/acked")) is stored" 0 \
	"$(cut -d' ' -f2 "$T/acked" | sort | comm -23 - "$T/stored" | wc -l)"
connect
id=1000
while read -r c b64 _; do
	id=$((id + 1))
	send_frame "$id" "$c" "$b64" >&"${IN_FD[$c]}"
done <"$T/failed"
wait_for "the answers to the unanswered messages sent again" 60 answered 1001 "$id" "$bad"
id=1000
n=0
while read -r c b64 hex; do
	id=$((id + 1))
	answer_of "$T/out.$c.$CONN" "$id"
	if some_line_matches "$ANSWER" '"type": *"msg\.send\.ok"'; then
		echo "$b64 $hex" >>"$T/acked"
		n=$((n + 1))
	else
		fail "$c's unanswered message $id sent again: $(answer "$T/out.$c.$CONN" "$id")"
	fi
done <"$T/failed"
assert_eq "the server serves again: every unanswered message sent again is taken" "$bad" "$n"
: >"$T/failed"
disconnect

step "new sends go through, and Sam gets every acknowledged message once"
connect
for c in "${CLIENTS[@]}"; do
	read -r b64 hex < <(mids 1)
	send_frame 900 "$c" "$b64" >&"${IN_FD[$c]}"
	wait_for "$c's new send to be answered" 30 has_answer "$T/out.$c.$CONN" 900
	assert_match "  $c: msg.send.ok" "$(answer "$T/out.$c.$CONN" 900)" '"type": *"msg\.send\.ok"'
	echo "$b64 $hex" >>"$T/acked"
done
disconnect
total=$(wc -l <"$T/acked")
mkfifo "$T/sam.in"
exec {sfd}<>"$T/sam.in"
cli couns raw --login --answered <"$T/sam.in" >"$T/sam.out" {sfd}>&- &
sam=$!
wait_for "Sam to get $total pushes" 60 \
	eval '[ "$(grep -c "\"type\": *\"msg\"" "$T/sam.out")" -ge "$total" ]'
grep -E '"type": *"msg"' "$T/sam.out" | grep -oE '"mid": *"[^"]*"' |
	sed -E 's/.*"([^"]*)"$/\1/' | sort >"$T/pushed"
assert_eq "Sam got $total pushes, each message once" "$total" "$(sort -u "$T/pushed" | wc -l)"
assert_eq "  and they are the acknowledged messages" "" \
	"$(cut -d' ' -f1 "$T/acked" | sort | comm -3 - "$T/pushed")"
exec {sfd}>&-
wait "$sam" || true
sanitizers_quiet
stop_server
finish
