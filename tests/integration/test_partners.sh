# test_partners.sh: partnerships between programmes and the partner
# directory (PROTOCOL.md, "Partnerships"). Three programmes: A (Ada, Sam),
# B (Bea, Lou) and C (Cid, Kim), none a partner of another at first. Ada
# proposes a partnership with B, vouching for B's key; nothing is served
# until Bea accepts, vouching for A's key; then a client that was given
# only A's key accepts Lou of B through A's statement, with no question
# asked (and one that asked before the acceptance was refused). Bad
# requests (a second proposal either way, accept by the proposer or a
# stranger, an unknown programme, a key not the partner's, oversize
# fields) are refused with their codes and change nothing. The directory
# of a counsellor lists its programme's active partners with their
# profiles and the external partners its admin keeps; a counsellor of a
# programme that is not a partner sees none of it; a client has no
# directory. Either side ends the partnership: its statements are no
# longer served, the directory drops the partner, a new client of A
# refuses Lou again, and the ended partnership takes no accept or end.
# about the CLI too: its one-shot commands sanitized (lib.sh, cli)
CLI_SANITIZED=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start_server
setup_pool			# A: Ada, its key (in the trust file), Sam
A=$(sql "SELECT id FROM programmes ORDER BY id LIMIT 1")
ANAME=$(sql "SELECT name FROM programmes WHERE id = $A")

step "programmes B and C, each with its admin, key and a counsellor"
new_programme_admin "Second Path" admin2 Bea
add_counsellor admin2 couns2 Lou --languages de --topics leaving
certify_pending Lou --by admin2
new_programme_admin "Third Way" admin3 Cid
add_counsellor admin3 couns3 Kim --languages de --topics leaving
certify_pending Kim --by admin3
B=$(sql "SELECT id FROM programmes WHERE name = 'Second Path'")
C=$(sql "SELECT id FROM programmes WHERE name = 'Third Way'")
out=$(cli admin2 programme-set --languages de,en --formats chat,in-person \
	--regions berlin,brandenburg --topics leaving,family)
assert_field "B's profile has its regions" "berlin,brandenburg" "$out" regions
assert_field "  and its formats" "chat,in-person" "$out" formats

# only A's key, as a client of A was given it
printf '%s programme A\n' "$PKEY_admin" >"$T/trust-a"

step "no partners yet: the directories are empty"
assert_eq "Sam's directory is empty" "" "$(cli couns directory)"
assert_eq "Lou's directory is empty" "" "$(cli couns2 directory)"

step "Ada proposes a partnership with B, vouching for B's key"
out=$(cli admin partnership propose $(signing admin) "$B" "$PKEY_admin2")
field_to P "$out" partnership
assert_match "a partnership id" "$P" '^[0-9]+$'
assert_field "it is proposed" proposed "$out" status
assert_field "  by A" "$A" "$out" proposer
assert_field "  to B" "$B" "$out" partner
assert_eq "nothing is served yet" 0 "$(sql "SELECT count(*) FROM programme_partners")"
cli_out out admin2 partnership list
assert_eq "Bea sees the proposal from A" "$P proposed from $A $ANAME" "$out"
cli_out out admin partnership list
assert_match "Ada sees hers to B" "$out" "^$P proposed to $B Second Path$"
assert_eq "Cid sees nothing of it" "" "$(cli admin3 partnership list)"

step "a client given only A's key refuses Lou while B is only proposed"
keygen early
TRUST_FILE="$T/trust-a" clirun early request --language de --topic leaving --programme "$B"
assert_field "matched to Lou" Lou "$OUT" counsellor
assert_eq "  but refused: exits 1" 1 "$RC"
assert_contains "  B's key is not trusted" "$ERR" "crypto"

step "bad proposals and accepts are refused and change nothing"
before=$(table_counts)
clirun admin partnership propose $(signing admin) "$B" "$PKEY_admin2"
assert_match "a second proposal to B: bad_state" "$ERR" '^offramp: bad_state: partnership\.propose'
clirun admin2 partnership propose $(signing admin2) "$A" "$PKEY_admin"
assert_match "B proposing to A meanwhile: bad_state" "$ERR" '^offramp: bad_state: partnership\.propose'
clirun admin partnership propose $(signing admin) 999 "$PKEY_admin2"
assert_match "an unknown programme: not_found" "$ERR" '^offramp: not_found: partnership\.propose'
clirun admin partnership propose $(signing admin) "$C" "$PKEY_admin2"
assert_match "a key that is not C's: bad_field" "$ERR" '^offramp: bad_field: partnership\.propose: statement'
clirun admin partnership propose $(signing admin) "$A" "$PKEY_admin"
assert_eq "a partnership with itself: the CLI signs nothing (usage)" 2 "$RC"
clirun admin partnership accept $(signing admin) "$P" "$PKEY_admin2"
assert_match "the proposer accepting: forbidden" "$ERR" '^offramp: (not_found|forbidden)'
clirun admin raw --login --count 1 <<<"{\"v\":1,\"type\":\"partnership.accept\",\"id\":5,\"partnership\":$P,\"statement\":\"$(b64_random 129)\"}"
assert_error "the proposer accepting (raw)" forbidden
clirun admin3 raw --login --count 2 <<<"{\"v\":1,\"type\":\"partnership.accept\",\"id\":5,\"partnership\":$P,\"statement\":\"$(b64_random 129)\"}
{\"v\":1,\"type\":\"partnership.end\",\"id\":6,\"partnership\":$P}"
assert_error "Cid accepting A's proposal to B" not_found
assert_eq "  and ending it: not_found too" 2 "$(grep -c '"code": *"not_found"' <<<"$OUT")"
clirun admin2 raw --login --count 2 <<<"{\"v\":1,\"type\":\"partnership.accept\",\"id\":5,\"partnership\":$P,\"statement\":\"$(b64_random 130)\"}
{\"v\":1,\"type\":\"partnership.accept\",\"id\":6,\"partnership\":$P,\"statement\":\"$(b64_random 129)\"}"
assert_error "an oversize statement" bad_field statement
assert_error "a statement Bea did not sign" bad_signature
clirun admin2 partnership accept $(signing admin2) "$P" "$PKEY_admin3"
assert_eq "Bea accepting with a key that did not sign the proposal: exits 1" 1 "$RC"
assert_contains "  the CLI signs nothing" "$ERR" "nothing signed"
assert_eq "nothing changed" "$before" "$(table_counts)"
assert_eq "  the partnership is still proposed" 0 "$(sql "SELECT status FROM partnerships WHERE id = $P")"

step "Bea accepts, vouching for A's key: both statements are served"
out=$(cli admin2 partnership accept $(signing admin2) "$P" "$PKEY_admin")
assert_field "the partnership is active" active "$out" status
assert_eq "both statements are served" 2 "$(sql "SELECT count(*) FROM programme_partners
    WHERE (programme_id = $A AND partner_id = $B) OR (programme_id = $B AND partner_id = $A)")"
clirun admin2 partnership accept $(signing admin2) "$P" "$PKEY_admin"
assert_match "a second accept: refused" "$ERR" '^offramp: (not_found|bad_state)'

step "a client given only A's key accepts Lou of B through A's statement"
keygen client
TRUST_FILE="$T/trust-a" clirun client request --language de --topic leaving --programme "$B"
assert_field "matched to Lou" Lou "$OUT" counsellor
assert_eq "  and accepted: exits 0" 0 "$RC"
TRUST_FILE="$T/trust-a" clirun client send "$(field "$OUT" case)" "hello Lou"
assert_eq "  a message goes to Lou" 0 "$RC"
out=$(TRUST_FILE="$T/trust-a" cli client trust list)
assert_not_contains "B's key did not become an anchor (no trust on first use)" "$out" "$PKEY_admin2"

step "the directory lists the partner's profile, for counsellors of both sides"
cli_out out couns directory
assert_match "Sam sees B with its profile" "$out" \
	"^partner $B Second Path languages=de,en formats=chat,in-person regions=berlin,brandenburg topics=leaving,family fingerprint=([0-9a-f]{4} ){4}[0-9a-f]{4}$"
cli_out out couns2 directory
assert_match "Lou sees A" "$out" "^partner $A "
assert_eq "Kim (C is no partner) sees nothing" "" "$(cli couns3 directory)"
clirun client raw --login --count 1 <<<'{"v":1,"type":"partner.directory","id":5}'
assert_error "a client has no directory" forbidden

step "external partners: Ada adds, changes and removes; her programme's only"
out=$(cli admin external add "Exit Nord" --contact "phone +49 40 0000 0000" \
	--regions hamburg --formats in-person,phone-video --topics leaving)
X=$(printf '%s\n' "$out" | sed -n 's/^external \([0-9]*\) .*/\1/p')
assert_match "an external partner id" "$X" '^[0-9]+$'
assert_eq "as added" "external $X Exit Nord regions=hamburg formats=in-person,phone-video topics=leaving contact=phone +49 40 0000 0000" "$out"
cli_out out admin external set "$X" --contact "mail nord@example.org" --topics leaving,family
assert_eq "changed" "external $X Exit Nord regions=hamburg formats=in-person,phone-video topics=leaving,family contact=mail nord@example.org" "$out"
cli_out out admin external add "Gone Soon" --contact "post box 1"
Y=$(printf '%s\n' "$out" | sed -n 's/^external \([0-9]*\) .*/\1/p')
cli_out out couns directory
assert_match "Sam's directory has Exit Nord" "$out" "^external $X Exit Nord .* contact=mail nord@example.org$"
assert_match "  and Gone Soon" "$out" "^external $Y Gone Soon regions=- formats=- topics=- contact=post box 1$"
assert_not_contains "Lou's directory lacks A's external partners" "$(cli couns2 directory)" "Exit Nord"
before=$(table_counts)
clirun admin2 external remove "$X"
assert_match "Bea removing A's external partner: not_found" "$ERR" '^offramp: not_found: partner\.external\.remove'
clirun admin2 external set "$X" --name Mine
assert_match "Bea changing it: not_found" "$ERR" '^offramp: not_found: partner\.external\.set'
clirun couns external add "Sam's own" --contact x
assert_match "Sam adding one: forbidden" "$ERR" '^offramp: forbidden: partner\.external\.set'
long=$(printf 'n%.0s' $(seq 65))
contact=$(printf 'c%.0s' $(seq 257))
regions=$(seq -f 'r%g' 17 | paste -sd, | sed 's/,/","/g')
clirun admin raw --login --count 4 <<<"{\"v\":1,\"type\":\"partner.external.set\",\"id\":5,\"name\":\"$long\",\"contact\":\"x\"}
{\"v\":1,\"type\":\"partner.external.set\",\"id\":6,\"name\":\"N\",\"contact\":\"$contact\"}
{\"v\":1,\"type\":\"partner.external.set\",\"id\":7,\"name\":\"N\",\"contact\":\"x\",\"regions\":[\"$regions\"]}
{\"v\":1,\"type\":\"partner.external.set\",\"id\":8,\"name\":\"N\",\"contact\":\"x\",\"formats\":[\"fax\"]}"
for c in "5 name a name of 65 bytes" "6 contact a contact of 257 bytes" \
    "7 regions 17 regions" "8 formats an unknown format"; do
	read -r id f what <<<"$c"
	line=$(grep -E "\"re\": *$id[,}]" <<<"$OUT" || true)
	assert_match "$what: bad_field" "$line" '"code": *"bad_field"'
	assert_match "  naming $f" "$line" "\"field\": *\"$f\""
done
assert_eq "nothing changed" "$before" "$(table_counts)"
cli_out out admin external remove "$Y" --json
assert_match "Ada removes Gone Soon (--json)" "$out" "^\\{\"removed\": *$Y\\}$"
assert_not_contains "  gone from the directory" "$(cli couns directory)" "Gone Soon"

step "a directory too big for one frame is cut, and says so"
# C's 100 external partners (its limit), each field at its bound: some
# 155 kB of entries, over the 131072 bytes of a frame
toks=""
for i in $(seq 10 25); do
	toks+="${toks:+,}\"$(printf 'x%.0s' $(seq 30))$i\""
done
long=$(printf 'N%.0s' $(seq 64))
contact=$(printf 'C%.0s' $(seq 256))
frames=""
for i in $(seq 1 100); do
	frames+="{\"v\":1,\"type\":\"partner.external.set\",\"id\":$i,\"name\":\"$long\",\"contact\":\"$contact\",\"regions\":[$toks],\"topics\":[$toks],\"formats\":[\"chat\",\"in-person\",\"phone-video\"]}"$'\n'
done
clirun admin3 raw --login --answered <<<"${frames%$'\n'}"
assert_eq "C's admin adds 100 external partners" 100 "$(grep -c '"partner.external.set.ok"' <<<"$OUT")"
clirun couns3 directory
cut_listing "Kim's directory" "external " 50 100

step "Bea ends the partnership: nothing is vouched for any more"
cli_out out admin2 partnership end "$P"
assert_field "it is ended" ended "$out" status
assert_contains "  by B" "$out" "by programme $B"
assert_eq "no statement between A and B is served" 0 "$(sql "SELECT count(*) FROM programme_partners
    WHERE (programme_id = $A AND partner_id = $B) OR (programme_id = $B AND partner_id = $A)")"
cli_out out couns directory
assert_no_match "Sam's directory lacks B" "$out" "^partner "
assert_match "  and keeps Exit Nord" "$out" "^external $X Exit Nord "
assert_eq "Lou's directory is empty" "" "$(cli couns2 directory)"
cli_out out admin partnership list
assert_match "Ada's list says it ended" "$out" "^$P ended to $B Second Path$"
cli_out out admin partnership list --json
assert_match "  and so does its --json" "$out" "\"id\": *$P,.*\"status\": *\"ended\""

step "after the end: a new client of A refuses Lou again"
keygen late
TRUST_FILE="$T/trust-a" clirun late request --language de --topic leaving --programme "$B"
assert_field "matched to Lou" Lou "$OUT" counsellor
assert_eq "  but refused: exits 1" 1 "$RC"
assert_contains "  B's key is not trusted" "$ERR" "crypto"

step "the ended partnership takes no accept and no end"
before=$(table_counts)
clirun admin2 raw --login --count 2 <<<"{\"v\":1,\"type\":\"partnership.accept\",\"id\":5,\"partnership\":$P,\"statement\":\"$(b64_random 129)\"}
{\"v\":1,\"type\":\"partnership.end\",\"id\":6,\"partnership\":$P}"
assert_eq "Bea: accept and end again: bad_state" 2 "$(grep -c '"code": *"bad_state"' <<<"$OUT")"
clirun admin partnership end "$P"
assert_match "Ada: end again: bad_state" "$ERR" '^offramp: bad_state: partnership\.end'
assert_eq "nothing changed" "$before" "$(table_counts)"

step "a new proposal after the end; withdrawn, it keeps one record of the pair"
out=$(cli admin2 partnership propose $(signing admin2) "$A" "$PKEY_admin")
field_to P2 "$out" partnership
assert_field "B proposes to A" proposed "$out" status
cli_out out admin2 partnership end "$P2"
assert_field "and withdraws it" ended "$out" status
assert_eq "one ended record of the pair" 1 "$(sql "SELECT count(*) FROM partnerships")"

step "each admin's audit log has its side"
assert_match "Ada's: the proposal" "$(cli admin audit)" ' Ada partnership\.propose - programme '"$B"'$'
cli_out out admin2 audit
assert_match "Bea's: the accept" "$out" ' Bea partnership\.accept - programme '"$A"'$'
assert_match "Bea's: the end" "$out" ' Bea partnership\.end - programme '"$A"'$'

step "a programme with 100 partnerships proposed takes no more, whoever proposes"
# 100 programmes (written into the store: making them one by one would
# take minutes) each propose one to C
blob='zeroblob(129)'
! on_pg || blob="decode(repeat('00', 129), 'hex')"
sql_rw "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100)
INSERT INTO programmes(id, name, created) SELECT 800000 + n, 'Filler ' || n, 0 FROM g" >/dev/null
sql_rw "INSERT INTO partnerships(proposer_id, partner_id, status, proposer_statement, created)
SELECT id, $C, 0, $blob, 0 FROM programmes WHERE id > 800000" >/dev/null
before=$(table_counts)
clirun admin partnership propose $(signing admin) "$C" "$PKEY_admin3"
assert_match "Ada (none open) proposing to C: limit" "$ERR" '^offramp: limit: partnership\.propose'
assert_eq "  and nothing changed" "$before" "$(table_counts)"

stop_server
finish
