/*
 * ocrypto.c: login signatures and the interim crypto_box of ocrypto.h. Every
 * open and verify result is checked; converted secret keys are wiped.
 */
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/ocrypto.h"

int
ocrypto_init(void)
{
	return sodium_init() < 0 ? OFR_E_CRYPTO : 0;
}

void
ocrypto_login_message(uint8_t out[OFR_LOGIN_MSG_BYTES],
    const uint8_t server_pk[OFR_PK_BYTES],
    const uint8_t challenge[OFR_CHALLENGE_BYTES],
    const uint8_t user_pk[OFR_PK_BYTES])
{
	memcpy(out, OFR_LOGIN_CONTEXT, OFR_LOGIN_CONTEXT_BYTES);
	memcpy(out + 16, server_pk, 32);
	memcpy(out + 48, challenge, 32);
	memcpy(out + 80, user_pk, 32);
}

void
ocrypto_login_sign(uint8_t sig[OFR_SIG_BYTES],
    const uint8_t user_sk[OFR_SK_BYTES],
    const uint8_t server_pk[OFR_PK_BYTES],
    const uint8_t challenge[OFR_CHALLENGE_BYTES])
{
	uint8_t msg[OFR_LOGIN_MSG_BYTES];

	/* libsodium's secret key holds the public key in its second half. */
	ocrypto_login_message(msg, server_pk, challenge, user_sk + 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), user_sk);
}

int
ocrypto_login_verify(const uint8_t sig[OFR_SIG_BYTES],
    const uint8_t server_pk[OFR_PK_BYTES],
    const uint8_t challenge[OFR_CHALLENGE_BYTES],
    const uint8_t user_pk[OFR_PK_BYTES])
{
	uint8_t msg[OFR_LOGIN_MSG_BYTES];

	ocrypto_login_message(msg, server_pk, challenge, user_pk);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), user_pk) != 0)
		return OFR_E_BAD_SIGNATURE;
	return 0;
}

/* The X25519 pair for a box between my Ed25519 secret and their public key. */
static int
box_keys(uint8_t xsk[32], uint8_t xpk[32], const uint8_t my_sk[OFR_SK_BYTES],
    const uint8_t their_pk[OFR_PK_BYTES])
{
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, their_pk) != 0)
		return OFR_E_CRYPTO;
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, my_sk) != 0)
		return OFR_E_CRYPTO;
	return 0;
}

int
ocrypto_box_seal(uint8_t *out, const uint8_t *pt, size_t len,
    const uint8_t my_sk[OFR_SK_BYTES], const uint8_t their_pk[OFR_PK_BYTES])
{
	uint8_t xsk[32], xpk[32];
	int rc;

	if ((rc = box_keys(xsk, xpk, my_sk, their_pk)) == 0) {
		randombytes_buf(out, crypto_box_NONCEBYTES);
		if (crypto_box_easy(out + crypto_box_NONCEBYTES, pt, len, out,
		    xpk, xsk) != 0)
			rc = OFR_E_CRYPTO;
	}
	sodium_memzero(xsk, sizeof(xsk));
	return rc;
}

int
ocrypto_box_open(uint8_t *pt, const uint8_t *ct, size_t len,
    const uint8_t my_sk[OFR_SK_BYTES], const uint8_t their_pk[OFR_PK_BYTES])
{
	uint8_t xsk[32], xpk[32];
	int rc;

	if (len < OFR_BOX_OVERHEAD)
		return OFR_E_CRYPTO;
	if ((rc = box_keys(xsk, xpk, my_sk, their_pk)) == 0 &&
	    crypto_box_open_easy(pt, ct + crypto_box_NONCEBYTES,
	    len - crypto_box_NONCEBYTES, ct, xpk, xsk) != 0)
		rc = OFR_E_CRYPTO;
	sodium_memzero(xsk, sizeof(xsk));
	return rc;
}

void
ocrypto_invite_new(uint8_t token[OFR_INVITE_BYTES])
{
	/* base64url's '-' is 62, the first character the top 6 bits */
	do
		randombytes_buf(token, OFR_INVITE_BYTES);
	while (token[0] >> 2 == 62);
}

void
ocrypto_invite_encode(char out[OFR_INVITE_STR_MAX],
    const uint8_t token[OFR_INVITE_BYTES])
{
	sodium_bin2base64(out, OFR_INVITE_STR_MAX, token, OFR_INVITE_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
ocrypto_invite_decode(uint8_t token[OFR_INVITE_BYTES], const char *s)
{
	size_t n, slen = strlen(s);
	const char *end;

	/* only the alphabet: libsodium 1.0.18 takes a byte of 0x80 and up
	 * for one of it (a token is a secret: libsodium's decoder, which
	 * takes constant time) */
	for (size_t i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return OFR_E_BAD_INVITE;
	}
	if (slen >= OFR_INVITE_STR_MAX ||
	    sodium_base642bin(token, OFR_INVITE_BYTES, s, slen, NULL, &n, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + slen || n != OFR_INVITE_BYTES)
		return OFR_E_BAD_INVITE;
	return 0;
}
