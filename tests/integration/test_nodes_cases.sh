# test_nodes_cases.sh: case events across two server nodes on one
# PostgreSQL database (cluster.c, its f notes). A client that requests on
# node a is matched to Sam, whose daemon and connection are on node b:
# Sam's connection there is pushed the assignment live; Sam brings Kim in
# from node a, and Kim and the client on node b are pushed it live; the
# client asks for another counsellor on node a, and Sam and Kim on node b
# are pushed the case as they left it (without Lou, who takes it over on
# node a), Lou on node b the case Lou now has; the client closes the case
# on node a, and the participants on node b are pushed the close live.
# Sam and the client each have a connection on node a too: every case
# push on node b is byte for byte the one on node a, in the same order
# (what a participant sees does not depend on its node). PostgreSQL
# only: SQLite has one node.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_only "several nodes need a PostgreSQL store"

# case_frames NAME: the case pushes NAME's connection has had, one a line.
case_frames() {
	grep -E '"type": *"case"' "$T/watch-$1.out" || true
}

# same_frames DESC A B: connections A and B had the same case pushes, in
# the same order (and at least one).
same_frames() {
	local a b
	a=$(case_frames "$2")
	b=$(case_frames "$3")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		pass "$1"
	else
		fail "$1: $2 had"$'\n'"$a"$'\n'"and $3 had"$'\n'"$b"
	fi
}

_frames_as_many() {
	[ "$(case_frames "$1" | wc -l)" -ge "$2" ] &&
		[ "$(case_frames "$3" | wc -l)" -ge "$2" ]
}

start_node a
COUNS_DAEMON=0 setup_pool
# Kim speaks German only: never matched to the client's case (English);
# Sam brings her in.
COUNS_DAEMON=0 add_counsellor admin kim Kim --languages de --topics leaving
certify_pending Kim
# Lou, English too, comes to work (node a) once the client has Sam.
COUNS_DAEMON=0 add_counsellor admin lou Lou --languages en --topics leaving
certify_pending Lou
start_node b

step "Sam works on node b; its connections on both nodes listen"
PORT=$PORT_b counsellor_up couns
wait_for "node a to see a counsellor there on another node" 20 \
	grep -q 'counsellors there on other nodes anew' "$LOG_a"
watch_on "$PORT_b" sam_b couns
watch_on "$PORT_a" sam_a couns
watch_on "$PORT_b" kim_b kim
watch_on "$PORT_b" lou_b lou

step "a client requests on node a: Sam's connection on node b is pushed the assignment live"
keygen client
watch_on "$PORT_b" client_b client
watch_on "$PORT_a" client_a client
out=$(PORT=$PORT_a cli client request --language en --topic leaving)
assert_field "node a matched the client to Sam" Sam "$out" counsellor
field_to CASE "$out" case
watch_expect "Sam's connection on node b is pushed the case, active" sam_b \
	"\"type\": *\"case\".*\"id\": *$CASE,.*\"status\": *\"active\""
watch_expect "the client's other connection, on node b, is pushed it too" \
	client_b "\"type\": *\"case\".*\"id\": *$CASE,.*\"status\": *\"active\""

step "Sam brings Kim in on node a: Kim and the client on node b are pushed it live"
out=$(PORT=$PORT_a PASS_OVERRIDE=pass-couns cli sam_a bring "$CASE" \
	"$KEY_kim" --as supervisor)
assert_match "Sam, on node a, brought Kim in, joining" "$out" \
	'^member Kim \(supervisor\) joining'
watch_expect "Kim's connection on node b is pushed the case she joins" kim_b \
	"\"type\": *\"case\".*\"id\": *$CASE,.*\"name\": *\"Kim\".*\"state\": *\"joining\""
watch_expect "the client's connection on node b is pushed Kim joining" \
	client_b "\"type\": *\"case\".*\"name\": *\"Kim\".*\"state\": *\"joining\""

step "the client asks for another on node a: Sam and Kim on node b are pushed the case as they left it"
PORT=$PORT_a counsellor_up lou
out=$(PORT=$PORT_a cli client reassign "$CASE")
assert_field "node a gave the case to Lou" Lou "$out" counsellor
watch_expect "Lou's connection on node b is pushed the case, with Lou" lou_b \
	"\"type\": *\"case\".*\"id\": *$CASE,.*\"name\": *\"Lou\""
watch_expect "Sam's connection on node b is pushed the case he left, waiting" \
	sam_b "\"type\": *\"case\".*\"id\": *$CASE,.*\"status\": *\"waiting\""
watch_expect "Kim's connection on node b is pushed the case she left" kim_b \
	"\"type\": *\"case\".*\"id\": *$CASE,.*\"name\": *\"Kim\",[^}]*\"left\":"

step "the client closes the case on node a: the participants on node b are pushed it live"
out=$(PORT=$PORT_a cli client close "$CASE")
assert_field "the client closed the case on node a" closed "$out" status
for w in lou_b client_b; do
	watch_expect "$w's connection on node b is pushed the close" "$w" \
		"\"type\": *\"case\".*\"id\": *$CASE,.*\"status\": *\"closed\""
done

step "what a participant is pushed is the same on either node"
wait_for "Sam's connections on both nodes to have three case pushes" 20 \
	_frames_as_many sam_a 3 sam_b
same_frames "Sam's connections on nodes a and b had the same case pushes" \
	sam_a sam_b
wait_for "the client's connections on both nodes to have four case pushes" \
	20 _frames_as_many client_a 4 client_b
same_frames "the client's connections on nodes a and b had the same case pushes" \
	client_a client_b
assert_eq "Sam and Kim were never told who took the case over (no Lou)" \
	0 "$(cat "$T/watch-sam_b.out" "$T/watch-kim_b.out" | grep -c '"Lou"' || true)"
# Lou's daemon, started after the watchers, holds their stdin open too
counsellor_down lou
for w in sam_a sam_b kim_b lou_b client_a client_b; do
	watch_stop "$w"
done

finish
