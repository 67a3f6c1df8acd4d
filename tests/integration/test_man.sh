# test_man.sh: the man pages offramp(1) and offramp-server(8) in
# deploy/man/ say what --help says: every command and global option of
# the CLI, every option of the server; and they render without a warning.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAN="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/man"

# roff NAME: NAME as the man page writes it (each "-" as "\-");
# roff_re NAME: the same as an extended regular expression.
roff() {
	printf '%s' "${1//-/\\-}"
}
roff_re() {
	local r=${1//-/\\-}
	printf '%s' "${r//\\/\\\\}"
}
# the pages, read once
MAN1=$(<"$MAN/offramp.1")
MAN8=$(<"$MAN/offramp-server.8")

step "every command of offramp is in --help and in offramp(1)"
help=$("$OFFRAMP_CLI_BIN" --help)
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/client-cli/main.c"
cmds=$(sed -n 's/^\t{ "\([a-z-]*\)", cmd_.*/\1/p' "$SRC")
assert_ne "the command table has commands" "" "$cmds"
for c in $cmds; do
	assert_match "--help has the command $c" "$help" "^  ([a-z-]+ .*\\| )?$c( |$)"
	assert_match "offramp.1 has the command $c" "$MAN1" "^\\.B[IR]? $(roff_re "$c")( |$)"
done
opts=$(printf '%s\n' "$help" | sed -n '1,/^$/p' | grep -o '\[--[a-z-]*' | tr -d '[' | sort -u)
for o in $opts; do
	assert_contains "offramp.1 has the option $o" "$MAN1" "$(roff "$o")"
done

step "offramp-server(8) has every option of offramp-server --help"
sopts=$("$OFFRAMP_SERVER_BIN" --help | sed -n 's/^  --\([a-z-]*\).*/\1/p')
assert_ne "--help lists options" "" "$sopts"
for o in $sopts; do
	assert_match "offramp-server.8 has --$o" "$MAN8" "^\\.BI? $(roff_re "--$o")( |$)"
done
for c in backup restore; do
	assert_match "offramp-server.8 has the command $c" "$MAN8" "^\\.B $c$"
done

step "both render without a warning"
for page in offramp.1 offramp-server.8; do
	warn=$(groff -man -Tutf8 -ww -z "$MAN/$page" 2>&1)
	assert_eq "$page renders cleanly" "" "$warn"
done

finish
