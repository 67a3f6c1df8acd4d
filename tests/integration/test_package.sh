# test_package.sh: the Debian packages that `cpack -G DEB` makes in the
# build directory: offramp-server (the server, its systemd unit, man page
# and default configuration, a conffile, the built web client, and the
# nginx site and torrc as examples) and offramp (the CLI and its man page), whose dependencies
# are Debian library packages and nothing else; both install into a clean
# root with `dpkg --root`, and what they install runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${OFFRAMP_BUILD_DIR:?set OFFRAMP_BUILD_DIR to the build directory}"

step "cpack makes both packages"
out=$(cd "$OFFRAMP_BUILD_DIR" && cpack -G DEB -B "$T/pkg" 2>&1) ||
	fail "cpack failed: $out"
server=$(ls "$T"/pkg/offramp-server_*.deb 2>/dev/null | head -n1)
cli=$(ls "$T"/pkg/offramp_*.deb 2>/dev/null | head -n1)
assert_ne "offramp-server_*.deb" "" "$server"
assert_ne "offramp_*.deb" "" "$cli"

step "their dependencies are Debian library packages, installed here"
for p in "$server" "$cli"; do
	deps=$(dpkg-deb -f "$p" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//')
	assert_ne "$(basename "$p") has dependencies" "" "$deps"
	for d in $deps; do
		assert_match "  $d is a library package" "$d" '^lib[a-z0-9.+-]+$'
		assert_eq "  $d is a Debian package here" "install ok installed" \
			"$(dpkg-query -W -f '${Status}' "$d" 2>/dev/null)"
	done
done
assert_contains "the server's config is a conffile" \
	"$(dpkg-deb -I "$server" conffiles)" "/etc/offramp/offramp.conf"

step "both install into a clean root"
root="$T/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: >"$root/var/lib/dpkg/status"
rc=0
dpkg --root="$root" --log=/dev/null --force-depends -i "$server" "$cli" \
	>"$T/dpkg.out" 2>&1 || rc=$?
assert_eq "dpkg -i exits 0" 0 "$rc"
for f in usr/sbin/offramp-server usr/bin/offramp etc/offramp/offramp.conf \
    usr/lib/systemd/system/offramp.service usr/share/man/man8/offramp-server.8 \
    usr/share/man/man1/offramp.1 \
    usr/share/doc/offramp-server/examples/nginx/offramp.conf \
    usr/share/doc/offramp-server/examples/tor/torrc \
    usr/share/doc/offramp-server/examples/tor/README.md; do
	[ -e "$root/$f" ] && pass "installed: /$f" || fail "not installed: /$f"
done
assert_match "the installed server runs" "$("$root/usr/sbin/offramp-server" --version)" '^offramp-server '
assert_match "the installed CLI runs" "$("$root/usr/bin/offramp" --version)" '^offramp '
assert_contains "the unit starts the installed binary" \
	"$(cat "$root/usr/lib/systemd/system/offramp.service")" "ExecStart=/usr/sbin/offramp-server"
out=$("$root/usr/sbin/offramp-server" --config "$root/etc/offramp/offramp.conf" \
	--data "$T/data" --check-config 2>&1) || fail "the installed configuration is refused: $out"
assert_contains "the installed configuration is usable" "$out" "the configuration is usable"
assert_contains "  and puts the data in /var/lib/offramp" "$(cat "$root/etc/offramp/offramp.conf")" \
	"data = /var/lib/offramp"
web="$REPO_ROOT/client-web/dist"
if [ -f "$web/index.html" ]; then
	assert_eq "the web client is installed in /usr/share/offramp/web, as built" "" \
		"$(diff -r "$web" "$root/usr/share/offramp/web" 2>&1)"
else
	fail "no built web client in $web (deploy/build-web.sh makes it)"
fi
cmp -s "$root/usr/share/doc/offramp-server/examples/nginx/offramp.conf" \
	"$REPO_ROOT/deploy/nginx/offramp.conf" &&
	pass "the example nginx site is deploy/nginx/offramp.conf" ||
	fail "the example nginx site differs from deploy/nginx/offramp.conf"
assert_no_match "no example lands in /etc (nothing is enabled by installing)" \
	"$(dpkg-deb -c "$server" | awk '{ print $6 }')" '^\./etc/(nginx|tor)/'

finish
