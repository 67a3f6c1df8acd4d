# test_faults.sh: faults are answered (issue 10, points 5 and 2). On a
# full disk every request still gets its one answer (storage_full), on a
# connection that closes in the same turn too, the connection stays, acks still free room, msg.send works again once
# there is room, and nothing acknowledged is lost (every stored copy is
# there after kill -9 and a restart); a stored queue has a cap
# (recipient_full, nothing stored); duplicate seqs in one msg.ack open
# the push window by one at most; prekey fetches and connections per
# account have caps; a missing or empty database beside server.key, or a
# damaged one, is refused at start.
#
# As root the whole test runs in a mount namespace of its own, with the
# server's data directory on a small tmpfs (filled with dd for a real
# full disk); otherwise the full-disk steps are skipped.
if [ "$(id -u)" = 0 ] && [ -z "${FAULTS_NS:-}" ] &&
   command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	FAULTS_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sqlite_only "a full disk and a damaged file are SQLite's (the store's VFS in a faults build, offramp.db's pages)"

SMALL=""
if [ -n "${FAULTS_NS:-}" ]; then
	SMALL="$T/small"
	mkdir -p "$SMALL"
	mount -t tmpfs -o size=64m,mode=0700 tmpfs "$SMALL"
	# On any exit: the tmpfs detached (lazily: a server still running
	# there keeps it busy), then lib.sh's own exit handling, which stops
	# every server. A plain umount failed on a busy tmpfs, and under set
	# -e that ended the trap before _on_exit: a test stopped early left
	# its server running and printed neither its logs nor its summary.
	_faults_exit() {
		local rc=$?
		set +e
		trap - ERR	# the status below is the test's, not a new failure
		umount -l "$SMALL" 2>/dev/null
		(exit "$rc")	# _on_exit reads the status the test ended with
		_on_exit
	}
	trap _faults_exit EXIT
	DATA="$SMALL/data"
fi

# raw_ok NAME FRAMES: NAME's raw connection sends FRAMES, one a line, and
# waits for every answer; OUT holds what came back.
raw() {
	local who=$1
	shift
	OUT=$(printf '%s\n' "$@" | cli "$who" raw --login --answered)
}
# answer_to ID: the frame of OUT answering request ID.
answer_to() {
	grep -E "\"re\":$1[,}]" <<<"$OUT" | head -n1
}
# make_frame ID [MID]: a msg.send from the client to Sam in $CASE, into
# FRAME (no subshell: for the loop of 260); send_frame prints it.
make_frame() {
	local mid=${2:-} ct
	[ -n "$mid" ] || b64_random -v mid 16
	b64_random -v ct 48
	printf -v FRAME '{"v":1,"type":"msg.send","id":%d,"case":%s,"mid":"%s","copies":[{"to":"%s","ct":"%s"}]}' \
		"$1" "$CASE" "$mid" "$KEY_couns" "$ct"
}
send_frame() {
	make_frame "$@"
	printf '%s' "$FRAME"
}
copies_for_sam() {
	sql "SELECT count(*) FROM deliveries WHERE recipient_id = $(account_id couns)"
}

start_server --queue-copies 261 --prekey-fetches 3 --connections-per-account 2
setup_pool
keygen client
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has an active case with Sam" "$(cli client cases)" "^$CASE active "
counsellor_down couns		# Sam's copies stay stored: nobody acks them

step "connections per account: the n+1th login is refused with limit"
mkfifo "$T/hold1" "$T/hold2"
exec 5<>"$T/hold1" 6<>"$T/hold2"
cli client raw --login --answered <"$T/hold1" >"$T/hold1.out" 5>&- 6>&- &
h1=$!
cli client raw --login --answered <"$T/hold2" >"$T/hold2.out" 5>&- 6>&- &
h2=$!
echo '{"v":1,"type":"ping","id":1}' >&5
echo '{"v":1,"type":"ping","id":1}' >&6
wait_for "two connections of the client to be logged in" 20 \
	eval 'grep -q ping.ok "$T/hold1.out" && grep -q ping.ok "$T/hold2.out"'
clirun client raw --login --answered <<<'{"v":1,"type":"ping","id":2}'
assert_ne "a third connection is refused" 0 "$RC"
assert_match "  with limit" "$ERR" 'limit'
exec 5>&-
wait "$h1" || true
login_works() {
	clirun client raw --login --answered <<<'{"v":1,"type":"ping","id":3}'
	[ "$RC" = 0 ]
}
wait_for "a login to work again with one connection closed" 20 login_works &&
	pass "with one closed, a login works again"
exec 6>&-
wait "$h2" || true

step "duplicate seqs in one msg.ack free one place of the push window, not 256"
for half in 0 130; do	# --answered waits for 256 answers at most
	frames=()
	for ((i = 1; i <= 130; i++)); do
		make_frame $((100 + half + i))
		frames+=("$FRAME")
	done
	raw client "${frames[@]}"
done
assert_eq "260 messages stored for Sam" 260 "$(copies_for_sam)"
mkfifo "$T/sam.in"
exec 7<>"$T/sam.in"
cli couns raw --login --answered <"$T/sam.in" >"$T/sam.out" 7>&- &
sam=$!
wait_for "Sam to get the window of 256 pushes" 20 \
	eval '[ "$(grep -c "\"type\":\"msg\"" "$T/sam.out")" -ge 256 ]'
seq1=$(grep -m1 '"type":"msg"' "$T/sam.out" | grep -o '"seq":[0-9]*' | cut -d: -f2)
dups=$seq1
for ((i = 1; i < 256; i++)); do dups+=",$seq1"; done
echo "{\"v\":1,\"type\":\"msg.ack\",\"id\":1,\"seqs\":[$dups]}" >&7
wait_for "the ack's answer" 20 grep -q '"type":"msg.ack.ok"' "$T/sam.out"
assert_match "  it deleted one copy" "$(grep msg.ack.ok "$T/sam.out")" '"acked":1'
echo '{"v":1,"type":"ping","id":2}' >&7
wait_for "the ping after it" 20 grep -q '"type":"ping.ok"' "$T/sam.out"
assert_eq "one more push came, not four" 257 "$(grep -c '"type":"msg"' "$T/sam.out")"
exec 7>&-
wait "$sam" || true

step "a recipient's stored queue is capped: recipient_full, nothing stored"
raw client "$(send_frame 401)" "$(send_frame 402)"
assert_eq "Sam's queue is at its cap (261)" 261 "$(copies_for_sam)"
mid=$(b64_random 16)
raw client "$(send_frame 403 "$mid")" '{"v":1,"type":"ping","id":404}'
assert_match "a send over the cap: recipient_full" "$(answer_to 403)" '"code":"recipient_full"'
assert_match "  the connection goes on" "$(answer_to 404)" '"type":"ping.ok"'
assert_eq "  nothing was stored" 261 "$(copies_for_sam)"
raw couns "{\"v\":1,\"type\":\"msg.ack\",\"id\":1,\"seqs\":[$((seq1 + 1))]}"
raw client "$(send_frame 405 "$mid")"
assert_match "after an ack, the same mid goes through" "$(answer_to 405)" '"dup":false'

step "prekey fetches answered not_found (Sam's signed prekey taken away in the store) count for nothing"
SAM=$(account_id couns)
spk_id=$(sql "SELECT spk_id FROM signed_prekeys WHERE account_id = $SAM")
spk=$(sql "SELECT hex(spk) FROM signed_prekeys WHERE account_id = $SAM")
sig=$(sql "SELECT hex(sig) FROM signed_prekeys WHERE account_id = $SAM")
upd=$(sql "SELECT updated FROM signed_prekeys WHERE account_id = $SAM")
sql_rw "DELETE FROM signed_prekeys WHERE account_id = $SAM" >/dev/null
frames=()
for i in 1 2 3; do
	frames+=("{\"v\":1,\"type\":\"prekeys.get\",\"id\":$((490 + i)),\"key\":\"$KEY_couns\"}")
done
raw client "${frames[@]}"
assert_eq "three fetches: not_found" 3 "$(grep -c '"code":"not_found"' <<<"$OUT" || true)"
sql_rw "INSERT INTO signed_prekeys(account_id, spk_id, spk, sig, updated) VALUES ($SAM, $spk_id, X'$spk', X'$sig', $upd)" >/dev/null

step "prekey fetches per requester and key are capped (3 an hour)"
frames=()
for i in 1 2 3 4 5; do
	frames+=("{\"v\":1,\"type\":\"prekeys.get\",\"id\":$((500 + i)),\"key\":\"$KEY_couns\"}")
done
raw client "${frames[@]}"
assert_match "the 5th fetch: limit" "$(answer_to 505)" '"code":"limit"'
ok=$(grep -c '"type":"prekeys.get.ok"' <<<"$OUT" || true)
assert_eq "  3 fetches answered, the not_found ones not counted" 3 "$ok"

step "a full disk: every request answered, the connection stays, acks free room"
if [ -n "$SMALL" ]; then
	assert_eq "the data directory is on the small tmpfs" tmpfs "$(stat -f -c %T "$DATA")"
	[ -f "$DATA/offramp.spare" ] && pass "the server keeps its spare file" ||
		fail "no $DATA/offramp.spare"
	# A client (on two connections) and Sam stay connected: a login
	# writes too.
	mkfifo "$T/c.in" "$T/s.in" "$T/k.in" "$T/a.in"
	exec {cfd}<>"$T/c.in" {sfd}<>"$T/s.in" {kfd}<>"$T/k.in" {afd}<>"$T/a.in"
	cli client raw --login --answered <"$T/c.in" >"$T/c.out" {cfd}>&- {sfd}>&- {kfd}>&- {afd}>&- &
	cpid=$!
	cli couns raw --login --answered <"$T/s.in" >"$T/s.out" {cfd}>&- {sfd}>&- {kfd}>&- {afd}>&- &
	spid=$!
	cli client raw --login --answered <"$T/k.in" >"$T/k.out" {cfd}>&- {sfd}>&- {kfd}>&- {afd}>&- &
	kpid=$!
	cli admin raw --login --answered <"$T/a.in" >"$T/a.out" {cfd}>&- {sfd}>&- {kfd}>&- {afd}>&- &
	apid=$!
	for fd in "$cfd" "$sfd" "$kfd" "$afd"; do
		echo '{"v":1,"type":"ping","id":1}' >&"$fd"
	done
	wait_for "the client, Sam and the admin to be logged in" 20 \
		eval 'grep -q ping.ok "$T/c.out" && grep -q ping.ok "$T/s.out" && grep -q ping.ok "$T/k.out" && grep -q ping.ok "$T/a.out"'
	# answered FILE ID: FILE has the answer to request ID (printed).
	answered() { grep -E "\"re\":$2[,}]" "$1"; }
	# filled again while the server frees room meanwhile (its
	# checkpoint may empty the -wal: 152 KiB came free once in CI)
	for _ in 1 2 3 4 5; do
		dd if=/dev/zero of="$SMALL/fill" bs=64k oflag=append \
			conv=notrunc 2>/dev/null || true
		avail=$(df --output=avail -B1 "$SMALL" | tail -n1 | tr -d ' ')
		[ "$avail" != 0 ] || break
	done
	assert_eq "the disk is full" 0 "$avail"
	before=$(copies_for_sam)
	printf '%s\n' "$(send_frame 601)" '{"v":1,"type":"ping","id":602}' >&"$cfd"
	wait_for "the answers" 20 answered "$T/c.out" 602 >/dev/null
	assert_match "msg.send: storage_full" "$(answered "$T/c.out" 601)" '"code":"storage_full"'
	assert_match "  the ping after it is answered" "$(answered "$T/c.out" 602)" '"type":"ping.ok"'
	assert_eq "  nothing was stored" "$before" "$(copies_for_sam)"
	[ ! -e "$DATA/offramp.spare" ] && pass "  the spare file is given up for acks" ||
		fail "the spare file is still there"

	# Someone else takes that room too: now a commit itself fails. Its
	# frames must need new blocks: a -wal that a checkpoint has emptied
	# but not truncated is written over in place, and a commit then finds
	# room on a full disk. So the -wal is truncated first (the server
	# holds no lock between its turns).
	truncated() {
		sql_rw 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null 2>&1 &&
			[ "$(stat -c %s "$DATA/offramp.db-wal")" = 0 ]
	}
	wait_for "the -wal truncated" 20 truncated
	dd if=/dev/zero of="$SMALL/fill2" bs=64k 2>/dev/null || true
	# The write and a ping reach the server in one turn: it is stopped
	# until both frames wait in its socket (the client's frames: 6
	# bytes of header each). The ping's answer is true whatever the
	# commit does.
	close="{\"v\":1,\"type\":\"case.close\",\"id\":603,\"case\":$CASE}"
	ping='{"v":1,"type":"ping","id":604}'
	# unread: the bytes waiting in the server's sockets (its Recv-Q)
	unread() {
		ss -tnH state established "( sport = :$PORT )" |
			awk '{ n += $1 } END { print n + 0 }'
	}
	kill -STOP "$SERVER_PID"
	printf '%s\n' "$close" "$ping" >&"$cfd"
	# (failed, it goes on: the server runs again before anything else)
	wait_for "both frames in the server's socket" 20 \
		eval '[ "$(unread)" -ge $((${#close} + ${#ping} + 12)) ]' || true
	kill -CONT "$SERVER_PID"
	wait_for "the answers" 20 answered "$T/c.out" 604 >/dev/null
	assert_match "a write whose commit fails: storage_full" "$(answered "$T/c.out" 603)" '"code":"storage_full"'
	assert_match "  a ping of the same turn: ping.ok" "$(answered "$T/c.out" 604)" '"type":"ping.ok"'
	assert_eq "  the case is still active" 2 "$(sql "SELECT status FROM cases WHERE id = $CASE")"
	assert_eq "  the server runs" 0 "$(kill -0 "$SERVER_PID"; echo $?)"
	assert_match "  the log says why" "$(cat "$SERVER_ERR")" 'the commit failed \(storage_full\)'

	# The same on a connection that closes in that turn (16 bad frames
	# after the write: strikes): the write's answer still goes, the
	# error, before the close (it was dropped, the request unanswered).
	close="{\"v\":1,\"type\":\"case.close\",\"id\":610,\"case\":$CASE}"
	kill -STOP "$SERVER_PID"
	printf '%s\n' "$close" x x x x x x x x x x x x x x x x >&"$kfd"
	wait_for "the 17 frames in the server's socket" 20 \
		eval '[ "$(unread)" -ge $((${#close} + 6 + 16 * 7)) ]' || true
	kill -CONT "$SERVER_PID"
	wait_for "the connection to close" 20 pid_gone "$kpid"
	assert_match "a write whose commit fails, its connection closing: storage_full" \
		"$(answered "$T/k.out" 610)" '"code":"storage_full"'
	assert_eq "  the case is still active" 2 "$(sql "SELECT status FROM cases WHERE id = $CASE")"

	# An admin's counsellor.disable whose commit fails: Sam stays
	# connected (his connections closed before the commit, which then
	# failed: disabled for nobody, disconnected all the same)
	echo "{\"v\":1,\"type\":\"counsellor.disable\",\"id\":611,\"key\":\"$KEY_couns\"}" >&"$afd"
	wait_for "the answer" 20 answered "$T/a.out" 611 >/dev/null
	assert_match "a disable whose commit fails: storage_full" "$(answered "$T/a.out" 611)" '"code":"storage_full"'
	assert_eq "  Sam is not disabled" 0 "$(sql "SELECT disabled FROM accounts WHERE id = $(account_id couns)")"
	echo '{"v":1,"type":"ping","id":612}' >&"$sfd"
	wait_for "Sam's ping's answer" 20 answered "$T/s.out" 612 >/dev/null
	assert_match "  Sam's connection stays: ping.ok" "$(answered "$T/s.out" 612)" '"type":"ping.ok"'

	rm -f "$SMALL/fill2"	# the disk full but for the spare's room
	seqs=$(grep -m 200 '"type":"msg"' "$T/s.out" | grep -o '"seq":[0-9]*' | cut -d: -f2 | paste -sd,)
	echo "{\"v\":1,\"type\":\"msg.ack\",\"id\":2,\"seqs\":[$seqs]}" >&"$sfd"
	wait_for "the ack's answer" 20 answered "$T/s.out" 2 >/dev/null
	assert_match "an ack on the full disk: msg.ack.ok" "$(answered "$T/s.out" 2)" '"acked":200'
	assert_eq "  200 copies gone" $((before - 200)) "$(copies_for_sam)"
	echo "$(send_frame 605)" >&"$cfd"
	wait_for "the answer" 20 answered "$T/c.out" 605 >/dev/null
	assert_match "msg.send while the disk stays full: storage_full" "$(answered "$T/c.out" 605)" '"code":"storage_full"'
	# free_to MIB: the fill shrunk until MIB MiB are free (avail: the
	# bytes free then)
	free_to() {
		avail=$(df --output=avail -B1 "$SMALL" | tail -n1 | tr -d ' ')
		truncate -s "-$(($1 * 1024 * 1024 - avail))" "$SMALL/fill"
		avail=$(df --output=avail -B1 "$SMALL" | tail -n1 | tr -d ' ')
		echo "   (free now: $avail bytes)"
	}
	# 24 MiB free: the spare (8 MiB) would fit twice, but not with a
	# whole -wal (16 MiB) beside it, which a -wal cut by a TRUNCATE grows
	# back to: the spare stays away (with 16 MiB asked for, it came and
	# went about once a second)
	free_to 24
	echo "$(send_frame 607)" >&"$cfd"
	wait_for "the answer" 20 answered "$T/c.out" 607 >/dev/null
	assert_match "24 MiB free: msg.send still storage_full" "$(answered "$T/c.out" 607)" '"code":"storage_full"'
	[ ! -e "$DATA/offramp.spare" ] && pass "  the spare file stays away" ||
		fail "the spare file came back with less room than 32 MiB ($avail bytes)"
	# 36 MiB free: room enough (32 MiB)
	free_to 36
	echo "$(send_frame 606)" >&"$cfd"
	wait_for "the answer" 20 answered "$T/c.out" 606 >/dev/null
	assert_match "36 MiB free: msg.send works" "$(answered "$T/c.out" 606)" '"type":"msg.send.ok"'
	[ -f "$DATA/offramp.spare" ] && pass "  the spare file is back" ||
		fail "no spare file with $avail bytes free"
	exec {cfd}>&- {sfd}>&- {kfd}>&- {afd}>&-
	wait "$cpid" "$spid" "$kpid" "$apid" || true
	# Nothing acknowledged was lost on the way: every stored copy (the
	# sends acknowledged before, during and after the full disk, less
	# those acked) is there after kill -9 and a restart.
	copies=$(sql "SELECT group_concat(seq) FROM (SELECT seq FROM deliveries ORDER BY seq)")
	sent_mid=$(grep -oE '"mid": *"[^"]*"' <<<"$(answered "$T/c.out" 606)" | cut -d'"' -f4)
	kill9_server
	# A restart with a spare cut short (a crash while it was made) and
	# less room than a new one is made in: the server starts with the
	# disk full (it made the spare with 8 MiB free, and took msg.send)
	: >"$DATA/offramp.spare"
	fallocate -l 8M "$SMALL/fill3"
	avail=$(df --output=avail -B1 "$SMALL" | tail -n1 | tr -d ' ')
	start_server --queue-copies 261
	assert_eq "after kill -9 and a restart, every stored copy is there" \
		"$copies" "$(sql "SELECT group_concat(seq) FROM (SELECT seq FROM deliveries ORDER BY seq)")"
	assert_eq "  the send acknowledged after the room came back too" 1 \
		"$(sql "SELECT count(*) FROM deliveries WHERE mid = X'$(hexkey "$sent_mid")'")"
	[ ! -e "$DATA/offramp.spare" ] && pass "a restart with a short spare and $avail bytes free makes none" ||
		fail "a restart with a short spare and $avail bytes free made it"
	assert_match "  and says so" "$(cat "$SERVER_ERR")" 'no room for .*offramp.spare'
	out=$(cli client send "$CASE" "while full" 2>&1 || true)
	assert_match "  msg.send: storage_full" "$out" 'storage_full'
	rm -f "$SMALL/fill" "$SMALL/fill3"
	cli client send "$CASE" "room again" >/dev/null 2>&1 &&
		pass "room again after the restart: msg.send works" ||
		fail "msg.send failed with room again after the restart"
	[ -f "$DATA/offramp.spare" ] && pass "  the spare file is back" || fail "no spare file"
	# A restart with the whole spare there and some 20 MiB free: it is
	# kept, and msg.send taken
	avail=$(df --output=avail -B1 "$SMALL" | tail -n1 | tr -d ' ')
	fallocate -l $((avail - 20 * 1024 * 1024)) "$SMALL/fill"
	stop_server
	start_server --queue-copies 261
	[ -f "$DATA/offramp.spare" ] && pass "a restart with the spare there and 20 MiB free keeps it" ||
		fail "a restart with the spare there and 20 MiB free lost it"
	cli client send "$CASE" "spare kept" >/dev/null 2>&1 &&
		pass "  msg.send works" || fail "msg.send failed after a restart that kept the spare"
	rm -f "$SMALL/fill"
else
	echo "   (skipped: a small tmpfs needs root and unshare)"
fi
stop_server

step "server.key beside a missing or empty database: refused without --init"
DATA="$T/data2"
start_server
stop_server
refused() {
	local rc=0
	timeout 20 "$OFFRAMP_SERVER_BIN" --data "$DATA" --port 0 "$@" \
		>"$T/refused.out" 2>"$T/refused.err" </dev/null || rc=$?
	echo "$rc"
}
rm -f "$DATA/offramp.db" "$DATA/offramp.db-wal" "$DATA/offramp.db-shm"
assert_eq "a missing database: exit 2" 2 "$(refused)"
assert_match "  naming --init" "$(cat "$T/refused.err")" 'missing or empty.*--init'
[ ! -e "$DATA/offramp.db" ] && pass "  and no database was made" || fail "a database was made"
: >"$DATA/offramp.db"
assert_eq "an empty database: exit 2" 2 "$(refused)"
start_server --init
need_token && pass "--init: a new database, a new bootstrap token"
stop_server

step "a damaged database is refused at start (PRAGMA quick_check)"
pages=$(sql "PRAGMA page_count")
dd if=/dev/urandom of="$DATA/offramp.db" bs=4096 seek=$((pages - 1)) count=1 conv=notrunc 2>/dev/null
assert_eq "a damaged last page: exit 2" 2 "$(refused)"
assert_match "  saying so" "$(cat "$T/refused.err")" 'fails its integrity check'

finish
