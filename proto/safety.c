/*
 * safety.c: the safety numbers of safety.h, over BLAKE2b (libsodium's
 * crypto_generichash). Public keys only: nothing here is secret.
 */
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/safety.h"

#define HASH_BYTES	64

/* The 30 digits of one identity into out (no NUL). */
static void
digits(char out[30], const uint8_t pk[OFR_PK_BYTES])
{
	crypto_generichash_state st;
	uint8_t h[HASH_BYTES];
	uint64_t v;

	crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)SAFETY_CONTEXT,
	    SAFETY_CONTEXT_BYTES);
	crypto_generichash_update(&st, pk, OFR_PK_BYTES);
	crypto_generichash_final(&st, h, HASH_BYTES);
	for (int i = 0; i < SAFETY_ITERATIONS; i++) {
		crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
		crypto_generichash_update(&st, h, HASH_BYTES);
		crypto_generichash_update(&st, pk, OFR_PK_BYTES);
		crypto_generichash_final(&st, h, HASH_BYTES);
	}
	for (int c = 0; c < 6; c++) {
		v = 0;
		for (int j = 0; j < 5; j++)
			v = v << 8 | h[c * 5 + j];
		v %= 100000;
		for (int j = 4; j >= 0; j--) {
			out[c * 5 + j] = (char)('0' + v % 10);
			v /= 10;
		}
	}
}

void
safety_number(char out[SAFETY_STR_BYTES], const uint8_t a[OFR_PK_BYTES],
    const uint8_t b[OFR_PK_BYTES])
{
	char d[SAFETY_DIGITS];
	char *p = out;

	if (memcmp(a, b, OFR_PK_BYTES) > 0) {
		const uint8_t *t = a;
		a = b;
		b = t;
	}
	digits(d, a);
	digits(d + 30, b);
	for (int g = 0; g < 12; g++) {
		if (g > 0)
			*p++ = ' ';
		memcpy(p, d + g * 5, 5);
		p += 5;
	}
	*p = '\0';
}

void
key_fingerprint(char out[FPR_STR_BYTES], const uint8_t key[OFR_PK_BYTES])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t msg[FPR_CONTEXT_BYTES + OFR_PK_BYTES], h[32];
	char *p = out;

	memcpy(msg, FPR_CONTEXT, FPR_CONTEXT_BYTES);
	memcpy(msg + FPR_CONTEXT_BYTES, key, OFR_PK_BYTES);
	crypto_generichash(h, sizeof(h), msg, sizeof(msg), NULL, 0);
	for (int i = 0; i < 10; i++) {
		if (i > 0 && i % 2 == 0)
			*p++ = ' ';
		*p++ = hex[h[i] >> 4];
		*p++ = hex[h[i] & 15];
	}
	*p = '\0';
}

int
safety_parse(char out[SAFETY_STR_BYTES], const char *in)
{
	char d[SAFETY_DIGITS];
	size_t n = 0;
	char *p = out;

	for (; *in != '\0'; in++) {
		if (*in == ' ')
			continue;
		if (*in < '0' || *in > '9' || n == SAFETY_DIGITS)
			return OFR_E_USAGE;
		d[n++] = *in;
	}
	if (n != SAFETY_DIGITS)
		return OFR_E_USAGE;
	for (int g = 0; g < 12; g++) {
		if (g > 0)
			*p++ = ' ';
		memcpy(p, d + g * 5, 5);
		p += 5;
	}
	*p = '\0';
	return 0;
}
