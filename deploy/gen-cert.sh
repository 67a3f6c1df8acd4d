#!/usr/bin/env bash
# gen-cert.sh DIR: makes a self-signed EC P-256 certificate DIR/cert.pem and
# its key DIR/key.pem (mode 0600) for 127.0.0.1 and localhost, valid 30
# days (GEN_CERT_DAYS days). For local runs and tests only. Keeps both when they exist and the
# certificate is valid for 7 more days; renews them when it has expired or
# will within 7 days (a running server loads them again on SIGHUP).
set -euo pipefail

if [ "$#" -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
if [ -f "$dir/cert.pem" ] && [ -f "$dir/key.pem" ]; then
	if openssl x509 -checkend 604800 -noout -in "$dir/cert.pem" >/dev/null 2>&1; then
		echo "gen-cert: $dir/cert.pem and $dir/key.pem exist, keeping them"
		exit 0
	fi
	echo "gen-cert: $dir/cert.pem expires within 7 days (or has): renewing it"
fi

mkdir -p "$dir"
umask 077
tmp=$(mktemp -d "$dir/.gen-cert.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-nodes -days "${GEN_CERT_DAYS:-30}" -subj "/CN=localhost" \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/err" || {
	cat "$tmp/err" >&2
	exit 1
}
chmod 0600 "$tmp/key.pem"
chmod 0644 "$tmp/cert.pem"
mv "$tmp/key.pem" "$dir/key.pem"
mv "$tmp/cert.pem" "$dir/cert.pem"
echo "gen-cert: wrote $dir/cert.pem and $dir/key.pem"
