#!/usr/bin/env bash
# run.sh: installs the dependencies, builds a Release into ./build and the
# web client into client-web/dist, and runs offramp-server in the
# foreground on 127.0.0.1 with TLS (a self-signed certificate in the data
# directory), serving the web client on the same port. On its first start
# the one-time admin bootstrap token is in $data/bootstrap-token.
#   OFFRAMP_DATA  data directory (default ./offramp-data)
#   OFFRAMP_PORT  port (default 7443)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash deploy/install-deps.sh
# Ninja for a new build directory (cmake keeps the generator of one
# that exists); cmake --build drives either.
gen=()
[ -f build/CMakeCache.txt ] || gen=(-G Ninja)
cmake "${gen[@]}" -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
bash deploy/build-web.sh

data=${OFFRAMP_DATA:-./offramp-data}
port=${OFFRAMP_PORT:-7443}
mkdir -p "$data"
chmod 0700 "$data"
data=$(cd "$data" && pwd)
bash deploy/gen-cert.sh "$data"

cat <<HINT

The web client: open https://127.0.0.1:$port/ (the certificate is
self-signed: the browser asks once). Bundle hash to publish:
  $(cat client-web/dist/BUNDLE-HASH)

To use the CLI against this server, in another shell:
  export OFFRAMP_SERVER=wss://127.0.0.1:$port OFFRAMP_CA=$data/cert.pem
  export OFFRAMP_KEY=\$HOME/.offramp-admin.key
  $root/build/client-cli/offramp keygen
  $root/build/client-cli/offramp redeem TOKEN --name admin
(TOKEN: cat $data/bootstrap-token, the one-time admin bootstrap token.)

HINT

exec "$root/build/server/offramp-server" --data "$data" \
	--listen 127.0.0.1 --port "$port" \
	--cert "$data/cert.pem" --key "$data/key.pem" \
	--web "$root/client-web/dist"
