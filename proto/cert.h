/*
 * cert.h: what a programme's Ed25519 signing key signs (CRYPTO.md,
 * "Programme keys"): certificates of counsellor identity keys, the
 * rotation of the programme key to a new one, the list of revoked
 * counsellor keys, and partner statements that vouch for another
 * programme's key. Each is body || Ed25519 signature (64) over
 * context || body; integers are big-endian i64, times Unix seconds.
 *
 * Certificate body (57 bytes):
 *   version (1, = 1) || counsellor identity pk (32) ||
 *   programme id || not_before || not_after
 * (valid for not_before <= now < not_after). Clients trust programme keys
 * given out of band and refuse a counsellor key without a valid
 * certificate under one of them.
 */
#ifndef OFFRAMP_PROTO_CERT_H
#define OFFRAMP_PROTO_CERT_H

#include <stdint.h>

#include "proto/ocrypto.h"

#define CERT_VERSION		1
#define CERT_CONTEXT		"offramp-cert-v1"	/* 15 bytes, no NUL */
#define CERT_CONTEXT_BYTES	15
#define CERT_BODY_BYTES		(1 + OFR_PK_BYTES + 3 * 8)	/* 57 */
#define CERT_BYTES		(CERT_BODY_BYTES + OFR_SIG_BYTES)	/* 121 */

struct cert_info {
	uint8_t		counsellor_pk[OFR_PK_BYTES];
	int64_t		programme_id;
	int64_t		not_before;
	int64_t		not_after;
};

/* Signs info with the programme's secret key into cert. 0, or
 * OFR_E_USAGE when not_after <= not_before. */
int cert_sign(uint8_t cert[CERT_BYTES],
    const uint8_t programme_sk[OFR_SK_BYTES], const struct cert_info *info);

/*
 * Checks cert against the pinned programme key at time now and, when
 * counsellor_pk is not NULL, that it certifies that key. 0 and *info (may
 * be NULL) filled when valid; OFR_E_BAD_FIELD when malformed (version,
 * empty validity); OFR_E_BAD_SIGNATURE when the signature does not verify
 * or the key differs; OFR_E_CRYPTO when now is outside the validity.
 */
int cert_verify(struct cert_info *info, const uint8_t cert[CERT_BYTES],
    const uint8_t programme_pk[OFR_PK_BYTES], const uint8_t *counsellor_pk,
    int64_t now);

/*
 * Admin certificate: the same body as a certificate, signed by the
 * programme key under its own context, so that neither can pass for the
 * other. It says "this key is an admin of the programme": clients seal
 * anonymous feedback text to the admins it names (CRYPTO.md, "Feedback").
 * Codes as cert_sign and cert_verify; info->counsellor_pk is the admin's.
 */
#define ADMIN_CERT_CONTEXT	"offramp-admin-cert-v1"	/* 21 bytes */
#define ADMIN_CERT_CONTEXT_BYTES 21
int admin_cert_sign(uint8_t cert[CERT_BYTES],
    const uint8_t programme_sk[OFR_SK_BYTES], const struct cert_info *info);
int admin_cert_verify(struct cert_info *info, const uint8_t cert[CERT_BYTES],
    const uint8_t programme_pk[OFR_PK_BYTES], const uint8_t *admin_pk,
    int64_t now);

/*
 * Rotation statement (ROTATION_BYTES), signed by the OLD key:
 *   version (1) || programme id || old pk (32) || new pk (32) || issued
 * A client that trusts the old key follows it to the new one.
 */
#define ROTATION_CONTEXT	"offramp-rotate-v1"	/* 17 bytes */
#define ROTATION_CONTEXT_BYTES	17
#define ROTATION_BODY_BYTES	(1 + 8 + 2 * OFR_PK_BYTES + 8)	/* 81 */
#define ROTATION_BYTES		(ROTATION_BODY_BYTES + OFR_SIG_BYTES) /* 145 */

struct rotation {
	int64_t		programme_id;
	uint8_t		old_pk[OFR_PK_BYTES];
	uint8_t		new_pk[OFR_PK_BYTES];
	int64_t		issued;
};

/* Signs r with the old key's secret (whose public half must be
 * r->old_pk). 0, or OFR_E_USAGE when old and new key are the same. */
int rotation_sign(uint8_t out[ROTATION_BYTES],
    const uint8_t old_sk[OFR_SK_BYTES], const struct rotation *r);
/* Checks a rotation statement signed by old_pk: 0 and *r (may be NULL);
 * OFR_E_BAD_SIGNATURE (signature, or another old key), OFR_E_BAD_FIELD
 * (version, old = new). */
int rotation_verify(struct rotation *r, const uint8_t in[ROTATION_BYTES],
    const uint8_t old_pk[OFR_PK_BYTES]);

/*
 * Revocation list (revocation_bytes(n)), signed by the programme key:
 *   version (1) || programme id || issued || n (u16) || n keys (32 each)
 * n is 0..REVOCATION_MAX, keys sorted bytewise and distinct. A client
 * keeps the newest list (highest issued) it has seen per programme key
 * and refuses every listed counsellor key, whatever the server says later.
 */
#define REVOCATION_CONTEXT	"offramp-revoke-v1"	/* 17 bytes */
#define REVOCATION_CONTEXT_BYTES 17
#define REVOCATION_HEAD_BYTES	(1 + 8 + 8 + 2)		/* 19 */
#define REVOCATION_MAX		128
#define revocation_bytes(n)	(REVOCATION_HEAD_BYTES + \
				    (size_t)(n) * OFR_PK_BYTES + OFR_SIG_BYTES)
#define REVOCATION_BYTES_MAX	revocation_bytes(REVOCATION_MAX) /* 4179 */

struct revocation {
	int64_t		programme_id;
	int64_t		issued;
	size_t		n;
	const uint8_t	*keys;		/* n * 32 bytes, inside the list */
};

/* Signs the list of n keys (sorted and distinct, else OFR_E_USAGE) into
 * out (revocation_bytes(n) bytes, at most cap: else OFR_E_LIMIT). */
int revocation_sign(uint8_t *out, size_t cap, size_t *len,
    const uint8_t sk[OFR_SK_BYTES], int64_t programme_id, int64_t issued,
    const uint8_t *keys, size_t n);
/* Checks a list of len bytes under pk: 0 and *r (keys point into in);
 * OFR_E_BAD_FIELD (length, version, order), OFR_E_BAD_SIGNATURE. */
int revocation_verify(struct revocation *r, const uint8_t *in, size_t len,
    const uint8_t pk[OFR_PK_BYTES]);
/* 1 if key is on the checked list r, else 0. */
int revocation_has(const struct revocation *r,
    const uint8_t key[OFR_PK_BYTES]);

/*
 * Partner statement (PARTNER_BYTES), signed by a programme's key:
 *   version (1) || programme id (the signer) || partner programme id ||
 *   partner pk (32) || not_before || not_after
 * A client that trusts the signer trusts the partner's key for the
 * partner programme while the statement is valid.
 */
#define PARTNER_CONTEXT		"offramp-partner-v1"	/* 18 bytes */
#define PARTNER_CONTEXT_BYTES	18
#define PARTNER_BODY_BYTES	(1 + 8 + 8 + OFR_PK_BYTES + 8 + 8) /* 65 */
#define PARTNER_BYTES		(PARTNER_BODY_BYTES + OFR_SIG_BYTES) /* 129 */

struct partner_info {
	int64_t		programme_id;
	int64_t		partner_id;
	uint8_t		partner_pk[OFR_PK_BYTES];
	int64_t		not_before;
	int64_t		not_after;
};

/* Signs p. 0, or OFR_E_USAGE (empty validity, a programme vouching for
 * itself). */
int partner_sign(uint8_t out[PARTNER_BYTES], const uint8_t sk[OFR_SK_BYTES],
    const struct partner_info *p);
/* Checks a partner statement under signer_pk at now: 0 and *p (may be
 * NULL); codes as cert_verify. */
int partner_verify(struct partner_info *p, const uint8_t in[PARTNER_BYTES],
    const uint8_t signer_pk[OFR_PK_BYTES], int64_t now);

#endif
