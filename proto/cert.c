/*
 * cert.c: the signed programme statements of cert.h: certificates,
 * rotations, revocation lists and partner statements. Each is a body
 * followed by an Ed25519 signature over its context string || body; the
 * signature is checked before any field is trusted.
 */
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/err.h"

/* The longest signed message: a full revocation list's body. */
#define SIGNED_MAX	(REVOCATION_CONTEXT_BYTES + REVOCATION_BYTES_MAX)

/* Signs ctx || body (blen bytes) with sk into sig (64 bytes). */
static void
sign_body(const char *ctx, size_t clen, const uint8_t *body, size_t blen,
    const uint8_t sk[OFR_SK_BYTES], uint8_t *sig)
{
	uint8_t msg[SIGNED_MAX];

	memcpy(msg, ctx, clen);
	memcpy(msg + clen, body, blen);
	crypto_sign_detached(sig, NULL, msg, clen + blen, sk);
}

/* 0 if in (blen bytes of body, then the signature) is signed by pk over
 * ctx || body, else OFR_E_BAD_SIGNATURE. */
static int
verify_body(const char *ctx, size_t clen, const uint8_t *in, size_t blen,
    const uint8_t pk[OFR_PK_BYTES])
{
	uint8_t msg[SIGNED_MAX];

	memcpy(msg, ctx, clen);
	memcpy(msg + clen, in, blen);
	return crypto_sign_verify_detached(in + blen, msg, clen + blen,
	    pk) == 0 ? 0 : OFR_E_BAD_SIGNATURE;
}

/* --- certificates --- */

/* A certificate under context ctx (a counsellor's or an admin's). */
static int
sign_cert(const char *ctx, size_t clen, uint8_t cert[CERT_BYTES],
    const uint8_t programme_sk[OFR_SK_BYTES], const struct cert_info *info)
{
	if (info->not_after <= info->not_before)
		return OFR_E_USAGE;
	cert[0] = CERT_VERSION;
	memcpy(cert + 1, info->counsellor_pk, OFR_PK_BYTES);
	be64_put(cert + 33, (uint64_t)info->programme_id);
	be64_put(cert + 41, (uint64_t)info->not_before);
	be64_put(cert + 49, (uint64_t)info->not_after);
	sign_body(ctx, clen, cert, CERT_BODY_BYTES, programme_sk,
	    cert + CERT_BODY_BYTES);
	return 0;
}

static int
verify_cert(const char *ctx, size_t clen, struct cert_info *info,
    const uint8_t cert[CERT_BYTES], const uint8_t programme_pk[OFR_PK_BYTES],
    const uint8_t *counsellor_pk, int64_t now)
{
	struct cert_info ci;

	if (verify_body(ctx, clen, cert, CERT_BODY_BYTES, programme_pk) != 0)
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

int
cert_sign(uint8_t cert[CERT_BYTES], const uint8_t programme_sk[OFR_SK_BYTES],
    const struct cert_info *info)
{
	return sign_cert(CERT_CONTEXT, CERT_CONTEXT_BYTES, cert, programme_sk,
	    info);
}

int
cert_verify(struct cert_info *info, const uint8_t cert[CERT_BYTES],
    const uint8_t programme_pk[OFR_PK_BYTES], const uint8_t *counsellor_pk,
    int64_t now)
{
	return verify_cert(CERT_CONTEXT, CERT_CONTEXT_BYTES, info, cert,
	    programme_pk, counsellor_pk, now);
}

int
admin_cert_sign(uint8_t cert[CERT_BYTES],
    const uint8_t programme_sk[OFR_SK_BYTES], const struct cert_info *info)
{
	return sign_cert(ADMIN_CERT_CONTEXT, ADMIN_CERT_CONTEXT_BYTES, cert,
	    programme_sk, info);
}

int
admin_cert_verify(struct cert_info *info, const uint8_t cert[CERT_BYTES],
    const uint8_t programme_pk[OFR_PK_BYTES], const uint8_t *admin_pk,
    int64_t now)
{
	return verify_cert(ADMIN_CERT_CONTEXT, ADMIN_CERT_CONTEXT_BYTES, info,
	    cert, programme_pk, admin_pk, now);
}

/* --- rotations --- */

int
rotation_sign(uint8_t out[ROTATION_BYTES], const uint8_t old_sk[OFR_SK_BYTES],
    const struct rotation *r)
{
	if (memcmp(r->old_pk, r->new_pk, OFR_PK_BYTES) == 0)
		return OFR_E_USAGE;
	out[0] = CERT_VERSION;
	be64_put(out + 1, (uint64_t)r->programme_id);
	memcpy(out + 9, r->old_pk, OFR_PK_BYTES);
	memcpy(out + 41, r->new_pk, OFR_PK_BYTES);
	be64_put(out + 73, (uint64_t)r->issued);
	sign_body(ROTATION_CONTEXT, ROTATION_CONTEXT_BYTES, out,
	    ROTATION_BODY_BYTES, old_sk, out + ROTATION_BODY_BYTES);
	return 0;
}

int
rotation_verify(struct rotation *r, const uint8_t in[ROTATION_BYTES],
    const uint8_t old_pk[OFR_PK_BYTES])
{
	/* the key named first: a statement of another key costs no
	 * signature check (a client tries each of its anchors) */
	if (sodium_memcmp(in + 9, old_pk, OFR_PK_BYTES) != 0 ||
	    verify_body(ROTATION_CONTEXT, ROTATION_CONTEXT_BYTES, in,
	    ROTATION_BODY_BYTES, old_pk) != 0)
		return OFR_E_BAD_SIGNATURE;
	if (in[0] != CERT_VERSION || memcmp(in + 9, in + 41,
	    OFR_PK_BYTES) == 0)
		return OFR_E_BAD_FIELD;
	if (r != NULL) {
		r->programme_id = (int64_t)be64_get(in + 1);
		memcpy(r->old_pk, in + 9, OFR_PK_BYTES);
		memcpy(r->new_pk, in + 41, OFR_PK_BYTES);
		r->issued = (int64_t)be64_get(in + 73);
	}
	return 0;
}

/* --- revocation lists --- */

/* 1 if the n keys are in strictly ascending bytewise order. */
static int
keys_sorted(const uint8_t *keys, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(keys + (i - 1) * OFR_PK_BYTES,
		    keys + i * OFR_PK_BYTES, OFR_PK_BYTES) >= 0)
			return 0;
	return 1;
}

int
revocation_sign(uint8_t *out, size_t cap, size_t *len,
    const uint8_t sk[OFR_SK_BYTES], int64_t programme_id, int64_t issued,
    const uint8_t *keys, size_t n)
{
	size_t body;

	if (n > REVOCATION_MAX || !keys_sorted(keys, n))
		return OFR_E_USAGE;
	if (cap < revocation_bytes(n))
		return OFR_E_LIMIT;
	body = revocation_bytes(n) - OFR_SIG_BYTES;
	out[0] = CERT_VERSION;
	be64_put(out + 1, (uint64_t)programme_id);
	be64_put(out + 9, (uint64_t)issued);
	out[17] = (uint8_t)(n >> 8);
	out[18] = (uint8_t)n;
	if (n > 0)
		memcpy(out + REVOCATION_HEAD_BYTES, keys, n * OFR_PK_BYTES);
	sign_body(REVOCATION_CONTEXT, REVOCATION_CONTEXT_BYTES, out, body, sk,
	    out + body);
	*len = body + OFR_SIG_BYTES;
	return 0;
}

int
revocation_verify(struct revocation *r, const uint8_t *in, size_t len,
    const uint8_t pk[OFR_PK_BYTES])
{
	size_t n;

	if (len < revocation_bytes(0) || len > REVOCATION_BYTES_MAX)
		return OFR_E_BAD_FIELD;
	n = (size_t)in[17] << 8 | in[18];
	if (n > REVOCATION_MAX || len != revocation_bytes(n))
		return OFR_E_BAD_FIELD;
	if (verify_body(REVOCATION_CONTEXT, REVOCATION_CONTEXT_BYTES, in,
	    len - OFR_SIG_BYTES, pk) != 0)
		return OFR_E_BAD_SIGNATURE;
	if (in[0] != CERT_VERSION ||
	    !keys_sorted(in + REVOCATION_HEAD_BYTES, n))
		return OFR_E_BAD_FIELD;
	r->programme_id = (int64_t)be64_get(in + 1);
	r->issued = (int64_t)be64_get(in + 9);
	r->n = n;
	r->keys = in + REVOCATION_HEAD_BYTES;
	return 0;
}

int
revocation_has(const struct revocation *r, const uint8_t key[OFR_PK_BYTES])
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->keys + i * OFR_PK_BYTES, key,
		    OFR_PK_BYTES) == 0)
			return 1;
	return 0;
}

/* --- partner statements --- */

int
partner_sign(uint8_t out[PARTNER_BYTES], const uint8_t sk[OFR_SK_BYTES],
    const struct partner_info *p)
{
	if (p->not_after <= p->not_before || p->partner_id == p->programme_id)
		return OFR_E_USAGE;
	out[0] = CERT_VERSION;
	be64_put(out + 1, (uint64_t)p->programme_id);
	be64_put(out + 9, (uint64_t)p->partner_id);
	memcpy(out + 17, p->partner_pk, OFR_PK_BYTES);
	be64_put(out + 49, (uint64_t)p->not_before);
	be64_put(out + 57, (uint64_t)p->not_after);
	sign_body(PARTNER_CONTEXT, PARTNER_CONTEXT_BYTES, out,
	    PARTNER_BODY_BYTES, sk, out + PARTNER_BODY_BYTES);
	return 0;
}

int
partner_verify(struct partner_info *p, const uint8_t in[PARTNER_BYTES],
    const uint8_t signer_pk[OFR_PK_BYTES], int64_t now)
{
	struct partner_info pi;

	if (verify_body(PARTNER_CONTEXT, PARTNER_CONTEXT_BYTES, in,
	    PARTNER_BODY_BYTES, signer_pk) != 0)
		return OFR_E_BAD_SIGNATURE;
	pi.programme_id = (int64_t)be64_get(in + 1);
	pi.partner_id = (int64_t)be64_get(in + 9);
	memcpy(pi.partner_pk, in + 17, OFR_PK_BYTES);
	pi.not_before = (int64_t)be64_get(in + 49);
	pi.not_after = (int64_t)be64_get(in + 57);
	if (in[0] != CERT_VERSION || pi.not_after <= pi.not_before ||
	    pi.partner_id == pi.programme_id)
		return OFR_E_BAD_FIELD;
	if (now < pi.not_before || now >= pi.not_after)
		return OFR_E_CRYPTO;
	if (p != NULL)
		*p = pi;
	return 0;
}
