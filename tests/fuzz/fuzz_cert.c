/*
 * fuzz_cert.c: the decoders of the programme's signed statements
 * (proto/cert.c): certificates, admin certificates, rotations,
 * revocation lists and partner statements. Each checks its signature
 * before it reads a field, so a fuzzer that only flips bytes would stop
 * at the signature: the target can sign the body it is given itself, with
 * the programme key of proto/vectors/statements.json, and then checks
 * what the decoder accepts against the format.
 *
 * Input: kind (1) || now (i64 big-endian) || bytes. kind & 7: 0 cert,
 * 1 admin cert, 2 rotation, 3 revocation list, 4 partner statement;
 * kind & 8: the bytes are a body, which the target signs; else they are
 * a whole statement, checked as they are.
 */
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "fuzz.h"

/* statements.json's programme_seed. */
static const uint8_t prog_seed[32] = {
	0xa6, 0x99, 0x2e, 0x64, 0xcb, 0xd2, 0xd1, 0x0d, 0x7a, 0x04, 0x24,
	0xb8, 0x91, 0x41, 0xb8, 0xd7, 0x2d, 0x89, 0x65, 0xa3, 0xff, 0xf7,
	0xce, 0x08, 0x91, 0xa1, 0x3a, 0xb7, 0xfd, 0x0b, 0xba, 0xe2,
};
static uint8_t pk[OFR_PK_BYTES], sk[OFR_SK_BYTES];

/* Signs ctx || body into body + blen (the buffer has room). */
static void
sign(const char *ctx, size_t clen, uint8_t *body, size_t blen)
{
	static uint8_t msg[64 + REVOCATION_BYTES_MAX];

	memcpy(msg, ctx, clen);
	memcpy(msg + clen, body, blen);
	crypto_sign_detached(body + blen, NULL, msg, clen + blen, sk);
}

static void
certs(int admin, int signd, int64_t now, const uint8_t *in, size_t n)
{
	uint8_t c[CERT_BYTES] = { 0 };
	struct cert_info ci;
	int64_t nb, na;
	int rc;

	memcpy(c, in, n < CERT_BYTES ? n : CERT_BYTES);
	if (signd) {
		if (admin)
			sign(ADMIN_CERT_CONTEXT, ADMIN_CERT_CONTEXT_BYTES, c,
			    CERT_BODY_BYTES);
		else
			sign(CERT_CONTEXT, CERT_CONTEXT_BYTES, c,
			    CERT_BODY_BYTES);
	}
	memset(&ci, 0, sizeof(ci));
	rc = admin ? admin_cert_verify(&ci, c, pk, NULL, now) :
	    cert_verify(&ci, c, pk, NULL, now);
	nb = (int64_t)be64_get(c + 41);
	na = (int64_t)be64_get(c + 49);
	if (signd)
		FUZZ_CHECK((rc == 0) == (c[0] == CERT_VERSION && nb < na &&
		    nb <= now && now < na));
	if (rc == 0) {
		FUZZ_CHECK(memcmp(ci.counsellor_pk, c + 1, OFR_PK_BYTES) == 0 &&
		    ci.not_before == nb && ci.not_after == na &&
		    ci.programme_id == (int64_t)be64_get(c + 33));
		/* and for that key alone, and never under the other
		 * context */
		FUZZ_CHECK((admin ? admin_cert_verify(NULL, c, pk, c + 1,
		    now) : cert_verify(NULL, c, pk, c + 1, now)) == 0);
		FUZZ_CHECK((admin ? cert_verify(NULL, c, pk, NULL, now) :
		    admin_cert_verify(NULL, c, pk, NULL, now)) ==
		    OFR_E_BAD_SIGNATURE);
	}
}

static void
rotation(int signd, const uint8_t *in, size_t n)
{
	uint8_t s[ROTATION_BYTES] = { 0 };
	struct rotation r;
	int rc;

	memcpy(s, in, n < ROTATION_BYTES ? n : ROTATION_BYTES);
	if (signd) {
		/* the old key is the signer's, unless the version byte's
		 * top bit asks for the body as it is */
		if (!(s[0] & 0x80))
			memcpy(s + 9, pk, OFR_PK_BYTES);
		sign(ROTATION_CONTEXT, ROTATION_CONTEXT_BYTES, s,
		    ROTATION_BODY_BYTES);
	}
	rc = rotation_verify(&r, s, pk);
	if (signd)
		FUZZ_CHECK((rc == 0) == (s[0] == CERT_VERSION &&
		    memcmp(s + 9, pk, OFR_PK_BYTES) == 0 &&
		    memcmp(s + 9, s + 41, OFR_PK_BYTES) != 0));
	if (rc == 0)
		FUZZ_CHECK(memcmp(r.old_pk, pk, OFR_PK_BYTES) == 0 &&
		    memcmp(r.new_pk, s + 41, OFR_PK_BYTES) == 0 &&
		    r.issued == (int64_t)be64_get(s + 73));
}

static void
revocation(int signd, const uint8_t *in, size_t n)
{
	static uint8_t s[REVOCATION_BYTES_MAX + OFR_SIG_BYTES];
	struct revocation r;
	size_t len = n, count;
	int rc;

	if (n > REVOCATION_BYTES_MAX)
		return;
	memcpy(s, in, n);
	if (signd) {
		sign(REVOCATION_CONTEXT, REVOCATION_CONTEXT_BYTES, s, n);
		len = n + OFR_SIG_BYTES;
	}
	memset(&r, 0, sizeof(r));
	rc = revocation_verify(&r, s, len, pk);
	if (rc != 0)
		return;
	count = (size_t)s[17] << 8 | s[18];
	FUZZ_CHECK(s[0] == CERT_VERSION && count <= REVOCATION_MAX &&
	    r.n == count && len == revocation_bytes(count) &&
	    r.keys == s + REVOCATION_HEAD_BYTES);
	for (size_t i = 0; i < r.n; i++) {
		FUZZ_CHECK(revocation_has(&r, r.keys + i * OFR_PK_BYTES));
		if (i > 0)
			FUZZ_CHECK(memcmp(r.keys + (i - 1) * OFR_PK_BYTES,
			    r.keys + i * OFR_PK_BYTES, OFR_PK_BYTES) < 0);
	}
}

static void
partner(int signd, int64_t now, const uint8_t *in, size_t n)
{
	uint8_t s[PARTNER_BYTES] = { 0 };
	struct partner_info p;
	int64_t nb, na;
	int rc;

	memcpy(s, in, n < PARTNER_BYTES ? n : PARTNER_BYTES);
	if (signd)
		sign(PARTNER_CONTEXT, PARTNER_CONTEXT_BYTES, s,
		    PARTNER_BODY_BYTES);
	rc = partner_verify(&p, s, pk, now);
	nb = (int64_t)be64_get(s + 49);
	na = (int64_t)be64_get(s + 57);
	if (signd)
		FUZZ_CHECK((rc == 0) == (s[0] == CERT_VERSION && nb < na &&
		    nb <= now && now < na &&
		    memcmp(s + 1, s + 9, 8) != 0));
	if (rc == 0)
		FUZZ_CHECK(p.not_before == nb && p.not_after == na &&
		    p.programme_id != p.partner_id &&
		    memcmp(p.partner_pk, s + 17, OFR_PK_BYTES) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	int64_t now;
	int kind, signd;

	if (!ready) {
		FUZZ_CHECK(sodium_init() >= 0);
		crypto_sign_seed_keypair(pk, sk, prog_seed);
		ready = 1;
	}
	if (size < 9)
		return 0;
	kind = data[0] & 7;
	signd = (data[0] & 8) != 0;
	now = (int64_t)be64_get(data + 1);
	data += 9;
	size -= 9;
	switch (kind) {
	case 0:
	case 1:
		certs(kind == 1, signd, now, data, size);
		break;
	case 2:
		rotation(signd, data, size);
		break;
	case 3:
		revocation(signd, data, size);
		break;
	case 4:
		partner(signd, now, data, size);
		break;
	}
	return 0;
}
