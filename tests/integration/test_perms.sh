# test_perms.sh: file modes of the data directory and the CLI key file; the
# key file holds the secret key only encrypted; a wrong passphrase fails.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
need_token

step "data directory and files are private"
assert_eq "data directory mode" 700 "$(file_mode "$DATA")"
# (on PostgreSQL the data directory holds no database file)
on_pg || assert_eq "offramp.db mode" 600 "$(file_mode "$DATA/offramp.db")"
assert_eq "server.key mode" 600 "$(file_mode "$DATA/server.key")"
for f in "$DATA/offramp.db-wal" "$DATA/offramp.db-shm"; do
	[ -e "$f" ] && assert_eq "$(basename "$f") mode" 600 "$(file_mode "$f")"
done
others=$(find "$DATA" -mindepth 1 -perm /077 -printf '%P %m\n')
assert_eq "no file in the data directory is open to group or others" "" "$others"

step "the bootstrap token is in a 0600 file, never in the server's output"
assert_eq "bootstrap-token mode" 600 "$(file_mode "$DATA/bootstrap-token")"
assert_match "the file holds the token" "$TOKEN" '^[A-Za-z0-9_-]{20,}$'
assert_not_contains "stdout does not show the token" "$(cat "$SERVER_OUT")" "$TOKEN"
assert_not_contains "stderr does not show it either" "$(cat "$SERVER_ERR")" "$TOKEN"
assert_contains "stdout says where it is" "$(cat "$SERVER_OUT")" \
	"offramp-server: bootstrap admin token in $DATA/bootstrap-token"

step "one server per data directory"
rc=0
err=$(timeout 20 "$OFFRAMP_SERVER_BIN" --data "$DATA" --port 0 2>&1 >/dev/null) || rc=$?
assert_eq "a second server on the same directory exits 1" 1 "$rc"
assert_contains "  and says why" "$err" "another offramp-server uses the data directory $DATA"
keygen probe
assert_eq "the first one still serves" client "$(field "$(cli probe login)" role)"
assert_match "--version" "$("$OFFRAMP_SERVER_BIN" --version)" '^offramp-server [0-9]+\.[0-9]+\.[0-9]+$'

step "CLI key file"
umask 022			# the CLI must not rely on the umask
KEY_client=$(field "$(cli client keygen --kdf min)" key)	# the CLI's own keygen
kf="$IDS/client.key"
assert_eq "key file mode" 600 "$(file_mode "$kf")"
pk_hex=$(printf '%s' "$KEY_client" | base64 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')
assert_eq "the printed key is 32 bytes of base64" 64 "${#pk_hex}"
assert_eq "the printed key is the login key" client "$(field "$(cli client login)" role)"
assert_eq "the key file does not hold the passphrase" "" \
	"$(grep -a -F 'pass-client' "$kf" || true)"

# seed_in FILE PK_B64: 0 when some 32-byte window of FILE (raw, or decoded
# from base64 or hex in it) is an Ed25519 seed whose public key is PK_B64:
# the secret key in the clear, in any usual encoding (tests/tools/seed_scan.c).
seed_in() {
	local rc=0
	"$OFFRAMP_SEED_SCAN_BIN" "$1" "$2" || rc=$?
	[ "$rc" -le 1 ] || fail "seed_scan could not read $1"
	return "$rc"
}

step "the check can fail: a file with a secret key in the clear is caught"
openssl genpkey -algorithm ed25519 -outform DER -out "$T/probe.der" 2>/dev/null
probe_seed=$(tail -c 32 "$T/probe.der" | od -An -tx1 -v | tr -d ' \n')
probe_pk=$(openssl pkey -inform DER -in "$T/probe.der" -pubout -outform DER | tail -c 32 | base64 -w0)
printf 'version 1\nsk:%s\n' "$( (printf '%s' "$probe_seed" | xxd -r -p; printf '%s' "$probe_pk" | base64 -d) | base64 -w0)" >"$T/probe.b64"
seed_in "$T/probe.b64" "$probe_pk" && pass "seed found in a base64 key file" ||
	fail "seed not found in a base64 key file"
(head -c 17 /dev/urandom; printf '%s' "$probe_seed" | xxd -r -p; head -c 9 /dev/urandom) >"$T/probe.raw"
seed_in "$T/probe.raw" "$probe_pk" && pass "seed found in a binary key file" ||
	fail "seed not found in a binary key file"
printf 'seed = "a%s"\n' "$probe_seed" >"$T/probe.hex"
seed_in "$T/probe.hex" "$probe_pk" && pass "seed found in a hex key file, off alignment" ||
	fail "seed not found in a hex key file"
printf '{"pk":"%s","note":"public key only"}\n' "$probe_pk" >"$T/probe.pub"
seed_in "$T/probe.pub" "$probe_pk" && fail "a public key alone was taken for a secret" ||
	pass "a file with only the public key passes"

step "the CLI key file holds no secret key in the clear"
seed_in "$kf" "$KEY_client" && fail "the secret key is in the key file in the clear" ||
	pass "no window of the key file is the secret seed"

step "keygen refuses to overwrite"
sum=$(sha256sum <"$kf")
clirun client keygen --kdf min
assert_ne "keygen on an existing file fails" 0 "$RC"
assert_eq "the key file is unchanged" "$sum" "$(sha256sum <"$kf")"

step "a wrong passphrase fails with a clear error"
PASS_OVERRIDE="not-the-passphrase" clirun client login
assert_eq "exit status 1" 1 "$RC"
assert_match "stderr names the passphrase" "$ERR" '^offramp: .*[Pp]assphrase'
assert_eq "nothing on stdout" "" "$OUT"
assert_eq "the right passphrase still works" client "$(field "$(cli client login)" role)"

stop_server
finish
