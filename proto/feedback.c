/*
 * feedback.c: sealing and opening the text of anonymous feedback
 * (feedback.h). Secrets (the X25519 form of the admin's key, the opened
 * plaintext) are wiped before return.
 */
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/feedback.h"

_Static_assert(FEEDBACK_SEAL_OVERHEAD == crypto_box_SEALBYTES,
    "the sealed box's overhead");

int
feedback_seal(uint8_t out[FEEDBACK_SEALED_BYTES],
    const uint8_t admin_pk[OFR_PK_BYTES], const char *text, size_t len)
{
	uint8_t plain[FEEDBACK_PLAIN_BYTES], xpk[32];
	int rc;

	if (len == 0 || len > FEEDBACK_TEXT_MAX || memchr(text, 0, len))
		return OFR_E_USAGE;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, admin_pk) != 0)
		return OFR_E_CRYPTO;
	memset(plain, 0, sizeof(plain));
	memcpy(plain, text, len);
	rc = crypto_box_seal(out, plain, sizeof(plain), xpk) == 0 ? 0 :
	    OFR_E_CRYPTO;
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
feedback_open(char text[FEEDBACK_TEXT_MAX + 1],
    const uint8_t sealed[FEEDBACK_SEALED_BYTES],
    const uint8_t admin_sk[OFR_SK_BYTES])
{
	uint8_t plain[FEEDBACK_PLAIN_BYTES], xsk[32], xpk[32];
	size_t len;
	int rc = OFR_E_CRYPTO;

	if (crypto_sign_ed25519_sk_to_curve25519(xsk, admin_sk) != 0 ||
	    crypto_scalarmult_base(xpk, xsk) != 0)
		goto out;
	if (crypto_box_seal_open(plain, sealed, FEEDBACK_SEALED_BYTES, xpk,
	    xsk) != 0)
		goto out;
	len = strnlen((const char *)plain, sizeof(plain));
	if (len == 0 || len > FEEDBACK_TEXT_MAX)
		goto out;
	for (size_t i = len; i < sizeof(plain); i++)
		if (plain[i] != 0)
			goto out;
	memcpy(text, plain, len);
	text[len] = '\0';
	rc = 0;
out:
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(xsk, sizeof(xsk));
	return rc;
}
