/*
 * bench_crypto.c: prints the speed of the session crypto: whole session
 * setups (bundle verification, X3DH on both sides, ratchet start, first
 * message sent and opened) per second; and, for texts of typical lengths,
 * what the two fixed wire sizes cost (pad.h, CRYPTO.md "Padding"): the
 * bytes on the wire under the old buckets (later and first message) and
 * now, their ratio, and the time of an encrypt+decrypt round trip in one
 * ratchet session. Figures only: it asserts nothing about time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/envelope.h"
#include "proto/err.h"
#include "proto/ratchet.h"
#include "proto/x3dh.h"

static uint8_t msg[RATCHET_MSG_MAX], pt[RATCHET_PT_MAX];
static uint8_t in[ENVELOPE_MAX_BYTES];
static struct x3dh_bundle bundle;
static uint8_t bbuf[X3DH_BUNDLE_MAX_BYTES];
static uint8_t apk[32], ask[64], bpk[32], bsk[64], spk[32], spk_sk[32];
static uint8_t opk[32], opk_sk[32];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One session set up end to end; 0 or an error code. */
static int
setup(struct ratchet *a, struct ratchet *b, size_t blen)
{
	struct x3dh_bundle got;
	struct x3dh_init init;
	struct ratchet_msg m;
	uint8_t ska[32], skb[32], ada[64], adb[64];
	size_t len, n;
	int rc;

	if ((rc = x3dh_bundle_verify(&got, bbuf, blen, bpk)) != 0 ||
	    (rc = x3dh_initiate(ska, ada, &init, ask, &got)) != 0 ||
	    (rc = ratchet_init_initiator(a, ska, ada, got.spk, &init)) != 0 ||
	    (rc = ratchet_encrypt(a, msg, sizeof(msg), &len,
	    (const uint8_t *)"hello", 5)) != 0 ||
	    (rc = ratchet_msg_parse(&m, msg, len)) != 0 ||
	    (rc = x3dh_respond(skb, adb, &m.init, bsk, spk_sk, opk_sk)) != 0 ||
	    (rc = ratchet_init_responder(b, skb, adb, &m.init, spk,
	    spk_sk)) != 0)
		return rc;
	return ratchet_decrypt(b, pt, sizeof(pt), &n, msg, len, 0);
}

/* Round trips of size-byte messages, alternating direction every 16. */
static int
roundtrips(struct ratchet *a, struct ratchet *b, size_t size, int count)
{
	size_t len, n;
	int rc;

	for (int i = 0; i < count; i++) {
		struct ratchet *from = (i / 16) % 2 ? b : a;
		struct ratchet *to = from == a ? b : a;

		if ((rc = ratchet_encrypt(from, msg, sizeof(msg), &len, in,
		    size)) != 0 ||
		    (rc = ratchet_decrypt(to, pt, sizeof(pt), &n, msg, len, 0)) != 0)
			return rc;
	}
	return 0;
}

/* The padded size the buckets before fixed sizes gave a len-byte
 * plaintext (64, 256, 1024, 4096, 16128: the smallest over len). */
static size_t
old_bucket(size_t len)
{
	static const size_t b[] = { 64, 256, 1024, 4096, 16128 };

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (len < b[i])
			return b[i];
	return 0;
}

/* The cost of fixed sizes for texts of typical lengths: bytes and time. */
static int
sizes(struct ratchet *a, struct ratchet *b, size_t blen)
{
	static const size_t texts[] = { 2, 40, 200, 900, 3000, 12000 };
	double t0, t, old_sum = 0, new_sum = 0;
	size_t env, old_later, old_first, now;
	int count, rc;

	printf("text B  old wire B (later/first)  new wire B  new/old"
	    "  encrypt+decrypt\n");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		env = ENVELOPE_HDR_BYTES + texts[i];
		if ((rc = setup(a, b, blen)) != 0)
			return rc;
		/* b has read a: both send later messages now */
		old_later = RATCHET_OVERHEAD_MIN + old_bucket(env);
		old_first = RATCHET_OVERHEAD_MAX + old_bucket(env);
		now = ratchet_encrypt_size(b, env);
		count = now == RATCHET_MSG_SHORT ? 40000 : 8000;
		t0 = now_s();
		if ((rc = roundtrips(b, a, env, count)) != 0)
			return rc;
		t = now_s() - t0;
		old_sum += (double)old_later;
		new_sum += (double)now;
		printf("%6zu  %10zu / %-10zu  %10zu  %6.2fx  %7.2f us"
		    " (%.0f/s)\n", texts[i], old_later, old_first, now,
		    (double)now / (double)old_later, t / count * 1e6,
		    count / t);
	}
	printf("all six texts once: %.0f B on the wire now, %.0f B with the "
	    "old buckets (%.2fx)\n", new_sum, old_sum, new_sum / old_sum);
	printf("(a first message is the same size as a later one now; "
	    "direction changes every 16)\n");
	return 0;
}

int
main(void)
{
	struct ratchet *a, *b;
	size_t blen;
	double t0, t;
	int count, rc;

	if (sodium_init() < 0)
		return 1;
	a = ratchet_new();
	b = ratchet_new();
	crypto_sign_keypair(apk, ask);
	crypto_sign_keypair(bpk, bsk);
	x3dh_keypair(spk, spk_sk);
	x3dh_keypair(opk, opk_sk);
	memcpy(bundle.ik, bpk, 32);
	bundle.spk_id = 1;
	memcpy(bundle.spk, spk, 32);
	x3dh_spk_sign(bundle.spk_sig, bsk, 1, spk);
	bundle.n_opk = 1;
	bundle.opk[0].id = 1;
	memcpy(bundle.opk[0].pk, opk, 32);
	if (x3dh_bundle_encode(bbuf, sizeof(bbuf), &blen, &bundle) != 0)
		return 1;
	randombytes_buf(in, sizeof(in));

	count = 2000;
	t0 = now_s();
	for (int i = 0; i < count; i++)
		if ((rc = setup(a, b, blen)) != 0) {
			fprintf(stderr, "setup: %d\n", rc);
			return 1;
		}
	t = now_s() - t0;
	printf("session setups (verify+X3DH both sides+first msg): "
	    "%.0f/s\n", count / t);

	if ((rc = sizes(a, b, blen)) != 0) {
		fprintf(stderr, "roundtrip: %d\n", rc);
		return 1;
	}
	ratchet_free(a);
	ratchet_free(b);
	return 0;
}
