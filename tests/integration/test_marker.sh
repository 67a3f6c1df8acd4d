# test_marker.sh: the server never sees plaintext and stores or logs no IP.
# A random marker is sent both ways; then neither it (raw, base64, hex)
# nor "127.0.0.1" may appear in the database files or the server's logs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sqlite_only "it looks for the marker in offramp.db and its -wal"

MARKER="mrk$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "   (marker $MARKER)"

# forms NEEDLE: the strings that betray NEEDLE: itself, its hex, and its
# base64 at each of the three alignments (a prefix of 0, 1, 2 bytes).
forms() {
	printf '%s\n' "$1"
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
	echo
	local pre b
	for pre in "" "a" "ab"; do
		b=$(printf '%s%s' "$pre" "$1" | base64 -w0)
		# drop the characters that depend on the prefix or the end
		b=${b:$(((${#pre} + 2) / 3 * 4))}
		printf '%s\n' "${b:0:$((${#b} - 4))}"
	done
}

# found_in NEEDLE FILES...: 0 when any form of NEEDLE is in the raw bytes
# of any file.
found_in() {
	local needle=$1 f form
	shift
	while read -r form; do
		for f in "$@"; do
			[ -e "$f" ] || continue
			if grep -a -q -F -- "$form" "$f"; then
				echo "   ($form found in $(basename "$f"))"
				return 0
			fi
		done
	done < <(forms "$needle")
	return 1
}

step "the check can fail: it finds the marker where it was written"
printf 'xx%syy\n' "$MARKER" >"$T/probe.txt"
found_in "$MARKER" "$T/probe.txt" && pass "marker found in a plain file" ||
	fail "marker not found in a plain file"
printf '{"ct":"%s"}\n' "$(printf 'a%s' "$MARKER" | base64 -w0)" >"$T/probe.b64"
found_in "$MARKER" "$T/probe.b64" && pass "base64 of the marker found" ||
	fail "base64 of the marker not found"
sqlite3 "$T/probe.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(x);
    INSERT INTO t VALUES('$MARKER');" >/dev/null
found_in "$MARKER" "$T/probe.db" "$T/probe.db-wal" &&
	pass "marker found in a sqlite database" ||
	fail "marker not found in a sqlite database"
found_in "$MARKER" "$T/probe.txt" "$T/probe.b64" "$T/probe.db" &&
	! found_in "zz$MARKER" "$T/probe.txt" && pass "a string never written is not found" ||
	fail "the search finds what was never written"

start_server --log-level debug
setup_pool
keygen client
CLIENT_NAME=$(field "$(cli client login)" name)
CASE=$(field "$(cli client request --language en --topic leaving)" case)

step "the marker travels both ways"
cli client send "$CASE" "client says $MARKER" >/dev/null
out=$(cli couns recv --count 1)
assert_eq "counsellor gets the marker" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"client says $MARKER" "$out"
cli couns send "$CASE" "counsellor says $MARKER" >/dev/null
out=$(cli client recv --count 1)
assert_eq "client gets the marker" "$CASE"$'\t'"$COUNS_NAME"$'\t'"counsellor says $MARKER" "$out"
# one more, left unread, so that a copy is stored when we look
cli client send "$CASE" "unread $MARKER" >/dev/null
assert_eq "an unread copy is stored" 1 "$(sql "SELECT count(*) FROM deliveries")"

check_files() {
	local when=$1
	local files=() logs=()
	mapfile -t files < <(data_files)
	logs=("${SERVER_LOGS[@]}")
	echo "   (data files $when: ${files[*]##*/})"
	assert_ne "database files exist $when" 0 "${#files[@]}"
	found_in "$MARKER" "${files[@]}" &&
		fail "marker is in the database files $when" ||
		pass "marker in no database file $when"
	found_in "$MARKER" "${logs[@]}" &&
		fail "marker is in the server's logs $when" ||
		pass "marker in no server log $when"
	local f
	for f in "${files[@]}" "${logs[@]}"; do
		if grep -a -q -F '127.0.0.1' "$f"; then
			fail "127.0.0.1 appears in $(basename "$f") $when"
			grep -a -n -F '127.0.0.1' "$f" | head -n 3 | cut -c1-200 | sed 's/^/        | /'
		else
			pass "no 127.0.0.1 in $(basename "$f") $when"
		fi
	done
	# a dotted IPv4 other than a version number, anywhere in the logs
	if cat "${logs[@]}" | grep -a -q -E '(^|[^0-9.])(([0-9]{1,3}\.){3}[0-9]{1,3})([^0-9.]|$)'; then
		fail "an IPv4 address appears in the server's logs $when"
		cat "${logs[@]}" | grep -a -E '(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}([^0-9.]|$)' |
			head -n 3 | sed 's/^/        | /'
	else
		pass "no IPv4 address in the server's logs $when"
	fi
}

step "while the server runs: database, WAL, SHM and logs"
log_lines=$(cat "${SERVER_LOGS[@]}" | wc -l)
assert_ne "the server logged something at debug level" 0 "$log_lines"
check_files "while running"

step "after a clean stop (WAL checkpointed)"
stop_server
check_files "after stop"

finish
