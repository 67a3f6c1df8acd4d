/*
 * cert.c: the counsellor certificates of cert.h. The signature is checked
 * before any field is trusted.
 */
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/err.h"

#define MSG_BYTES	(CERT_CONTEXT_BYTES + CERT_BODY_BYTES)

int
cert_sign(uint8_t cert[CERT_BYTES], const uint8_t programme_sk[OFR_SK_BYTES],
    const struct cert_info *info)
{
	uint8_t msg[MSG_BYTES], *b = msg + CERT_CONTEXT_BYTES;

	if (info->not_after <= info->not_before)
		return OFR_E_USAGE;
	memcpy(msg, CERT_CONTEXT, CERT_CONTEXT_BYTES);
	b[0] = CERT_VERSION;
	memcpy(b + 1, info->counsellor_pk, OFR_PK_BYTES);
	be64_put(b + 33, (uint64_t)info->programme_id);
	be64_put(b + 41, (uint64_t)info->not_before);
	be64_put(b + 49, (uint64_t)info->not_after);
	memcpy(cert, b, CERT_BODY_BYTES);
	crypto_sign_detached(cert + CERT_BODY_BYTES, NULL, msg, sizeof(msg),
	    programme_sk);
	return 0;
}

int
cert_verify(struct cert_info *info, const uint8_t cert[CERT_BYTES],
    const uint8_t programme_pk[OFR_PK_BYTES], const uint8_t *counsellor_pk,
    int64_t now)
{
	uint8_t msg[MSG_BYTES];
	struct cert_info ci;

	memcpy(msg, CERT_CONTEXT, CERT_CONTEXT_BYTES);
	memcpy(msg + CERT_CONTEXT_BYTES, cert, CERT_BODY_BYTES);
	if (crypto_sign_verify_detached(cert + CERT_BODY_BYTES, msg,
	    sizeof(msg), programme_pk) != 0)
		return OFR_E_BAD_SIGNATURE;
	memcpy(ci.counsellor_pk, cert + 1, OFR_PK_BYTES);
	ci.programme_id = (int64_t)be64_get(cert + 33);
	ci.not_before = (int64_t)be64_get(cert + 41);
	ci.not_after = (int64_t)be64_get(cert + 49);
	if (cert[0] != CERT_VERSION || ci.not_after <= ci.not_before)
		return OFR_E_BAD_FIELD;
	if (counsellor_pk != NULL && sodium_memcmp(ci.counsellor_pk,
	    counsellor_pk, OFR_PK_BYTES) != 0)
		return OFR_E_BAD_SIGNATURE;
	if (now < ci.not_before || now >= ci.not_after)
		return OFR_E_CRYPTO;
	if (info != NULL)
		*info = ci;
	return 0;
}
