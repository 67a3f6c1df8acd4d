# test_bad_input.sh: every bad frame gets its error frame with the right
# code (and field), changes nothing in the database, and a connection that
# sends garbage or never logs in is closed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool
keygen client
keygen client2
CASE=$(field "$(cli client request --language en --topic leaving)" case)
assert_match "client has an active case" "$(cli client cases)" "^$CASE active "
cli client2 login >/dev/null		# an account without a case
pass "second client logged in"
KEY_stranger=$(b64_random 32)

# expect_error DESC CODE [FIELD] [RE]: OUT has an error frame with CODE
# (and "field": FIELD, and "re": RE when given).
expect_error() {
	local desc=$1 code=$2 fld=${3:-} re=${4:-}
	local line
	error_line "$code"
	line=$ERROR_LINE
	if [ -z "$line" ]; then
		fail "$desc: no error frame with code $code; got:"
		printf '%s\n' "$OUT" | cut -c1-300 | head -n 20 | sed 's/^/        | /'
		[ -z "$ERR" ] || printf '%s\n' "$ERR" | head -n 5 | sed 's/^/        ! /'
		return
	fi
	pass "$desc: error $code"
	if [ -n "$fld" ]; then
		assert_match "$desc: field $fld" "$line" "\"field\": *\"$fld\""
	fi
	if [ -n "$re" ]; then
		assert_match "$desc: re $re" "$line" "\"re\": *${re}[,}]"
	fi
}

# try DESC WHO "RAW OPTIONS" INPUT CODE [FIELD] [RE]: sends INPUT with
# `offramp raw`, expects the error, and that no table changed.
try() {
	local desc=$1 who=$2 opts=$3 input=$4 code=$5 fld=${6:-} re=${7:-}
	step "$desc"
	local before
	before=$(table_counts)
	[[ "$before" == *"accounts="* ]] || fail "$desc: no table counts: [$before]"
	# shellcheck disable=SC2086
	clirun "$who" raw $opts --idle 5 <<<"$input"
	expect_error "$desc" "$code" "$fld" "$re"
	assert_eq "$desc: nothing changed" "$before" "$(table_counts)"
}

login_frame() {	# role key sig
	printf '{"v":1,"type":"login","id":6,"role":"%s","key":"%s","sig":"%s"}' "$1" "$2" "$3"
}

# ---------------------------------------------------------- before login
pad=$(head -c 140000 /dev/zero | tr '\0' a)
try "a frame over 131072 bytes" client "--count 2" \
	"{\"v\":1,\"type\":\"ping\",\"id\":1,\"pad\":\"$pad\"}" too_big
assert_eq "too_big closes the connection" closed "$(tail -n1 <<<"$OUT")"

try "invalid JSON" client "--count 1" '{"v":1,"type":"ping","id":2' bad_json
try "a JSON array" client "--count 1" '[1,2,3]' bad_json
try "a JSON string" client "--count 1" '"ping"' bad_json
try "duplicate keys" client "--count 1" '{"v":1,"type":"ping","type":"ping","id":2}' bad_json
try "nesting deeper than 4" client "--count 1" \
	'{"v":1,"type":"ping","id":2,"x":{"a":{"b":{"c":{"d":1}}}}}' bad_json
try "missing v" client "--count 1" '{"type":"ping","id":3}' bad_version
try "v = 2" client "--count 1" '{"v":2,"type":"ping","id":4}' bad_version
try "v as a string" client "--count 1" '{"v":"1","type":"ping","id":4}' bad_version
try "an unknown type" client "--count 1" '{"v":1,"type":"no.such.type","id":5}' \
	unknown_type "" 5
try "id of the wrong type" client "--count 1" '{"v":1,"type":"ping","id":"five"}' \
	bad_field id
try "login missing its sig" client "--count 1" \
	"{\"v\":1,\"type\":\"login\",\"id\":6,\"role\":\"client\",\"key\":\"$KEY_stranger\"}" \
	bad_field sig 6
try "login with a role of the wrong type" client "--count 1" \
	"$(login_frame client "$KEY_stranger" "$(b64_random 64)" | sed 's/"role":"client"/"role":7/')" \
	bad_field role 6
try "login with a key that is not base64" client "--count 1" \
	"$(login_frame client 'not*base64!' "$(b64_random 64)")" bad_field key 6
try "login with a key of 31 bytes" client "--count 1" \
	"$(login_frame client "$(b64_random 31)" "$(b64_random 64)")" bad_field key 6
try "a request before login" client "--count 1" \
	'{"v":1,"type":"case.list","id":7}' not_logged_in "" 7
try "login with a bad signature" client "--count 2" \
	"$(login_frame client "$KEY_stranger" "$(b64_random 64)")" bad_signature "" 6
assert_eq "bad_signature comes with a new challenge" 2 \
	"$(grep -cE '"type": *"challenge"' <<<"$OUT" || true)"
try "login as counsellor with a bad signature for Sam's key" client "--count 2" \
	"$(login_frame counsellor "$KEY_couns" "$(b64_random 64)")" bad_signature "" 6
try "a binary frame" client "--binary --count 1" '{"v":1,"type":"ping","id":9}' bad_json
try "an empty frame" client "--count 1" '' bad_json
try "an empty binary frame" client "--binary --count 1" '' bad_json

step "a good frame still works on a fresh connection (the checks can pass)"
clirun client raw --count 1 --idle 5 <<<'{"v":1,"type":"ping","id":10}'
assert_match "ping answered with ping.ok" "$OUT" '"type": *"ping\.ok"'
assert_match "ping.ok carries re 10" "$OUT" '"re": *10[,}]'

# ----------------------------------------------------------- after login
try "login on a logged-in connection" client "--login --count 1" \
	"$(login_frame client "$KEY_client" "$(b64_random 64)")" already_logged_in "" 6
try "case.request without language" client2 "--login --count 1" \
	'{"v":1,"type":"case.request","id":11}' bad_field language 11
try "case.request with a number as language" client2 "--login --count 1" \
	'{"v":1,"type":"case.request","id":12,"language":5}' bad_field language 12
try "case.request with a bad token" client2 "--login --count 1" \
	'{"v":1,"type":"case.request","id":12,"language":"-EN"}' bad_field language 12
try "client does invite.create" client "--login --count 1" \
	'{"v":1,"type":"invite.create","id":13,"role":"counsellor"}' forbidden "" 13
try "client does profile.set" client "--login --count 1" \
	'{"v":1,"type":"profile.set","id":14,"available":false}' forbidden "" 14
step "names a client would show like its own user's, that look like another's (an invisible character), or with a space at an end"
# one connection, each followed by a ping (the errors stay under the
# strikes that close it)
# (a no-break space at an end, a joiner by a Latin letter, a Cyrillic e:
# accepted before)
names=('me' 'YOU' ' Sam' 'Sam ' 'Sa\u200fm' 'Sa\u200bm' '\u061cSam' 'Sam\u2060'
	'me\u00a0' 'S\u200dam' 'm\u0435')
input="" id=200
for name in "${names[@]}"; do
	input+="{\"v\":1,\"type\":\"profile.set\",\"id\":$id,\"name\":\"$name\"}"$'\n'
	input+="{\"v\":1,\"type\":\"ping\",\"id\":$((id + 1))}"$'\n'
	id=$((id + 2))
done
before=$(table_digest)
clirun couns raw --login --count $((2 * ${#names[@]})) --idle 5 <<<"${input%$'\n'}"
id=200
for name in "${names[@]}"; do
	reply_line "$id"
	assert_match "a counsellor names itself \"$name\": bad_field name" "$REPLY_LINE" \
		'"code": *"bad_field".*"field": *"name"|"field": *"name".*"code": *"bad_field"'
	id=$((id + 2))
done
assert_eq "no name changed" "$before" "$(table_digest)"
try "counsellor does case.request" couns "--login --count 1" \
	'{"v":1,"type":"case.request","id":15,"language":"en"}' forbidden "" 15
try "admin does msg.send" admin "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":16,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_client\",\"ct\":\"$(b64_random 48)\"}]}" \
	forbidden "" 16

copies_other="[{\"to\":\"$KEY_client\",\"ct\":\"$(b64_random 48)\"},{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 48)\"}]"
try "a second client sends to the first client's case" client2 "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":17,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":$copies_other}" \
	not_found "" 17
try "a second client closes the first client's case" client2 "--login --count 1" \
	"{\"v\":1,\"type\":\"case.close\",\"id\":18,\"case\":$CASE}" not_found "" 18
assert_match "the case is still active" "$(cli client cases)" "^$CASE active "
try "msg.send to a case that does not exist" client "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":19,\"case\":12345,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 48)\"}]}" \
	not_found "" 19

try "msg.send whose copies leave out the counsellor" client "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":20,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_stranger\",\"ct\":\"$(b64_random 48)\"}]}" \
	bad_recipients "" 20
try "msg.send naming the counsellor twice" client "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":21,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 48)\"},{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 48)\"}]}" \
	bad_recipients "" 21
try "msg.send with a mid that is not base64" client "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":22,\"case\":$CASE,\"mid\":\"%%%%\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 48)\"}]}" \
	bad_field mid 22
try "msg.send with a copy over 16384 bytes" client "--login --count 1" \
	"{\"v\":1,\"type\":\"msg.send\",\"id\":23,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 16385)\"}]}" \
	bad_field "" 23

step "the checks can pass: a well-formed msg.send is accepted"
before=$(sql "SELECT count(*) FROM deliveries")
clirun client raw --login --count 1 --idle 5 <<<"{\"v\":1,\"type\":\"msg.send\",\"id\":24,\"case\":$CASE,\"mid\":\"$(b64_random 16)\",\"copies\":[{\"to\":\"$KEY_couns\",\"ct\":\"$(b64_random 48)\"}]}"
assert_match "msg.send.ok" "$OUT" '"type": *"msg\.send\.ok"'
assert_eq "one copy stored" $((before + 1)) "$(sql "SELECT count(*) FROM deliveries")"

# ---------------------------------------------------- garbage disconnects
step "15 bad frames: still connected, a ping is answered"
garbage15=$(for i in $(seq 15); do echo "garbage $i"; done)
clirun client raw --count 16 --idle 5 <<<"$garbage15"$'\n''{"v":1,"type":"ping","id":30}'
assert_eq "15 error frames" 15 "$(grep -cE '"code": *"bad_json"' <<<"$OUT" || true)"
assert_match "the ping after 15 errors is answered" "$OUT" '"type": *"ping\.ok"'
assert_not_contains "not closed after 15 errors" "$OUT" $'\nclosed'

step "16 bad frames: the connection is closed"
garbage16=$(for i in $(seq 16); do echo "garbage $i"; done)
clirun client raw --count 17 --idle 5 <<<"$garbage16"$'\n''{"v":1,"type":"ping","id":31}'
assert_eq "the last line says closed" closed "$(tail -n1 <<<"$OUT")"
assert_not_contains "the ping after 16 errors is not answered" "$OUT" 'ping.ok'
clirun client raw --login --count 17 --idle 5 <<<"$garbage16"$'\n''{"v":1,"type":"ping","id":32}'
assert_eq "logged in: 16 bad frames close too" closed "$(tail -n1 <<<"$OUT")"

step "the server survived all of it"
clirun client raw --count 1 --idle 5 <<<'{"v":1,"type":"ping","id":40}'
assert_match "ping answered" "$OUT" '"type": *"ping\.ok"'
stop_server

step "a connection that never logs in is closed (--login-timeout 2)"
DATA="$T/data2"
start_server --login-timeout 2
raw_silent client
assert_match "the challenge came" "$OUT" '"type": *"challenge"'
assert_eq "the connection was closed by the server" closed "$(tail -n1 <<<"$OUT")"
if [ "$RAW_MS" -lt 8000 ]; then
	pass "closed well before the 10 s idle limit of raw"
else
	fail "closed only after $RAW_MS ms"
fi
stop_server

finish
