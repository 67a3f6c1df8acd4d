#!/usr/bin/env bash
# modgraph.sh: the module graph of server/, derived from the code. A module
# is a server/*.c file, or the files X_*.c that share a private header
# X_int.h (the store's nouns are one module, store); it exports the functions it defines without
# `static` (a name at the start of a line, followed by "("), the variables
# it defines without `static`, and the function-like macros of its header.
# Module A calls module B when A's code, without comments and strings,
# names an export of B (a call, or a function put in a table).
#
# It prints one line per module, callers above the modules they call, and
# fails (exit 1) when:
#   - the calls run in a circle (it prints one);
#   - a layer rule is broken: casework.c (the domain layer) reaches jansson
#     or a session, handler or transport header through its includes; a
#     file other than ws.c reaches libwebsockets.h; a module other than
#     casework calls pool (the pool follows the store only through the
#     domain layer); a module other than main calls ws (the rest reach the
#     transport through conn.h's table);
#   - with --check FILE, the graph between FILE's <!-- modgraph --> and
#     <!-- /modgraph --> lines differs from the generated one.
# --write FILE puts the generated graph between those lines instead.
#
# usage: modgraph.sh [--check FILE | --write FILE]
# Needs bash, awk, sed, grep, sort and diff only.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
src="$root/server"

mode=print
target=""
case "${1:-}" in
"") ;;
--check | --write)
	if [ $# -ne 2 ]; then
		echo "usage: modgraph.sh [--check FILE | --write FILE]" >&2
		exit 2
	fi
	mode=${1#--}
	target=$2
	;;
*)
	echo "usage: modgraph.sh [--check FILE | --write FILE]" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# strip FILE: FILE without comments, string and character literals.
strip() {
	awk '
	{
		out = ""
		n = length($0)
		i = 1
		while (i <= n) {
			c = substr($0, i, 1)
			d = substr($0, i, 2)
			if (incomment) {
				if (d == "*/") {
					incomment = 0
					i += 2
				} else
					i++
				continue
			}
			if (d == "/*") {
				incomment = 1
				out = out " "
				i += 2
				continue
			}
			if (d == "//")
				break
			if (c == "\"" || c == "\x27") {
				for (i++; i <= n && substr($0, i, 1) != c; i++)
					if (substr($0, i, 1) == "\\")
						i++
				out = out " "
				i++
				continue
			}
			out = out c
			i++
		}
		print out
	}' "$1"
}

: >"$tmp/modules"
: >"$tmp/exports"	# "name module"
: >"$tmp/names"		# "module name": every identifier a module names
for f in "$src"/*.c; do
	m=$(basename "$f" .c)
	if [ "${m%%_*}" != "$m" ] && [ -f "$src/${m%%_*}_int.h" ]; then
		m=${m%%_*}
	fi
	grep -qx "$m" "$tmp/modules" || echo "$m" >>"$tmp/modules"
	strip "$f" >"$tmp/file.stripped"
	awk -v m="$m" '
	/^[a-z_][a-z0-9_]*\(/ && prev !~ /^static/ && $0 !~ /;[ \t]*$/ {
		name = $0
		sub(/\(.*/, "", name)
		if (name != "main")
			print name, m
	}
	/^[a-z].* = / && $0 !~ /^static/ {
		name = $0
		sub(/ = .*/, "", name)
		sub(/\[.*/, "", name)
		sub(/.*[ *]/, "", name)
		print name, m
	}
	{ prev = $0 }' "$tmp/file.stripped" >>"$tmp/exports"
	grep -o '[A-Za-z_][A-Za-z0-9_]*' "$tmp/file.stripped" | sort -u |
		sed "s/^/$m /" >>"$tmp/names"
	if [ -f "$src/$m.h" ]; then
		sed -n "s/^#define \([a-z_][a-z0-9_]*\)(.*/\1 $m/p" "$src/$m.h" \
			>>"$tmp/exports"
	fi
done

awk 'NR == FNR { owner[$1] = $2; next }
	($2 in owner) && owner[$2] != $1 { print $1, owner[$2] }' \
	"$tmp/exports" "$tmp/names" | sort -u >"$tmp/edges"

# The graph: each module's level (1 + the highest level it calls; 0 when
# it calls none), highest first; or a cycle.
awk '
NR == FNR { mod[++nm] = $1; lvl[$1] = -1; next }
{ deps[$1] = deps[$1] " " $2 }
END {
	for (changed = 1; changed; ) {
		changed = 0
		for (i = 1; i <= nm; i++) {
			m = mod[i]
			if (lvl[m] >= 0)
				continue
			k = split(deps[m], d, " ")
			best = 0
			for (j = 1; j <= k; j++) {
				if (lvl[d[j]] < 0)
					break
				if (lvl[d[j]] + 1 > best)
					best = lvl[d[j]] + 1
			}
			if (j > k) {
				lvl[m] = best
				changed = 1
			}
		}
	}
	for (i = 1; i <= nm; i++)
		if (lvl[mod[i]] < 0)
			break
	if (i <= nm) {
		# Every module left calls another one left: walk until one
		# repeats.
		m = mod[i]
		for (n = 0; !(m in at); n++) {
			at[m] = n
			path[n] = m
			k = split(deps[m], d, " ")
			for (j = 1; j <= k && lvl[d[j]] >= 0; j++)
				;
			m = d[j]
		}
		cycle = ""
		for (j = at[m]; j < n; j++)
			cycle = cycle path[j] " -> "
		print "modgraph: the calls run in a circle: " cycle m > "/dev/stderr"
		exit 1
	}
	for (i = 1; i <= nm; i++) {
		m = mod[i]
		k = split(deps[m], d, " ")
		line = ""
		for (j = 1; j <= k; j++)
			line = line (j > 1 ? " " : "") d[j]
		printf "%d %s %s\n", lvl[m], m, (k ? line : "(none)")
	}
}' "$tmp/modules" "$tmp/edges" >"$tmp/levels"

sort -k1,1nr -k2,2 "$tmp/levels" |
	awk '{
		printf "%-10s ->", $2
		for (i = 3; i <= NF; i++)
			printf " %s", $i
		print ""
	}' >"$tmp/graph"

broken=0
rule() {
	echo "modgraph: $*" >&2
	broken=1
}

# Every file's direct includes, "file header", files named as they are
# included: server's by their name, others from the repository's root.
grep -H '^#include [<"]' "$src"/*.c "$src"/*.h "$root"/proto/*.h |
	sed -e "s|^$src/||" -e "s|^$root/||" \
	    -e 's|:#include [<"]\([^>"]*\)[>"].*| \1|' >"$tmp/direct"

# includes FILE: every header FILE (a name in server/) includes, directly
# or through others.
includes() {
	awk -v start="$1" '
	{ inc[$1] = inc[$1] " " $2 }
	END {
		queue[n = 1] = start
		for (q = 1; q <= n; q++) {
			k = split(inc[queue[q]], h, " ")
			for (j = 1; j <= k; j++)
				if (!(h[j] in seen)) {
					seen[h[j]] = 1
					print h[j]
					queue[++n] = h[j]
				}
		}
	}' "$tmp/direct"
}

includes casework.c >"$tmp/casework.includes"
for h in jansson.h libwebsockets.h session.h handlers.h dispatch.h ws.h; do
	if grep -qx "$h" "$tmp/casework.includes"; then
		rule "casework.c, the domain layer, includes $h"
	fi
done
for f in "$src"/*.c; do
	[ "$(basename "$f")" != ws.c ] || continue
	includes "$(basename "$f")" >"$tmp/includes"
	if grep -qx libwebsockets.h "$tmp/includes"; then
		rule "$(basename "$f") includes libwebsockets.h (only ws.c may)"
	fi
done
while read -r from to; do
	if [ "$to" = pool ] && [ "$from" != casework ]; then
		rule "$from calls pool (only casework may)"
	fi
	if [ "$to" = ws ] && [ "$from" != main ]; then
		rule "$from calls ws by name (only main may; use srv->conn)"
	fi
done <"$tmp/edges"

case $mode in
print)
	cat "$tmp/graph"
	;;
check)
	awk '/^<!-- modgraph -->$/ { on = 1; next }
		/^<!-- \/modgraph -->$/ { on = 0 }
		on && !/^```/' "$target" >"$tmp/documented"
	if ! diff -u "$tmp/documented" "$tmp/graph" >"$tmp/diff"; then
		cat "$tmp/diff" >&2
		rule "the graph in $target differs from the code's" \
			"(tests/tools/modgraph.sh --write $target)"
	fi
	;;
write)
	if ! grep -q '^<!-- modgraph -->$' "$target"; then
		echo "modgraph: no <!-- modgraph --> line in $target" >&2
		exit 1
	fi
	awk -v graph="$tmp/graph" '
		/^<!-- modgraph -->$/ {
			print
			print "```"
			while ((getline line < graph) > 0)
				print line
			print "```"
			skip = 1
			next
		}
		/^<!-- \/modgraph -->$/ { skip = 0 }
		!skip' "$target" >"$tmp/written"
	cat "$tmp/written" >"$target"
	;;
esac
exit "$broken"
