#!/usr/bin/env bash
# install-deps.sh: installs what offramp needs to build and test on Debian 12.
# Idempotent: asks dpkg what is installed first, and runs apt-get (update,
# then install) only when a package is missing. Uses sudo only when not root.
#   --test   also what the test suite needs: Debian's chromium for the web
#            client's browser tests (nothing downloads a browser), and
#            python3 (test_daemon speaks to the daemon's socket with it),
#            groff-base (test_man renders the man pages), tmux
#            (test_inbox types into the inbox in a terminal), and nginx,
#            tor and curl (test_proxy checks the site and the torrc of
#            deploy/ with `nginx -t` and `tor --verify-config`, runs that
#            nginx on a loopback port and fetches through it), postgresql
#            and libpq-dev (the PostgreSQL store and its throwaway
#            clusters), clang and libclang-rt-14-dev (libFuzzer: the
#            suite's minute of fuzzing a target, ctest fuzz/short, and
#            tests/fuzz/run.sh)
#   --bench  also what bench/load.sh needs: Debian's mosquitto (the peer it
#            measures offramp against) and iproute2 (ip, in its network
#            namespace)
# Installing nginx, tor or mosquitto must not start them: Debian's nginx
# would listen on port 80 of every address, tor would connect to the Tor
# network, and mosquitto would listen on port 1883 of every address.
# While it installs them the script puts a /usr/sbin/policy-rc.d that
# answers 101 ("action forbidden") in place, which invoke-rc.d and
# deb-systemd-invoke obey, unless one is there already (as in Debian's
# container images), and removes only the one it made. It also disables
# the services it has just installed (systemctl disable), so that they
# do not start at the next boot. Then it checks that neither runs (unless a
# program of that name ran before), and fails if one does.
# Node.js (for building the web client) comes from Debian's nodejs and npm
# unless a node of version 18 or newer is already on the PATH.
set -euo pipefail

# libev-dev and libwebsockets-evlib-ev come with libwebsockets-dev on
# Debian 12; named here because server/ws.c needs them itself (ev.h, and
# lws's libev plugin at run time).
pkgs=(build-essential cmake ninja-build pkg-config libwebsockets-dev libev-dev
      libwebsockets-evlib-ev libsodium-dev
      libjansson-dev libsqlite3-dev libssl-dev openssl sqlite3 xxd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 ||
   [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 18 ]; then
	pkgs+=(nodejs npm)
fi
case "${1:-}" in
--test)	pkgs+=(chromium python3 groff-base tmux nginx tor curl postgresql libpq-dev
	faketime clang libclang-rt-14-dev) ;;
--bench) pkgs+=(mosquitto iproute2 util-linux) ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: no dpkg-query: this script knows Debian 12 only." >&2
	echo "install-deps: install by hand: ${pkgs[*]}" >&2
	exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages already installed"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: missing ${missing[*]}, not root and no sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

# runs NAME: a process named NAME runs (read from /proc: procps may be
# missing in a container)
runs() {
	local f comm
	for f in /proc/[0-9]*/comm; do
		comm=$(cat "$f" 2>/dev/null) || continue
		[ "$comm" != "$1" ] || return 0
	done
	return 1
}

# the services among the missing packages, which must not start, and
# whether a program of that name runs already (then it is not ours)
services=()
before=()
for p in "${missing[@]}"; do
	case $p in
	nginx|tor|mosquitto)
		services+=("$p")
		if runs "$p"; then before+=("$p"); fi
		;;
	esac
done
policy=/usr/sbin/policy-rc.d
made_policy=0
remove_policy() {
	if [ "$made_policy" -eq 1 ]; then
		"${sudo[@]}" rm -f "$policy"
	fi
}
trap remove_policy EXIT
if [ "${#services[@]}" -gt 0 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# made by offramp install-deps.sh while it installs %s\nexit 101\n' \
		"${services[*]}" | "${sudo[@]}" tee "$policy" >/dev/null
	made_policy=1
	"${sudo[@]}" chmod 0755 "$policy"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"

if [ "${#services[@]}" -gt 0 ]; then
	if command -v systemctl >/dev/null 2>&1; then
		# works on the unit files also when systemd does not run
		"${sudo[@]}" systemctl disable --quiet "${services[@]}" || true
	fi
	running=()
	for s in "${services[@]}"; do
		if runs "$s" && [[ " ${before[*]} " != *" $s "* ]]; then
			running+=("$s")
		fi
	done
	if [ "${#running[@]}" -gt 0 ]; then
		echo "install-deps: ${running[*]} runs after its install: stop it" \
			"(systemctl stop ${running[*]}) and check $policy" >&2
		exit 1
	fi
	echo "install-deps: installed ${services[*]}; not started"
fi
