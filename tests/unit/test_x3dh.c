/*
 * test_x3dh.c: proto/x3dh.c (signed prekeys, bundle encoding and
 * verification, the X3DH agreement), proto/safety.c and proto/cert.c, on
 * valid input and on every way it can be wrong.
 */
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/safety.h"
#include "proto/x3dh.h"

struct party {
	uint8_t	pk[OFR_PK_BYTES], sk[OFR_SK_BYTES];
	uint8_t	spk_pk[32], spk_sk[32];
	uint8_t	opk_pk[3][32], opk_sk[3][32];
};

static struct x3dh_bundle bundle, bundle2;
static uint8_t buf[X3DH_BUNDLE_MAX_BYTES + 64];

static void
party_new(struct party *p)
{
	crypto_sign_keypair(p->pk, p->sk);
	x3dh_keypair(p->spk_pk, p->spk_sk);
	for (int i = 0; i < 3; i++)
		x3dh_keypair(p->opk_pk[i], p->opk_sk[i]);
}

/* p's bundle with n one-time prekeys (ids 100..) into bundle, signed. */
static void
bundle_of(struct x3dh_bundle *b, const struct party *p, size_t n)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->ik, p->pk, 32);
	b->spk_id = 9;
	memcpy(b->spk, p->spk_pk, 32);
	x3dh_spk_sign(b->spk_sig, p->sk, b->spk_id, b->spk);
	b->n_opk = n;
	for (size_t i = 0; i < n; i++) {
		b->opk[i].id = 100 + (uint32_t)i;
		memcpy(b->opk[i].pk, p->opk_pk[i], 32);
	}
}

static void
test_keys(void)
{
	struct party a;
	uint8_t xpk[32], xsk[32], base[32], sig[64], bad[32];

	party_new(&a);
	/* The X25519 forms of an identity belong together. */
	CHECK_EQ_INT(x3dh_identity_x25519_pk(xpk, a.pk), 0);
	CHECK_EQ_INT(x3dh_identity_x25519_sk(xsk, a.sk), 0);
	crypto_scalarmult_base(base, xsk);
	CHECK(memcmp(base, xpk, 32) == 0);
	crypto_scalarmult_base(base, a.spk_sk);
	CHECK(memcmp(base, a.spk_pk, 32) == 0);
	/* Not a curve point (y = 2 has no x on edwards25519). */
	memset(bad, 0, 32);
	bad[0] = 2;
	CHECK_EQ_INT(x3dh_identity_x25519_pk(xpk, bad), OFR_E_CRYPTO);

	x3dh_spk_sign(sig, a.sk, 5, a.spk_pk);
	CHECK_EQ_INT(x3dh_spk_verify(sig, a.pk, 5, a.spk_pk), 0);
	CHECK_EQ_INT(x3dh_spk_verify(sig, a.pk, 6, a.spk_pk),
	    OFR_E_BAD_SIGNATURE);
	CHECK_EQ_INT(x3dh_spk_verify(sig, a.pk, 5, a.opk_pk[0]),
	    OFR_E_BAD_SIGNATURE);
	sig[10] ^= 1;
	CHECK_EQ_INT(x3dh_spk_verify(sig, a.pk, 5, a.spk_pk),
	    OFR_E_BAD_SIGNATURE);
	/* The message is the context, the id (BE), the key. */
	{
		uint8_t msg[X3DH_SPK_MSG_BYTES];

		x3dh_spk_message(msg, 0x01020304, a.spk_pk);
		CHECK(memcmp(msg, "offramp-spk-v1", 14) == 0);
		CHECK(msg[14] == 1 && msg[17] == 4);
		CHECK(memcmp(msg + 18, a.spk_pk, 32) == 0);
	}
}

static void
test_bundle(void)
{
	struct party b, other;
	size_t len, len2;

	party_new(&b);
	party_new(&other);
	bundle_of(&bundle, &b, 3);
	CHECK_EQ_INT(x3dh_bundle_size(&bundle), 135 + 3 * 36);
	CHECK_EQ_INT(x3dh_bundle_encode(buf, sizeof(buf), &len, &bundle), 0);
	CHECK_EQ_INT(len, 135 + 3 * 36);
	CHECK_EQ_INT(buf[0], 1);
	CHECK_EQ_INT(x3dh_bundle_encode(buf, len - 1, &len2, &bundle),
	    OFR_E_TOO_BIG);
	CHECK_EQ_INT(x3dh_bundle_verify(&bundle2, buf, len, b.pk), 0);
	CHECK(memcmp(&bundle2.opk[2], &bundle.opk[2], sizeof(bundle.opk[2]))
	    == 0);
	CHECK_EQ_INT(bundle2.n_opk, 3);
	CHECK_EQ_INT(bundle2.spk_id, 9);
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, NULL), 0);
	/* Someone else's bundle: the identity differs from the expected. */
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, other.pk),
	    OFR_E_BAD_SIGNATURE);
	/* Every byte of the signed part matters. */
	for (size_t off = 1; off < 133; off += 7) {
		buf[off] ^= 0x40;
		CHECK(x3dh_bundle_verify(NULL, buf, len, NULL) != 0);
		buf[off] ^= 0x40;
	}
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, NULL), 0);
	buf[80] ^= 1;	/* signature */
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, b.pk),
	    OFR_E_BAD_SIGNATURE);
	buf[80] ^= 1;
	/* Lengths, count, version, duplicate ids. */
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len - 1, NULL),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len + 1, NULL),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, 100, NULL),
	    OFR_E_BAD_FIELD);
	buf[134] = 2;
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, NULL),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, 135 + 2 * 36, NULL), 0);
	buf[134] = 3;
	buf[0] = 2;
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, NULL),
	    OFR_E_BAD_FIELD);
	buf[0] = 1;
	bundle.opk[1].id = bundle.opk[0].id;
	CHECK_EQ_INT(x3dh_bundle_encode(buf, sizeof(buf), &len, &bundle), 0);
	CHECK_EQ_INT(x3dh_bundle_decode(&bundle2, buf, len), OFR_E_BAD_FIELD);
	/* Too many one-time keys. */
	bundle.n_opk = X3DH_OPK_MAX + 1;
	CHECK_EQ_INT(x3dh_bundle_encode(buf, sizeof(buf), &len, &bundle),
	    OFR_E_USAGE);
	/* The most that is allowed, and none. */
	bundle_of(&bundle, &b, 0);
	CHECK_EQ_INT(x3dh_bundle_encode(buf, sizeof(buf), &len, &bundle), 0);
	CHECK_EQ_INT(len, X3DH_BUNDLE_FIXED_BYTES);
	CHECK_EQ_INT(x3dh_bundle_verify(&bundle2, buf, len, b.pk), 0);
	CHECK_EQ_INT(bundle2.n_opk, 0);
	bundle.n_opk = X3DH_OPK_MAX;
	for (size_t i = 0; i < X3DH_OPK_MAX; i++)
		bundle.opk[i].id = (uint32_t)i;
	CHECK_EQ_INT(x3dh_bundle_encode(buf, sizeof(buf), &len, &bundle), 0);
	CHECK_EQ_INT(len, X3DH_BUNDLE_MAX_BYTES);
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, buf, len, b.pk), 0);
}

static void
test_agree(void)
{
	struct party a, b;
	struct x3dh_init init;
	uint8_t ska[32], skb[32], ada[64], adb[64];

	party_new(&a);
	party_new(&b);
	/* With a one-time prekey. */
	bundle_of(&bundle, &b, 1);
	CHECK_EQ_INT(x3dh_initiate(ska, ada, &init, a.sk, &bundle), 0);
	CHECK(memcmp(init.ik, a.pk, 32) == 0);
	CHECK_EQ_INT(init.spk_id, 9);
	CHECK_EQ_INT(init.has_opk, 1);
	CHECK_EQ_INT(init.opk_id, 100);
	CHECK(memcmp(ada, a.pk, 32) == 0 && memcmp(ada + 32, b.pk, 32) == 0);
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.spk_sk,
	    b.opk_sk[0]), 0);
	CHECK(memcmp(ska, skb, 32) == 0);
	CHECK(memcmp(ada, adb, 64) == 0);
	/* The wrong one-time or signed prekey gives another secret. */
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.spk_sk,
	    b.opk_sk[1]), 0);
	CHECK(memcmp(ska, skb, 32) != 0);
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.opk_sk[2],
	    b.opk_sk[0]), 0);
	CHECK(memcmp(ska, skb, 32) != 0);
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, a.sk, b.spk_sk,
	    b.opk_sk[0]), 0);
	CHECK(memcmp(ska, skb, 32) != 0);
	/* One-time key given exactly when used. */
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.spk_sk, NULL),
	    OFR_E_USAGE);
	/* Without a one-time prekey. */
	bundle_of(&bundle, &b, 0);
	CHECK_EQ_INT(x3dh_initiate(ska, ada, &init, a.sk, &bundle), 0);
	CHECK_EQ_INT(init.has_opk, 0);
	CHECK_EQ_INT(init.opk_id, 0);
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.spk_sk,
	    b.opk_sk[0]), OFR_E_USAGE);
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.spk_sk, NULL), 0);
	CHECK(memcmp(ska, skb, 32) == 0);
	/* Fresh ephemeral keys: a second run gives another secret. */
	CHECK_EQ_INT(x3dh_initiate(skb, adb, &init, a.sk, &bundle), 0);
	CHECK(memcmp(ska, skb, 32) != 0);
	/* A bundle whose signature fails is refused. */
	bundle.spk[0] ^= 1;
	CHECK_EQ_INT(x3dh_initiate(ska, ada, &init, a.sk, &bundle),
	    OFR_E_BAD_SIGNATURE);
	bundle.spk[0] ^= 1;
	bundle.spk_sig[0] ^= 1;
	CHECK_EQ_INT(x3dh_initiate(ska, ada, &init, a.sk, &bundle),
	    OFR_E_BAD_SIGNATURE);
	bundle.spk_sig[0] ^= 1;
	/* A low-order (all-zero) prekey, validly signed: DH fails. */
	memset(bundle.spk, 0, 32);
	x3dh_spk_sign(bundle.spk_sig, b.sk, bundle.spk_id, bundle.spk);
	CHECK_EQ_INT(x3dh_initiate(ska, ada, &init, a.sk, &bundle),
	    OFR_E_CRYPTO);
	/* A forged initiator identity that is no curve point. */
	memset(init.ik, 0, 32);
	init.ik[0] = 2;
	CHECK_EQ_INT(x3dh_respond(skb, adb, &init, b.sk, b.spk_sk, NULL),
	    OFR_E_CRYPTO);
}

static void
test_safety(void)
{
	uint8_t a[32], b[32], c[32], sk[64];
	char s1[SAFETY_STR_BYTES], s2[SAFETY_STR_BYTES], s3[SAFETY_STR_BYTES];

	crypto_sign_keypair(a, sk);
	crypto_sign_keypair(b, sk);
	crypto_sign_keypair(c, sk);
	safety_number(s1, a, b);
	safety_number(s2, b, a);
	safety_number(s3, a, c);
	CHECK(strcmp(s1, s2) == 0);
	CHECK(strcmp(s1, s3) != 0);
	CHECK_EQ_INT(strlen(s1), 71);
	for (int i = 0; i < 71; i++)
		CHECK(i % 6 == 5 ? s1[i] == ' ' : (s1[i] >= '0' &&
		    s1[i] <= '9'));
	/* One half is each key's: a key shared with s1 keeps its digits. */
	CHECK(memcmp(s1, s3, 35) == 0 || memcmp(s1 + 36, s3 + 36, 35) == 0 ||
	    memcmp(s1, s3 + 36, 35) == 0 || memcmp(s1 + 36, s3, 35) == 0);
}

static void
test_cert(void)
{
	uint8_t ppk[32], psk[64], opk[32], osk[64], cpk[32], csk[64];
	uint8_t cert[CERT_BYTES];
	struct cert_info info, got;

	crypto_sign_keypair(ppk, psk);
	crypto_sign_keypair(opk, osk);
	crypto_sign_keypair(cpk, csk);
	memcpy(info.counsellor_pk, cpk, 32);
	info.programme_id = 7;
	info.not_before = 1000;
	info.not_after = 2000;
	CHECK_EQ_INT(cert_sign(cert, psk, &info), 0);
	CHECK_EQ_INT(cert[0], CERT_VERSION);
	memset(&got, 0, sizeof(got));
	CHECK_EQ_INT(cert_verify(&got, cert, ppk, cpk, 1500), 0);
	CHECK(memcmp(&got, &info, sizeof(got)) == 0);
	CHECK_EQ_INT(cert_verify(NULL, cert, ppk, NULL, 1000), 0);
	CHECK_EQ_INT(cert_verify(NULL, cert, ppk, cpk, 1999), 0);
	/* Expired, not yet valid. */
	CHECK_EQ_INT(cert_verify(NULL, cert, ppk, cpk, 2000), OFR_E_CRYPTO);
	CHECK_EQ_INT(cert_verify(NULL, cert, ppk, cpk, 999), OFR_E_CRYPTO);
	/* Another programme's key, another counsellor, any changed byte. */
	CHECK_EQ_INT(cert_verify(NULL, cert, opk, cpk, 1500),
	    OFR_E_BAD_SIGNATURE);
	CHECK_EQ_INT(cert_verify(NULL, cert, ppk, opk, 1500),
	    OFR_E_BAD_SIGNATURE);
	for (size_t i = 0; i < CERT_BYTES; i += 5) {
		cert[i] ^= 0x10;
		CHECK_EQ_INT(cert_verify(NULL, cert, ppk, cpk, 1500),
		    OFR_E_BAD_SIGNATURE);
		cert[i] ^= 0x10;
	}
	/* A certificate made by the counsellor itself is not one. */
	CHECK_EQ_INT(cert_sign(cert, csk, &info), 0);
	CHECK_EQ_INT(cert_verify(NULL, cert, ppk, cpk, 1500),
	    OFR_E_BAD_SIGNATURE);
	info.not_after = info.not_before;
	CHECK_EQ_INT(cert_sign(cert, psk, &info), OFR_E_USAGE);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_keys();
	test_bundle();
	test_agree();
	test_safety();
	test_cert();
	return check_done();
}
