# test_config.sh: one configuration file (deploy/offramp.conf documents
# every key), flags that override it, --check-config that prints the
# effective configuration or names the file, line and reason of an error
# (an unknown key, a bad value, a path it cannot use), a server that
# starts from a configuration file and serves, and a store URL it cannot
# use (unreachable, or one libpq cannot parse): a clear error naming the
# URL without its password, exit status 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SHIPPED="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/offramp.conf"
ensure_cert

# check FILE [FLAGS...]: runs --check-config; sets OUT, ERR, RC.
check() {
	local f=$1
	shift
	RC=0
	OUT=$("$OFFRAMP_SERVER_BIN" --config "$f" --check-config "$@" 2>"$T/check.err") || RC=$?
	ERR=$(cat "$T/check.err")
}

step "the shipped file documents every key the server takes"
keys=$("$OFFRAMP_SERVER_BIN" --help | sed -n 's/^  --\([a-z-]*\).*/\1/p' |
	grep -vxE 'config|check-config|new-programme|init|help|version')
for k in $keys; do
	assert_match "deploy/offramp.conf has $k" "$(cat "$SHIPPED")" "^#? ?$k = "
done

step "a whole file, and flags that override it"
cat >"$T/ok.conf" <<EOF
# a comment, and a blank line

data = $T/data
listen = 127.0.0.1
port = 0
cert = $CERT
key = $CERT_KEY
programme = Exit North
login-timeout = 20
rematch-period = 30
log-level = warn
EOF
check "$T/ok.conf"
assert_eq "--check-config exits 0" 0 "$RC"
assert_contains "it prints each setting with its source" "$OUT" "login-timeout = 20	# $T/ok.conf:9"
assert_contains "  defaults too" "$OUT" "purge-period = 600	# default"
assert_contains "  and says the configuration is usable" "$OUT" "offramp-server: the configuration is usable"
check "$T/ok.conf" --login-timeout 30
assert_contains "a flag overrides the file" "$OUT" "login-timeout = 30	# --login-timeout"

step "errors name the file, the line and the reason"
printf 'data = %s\nportt = 7443\n' "$T/data" >"$T/bad1.conf"
check "$T/bad1.conf"
assert_eq "an unknown key: exit 2" 2 "$RC"
assert_eq "  named with its line" "offramp-server: $T/bad1.conf:2: unknown key \"portt\" (see deploy/offramp.conf)" "$ERR"
printf 'data = %s\nport = 70000\n' "$T/data" >"$T/bad2.conf"
check "$T/bad2.conf"
assert_eq "a bad value: exit 2" 2 "$RC"
assert_contains "  named with its line and the bounds" "$ERR" "$T/bad2.conf:2: port must be a number from 0 to 65535, not \"70000\""
printf 'data = %s\nlog-level = loud\n' "$T/data" >"$T/bad3.conf"
check "$T/bad3.conf"
assert_contains "a bad level" "$ERR" "$T/bad3.conf:2: log-level is error, warn, info or debug"
printf 'data = %s\ncert = %s/missing.pem\nkey = %s\n' "$T/data" "$T" "$CERT_KEY" >"$T/bad4.conf"
check "$T/bad4.conf"
assert_eq "a path it cannot use: exit 2" 2 "$RC"
assert_contains "  named with its line" "$ERR" "$T/bad4.conf:2: cannot read cert $T/missing.pem"
printf 'data = %s\nlisten = 0.0.0.0\n' "$T/data" >"$T/bad5.conf"
check "$T/bad5.conf"
assert_contains "no TLS on every interface: refused, with the line" "$ERR" "$T/bad5.conf:2: refusing to listen on a non-loopback address without TLS"
printf 'data = %s\nping-after = 200\n' "$T/data" >"$T/bad7.conf"
check "$T/bad7.conf"
assert_eq "a ping later than the hangup: exit 2" 2 "$RC"
assert_contains "  named with its line" "$ERR" "$T/bad7.conf:2: hangup-after (150) must be more than ping-after (200)"
printf 'just words\n' >"$T/bad6.conf"
check "$T/bad6.conf"
assert_contains "a line that is no setting" "$ERR" "$T/bad6.conf:1: not \"key = value\""
RC=0
"$OFFRAMP_SERVER_BIN" --config "$T/none.conf" --check-config 2>"$T/check.err" || RC=$?
assert_eq "a missing configuration file: exit 2" 2 "$RC"
assert_contains "  said" "$(cat "$T/check.err")" "cannot read the configuration file $T/none.conf"

step "a server started from the file serves"
SERVER_TLS=1 start_server --config "$T/ok.conf"	# the file names the certificate
keygen client
assert_eq "a client logs in" client "$(field "$(cli client login)" role)"
assert_eq "the first programme has the file's name" "Exit North" \
	"$(sql "SELECT name FROM programmes ORDER BY id LIMIT 1")"
stop_server

step "a store URL it cannot use: named without its password, exit 2"
# store_try URL: a server started on the store URL (its data directory
# new); sets RC and ERR (its output and its log: both go to the
# terminal), 60 s at most
store_try() {
	RC=0
	timeout 60 "$OFFRAMP_SERVER_BIN" --data "$T/data-url" --listen 127.0.0.1 \
		--port 0 --store "$1" >"$T/url.out" 2>&1 </dev/null || RC=$?
	ERR=$(cat "$T/url.out")
	rm -rf -- "$T/data-url"
}
store_try "postgresql://u:sekrit0@/offramp?host=$T/no-such-dir"
if [[ $ERR == *"-DOFFRAMP_POSTGRES=ON"* ]]; then
	echo "   skip: this server is built without PostgreSQL"
else
	assert_eq "unreachable at start: exit 2" 2 "$RC"
	assert_contains "  a clear error naming the URL without its password" \
		"$ERR" "cannot reach the store postgresql://u:***@/offramp"
	assert_not_contains "  the password in neither output nor log" \
		"$ERR" sekrit0
	# libpq's parse errors quote the URL, or the token, verbatim
	store_try 'postgresql://u:sekrit1@[::1/offramp'
	assert_eq "an unclosed bracket: exit 2" 2 "$RC"
	assert_contains "  named without its password" "$ERR" \
		'postgresql://u:***@[::1/offramp'
	assert_not_contains "  the password in neither output nor log" \
		"$ERR" sekrit1
	store_try 'postgresql://u@localhost/offramp?password=sekrit2%zz'
	assert_eq "a bad percent-encoding: exit 2" 2 "$RC"
	assert_contains "  named without its password" "$ERR" \
		'postgresql://u@localhost/offramp?password=***'
	assert_not_contains "  the password in neither output nor log" \
		"$ERR" sekrit2
fi

finish
