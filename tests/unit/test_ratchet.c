/*
 * test_ratchet.c: proto/ratchet.c and proto/pad.c: conversations both
 * ways, out-of-order and lost messages, replays, tampering, the skipped-key
 * caps, saved state (versions 2 and 1), random nonces across a state
 * rollback, the wire format, the padding and the two message sizes (and
 * the old buckets still read), the expiry of skipped keys by DH steps and
 * by time.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "proto/bytes.h"
#include "proto/envelope.h"
#include "proto/err.h"
#include "proto/hkdf.h"
#include "proto/pad.h"
#include "proto/ratchet.h"
#include "proto/x3dh.h"

struct pair {
	struct ratchet	*a, *b;
};

static uint8_t msg[RATCHET_MSG_MAX], pt[RATCHET_PT_MAX];
static uint8_t st1[RATCHET_STATE_MAX_BYTES], st2[RATCHET_STATE_MAX_BYTES];

/* A session: Alice initiates with Bob's bundle, Bob answers her first
 * message ("first"), which both check. */
static void
pair_new(struct pair *p)
{
	uint8_t apk[32], ask[64], bpk[32], bsk[64], spk[32], spk_sk[32];
	uint8_t opk[32], opk_sk[32], ska[32], skb[32], ada[64], adb[64];
	struct x3dh_bundle *bu = calloc(1, sizeof(*bu));
	struct x3dh_init init;
	struct ratchet_msg m;
	size_t len, n;

	crypto_sign_keypair(apk, ask);
	crypto_sign_keypair(bpk, bsk);
	x3dh_keypair(spk, spk_sk);
	x3dh_keypair(opk, opk_sk);
	memcpy(bu->ik, bpk, 32);
	bu->spk_id = 1;
	memcpy(bu->spk, spk, 32);
	x3dh_spk_sign(bu->spk_sig, bsk, 1, spk);
	bu->n_opk = 1;
	bu->opk[0].id = 5;
	memcpy(bu->opk[0].pk, opk, 32);
	p->a = ratchet_new();
	p->b = ratchet_new();
	CHECK_EQ_INT(x3dh_initiate(ska, ada, &init, ask, bu), 0);
	CHECK_EQ_INT(ratchet_init_initiator(p->a, ska, ada, spk, &init), 0);
	CHECK_EQ_INT(ratchet_encrypt(p->a, msg, sizeof(msg), &len,
	    (const uint8_t *)"first", 5), 0);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, len), 0);
	CHECK_EQ_INT(m.has_init, 1);
	CHECK_EQ_INT(m.init.opk_id, 5);
	CHECK(memcmp(m.init.ik, apk, 32) == 0);
	CHECK_EQ_INT(x3dh_respond(skb, adb, &m.init, bsk, spk_sk,
	    m.init.has_opk ? opk_sk : NULL), 0);
	CHECK_EQ_INT(ratchet_init_responder(p->b, skb, adb, &m.init, spk,
	    spk_sk), 0);
	CHECK_EQ_INT(ratchet_decrypt(p->b, pt, sizeof(pt), &n, msg, len, 0), 0);
	CHECK(n == 5 && memcmp(pt, "first", 5) == 0);
	free(bu);
}

static void
pair_free(struct pair *p)
{
	ratchet_free(p->a);
	ratchet_free(p->b);
}

/* Encrypts text from r into a fresh heap buffer; *len its size. */
static uint8_t *
enc(struct ratchet *r, const char *text, size_t *len)
{
	uint8_t *out = malloc(RATCHET_MSG_MAX);

	CHECK_EQ_INT(ratchet_encrypt(r, out, RATCHET_MSG_MAX, len,
	    (const uint8_t *)text, strlen(text)), 0);
	return out;
}

/* 1 when r decrypts m (len bytes) to text. */
static int
dec_is(struct ratchet *r, const uint8_t *m, size_t len, const char *text)
{
	size_t n;

	if (ratchet_decrypt(r, pt, sizeof(pt), &n, m, len, 0) != 0)
		return 0;
	return n == strlen(text) && memcmp(pt, text, n) == 0;
}

/* r's saved state into out; its length. */
static size_t
save(const struct ratchet *r, uint8_t *out)
{
	size_t len = 0;

	CHECK_EQ_INT(ratchet_state_save(r, out, RATCHET_STATE_MAX_BYTES,
	    &len), 0);
	CHECK_EQ_INT(len, ratchet_state_size(r));
	return len;
}

/* 1 when r's state is byte for byte the saved one. */
static int
same_state(const struct ratchet *r, const uint8_t *saved, size_t len)
{
	return save(r, st2) == len && memcmp(st2, saved, len) == 0;
}

static void
test_conversation(void)
{
	struct pair p;
	uint8_t *m1, *m2, *m3;
	size_t l1, l2, l3, n;
	struct ratchet_msg pm;
	char text[64];

	pair_new(&p);
	/* A responder can send after its first decrypt. */
	CHECK_EQ_INT(ratchet_sends_init(p.a), 1);
	m1 = enc(p.a, "second, still with X3DH fields", &l1);
	CHECK_EQ_INT(ratchet_msg_parse(&pm, m1, l1), 0);
	CHECK_EQ_INT(pm.has_init, 1);
	CHECK_EQ_INT(pm.n, 1);
	CHECK(dec_is(p.b, m1, l1, "second, still with X3DH fields"));
	free(m1);
	m2 = enc(p.b, "reply", &l2);
	CHECK_EQ_INT(ratchet_msg_parse(&pm, m2, l2), 0);
	CHECK_EQ_INT(pm.has_init, 0);
	CHECK_EQ_INT(pm.hdr_len, RATCHET_HDR_BYTES);
	CHECK(dec_is(p.a, m2, l2, "reply"));
	free(m2);
	/* The initiator stops sending X3DH fields once it has a reply. */
	CHECK_EQ_INT(ratchet_sends_init(p.a), 0);
	m3 = enc(p.a, "now plain", &l3);
	CHECK_EQ_INT(ratchet_msg_parse(&pm, m3, l3), 0);
	CHECK_EQ_INT(pm.has_init, 0);
	CHECK_EQ_INT(pm.n, 0);		/* a new sending chain */
	CHECK(dec_is(p.b, m3, l3, "now plain"));
	free(m3);
	/* Many turns, alternating and in runs. */
	for (int i = 0; i < 40; i++) {
		struct ratchet *from = i % 3 == 0 ? p.b : p.a;
		struct ratchet *to = from == p.a ? p.b : p.a;

		snprintf(text, sizeof(text), "turn %d", i);
		m1 = enc(from, text, &l1);
		CHECK(dec_is(to, m1, l1, text));
		free(m1);
	}
	CHECK_EQ_INT(ratchet_skipped_count(p.a), 0);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 0);
	/* A session cannot read another session's messages. */
	{
		struct pair q;

		pair_new(&q);
		m1 = enc(q.a, "elsewhere", &l1);
		CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m1, l1, 0),
		    OFR_E_CRYPTO);
		free(m1);
		pair_free(&q);
	}
	/* The responder cannot send before it has received. */
	{
		struct ratchet *r = ratchet_new();
		uint8_t sk[32] = { 1 }, ad[64] = { 2 }, spk[32], spk_sk[32];
		struct x3dh_init init = { 0 };

		x3dh_keypair(spk, spk_sk);
		CHECK_EQ_INT(ratchet_init_responder(r, sk, ad, &init, spk,
		    spk_sk), 0);
		CHECK_EQ_INT(ratchet_encrypt(r, msg, sizeof(msg), &n,
		    (const uint8_t *)"x", 1), OFR_E_USAGE);
		/* A signed prekey pair that does not match. */
		spk[0] ^= 1;
		CHECK_EQ_INT(ratchet_init_responder(r, sk, ad, &init, spk,
		    spk_sk), OFR_E_CRYPTO);
		ratchet_free(r);
	}
	ratchet_free(NULL);
	pair_free(&p);
}

static void
test_out_of_order(void)
{
	struct pair p;
	uint8_t *m[6], *r1;
	size_t l[6], rl, n;
	char text[16];

	pair_new(&p);
	for (int i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "a%d", i);
		m[i] = enc(p.a, text, &l[i]);
	}
	/* 3 first: 0, 1, 2 are skipped; then 5 (4 skipped), then 0. */
	CHECK(dec_is(p.b, m[3], l[3], "a3"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 3);
	CHECK(dec_is(p.b, m[5], l[5], "a5"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 4);
	CHECK(dec_is(p.b, m[0], l[0], "a0"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 3);
	/* Bob answers; Alice ratchets; the rest of her old chain is late. */
	r1 = enc(p.b, "b0", &rl);
	CHECK(dec_is(p.a, r1, rl, "b0"));
	free(r1);
	r1 = enc(p.a, "a-new", &rl);
	CHECK(dec_is(p.b, r1, rl, "a-new"));
	free(r1);
	CHECK(dec_is(p.b, m[2], l[2], "a2"));
	CHECK(dec_is(p.b, m[1], l[1], "a1"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 1);	/* 4 never came */
	/* Replays: of an in-order message, of a skipped-key message. */
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[3], l[3], 0),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[1], l[1], 0),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[5], l[5], 0),
	    OFR_E_CRYPTO);
	CHECK(dec_is(p.b, m[4], l[4], "a4"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 0);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[4], l[4], 0),
	    OFR_E_CRYPTO);
	for (int i = 0; i < 6; i++)
		free(m[i]);
	pair_free(&p);
}

static void
test_lost(void)
{
	struct pair p;
	uint8_t *lost, *m;
	size_t ll, l;

	pair_new(&p);
	lost = enc(p.a, "lost", &ll);
	free(lost);
	m = enc(p.a, "after the lost one", &l);
	CHECK(dec_is(p.b, m, l, "after the lost one"));
	free(m);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 1);
	/* The conversation goes on both ways; the lost key stays stored. */
	m = enc(p.b, "answer", &l);
	CHECK(dec_is(p.a, m, l, "answer"));
	free(m);
	m = enc(p.a, "more", &l);
	CHECK(dec_is(p.b, m, l, "more"));
	free(m);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 1);
	/* A lost reply from Bob (a whole chain) and a lost first message of
	 * a new chain: PN tells Alice what to skip. */
	m = enc(p.b, "b lost", &l);
	free(m);
	m = enc(p.b, "b kept", &l);
	CHECK(dec_is(p.a, m, l, "b kept"));
	free(m);
	CHECK_EQ_INT(ratchet_skipped_count(p.a), 1);
	pair_free(&p);
}

static void
test_tamper(void)
{
	struct pair p;
	uint8_t *m, *m0;
	size_t l, l0, slen, n;

	pair_new(&p);
	m0 = enc(p.a, "with init", &l0);	/* has the X3DH fields */
	m = enc(p.a, "target", &l);
	slen = save(p.b, st1);
	/* Every byte of the header, the X3DH fields, the nonce (not in the
	 * AD, authenticated by the AEAD all the same) and the ciphertext. */
	for (size_t i = 0; i < l; i++) {
		int rc;

		m[i] ^= 0x04;
		rc = ratchet_decrypt(p.b, pt, sizeof(pt), &n, m, l, 0);
		CHECK(rc == OFR_E_CRYPTO || rc == OFR_E_LIMIT);
		m[i] ^= 0x04;
	}
	CHECK(same_state(p.b, st1, slen));
	/* Truncated and extended. */
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m, l - 1, 0),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m, 41, 0),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m, 0, 0),
	    OFR_E_CRYPTO);
	CHECK(same_state(p.b, st1, slen));
	/* A short output buffer is a usage error that changes nothing. */
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, 63, &n, m, l, 0), OFR_E_USAGE);
	CHECK(same_state(p.b, st1, slen));
	/* The genuine ones still open, in any order. */
	CHECK(dec_is(p.b, m, l, "target"));
	CHECK(dec_is(p.b, m0, l0, "with init"));
	free(m);
	free(m0);
	/* A forged message for a skipped key does not delete the key. */
	m0 = enc(p.b, "skipped", &l0);
	m = enc(p.b, "received", &l);
	CHECK(dec_is(p.a, m, l, "received"));
	CHECK_EQ_INT(ratchet_skipped_count(p.a), 1);
	m0[l0 - 1] ^= 1;
	CHECK_EQ_INT(ratchet_decrypt(p.a, pt, sizeof(pt), &n, m0, l0, 0),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_skipped_count(p.a), 1);
	m0[l0 - 1] ^= 1;
	CHECK(dec_is(p.a, m0, l0, "skipped"));
	free(m);
	free(m0);
	pair_free(&p);
}

static void
test_limits(void)
{
	struct pair p;
	uint8_t *m;
	size_t l, n, slen;

	pair_new(&p);
	/* Per chain: n = 1001 would skip 1001 keys (1..1001 after 0). */
	for (int i = 0; i < RATCHET_MAX_SKIP + 1; i++)
		CHECK_EQ_INT(ratchet_encrypt(p.a, msg, sizeof(msg), &l,
		    (const uint8_t *)"x", 1), 0);
	m = enc(p.a, "far", &l);
	slen = save(p.b, st1);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m, l, 0),
	    OFR_E_LIMIT);
	CHECK(same_state(p.b, st1, slen));
	free(m);
	/* Total: two chains of 999 skipped each fit, a third does not. */
	pair_free(&p);
	pair_new(&p);
	for (int round = 0; round < 3; round++) {
		struct ratchet *r;

		for (int i = 0; i < RATCHET_MAX_SKIP - 1; i++)
			CHECK_EQ_INT(ratchet_encrypt(p.a, msg, sizeof(msg), &l,
			    (const uint8_t *)"x", 1), 0);
		m = enc(p.a, "last", &l);
		r = p.b;
		if (round < 2) {
			CHECK(dec_is(r, m, l, "last"));
		} else {
			slen = save(p.b, st1);
			CHECK_EQ_INT(ratchet_decrypt(r, pt, sizeof(pt), &n, m,
			    l, 0), OFR_E_LIMIT);
			CHECK(same_state(p.b, st1, slen));
		}
		free(m);
		m = enc(p.b, "turn", &l);
		CHECK(dec_is(p.a, m, l, "turn"));
		free(m);
	}
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 2 * (RATCHET_MAX_SKIP - 1));
	/* Using stored keys makes room again. */
	pair_free(&p);
}

static void
test_state(void)
{
	struct pair p;
	struct ratchet *r;
	uint8_t *m[4];
	size_t l[4], slen, n;

	pair_new(&p);
	for (int i = 0; i < 4; i++)
		m[i] = enc(p.a, i == 0 ? "zero" : i == 1 ? "one" : i == 2 ?
		    "two" : "three", &l[i]);
	CHECK(dec_is(p.b, m[3], l[3], "three"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 3);
	slen = save(p.b, st1);
	CHECK_EQ_INT(slen, RATCHET_STATE_FIXED_BYTES +
	    3 * RATCHET_SKIPPED_ENTRY_BYTES);
	CHECK_EQ_INT(st1[0], RATCHET_STATE_VERSION);
	ratchet_free(p.b);
	p.b = ratchet_new();
	CHECK_EQ_INT(ratchet_state_load(p.b, st1, slen, 0), 0);
	CHECK(same_state(p.b, st1, slen));
	CHECK(dec_is(p.b, m[1], l[1], "one"));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 2);
	/* Resume Alice too, then continue both ways. */
	slen = save(p.a, st1);
	ratchet_free(p.a);
	p.a = ratchet_new();
	CHECK_EQ_INT(ratchet_state_load(p.a, st1, slen, 0), 0);
	CHECK_EQ_INT(ratchet_sends_init(p.a), 1);
	free(m[1]);
	m[1] = enc(p.b, "back", &l[1]);
	CHECK(dec_is(p.a, m[1], l[1], "back"));
	free(m[1]);
	m[1] = enc(p.a, "forth", &l[1]);
	CHECK(dec_is(p.b, m[1], l[1], "forth"));
	CHECK(dec_is(p.b, m[0], l[0], "zero"));
	/* A loaded state refuses a replay like the original. */
	slen = save(p.b, st1);
	r = ratchet_new();
	CHECK_EQ_INT(ratchet_state_load(r, st1, slen, 0), 0);
	CHECK_EQ_INT(ratchet_decrypt(r, pt, sizeof(pt), &n, m[0], l[0], 0),
	    OFR_E_CRYPTO);
	CHECK(dec_is(r, m[2], l[2], "two"));
	/* Invalid saved states change nothing. */
	slen = save(r, st1);
	memcpy(st2, st1, slen);
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen - 1, 0), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen + 1, 0), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_state_load(r, st2, 10, 0), OFR_E_BAD_FIELD);
	st2[0] = 3;
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen, 0), OFR_E_BAD_FIELD);
	st2[0] = 1;	/* a version 1 state is shorter */
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen, 0), OFR_E_BAD_FIELD);
	st2[0] = st1[0];
	st2[1] |= 0x80;
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen, 0), OFR_E_BAD_FIELD);
	st2[1] = st1[1];
	st2[100] ^= 0x40;	/* the ratchet secret no longer matches its public */
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen, 0), OFR_E_BAD_FIELD);
	st2[100] ^= 0x40;
	st2[349] = 1;	/* a skipped count the length does not carry */
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen, 0), OFR_E_BAD_FIELD);
	st2[349] = st1[349];
	st2[346] = 0xff;
	CHECK_EQ_INT(ratchet_state_load(r, st2, slen, 0), OFR_E_BAD_FIELD);
	CHECK(same_state(r, st1, slen));
	CHECK_EQ_INT(ratchet_state_save(r, st2, slen - 1, &n), OFR_E_USAGE);
	ratchet_free(r);
	for (int i = 0; i < 4; i++)
		free(m[i]);
	pair_free(&p);
}

/* Writes the old bucket padding of a len-byte plaintext of 0x61 into buf:
 * len bytes, 0x80, zeros up to bucket. */
static void
old_pad(uint8_t *buf, size_t len, size_t bucket)
{
	memset(buf, 0x61, len);
	buf[len] = 0x80;
	memset(buf + len + 1, 0, bucket - len - 1);
}

/* Encrypts the envelope env (n bytes) from r, checks that it makes a
 * message of want bytes, with X3DH fields when init, and that to opens it;
 * ratchet_encrypt_size agrees. */
static void
send_is(struct ratchet *r, struct ratchet *to, const uint8_t *env, size_t n,
    size_t want, int init)
{
	struct ratchet_msg m;
	size_t len, k;

	CHECK_EQ_INT(ratchet_encrypt_size(r, n), want);
	CHECK_EQ_INT(ratchet_encrypt(r, msg, sizeof(msg), &len, env, n), 0);
	CHECK_EQ_INT(len, want);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, len), 0);
	CHECK_EQ_INT(m.has_init, init);
	CHECK_EQ_INT(ratchet_decrypt(to, pt, sizeof(pt), &k, msg, len, 0), 0);
	CHECK(k == n && memcmp(pt, env, n) == 0);
}

/* The padding (pad.h): sizes by overhead, the old buckets read, bad
 * paddings refused. */
static void
test_padding(void)
{
	static const size_t over[] = { RATCHET_OVERHEAD_MAX,
	    RATCHET_OVERHEAD_MIN, 24 + 16 /* a case note */, 0 };
	static const size_t lens[] = { 0, 1, 63, 64, 255, 256,
	    PAD_SHORT_PLAINTEXT_MAX, PAD_SHORT_PLAINTEXT_MAX + 1, 1023, 4096,
	    PAD_PLAINTEXT_MAX };
	static const size_t old_lens[] = { 0, 63, 64, 255, 256, 1023, 1024,
	    4095, 4096, PAD_PLAINTEXT_MAX };
	static const size_t old_want[] = { 64, 64, 256, 256, 1024, 1024, 4096,
	    4096, 16128, 16128 };
	static uint8_t buf[PAD_MAX_BYTES], big[PAD_MAX_BYTES + 1];
	size_t n, k, want;

	CHECK_EQ_INT(PAD_SHORT_PLAINTEXT_MAX, 869);
	CHECK_EQ_INT(PAD_PLAINTEXT_MAX, 16127);
	for (size_t o = 0; o < sizeof(over) / sizeof(over[0]); o++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			want = (lens[i] <= 869 ? 1024 : 16282) - over[o];
			CHECK_EQ_INT(pad_size(lens[i], over[o]), want);
			memset(buf, 0xaa, sizeof(buf));
			CHECK_EQ_INT(pad(buf, sizeof(buf), &n, buf, lens[i],
			    over[o]), 0);
			CHECK_EQ_INT(n, want);
			CHECK_EQ_INT(buf[lens[i]], 0x80);
			CHECK_EQ_INT(unpad(&k, buf, n, over[o]), 0);
			CHECK_EQ_INT(k, lens[i]);
			/* Under another overhead it is another size (unless
			 * it is also the old bucket of that plaintext). */
			if (over[o] != RATCHET_OVERHEAD_MIN && n != 1024 &&
			    n != 16128)
				CHECK_EQ_INT(unpad(&k, buf, n,
				    RATCHET_OVERHEAD_MIN), OFR_E_CRYPTO);
		}
		/* The old buckets still read, at any overhead. */
		for (size_t i = 0; i < sizeof(old_lens) / sizeof(old_lens[0]);
		    i++) {
			old_pad(buf, old_lens[i], old_want[i]);
			CHECK_EQ_INT(unpad(&k, buf, old_want[i], over[o]), 0);
			CHECK_EQ_INT(k, old_lens[i]);
		}
		CHECK_EQ_INT(pad_size(PAD_PLAINTEXT_MAX + 1, over[o]), 0);
		CHECK_EQ_INT(pad(buf, sizeof(buf), &n, big,
		    PAD_PLAINTEXT_MAX + 1, over[o]), OFR_E_TOO_BIG);
	}
	CHECK_EQ_INT(pad_size(0, PAD_OVERHEAD_MAX + 1), 0);
	CHECK_EQ_INT(pad(buf, sizeof(buf), &n, big, 3, PAD_OVERHEAD_MAX + 1),
	    OFR_E_USAGE);
	CHECK_EQ_INT(pad(buf, 1024 - 82 - 1, &n, big, 3, 82), OFR_E_USAGE);

	/* Bad paddings: no marker, junk after it, no size of either kind, a
	 * larger old bucket or a larger new size than needed, the size of
	 * another overhead. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(unpad(&k, buf, 942, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 64, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 0, 82), OFR_E_CRYPTO);
	buf[3] = 0x80;
	buf[4] = 1;
	CHECK_EQ_INT(unpad(&k, buf, 942, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 64, 82), OFR_E_CRYPTO);
	buf[4] = 0;
	CHECK_EQ_INT(unpad(&k, buf, 942, 82), 0);
	CHECK_EQ_INT(k, 3);
	CHECK_EQ_INT(unpad(&k, buf, 64, 82), 0);
	CHECK_EQ_INT(unpad(&k, buf, 63, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 941, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 943, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 256, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 16200, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 16128, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 870, 82), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 942, 154), OFR_E_CRYPTO);
	CHECK_EQ_INT(unpad(&k, buf, 870, 154), 0);
	buf[3] = 0x81;
	CHECK_EQ_INT(unpad(&k, buf, 942, 82), OFR_E_CRYPTO);
}

/* Every message is 1024 or 16282 bytes: first (X3DH fields) or later,
 * text, report or nothing. */
static void
test_sizes(void)
{
	static uint8_t text[ENVELOPE_V1_TEXT_MAX + 1], env[PAD_MAX_BYTES];
	static const size_t shorts[] = { 0, 2, 40, 200,
	    PAD_SHORT_PLAINTEXT_MAX - ENVELOPE_HDR_BYTES };
	struct pair p;
	size_t n, l1, l2;

	CHECK_EQ_INT(RATCHET_MSG_SHORT, 1024);
	CHECK_EQ_INT(RATCHET_MSG_MAX, 16282);
	CHECK_EQ_INT(RATCHET_MSG_MAX, 42 + 72 + 24 + 16128 + 16);
	CHECK_EQ_INT(RATCHET_PT_MAX, 16200);
	CHECK(RATCHET_MSG_MAX <= 16384);	/* PROTOCOL.md's copy limit */
	CHECK_EQ_INT(ENVELOPE_V1_TEXT_MAX, 16125);
	memset(text, 'x', sizeof(text));
	pair_new(&p);
	/* A still sends X3DH fields (it has read nothing from B), B not. */
	for (int who = 0; who < 2; who++) {
		struct ratchet *from = who ? p.b : p.a, *to = who ? p.a : p.b;

		for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]);
		    i++) {
			CHECK_EQ_INT(envelope_text(env, sizeof(env), &n, text,
			    shorts[i]), 0);
			send_is(from, to, env, n, 1024, !who);
		}
		CHECK_EQ_INT(envelope_report(env, sizeof(env), &n, 3, 2), 0);
		send_is(from, to, env, n, 1024, !who);
		CHECK_EQ_INT(envelope_nothing(env, sizeof(env), &n), 0);
		send_is(from, to, env, n, 1024, !who);
		CHECK_EQ_INT(envelope_text(env, sizeof(env), &n, text,
		    PAD_SHORT_PLAINTEXT_MAX - 1), 0);
		send_is(from, to, env, n, 16282, !who);
		CHECK_EQ_INT(envelope_text(env, sizeof(env), &n, text,
		    ENVELOPE_V1_TEXT_MAX), 0);
		send_is(from, to, env, n, 16282, !who);
		CHECK_EQ_INT(envelope_text(env, sizeof(env), &n, text,
		    ENVELOPE_V1_TEXT_MAX + 1), OFR_E_TOO_BIG);
		/* So A has read B: its next messages are later ones. */
	}
	CHECK_EQ_INT(envelope_text(env, sizeof(env), &n, text, 2), 0);
	send_is(p.a, p.b, env, n, 1024, 0);
	CHECK_EQ_INT(envelope_text(env, sizeof(env), &n, text, 3000), 0);
	send_is(p.a, p.b, env, n, 16282, 0);
	/* Plaintexts, not envelopes: the same limits. */
	CHECK_EQ_INT(ratchet_encrypt(p.a, msg, sizeof(msg), &l1, text,
	    PAD_PLAINTEXT_MAX + 1), OFR_E_TOO_BIG);
	CHECK_EQ_INT(ratchet_encrypt_size(p.a, PAD_PLAINTEXT_MAX + 1), 0);
	CHECK_EQ_INT(ratchet_encrypt(p.a, msg, 1023, &l1, text, 1),
	    OFR_E_USAGE);
	CHECK_EQ_INT(ratchet_encrypt(p.a, msg, sizeof(msg), &l1, text, 0), 0);
	CHECK_EQ_INT(ratchet_encrypt(p.a, msg, sizeof(msg), &l2, text,
	    PAD_SHORT_PLAINTEXT_MAX), 0);
	CHECK(l1 == 1024 && l2 == 1024);
	pair_free(&p);
}

static void
test_parse(void)
{
	struct ratchet_msg m;

	CHECK_EQ_INT(RATCHET_VERSION, 2);
	memset(msg, 0, sizeof(msg));
	msg[0] = RATCHET_VERSION;
	/* header (42) || nonce (24) || ciphertext (80..16216): 146..16282
	 * bytes in all */
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 24 + 80), 0);
	CHECK_EQ_INT(m.hdr_len, 42);
	CHECK(m.ct == msg + 42 + 24);
	CHECK_EQ_INT(m.ct_len, 80);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 24 + 79),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 80), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 23), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 41), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 24 + 16200 + 16), 0);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 24 + 16200 + 17),
	    OFR_E_BAD_FIELD);
	msg[1] = RATCHET_FLAG_OPK;	/* OPK without init */
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 24 + 80),
	    OFR_E_BAD_FIELD);
	msg[1] = 0x04;
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 24 + 80),
	    OFR_E_BAD_FIELD);
	msg[1] = RATCHET_FLAG_INIT;
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 24 + 80), 0);
	CHECK_EQ_INT(m.has_init, 1);
	CHECK_EQ_INT(m.init.has_opk, 0);
	CHECK_EQ_INT(m.hdr_len, 114);
	CHECK(m.ct == msg + 114 + 24);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 80),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 24),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, RATCHET_MSG_MAX), 0);
	CHECK_EQ_INT(m.ct_len, 16128 + 16);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, RATCHET_MSG_MAX + 1),
	    OFR_E_BAD_FIELD);
	msg[113] = 1;	/* an OPK id without the OPK flag */
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 24 + 80),
	    OFR_E_BAD_FIELD);
	msg[1] |= RATCHET_FLAG_OPK;
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 24 + 80), 0);
	CHECK_EQ_INT(m.init.opk_id, 1);
	msg[0] = 1;	/* version 1 (derived nonces) is retired */
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 24 + 80),
	    OFR_E_BAD_FIELD);
	msg[0] = 3;
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, 42 + 72 + 24 + 80),
	    OFR_E_BAD_FIELD);
}

/*
 * A session state reloaded from an older copy (a crash before saving, a
 * restored backup, a VM snapshot) sends its next message with a message key
 * it has used before. The nonce must still be new, so that no keystream or
 * Poly1305 key repeats; the peer refuses the second use of the counter as a
 * replay and is unchanged by it.
 */
static void
test_rollback(void)
{
	static const char t1[] = "the first text, sent before the crash";
	static const char t2[] = "another text, sent after the rollback";
	struct pair p;
	struct ratchet_msg m1, m2;
	uint8_t *c1, *c2;
	size_t l1, l2, slen, bslen, n, i, same;

	CHECK_EQ_INT(sizeof(t1), sizeof(t2));
	pair_new(&p);
	slen = save(p.a, st1);
	c1 = enc(p.a, t1, &l1);
	CHECK_EQ_INT(ratchet_state_load(p.a, st1, slen, 0), 0);	/* rollback */
	c2 = enc(p.a, t2, &l2);
	CHECK_EQ_INT(l1, l2);
	CHECK_EQ_INT(ratchet_msg_parse(&m1, c1, l1), 0);
	CHECK_EQ_INT(ratchet_msg_parse(&m2, c2, l2), 0);
	/* The same counter, so the same message key... */
	CHECK_EQ_INT(m1.n, m2.n);
	CHECK(memcmp(c1, c2, m1.hdr_len) == 0);
	/* ...but another nonce, and no shared keystream: c1 ^ c2 is not
	 * t1 ^ t2 (it was, byte for byte, with the derived nonce). */
	CHECK(memcmp(c1 + m1.hdr_len, c2 + m2.hdr_len,
	    RATCHET_NONCE_BYTES) != 0);
	for (i = 0, same = 0; i < sizeof(t1) - 1; i++)
		same += (m1.ct[i] ^ m2.ct[i]) == (uint8_t)(t1[i] ^ t2[i]);
	CHECK(same < 8);
	/* The peer reads the first; the second is a replay of its counter. */
	CHECK(dec_is(p.b, c1, l1, t1));
	bslen = save(p.b, st1);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, c2, l2, 0),
	    OFR_E_CRYPTO);
	CHECK(same_state(p.b, st1, bslen));
	free(c1);
	free(c2);
	/* Each message of one state gets its own nonce. */
	c1 = enc(p.a, "x", &l1);
	c2 = enc(p.a, "x", &l2);
	CHECK_EQ_INT(ratchet_msg_parse(&m1, c1, l1), 0);
	CHECK_EQ_INT(ratchet_msg_parse(&m2, c2, l2), 0);
	CHECK(memcmp(c1 + m1.hdr_len, c2 + m2.hdr_len,
	    RATCHET_NONCE_BYTES) != 0);
	CHECK(dec_is(p.b, c2, l2, "x"));
	CHECK(dec_is(p.b, c1, l1, "x"));
	free(c1);
	free(c2);
	pair_free(&p);
}

/*
 * Before the responder's first reply the initiator has no receiving chain.
 * A message built from public values only (the identities and the signed
 * prekey), keyed from an all-zero chain, must be refused and change
 * nothing. (A regression: it was once accepted.)
 */
static void
test_forged_before_reply(void)
{
	uint8_t apk[32], ask[64], bpk[32], bsk[64], spk[32], spk_sk[32];
	uint8_t sk[32], ad[64], hdr[RATCHET_HDR_BYTES], adf[64 + 42];
	uint8_t ck[32] = { 0 }, mk[32], key[32], nonce[RATCHET_NONCE_BYTES];
	static const uint8_t one = 1, two = 2;
	static struct x3dh_bundle bu;
	static const char text[] = "forged: meet me at the station";
	struct x3dh_init init;
	struct ratchet_msg m;
	struct ratchet *a = ratchet_new();
	unsigned long long clen, dlen;
	size_t len, plen, n, off;

	crypto_sign_keypair(apk, ask);
	crypto_sign_keypair(bpk, bsk);
	x3dh_keypair(spk, spk_sk);
	memset(&bu, 0, sizeof(bu));
	memcpy(bu.ik, bpk, 32);
	bu.spk_id = 1;
	memcpy(bu.spk, spk, 32);
	x3dh_spk_sign(bu.spk_sig, bsk, 1, spk);
	CHECK_EQ_INT(x3dh_initiate(sk, ad, &init, ask, &bu), 0);
	CHECK_EQ_INT(ratchet_init_initiator(a, sk, ad, spk, &init), 0);
	CHECK_EQ_INT(ratchet_encrypt(a, msg, sizeof(msg), &len,
	    (const uint8_t *)"hi", 2), 0);

	/* The format of version 2: header || nonce || ciphertext, the AEAD
	 * key from the message key of the (all-zero) chain key, any nonce. */
	crypto_auth_hmacsha256(mk, &one, 1, ck);
	crypto_auth_hmacsha256(ck, &two, 1, ck);
	CHECK_EQ_INT(hkdf(key, sizeof(key), NULL, 0, mk, 32,
	    (const uint8_t *)RATCHET_MSG_INFO, RATCHET_MSG_INFO_BYTES), 0);
	randombytes_buf(nonce, sizeof(nonce));
	hdr[0] = RATCHET_VERSION;
	hdr[1] = 0;
	memcpy(hdr + 2, spk, 32);
	be32_put(hdr + 34, 0);
	be32_put(hdr + 38, 0);
	memcpy(adf, apk, 32);
	memcpy(adf + 32, bpk, 32);
	memcpy(adf + 64, hdr, sizeof(hdr));
	memcpy(msg, hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), nonce, sizeof(nonce));
	off = sizeof(hdr) + sizeof(nonce);
	CHECK_EQ_INT(pad(msg + off, sizeof(msg) - off, &plen,
	    (const uint8_t *)text, sizeof(text) - 1, off + 16), 0);
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg + off, &clen,
	    msg + off, plen, adf, sizeof(adf), NULL, nonce, key);
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, off + (size_t)clen), 0);
	/* The forgery is well formed and keyed as the library would key it:
	 * only the missing receiving chain refuses it. */
	CHECK_EQ_INT(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &dlen,
	    NULL, m.ct, m.ct_len, adf, sizeof(adf), msg + m.hdr_len, key), 0);
	CHECK_EQ_INT(ratchet_decrypt(a, pt, sizeof(pt), &n, msg,
	    off + (size_t)clen, 0), OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_sends_init(a), 1);	/* state unchanged */
	ratchet_free(a);
}

#define T0	1700000000	/* a time for the expiry tests */

/* 1 when r decrypts m at time now to text. */
static int
dec_at(struct ratchet *r, const uint8_t *m, size_t len, const char *text,
    int64_t now)
{
	size_t n;

	if (ratchet_decrypt(r, pt, sizeof(pt), &n, m, len, now) != 0)
		return 0;
	return n == strlen(text) && memcmp(pt, text, n) == 0;
}

/* One DH ratchet step each way: a message from b that a reads, then one
 * from a that b reads (b's receiving step counter goes up by one). */
static void
round_trip(struct pair *p, int64_t now)
{
	uint8_t *m;
	size_t l;

	m = enc(p->b, "ping", &l);
	CHECK(dec_at(p->a, m, l, "ping", now));
	free(m);
	m = enc(p->a, "pong", &l);
	CHECK(dec_at(p->b, m, l, "pong", now));
	free(m);
}

/*
 * Skipped keys outlive RATCHET_SKIPPED_STEPS DH ratchet steps of the
 * receiver, not one more: a late message still opens after five steps;
 * after six its key is gone and it is refused, and a failed message on
 * the way deletes nothing.
 */
static void
test_expire_steps(void)
{
	struct pair p;
	uint8_t *m[3];
	size_t l[3], n;
	uint32_t s0;

	pair_new(&p);
	round_trip(&p, T0);
	for (int i = 0; i < 3; i++)
		m[i] = enc(p.a, i == 0 ? "late zero" : i == 1 ? "late one" :
		    "now", &l[i]);
	CHECK(dec_at(p.b, m[2], l[2], "now", T0));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 2);
	s0 = ratchet_steps(p.b);
	for (int i = 0; i < RATCHET_SKIPPED_STEPS; i++)
		round_trip(&p, T0);
	CHECK_EQ_INT(ratchet_steps(p.b), s0 + RATCHET_SKIPPED_STEPS);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 2);
	CHECK(dec_at(p.b, m[1], l[1], "late one", T0));
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 1);
	/* a damaged message of a new chain changes nothing */
	free(m[1]);
	m[1] = enc(p.b, "x", &l[1]);
	CHECK(dec_at(p.a, m[1], l[1], "x", T0));
	free(m[1]);
	m[1] = enc(p.a, "y", &l[1]);
	m[1][l[1] - 1] ^= 1;
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[1], l[1], T0),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 1);
	m[1][l[1] - 1] ^= 1;
	CHECK(dec_at(p.b, m[1], l[1], "y", T0));	/* the sixth step */
	CHECK_EQ_INT(ratchet_steps(p.b), s0 + RATCHET_SKIPPED_STEPS + 1);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 0);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[0], l[0], T0),
	    OFR_E_CRYPTO);
	for (int i = 0; i < 3; i++)
		free(m[i]);
	pair_free(&p);
}

/*
 * Skipped keys live RATCHET_SKIPPED_TTL seconds from when they were
 * stored: ratchet_expire keeps them a second before, deletes them at the
 * bound; a key from the future (the clock went back) ages from then on.
 */
static void
test_expire_time(void)
{
	struct pair p;
	uint8_t *m[4];
	size_t l[4], n;

	pair_new(&p);
	for (int i = 0; i < 4; i++)
		m[i] = enc(p.a, i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" :
		    "d", &l[i]);
	CHECK(dec_at(p.b, m[1], l[1], "b", T0));	/* key 0 at T0 */
	CHECK(dec_at(p.b, m[3], l[3], "d", T0 + 100));	/* key 2 later */
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 2);
	CHECK_EQ_INT(ratchet_expire(p.b, T0 + RATCHET_SKIPPED_TTL - 1), 0);
	CHECK_EQ_INT(ratchet_expire(p.b, T0 + RATCHET_SKIPPED_TTL), 1);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 1);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[0], l[0],
	    T0 + RATCHET_SKIPPED_TTL), OFR_E_CRYPTO);
	/* the clock goes back: key 2 counts as stored at T0 - 50 */
	CHECK_EQ_INT(ratchet_expire(p.b, T0 - 50), 0);
	CHECK_EQ_INT(ratchet_expire(p.b, T0 - 51 + RATCHET_SKIPPED_TTL), 0);
	CHECK_EQ_INT(ratchet_expire(p.b, T0 - 50 + RATCHET_SKIPPED_TTL), 1);
	CHECK_EQ_INT(ratchet_skipped_count(p.b), 0);
	CHECK_EQ_INT(ratchet_decrypt(p.b, pt, sizeof(pt), &n, m[2], l[2], T0),
	    OFR_E_CRYPTO);
	for (int i = 0; i < 4; i++)
		free(m[i]);
	pair_free(&p);
}

/* The version 1 form of the version 2 state v2 (len bytes) into v1; its
 * length. */
static size_t
to_v1(uint8_t *v1, const uint8_t *v2, size_t len)
{
	size_t k = (len - RATCHET_STATE_FIXED_BYTES) /
	    RATCHET_SKIPPED_ENTRY_BYTES, o = RATCHET_STATE_V1_FIXED_BYTES;

	memcpy(v1, v2, 342);		/* .. PN */
	v1[0] = 1;
	memcpy(v1 + 342, v2 + 346, 4);	/* k; no step counter */
	for (size_t i = 0; i < k; i++) {
		const uint8_t *e = v2 + RATCHET_STATE_FIXED_BYTES +
		    i * RATCHET_SKIPPED_ENTRY_BYTES;

		memcpy(v1 + o, e, 36);		/* dh, N */
		memcpy(v1 + o + 36, e + 48, 32);	/* mk */
		o += RATCHET_SKIPPED_V1_ENTRY_BYTES;
	}
	return o;
}

/*
 * A version 1 state loads: its skipped keys count as stored at the load's
 * time and step, so they open their messages, and expire a week after the
 * load. Saved again it is version 2, and loads to the same.
 */
static void
test_state_v1(void)
{
	struct pair p;
	struct ratchet *r = ratchet_new();
	uint8_t *m[3];
	size_t l[3], slen, l1, n;

	pair_new(&p);
	round_trip(&p, T0);
	for (int i = 0; i < 3; i++)
		m[i] = enc(p.a, i == 0 ? "zero" : i == 1 ? "one" : "two",
		    &l[i]);
	CHECK(dec_at(p.b, m[2], l[2], "two", T0));
	slen = save(p.b, st1);
	CHECK_EQ_INT(st1[0], 2);
	l1 = to_v1(st2, st1, slen);
	CHECK_EQ_INT(l1, RATCHET_STATE_V1_FIXED_BYTES +
	    2 * RATCHET_SKIPPED_V1_ENTRY_BYTES);
	CHECK_EQ_INT(ratchet_state_load(r, st2, l1 - 1, T0), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(ratchet_state_load(r, st2, l1, T0 + 1000), 0);
	CHECK_EQ_INT(ratchet_skipped_count(r), 2);
	CHECK_EQ_INT(ratchet_steps(r), 0);
	slen = save(r, st1);
	CHECK_EQ_INT(st1[0], RATCHET_STATE_VERSION);
	CHECK_EQ_INT(be64_get(st1 + RATCHET_STATE_FIXED_BYTES + 40),
	    T0 + 1000);
	CHECK(dec_at(r, m[1], l[1], "one", T0 + 2000));
	CHECK_EQ_INT(ratchet_expire(r, T0 + 999 + RATCHET_SKIPPED_TTL), 0);
	CHECK_EQ_INT(ratchet_expire(r, T0 + 1000 + RATCHET_SKIPPED_TTL), 1);
	CHECK_EQ_INT(ratchet_decrypt(r, pt, sizeof(pt), &n, m[0], l[0], T0),
	    OFR_E_CRYPTO);
	/* the version 2 save loads to the same */
	CHECK_EQ_INT(ratchet_state_load(r, st1, slen, 0), 0);
	CHECK(same_state(r, st1, slen));
	CHECK(dec_at(r, m[0], l[0], "zero", T0));
	ratchet_free(r);
	for (int i = 0; i < 3; i++)
		free(m[i]);
	pair_free(&p);
}

/* ratchet_msg_used tells a used key (replay, repeated counter) from a
 * message that may still open. */
static void
test_msg_used(void)
{
	struct pair p;
	uint8_t *m[3], *o;
	size_t l[3], lo;

	pair_new(&p);
	for (int i = 0; i < 3; i++)
		m[i] = enc(p.a, "m", &l[i]);
	CHECK_EQ_INT(ratchet_msg_used(p.b, m[1], l[1]), 0);
	CHECK(dec_at(p.b, m[1], l[1], "m", T0));
	CHECK_EQ_INT(ratchet_msg_used(p.b, m[1], l[1]), 1);	/* replay */
	CHECK_EQ_INT(ratchet_msg_used(p.b, m[0], l[0]), 0);	/* stored */
	CHECK_EQ_INT(ratchet_msg_used(p.b, m[2], l[2]), 0);	/* next */
	round_trip(&p, T0);
	/* an older chain that still has a stored key */
	CHECK_EQ_INT(ratchet_msg_used(p.b, m[1], l[1]), 1);
	CHECK_EQ_INT(ratchet_msg_used(p.b, m[0], l[0]), 0);
	/* an unknown chain: not known as used */
	o = enc(p.b, "o", &lo);
	CHECK_EQ_INT(ratchet_msg_used(p.b, o, lo), 0);
	CHECK_EQ_INT(ratchet_msg_used(p.b, o, 10), 0);
	free(o);
	for (int i = 0; i < 3; i++)
		free(m[i]);
	pair_free(&p);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_conversation();
	test_out_of_order();
	test_lost();
	test_tamper();
	test_limits();
	test_state();
	test_padding();
	test_sizes();
	test_parse();
	test_rollback();
	test_forged_before_reply();
	test_expire_steps();
	test_expire_time();
	test_state_v1();
	test_msg_used();
	return check_done();
}
