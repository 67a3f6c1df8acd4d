/*
 * x3dh.c: prekeys, bundles and the X3DH agreement of x3dh.h. Every DH
 * result is checked (libsodium refuses an all-zero output); every converted
 * or ephemeral secret is wiped before return.
 */
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/csprng.h"
#include "proto/err.h"
#include "proto/hkdf.h"
#include "proto/x3dh.h"

#define DH_BYTES	32
#define F_BYTES		32	/* the 0xFF prefix of the KDF input */
#define IKM_MAX		(F_BYTES + 4 * DH_BYTES)

void
x3dh_keypair(uint8_t pk[X3DH_KEY_BYTES], uint8_t sk[X3DH_KEY_BYTES])
{
	csprng_buf(sk, X3DH_KEY_BYTES);
	crypto_scalarmult_base(pk, sk);
}

int
x3dh_identity_x25519_pk(uint8_t xpk[X3DH_KEY_BYTES],
    const uint8_t pk[OFR_PK_BYTES])
{
	return crypto_sign_ed25519_pk_to_curve25519(xpk, pk) == 0 ? 0 :
	    OFR_E_CRYPTO;
}

int
x3dh_identity_x25519_sk(uint8_t xsk[X3DH_KEY_BYTES],
    const uint8_t sk[OFR_SK_BYTES])
{
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, sk) == 0)
		return 0;
	sodium_memzero(xsk, X3DH_KEY_BYTES);	/* no part of it left */
	return OFR_E_CRYPTO;
}

void
x3dh_spk_message(uint8_t out[X3DH_SPK_MSG_BYTES], uint32_t spk_id,
    const uint8_t spk[X3DH_KEY_BYTES])
{
	memcpy(out, X3DH_SPK_CONTEXT, X3DH_SPK_CONTEXT_BYTES);
	be32_put(out + X3DH_SPK_CONTEXT_BYTES, spk_id);
	memcpy(out + X3DH_SPK_CONTEXT_BYTES + 4, spk, X3DH_KEY_BYTES);
}

void
x3dh_spk_sign(uint8_t sig[OFR_SIG_BYTES], const uint8_t id_sk[OFR_SK_BYTES],
    uint32_t spk_id, const uint8_t spk[X3DH_KEY_BYTES])
{
	uint8_t msg[X3DH_SPK_MSG_BYTES];

	x3dh_spk_message(msg, spk_id, spk);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), id_sk);
}

int
x3dh_spk_verify(const uint8_t sig[OFR_SIG_BYTES],
    const uint8_t id_pk[OFR_PK_BYTES], uint32_t spk_id,
    const uint8_t spk[X3DH_KEY_BYTES])
{
	uint8_t msg[X3DH_SPK_MSG_BYTES];

	x3dh_spk_message(msg, spk_id, spk);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), id_pk) != 0)
		return OFR_E_BAD_SIGNATURE;
	return 0;
}

size_t
x3dh_bundle_size(const struct x3dh_bundle *b)
{
	return X3DH_BUNDLE_FIXED_BYTES + b->n_opk * X3DH_OPK_ENTRY_BYTES;
}

int
x3dh_bundle_encode(uint8_t *out, size_t cap, size_t *len,
    const struct x3dh_bundle *b)
{
	uint8_t *p = out;

	if (b->n_opk > X3DH_OPK_MAX)
		return OFR_E_USAGE;
	if (cap < x3dh_bundle_size(b))
		return OFR_E_TOO_BIG;
	*p++ = X3DH_BUNDLE_VERSION;
	memcpy(p, b->ik, OFR_PK_BYTES);
	p += OFR_PK_BYTES;
	be32_put(p, b->spk_id);
	p += 4;
	memcpy(p, b->spk, X3DH_KEY_BYTES);
	p += X3DH_KEY_BYTES;
	memcpy(p, b->spk_sig, OFR_SIG_BYTES);
	p += OFR_SIG_BYTES;
	*p++ = (uint8_t)(b->n_opk >> 8);
	*p++ = (uint8_t)b->n_opk;
	for (size_t i = 0; i < b->n_opk; i++) {
		be32_put(p, b->opk[i].id);
		memcpy(p + 4, b->opk[i].pk, X3DH_KEY_BYTES);
		p += X3DH_OPK_ENTRY_BYTES;
	}
	*len = (size_t)(p - out);
	return 0;
}

int
x3dh_bundle_decode(struct x3dh_bundle *b, const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n;

	if (len < X3DH_BUNDLE_FIXED_BYTES || buf[0] != X3DH_BUNDLE_VERSION)
		return OFR_E_BAD_FIELD;
	p++;
	memcpy(b->ik, p, OFR_PK_BYTES);
	p += OFR_PK_BYTES;
	b->spk_id = be32_get(p);
	p += 4;
	memcpy(b->spk, p, X3DH_KEY_BYTES);
	p += X3DH_KEY_BYTES;
	memcpy(b->spk_sig, p, OFR_SIG_BYTES);
	p += OFR_SIG_BYTES;
	n = (size_t)p[0] << 8 | p[1];
	p += 2;
	if (n > X3DH_OPK_MAX ||
	    len != X3DH_BUNDLE_FIXED_BYTES + n * X3DH_OPK_ENTRY_BYTES)
		return OFR_E_BAD_FIELD;
	b->n_opk = n;
	for (size_t i = 0; i < n; i++) {
		b->opk[i].id = be32_get(p);
		memcpy(b->opk[i].pk, p + 4, X3DH_KEY_BYTES);
		p += X3DH_OPK_ENTRY_BYTES;
		for (size_t j = 0; j < i; j++)
			if (b->opk[j].id == b->opk[i].id)
				return OFR_E_BAD_FIELD;
	}
	return 0;
}

int
x3dh_bundle_verify(struct x3dh_bundle *b, const uint8_t *buf, size_t len,
    const uint8_t *expect_ik)
{
	struct x3dh_bundle local;
	uint8_t xpk[X3DH_KEY_BYTES];
	int rc;

	if (b == NULL)
		b = &local;
	if ((rc = x3dh_bundle_decode(b, buf, len)) != 0)
		return rc;
	if (expect_ik != NULL && sodium_memcmp(b->ik, expect_ik,
	    OFR_PK_BYTES) != 0)
		return OFR_E_BAD_SIGNATURE;
	if (x3dh_identity_x25519_pk(xpk, b->ik) != 0)
		return OFR_E_BAD_SIGNATURE;
	return x3dh_spk_verify(b->spk_sig, b->ik, b->spk_id, b->spk);
}

/* out = X25519(sk, pk); OFR_E_CRYPTO on an all-zero result. */
static int
dh(uint8_t out[DH_BYTES], const uint8_t sk[X3DH_KEY_BYTES],
    const uint8_t pk[X3DH_KEY_BYTES])
{
	return crypto_scalarmult(out, sk, pk) == 0 ? 0 : OFR_E_CRYPTO;
}

/* SK = HKDF(salt 0, F || dh[0..n), X3DH_INFO) and AD = ika || ikb. */
static int
derive(uint8_t sk[X3DH_SK_BYTES], uint8_t ad[X3DH_AD_BYTES], uint8_t *ikm,
    size_t ikm_len, const uint8_t ika[OFR_PK_BYTES],
    const uint8_t ikb[OFR_PK_BYTES])
{
	int rc;

	memset(ikm, 0xFF, F_BYTES);
	rc = hkdf(sk, X3DH_SK_BYTES, NULL, 0, ikm, ikm_len,
	    (const uint8_t *)X3DH_INFO, X3DH_INFO_BYTES);
	memcpy(ad, ika, OFR_PK_BYTES);
	memcpy(ad + OFR_PK_BYTES, ikb, OFR_PK_BYTES);
	return rc;
}

int
x3dh_initiate(uint8_t sk[X3DH_SK_BYTES], uint8_t ad[X3DH_AD_BYTES],
    struct x3dh_init *init, const uint8_t my_id_sk[OFR_SK_BYTES],
    const struct x3dh_bundle *b)
{
	uint8_t ikm[IKM_MAX], my_xsk[X3DH_KEY_BYTES], ek_sk[X3DH_KEY_BYTES];
	uint8_t ikb_x[X3DH_KEY_BYTES];
	size_t ikm_len = F_BYTES + 3 * DH_BYTES;
	int rc;

	if (x3dh_spk_verify(b->spk_sig, b->ik, b->spk_id, b->spk) != 0)
		return OFR_E_BAD_SIGNATURE;
	if (x3dh_identity_x25519_pk(ikb_x, b->ik) != 0)
		return OFR_E_CRYPTO;
	if (x3dh_identity_x25519_sk(my_xsk, my_id_sk) != 0)
		return OFR_E_CRYPTO;
	memset(init, 0, sizeof(*init));
	x3dh_keypair(init->ek, ek_sk);
	memcpy(init->ik, my_id_sk + 32, OFR_PK_BYTES);
	init->spk_id = b->spk_id;
	rc = dh(ikm + F_BYTES, my_xsk, b->spk);			/* DH1 */
	if (rc == 0)
		rc = dh(ikm + F_BYTES + DH_BYTES, ek_sk, ikb_x);	/* DH2 */
	if (rc == 0)
		rc = dh(ikm + F_BYTES + 2 * DH_BYTES, ek_sk, b->spk);	/* DH3 */
	if (rc == 0 && b->n_opk > 0) {
		rc = dh(ikm + F_BYTES + 3 * DH_BYTES, ek_sk, b->opk[0].pk);
		init->has_opk = 1;
		init->opk_id = b->opk[0].id;
		ikm_len += DH_BYTES;
	}
	if (rc == 0)
		rc = derive(sk, ad, ikm, ikm_len, init->ik, b->ik);
	sodium_memzero(ikm, sizeof(ikm));
	sodium_memzero(my_xsk, sizeof(my_xsk));
	sodium_memzero(ek_sk, sizeof(ek_sk));
	if (rc != 0)
		sodium_memzero(sk, X3DH_SK_BYTES);
	return rc;
}

int
x3dh_respond(uint8_t sk[X3DH_SK_BYTES], uint8_t ad[X3DH_AD_BYTES],
    const struct x3dh_init *init, const uint8_t my_id_sk[OFR_SK_BYTES],
    const uint8_t spk_sk[X3DH_KEY_BYTES], const uint8_t *opk_sk)
{
	uint8_t ikm[IKM_MAX], my_xsk[X3DH_KEY_BYTES], ika_x[X3DH_KEY_BYTES];
	size_t ikm_len = F_BYTES + 3 * DH_BYTES;
	int rc;

	if ((init->has_opk != 0) != (opk_sk != NULL))
		return OFR_E_USAGE;
	if (x3dh_identity_x25519_pk(ika_x, init->ik) != 0)
		return OFR_E_CRYPTO;
	if (x3dh_identity_x25519_sk(my_xsk, my_id_sk) != 0)
		return OFR_E_CRYPTO;
	rc = dh(ikm + F_BYTES, spk_sk, ika_x);				/* DH1 */
	if (rc == 0)
		rc = dh(ikm + F_BYTES + DH_BYTES, my_xsk, init->ek);	/* DH2 */
	if (rc == 0)
		rc = dh(ikm + F_BYTES + 2 * DH_BYTES, spk_sk, init->ek);/* DH3 */
	if (rc == 0 && opk_sk != NULL) {
		rc = dh(ikm + F_BYTES + 3 * DH_BYTES, opk_sk, init->ek);
		ikm_len += DH_BYTES;
	}
	if (rc == 0)
		rc = derive(sk, ad, ikm, ikm_len, init->ik, my_id_sk + 32);
	sodium_memzero(ikm, sizeof(ikm));
	sodium_memzero(my_xsk, sizeof(my_xsk));
	if (rc != 0)
		sodium_memzero(sk, X3DH_SK_BYTES);
	return rc;
}
