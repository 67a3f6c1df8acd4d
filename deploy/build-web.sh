#!/usr/bin/env bash
# build-web.sh: installs the web client's npm packages exactly as the
# lockfile pins them (npm ci, only when they are missing or the lockfile
# changed) and builds client-web/dist, which offramp-server serves with
# --web. Prints the bundle hash an operator publishes.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/client-web"

if [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
