#!/usr/bin/env bash
# install-deps.sh: installs what offramp needs to build and test on Debian 12.
# Idempotent: asks dpkg what is installed first, and runs apt-get (update,
# then install) only when a package is missing. Uses sudo only when not root.
#   --test   also what the test suite needs: Debian's chromium for the web
#            client's browser tests (nothing downloads a browser), and
#            python3 (test_daemon speaks to the daemon's socket with it),
#            groff-base (test_man renders the man pages) and tmux
#            (test_inbox types into the inbox in a terminal)
# Node.js (for building the web client) comes from Debian's nodejs and npm
# unless a node of version 18 or newer is already on the PATH.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libwebsockets-dev libsodium-dev
      libjansson-dev libsqlite3-dev libssl-dev openssl sqlite3 xxd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 ||
   [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 18 ]; then
	pkgs+=(nodejs npm)
fi
if [ "${1:-}" = "--test" ]; then
	pkgs+=(chromium python3 groff-base tmux)
fi

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

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
