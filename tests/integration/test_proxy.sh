# test_proxy.sh: what goes in front of the server, as deploy/ ships it.
# The nginx site (deploy/nginx/offramp.conf) passes `nginx -t`, then runs
# in front of the real offramp-server on loopback ports: it serves the
# web client's files over TLS 1.2+ and HTTP/2 with the headers the server
# itself sends, carries the CLI's WebSocket (a whole exchange, and a
# message pushed through the open connection), passes on no client
# address, and writes none to any log. The onion service's torrc
# (deploy/tor/torrc) passes `tor --verify-config`, which only parses: no
# tor starts, nothing reaches the network. The three files agree on the
# server's address (deploy/offramp.conf).
#
# nginx and tor come from deploy/install-deps.sh --test; without them
# this test fails, it does not skip.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SITE="$REPO_ROOT/deploy/nginx/offramp.conf"
TORRC="$REPO_ROOT/deploy/tor/torrc"
SERVER_CONF="$REPO_ROOT/deploy/offramp.conf"
DIST="$REPO_ROOT/client-web/dist"

step "the tools and the built web client are there"
missing=""
for tool in nginx tor curl python3 ss; do
	command -v "$tool" >/dev/null 2>&1 || missing+=" $tool"
done
assert_eq "nginx, tor, curl, python3 and ss are installed (deploy/install-deps.sh --test)" "" "$missing"
[ -f "$DIST/index.html" ] && pass "client-web/dist is built" ||
	fail "no $DIST/index.html: run deploy/build-web.sh"
[ -z "$missing" ] && [ -f "$DIST/index.html" ] || finish

# The site's files as an operator installs them (cp -r client-web/dist/.
# /usr/share/offramp/web/). When the test runs as root, nginx's workers
# run as nobody, as Debian's run as www-data: they may pass through $T
# (not list it) and read these files, nothing else of the test.
WEB="$T/web"
mkdir -p "$WEB"
cp -r "$DIST/." "$WEB/"
chmod -R a+rX "$WEB"
if [ "$(id -u)" -eq 0 ]; then
	chmod 0711 "$T"
fi

# nginx's own certificate for 127.0.0.1: not the one of lib.sh, so that a
# client that trusts only the server's cannot pass through nginx.
NGX_TLS="$T/nginx-tls"
bash "$REPO_ROOT/deploy/gen-cert.sh" "$NGX_TLS" >/dev/null
NGX_CERT="$NGX_TLS/cert.pem"

# free_port: a TCP port of 127.0.0.1 that nobody listens on now.
free_port() {
	"$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# site_copy SRC DEST UPSTREAM_PORT HTTPS_PORT HTTP_PORT LOGDIR: the site
# SRC with only what names this host changed: listen on 127.0.0.1 only
# (the [::] lines go), this test's certificate, web directory, upstream
# port and error log. Everything else is the shipped file.
site_copy() {
	sed -e "s#^\([[:space:]]*\)listen 443 ssl http2;#\1listen 127.0.0.1:$4 ssl http2;#" \
		-e "s#^\([[:space:]]*\)listen 80;#\1listen 127.0.0.1:$5;#" \
		-e '/^[[:space:]]*listen \[::\]:/d' \
		-e "s#ssl_certificate /etc/ssl/offramp/fullchain.pem;#ssl_certificate $NGX_CERT;#" \
		-e "s#ssl_certificate_key /etc/ssl/offramp/privkey.pem;#ssl_certificate_key $NGX_TLS/key.pem;#" \
		-e "s#root /usr/share/offramp/web;#root $WEB;#" \
		-e "s#server 127.0.0.1:7443;#server 127.0.0.1:$3;#" \
		-e "s#/var/log/nginx/offramp.error.log#$6/offramp.error.log#" \
		"$1" >"$2"
}

NGINX_PIDS=()
NGX_DIR=""
NGX_PID=""
NGX_PORT=""
NGX_HTTP_PORT=""

# nginx_conf NAME UPSTREAM_PORT [SITE]: the directory $T/NAME with a copy
# of the site (SITE, default the shipped one; see site_copy) on two free
# ports and a small nginx.conf around it: the http block of Debian's
# nginx.conf as far as it matters here (an access log for every site, the
# error log at "error"), daemon off, and every path in $T/NAME. Sets
# NGX_DIR, NGX_PORT, NGX_HTTP_PORT.
nginx_conf() {
	local d="$T/$1" user=""
	NGX_DIR=$d
	NGX_PORT=$(free_port)
	NGX_HTTP_PORT=$(free_port)
	while [ "$NGX_HTTP_PORT" = "$NGX_PORT" ]; do
		NGX_HTTP_PORT=$(free_port)
	done
	mkdir -p "$d/logs" "$d/tmp"
	site_copy "${3:-$SITE}" "$d/site.conf" "$2" "$NGX_PORT" "$NGX_HTTP_PORT" "$d/logs"
	if [ "$(id -u)" -eq 0 ]; then
		user="user nobody $(id -gn nobody);"
	fi
	cat >"$d/nginx.conf" <<-EOF
	$user
	worker_processes 1;
	daemon off;
	pid $d/nginx.pid;
	error_log $d/logs/error.log error;
	events {
		worker_connections 64;
	}
	http {
		access_log $d/logs/access.log;
		client_body_temp_path $d/tmp/body;
		proxy_temp_path $d/tmp/proxy;
		fastcgi_temp_path $d/tmp/fastcgi;
		uwsgi_temp_path $d/tmp/uwsgi;
		scgi_temp_path $d/tmp/scgi;
		include $d/site.conf;
	}
	EOF
}

# ngx ARGS...: nginx on the configuration of NGX_DIR.
ngx() {
	nginx -p "$NGX_DIR/" -c "$NGX_DIR/nginx.conf" -e "$NGX_DIR/logs/startup.log" "$@"
}

_listens() {
	(: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_nginx_up_or_gone() {
	kill -0 "$NGX_PID" 2>/dev/null || return 0
	[ -s "$NGX_DIR/nginx.pid" ] && _listens "$NGX_PORT" && _listens "$NGX_HTTP_PORT"
}

# nginx_start: starts nginx on NGX_DIR in the background and waits until
# it listens on both ports; sets NGX_PID (the master).
nginx_start() {
	# nginx itself in the background (not the function ngx, whose $!
	# would be a subshell)
	nginx -p "$NGX_DIR/" -c "$NGX_DIR/nginx.conf" -e "$NGX_DIR/logs/startup.log" \
		>"$NGX_DIR/nginx.out" 2>&1 </dev/null &
	NGX_PID=$!
	NGINX_PIDS+=("$NGX_PID")
	SERVER_LOGS+=("$NGX_DIR/nginx.out" "$NGX_DIR/logs/startup.log" "$NGX_DIR/logs/error.log")
	wait_for "nginx to listen on 127.0.0.1:$NGX_PORT and :$NGX_HTTP_PORT" 20 \
		_nginx_up_or_gone || return 1
	if ! kill -0 "$NGX_PID" 2>/dev/null; then
		fail "nginx exited at start: $(cat "$NGX_DIR/nginx.out" "$NGX_DIR/logs/startup.log")"
		return 1
	fi
	echo "   (nginx: pid $NGX_PID, https $NGX_PORT, http $NGX_HTTP_PORT)"
}

_pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

# nginx_stop: SIGTERM to the master, which stops its worker and exits 0
# (a graceful SIGQUIT would wait for open WebSockets).
nginx_stop() {
	local rc=0
	kill -TERM "$NGX_PID"
	if ! wait_for "nginx (pid $NGX_PID) to exit" 20 _pid_gone "$NGX_PID"; then
		kill -9 "$NGX_PID" 2>/dev/null || true
	fi
	wait "$NGX_PID" 2>/dev/null || rc=$?
	assert_eq "nginx exits with status 0 on SIGTERM" 0 "$rc"
}

# On any exit: every nginx still running stops with its workers (SIGKILL
# to the master would leave them), then lib.sh's own exit handling.
_proxy_exit() {
	local rc=$? pid
	trap - ERR	# the status below is the test's, not a new failure
	set +e
	for pid in "${NGINX_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			wait_for "nginx (pid $pid) to exit" 10 _pid_gone "$pid" >/dev/null ||
				kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	(exit "$rc")	# _on_exit reads the status the test ended with
	_on_exit
}
trap _proxy_exit EXIT

# header FILE NAME: the value of header NAME in the response head FILE
# (the first such line; the name in any case); no process: it is called
# some seventy times.
header() {
	local c l name=${2,,}
	c=$(<"$1")
	while IFS= read -r l; do
		if [[ "${l,,}" == "$name:"* ]]; then
			l=${l#*:}
			l=${l%$'\r'}
			echo "${l#"${l%%[! ]*}"}"
			return 0
		fi
	done <<<"$c"
	return 0
}

# fetch URL FILE_PREFIX [CURL ARGS...]: GET URL through nginx over TLS,
# trusting nginx's certificate only; FILE_PREFIX.head and .body; prints
# "STATUS HTTP_VERSION".
fetch() {
	local url=$1 p=$2
	shift 2
	curl -sS --max-time 10 --cacert "$NGX_CERT" -D "$p.head" -o "$p.body" \
		-w '%{http_code} %{http_version}' "$@" "$url"
}

step "the shipped site keeps no address and passes none on"
site=$(cat "$SITE")
assert_eq "both servers turn the access log off" 2 "$(grep -c '^[[:space:]]*access_log off;' "$SITE")"
assert_eq "  and keep only emerg in the error log" 2 \
	"$(grep -c '^[[:space:]]*error_log [^ ]* emerg;' "$SITE")"
assert_eq "both say no version (server_tokens off)" 2 "$(grep -c '^[[:space:]]*server_tokens off;' "$SITE")"
assert_no_match "no client address variable anywhere" "$site" \
	'\$(remote_addr|binary_remote_addr|proxy_add_x_forwarded_for|realip_remote_addr)'
assert_match "it drops X-Forwarded-For on the way to the server" "$site" \
	'proxy_set_header X-Forwarded-For "";'
assert_no_match "no third-party origin in it" "$site" 'https?://[a-z0-9.-]+\.[a-z]{2,}/[a-z]'
assert_match "it speaks TLS 1.2 and 1.3 only" "$site" '^[[:space:]]*ssl_protocols TLSv1\.2 TLSv1\.3;$'
assert_match "its upstream is the server on 127.0.0.1:7443" "$site" '^[[:space:]]*server 127\.0\.0\.1:7443;$'
assert_match "  where deploy/offramp.conf has the server listen" "$(cat "$SERVER_CONF")" '^listen = 127\.0\.0\.1$'
assert_match "  on that port" "$(cat "$SERVER_CONF")" '^port = 7443$'

step "nginx -t passes on the site, changed only where it names this host"
# the real server first: plain ws:// on loopback, with the web client too
# (to compare its headers with nginx's)
SERVER_TLS=0 start_server --web "$WEB"
nginx_conf front "$PORT"
front_dir=$NGX_DIR
changed=$(diff "$SITE" "$NGX_DIR/site.conf" | grep '^<' || true)
assert_ne "the copy changes lines of the shipped site" "" "$changed"
assert_eq "  only listen, certificate, root, upstream and error_log lines" "" \
	"$(grep -vE '^< [[:space:]]*(listen|ssl_certificate|ssl_certificate_key|root|server|error_log) ' <<<"$changed" || true)"
copy=$(cat "$NGX_DIR/site.conf")
assert_eq "the copy listens on 127.0.0.1 only" "" \
	"$(grep -E '^[[:space:]]*listen ' <<<"$copy" | grep -vE 'listen 127\.0\.0\.1:[0-9]+[ ;]' || true)"
assert_match "  its upstream is the test's server" "$copy" "^[[:space:]]*server 127\.0\.0\.1:$PORT;\$"
assert_no_match "  it names no path of this host's own nginx" \
	"$(grep -v '^[[:space:]]*#' <<<"$copy")" '/etc/ssl/|/var/log/|/usr/share/offramp'
rc=0
out=$(ngx -t 2>&1) || rc=$?
assert_eq "nginx -t exits 0" 0 "$rc"
assert_contains "  test is successful" "$out" "test is successful"
assert_no_match "  without a warning" "$out" '\[(warn|emerg|alert|crit)\]'

step "nginx in front of the server"
nginx_start
listening=$(ss -ltnpH 2>/dev/null | grep "pid=$NGX_PID," | awk '{ print $4 }' | sort || true)
assert_eq "nginx listens on 127.0.0.1, on its two ports only" \
	"$(printf '127.0.0.1:%s\n' "$NGX_PORT" "$NGX_HTTP_PORT" | sort)" "$listening"

step "the web client over HTTPS and HTTP/2, with the server's headers"
got=$(fetch "https://127.0.0.1:$NGX_PORT/" "$T/index")
assert_eq "GET / answers 200 over HTTP/2" "200 2" "$got"
cmp -s "$T/index.body" "$WEB/index.html" && pass "  the body is the web client's index.html" ||
	fail "the body of / is not client-web/dist/index.html"
assert_match "  as text/html" "$(header "$T/index.head" content-type)" '^text/html'
curl -sS --max-time 10 -D "$T/direct.head" -o /dev/null "http://127.0.0.1:$PORT/"
for h in content-security-policy referrer-policy x-content-type-options \
    x-frame-options cross-origin-opener-policy cross-origin-resource-policy \
    permissions-policy cache-control; do
	want=$(header "$T/direct.head" "$h")
	assert_ne "the server itself sends $h" "" "$want"
	assert_eq "  nginx sends the same $h" "$want" "$(header "$T/index.head" "$h")"
done
assert_contains "  the CSP allows libsodium's WebAssembly and nothing else of the kind" \
	"$(header "$T/index.head" content-security-policy)" "script-src 'self' 'wasm-unsafe-eval';"
assert_eq "  HSTS" "max-age=63072000" "$(header "$T/index.head" strict-transport-security)"
assert_eq "  Server: nginx, no version" "nginx" "$(header "$T/index.head" server)"
for f in app.js sodium.js app.css favicon.svg; do
	case $f in
	*.js) type='text/javascript; charset=utf-8' ;;
	*.css) type='text/css; charset=utf-8' ;;
	*.svg) type='image/svg+xml; charset=utf-8' ;;
	esac
	got=$(fetch "https://127.0.0.1:$NGX_PORT/$f" "$T/f")
	assert_eq "/$f answers 200" "200 2" "$got"
	cmp -s "$T/f.body" "$WEB/$f" && pass "  the body is dist/$f" || fail "the body of /$f differs"
	assert_eq "  as $type" "$type" "$(header "$T/f.head" content-type)"
	assert_eq "  with the same CSP" "$(header "$T/direct.head" content-security-policy)" \
		"$(header "$T/f.head" content-security-policy)"
done
printf '\0asm\1\0\0\0' >"$WEB/probe.wasm"
chmod a+r "$WEB/probe.wasm"
fetch "https://127.0.0.1:$NGX_PORT/probe.wasm" "$T/w" >/dev/null
assert_eq "a .wasm file is application/wasm" "application/wasm" "$(header "$T/w.head" content-type)"
got=$(fetch "https://127.0.0.1:$NGX_PORT/no-such-file" "$T/missing")
assert_eq "a missing file: 404" "404 2" "$got"
assert_eq "  still with the CSP" "$(header "$T/direct.head" content-security-policy)" \
	"$(header "$T/missing.head" content-security-policy)"
got=$(curl -sS --max-time 10 -D "$T/plain.head" -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$NGX_HTTP_PORT/some/path?q=1")
assert_eq "plain HTTP answers 301" 301 "$got"
assert_eq "  to the HTTPS name" "https://offramp.example.org/some/path?q=1" "$(header "$T/plain.head" location)"

step "TLS: 1.3 by default, in 1.2 only AEAD suites"
# tls CURL_ARGS...: "PROTOCOL / CIPHER" that nginx agreed to with curl
# (as curl -v tells it once the handshake is done), or nothing when the
# handshake failed
tls() {
	curl -sv --max-time 10 --cacert "$NGX_CERT" -o /dev/null "$@" \
		"https://127.0.0.1:$NGX_PORT/" 2>&1 |
		sed -n 's/^\* SSL connection using //p' | tr -d '\r' || true
}
assert_match "a default client gets TLSv1.3" "$(tls)" '^TLSv1\.3 / TLS_'
assert_eq "TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 is taken" \
	"TLSv1.2 / ECDHE-ECDSA-AES128-GCM-SHA256" \
	"$(tls --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256)"
assert_eq "TLS 1.2 with CBC (ECDHE-ECDSA-AES128-SHA256) is refused" "" \
	"$(tls --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA256)"

step "the CLI through nginx: wss://127.0.0.1 with nginx's certificate"
SERVER_URL="wss://127.0.0.1:$NGX_PORT"
CLI_CA=$NGX_CERT
setup_pool
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "the client's case is active" active "$out" status
assert_field "  with Sam" Sam "$out" counsellor
MSG="through nginx $(b64_random 9)"
cli client send "$CASE" "$MSG" >/dev/null
cli_out out couns recv --count 1
assert_eq "Sam reads the client's message" "$MSG" "$(cut -f3 <<<"$out")"
cli couns send "$CASE" "first answer" >/dev/null
cli client recv --count 2 >"$T/recv.out" 2>"$T/recv.err" &
recv_pid=$!
_recv_lines() { [ "$(grep -c . "$T/recv.out")" -ge "$1" ]; }
wait_for "the client to receive the first answer" 30 _recv_lines 1 &&
	pass "the client, logged in, has the first answer"
cli couns send "$CASE" "second answer, pushed" >/dev/null
wait_for "the second answer pushed through the open WebSocket" 30 _recv_lines 2 &&
	pass "the second answer came through the open WebSocket"
rc=0
wait "$recv_pid" || rc=$?
assert_eq "  recv exits 0" 0 "$rc"
assert_eq "  the client read both" $'first answer\nsecond answer, pushed' "$(cut -f3 "$T/recv.out")"
CLI_CA=$CERT clirun client login
assert_ne "a CLI that trusts only the server's certificate cannot pass nginx" 0 "$RC"
CLI_CA=$NGX_CERT
stop_server
got=$(fetch "https://127.0.0.1:$NGX_PORT/" "$T/down")
assert_eq "the server stopped: nginx still serves the page" "200 2" "$got"
clirun client login
assert_ne "  and the CLI fails" 0 "$RC"
nginx_stop

step "what nginx passes on to the server: no address"
# a stand-in for the server that keeps the head of each request it gets
# (at most 5, for at most 30 s) and answers 502
"$PYTHON3" - "$T/upstream.port" "$T/upstream.heads" <<-'EOF' &
	import socket, sys, time
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	s.listen(5)
	s.settimeout(30)
	open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
	import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	end = time.time() + 30
	for _ in range(5):
	    try:
	        c, _a = s.accept()
	    except OSError:
	        break
	    c.settimeout(5)
	    head = b""
	    while b"\r\n\r\n" not in head and len(head) < 65536:
	        b = c.recv(4096)
	        if not b:
	            break
	        head += b
	    with open(sys.argv[2], "ab") as f:
	        f.write(head.split(b"\r\n\r\n")[0] + b"\r\n--\r\n")
	    c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	    c.close()
	    if time.time() > end:
	        break
	EOF
upstream_pid=$!
wait_for "the stand-in to listen" 10 test -s "$T/upstream.port"
nginx_conf capture "$(cat "$T/upstream.port")"
capture_dir=$NGX_DIR
nginx_start
ws_headers=(-H 'Connection: Upgrade' -H 'Upgrade: websocket'
	-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
	-H 'Sec-WebSocket-Protocol: offramp.v1'
	-H 'X-Forwarded-For: 198.51.100.7' -H 'X-Real-IP: 198.51.100.8'
	-H 'Forwarded: for=198.51.100.9')
got=$(fetch "https://127.0.0.1:$NGX_PORT/" "$T/cap" --http1.1 "${ws_headers[@]}")
assert_eq "an upgrade request with address headers reaches the stand-in (its 502)" "502 1.1" "$got"
fetch "https://127.0.0.1:$NGX_PORT/" "$T/cap2" --http1.1 >/dev/null
heads=$(tr -d '\r' <"$T/upstream.heads" 2>/dev/null || true)
assert_eq "  one request reached it: a GET without Upgrade stays with nginx" 1 "$(grep -c '^--$' <<<"$heads")"
assert_match "  as a WebSocket upgrade" "$heads" '^Upgrade: websocket$'
assert_match "  with Connection: upgrade" "$heads" '^Connection: upgrade$'
assert_match "  and the subprotocol" "$heads" '^Sec-WebSocket-Protocol: offramp.v1$'
assert_no_match "  no X-Forwarded-For, X-Real-IP or Forwarded header" "$heads" \
	'^(X-Forwarded-For|X-Real-IP|Forwarded):'
assert_no_match "  no address at all, the client's own or one it claimed" "$heads" \
	'127\.0\.0\.1[^:]|127\.0\.0\.1$|198\.51\.100\.'
kill "$upstream_pid" 2>/dev/null || true
wait "$upstream_pid" 2>/dev/null || true
got=$(fetch "https://127.0.0.1:$NGX_PORT/" "$T/dead" --http1.1 "${ws_headers[@]}")
assert_eq "with nobody behind it, an upgrade gets 502 from nginx" "502 1.1" "$got"
nginx_stop

step "no log holds an address"
# The requests above made nginx write at "error" (a missing file, a
# server that refused the connection) and at "info" (closed connections):
# at emerg it kept them all.
for d in "$front_dir" "$capture_dir"; do
	n=$(basename "$d")
	assert_eq "$n: the access log of the http block is empty" 0 "$(wc -c <"$d/logs/access.log")"
	assert_eq "$n: the site's error log is empty" 0 "$(wc -c <"$d/logs/offramp.error.log")"
	found=$(grep -rlE '127\.0\.0\.1|198\.51\.100\.' "$d/logs" || true)
	assert_eq "$n: no file nginx wrote names 127.0.0.1" "" "$found"
done
# The same requests with the level at "error" (this change only) write
# the address: so the check above could fail.
sed 's/ emerg;$/ error;/' "$SITE" >"$T/site-error-level.conf"
nginx_conf control 1 "$T/site-error-level.conf"
nginx_start
fetch "https://127.0.0.1:$NGX_PORT/no-such-file" "$T/c1" >/dev/null
fetch "https://127.0.0.1:$NGX_PORT/" "$T/c2" --http1.1 "${ws_headers[@]}" >/dev/null
nginx_stop
assert_match "the control (error level) logged the client's address" \
	"$(cat "$NGX_DIR/logs/offramp.error.log")" 'client: 127\.0\.0\.1'

step "tor --verify-config passes on the torrc, its service directory moved"
mkdir -p "$T/tor"
: >"$T/tor/defaults"
sed "s#^HiddenServiceDir /var/lib/tor/offramp/\$#HiddenServiceDir $T/tor/hs/offramp/#" \
	"$TORRC" >"$T/tor/torrc"
assert_eq "the copy changes one line: HiddenServiceDir" "< HiddenServiceDir /var/lib/tor/offramp/" \
	"$(diff "$TORRC" "$T/tor/torrc" | grep '^<' || true)"
torrc=$(cat "$TORRC")
assert_match "it has no SOCKS port" "$torrc" '^SocksPort 0$'
assert_match "its service goes to the server on 127.0.0.1:7443" "$torrc" \
	'^HiddenServicePort 80 127\.0\.0\.1:7443$'
assert_eq "  and nowhere else" 1 "$(grep -c '^HiddenServicePort ' "$TORRC")"
# verify_config FILE: tor parses FILE (its defaults file empty, its data
# directory in $T) and exits; prints what it said, returns its status
verify_config() {
	timeout -k 5 60 tor --verify-config --defaults-torrc "$T/tor/defaults" \
		-f "$1" --DataDirectory "$T/tor/data" 2>&1
}
rc=0
out=$(verify_config "$T/tor/torrc") || rc=$?
assert_eq "tor --verify-config exits 0" 0 "$rc"
assert_contains "  Configuration was valid" "$out" "Configuration was valid"
[ ! -e "$T/tor/hs" ] && [ ! -e "$T/tor/data" ] &&
	pass "  and made nothing: no service directory, no data directory" ||
	fail "tor --verify-config made $(ls "$T/tor")"
printf 'HiddenServiceNoSuchOption 1\n' | cat "$T/tor/torrc" - >"$T/tor/torrc-bad"
rc=0
out=$(verify_config "$T/tor/torrc-bad") || rc=$?
assert_ne "a torrc with an unknown option fails (the check can fail)" 0 "$rc"
assert_contains "  naming it" "$out" "HiddenServiceNoSuchOption"

finish
