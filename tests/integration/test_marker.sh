# test_marker.sh: the server never sees plaintext and stores or logs no IP.
# A random marker is sent both ways; then neither it (raw, base64, hex)
# nor "127.0.0.1" may appear in the database files or the server's logs.
# The database files: on SQLite, offramp.db and its -wal and -shm; on
# PostgreSQL, every file of the cluster's directory (OFFRAMP_PG_DIR, from
# tests/tools/pg.sh in: base/ of every database, pg_wal/, global/, and
# PostgreSQL's own log; a shared cluster holds other tests' databases
# too, but the marker is this test's alone), and, for the address, a dump
# of the test's database.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_DIR=""
if on_pg; then
	PG_DIR=${OFFRAMP_PG_DIR:-}
	if [ -z "$PG_DIR" ] || [ ! -d "$PG_DIR/data/pg_wal" ]; then
		fail "OFFRAMP_PG_DIR names no cluster directory [$PG_DIR]" \
		    "(tests/tools/pg.sh in sets it)"
		finish
	fi
fi

MARKER="mrk$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "   (marker $MARKER)"

# hex_of STRING: its bytes in hex
hex_of() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# forms NEEDLE: the strings that betray NEEDLE: itself, its hex, and its
# base64 at each of the three alignments (a prefix of 0, 1, 2 bytes).
forms() {
	printf '%s\n' "$1"
	hex_of "$1"
	echo
	local pre b
	for pre in "" "a" "ab"; do
		b=$(printf '%s%s' "$pre" "$1" | base64 -w0)
		# drop the characters that depend on the prefix or the end
		b=${b:$(((${#pre} + 2) / 3 * 4))}
		printf '%s\n' "${b:0:$((${#b} - 4))}"
	done
}

# found_in NEEDLE PATHS...: 0 when any form of NEEDLE is in the raw bytes
# of any file of PATHS (a directory: every file under it).
found_in() {
	local needle=$1 p paths=() hit
	shift
	for p in "$@"; do
		[ ! -e "$p" ] || paths+=("$p")
	done
	[ ${#paths[@]} -gt 0 ] || return 1
	forms "$needle" >"$T/forms"
	hit=$(grep -a -r -o -H -F -f "$T/forms" -- "${paths[@]}" | head -n 1) ||
		true
	[ -n "$hit" ] || return 1
	echo "   (${hit##*:} found in ${hit%:*})"
}

# bytes_in HEX PATHS...: 0 when the bytes of HEX are in any file of PATHS
# (a directory: every file under it). A PostgreSQL WAL segment is searched
# without its pages' headers: one opens each 8 kB page (40 bytes on the
# segment's first, 24 on the others) and may cut a record at any byte.
bytes_in() {
	local hex=$1 hit
	shift
	hit=$({ find "$@" -type f -print0 || true; } | perl -0 -e '
	    my $n = pack("H*", $ARGV[0]);
	    while (defined(my $f = <STDIN>)) {
		chomp $f;
		open(my $h, "<:raw", $f) or next;
		my $d = do { local $/; <$h> };
		if ($f =~ m{/pg_wal/[0-9A-F]{24}$}) {
			my $j = "";
			for (my $o = 0; $o < length($d); $o += 8192) {
				my $hd = $o == 0 ? 40 : 24;
				$j .= substr($d, $o + $hd, 8192 - $hd);
			}
			$d = $j;
		}
		if (index($d, $n) >= 0) { print $f; exit 0; }
	    }
	    exit 1' "$hex") || return 1
	echo "   (found in $hit)"
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
cli_out out couns recv --count 1
assert_eq "counsellor gets the marker" "$CASE"$'\t'"$CLIENT_NAME"$'\t'"client says $MARKER" "$out"
cli couns send "$CASE" "counsellor says $MARKER" >/dev/null
cli_out out client recv --count 1
assert_eq "client gets the marker" "$CASE"$'\t'"$COUNS_NAME"$'\t'"counsellor says $MARKER" "$out"
# one more, left unread, so that a copy is stored when we look
cli client send "$CASE" "unread $MARKER" >/dev/null
assert_eq "an unread copy is stored" 1 "$(sql "SELECT count(*) FROM deliveries")"

# the store's files that hold this test's rows once committed: SQLite's
# database and its WAL; PostgreSQL's WAL (its base/ is written at a
# checkpoint)
if on_pg; then
	committed=("$PG_DIR/data/pg_wal")
else
	mapfile -t committed < <(data_files)
fi
CT_HEX=$(sql "SELECT hex(substr(ct, 1, 32)) FROM deliveries")
assert_match "the unread copy's ciphertext starts with 32 bytes" \
	"$CT_HEX" '^[0-9A-F]{64}$'

step "the search can fail: it finds what the server stored, where it stored it"
bytes_in "$CT_HEX" "${committed[@]}" &&
	pass "the unread copy's ciphertext found in ${committed[*]##*/}" ||
	fail "the unread copy's ciphertext not found in ${committed[*]##*/}"
bytes_in "$(hex_of "$CLIENT_NAME")" "${committed[@]}" &&
	pass "the client's pseudonym found in ${committed[*]##*/}" ||
	fail "the client's pseudonym not found in ${committed[*]##*/}"
NEVER_HEX=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
! bytes_in "$NEVER_HEX" "${committed[@]}" &&
	! found_in "zz$MARKER" "${committed[@]}" &&
	pass "bytes and a string never written are not found" ||
	fail "the search finds what was never written"

# check_files WHEN: the marker in no file of the store and in no log, no
# loopback address in the database (SQLite's files; PostgreSQL's dump of
# the test's database) or the logs (PostgreSQL's among them), no IPv4
# address in the server's logs.
check_files() {
	local when=$1
	local files=() logs=() plain=() f n
	logs=("${SERVER_LOGS[@]}")
	if on_pg; then
		files=("$PG_DIR")
		n=$({ find "$PG_DIR/data/base" "$PG_DIR/data/pg_wal" \
		    "$PG_DIR/data/global" -type f || true; } | wc -l)
		echo "   (the cluster's directory $when: $n files in base/," \
		    "pg_wal/, global/)"
		sql .dump >"$T/dump.sql"
		plain=("$T/dump.sql" "$PG_DIR/server.log")
		assert_ne "the test's database dumps to something $when" 0 \
			"$(grep -c -F 'COPY public.' "$T/dump.sql" || true)"
	else
		mapfile -t files < <(data_files)
		n=${#files[@]}
		echo "   (data files $when: ${files[*]##*/})"
		plain=("${files[@]}")
	fi
	assert_ne "database files exist $when" 0 "$n"
	found_in "$MARKER" "${files[@]}" &&
		fail "marker is in the database files $when" ||
		pass "marker in no database file $when"
	found_in "$MARKER" "${logs[@]}" &&
		fail "marker is in the server's logs $when" ||
		pass "marker in no server log $when"
	for f in "${plain[@]}" "${logs[@]}"; do
		[ -e "$f" ] || continue
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

if on_pg; then
	step "after a clean stop and a checkpoint (the WAL's pages in base/)"
	stop_server
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$STORE_URL" -c CHECKPOINT
	stored=("$PG_DIR/data/base")
else
	step "after a clean stop (WAL checkpointed)"
	stop_server
	stored=("$DATA/offramp.db")
fi
bytes_in "$CT_HEX" "${stored[@]}" &&
	pass "the unread copy's ciphertext found in ${stored[*]##*/}" ||
	fail "the unread copy's ciphertext not found in ${stored[*]##*/}"
check_files "after stop"

finish
