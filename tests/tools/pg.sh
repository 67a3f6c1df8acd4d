#!/usr/bin/env bash
# pg.sh: a throwaway PostgreSQL 15 cluster for the tests, in a temporary
# directory, listening on a Unix socket in that directory alone
# (listen_addresses = ''), with fsync and synchronous_commit on, and a
# database "offramp". initdb refuses to run as root: as root, the cluster
# is run by the postgres user the Debian package makes; as anyone else, by
# that user. Local connections are trusted, so the directory is 0700: only
# its owner (and root) reach the socket.
#
#   bash tests/tools/pg.sh start        prints DIR, then the URL
#   bash tests/tools/pg.sh url DIR      prints the URL of DIR's cluster
#   bash tests/tools/pg.sh stop DIR     stops it and removes DIR
#   bash tests/tools/pg.sh halt DIR     stops it at once (-m immediate: a
#                                       crash, its connections cut), DIR kept
#   bash tests/tools/pg.sh resume DIR   starts DIR's cluster again
#   bash tests/tools/pg.sh run CMD...   starts one, runs CMD with
#                                       OFFRAMP_STORE_URL set, stops it
#
# Every wait is bounded (PG_WAIT seconds, 60 by default); a start that
# fails leaves nothing behind.
set -euo pipefail

wait_s=${PG_WAIT:-60}
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null ||
	dirname "$(command -v pg_ctl)")}

# Runs a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

url_of() {
	echo "postgresql:///offramp?host=$1&user=$(owner_name)"
}

owner_name() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

stop() {
	local dir=$1

	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w \
		    -t "$wait_s" stop >/dev/null 2>&1 ||
		    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate \
		    -w -t "$wait_s" stop >/dev/null 2>&1 || true
	fi
	rm -rf -- "$dir"
}

# Starts the cluster of DIR (made by start), waiting until it is up.
launch() {
	local dir=$1

	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	    -t "$wait_s" -o "-c listen_addresses='' -k $dir -c fsync=on \
	    -c synchronous_commit=on -c full_page_writes=on" start \
	    >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
}

start() {
	local dir

	dir=$(mktemp -d "${TMPDIR:-/tmp}/offramp-pg.XXXXXX")
	chmod 0700 "$dir"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
	# shellcheck disable=SC2064
	trap "stop '$dir'" EXIT
	as_owner "$bindir/initdb" -D "$dir/data" -A trust -E UTF8 \
	    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	launch "$dir" || return 1
	as_owner "$bindir/createdb" -h "$dir" offramp
	trap - EXIT
	echo "$dir"
	url_of "$dir"
}

case ${1:-} in
start)
	start
	;;
url)
	url_of "${2:?pg.sh url DIR}"
	;;
stop)
	stop "${2:?pg.sh stop DIR}"
	;;
halt)
	as_owner "$bindir/pg_ctl" -D "${2:?pg.sh halt DIR}/data" -m immediate \
	    -w -t "$wait_s" stop >/dev/null
	;;
resume)
	launch "${2:?pg.sh resume DIR}"
	;;
run)
	shift
	[ $# -gt 0 ] || { echo "pg.sh run CMD..." >&2; exit 2; }
	out=$(start)
	dir=$(echo "$out" | sed -n 1p)
	# shellcheck disable=SC2064
	trap "stop '$dir'" EXIT INT TERM
	OFFRAMP_STORE_URL=$(echo "$out" | sed -n 2p) "$@"
	;;
*)
	echo "usage: pg.sh start | url DIR | stop DIR | halt DIR |" \
	    "resume DIR | run CMD..." >&2
	exit 2
	;;
esac
