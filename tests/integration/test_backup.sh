# test_backup.sh: backups that restore. A backup taken while the server
# runs and clients send is one consistent database (0600); restored into a
# new data directory (with the server's key), a server started there
# delivers every message acknowledged before the backup began. A restore
# never replaces a database, and refuses a damaged backup; a backup never
# replaces a file, and on a full disk fails, leaving nothing behind and
# the live database untouched.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sqlite_only "--backup copies SQLite's database file"

start_server
setup_pool
keygen client
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "the client has a case with Sam" "$CASE" '^[0-9]+$'
counsellor_down couns		# the case is Sam's; Sam reads later, from the restored server

step "ten messages acknowledged, then a backup while twenty more are sent"
for i in $(seq 1 10); do
	echo "before the backup $i" | cli client send "$CASE" - >/dev/null
done
( for i in $(seq 1 20); do
	echo "during the backup $i" | cli client send "$CASE" - >/dev/null || exit 1
	if [ "$i" = 3 ]; then : >"$T/sending"; fi
done ) &
sender=$!
wait_for "the load to be under way" 60 test -e "$T/sending"
out=$("$OFFRAMP_SERVER_BIN" backup --data "$DATA" --to "$T/backup.db")
assert_eq "backup says where" "offramp-server: backed up to $T/backup.db" "$out"
wait "$sender" && pass "the sends during the backup were all acknowledged" ||
	fail "a send during the backup failed"
assert_eq "the backup is private" 600 "$(file_mode "$T/backup.db")"
assert_eq "the backup passes its integrity check" ok \
	"$(sqlite3 -readonly "$T/backup.db" 'PRAGMA integrity_check')"
rc=0
"$OFFRAMP_SERVER_BIN" backup --data "$DATA" --to "$T/backup.db" 2>"$T/again.err" || rc=$?
assert_eq "a backup never replaces a file" 1 "$rc"
assert_contains "  and says so" "$(cat "$T/again.err")" "the target exists already"

step "restored into a new data directory, a server there delivers them all"
NEW="$T/restored"
out=$("$OFFRAMP_SERVER_BIN" restore --from "$T/backup.db" --data "$NEW")
assert_contains "restore says where" "$out" "offramp-server: restored into $NEW"
assert_contains "  and what else to copy" "$out" "copy the server's key (server.key)"
cp "$DATA/server.key" "$NEW/server.key"
assert_eq "the restored database is private" 600 "$(file_mode "$NEW/offramp.db")"
stop_server
OLD_DATA=$DATA
DATA=$NEW
start_server
held=$(sqlite3 -readonly "$T/backup.db" "SELECT count(*) FROM deliveries d
    JOIN accounts a ON a.id = d.recipient_id WHERE a.key = X'$(hexkey "$KEY_couns")'")
assert_match "the backup holds Sam's ten copies or more" "$held" '^([1-9][0-9]+)$'
cli_out out couns recv --count "$held"
for i in $(seq 1 10); do
	assert_contains "message $i acknowledged before the backup is there" "$out" "before the backup $i"
done
echo "   ($((held - 10)) of the 20 sent during the backup were in it)"
stop_server

step "restore refuses a database in place, and a damaged backup"
rc=0
"$OFFRAMP_SERVER_BIN" restore --from "$T/backup.db" --data "$NEW" 2>"$T/r.err" || rc=$?
assert_eq "a restore onto a database: refused" 1 "$rc"
head -c 8192 "$T/backup.db" >"$T/damaged.db"
rc=0
"$OFFRAMP_SERVER_BIN" restore --from "$T/damaged.db" --data "$T/fresh" 2>"$T/r.err" || rc=$?
assert_eq "a damaged backup: refused" 1 "$rc"
assert_contains "  it fails its checks" "$(cat "$T/r.err")" "fails its checks"
assert_eq "  and no database was installed" "" "$(ls "$T/fresh" 2>/dev/null | grep offramp.db || true)"

step "a backup onto a full disk fails, leaves nothing, and the live database is untouched"
DATA=$OLD_DATA
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	before=$(sha256sum <"$DATA/offramp.db")
	rc=0
	unshare -m sh -c 'mkdir -p "$1/small" && mount -t tmpfs -o size=16k tmpfs "$1/small" &&
		"$2" backup --data "$3" --to "$1/small/b.db"; r=$?; ls "$1/small" >"$1/small.ls"; exit $r' \
		_ "$T" "$OFFRAMP_SERVER_BIN" "$DATA" 2>"$T/full.err" || rc=$?
	assert_eq "the backup fails" 1 "$rc"
	assert_contains "  saying the disk is full" "$(cat "$T/full.err")" "the disk is full"
	assert_eq "  nothing is left on the small disk" "" "$(cat "$T/small.ls")"
	assert_eq "  the live database is unchanged" "$before" "$(sha256sum <"$DATA/offramp.db")"
else
	echo "   (skipped: a small tmpfs needs root and unshare)"
fi

finish
