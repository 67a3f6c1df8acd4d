/*
 * hkdf.c: RFC 5869 HKDF-SHA256 over crypto_auth_hmacsha256. Intermediate
 * blocks and PRKs are wiped before return.
 */
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/hkdf.h"

void
hkdf_extract(uint8_t prk[HKDF_HASH_BYTES], const uint8_t *salt,
    size_t salt_len, const uint8_t *ikm, size_t ikm_len)
{
	static const uint8_t zero[HKDF_HASH_BYTES];
	crypto_auth_hmacsha256_state st;

	if (salt_len == 0) {
		salt = zero;
		salt_len = sizeof(zero);
	}
	crypto_auth_hmacsha256_init(&st, salt, salt_len);
	if (ikm_len > 0)
		crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	sodium_memzero(&st, sizeof(st));
}

int
hkdf_expand(uint8_t *out, size_t out_len, const uint8_t prk[HKDF_HASH_BYTES],
    const uint8_t *info, size_t info_len)
{
	crypto_auth_hmacsha256_state st;
	uint8_t t[HKDF_HASH_BYTES];
	size_t done = 0, n;
	uint8_t ctr = 0;

	if (out_len == 0 || out_len > HKDF_OUT_MAX)
		return OFR_E_USAGE;
	while (done < out_len) {
		ctr++;
		crypto_auth_hmacsha256_init(&st, prk, HKDF_HASH_BYTES);
		if (ctr > 1)
			crypto_auth_hmacsha256_update(&st, t, sizeof(t));
		if (info_len > 0)
			crypto_auth_hmacsha256_update(&st, info, info_len);
		crypto_auth_hmacsha256_update(&st, &ctr, 1);
		crypto_auth_hmacsha256_final(&st, t);
		n = out_len - done < sizeof(t) ? out_len - done : sizeof(t);
		memcpy(out + done, t, n);
		done += n;
	}
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(t, sizeof(t));
	return 0;
}

int
hkdf(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
    const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
	uint8_t prk[HKDF_HASH_BYTES];
	int rc;

	if (out_len == 0 || out_len > HKDF_OUT_MAX)
		return OFR_E_USAGE;
	hkdf_extract(prk, salt, salt_len, ikm, ikm_len);
	rc = hkdf_expand(out, out_len, prk, info, info_len);
	sodium_memzero(prk, sizeof(prk));
	return rc;
}
