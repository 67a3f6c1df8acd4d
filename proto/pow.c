/*
 * pow.c: the intake proof of work (pow.h): one BLAKE2b-256 over a
 * context, the challenge nonce, the identity key and the candidate.
 */
#include <string.h>

#include <sodium.h>

#include "proto/pow.h"

static const char *const context[] = {
	[OFR_POW_LOGIN] = "offramp.pow.login",
	[OFR_POW_CASE] = "offramp.pow.case",
};

#define INPUT_MAX	(17 + OFR_CHALLENGE_BYTES + OFR_PK_BYTES + 8)

static size_t
prefix(uint8_t *in, enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES])
{
	size_t n = strlen(context[purpose]);

	memcpy(in, context[purpose], n);
	memcpy(in + n, nonce, OFR_CHALLENGE_BYTES);
	memcpy(in + n + OFR_CHALLENGE_BYTES, key, OFR_PK_BYTES);
	return n + OFR_CHALLENGE_BYTES + OFR_PK_BYTES;
}

static int
zeros(const uint8_t *in, size_t len)
{
	uint8_t h[32];
	int z = 0;

	crypto_generichash(h, sizeof(h), in, len, NULL, 0);
	for (size_t i = 0; i < sizeof(h); i++) {
		if (h[i] == 0) {
			z += 8;
			continue;
		}
		for (uint8_t b = 0x80; (h[i] & b) == 0; b >>= 1)
			z++;
		break;
	}
	return z;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int
ofr_pow_zeros(enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES],
    uint64_t pow)
{
	uint8_t in[INPUT_MAX];
	size_t n = prefix(in, purpose, nonce, key);

	put_le64(in + n, pow);
	return zeros(in, n + 8);
}

int
ofr_pow_check(enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES],
    uint64_t pow, int bits)
{
	if (bits <= 0)
		return 1;
	if (pow > (uint64_t)OFR_POW_MAX)
		return 0;
	return ofr_pow_zeros(purpose, nonce, key, pow) >= bits;
}

int
ofr_pow_search(enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES],
    int bits, uint64_t start, uint64_t tries, uint64_t *pow)
{
	uint8_t in[INPUT_MAX];
	size_t n = prefix(in, purpose, nonce, key);

	for (uint64_t p = start; p - start < tries && p <= (uint64_t)OFR_POW_MAX;
	    p++) {
		put_le64(in + n, p);
		if (zeros(in, n + 8) >= bits) {
			*pow = p;
			return 0;
		}
	}
	return -1;
}
