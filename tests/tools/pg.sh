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
# One cluster shared by the tests of a ctest run (tests/CMakeLists.txt's
# fixture pg_cluster), each test on a database of its own in it, so that
# no test pays initdb:
#
#   bash tests/tools/pg.sh share FILE   starts one, writes DIR and URL
#                                       to FILE (a cluster FILE names
#                                       already, from a run cut short,
#                                       is stopped first); in memory
#                                       (/dev/shm, when there is one),
#                                       where an fsync, still made at
#                                       each commit, costs nothing: its
#                                       tests kill servers, never the
#                                       cluster or the machine, so none
#                                       could tell, and on a busy disk
#                                       fsync took a third of a test's
#                                       time. The clusters stopped at
#                                       once or killed (test_pg_lost
#                                       and the like) are of pg.sh start
#                                       or run, on disk.
#   bash tests/tools/pg.sh unshare FILE stops FILE's cluster, removes FILE
#   bash tests/tools/pg.sh in FILE CMD...
#                                       runs CMD with OFFRAMP_STORE_URL
#                                       naming a new database in FILE's
#                                       cluster, dropped at CMD's end
#                                       (its connections cut first), and
#                                       OFFRAMP_PG_DIR naming the
#                                       cluster's DIR (its data/ and
#                                       server.log, PostgreSQL's log)
#
# Every wait is bounded (PG_WAIT seconds, 60 by default); a start that
# fails leaves nothing behind.
set -euo pipefail

wait_s=${PG_WAIT:-60}
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null ||
	dirname "$(command -v pg_ctl)")}

# where a cluster's directory goes (share: /dev/shm)
base=${TMPDIR:-/tmp}

# Runs a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# url_of DIR [DATABASE]: the URL of DATABASE (offramp by default).
url_of() {
	echo "postgresql:///${2:-offramp}?host=$1&user=$(owner_name)"
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
	    -c synchronous_commit=on -c full_page_writes=on \
	    -c log_line_prefix='%m [%p] db=%d '" start \
	    >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
}

# new_data DIR: a new cluster's files in DIR/data, by initdb. With
# OFFRAMP_PG_TEMPLATE naming a directory (tests/run.sh: one for its run,
# removed at its end), initdb runs once, into that directory, and each
# cluster is a copy of it: an initdb cost about a CPU second, a copy a
# tenth of that, and a run of the suite starts some fifteen clusters.
# Copies of one cluster share its system identifier, which none of the
# tests compares across clusters.
new_data() {
	local dir=$1 t=${OFFRAMP_PG_TEMPLATE:-} tmp

	if [ -z "$t" ] || [ ! -d "$t" ]; then
		run_initdb "$dir/data" "$dir/initdb.log"
		return
	fi
	if [ ! -d "$t/data" ]; then
		# made aside, then renamed into place: a cluster starting beside
		# this one copies a whole template or makes its own
		tmp=$(mktemp -d "$t/new.XXXXXX")
		[ "$(id -u)" -ne 0 ] || chown postgres: "$tmp"
		run_initdb "$tmp/data" "$tmp/initdb.log" || {
			rm -rf -- "$tmp"
			return 1
		}
		mv -T -- "$tmp/data" "$t/data" 2>/dev/null || true
		rm -rf -- "$tmp"
	fi
	cp -a -- "$t/data" "$dir/data"
}

# A cluster's dynamic shared memory is files in its data directory
# (mmap), removed with it: the default's segments in /dev/shm outlive a
# cluster stopped at once, a standby's too (deploy/pg-standby.sh's
# pg_basebackup copies postgresql.conf).
run_initdb() {
	as_owner "$bindir/initdb" -D "$1" -A trust -E UTF8 \
	    --locale=C.UTF-8 >"$2" 2>&1 || {
		cat "$2" >&2
		return 1
	}
	echo "dynamic_shared_memory_type = mmap" >>"$1/postgresql.conf"
}

start() {
	local dir

	dir=$(mktemp -d "$base/offramp-pg.XXXXXX")
	chmod 0700 "$dir"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
	# shellcheck disable=SC2064
	trap "stop '$dir'" EXIT
	new_data "$dir" || return 1
	launch "$dir" || return 1
	as_owner "$bindir/createdb" -h "$dir" offramp
	trap - EXIT
	echo "$dir"
	url_of "$dir"
}

# share FILE: a cluster for several tests, DIR and URL in FILE.
share() {
	local file=$1 out

	[ ! -f "$file" ] || stop "$(sed -n 1p "$file")"
	rm -f -- "$file"
	[ ! -d /dev/shm ] || [ ! -w /dev/shm ] || base=/dev/shm
	out=$(start)
	echo "$out" >"$file.new"
	mv -- "$file.new" "$file"
	cat "$file"
}

# admin_sql URL STATEMENT...: each STATEMENT on its own (DROP DATABASE
# and CREATE DATABASE refuse a transaction block), no notices.
admin_sql() {
	local url=$1 q args=()
	shift
	for q in "$@"; do
		args+=(-c "$q")
	done
	PGOPTIONS="-c client_min_messages=warning" \
	    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$url" "${args[@]}" \
	    >/dev/null
}

# in FILE CMD...: CMD on a database of its own in FILE's cluster.
in_shared() {
	local file=$1 dir admin db rc=0
	shift

	[ -f "$file" ] || {
		echo "pg.sh in: no cluster in $file (pg.sh share starts one)" >&2
		return 1
	}
	dir=$(sed -n 1p "$file")
	admin=$(url_of "$dir" postgres)
	# unique among the tests running at once: this shell's pid
	db=offramp_t$$
	admin_sql "$admin" "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
	    "CREATE DATABASE $db"
	# shellcheck disable=SC2064
	trap "admin_sql '$admin' 'DROP DATABASE IF EXISTS $db WITH (FORCE)'" \
	    EXIT INT TERM
	OFFRAMP_PG_DIR=$dir OFFRAMP_STORE_URL=$(url_of "$dir" "$db") "$@" ||
	    rc=$?
	return "$rc"
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
share)
	share "${2:?pg.sh share FILE}"
	;;
unshare)
	file=${2:?pg.sh unshare FILE}
	[ ! -f "$file" ] || stop "$(sed -n 1p "$file")"
	rm -f -- "$file"
	;;
in)
	shift
	[ $# -gt 1 ] || { echo "pg.sh in FILE CMD..." >&2; exit 2; }
	in_shared "$@"
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
	    "resume DIR | run CMD... | share FILE | unshare FILE |" \
	    "in FILE CMD..." >&2
	exit 2
	;;
esac
