/*
 * cert.h: programme certificates of counsellor identity keys (CRYPTO.md,
 * "Counsellor certificates"). A programme's Ed25519 signing key signs
 * CERT_CONTEXT || body, where the body (57 bytes) is
 *   version (1, = 1) || counsellor identity pk (32) ||
 *   programme id (i64 BE) || not_before (i64 BE) || not_after (i64 BE)
 * (times: Unix seconds, valid for not_before <= now < not_after). The
 * certificate is body || signature (64): CERT_BYTES. Clients pin the
 * programme key and refuse a counsellor key without a valid certificate.
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

#endif
