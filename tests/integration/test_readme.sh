# test_readme.sh: the README's walk-through with the CLI, taken from
# README.md itself (never copied here) and run line by line as it stands
# against the real server, so that the README cannot drift from the
# program. The only changes are the server's port and its bootstrap
# token; the passphrases come from the environment, as a terminal would
# give them. Nothing in it depends on the hour or the day.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

README="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/README.md"

start_server
need_token

step "the walk-through is in the README"
script=$(awk '/^## A walk through with the CLI/ { f = 1 }
	f && /^```sh$/ { b = 1; next }
	b && /^```$/ { exit }
	b { print }' "$README")
assert_match "it has the admin's first command" "$script" 'OFFRAMP_KEY=admin.key offramp keygen'
assert_eq "its server address is the one run.sh starts" 1 \
	"$(grep -c 'wss://127.0.0.1:7443' <<<"$script")"
assert_eq "its one placeholder is the token" 1 "$(grep -c 'TOKEN' <<<"$script")"

# where it runs: a directory that looks like this source tree after
# run.sh (build/client-cli/offramp, offramp-data/cert.pem), and a home
script=${script//127.0.0.1:7443/127.0.0.1:$PORT}
script=${script//TOKEN/$TOKEN}
tree="$T/tree"
mkdir -p "$tree/build/client-cli" "$tree/offramp-data" "$T/home"
ln -s "$OFFRAMP_CLI_BIN" "$tree/build/client-cli/offramp"
ln -s "$CERT" "$tree/offramp-data/cert.pem"

step "every line runs as it stands"
rc=0
(cd "$tree" &&
	HOME="$T/home" OFFRAMP_PASSPHRASE="correct horse battery staple" \
	OFFRAMP_SIGNING_PASSPHRASE="a different long passphrase" \
	bash -euo pipefail -c "trap 'echo \"README line failed: \$BASH_COMMAND\" >&2' ERR
$script" >"$T/readme.out" 2>"$T/readme.err" </dev/null) || rc=$?
assert_eq "the walk-through exits 0" 0 "$rc"
if [ "$rc" -ne 0 ]; then
	sed 's/^/   | /' "$T/readme.err" | tail -n 20
fi
out=$(cat "$T/readme.out")
err=$(cat "$T/readme.err")
assert_not_contains "no line failed" "$err" "README line failed"
assert_contains "the admin certified Sam by name" "$out" "certified: Sam"
assert_match "the client's case is active with Sam" "$out" '^counsellor: Sam$'
assert_match "Sam read the client's message" "$out" $'\thello$'
assert_contains "the client verified the number Sam read out" "$out" "verified: Sam"
assert_contains "the client's history: its message" "$out" "me: hello"
assert_contains "  and Sam's answer" "$out" "Sam: I am here."
assert_contains "the client followed the rotation" "$err" "rotated its key"
assert_contains "Sam was revoked" "$out" "revoked: Sam"
dpid=$(sed -n 's/^daemon: //p' "$T/home/offramp-demo/sam.pid" 2>/dev/null || true)
assert_match "Sam's daemon said its pid" "$dpid" '^[0-9]+$'
if [ -n "$dpid" ]; then
	dgone() { ! kill -0 "$dpid" 2>/dev/null; }
	wait_for "Sam's daemon to stop (the README's last line)" 20 dgone &&
		pass "the README's last line stopped Sam's daemon"
	kill -9 "$dpid" 2>/dev/null || true
fi
assert_contains "Sam's daemon logged its connection" \
	"$(cat "$T/home/offramp-demo/sam.log" 2>/dev/null)" "connected to wss://127.0.0.1:$PORT"
assert_eq "the six key files are in the demo directory" 6 \
	"$(find "$T/home/offramp-demo" -maxdepth 1 -name '*.key' | wc -l)"
assert_eq "  and none in the tree" 0 "$(find "$tree" -name '*.key' | wc -l)"

stop_server
finish
