# test_tls.sh: no plain-text server on a non-loopback address unless asked
# for; the CLI trusts only the CA it is given.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "non-loopback --listen without a certificate: refuses to start at once"
mkdir -p "$T/d1"
t0=$(now_ms)
rc=0
timeout -k 2 8 "$OFFRAMP_SERVER_BIN" --data "$T/d1/data" --listen 0.0.0.0 --port 0 \
	>"$T/refuse.out" 2>"$T/refuse.err" </dev/null || rc=$?
t1=$(now_ms)
SERVER_LOGS+=("$T/refuse.out" "$T/refuse.err")
assert_ne "exit status is not 0" 0 "$rc"
assert_ne "it exited by itself (not killed by timeout)" 124 "$rc"
assert_ne "it was not killed" 137 "$rc"
if [ $((t1 - t0)) -lt 5000 ]; then
	pass "it exited at once ($((t1 - t0)) ms)"
else
	fail "it took $((t1 - t0)) ms to exit"
fi
assert_not_contains "it never said it listens" "$(cat "$T/refuse.out")" "listening"
assert_ne "it explains on stderr" "" "$(cat "$T/refuse.err")"
echo "   (stderr: $(head -n 2 "$T/refuse.err"))"

step "same with --insecure-no-tls: it starts (and is stopped at once)"
DATA="$T/d2"
SERVER_TLS=0 SERVER_LISTEN=0.0.0.0 start_server --insecure-no-tls
assert_match "it listens on a port" "$PORT" '^[0-9]+$'
stop_server

step "loopback without a certificate: plain ws:// works"
DATA="$T/d3"
SERVER_TLS=0 start_server
keygen plain
out=$(SERVER_URL="ws://127.0.0.1:$PORT" cli plain login)
assert_field "login over ws:// on loopback" client "$out" role
stop_server

step "TLS: the CLI trusts the given CA only"
DATA="$T/data"
start_server
keygen client
bash "$REPO_ROOT/deploy/gen-cert.sh" "$T/other" >/dev/null
CLI_CA="$T/other/cert.pem" clirun client login
assert_ne "a CA file of another self-signed cert: the CLI fails" 0 "$RC"
assert_ne "  and not as a usage error" 2 "$RC"
assert_match "  with an offramp: error on stderr" "$ERR" '^offramp: '
assert_field "  and no account was made" "" "$OUT" role
cli_out out client login
assert_field "the right CA: login works" client "$out" role
assert_field "  and this is the account's first login" yes "$out" created
SERVER_URL="ws://127.0.0.1:$PORT" clirun client login
assert_ne "plain ws:// to the TLS server fails" 0 "$RC"
stop_server


step "gen-cert.sh renews a certificate that expires within 7 days, keeps a good one"
GC="$REPO_ROOT/deploy/gen-cert.sh"
GEN_CERT_DAYS=3 bash "$GC" "$T/tls2" >/dev/null
first=$(openssl x509 -noout -fingerprint -sha256 -in "$T/tls2/cert.pem")
out=$(bash "$GC" "$T/tls2")
assert_contains "a certificate valid for 3 days is renewed" "$out" "renewing it"
second=$(openssl x509 -noout -fingerprint -sha256 -in "$T/tls2/cert.pem")
assert_ne "  it is a new one" "$first" "$second"
openssl x509 -checkend $((20 * 86400)) -noout -in "$T/tls2/cert.pem" >/dev/null &&
	pass "  valid for 20 days more at least" || fail "the renewed certificate is short"
out=$(bash "$GC" "$T/tls2")
assert_contains "a good one is kept" "$out" "keeping them"
assert_eq "  unchanged" "$second" "$(openssl x509 -noout -fingerprint -sha256 -in "$T/tls2/cert.pem")"

step "SIGHUP loads a renewed certificate; connections go on"
mkdir -p "$T/live"
cp "$T/tls2/cert.pem" "$T/tls2/key.pem" "$T/live/"
start_server --cert "$T/live/cert.pem" --key "$T/live/key.pem"
# served_fp: the SHA-256 fingerprint of the certificate the server shows now
served_fp() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
assert_eq "the server shows the certificate it started with" "$second" "$(served_fp)"
GEN_CERT_DAYS=3 bash "$GC" "$T/tls3" >/dev/null
third=$(openssl x509 -noout -fingerprint -sha256 -in "$T/tls3/cert.pem")
cp "$T/tls3/cert.pem" "$T/tls3/key.pem" "$T/live/"
kill -HUP "$SERVER_PID"
_shows_third() { [ "$(served_fp)" = "$third" ]; }
wait_for "the server to show the renewed certificate" 20 _shows_third &&
	pass "after SIGHUP the server shows the renewed certificate"
kill -0 "$SERVER_PID" && pass "  and still runs" || fail "the server stopped on SIGHUP"
CLI_CA="$T/live/cert.pem" clirun client login
assert_eq "  a client trusting the new certificate logs in" 0 "$RC"
stop_server

finish
