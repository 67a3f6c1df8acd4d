/*
 * x3dh.h: prekeys, prekey bundles and the X3DH key agreement (Signal's
 * "The X3DH Key Agreement Protocol", Marlinspike & Perrin) of offramp's
 * end-to-end sessions (CRYPTO.md, "Keys" and "Key agreement").
 *
 * Identities are the Ed25519 account keys (OFR_PK_BYTES / OFR_SK_BYTES of
 * ocrypto.h); X3DH uses their X25519 forms. Prekeys are X25519 pairs with a
 * 32-bit id; the signed prekey is signed by the identity over
 * X3DH_SPK_CONTEXT || spk_id (u32 big-endian) || spk public key.
 * The associated data is AD = IKa || IKb with the Ed25519 publics, the
 * initiator's first. All functions return 0 or a negative code of err.h.
 */
#ifndef OFFRAMP_PROTO_X3DH_H
#define OFFRAMP_PROTO_X3DH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ocrypto.h"

#define X3DH_KEY_BYTES		32	/* X25519 public or secret key */
#define X3DH_SK_BYTES		32	/* the shared secret SK */
#define X3DH_AD_BYTES		(2 * OFR_PK_BYTES)
#define X3DH_SPK_CONTEXT	"offramp-spk-v1"	/* 14 bytes, no NUL */
#define X3DH_SPK_CONTEXT_BYTES	14
#define X3DH_SPK_MSG_BYTES	(X3DH_SPK_CONTEXT_BYTES + 4 + X3DH_KEY_BYTES)
#define X3DH_INFO		"offramp-x3dh-v1"	/* HKDF info, no NUL */
#define X3DH_INFO_BYTES		15

/* Bundles (bytes; CRYPTO.md, "Prekey bundle"): */
#define X3DH_BUNDLE_VERSION	1
#define X3DH_OPK_MAX		100	/* one-time prekeys in one bundle */
#define X3DH_OPK_ENTRY_BYTES	(4 + X3DH_KEY_BYTES)
#define X3DH_BUNDLE_FIXED_BYTES	(1 + OFR_PK_BYTES + 4 + X3DH_KEY_BYTES + \
				 OFR_SIG_BYTES + 2)	/* 135 */
#define X3DH_BUNDLE_MAX_BYTES	(X3DH_BUNDLE_FIXED_BYTES + \
				 X3DH_OPK_MAX * X3DH_OPK_ENTRY_BYTES)

struct x3dh_opk {
	uint32_t	id;
	uint8_t		pk[X3DH_KEY_BYTES];
};

/* A prekey bundle: what an identity publishes (then with many one-time
 * prekeys) and what an initiator fetches (then with 0 or 1). */
struct x3dh_bundle {
	uint8_t		ik[OFR_PK_BYTES];	/* Ed25519 identity */
	uint32_t	spk_id;
	uint8_t		spk[X3DH_KEY_BYTES];
	uint8_t		spk_sig[OFR_SIG_BYTES];
	size_t		n_opk;			/* 0..X3DH_OPK_MAX */
	struct x3dh_opk	opk[X3DH_OPK_MAX];
};

/* The initiator's X3DH fields, sent in its messages until it gets a reply. */
struct x3dh_init {
	uint8_t		ik[OFR_PK_BYTES];	/* initiator's Ed25519 identity */
	uint8_t		ek[X3DH_KEY_BYTES];	/* ephemeral X25519 public */
	uint32_t	spk_id;
	int		has_opk;		/* 0: no one-time prekey used */
	uint32_t	opk_id;			/* 0 when has_opk is 0 */
};

/* A fresh X25519 pair (from csprng_buf) into the caller's buffers. */
void x3dh_keypair(uint8_t pk[X3DH_KEY_BYTES], uint8_t sk[X3DH_KEY_BYTES]);

/* The X25519 form of an Ed25519 identity: public (0 or OFR_E_CRYPTO when
 * pk is not a valid point) and secret (0; the caller wipes xsk). */
int x3dh_identity_x25519_pk(uint8_t xpk[X3DH_KEY_BYTES],
    const uint8_t pk[OFR_PK_BYTES]);
int x3dh_identity_x25519_sk(uint8_t xsk[X3DH_KEY_BYTES],
    const uint8_t sk[OFR_SK_BYTES]);

/* The signed prekey message: context || spk_id (u32 BE) || spk. */
void x3dh_spk_message(uint8_t out[X3DH_SPK_MSG_BYTES], uint32_t spk_id,
    const uint8_t spk[X3DH_KEY_BYTES]);
/* Signs the signed prekey with the identity secret key id_sk. */
void x3dh_spk_sign(uint8_t sig[OFR_SIG_BYTES], const uint8_t id_sk[OFR_SK_BYTES],
    uint32_t spk_id, const uint8_t spk[X3DH_KEY_BYTES]);
/* 0 when sig is id_pk's signature of the prekey, else OFR_E_BAD_SIGNATURE. */
int x3dh_spk_verify(const uint8_t sig[OFR_SIG_BYTES],
    const uint8_t id_pk[OFR_PK_BYTES], uint32_t spk_id,
    const uint8_t spk[X3DH_KEY_BYTES]);

/* The encoded size of b (X3DH_BUNDLE_FIXED_BYTES + 36 per one-time key). */
size_t x3dh_bundle_size(const struct x3dh_bundle *b);
/* Encodes b into out (capacity cap), *len its size. 0, OFR_E_USAGE when
 * b->n_opk is over X3DH_OPK_MAX, OFR_E_TOO_BIG when cap is short. Does not
 * sign: fill spk_sig with x3dh_spk_sign first. */
int x3dh_bundle_encode(uint8_t *out, size_t cap, size_t *len,
    const struct x3dh_bundle *b);
/* Decodes a bundle without checking its signature. 0, or OFR_E_BAD_FIELD
 * when buf is not exactly one well-formed bundle (version, lengths, count,
 * distinct one-time ids); b is then unspecified. */
int x3dh_bundle_decode(struct x3dh_bundle *b, const uint8_t *buf, size_t len);
/*
 * The check the server runs on an uploaded bundle and the initiator on a
 * fetched one: buf must decode (else OFR_E_BAD_FIELD), its identity must be
 * expect_ik when that is not NULL, must be a valid Ed25519 point, and the
 * signed prekey signature must verify (else OFR_E_BAD_SIGNATURE). 0 when
 * all hold. b (may be NULL) gets the decoded bundle.
 */
int x3dh_bundle_verify(struct x3dh_bundle *b, const uint8_t *buf, size_t len,
    const uint8_t *expect_ik);

/*
 * Initiator (Alice): agrees on SK with the owner of bundle b, which must
 * verify (its spk_sig; OFR_E_BAD_SIGNATURE otherwise), using b->opk[0] when
 * b->n_opk > 0. Generates the ephemeral key (csprng_buf), fills sk, ad and
 * init (the fields to send). Returns 0, OFR_E_BAD_SIGNATURE, or
 * OFR_E_CRYPTO (invalid key, all-zero DH). Secrets are wiped; sk is
 * the caller's to wipe.
 */
int x3dh_initiate(uint8_t sk[X3DH_SK_BYTES], uint8_t ad[X3DH_AD_BYTES],
    struct x3dh_init *init, const uint8_t my_id_sk[OFR_SK_BYTES],
    const struct x3dh_bundle *b);

/*
 * Responder (Bob): the same SK and AD from the initiator's fields, its
 * identity secret key, the secret of the signed prekey init->spk_id and,
 * when init->has_opk, the secret of one-time prekey init->opk_id (opk_sk
 * must be NULL exactly when init->has_opk is 0: OFR_E_USAGE). The caller
 * must then delete that one-time secret for good. 0 or OFR_E_CRYPTO.
 */
int x3dh_respond(uint8_t sk[X3DH_SK_BYTES], uint8_t ad[X3DH_AD_BYTES],
    const struct x3dh_init *init, const uint8_t my_id_sk[OFR_SK_BYTES],
    const uint8_t spk_sk[X3DH_KEY_BYTES], const uint8_t *opk_sk);

#endif
