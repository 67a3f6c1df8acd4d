# test_intake.sh: intake that a script cannot flood (PROTOCOL.md, "Proof
# of work", "Intake codes", "Waiting cases"): a new client account and a
# case request cost a proof of work, a known client logs in for nothing,
# the difficulty rises with a burst, a programme's intake code is asked
# for direct requests, and a waiting case whose client went away leaves
# the queue. Every refusal has its stable code and changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 16 bits: a made-up proof passes once in 65536 tries; 3 intake events a
# minute for each bit more, up to 18 (a few tenths of a second at most)
start_server --pow-bits 16 --pow-max-bits 18 --pow-step 3 \
	--keep-waiting 3s --rematch-period 1
setup_pool			# Sam speaks en: requests in fr wait

# challenge_bits NAME: the difficulty of a fresh connection's challenge.
challenge_bits() {
	cli "$1" raw --idle 0.2 </dev/null | grep -m1 '"challenge"' |
		sed -n 's/.*"pow": *\([0-9]*\).*/\1/p'
}

step "the challenge announces the proof of work"
keygen c1
assert_eq "a challenge asks for 16 bits" 16 "$(challenge_bits c1)"

step "a new client without a proof: pow_required, and no account"
before=$(table_counts)
clirun c1 raw --login --no-pow --count 1 <<<'{"v":1,"type":"ping","id":1}'
assert_ne "login without a proof fails" 0 "$RC"
assert_match "login without a proof: pow_required" "$ERR" 'pow_required'
assert_eq "nothing changed" "$before" "$(table_counts)"

step "a new client with a proof gets its account"
clirun c1 raw --login --count 1 <<<'{"v":1,"type":"ping","id":1}'
assert_eq "login with a proof works" 0 "$RC"
assert_contains "and the connection is usable" "$OUT" '"ping.ok"'
assert_eq "the client account exists" 1 \
	"$(sql "SELECT count(*) FROM accounts WHERE key = X'$(hexkey "$KEY_c1")'")"

step "a known client logs in without a proof"
clirun c1 raw --login --no-pow --count 1 <<<'{"v":1,"type":"ping","id":1}'
assert_eq "a known key pays nothing" 0 "$RC"
assert_contains "  and is logged in" "$OUT" '"ping.ok"'

step "case.request without a proof, or a wrong one: pow_required, nothing changed"
before=$(table_counts)
clirun c1 raw --login --no-pow --answered <<'EOF'
{"v":1,"type":"case.request","id":2,"language":"fr"}
{"v":1,"type":"case.request","id":3,"language":"fr","pow":12345}
{"v":1,"type":"case.request","id":4,"language":"fr","pow":"12345"}
{"v":1,"type":"case.request","id":5,"language":"fr","pow":-1}
EOF
assert_error "no proof" pow_required
assert_match "  a wrong proof: pow_required too" "$OUT" '"re": *3[,}].*pow_required|pow_required.*"re": *3[,}]'
assert_match "  a fresh challenge follows each, with its difficulty" \
	"$(grep -c '"challenge"' <<<"$OUT")" '^[2-9]$'
assert_error "a proof that is not a number" bad_field pow
assert_eq "nothing changed" "$before" "$(table_counts)"

step "case.request with a proof opens the case"
clirun c1 raw --login --answered <<<'{"v":1,"type":"case.request","id":2,"language":"fr"}'
assert_contains "case.request.ok" "$OUT" '"case.request.ok"'
CASE1=$(sql "SELECT c.id FROM cases c JOIN accounts a ON a.id = c.client_id
	WHERE a.key = X'$(hexkey "$KEY_c1")'")
assert_match "the case is stored" "$CASE1" '^[0-9]+$'

step "a waiting case whose client stays connected stays in the queue"
keygen c2
watch_start c2
echo '{"v":1,"type":"case.request","id":2,"language":"fr"}' >&"$WATCH_FD_c2"
watch_expect "c2's case is opened" c2 '"case.request.ok"'
CASE2=$(sql "SELECT c.id FROM cases c JOIN accounts a ON a.id = c.client_id
	WHERE a.key = X'$(hexkey "$KEY_c2")'")
waiting() { [ "$(sql "SELECT status FROM cases WHERE id = $1")" = 1 ]; }
holds 4500 waiting "$CASE2" && pass "c2's case still waits after 4.5 s (keep-waiting 3 s)"

step "a waiting case whose client went away leaves the queue"
closed() { [ "$(sql "SELECT status FROM cases WHERE id = $1")" = 3 ]; }
wait_for "c1's case to expire" 20 closed "$CASE1" && pass "c1's case closed"
cli_out out c1 cases
assert_match "the client sees it closed when it comes back" "$out" "^$CASE1 closed "
watch_stop c2
wait_for "c2's case to expire once c2 is gone" 20 closed "$CASE2" &&
	pass "c2's case closed once c2 went away"

step "the difficulty rises after a burst of new clients"
keygen burst1 burst2 burst3 burst4 burst5 burst6
for i in 1 2 3 4 5 6; do
	cli "burst$i" raw --login --count 1 <<<'{"v":1,"type":"ping","id":1}' >/dev/null
done
bits=$(challenge_bits c1)
assert_eq "a burst raises the difficulty to its cap" 18 "$bits"

step "an intake code: set by the admin, kept as a hash"
PROG=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
before=$(table_counts)
clirun admin raw --login --answered <<<'{"v":1,"type":"programme.set","id":2,"intake_code":"ab"}'
assert_error "a code of 2 characters" bad_field intake_code
clirun admin raw --login --answered <<<'{"v":1,"type":"programme.set","id":2,"intake_code":"no spaces"}'
assert_error "a code with a space" bad_field intake_code
clirun admin raw --login --answered <<<'{"v":1,"type":"programme.set","id":2,"intake_code":7}'
assert_error "a code that is no string" bad_field intake_code
assert_eq "nothing changed" "$before" "$(table_counts)"
assert_eq "  no code stored" "" "$(sql "SELECT intake_hash FROM programmes WHERE id = $PROG")"
clirun admin programme-set --intake-code Flyer-42
assert_eq "offramp programme-set --intake-code sets a code" 0 "$RC"
assert_field "  and says one is asked" asked "$OUT" intake_code
assert_eq "the database holds a 32-byte hash" 32 \
	"$(sql "SELECT length(intake_hash) FROM programmes WHERE id = $PROG")"
assert_eq "  not the code" 0 "$(sql "SELECT count(*) FROM programmes
	WHERE instr(lower($(blob_text intake_hash)), 'flyer') > 0")"
clirun c1 raw --login --answered <<<'{"v":1,"type":"programme.list","id":2}'
assert_match "programme.list says a code is asked" "$OUT" '"intake_code": *true'

step "a direct request needs the code"
keygen c3
cli c3 raw --login --count 1 <<<'{"v":1,"type":"ping","id":1}' >/dev/null
before=$(table_counts)
clirun c3 raw --login --answered <<<"{\"v\":1,\"type\":\"case.request\",\"id\":2,\"language\":\"fr\",\"programme\":$PROG}"
assert_error "no code" intake_code_required
clirun c3 raw --login --answered <<<"{\"v\":1,\"type\":\"case.request\",\"id\":2,\"language\":\"fr\",\"programme\":$PROG,\"intake_code\":\"flyer-43\"}"
assert_error "a wrong code" bad_intake_code
clirun c3 raw --login --answered <<<"{\"v\":1,\"type\":\"case.request\",\"id\":2,\"language\":\"fr\",\"programme\":$PROG,\"intake_code\":\"x\"}"
assert_error "a code out of form" bad_intake_code
assert_eq "nothing changed" "$before" "$(table_counts)"
clirun c3 request --language fr --programme "$PROG" --intake-code x
assert_match "offramp request checks the code's form itself" "$ERR" 'intake-code'
assert_eq "  nothing changed" "$before" "$(table_counts)"
clirun c3 request --language fr --programme "$PROG" --intake-code FLYER-42
assert_eq "the code (in any case) opens the case: offramp request --intake-code" 0 "$RC"
assert_field "  the case waits" waiting "$OUT" status

step "a request for any programme needs no code"
keygen c4
clirun c4 request --language fr
assert_eq "offramp request without a programme works" 0 "$RC"
assert_field "  the case waits" waiting "$OUT" status

step "the admin removes the code"
clirun admin programme-set --intake-code ''
assert_field "offramp programme-set --intake-code '' removes the code" none "$OUT" intake_code
assert_eq "the hash is gone" "" "$(sql "SELECT intake_hash FROM programmes WHERE id = $PROG")"

finish
