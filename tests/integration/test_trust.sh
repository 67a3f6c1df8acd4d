# test_trust.sh: trust that holds against a compromised server, played
# with the server's own tools (--new-programme, its database) and the real
# CLI. A client trusts only the programme keys it was given out of band
# (the test's trust file, --programme-key, trust add) and what they sign:
# a programme the operator makes is refused, and so is a counsellor of
# another programme than the one asked for (in the case a server names
# after answering case_open too), and one certified for a programme by
# a key trusted as another's; certify certifies only whom
# the admin names; the programme's secret lives in its own sealed file,
# which can be exported and rotated, and clients follow a signed rotation;
# a revoked or expired certificate is refused even when the server says
# nothing; verify binds the safety number compared; partners are trusted
# through a statement; a changed server key is reported.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${OFFRAMP_FORGE_BIN:?set OFFRAMP_FORGE_BIN to the forge_cert test tool}"

MARKER="trust$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# deliveries: copies waiting on the server.
deliveries() {
	sql "SELECT count(*) FROM deliveries"
}

# account_id KEY_B64: the account row of a key.
account_id() {
	sql "SELECT id FROM accounts WHERE key = X'$(hexkey "$1")'"
}

step "the key file: a stated strength, one sentence, --kdf min not offered"
printf 'pass-word\n' >"$T/weak.pass"
clirun weak --passphrase-file "$T/weak.pass" keygen --kdf moderate
assert_eq "a short passphrase is refused" 1 "$RC"
assert_contains "  with the rule" "$ERR" "too weak: at least 12 characters, with at least 6 different ones"
assert_contains "  after saying what it protects" "$ERR" \
	"Your passphrase protects this key file: with the file and the passphrase anyone can read"
assert_eq "  and no key file is made" "" "$(ls "$IDS" | grep '^weak')"
printf 'aaaaaaaaaaaaaaaaaaaa\n' >"$T/weak.pass"
clirun weak --passphrase-file "$T/weak.pass" keygen --kdf moderate
assert_eq "a long passphrase of one character is refused" 1 "$RC"
printf 'four words of passphrase\n' >"$T/weak.pass"
clirun weak --passphrase-file "$T/weak.pass" keygen --kdf interactive
assert_eq "a passphrase of four words is taken" 0 "$RC"
assert_no_match "--help does not offer --kdf min" "$(cli weak --help)" '(kdf.*\bmin\b|\bmin: )'

start_server
setup_pool			# Ada, programme 1's key in the trust file, Sam
PROG=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")

step "a client given programme 1's key talks to Sam"
keygen client
cli_out out client request --language en --topic leaving
field_to CASE "$out" case
assert_field "Sam is matched" "$COUNS_NAME" "$out" counsellor
cli client send "$CASE" "hello $MARKER" >/dev/null
assert_contains "Sam reads it" "$(cli couns recv --wait 5)" "hello $MARKER"
cli_out out client trust list
assert_match "the trust file's key is an anchor, given, of programme 1 since Sam's certificate" "$out" " given revoked=0 for=$PROG programme of admin$"

step "a key trusted here as another programme's certifies no counsellor of programme 1"
# the client trusts a second programme's key (a stranger's here); the
# operator gives Sam a certificate for programme 1 under it
read -r ok_b64 _ _ oc_hex < <("$OFFRAMP_FORGE_BIN" "$KEY_couns" "$PROG")
keygen two
cli two trust add "$ok_b64" "Another programme" >/dev/null
cli_out out two request --language en --topic leaving
field_to CASE2 "$out" case
assert_field "Sam is matched (his own certificate)" "$COUNS_NAME" "$out" counsellor
SAM_CERT=$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_couns")'")
stop_server
sql_rw "UPDATE accounts SET cert = X'$oc_hex' WHERE key = X'$(hexkey "$KEY_couns")';"
start_server
clirun two send "$CASE2" "for programme 1 alone $MARKER"
assert_eq "send exits 1" 1 "$RC"
assert_contains "  Sam refused" "$ERR" "Sam's key is refused"
assert_match "  the second key vouches for no programme yet" "$(cli two trust list)" " given revoked=0 for=\? Another programme$"
stop_server
sql_rw "UPDATE accounts SET cert = X'$SAM_CERT' WHERE key = X'$(hexkey "$KEY_couns")';"
start_server			# (Sam's daemon connects again by itself)

# ------------------------------------------- a programme the operator made

step "the operator makes a programme of its own with a counsellor 'Sam'"
new_programme "Helpline"
keygen eve
cli_out out eve redeem "$PROG_TOKEN" --name Eve
assert_field "the operator's admin" admin "$out" role
printf 'pass-eve-programme\n' >"$IDS/eve.ppass"
out=$(TRUST_FILE="" cli eve programme-key new --out "$IDS/eve.pkey" --kdf min \
	--new-passphrase-file "$IDS/eve.ppass")
field_to EVE_KEY "$out" programme-key
field_to EVE_FPR "$out" fingerprint
assert_match "its key is made (and not in anybody's trust file)" "$EVE_KEY" '^[A-Za-z0-9+/]{43}=$'
add_counsellor eve fake Sam --languages en --topics leaving
cli eve certify --signing-key "$IDS/eve.pkey" --signing-passphrase-file "$IDS/eve.ppass" Sam >/dev/null
EVE_PROG=$(sql "SELECT id FROM programmes WHERE name = 'Helpline'")
cli_out out couns profile --presence offline
assert_field "the real Sam goes offline" offline "$out" presence

step "the client asks again: the operator's Sam is refused, not pinned"
cli client close "$CASE" >/dev/null
clirun client request --language en --topic leaving
field_to CASE2 "$OUT" case
assert_field "the server matched its own Sam" "Sam" "$OUT" counsellor
assert_eq "request exits 1" 1 "$RC"
assert_contains "the key is not used silently" "$ERR" \
	"offramp: programme $EVE_PROG (Helpline) has a key you were not given:"
assert_contains "  its fingerprint is shown" "$ERR" "fingerprint: $EVE_FPR"
assert_contains "  a command that is not interactive refuses" "$ERR" \
	"not trusted; if it is the programme's key, add it with: offramp trust add $EVE_KEY NAME"
keyfile_before=$(sha256sum <"$IDS/client.key")
clirun client send "$CASE2" "secret $MARKER"
assert_eq "send refuses too" 1 "$RC"
assert_eq "nothing was sent to the operator" 0 "$(deliveries)"
assert_eq "  the client's key file unchanged (no running number spent)" \
	"$keyfile_before" "$(sha256sum <"$IDS/client.key")"
assert_no_match "the operator's key did not become an anchor" "$(cli client trust list)" "Helpline"

step "a counsellor of another programme than asked for is refused"
keygen both
cli both trust add "$EVE_KEY" "Helpline (trusted too)" >/dev/null
cp "$IDS/both.key" "$IDS/both2.key"	# the same identity, restored: no case seen
cli_out out both request --language en --topic leaving --programme "$PROG"
field_to CASE3 "$out" case
assert_match "asked for programme $PROG: waiting (its Sam is offline)" "$(field "$out" status)" '^waiting$'
stop_server
sql_rw "UPDATE cases SET status = 2, counsellor_id = $(account_id "$KEY_fake") WHERE id = $CASE3;
INSERT INTO case_participants(case_id, account_id, role, joined)
    VALUES ($CASE3, $(account_id "$KEY_fake"), 2, strftime('%s','now'));"
start_server
clirun both send "$CASE3" "secret $MARKER"
assert_eq "the server put Helpline's Sam in: send exits 1" 1 "$RC"
assert_contains "  refused" "$ERR" "Sam's key is refused: not of the programme you asked for"
assert_eq "nothing was sent" 0 "$(deliveries)"

step "a request answered case_open holds the case the server names after it"
# the same client from a key file that never saw its case: the server
# says a case is open, and names Helpline's Sam in it
PASS_OVERRIDE=pass-both clirun both2 request --language en --topic leaving --programme "$PROG"
assert_eq "request exits 1" 1 "$RC"
assert_contains "  case_open" "$ERR" "case_open"
PASS_OVERRIDE=pass-both clirun both2 send "$CASE3" "secret $MARKER"
assert_eq "send exits 1" 1 "$RC"
assert_contains "  refused" "$ERR" "Sam's key is refused: not of the programme you asked for"
assert_eq "nothing was sent" 0 "$(deliveries)"
cli client close "$CASE2" >/dev/null
cli_out out couns profile --presence online

# ------------------------------------------------- certification is a decision

step "certify lists the pending counsellors and certifies nobody"
keygen intruder
stop_server
sql_rw "INSERT INTO accounts(id, key, role, programme_id, name, created)
    VALUES ((SELECT max(id) + 1 FROM accounts), X'$(hexkey "$KEY_intruder")',
    2, $PROG, 'Kim', strftime('%s','now'));
INSERT INTO counsellor_profiles(account_id, languages, topics)
    VALUES ((SELECT id FROM accounts WHERE key = X'$(hexkey "$KEY_intruder")'),
    ',en,', ',leaving,');"
start_server
add_counsellor admin kim Kim --languages de --topics leaving
cli_out out admin certify
assert_eq "two pending, both named Kim" 2 "$(grep -c '^pending: Kim fingerprint=' <<<"$out")"
assert_eq "nobody was certified" 0 "$(sql "SELECT count(*) FROM accounts WHERE name = 'Kim' AND cert IS NOT NULL")"
clirun admin certify $(signing admin) Kim
assert_eq "a name that is not one counsellor: refused" 2 "$RC"
assert_contains "  use the fingerprint" "$ERR" "Kim names 2 counsellors; name one by its fingerprint or key:"
KIM_FPR=$(cli kim whoami | sed -n 's/^fingerprint: //p')
assert_match "Kim reads out her fingerprint" "$KIM_FPR" '^([0-9a-f]{4} ){4}[0-9a-f]{4}$'
out=$(cli admin certify $(signing admin) "$KIM_FPR")
assert_eq "the fingerprint certifies the real Kim" "certified: Kim" "$out"
assert_eq "the intruder stays uncertified" "" \
	"$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_intruder")'")"
clirun admin certify Kim
assert_eq "certify NAME without the programme key file: usage" 2 "$RC"
assert_contains "  names the file" "$ERR" "--signing-key FILE"
clirun admin certify --signing-key "$IDS/admin.pkey" --signing-passphrase-file "$IDS/eve.ppass" Kim
assert_eq "the key file's passphrase is not the programme key's" 1 "$RC"

step "the signing key is exported for a second admin, who certifies with it"
printf 'second-admin-pass\n' >"$IDS/admin2.ppass"
out=$(cli admin programme-key export $(signing admin) --out "$IDS/admin2.pkey" --kdf min \
	--new-passphrase-file "$IDS/admin2.ppass")
assert_eq "exported" "file: $IDS/admin2.pkey" "$out"
inv=$(cli admin invite --role admin | tail -n1)
keygen admin2
cli admin2 redeem "$inv" --name Bo >/dev/null
add_counsellor admin lea Lea --languages fr --topics leaving
cli_out out admin2 certify --signing-key "$IDS/admin2.pkey" --signing-passphrase-file "$IDS/admin2.ppass" Lea
assert_eq "the second admin certifies Lea" "certified: Lea" "$out"

# ---------------------------------------------------- rotation

step "the admin rotates the programme key; clients follow the signed rotation; a counsellor the server alone calls certified is not signed"
OLD_KEY=$PROGRAMME_KEY
# a compromised server lists the intruder as certified (a certificate
# no programme key made)
stop_server
sql_rw "UPDATE accounts SET cert = randomblob(121) WHERE key = X'$(hexkey "$KEY_intruder")';"
made_up=$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_intruder")'")
start_server
assert_eq "the server calls the intruder certified" true \
	"$(cli admin raw --login <<<'{"v":1,"type":"counsellor.list","id":2}' |
	grep -o '"key":"'"$KEY_intruder"'"[^}]*"certified":[a-z]*' | sed 's/.*"certified"://')"
clirun admin programme-key rotate $(signing admin) --out "$IDS/admin.new.pkey" --kdf min \
	--new-passphrase-file "$IDS/admin.ppass"
out=$OUT
assert_match "rotated" "$out" '^rotated: fingerprint ([0-9a-f]{4} ){4}[0-9a-f]{4}$'
assert_contains "Sam is certified again under the new key" "$out" "certified: Sam"
assert_contains "so are Kim and Lea" "$out" $'certified: Kim\ncertified: Lea'
assert_eq "  three, not the intruder" 3 "$(grep -c '^certified: ' <<<"$out")"
assert_contains "  who is named as not renewed" "$ERR" "not renewed: Kim: no certificate of this programme's key"
assert_eq "  and has no certificate after it (the rotation's end of the old ones)" "" \
	"$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_intruder")'")"
stop_server
sql_rw "UPDATE accounts SET cert = X'$made_up' WHERE key = X'$(hexkey "$KEY_intruder")';"
start_server
clirun admin certify --signing-key "$IDS/admin.new.pkey" --signing-passphrase-file "$IDS/admin.ppass" --renew
assert_eq "certify --renew under the new key, the intruder listed certified again: exit 0" 0 "$RC"
assert_eq "  renews the three" 3 "$(grep -c '^certified: ' <<<"$OUT")"
assert_contains "  not the intruder" "$ERR" "not renewed: Kim"
assert_eq "  whose made-up certificate is as it was" "$made_up" \
	"$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_intruder")'")"
stop_server
sql_rw "UPDATE accounts SET cert = NULL WHERE key = X'$(hexkey "$KEY_intruder")';"
start_server
mv "$IDS/admin.new.pkey" "$IDS/admin.pkey"
NEW_KEY=$(sql "SELECT hex(signing_key) FROM programmes WHERE id = $PROG")
assert_ne "the server has the new key" "$(hexkey "$OLD_KEY" | tr a-f A-F)" "$NEW_KEY"
keygen follower
cli_out out follower request --language en --topic leaving
field_to CASE4 "$out" case
assert_field "a client given only the old key: Sam is matched" "$COUNS_NAME" "$out" counsellor
clirun follower send "$CASE4" "after the rotation $MARKER"
assert_eq "  and accepted: send exits 0" 0 "$RC"
assert_match "  the rotation was followed, and told" "$(cli follower trust list)" " given revoked=0 for=$PROG programme of admin$"
assert_match "  the old key is retired, not trusted again" "$(cli follower trust list)" \
	" $(printf '%s' "$OLD_KEY" | sed 's/[+/]/./g') retired revoked=0 for=$PROG programme of admin$"
clirun follower trust add "$OLD_KEY" "the old key again"
assert_eq "  trust add of the old key is refused" 1 "$RC"
assert_contains "  and says why" "$ERR" "rotated away from this key"

# --------------------------------------------- verify binds what was compared

step "verify takes the compared safety number; a swapped key is caught"
NUM=$(cli follower safety "$CASE4" | grep -oE '([0-9]{5} ){11}[0-9]{5}')
keygen swap
counsellor_down couns		# its key is not Sam's while swapped
stop_server
sql_rw "UPDATE accounts SET key = X'$(hexkey "$KEY_swap")' WHERE key = X'$(hexkey "$KEY_couns")';"
start_server
clirun follower verify "$CASE4" "$NUM"
assert_eq "verify with the number compared before the swap: exits 1" 1 "$RC"
assert_contains "  nothing verified" "$ERR" "has a key that gives this safety number now: nothing verified"
assert_no_match "  the swapped key is not verified" "$(cli follower safety "$CASE4")" ' verified$'
stop_server
sql_rw "UPDATE accounts SET key = X'$(hexkey "$KEY_couns")' WHERE key = X'$(hexkey "$KEY_swap")';"
start_server
counsellor_up couns
out=$(cli follower verify "$CASE4" "$(tr -d ' ' <<<"$NUM")")
assert_eq "the real key, the number typed without spaces: verified" "verified: $COUNS_NAME" "$out"

# --------------------------------------------- expiry and revocation

step "an expired certificate is refused by the client's own clock"
read -r xk_b64 xk_hex _ xc_hex < <("$OFFRAMP_FORGE_BIN" "$KEY_lea" "$PROG" -7200 -3600)
keygen late
cli late trust add "$xk_b64" "a key whose certificates expired" >/dev/null
stop_server
sql_rw "UPDATE programmes SET signing_key = X'$xk_hex' WHERE id = $PROG;
UPDATE accounts SET cert = X'$xc_hex' WHERE key = X'$(hexkey "$KEY_lea")';"
start_server
clirun late request --language fr --topic leaving
assert_eq "request exits 1" 1 "$RC"
assert_contains "  expired" "$ERR" "Lea's key is refused: its certificate has expired"
stop_server
sql_rw "UPDATE programmes SET signing_key = X'$NEW_KEY' WHERE id = $PROG;"
start_server
cli admin certify $(signing admin) --renew Lea >/dev/null

step "a revocation list dated more than a day ahead is refused: it would block every newer one until then"
revocations() { sql "SELECT count(*), coalesce(max(issued), 0) FROM programme_revocations"; }
before=$(table_counts)/$(revocations)
CLI_WRAP="faketime -f +2d" clirun admin revoke $(signing admin) Lea
assert_eq "revoking with a clock two days ahead exits 1" 1 "$RC"
assert_contains "  bad_field" "$ERR" "bad_field"
assert_eq "  nothing stored" "$before" "$(table_counts)/$(revocations)"

step "a revoked counsellor is refused, even when the server later says nothing"
LEA_CERT=$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_lea")'")
out=$(cli admin revoke $(signing admin) Lea)
assert_eq "Lea revoked" "revoked: Lea" "$out"
assert_eq "the server dropped Lea's certificate" "" \
	"$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_lea")'")"
clirun admin certify $(signing admin) Lea
assert_eq "certifying Lea again, revoked: exits 1" 1 "$RC"
assert_contains "  the admin's device refuses it: the list it signed names her" "$ERR" "Lea: the programme revoked it: not certified"
clirun admin raw --login <<<"{\"v\":1,\"type\":\"counsellor.certify\",\"id\":2,\"key\":\"$KEY_lea\",\"cert\":\"$(printf "$(sed 's/../\\x&/g' <<<"$LEA_CERT")" | base64 -w0)\"}"
assert_contains "  and the server, asked past the CLI: bad_state" "$OUT" '"code":"bad_state"'
assert_eq "  no certificate stored" "" \
	"$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_lea")'")"
clirun follower send "$CASE4" "after Lea's revocation $MARKER"
assert_eq "the follower still talks to Sam" 0 "$RC"
assert_match "  and keeps the list it was served" "$(cli follower trust list)" " given revoked=1 for=$PROG programme of admin$"
stop_server
sql_rw "DELETE FROM programme_revocations;
UPDATE accounts SET cert = X'$LEA_CERT' WHERE key = X'$(hexkey "$KEY_lea")';"
start_server
cli couns profile --presence offline >/dev/null
cli follower close "$CASE4" >/dev/null
clirun follower request --language fr --topic leaving
assert_field "the server, saying nothing of the list, matches Lea again" Lea "$OUT" counsellor
assert_eq "  the client refuses her: exits 1" 1 "$RC"
assert_contains "  revoked" "$ERR" "Lea's key is refused: its programme revoked it"
assert_eq "nothing was sent to Lea" 0 "$(sql "SELECT count(*) FROM deliveries d
    JOIN accounts a ON a.id = d.recipient_id WHERE a.key = X'$(hexkey "$KEY_lea")'")"
clirun admin certify $(signing admin) --renew
assert_eq "the admin's renewal, the server saying nothing of the list: exit 0" 0 "$RC"
assert_not_contains "  Lea not renewed" "$OUT" "certified: Lea"
assert_contains "  the admin's device kept the list it signed" "$ERR" "not renewed: Lea: the programme revoked it"
assert_eq "  her stored certificate is the old one" "$LEA_CERT" \
	"$(sql "SELECT hex(cert) FROM accounts WHERE key = X'$(hexkey "$KEY_lea")'")"
out=$(cli admin revoke $(signing admin) "$KIM_FPR")
assert_eq "a revocation signed now, the server's list withheld" "revoked: $KIM_FPR" "$out"
assert_match "  names Lea still: the device's list" "$(sql "SELECT hex(list) FROM programme_revocations")" \
	"$(hexkey "$KEY_lea" | tr a-f A-F)"

# --------------------------------------------- partners

step "a partner programme vouched for by a trusted one is trusted"
out=$(cli admin partner $(signing admin) "$EVE_PROG" "$EVE_KEY")
assert_eq "programme 1 vouches for Helpline's key" "partner: $EVE_PROG" "$out"
keygen partnered
cli fake profile --languages hp >/dev/null
cli_out out partnered request --language hp --topic leaving
assert_field "Helpline's Sam is matched" Sam "$out" counsellor
assert_eq "  and accepted through the partner statement" "" "$(cli partnered trust list | grep Helpline)"

step "a counsellor revoked mid-case is read no more, in the session made before"
add_counsellor admin rev Rev --languages rv --topics leaving
assert_eq "Rev certified" "certified: Rev" "$(cli admin certify $(signing admin) Rev)"
keygen revc
cli_out out revc request --language rv --topic leaving
field_to REVCASE "$out" case
assert_field "revc's case is Rev's" Rev "$out" counsellor
# the client writes first: Rev's answers then carry no first message's
# header, which alone had his certificate checked
cli revc send "$REVCASE" "hello Rev" >/dev/null
assert_contains "Rev reads revc" "$(cli rev recv --count 1)" "hello Rev"
cli rev send "$REVCASE" "before the revocation" >/dev/null
assert_contains "revc reads Rev" "$(cli revc recv --count 1)" "before the revocation"
cli rev send "$REVCASE" "sent before the revocation, read after" >/dev/null
assert_eq "Rev revoked" "revoked: Rev" "$(cli admin revoke $(signing admin) Rev)"
cli rev send "$REVCASE" "after the revocation" >/dev/null
clirun revc recv --wait 3
assert_not_contains "revc does not read Rev any more" "$OUT" "read after"
assert_not_contains "  nor what he sent after" "$OUT" "after the revocation"
assert_contains "  and says why" "$OUT" "[refused: key not certified by a programme you trust]"

step "a rotation back to a key the programme had is refused, naming the statement"
new_programme "Rotation Probe"
keygen rotadm
cli rotadm redeem "$PROG_TOKEN" --name Rota >/dev/null
RP=$(sql "SELECT id FROM programmes WHERE name = 'Rotation Probe'")
mapfile -t ROT < <("$OFFRAMP_FORGE_BIN" --rotation "$RP")
clirun rotadm raw --login --answered <<EOF
{"v":1,"type":"programme.key.set","id":1,"key":"${ROT[0]}"}
{"v":1,"type":"programme.key.rotate","id":2,"statement":"${ROT[1]}"}
{"v":1,"type":"programme.key.rotate","id":3,"statement":"${ROT[2]}"}
EOF
reply_line 2
assert_contains "rotated from A to B" "$REPLY_LINE" '"programme.key.rotate.ok"'
reply_line 3
assert_match "back from B to A: bad_field" "$REPLY_LINE" '"code": *"bad_field"'
assert_match "  naming the statement" "$REPLY_LINE" '"field": *"statement"'

step "more counsellors than one answer lists: a renewal says it renewed only those listed, a rotation is refused before anything changes"
stop_server
sql_rw "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO accounts(id, key, role, programme_id, name, created)
    SELECT (SELECT max(id) FROM accounts) + i, randomblob(32), 2, $PROG, 'Bulk' || i, strftime('%s','now') FROM n;
INSERT INTO counsellor_profiles(account_id, languages, topics)
    SELECT id, ',zz,', ',leaving,' FROM accounts WHERE name LIKE 'Bulk%';"
start_server
assert_match "the server's list is cut" \
	"$(cli admin raw --login <<<'{"v":1,"type":"counsellor.list","id":2}')" '"more": *true'
clirun admin certify $(signing admin) --renew
assert_eq "certify --renew: exit 1" 1 "$RC"
assert_contains "  those listed renewed" "$OUT" "certified: Sam"
assert_contains "  and it says the rest were not" "$ERR" "those past it were not renewed"
key_before=$(sql "SELECT hex(signing_key) FROM programmes WHERE id = $PROG")
clirun admin programme-key rotate $(signing admin) --out "$IDS/admin.cut.pkey" --kdf min \
	--new-passphrase-file "$IDS/admin.ppass"
assert_eq "a rotation: exit 1" 1 "$RC"
assert_contains "  refused" "$ERR" "not rotated, nothing changed"
assert_eq "  the programme's key as it was" "$key_before" \
	"$(sql "SELECT hex(signing_key) FROM programmes WHERE id = $PROG")"
assert_eq "  and no new key file" "" "$(ls "$IDS/admin.cut.pkey" 2>/dev/null)"
stop_server
sql_rw "DELETE FROM counsellor_profiles WHERE account_id IN (SELECT id FROM accounts WHERE name LIKE 'Bulk%');
DELETE FROM accounts WHERE name LIKE 'Bulk%';"
start_server

# --------------------------------------------- the server's key

step "the server's key is pinned at the first login; a change is reported"
stop_server
counsellors_down		# they would not log in to a server of another key
mv "$DATA/server.key" "$DATA/server.key.old"
start_server
clirun client login
assert_eq "login with a changed server key exits 1" 1 "$RC"
assert_contains "  reported" "$ERR" "the server's key changed"
cli_out out client trust server --accept
assert_match "accepted on purpose" "$out" '^server: ([0-9a-f]{4} ){4}[0-9a-f]{4}$'
clirun client login
assert_eq "then login works" 0 "$RC"

stop_server
finish
