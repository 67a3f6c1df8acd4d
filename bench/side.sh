# shellcheck shell=bash
# side.sh: sourced by bench/ab.sh and bench/stores.sh, the one way they
# start offramp-servers side by side and measure them with
# bench/offramp-loadgen: each "side" is a NAME with one server, or two
# nodes of one PostgreSQL database, its data directories under T; each
# measurement a result line of the generator in T/res, NAME first, with
# stored_after (the copies left in the side's store once the generator
# has stopped, counted in the database: sqlite3, or psql).
#
# The caller sets GEN (the generator), T (a temporary directory on a
# disk, not tmpfs: the figures mean nothing otherwise), MODES, SECS, RATE,
# CONC, READ_RATE (see ab.sh), and calls side_stop at exit.

declare -A PORT PORT2 PIDS URL PGPID TOKEN
SIDE_PIDS=()

# side_stop: stops every server side_start started.
side_stop() {
	local pid
	for pid in "${SIDE_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SIDE_PIDS=()
}

# side_node NAME DIR BUILD [URL]: one offramp-server of BUILD with its data
# in DIR (and its store at URL), on a free port of 127.0.0.1; sets
# NODE_PORT and NODE_PID once it listens, or exits saying why (at most
# 30 s).
side_node() {
	local name=$1 dir=$2 build=$3 url=${4:-} i
	local store=()
	[ -z "$url" ] || store=(--store "$url")
	"$build/server/offramp-server" --data "$dir" --listen 127.0.0.1 \
		--port 0 --pow-bits 0 --pow-max-bits 0 "${store[@]}" \
		>"$dir.out" 2>"$dir.err" </dev/null &
	NODE_PID=$!
	SIDE_PIDS+=("$NODE_PID")
	for i in $(seq 1 600); do
		NODE_PORT=$(sed -n 's/^offramp-server: listening on port \([0-9]*\).*/\1/p' \
			"$dir.out" | head -n1)
		[ -z "$NODE_PORT" ] || return 0
		kill -0 "$NODE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "side.sh: offramp-server $name did not start:" >&2
	cat "$dir.err" >&2
	exit 1
}

# side_start NAME BUILD [URL [NODES [PG_PID]]]: the side NAME: NODES
# (default 1; 2 at most) offramp-servers of BUILD on one store: SQLite in
# T/NAME without URL, else the PostgreSQL database at URL (PG_PID: its
# postmaster, for the CPU of its processes). The first node's data in
# T/NAME, the second's in T/NAME.2. side_setups makes its accounts.
side_start() {
	local name=$1 build=$2 url=${3:-} nodes=${4:-1} token=$T/$1/bootstrap-token
	side_node "$name" "$T/$name" "$build" "$url"
	PORT[$name]=$NODE_PORT PIDS[$name]=$NODE_PID PORT2[$name]=""
	URL[$name]=$url PGPID[$name]=${5:-}
	if [ "$nodes" = 2 ]; then
		side_node "$name.2" "$T/$name.2" "$build" "$url"
		PORT2[$name]=$NODE_PORT
		PIDS[$name]+=",$NODE_PID"
		# each start replaces the bootstrap invite while no admin
		# exists: the last node's is the one
		token=$T/$name.2/bootstrap-token
	fi
	TOKEN[$name]=$token
}

# side_setups NAME...: unless MODES is logins alone, makes the accounts
# and cases of the relay modes on each side, through its first node, all
# sides at once; exits if one fails, saying why.
side_setups() {
	local name pids=() i=0
	[ "$MODES" != logins ] || return 0
	for name in "$@"; do
		"$GEN" --port "${PORT[$name]}" setup \
			--token "$(head -n1 "${TOKEN[$name]}")" \
			--state "$T/$name.pairs" --pairs 200 \
			2>"$T/$name.setup.err" >/dev/null &
		pids+=($!)
	done
	for name in "$@"; do
		wait "${pids[i++]}" && continue
		echo "side.sh: the setup of $name failed:" >&2
		tail -n 5 "$T/$name.setup.err" "$T/$name.err" >&2
		exit 1
	done
}

# side_stored NAME: the copies in NAME's store now.
side_stored() {
	local q='SELECT count(*) FROM deliveries'
	if [ -n "${URL[$1]}" ]; then
		psql -X -Atq "${URL[$1]}" -c "$q"
	else
		sqlite3 -readonly -cmd '.timeout 5000' "$T/$1/offramp.db" "$q"
	fi
}

# side_gen NAME MODE ARGS...: one measurement of NAME; its result line,
# with stored_after, to T/res and shown.
side_gen() {
	local name=$1 line
	local args=(--target offramp --port "${PORT[$name]}" --pid "${PIDS[$name]}")
	shift
	[ -z "${PORT2[$name]}" ] || args+=(--port2 "${PORT2[$name]}")
	[ -z "${PGPID[$name]}" ] || args+=(--pg-pid "${PGPID[$name]}")
	[ "${IDLE:-0}" = 0 ] || args+=(--idle "$IDLE")
	line=$(timeout -k 5 120 "$GEN" "${args[@]}" "$@" --state "$T/$name.pairs" \
		2>>"$T/gen.err" | sed -n "s/^result /$name /p")
	[ -n "$line" ] || return 0
	line+=" stored_after=$(side_stored "$name")"
	printf '%s\n' "$line" | tee -a "$T/res"
}

# side_modes NAME: each of MODES, once, on NAME.
side_modes() {
	local m
	for m in $MODES; do
		case $m in
		k50w1) side_gen "$1" relay --pairs 50 --window 1 --secs "$SECS" ;;
		k200w8) side_gen "$1" relay --pairs 200 --window 8 --secs "$SECS" ;;
		k200w8slow) side_gen "$1" relay --pairs 200 --window 8 --secs "$SECS" \
			--read-rate "$READ_RATE" ;;
		latency) side_gen "$1" latency --pairs 50 --rate "$RATE" --secs "$SECS" ;;
		logins) side_gen "$1" logins --conc "$CONC" --secs "$SECS" ;;
		*) echo "side.sh: unknown mode $m" >&2; exit 2 ;;
		esac
	done
}

# side_rounds ROUNDS NAME...: ROUNDS rounds of every mode on every side,
# interleaved: each round starts one side further (A B C, B C A, ...), so
# that a busy machine's noise falls on all alike.
side_rounds() {
	local rounds=$1 r i n
	shift
	n=$#
	local names=("$@")
	for ((r = 0; r < rounds; r++)); do
		for ((i = 0; i < n; i++)); do
			side_modes "${names[(r + i) % n]}"
		done
	done
}

# side_median NAME KEY FILTER...: the median of KEY over NAME's result
# lines holding every FILTER (key=value words); "-" when none.
side_median() {
	local name=$1 key=$2 f lines
	shift 2
	lines=$(grep "^$name " "$T/res" || true)
	for f in "$@"; do
		lines=$(grep -- " $f\( \|$\)" <<<"$lines" || true)
	done
	sed -n "s/.* $key=\([^ ]*\).*/\1/p" <<<"$lines" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
		    else print v[int((NR + 1) / 2)] }'
}

# side_summary KEY...: per side and measurement, the median of each KEY.
side_summary() {
	awk -v keys="$*" '{ n = split(keys, k, " ");
	  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  w = $5 ~ /^window=/ ? $5 : "-"
	  for (j = 1; j <= n; j++)
	    print $2, $4, w, $1, j, k[j], f[k[j]] }' "$T/res" |
	sort -k1,1 -k2,2 -k3,3 -k4,4 -k5,5n -k7,7g |
	awk '{ g = $1 " " $2 " " $3 " " $4; c = g " " $6 }
	  c != last { flush(); last = c; m = 0 }
	  { v[++m] = $7; grp = g; key = $6 }
	  function flush() { if (m == 0) return;
	    if (grp != lastg) { if (line != "") print line; line = grp; lastg = grp }
	    line = line " " key "=" v[int((m + 1) / 2)] }
	  END { flush(); if (line != "") print line }'
}
