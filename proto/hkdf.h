/*
 * hkdf.h: HKDF (RFC 5869) on HMAC-SHA256, built on libsodium's
 * crypto_auth_hmacsha256_* (libsodium 1.0.18 has no HKDF). Checked against
 * RFC 5869's SHA-256 test cases 1-3 (tests/unit/test_hkdf.c).
 */
#ifndef OFFRAMP_PROTO_HKDF_H
#define OFFRAMP_PROTO_HKDF_H

#include <stddef.h>
#include <stdint.h>

#define HKDF_HASH_BYTES	32			/* SHA-256 output, PRK size */
#define HKDF_OUT_MAX	(255 * HKDF_HASH_BYTES)	/* longest OKM */

/* PRK = HMAC-SHA256(salt, ikm). salt may be NULL when salt_len is 0 (then
 * HashLen zero bytes are used, as the RFC says). Never fails. */
void hkdf_extract(uint8_t prk[HKDF_HASH_BYTES], const uint8_t *salt,
    size_t salt_len, const uint8_t *ikm, size_t ikm_len);

/* OKM = T(1) || T(2) || ... truncated to out_len bytes, into out (caller's,
 * out_len bytes). info may be NULL when info_len is 0. Returns 0, or
 * OFR_E_USAGE when out_len is 0 or over HKDF_OUT_MAX (out untouched). */
int hkdf_expand(uint8_t *out, size_t out_len,
    const uint8_t prk[HKDF_HASH_BYTES], const uint8_t *info, size_t info_len);

/* Extract then expand; the PRK is wiped. Returns as hkdf_expand. */
int hkdf(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
    const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len);

#endif
