/*
 * seed_scan.c: a test tool that looks for an Ed25519 secret key in the
 * clear in a file. It takes every 32-byte window of the file's raw bytes,
 * of every base64 run in it (standard and URL alphabets, at each of the
 * four alignments) and of every hex run (at both alignments), derives the
 * public key of the window as a seed, and compares it with the given one.
 *
 *   seed_scan FILE PUBLIC_KEY_B64
 *
 * Exit status: 0 when a window is the seed of that key (its offset is
 * printed), 1 when none is, 2 on a usage or I/O error. One process instead
 * of one openssl per window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define FILE_MAX	(4 * 1024 * 1024)
#define RUN_MIN_B64	43	/* 32 bytes in base64 */
#define RUN_MIN_HEX	64

static uint8_t want[crypto_sign_PUBLICKEYBYTES];

/* 1 when some 32-byte window of b[0..n) is the seed of want. */
static int
scan(const char *what, const uint8_t *b, size_t n)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];

	for (size_t i = 0; i + crypto_sign_SEEDBYTES <= n; i++) {
		crypto_sign_seed_keypair(pk, sk, b + i);
		if (memcmp(pk, want, sizeof(pk)) == 0) {
			printf("secret seed found at byte %zu of %s\n", i, what);
			sodium_memzero(sk, sizeof(sk));
			return 1;
		}
	}
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the base64 run r[0..n) from offset k, both alphabets at once,
 * into out (capacity n); returns the bytes written. */
static size_t
b64_decode(const uint8_t *r, size_t n, size_t k, uint8_t *out)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = k; i < n; i++) {
		acc = (acc << 6) | (unsigned)b64_value(r[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

static size_t
hex_decode(const uint8_t *r, size_t n, size_t k, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = k; i + 1 < n; i += 2)
		out[o++] = (uint8_t)(hex_value(r[i]) << 4 | hex_value(r[i + 1]));
	return o;
}

/* Scans every run of characters that valuef accepts, of at least min, at
 * each of aligns offsets, decoded by decodef. */
static int
runs(const uint8_t *b, size_t n, const char *what, int (*valuef)(int),
    size_t min, size_t aligns,
    size_t (*decodef)(const uint8_t *, size_t, size_t, uint8_t *),
    uint8_t *scratch)
{
	size_t i = 0, j;

	while (i < n) {
		if (valuef(b[i]) < 0) {
			i++;
			continue;
		}
		for (j = i; j < n && valuef(b[j]) >= 0; j++)
			;
		if (j - i >= min)
			for (size_t k = 0; k < aligns; k++)
				if (scan(what, scratch,
				    decodef(b + i, j - i, k, scratch)))
					return 1;
		i = j;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	FILE *f;
	uint8_t *b, *scratch;
	size_t n, wl;
	int found;

	if (argc != 3 || sodium_init() < 0) {
		fprintf(stderr, "usage: seed_scan FILE PUBLIC_KEY_B64\n");
		return 2;
	}
	if (sodium_base642bin(want, sizeof(want), argv[2], strlen(argv[2]),
	    NULL, &wl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    wl != sizeof(want)) {
		fprintf(stderr, "seed_scan: the key is not 32 bytes of base64\n");
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	b = malloc(FILE_MAX);
	scratch = malloc(FILE_MAX);
	if (b == NULL || scratch == NULL) {
		fclose(f);
		return 2;
	}
	n = fread(b, 1, FILE_MAX, f);
	fclose(f);
	found = scan("the raw bytes", b, n) ||
	    runs(b, n, "a base64 run", b64_value, RUN_MIN_B64, 4, b64_decode,
	    scratch) ||
	    runs(b, n, "a hex run", hex_value, RUN_MIN_HEX, 2, hex_decode,
	    scratch);
	free(b);
	free(scratch);
	return found ? 0 : 1;
}
