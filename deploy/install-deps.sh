#!/usr/bin/env bash
# install-deps.sh: installs what offramp needs to build and test on Debian 12.
# Idempotent: asks dpkg what is installed first, and runs apt-get (update,
# then install) only when a package is missing. Uses sudo only when not root.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libwebsockets-dev libsodium-dev
      libjansson-dev libsqlite3-dev libssl-dev openssl sqlite3)

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
