/*
 * forge_cert.c: a test tool that plays a hostile server operator (or a
 * stranger) with its own "programme" signing key: it makes a fresh Ed25519
 * key pair and signs a counsellor certificate (proto/cert.h) for the given
 * key and programme id, valid from an hour ago for a year, or from FROM
 * to TO seconds from now.
 *
 *   forge_cert COUNSELLOR_KEY_B64 PROGRAMME_ID [FROM TO]
 *
 * prints one line: programme key base64, its hex, certificate base64, its
 * hex.
 *
 *   forge_cert --rotation PROGRAMME_ID
 *
 * makes two programme key pairs A and B and prints three lines: A's public
 * key, the rotation statement (proto/cert.h) from A to B, and the one from
 * B back to A, each base64. For tests only: the secret keys are thrown
 * away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/cert.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"

static void
hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* --rotation PROGRAMME_ID */
static int
rotations(const char *programme)
{
	uint8_t pa[OFR_PK_BYTES], sa[OFR_SK_BYTES], pb[OFR_PK_BYTES];
	uint8_t sb[OFR_SK_BYTES], st[ROTATION_BYTES];
	char b64[OFR_B64_LEN(ROTATION_BYTES)];
	struct rotation r;

	crypto_sign_keypair(pa, sa);
	crypto_sign_keypair(pb, sb);
	b64_encode(b64, sizeof(b64), pa, sizeof(pa));
	printf("%s\n", b64);
	memset(&r, 0, sizeof(r));
	r.programme_id = strtoll(programme, NULL, 10);
	r.issued = (int64_t)time(NULL);
	memcpy(r.old_pk, pa, OFR_PK_BYTES);
	memcpy(r.new_pk, pb, OFR_PK_BYTES);
	if (rotation_sign(st, sa, &r) != 0)
		return 1;
	b64_encode(b64, sizeof(b64), st, sizeof(st));
	printf("%s\n", b64);
	memcpy(r.old_pk, pb, OFR_PK_BYTES);
	memcpy(r.new_pk, pa, OFR_PK_BYTES);
	r.issued++;
	if (rotation_sign(st, sb, &r) != 0)
		return 1;
	b64_encode(b64, sizeof(b64), st, sizeof(st));
	printf("%s\n", b64);
	sodium_memzero(sa, sizeof(sa));
	sodium_memzero(sb, sizeof(sb));
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t pk[OFR_PK_BYTES], sk[OFR_SK_BYTES], cert[CERT_BYTES];
	char b64[OFR_B64_LEN(CERT_BYTES)];
	struct cert_info info;
	size_t n;
	int64_t now = (int64_t)time(NULL);

	if (argc == 3 && strcmp(argv[1], "--rotation") == 0)
		return ocrypto_init() != 0 ? 1 : rotations(argv[2]);
	if ((argc != 3 && argc != 5) || ocrypto_init() != 0) {
		fprintf(stderr, "usage: forge_cert COUNSELLOR_KEY_B64 "
		    "PROGRAMME_ID [FROM TO]\n");
		return 2;
	}
	memset(&info, 0, sizeof(info));
	if (b64_decode(info.counsellor_pk, OFR_PK_BYTES, &n, argv[1],
	    strlen(argv[1])) != 0 || n != OFR_PK_BYTES) {
		fprintf(stderr, "forge_cert: bad key\n");
		return 2;
	}
	info.programme_id = strtoll(argv[2], NULL, 10);
	info.not_before = now - 3600;
	info.not_after = now + 365 * 86400;
	if (argc == 5) {
		info.not_before = now + strtoll(argv[3], NULL, 10);
		info.not_after = now + strtoll(argv[4], NULL, 10);
	}
	crypto_sign_keypair(pk, sk);
	if (cert_sign(cert, sk, &info) != 0)
		return 1;
	sodium_memzero(sk, sizeof(sk));
	b64_encode(b64, sizeof(b64), pk, sizeof(pk));
	printf("%s ", b64);
	hex(pk, sizeof(pk));
	b64_encode(b64, sizeof(b64), cert, sizeof(cert));
	printf(" %s ", b64);
	hex(cert, sizeof(cert));
	printf("\n");
	return 0;
}
