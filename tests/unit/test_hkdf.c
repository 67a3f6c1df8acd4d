/*
 * test_hkdf.c: proto/hkdf.c against RFC 5869's HKDF-SHA256 test cases 1-3
 * (written out here, independent of proto/vectors/), and its bounds.
 */
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "proto/err.h"
#include "proto/hkdf.h"

/* Decodes hex into out (capacity cap); its length. */
static size_t
unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t len = 0;

	if (sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL) != 0)
		return (size_t)-1;
	return len;
}

/* Fills out with bytes from..from+n-1. */
static void
seq(uint8_t *out, int from, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = (uint8_t)(from + i);
}

static void
check_case(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
    size_t salt_len, const uint8_t *info, size_t info_len, size_t L,
    const char *prk_hex, const char *okm_hex)
{
	uint8_t prk[HKDF_HASH_BYTES], want_prk[HKDF_HASH_BYTES];
	uint8_t okm[128], want_okm[128], okm2[128];

	CHECK_EQ_INT(unhex(want_prk, sizeof(want_prk), prk_hex), 32);
	CHECK_EQ_INT(unhex(want_okm, sizeof(want_okm), okm_hex), L);
	hkdf_extract(prk, salt, salt_len, ikm, ikm_len);
	CHECK(memcmp(prk, want_prk, 32) == 0);
	CHECK_EQ_INT(hkdf_expand(okm, L, prk, info, info_len), 0);
	CHECK(memcmp(okm, want_okm, L) == 0);
	CHECK_EQ_INT(hkdf(okm2, L, salt, salt_len, ikm, ikm_len, info,
	    info_len), 0);
	CHECK(memcmp(okm2, want_okm, L) == 0);
	/* A prefix of the output is the output of the shorter length. */
	CHECK_EQ_INT(hkdf(okm2, 10, salt, salt_len, ikm, ikm_len, info,
	    info_len), 0);
	CHECK(memcmp(okm2, want_okm, 10) == 0);
}

int
main(void)
{
	uint8_t ikm[80], salt[80], info[80], out[HKDF_OUT_MAX + 1];
	uint8_t prk[HKDF_HASH_BYTES] = { 0 };

	if (sodium_init() < 0)
		return 1;
	/* RFC 5869 A.1 */
	memset(ikm, 0x0b, 22);
	seq(salt, 0x00, 13);
	seq(info, 0xf0, 10);
	check_case(ikm, 22, salt, 13, info, 10, 42,
	    "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865");
	/* A.2 */
	seq(ikm, 0x00, 80);
	seq(salt, 0x60, 80);
	seq(info, 0xb0, 80);
	check_case(ikm, 80, salt, 80, info, 80, 82,
	    "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	    "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	/* A.3: empty salt and info */
	memset(ikm, 0x0b, 22);
	check_case(ikm, 22, NULL, 0, NULL, 0, 42,
	    "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8");
	/* An empty salt is the same as HashLen zero bytes. */
	{
		uint8_t zero[32] = { 0 }, a[32], b[32];

		hkdf_extract(a, NULL, 0, ikm, 22);
		hkdf_extract(b, zero, 32, ikm, 22);
		CHECK(memcmp(a, b, 32) == 0);
	}
	/* Bounds: 0 and over 255 blocks refused, exactly 255 blocks fine. */
	CHECK_EQ_INT(hkdf_expand(out, 0, prk, NULL, 0), OFR_E_USAGE);
	CHECK_EQ_INT(hkdf_expand(out, HKDF_OUT_MAX + 1, prk, NULL, 0),
	    OFR_E_USAGE);
	CHECK_EQ_INT(hkdf(out, HKDF_OUT_MAX + 1, NULL, 0, ikm, 22, NULL, 0),
	    OFR_E_USAGE);
	CHECK_EQ_INT(hkdf_expand(out, HKDF_OUT_MAX, prk, NULL, 0), 0);
	return check_done();
}
