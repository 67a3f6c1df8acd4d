# test_wal_gone.sh: deleted means gone from disk. Every ciphertext the
# server relays is captured from the deliveries table while its copy
# waits; once both sides have acked everything, copies of offramp.db, its
# -wal and its -shm, taken while the server runs, hold none of them
# (secure_delete zeroes the deleted copies, a TRUNCATE checkpoint empties
# the -wal). A reader holding an old snapshot defers the checkpoint
# without holding up the ack; the TRUNCATE is tried again on its own. After
# a burst of large messages (7 MB of -wal, short of the loop's bound of 12
# MiB, where it starts it over: test_loop_timers.sh loads it past that)
# the -wal stays within the journal_size_limit (16 MiB) and is emptied
# again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sqlite_only "it reads offramp.db, its -wal and -shm while the server runs"

WAL_LIMIT=16777216	# store_db.c's journal_size_limit
WAL="$DATA/offramp.db-wal"

MARKER="wal$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "   (marker $MARKER)"

CTS=()	# the hex of every ciphertext the server relayed

# capture_ct: the newest copy waiting on the server, into CTS.
capture_ct() {
	local ct
	ct=$(sql "SELECT hex(ct) FROM deliveries ORDER BY seq DESC LIMIT 1")
	if [ "${#ct}" -lt 160 ]; then
		fail "a sent message left no copy of 80 bytes or more (${#ct} hex)"
		return 1
	fi
	CTS+=("$ct")
}

# snapshot DIR: copies offramp.db, -wal and -shm (those that exist) into
# DIR, while the server runs, and writes the hex of each file X beside it
# (X.hex, one line). The -wal first: a checkpoint that runs between two
# copies (the checkpoint thread's TRUNCATE, up to a second after an ack) has
# then either copied its pages into offramp.db before it is read, or
# left them in the -wal read before it; with offramp.db first, a page
# could be in neither copy.
snapshot() {
	local dir=$1 f
	mkdir -p "$dir"
	for f in "$DATA/offramp.db-wal" "$DATA/offramp.db-shm" "$DATA/offramp.db"; do
		[ -e "$f" ] && cp "$f" "$dir/"
	done
	for f in "$dir"/offramp.db*; do
		od -An -tx1 -v "$f" | tr -d ' \n' | tr a-f A-F >"$f.hex"
	done
}

# slices HEX: two 32-byte slices of a ciphertext (64 hex digits each):
# after its first 16 bytes, and its last 32.
slices() {
	local h=$1
	printf '%s\n%s\n' "${h:32:64}" "${h: -64}"
}

# found DIR HEX: 0 when a slice of the ciphertext is in DIR's files, at a
# byte boundary (an even offset of the hex).
found() {
	local dir=$1 s f
	while read -r s; do
		for f in "$dir"/*.hex; do
			if grep -o -b -F -- "$s" "$f" |
				awk -F: '$1 % 2 == 0 { ok = 1 } END { exit !ok }'; then
				echo "   (a slice found in $(basename "$f" .hex))"
				return 0
			fi
		done
	done < <(slices "$2")
	return 1
}

# wal_bytes: WAL_BYTES is the size of the -wal now (0 when there is
# none); one process (stat), no subshell: the burst below samples it
# in a loop.
wal_bytes() {
	WAL_BYTES=0
	if [ -e "$WAL" ] && stat -c %s "$WAL" >"$T/wal_bytes" 2>/dev/null; then
		read -r WAL_BYTES <"$T/wal_bytes"
	fi
}

# wal_empty_within SEC: waits until the -wal is empty, at most SEC
# seconds; 0 when it was (empty: absent or of size 0, as [ -s ] tells
# without a process).
wal_empty_within() {
	local deadline
	_now_ms
	deadline=$((NOW_MS + $1 * 1000))
	while [ -s "$WAL" ]; do
		_now_ms
		[ "$NOW_MS" -lt "$deadline" ] || return 1
		nap 0.05
	done
	return 0
}

start_server --log-level debug
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case" "$CASE" '^[0-9]+$'

step "the counsellor keeps notes (kept, not deleted), padded like messages"
cli_out out couns note "$CASE" "note $MARKER"
assert_match "the note is stored" "$out" '^note: [0-9]+$'
cli couns note "$CASE" "a longer note $(printf 'x%.0s' $(seq 1 900))" >/dev/null
# nonce (24) + padding + tag (16) is one of the two sizes of a message:
# 1024 for 8 + 32 bytes, 16282 for 8 + 914 (over 869)
assert_eq "each note's ciphertext has a padded size" "1024 16282" \
	"$(sql "SELECT group_concat(length(ct), ' ') FROM (SELECT ct FROM case_notes ORDER BY id)")"

step "a conversation both ways; each copy captured while it waits"
for i in 1 2 3; do
	a="client $i $MARKER $(head -c 24 /dev/urandom | base64 -w0)"
	b="counsellor $i $MARKER $(head -c 24 /dev/urandom | base64 -w0)"
	cli client send "$CASE" "$a" >/dev/null
	capture_ct
	cli_out out couns recv --count 1
	assert_eq "round $i: the counsellor reads the client" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"$a" "$out"
	cli couns send "$CASE" "$b" >/dev/null
	capture_ct
	cli_out out client recv --count 1
	assert_eq "round $i: the client reads the counsellor" "$CASE"$'\t'"$COUNS_NAME"$'\t'"$b" "$out"
done
last="last word $MARKER $(head -c 24 /dev/urandom | base64 -w0)"
cli client send "$CASE" "$last" >/dev/null
capture_ct
assert_eq "seven ciphertexts captured" 7 "${#CTS[@]}"
# the client's first messages carry the X3DH fields, the replies do not:
# the same size all the same (CRYPTO.md, "Padding")
assert_eq "every copy is 1024 bytes, first message or later" 1024 \
	"$(for c in "${CTS[@]}"; do echo $((${#c} / 2)); done | sort -u)"

step "the check can fail: a copy still waiting is found in the files"
snapshot "$T/waiting"
found "$T/waiting" "${CTS[6]}" && pass "the waiting copy is found in a copy of the files" ||
	fail "the waiting copy is not found: the search cannot see ciphertexts"
found "$T/waiting" "$(head -c 80 /dev/urandom | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F)" &&
	fail "random bytes never stored are found" ||
	pass "random bytes never stored are not found"

step "a reader holds an old snapshot: the checkpoint waits, requests do not"
# bash unsets READER and READER_PID once the coprocess ends: keep copies
coproc READER { sqlite3 -readonly -batch -noheader "$DATA/offramp.db" 2>&1; }
reader_pid=$READER_PID reader_in=${READER[1]} reader_out=${READER[0]}
echo "BEGIN; SELECT 'reading', count(*) FROM deliveries;" >&"$reader_in"
read -r -t 10 line <&"$reader_out" || line=""
assert_eq "the reader's transaction is open" "reading|1" "$line"
deferred() {
	cat "${SERVER_LOGS[@]}" | grep -c 'checkpoint: a reader holds the WAL' || true
}
before=$(deferred)
t0=$(now_ms)
cli_out out couns recv --count 1
t1=$(now_ms)
assert_eq "the counsellor reads the last message" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"$last" "$out"
wait_for "every copy acked" 20 test "$(sql "SELECT count(*) FROM deliveries")" = 0
# (eval: deferred is counted again at each try; the checkpoint thread tries
# the TRUNCATE up to a second after the ack's commit)
wait_for "the server to log the deferred checkpoint" 20 \
	eval 'test "$(deferred)" -gt "$before"'
echo "   (recv with the ack took $((t1 - t0)) ms)"
[ $((t1 - t0)) -lt 4000 ] && pass "the ack was not held up by the reader" ||
	fail "the ack took $((t1 - t0)) ms while a reader held the WAL"
snapshot "$T/reader"
found "$T/reader" "${CTS[6]}" && pass "the acked copy's old frames are still in the -wal" ||
	fail "the acked copy is gone although the checkpoint could not run"
echo "COMMIT;" >&"$reader_in"
exec {reader_in}>&-
wait "$reader_pid" 2>/dev/null || true
again="after the reader $MARKER $(head -c 24 /dev/urandom | base64 -w0)"
cli client send "$CASE" "$again" >/dev/null
capture_ct
cli_out out couns recv --count 1
assert_eq "the counsellor reads one more" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"$again" "$out"
wait_for "every copy acked" 20 test "$(sql "SELECT count(*) FROM deliveries")" = 0

step "all acked: the WAL is emptied, and no ciphertext is on disk"
if wal_empty_within 45; then
	pass "the -wal was emptied (TRUNCATE checkpoint)"
else
	wal_bytes
	fail "the -wal still holds $WAL_BYTES bytes 45 s after the last ack"
fi
snapshot "$T/acked"
echo "   (copied: $(cd "$T/acked" && ls offramp.db* | grep -v hex | tr '\n' ' '))"
n=0
for i in "${!CTS[@]}"; do
	if found "$T/acked" "${CTS[$i]}"; then
		fail "ciphertext $((i + 1)) is still in a copy of the database files"
		n=$((n + 1))
	fi
done
assert_eq "none of the ${#CTS[@]} ciphertexts is on disk" 0 "$n"
cli_out out couns notes "$CASE"
assert_eq "the notes still read back, two" 2 "$(wc -l <<<"$out")"
assert_match "  the short one" "$(head -n1 <<<"$out")" " note $MARKER\$"
assert_match "  and the long one" "$(tail -n1 <<<"$out")" " a longer note x{900}\$"

step "a burst of large messages: the -wal stays within 16 MiB"
big=$(head -c 6000 /dev/urandom | base64 -w0)
count=120
max=0
for i in $(seq 1 "$count"); do
	printf '%d %s\n' "$i" "$big"
done | cli client chat "$CASE" >/dev/null &
chat_pid=$!
while kill -0 "$chat_pid" 2>/dev/null; do
	wal_bytes
	[ "$WAL_BYTES" -le "$max" ] || max=$WAL_BYTES
	nap 0.05
done
wait "$chat_pid" && pass "the client sent the burst" || fail "the client's chat failed"
assert_eq "the burst waits on the server" "$count" "$(sql "SELECT count(*) FROM deliveries")"
wal_bytes
[ "$WAL_BYTES" -le "$max" ] || max=$WAL_BYTES
echo "   (largest -wal seen during the burst: $max bytes)"
[ "$max" -le "$WAL_LIMIT" ] && pass "the -wal stayed within $WAL_LIMIT bytes" ||
	fail "the -wal grew to $max bytes, over $WAL_LIMIT"
cli couns recv --count "$count" >"$T/burst.out"
assert_eq "the counsellor reads the burst" "$count" "$(wc -l <"$T/burst.out")"
wait_for "every copy of the burst acked" 20 test "$(sql "SELECT count(*) FROM deliveries")" = 0
if wal_empty_within 45; then
	pass "the -wal is emptied after the burst is acked"
else
	wal_bytes
	fail "the -wal still holds $WAL_BYTES bytes after the burst was acked"
fi

finish
