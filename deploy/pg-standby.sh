#!/usr/bin/env bash
# pg-standby.sh: a PostgreSQL standby of offramp's store, with synchronous
# replication, and its promotion when the primary is lost. Run it as the
# owner of the clusters (postgres on Debian), on the standby's host. The
# clusters are plain data directories run with pg_ctl (the binaries of
# --bindir; Debian's are in /usr/lib/postgresql/15/bin).
#
#   pg-standby.sh setup --primary CONNINFO --data DIR [options]
#   pg-standby.sh promote --data DIR [options]
#
# setup: on the primary (through --admin, a superuser), checks that it can
# stream (wal_level, max_wal_senders), adds the --hba line to its
# pg_hba.conf and the --create-role role when asked; then takes a base
# backup into DIR (pg_basebackup -R), points the standby at the primary
# (primary_conninfo with application_name=NAME) and starts it; once it
# streams, the primary gets synchronous_standby_names = NAME and
# synchronous_commit = on, and the script waits until the primary reports
# the standby as sync in pg_stat_replication. From then on a commit
# returns (and offramp acknowledges) only once the standby has the commit
# on its disk too: while the standby is away, commits on the primary wait
# for it.
#
# promote: the primary is gone (and must stay gone: see README.md, "A
# standby"): pg_ctl promote, then waits until the standby accepts writes.
# It then runs alone: synchronous_standby_names is empty on it (setup made
# it so); set up a new standby against it.
#
# Passwords: only from ~/.pgpass (or PGPASSFILE), never on the command
# line nor in a file this script writes; --create-role's password from the
# environment variable OFFRAMP_REPL_PASSWORD. The script never prints one.
# Every wait is bounded (--wait).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: pg-standby.sh setup --primary CONNINFO --data DIR [options]
       pg-standby.sh promote --data DIR [options]

setup: a standby of the running primary CONNINFO in the new directory DIR,
with synchronous replication; returns once the primary reports it "sync".
  --primary CONNINFO  how the standby reaches the primary, as the
                      replication role (libpq keywords, e.g.
                      'host=10.0.0.1 port=5432 user=replicator'; no
                      password: ~/.pgpass)
  --admin CONNINFO    a superuser on the primary, for its settings
                      (default: --primary with dbname=postgres)
  --name NAME         the standby's application_name, named in the
                      primary's synchronous_standby_names (default offramp_standby)
  --hba LINE          add LINE to the primary's pg_hba.conf if absent,
                      e.g. 'hostssl replication replicator 10.0.0.2/32
                      scram-sha-256' or, on one host, 'local replication
                      postgres peer' (appended: an earlier line that
                      matches wins; the primary's file must be writable
                      by this user: run on the primary's host)
  --create-role ROLE  create ROLE WITH REPLICATION LOGIN on the primary if
                      absent, its password from OFFRAMP_REPL_PASSWORD
                      (in the server's log if log_statement logs DDL)
  --port N            the standby's port (default: the copied
                      postgresql.conf's, else 5432)
  --socket DIR        the standby's unix_socket_directories
  --listen ADDRS      the standby's listen_addresses ('' for none)
  --log FILE          the standby's server log (default DIR/../NAME.log)

promote: makes the standby in DIR the primary; returns once it accepts
writes.
  --conn CONNINFO     how to reach the standby, to check that it accepts
                      writes (default: through its socket directory and port)

both:
  --bindir DIR        PostgreSQL's programs (default
                      /usr/lib/postgresql/15/bin, else from the PATH)
  --wait SEC          the longest any one step waits (default 60)
EOF
}

die() {
	echo "pg-standby.sh: $*" >&2
	exit 1
}

bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null ||
	dirname "$(command -v pg_ctl 2>/dev/null || echo /usr/bin/pg_ctl)")
primary="" admin="" name=offramp_standby hba="" role="" port="" socket=""
listen="" listen_set=0 log="" conn="" data="" wait_s=60

cmd=${1:-}
case $cmd in
setup|promote) shift ;;
-h|--help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--primary|--admin|--name|--hba|--create-role|--port|--socket|--listen|\
	--log|--conn|--data|--bindir|--wait)
		[ $# -ge 2 ] || die "$1 needs a value"
		case $1 in
		--primary) primary=$2 ;;
		--admin) admin=$2 ;;
		--name) name=$2 ;;
		--hba) hba=$2 ;;
		--create-role) role=$2 ;;
		--port) port=$2 ;;
		--socket) socket=$2 ;;
		--listen) listen=$2; listen_set=1 ;;
		--log) log=$2 ;;
		--conn) conn=$2 ;;
		--data) data=$2 ;;
		--bindir) bindir=$2 ;;
		--wait) wait_s=$2 ;;
		esac
		shift 2
		;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$data" ] || die "--data DIR is required"
[[ $wait_s =~ ^[1-9][0-9]*$ ]] || die "--wait is a number of seconds"
[ -z "$port" ] || [[ $port =~ ^[1-9][0-9]*$ ]] || die "--port is a number"
[[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] ||
	die "--name: lower-case letters, digits and _ (a PostgreSQL name)"
[ -x "$bindir/pg_ctl" ] || die "no pg_ctl in $bindir (--bindir)"

# q VALUE: VALUE as a single-quoted SQL or configuration-file literal.
q() {
	printf "'%s'" "${1//\'/\'\'}"
}

# psql_at CONNINFO: runs standard input's SQL there, each row's columns
# |-separated; fails on the first error; at most --wait seconds.
psql_at() {
	PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} timeout "$wait_s" \
		"$bindir/psql" -X -A -t -q -w -v ON_ERROR_STOP=1 -d "$1"
}

# until_true DESC CMD...: runs CMD until it succeeds, --wait seconds at most.
until_true() {
	local desc=$1 end=$((SECONDS + wait_s))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] ||
			die "gave up after $wait_s s waiting for: $desc"
		sleep 0.2	# a retry interval: nothing to wait on
	done
}

setup() {
	local logdir

	[ -n "$primary" ] || die "setup needs --primary CONNINFO"
	[ -n "$admin" ] || admin="$primary dbname=postgres"
	if [ -e "$data" ] && [ -n "$(ls -A "$data")" ]; then
		die "$data is not empty: a standby is made in a new directory"
	fi
	[ -n "$log" ] || log="$(dirname "$data")/$name.log"
	logdir=$(dirname "$log")
	[ -d "$logdir" ] || die "no directory $logdir for the log (--log)"

	echo "pg-standby.sh: checking the primary"
	local ok
	ok=$(psql_at "$admin" <<-'SQL'
	SELECT current_setting('wal_level') IN ('replica', 'logical')
	    AND current_setting('max_wal_senders')::int > 0
	SQL
	) || die "cannot reach the primary as a superuser (--admin)"
	[ "$ok" = t ] ||
		die "the primary cannot stream: wal_level must be replica or" \
		    "logical and max_wal_senders above 0 (a restart after a change)"
	if [ -n "$role" ]; then
		[ -n "${OFFRAMP_REPL_PASSWORD:-}" ] ||
			die "--create-role needs OFFRAMP_REPL_PASSWORD"
		# on standard input, not in psql's arguments; psql's complaint
		# left out, as it may quote the statement
		psql_at "$admin" >/dev/null 2>&1 <<-SQL ||
		\\set role $(q "$role")
		\\set pw $(q "$OFFRAMP_REPL_PASSWORD")
		SELECT format('CREATE ROLE %I WITH REPLICATION LOGIN PASSWORD %L',
		    :'role', :'pw')
		    WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
		\\gexec
		SQL
			die "cannot create the role $role (--admin must be a superuser)"
		echo "pg-standby.sh: the role $role can replicate"
	fi
	if [ -n "$hba" ]; then
		local file
		file=$(psql_at "$admin" <<<"SHOW hba_file")
		[ -w "$file" ] || die "cannot write $file: run --hba on the" \
		    "primary's host as its owner, or add the line by hand"
		if ! grep -qxF -- "$hba" "$file"; then
			printf '%s\n' "$hba" >>"$file"
			echo "pg-standby.sh: added to $file: $hba"
		fi
		psql_at "$admin" >/dev/null <<<"SELECT pg_reload_conf()"
	fi

	echo "pg-standby.sh: base backup into $data"
	timeout "$wait_s" "$bindir/pg_basebackup" -D "$data" -R -X stream \
		-c fast -w -d "$primary application_name=$name" ||
		die "pg_basebackup failed (what the primary allows:" \
		    "pg_hba.conf's replication lines, the role's REPLICATION)"
	chmod 0700 "$data"
	# -R's primary_conninfo is replaced by one without a password and with
	# the name the primary waits for; a copy of the primary's
	# synchronous_standby_names would make a promoted standby wait for
	# itself
	local conf="$data/postgresql.auto.conf"
	sed -i '/^primary_conninfo[[:space:]]*=/d' "$conf"
	{
		echo "# pg-standby.sh setup"
		echo "primary_conninfo = $(q "$primary application_name=$name")"
		echo "synchronous_standby_names = ''"
		echo "hot_standby = on"
		[ -z "$port" ] || echo "port = $port"
		[ -z "$socket" ] || echo "unix_socket_directories = $(q "$socket")"
		[ "$listen_set" = 0 ] || echo "listen_addresses = $(q "$listen")"
	} >>"$conf"
	[ -f "$data/standby.signal" ] || : >"$data/standby.signal"

	echo "pg-standby.sh: starting the standby (log $log)"
	"$bindir/pg_ctl" -D "$data" -l "$log" -w -t "$wait_s" start >/dev/null ||
		die "the standby did not start: see $log"
	until_true "the standby to stream from the primary" streaming

	echo "pg-standby.sh: the primary waits for $name at each commit"
	psql_at "$admin" >/dev/null <<-SQL
	ALTER SYSTEM SET synchronous_standby_names = $(q "\"$name\"");
	ALTER SYSTEM SET synchronous_commit = on;
	SELECT pg_reload_conf();
	SQL
	until_true "the primary to report $name as sync" sync_state_is sync
	echo "pg-standby.sh: $name is a synchronous standby"
}

# state: the primary's pg_stat_replication row for the standby, as
# "state|sync_state".
state() {
	psql_at "$admin" <<-SQL
	SELECT state || '|' || sync_state FROM pg_stat_replication
	    WHERE application_name = $(q "$name")
	SQL
}

streaming() {
	[[ $(state) == streaming\|* ]]
}

sync_state_is() {
	[ "$(state)" = "streaming|$1" ]
}

# The standby's own setting NAME, read from its files (the last line wins).
own_setting() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*'\{0,1\}\([^'#]*\)'\{0,1\}.*/\1/p" \
		"$data/postgresql.conf" "$data/postgresql.auto.conf" \
		2>/dev/null | tail -n1
}

accepts_writes() {
	[ "$(psql_at "$conn" <<<"SHOW transaction_read_only")" = off ]
}

promote() {
	[ -f "$data/standby.signal" ] || die "$data is not a standby"
	if [ -z "$conn" ]; then
		local sock p
		sock=$(own_setting unix_socket_directories)
		p=$(own_setting port)
		conn="host=${sock%%,*} port=${p:-5432} dbname=postgres"
	fi
	echo "pg-standby.sh: promoting the standby in $data"
	"$bindir/pg_ctl" -D "$data" -w -t "$wait_s" promote >/dev/null ||
		die "pg_ctl promote failed"
	until_true "the new primary to accept writes" accepts_writes
	# on its own now: a commit must not wait for a standby that is not
	# there
	if [ -n "$(psql_at "$conn" <<<"SHOW synchronous_standby_names")" ]; then
		psql_at "$conn" >/dev/null <<-'SQL'
		ALTER SYSTEM SET synchronous_standby_names = '';
		SELECT pg_reload_conf();
		SQL
		echo "pg-standby.sh: synchronous_standby_names emptied"
	fi
	echo "pg-standby.sh: the standby is the primary and accepts writes;" \
	    "set up a new standby against it"
}

"$cmd"
