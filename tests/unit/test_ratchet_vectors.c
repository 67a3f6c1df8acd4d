/*
 * test_ratchet_vectors.c: the library reproduces every vector of
 * proto/vectors/ (each .json file, written by an independent implementation,
 * proto/vectors/gen_vectors.py): HKDF, X3DH, a whole ratchet conversation
 * with fixed keys and nonces, padding, the plaintext envelope, a safety
 * number and a certificate.
 * The vectors are found next to this source file
 * (__FILE__/../../proto/vectors).
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "check.h"
#include "proto/cert.h"
#include "proto/csprng.h"
#include "proto/envelope.h"
#include "proto/err.h"
#include "proto/hkdf.h"
#include "proto/pad.h"
#include "proto/ratchet.h"
#include "proto/safety.h"
#include "proto/x3dh.h"

#define KEYS_MAX	32

/* What one party draws from its random source, in order (csprng test
 * hook): 32-byte X25519 keys and 24-byte message nonces. */
struct keyq {
	uint8_t	k[KEYS_MAX][32];
	size_t	len[KEYS_MAX];
	size_t	n, i;
};

static char dir[4096];
static uint8_t wire[RATCHET_MSG_MAX], pt[RATCHET_PT_MAX];

/* The next draw; it must have the length the library asks for (a key
 * where a nonce is due, or the reverse, fails the check). */
static void
next_key(void *ctx, uint8_t *buf, size_t len)
{
	struct keyq *q = ctx;

	CHECK(q->i < q->n && len == q->len[q->i]);
	if (q->i < q->n && len == q->len[q->i])
		memcpy(buf, q->k[q->i++], len);
	else
		memset(buf, 0, len);
}

static json_t *
load(const char *name)
{
	char path[4200];
	json_error_t err;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((j = json_load_file(path, 0, &err)) == NULL)
		fprintf(stderr, "%s: %s\n", path, err.text);
	CHECK(j != NULL);
	return j;
}

/* The hex string o[key] decoded into out (capacity cap); its length, or
 * (size_t)-1 (a failed check) when missing or malformed. */
static size_t
hexf(json_t *o, const char *key, uint8_t *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t len;

	if (s == NULL || sodium_hex2bin(out, cap, s, strlen(s), NULL, &len,
	    NULL) != 0) {
		fprintf(stderr, "bad hex field %s\n", key);
		CHECK(0);
		return (size_t)-1;
	}
	return len;
}

static long long
intf(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void
test_hkdf(void)
{
	json_t *j = load("hkdf.json"), *c;
	size_t i;
	uint8_t ikm[128], salt[128], info[128], prk[32], want_prk[32];
	uint8_t okm[128], want[128];

	if (j == NULL)
		return;
	json_array_foreach(json_object_get(j, "cases"), i, c) {
		size_t il = hexf(c, "ikm", ikm, sizeof(ikm));
		size_t sl = hexf(c, "salt", salt, sizeof(salt));
		size_t nl = hexf(c, "info", info, sizeof(info));
		size_t L = (size_t)intf(c, "length");

		CHECK_EQ_INT(hexf(c, "prk", want_prk, 32), 32);
		CHECK_EQ_INT(hexf(c, "okm", want, sizeof(want)), L);
		hkdf_extract(prk, salt, sl, ikm, il);
		CHECK(memcmp(prk, want_prk, 32) == 0);
		CHECK_EQ_INT(hkdf(okm, L, salt, sl, ikm, il, info, nl), 0);
		CHECK(memcmp(okm, want, L) == 0);
	}
	CHECK_EQ_INT(i, 3);
	json_decref(j);
}

/* Identities of x3dh.json. */
static uint8_t ika_pk[32], ika_sk[64], ikb_pk[32], ikb_sk[64];
static uint8_t spk_sk[32], spk_pk[32], opk_sk[32], opk8_sk[32];

static void
test_x3dh(void)
{
	json_t *j = load("x3dh.json");
	static struct x3dh_bundle b;
	static uint8_t enc[X3DH_BUNDLE_MAX_BYTES], want[X3DH_BUNDLE_MAX_BYTES];
	uint8_t seed[32], k[32], x[32], sk[32], ad[64], sk2[32], ad2[64];
	struct x3dh_init init;
	struct keyq q = { .n = 1, .len = { 32 } };
	size_t len, wlen;

	if (j == NULL)
		return;
	hexf(j, "ika_seed", seed, 32);
	crypto_sign_seed_keypair(ika_pk, ika_sk, seed);
	hexf(j, "ikb_seed", seed, 32);
	crypto_sign_seed_keypair(ikb_pk, ikb_sk, seed);
	hexf(j, "ika_pub", k, 32);
	CHECK(memcmp(k, ika_pk, 32) == 0);
	hexf(j, "ikb_pub", k, 32);
	CHECK(memcmp(k, ikb_pk, 32) == 0);
	/* The X25519 forms of the identities. */
	hexf(j, "ika_x25519_pub", k, 32);
	CHECK_EQ_INT(x3dh_identity_x25519_pk(x, ika_pk), 0);
	CHECK(memcmp(k, x, 32) == 0);
	hexf(j, "ikb_x25519_sk", k, 32);
	CHECK_EQ_INT(x3dh_identity_x25519_sk(x, ikb_sk), 0);
	CHECK(memcmp(k, x, 32) == 0);
	/* Prekeys, the signature, the uploaded and the fetched bundle. */
	hexf(j, "spk_sk", spk_sk, 32);
	hexf(j, "opk_sk", opk_sk, 32);
	hexf(j, "opk8_sk", opk8_sk, 32);
	crypto_scalarmult_base(spk_pk, spk_sk);
	hexf(j, "spk_pub", k, 32);
	CHECK(memcmp(k, spk_pk, 32) == 0);
	memset(&b, 0, sizeof(b));
	memcpy(b.ik, ikb_pk, 32);
	b.spk_id = (uint32_t)intf(j, "spk_id");
	memcpy(b.spk, spk_pk, 32);
	x3dh_spk_sign(b.spk_sig, ikb_sk, b.spk_id, b.spk);
	{
		uint8_t sig[64];

		CHECK_EQ_INT(hexf(j, "spk_sig", sig, 64), 64);
		CHECK(memcmp(sig, b.spk_sig, 64) == 0);
	}
	b.n_opk = 2;
	b.opk[0].id = (uint32_t)intf(j, "opk_id");
	crypto_scalarmult_base(b.opk[0].pk, opk_sk);
	b.opk[1].id = 8;
	crypto_scalarmult_base(b.opk[1].pk, opk8_sk);
	CHECK_EQ_INT(x3dh_bundle_encode(enc, sizeof(enc), &len, &b), 0);
	wlen = hexf(j, "bundle_upload", want, sizeof(want));
	CHECK(len == wlen && memcmp(enc, want, len) == 0);
	CHECK_EQ_INT(x3dh_bundle_verify(NULL, want, wlen, ikb_pk), 0);
	wlen = hexf(j, "bundle_fetched", want, sizeof(want));
	CHECK_EQ_INT(x3dh_bundle_verify(&b, want, wlen, ikb_pk), 0);
	CHECK_EQ_INT(b.n_opk, 1);
	/* X3DH with the fixed ephemeral key, with and without the OPK. */
	hexf(j, "ek_sk", q.k[0], 32);
	csprng_set_test_hook(next_key, &q);
	CHECK_EQ_INT(x3dh_initiate(sk, ad, &init, ika_sk, &b), 0);
	csprng_set_test_hook(NULL, NULL);
	hexf(j, "ek_pub", k, 32);
	CHECK(memcmp(init.ek, k, 32) == 0);
	hexf(json_object_get(j, "with_opk"), "sk", k, 32);
	CHECK(memcmp(sk, k, 32) == 0);
	hexf(json_object_get(j, "with_opk"), "ad", ad2, 64);
	CHECK(memcmp(ad, ad2, 64) == 0);
	CHECK_EQ_INT(x3dh_respond(sk2, ad2, &init, ikb_sk, spk_sk, opk_sk), 0);
	CHECK(memcmp(sk2, k, 32) == 0 && memcmp(ad, ad2, 64) == 0);
	b.n_opk = 0;
	q.i = 0;
	csprng_set_test_hook(next_key, &q);
	CHECK_EQ_INT(x3dh_initiate(sk, ad, &init, ika_sk, &b), 0);
	csprng_set_test_hook(NULL, NULL);
	hexf(json_object_get(j, "without_opk"), "sk", k, 32);
	CHECK(memcmp(sk, k, 32) == 0);
	CHECK_EQ_INT(x3dh_respond(sk2, ad2, &init, ikb_sk, spk_sk, NULL), 0);
	CHECK(memcmp(sk2, k, 32) == 0);
	json_decref(j);
}

static void
keys_of(struct keyq *q, json_t *arr)
{
	size_t i;
	json_t *v;

	memset(q, 0, sizeof(*q));
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		CHECK(i < KEYS_MAX && s != NULL && sodium_hex2bin(q->k[i], 32,
		    s, strlen(s), NULL, &q->len[i], NULL) == 0 &&
		    (q->len[i] == 32 || q->len[i] == RATCHET_NONCE_BYTES));
		q->n = i + 1;
	}
}

static void
test_ratchet(void)
{
	json_t *j = load("ratchet.json"), *e, *in;
	struct ratchet *a = ratchet_new(), *b = ratchet_new();
	struct keyq qa, qb;
	uint8_t nonce[RATCHET_NONCE_BYTES];
	struct x3dh_init init;
	struct ratchet_msg m;
	uint8_t sk[32], ad[64], sk2[32], ad2[64], want[RATCHET_MSG_MAX];
	uint8_t *msgs[32] = { 0 };
	size_t lens[32], i, len, n;
	int b_ready = 0, nsend = 0, nrecv = 0;

	if (j == NULL)
		return;
	CHECK_EQ_INT(intf(j, "version"), RATCHET_VERSION);
	keys_of(&qa, json_object_get(j, "alice_random"));
	keys_of(&qb, json_object_get(j, "bob_random"));
	hexf(j, "sk", sk, 32);
	hexf(j, "ad", ad, 64);
	in = json_object_get(j, "init");
	memset(&init, 0, sizeof(init));
	hexf(in, "ik", init.ik, 32);
	hexf(in, "ek", init.ek, 32);
	init.spk_id = (uint32_t)intf(in, "spk_id");
	init.has_opk = 1;
	init.opk_id = (uint32_t)intf(in, "opk_id");
	csprng_set_test_hook(next_key, &qa);
	CHECK_EQ_INT(ratchet_init_initiator(a, sk, ad, spk_pk, &init), 0);
	json_array_foreach(json_object_get(j, "events"), i, e) {
		const char *op = json_string_value(json_object_get(e, "op"));
		size_t k = (size_t)intf(e, "msg");
		size_t pl = hexf(e, "plaintext", pt, sizeof(pt));
		static uint8_t want_pt[RATCHET_PT_MAX];

		CHECK(k < 32);
		if (k >= 32)
			break;
		if (strcmp(op, "send") == 0) {
			int from_a = strcmp(json_string_value(json_object_get(e,
			    "from")), "a") == 0;

			csprng_set_test_hook(next_key, from_a ? &qa : &qb);
			CHECK_EQ_INT(ratchet_encrypt(from_a ? a : b, wire,
			    sizeof(wire), &len, pt, pl), 0);
			CHECK(len == RATCHET_MSG_SHORT ||
			    len == RATCHET_MSG_MAX);
			n = hexf(e, "wire", want, sizeof(want));
			if (json_is_true(json_object_get(e, "old_padding"))) {
				/* Sent by a client before fixed sizes: the
				 * same header and nonce, an old bucket. */
				CHECK_EQ_INT(ratchet_msg_parse(&m, want, n),
				    0);
				CHECK(n < len && memcmp(wire, want, m.hdr_len +
				    RATCHET_NONCE_BYTES) == 0);
				memcpy(wire, want, n);
				len = n;
			}
			CHECK(n == len && memcmp(wire, want, len) == 0);
			/* The nonce, drawn from the random source, follows
			 * the header and the X3DH fields. */
			CHECK_EQ_INT(hexf(e, "nonce", nonce, sizeof(nonce)),
			    RATCHET_NONCE_BYTES);
			CHECK_EQ_INT(ratchet_msg_parse(&m, wire, len), 0);
			CHECK(memcmp(wire + m.hdr_len, nonce,
			    sizeof(nonce)) == 0);
			msgs[k] = malloc(n);
			memcpy(msgs[k], want, n);
			lens[k] = n;
			nsend++;
			continue;
		}
		memcpy(want_pt, pt, pl);
		if (strcmp(json_string_value(json_object_get(e, "to")), "b")
		    == 0) {
			csprng_set_test_hook(next_key, &qb);
			if (!b_ready) {
				/* Bob's first message: X3DH from its fields. */
				CHECK_EQ_INT(ratchet_msg_parse(&m, msgs[k],
				    lens[k]), 0);
				CHECK_EQ_INT(m.has_init, 1);
				CHECK_EQ_INT(x3dh_respond(sk2, ad2, &m.init,
				    ikb_sk, spk_sk, opk_sk), 0);
				CHECK(memcmp(sk2, sk, 32) == 0);
				CHECK(memcmp(ad2, ad, 64) == 0);
				CHECK_EQ_INT(ratchet_init_responder(b, sk2, ad2,
				    &m.init, spk_pk, spk_sk), 0);
				b_ready = 1;
			}
			CHECK_EQ_INT(ratchet_decrypt(b, pt, sizeof(pt), &n,
			    msgs[k], lens[k], 0), 0);
			CHECK_EQ_INT(ratchet_skipped_count(b),
			    intf(e, "skipped_after"));
		} else {
			csprng_set_test_hook(next_key, &qa);
			CHECK_EQ_INT(ratchet_decrypt(a, pt, sizeof(pt), &n,
			    msgs[k], lens[k], 0), 0);
			CHECK_EQ_INT(ratchet_skipped_count(a),
			    intf(e, "skipped_after"));
		}
		CHECK(n == pl && memcmp(pt, want_pt, n) == 0);
		nrecv++;
	}
	csprng_set_test_hook(NULL, NULL);
	CHECK(nsend >= 12 && nrecv >= 11);
	/* every key and nonce used, in order */
	CHECK(qa.n > 0 && qa.i == qa.n && qb.n > 0 && qb.i == qb.n);
	for (i = 0; i < 32; i++)
		free(msgs[i]);
	ratchet_free(a);
	ratchet_free(b);
	json_decref(j);
}

/* Fills buf with the vectors' plaintext of c: "plaintext", or byte i =
 * 7 i + 3. Its length. */
static size_t
case_plaintext(json_t *c, uint8_t *buf, size_t cap)
{
	size_t len = (size_t)intf(c, "length");

	if (json_object_get(c, "plaintext") != NULL)
		CHECK_EQ_INT(hexf(c, "plaintext", buf, cap), len);
	else
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)(7 * k + 3);
	return len;
}

static void
test_pad(void)
{
	json_t *j = load("pad.json"), *c;
	static uint8_t buf[PAD_MAX_BYTES], want[PAD_MAX_BYTES];
	static const size_t over[] = { RATCHET_OVERHEAD_MAX,
	    RATCHET_OVERHEAD_MIN, 24 + 16 };
	size_t i, n, k, len, o;

	if (j == NULL)
		return;
	CHECK_EQ_INT(intf(j, "wire_short"), PAD_WIRE_SHORT);
	CHECK_EQ_INT(intf(j, "wire_long"), PAD_WIRE_LONG);
	CHECK_EQ_INT(intf(j, "overhead_max"), PAD_OVERHEAD_MAX);
	CHECK_EQ_INT(intf(j, "short_plaintext_max"), PAD_SHORT_PLAINTEXT_MAX);
	CHECK_EQ_INT(intf(j, "plaintext_max"), PAD_PLAINTEXT_MAX);
	json_array_foreach(json_object_get(j, "cases"), i, c) {
		len = case_plaintext(c, buf, sizeof(buf));
		o = (size_t)intf(c, "overhead");
		CHECK_EQ_INT(pad_size(len, o), intf(c, "padded_length"));
		CHECK_EQ_INT(pad(buf, sizeof(buf), &n, buf, len, o), 0);
		CHECK_EQ_INT(n, intf(c, "padded_length"));
		if (json_object_get(c, "padded") != NULL) {
			CHECK_EQ_INT(hexf(c, "padded", want, sizeof(want)), n);
			CHECK(memcmp(buf, want, n) == 0);
		}
		CHECK_EQ_INT(unpad(&k, buf, n, o), 0);
		CHECK_EQ_INT(k, len);
	}
	CHECK(i >= 30);
	/* The old buckets are read at any overhead. */
	json_array_foreach(json_object_get(j, "old_cases"), i, c) {
		len = case_plaintext(c, buf, sizeof(buf));
		n = (size_t)intf(c, "padded_length");
		buf[len] = 0x80;
		memset(buf + len + 1, 0, n - len - 1);
		if (json_object_get(c, "padded") != NULL) {
			CHECK_EQ_INT(hexf(c, "padded", want, sizeof(want)), n);
			CHECK(memcmp(buf, want, n) == 0);
		}
		for (o = 0; o < sizeof(over) / sizeof(over[0]); o++) {
			CHECK_EQ_INT(unpad(&k, buf, n, over[o]), 0);
			CHECK_EQ_INT(k, len);
		}
	}
	CHECK(i >= 10);
	json_array_foreach(json_object_get(j, "too_long"), i, c)
		for (o = 0; o < sizeof(over) / sizeof(over[0]); o++)
			CHECK_EQ_INT(pad_size((size_t)json_integer_value(c),
			    over[o]), 0);
	json_array_foreach(json_object_get(j, "bad_padded"), i, c) {
		if ((n = hexf(c, "padded", buf, sizeof(buf))) == (size_t)-1)
			continue;
		CHECK_EQ_INT(unpad(&k, buf, n, (size_t)intf(c, "overhead")),
		    OFR_E_CRYPTO);
	}
	CHECK(i >= 8);
	json_decref(j);
}

/* Writes env (n bytes) padded and checks it against the hex field "padded"
 * of c. */
static void
check_padded(json_t *c, const uint8_t *env, size_t n)
{
	static uint8_t got[PAD_MAX_BYTES], want[PAD_MAX_BYTES];
	size_t m;

	CHECK_EQ_INT(pad(got, sizeof(got), &m, env, n, RATCHET_OVERHEAD_MIN),
	    0);
	CHECK_EQ_INT(hexf(c, "padded", want, sizeof(want)), m);
	CHECK(memcmp(got, want, m) == 0);
}

static void
test_envelope(void)
{
	json_t *j = load("envelope.json"), *c;
	static uint8_t text[PAD_MAX_BYTES], want[PAD_MAX_BYTES],
	    got[PAD_MAX_BYTES];
	struct envelope e;
	size_t i, n, tl, wl;

	if (j == NULL)
		return;
	CHECK_EQ_INT(intf(j, "version"), ENVELOPE_VERSION_1);
	CHECK_EQ_INT(intf(j, "text_max"), ENVELOPE_V1_TEXT_MAX);
	/* "padded": as in a later message */
	CHECK_EQ_INT(intf(j, "padded_overhead"), RATCHET_OVERHEAD_MIN);
	json_array_foreach(json_object_get(j, "text"), i, c) {
		tl = hexf(c, "text", text, sizeof(text));
		wl = hexf(c, "envelope", want, sizeof(want));
		CHECK_EQ_INT(envelope_text(got, sizeof(got), &n, text, tl), 0);
		CHECK(n == wl && memcmp(got, want, n) == 0);
		check_padded(c, got, n);
		CHECK_EQ_INT(envelope_parse(&e, want, wl), 0);
		CHECK_EQ_INT(e.kind, ENVELOPE_TEXT);
		CHECK(e.text_len == tl && memcmp(e.text, text, tl) == 0);
	}
	CHECK(i >= 3);
	json_array_foreach(json_object_get(j, "report"), i, c) {
		uint32_t count = (uint32_t)intf(c, "count");
		uint8_t reason = (uint8_t)intf(c, "reason");

		wl = hexf(c, "envelope", want, sizeof(want));
		CHECK_EQ_INT(envelope_report(got, sizeof(got), &n, count,
		    reason), 0);
		CHECK(n == wl && memcmp(got, want, n) == 0);
		check_padded(c, got, n);
		CHECK_EQ_INT(envelope_parse(&e, want, wl), 0);
		CHECK(e.kind == ENVELOPE_REPORT && e.count == count &&
		    e.reason == reason);
	}
	CHECK(i >= 3);
	c = json_object_get(j, "nothing");
	wl = hexf(c, "envelope", want, sizeof(want));
	CHECK_EQ_INT(envelope_nothing(got, sizeof(got), &n), 0);
	CHECK(n == wl && memcmp(got, want, n) == 0);
	check_padded(c, got, n);
	CHECK_EQ_INT(envelope_parse(&e, want, wl), 0);
	CHECK_EQ_INT(e.kind, ENVELOPE_NOTHING);
	json_array_foreach(json_object_get(j, "bad"), i, c) {
		const char *s = json_string_value(c);

		CHECK(s != NULL && sodium_hex2bin(want, sizeof(want), s,
		    strlen(s), NULL, &wl, NULL) == 0);
		CHECK_EQ_INT(envelope_parse(&e, want, wl), OFR_E_BAD_FIELD);
	}
	CHECK(i >= 10);
	/* the longest text fits, one byte more does not */
	memset(text, 'x', ENVELOPE_V1_TEXT_MAX + 1);
	CHECK_EQ_INT(envelope_text(got, sizeof(got), &n, text,
	    ENVELOPE_V1_TEXT_MAX), 0);
	CHECK_EQ_INT(pad_size(n, RATCHET_OVERHEAD_MAX) + RATCHET_OVERHEAD_MAX,
	    RATCHET_MSG_MAX);
	CHECK_EQ_INT(pad_size(n, RATCHET_OVERHEAD_MIN) + RATCHET_OVERHEAD_MIN,
	    RATCHET_MSG_MAX);
	CHECK_EQ_INT(envelope_text(got, sizeof(got), &n, text,
	    ENVELOPE_V1_TEXT_MAX + 1), OFR_E_TOO_BIG);
	CHECK_EQ_INT(envelope_report(got, sizeof(got), &n, 0, 1), OFR_E_USAGE);
	CHECK_EQ_INT(envelope_report(got, 6, &n, 1, 1), OFR_E_USAGE);
	json_decref(j);
}

/* A v2 case's hex field key into buf (static per slot); its length. */
static size_t
hexs(json_t *c, const char *key, uint8_t *buf, size_t cap)
{
	const char *v = json_string_value(json_object_get(c, key));

	if (v != NULL && *v == '\0')
		return 0;
	return hexf(c, key, buf, cap);
}

/* The findings named in the array a, as envelope_check's bits. */
static unsigned
findings(json_t *names, json_t *a)
{
	json_t *n;
	unsigned f = 0;
	size_t i;

	json_array_foreach(a, i, n)
		f |= (unsigned)json_integer_value(json_object_get(names,
		    json_string_value(n)));
	return f;
}

/* Version 2 (CRYPTO.md, "Plaintext envelope"): every kind written as
 * the vectors say and parsed back, the bad ones refused, the checks of
 * the binding. */
static void
test_envelope_v2(void)
{
	static const char *afields[ENVELOPE_AGREEMENT_FIELDS] = {
	    "objectives", "formats", "frequency", "crisis" };
	static const char *rfields[ENVELOPE_REFERRAL_FIELDS] = {
	    "name", "contact", "expect", "say" };
	static uint8_t want[PAD_MAX_BYTES], got[PAD_MAX_BYTES],
	    f[6][PAD_MAX_BYTES];
	json_t *j = load("envelope.json"), *v, *c;
	struct envelope e, w;
	size_t i, k, n, wl, fl[6];
	unsigned kinds = 0;

	if (j == NULL)
		return;
	v = json_object_get(j, "v2");
	CHECK_EQ_INT(intf(v, "version"), ENVELOPE_VERSION);
	CHECK_EQ_INT(intf(v, "header_bytes"), ENVELOPE_V2_HDR_BYTES);
	CHECK_EQ_INT(intf(v, "text_max"), ENVELOPE_TEXT_MAX);
	CHECK_EQ_INT(intf(v, "future_max"), ENVELOPE_FUTURE_MAX);
	CHECK_EQ_INT(intf(v, "place_max"), ENVELOPE_PLACE_MAX);
	CHECK_EQ_INT(intf(v, "recognise_max"), ENVELOPE_RECOGNISE_MAX);
	CHECK_EQ_INT(intf(v, "agreement_field_max"),
	    ENVELOPE_AGREEMENT_FIELD_MAX);
	CHECK_EQ_INT(intf(v, "referral_name_max"), ENVELOPE_REFERRAL_NAME_MAX);
	CHECK_EQ_INT(intf(v, "referral_contact_max"),
	    ENVELOPE_REFERRAL_CONTACT_MAX);
	CHECK_EQ_INT(intf(v, "referral_note_max"), ENVELOPE_REFERRAL_NOTE_MAX);
	json_array_foreach(json_object_get(v, "cases"), i, c) {
		memset(&w, 0, sizeof(w));
		w.case_id = (int64_t)intf(c, "case_id");
		w.seq = (uint32_t)intf(c, "seq");
		w.time = (int64_t)intf(c, "time");
		w.kind = (uint8_t)intf(c, "kind");
		kinds |= 1u << w.kind;
		switch (w.kind) {
		case ENVELOPE_TEXT:
			w.text = f[0];
			w.text_len = hexs(c, "text", f[0], sizeof(f[0]));
			break;
		case ENVELOPE_REPORT:
			w.count = (uint32_t)intf(c, "count");
			w.reason = (uint8_t)intf(c, "reason");
			break;
		case ENVELOPE_MEETING:
			w.meeting.action = (uint8_t)intf(c, "action");
			w.meeting.id = (uint32_t)intf(c, "id");
			w.meeting.time = (int64_t)intf(c, "meeting_time");
			w.meeting.place = f[0];
			w.meeting.place_len = hexs(c, "place", f[0],
			    sizeof(f[0]));
			w.meeting.recognise = f[1];
			w.meeting.recognise_len = hexs(c, "recognise", f[1],
			    sizeof(f[1]));
			break;
		case ENVELOPE_AGREEMENT:
			w.agreement.action = (uint8_t)intf(c, "action");
			w.agreement.version = (uint32_t)intf(c, "version");
			for (k = 0; k < ENVELOPE_AGREEMENT_FIELDS; k++) {
				fl[k] = hexs(c, afields[k], f[k],
				    sizeof(f[k]));
				w.agreement.field[k] = f[k];
				w.agreement.len[k] = fl[k];
			}
			break;
		case ENVELOPE_REFERRAL:
			for (k = 0; k < ENVELOPE_REFERRAL_FIELDS; k++) {
				fl[k] = hexs(c, rfields[k], f[k],
				    sizeof(f[k]));
				w.referral.field[k] = f[k];
				w.referral.len[k] = fl[k];
			}
			break;
		}
		wl = hexf(c, "envelope", want, sizeof(want));
		CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w), 0);
		CHECK(n == wl && memcmp(got, want, n) == 0);
		check_padded(c, got, n);
		CHECK_EQ_INT(envelope_parse(&e, want, wl), 0);
		CHECK(e.version == 2 && e.case_id == w.case_id &&
		    e.seq == w.seq && e.time == w.time && e.kind == w.kind);
		switch (w.kind) {
		case ENVELOPE_TEXT:
			CHECK(e.text_len == w.text_len &&
			    memcmp(e.text, w.text, w.text_len) == 0);
			break;
		case ENVELOPE_REPORT:
			CHECK(e.count == w.count && e.reason == w.reason);
			break;
		case ENVELOPE_MEETING:
			CHECK(e.meeting.action == w.meeting.action &&
			    e.meeting.id == w.meeting.id &&
			    e.meeting.time == w.meeting.time &&
			    e.meeting.place_len == w.meeting.place_len &&
			    memcmp(e.meeting.place, w.meeting.place,
			    w.meeting.place_len) == 0 &&
			    e.meeting.recognise_len ==
			    w.meeting.recognise_len &&
			    memcmp(e.meeting.recognise, w.meeting.recognise,
			    w.meeting.recognise_len) == 0);
			break;
		case ENVELOPE_AGREEMENT:
			CHECK(e.agreement.action == w.agreement.action &&
			    e.agreement.version == w.agreement.version);
			for (k = 0; k < ENVELOPE_AGREEMENT_FIELDS; k++)
				CHECK(e.agreement.len[k] == fl[k] &&
				    memcmp(e.agreement.field[k], f[k],
				    fl[k]) == 0);
			break;
		case ENVELOPE_REFERRAL:
			for (k = 0; k < ENVELOPE_REFERRAL_FIELDS; k++)
				CHECK(e.referral.len[k] == fl[k] &&
				    memcmp(e.referral.field[k], f[k],
				    fl[k]) == 0);
			break;
		}
	}
	CHECK_EQ_INT(kinds, 0x23e);	/* every kind */
	json_array_foreach(json_object_get(v, "bad"), i, c) {
		const char *s = json_string_value(c);

		CHECK(s != NULL && sodium_hex2bin(want, sizeof(want), s,
		    strlen(s), NULL, &wl, NULL) == 0);
		if (envelope_parse(&e, want, wl) != OFR_E_BAD_FIELD)
			fprintf(stderr, "bad v2 envelope %zu parsed\n", i);
		CHECK_EQ_INT(envelope_parse(&e, want, wl), OFR_E_BAD_FIELD);
	}
	CHECK(i >= 30);
	json_array_foreach(json_object_get(v, "checks"), i, c) {
		wl = hexf(c, "envelope", want, sizeof(want));
		CHECK_EQ_INT(envelope_parse(&e, want, wl), 0);
		CHECK_EQ_INT(envelope_check(&e, (int64_t)intf(c, "case_id"),
		    (uint32_t)intf(c, "last_seq"),
		    (int64_t)intf(c, "last_time"), (int64_t)intf(c, "now")),
		    findings(json_object_get(v, "findings"),
		    json_object_get(c, "found")));
	}
	CHECK(i >= 10);
	/* the longest text fits, one byte more does not */
	memset(&w, 0, sizeof(w));
	memset(f[0], 'x', ENVELOPE_TEXT_MAX + 1);
	w.case_id = 1, w.seq = 1, w.kind = ENVELOPE_TEXT, w.text = f[0];
	w.text_len = ENVELOPE_TEXT_MAX;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w), 0);
	CHECK_EQ_INT(n, PAD_PLAINTEXT_MAX);
	CHECK_EQ_INT(envelope_parse(&e, got, n), 0);
	w.text_len++;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w), OFR_E_TOO_BIG);
	w.text_len--;
	CHECK_EQ_INT(envelope_write(got, n - 1, &n, &w), OFR_E_USAGE);
	w.seq = 0;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w),
	    OFR_E_BAD_FIELD);
	/* a meeting or an agreement the parser would refuse is not written */
	memset(&w, 0, sizeof(w));
	w.case_id = 1, w.seq = 1, w.kind = ENVELOPE_MEETING;
	w.meeting.action = ENVELOPE_M_PROPOSE, w.meeting.id = 1;
	w.meeting.time = 1;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w),
	    OFR_E_BAD_FIELD);
	w.meeting.place = f[0], w.meeting.place_len = ENVELOPE_PLACE_MAX + 1;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w), OFR_E_TOO_BIG);
	w.kind = ENVELOPE_AGREEMENT;
	w.agreement.action = ENVELOPE_A_ACCEPT, w.agreement.version = 1;
	w.agreement.field[1] = f[0], w.agreement.len[1] = 1;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w),
	    OFR_E_BAD_FIELD);
	/* nor a referral card without a contact, or with a name too long */
	memset(&w, 0, sizeof(w));
	w.case_id = 1, w.seq = 1, w.kind = ENVELOPE_REFERRAL;
	w.referral.field[ENVELOPE_RF_NAME] = f[0];
	w.referral.len[ENVELOPE_RF_NAME] = 1;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w),
	    OFR_E_BAD_FIELD);
	w.referral.field[ENVELOPE_RF_CONTACT] = f[0];
	w.referral.len[ENVELOPE_RF_CONTACT] = 1;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w), 0);
	w.referral.len[ENVELOPE_RF_NAME] = ENVELOPE_REFERRAL_NAME_MAX + 1;
	CHECK_EQ_INT(envelope_write(got, sizeof(got), &n, &w), OFR_E_TOO_BIG);
	json_decref(j);
}

static void
test_safety(void)
{
	json_t *j = load("safety.json");
	uint8_t a[32], b[32];
	char s[SAFETY_STR_BYTES];
	const char *want;

	if (j == NULL)
		return;
	hexf(j, "a", a, 32);
	hexf(j, "b", b, 32);
	want = json_string_value(json_object_get(j, "number"));
	CHECK(want != NULL);
	safety_number(s, a, b);
	CHECK(want != NULL && strcmp(s, want) == 0);
	safety_number(s, b, a);
	CHECK(want != NULL && strcmp(s, want) == 0);
	/* as typed: without spaces, or with others; never a digit short */
	{
		char typed[SAFETY_STR_BYTES + 8], got[SAFETY_STR_BYTES];
		size_t k = 0;

		for (const char *p = s; *p != '\0'; p++)
			if (*p != ' ')
				typed[k++] = *p;
		typed[k] = '\0';
		CHECK_EQ_INT(safety_parse(got, typed), 0);
		CHECK(strcmp(got, s) == 0);
		typed[k - 1] = '\0';
		CHECK_EQ_INT(safety_parse(got, typed), OFR_E_USAGE);
		CHECK_EQ_INT(safety_parse(got, "12345 x"), OFR_E_USAGE);
	}
	json_decref(j);
}

static void
test_cert(void)
{
	json_t *j = load("cert.json"), *v;
	uint8_t seed[32], ppk[32], psk[64], cert[CERT_BYTES], want[CERT_BYTES];
	struct cert_info info, got;
	size_t i;

	if (j == NULL)
		return;
	hexf(j, "programme_seed", seed, 32);
	crypto_sign_seed_keypair(ppk, psk, seed);
	hexf(j, "programme_pub", seed, 32);
	CHECK(memcmp(seed, ppk, 32) == 0);
	hexf(j, "counsellor_pub", info.counsellor_pk, 32);
	info.programme_id = intf(j, "programme_id");
	info.not_before = intf(j, "not_before");
	info.not_after = intf(j, "not_after");
	CHECK_EQ_INT(cert_sign(cert, psk, &info), 0);
	CHECK_EQ_INT(hexf(j, "cert", want, sizeof(want)), CERT_BYTES);
	CHECK(memcmp(cert, want, CERT_BYTES) == 0);
	json_array_foreach(json_object_get(j, "valid_at"), i, v) {
		CHECK_EQ_INT(cert_verify(&got, want, ppk, info.counsellor_pk,
		    json_integer_value(v)), 0);
		CHECK_EQ_INT(got.programme_id, info.programme_id);
	}
	json_array_foreach(json_object_get(j, "invalid_at"), i, v)
		CHECK_EQ_INT(cert_verify(NULL, want, ppk, info.counsellor_pk,
		    json_integer_value(v)), OFR_E_CRYPTO);
	json_decref(j);
}

/* The rotation, revocation lists and partner statement of
 * statements.json: signed byte for byte, checked, and refused when a
 * byte is flipped or the wrong key is asked. */
static void
test_statements(void)
{
	json_t *j = load("statements.json"), *o, *v;
	uint8_t seed[32], pk1[32], sk1[64], pk2[32], sk2[64], pp[32];
	uint8_t got[REVOCATION_BYTES_MAX], want[REVOCATION_BYTES_MAX];
	uint8_t keys[4 * 32];
	struct rotation r;
	struct revocation rl;
	struct partner_info pi;
	char fpr[FPR_STR_BYTES];
	size_t i, n, len;

	if (j == NULL)
		return;
	hexf(j, "programme_seed", seed, 32);
	crypto_sign_seed_keypair(pk1, sk1, seed);
	hexf(j, "new_programme_seed", seed, 32);
	crypto_sign_seed_keypair(pk2, sk2, seed);
	hexf(j, "new_programme_pub", seed, 32);
	CHECK(memcmp(seed, pk2, 32) == 0);

	o = json_object_get(j, "rotation");
	r.programme_id = intf(o, "programme_id");
	r.issued = intf(o, "issued");
	memcpy(r.old_pk, pk1, 32);
	memcpy(r.new_pk, pk2, 32);
	CHECK_EQ_INT(rotation_sign(got, sk1, &r), 0);
	CHECK_EQ_INT(hexf(o, "statement", want, sizeof(want)), ROTATION_BYTES);
	CHECK(memcmp(got, want, ROTATION_BYTES) == 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ_INT(rotation_verify(&r, want, pk1), 0);
	CHECK(memcmp(r.new_pk, pk2, 32) == 0 && r.programme_id == 42);
	CHECK_EQ_INT(rotation_verify(NULL, want, pk2), OFR_E_BAD_SIGNATURE);
	want[50] ^= 1;
	CHECK_EQ_INT(rotation_verify(NULL, want, pk1), OFR_E_BAD_SIGNATURE);

	o = json_object_get(j, "revocation");
	n = json_array_size(json_object_get(o, "keys"));
	CHECK(n == 3);
	json_array_foreach(json_object_get(o, "keys"), i, v) {
		if (i < 4)
			CHECK(sodium_hex2bin(keys + i * 32, 32,
			    json_string_value(v), 64, NULL, &len, NULL) == 0);
	}
	CHECK_EQ_INT(revocation_sign(got, sizeof(got), &len, sk2,
	    intf(o, "programme_id"), intf(o, "issued"), keys, n), 0);
	CHECK_EQ_INT(hexf(o, "list", want, sizeof(want)), revocation_bytes(n));
	CHECK(len == revocation_bytes(n) && memcmp(got, want, len) == 0);
	CHECK_EQ_INT(revocation_verify(&rl, want, len, pk2), 0);
	CHECK(rl.n == 3 && rl.issued == intf(o, "issued"));
	CHECK(revocation_has(&rl, keys + 32) && !revocation_has(&rl, pk1));
	CHECK_EQ_INT(revocation_verify(&rl, want, len, pk1),
	    OFR_E_BAD_SIGNATURE);
	CHECK_EQ_INT(revocation_verify(&rl, want, len - 1, pk2),
	    OFR_E_BAD_FIELD);
	/* unsorted keys are not signed */
	memcpy(got, keys, 32);
	memcpy(keys, keys + 32, 32);
	memcpy(keys + 32, got, 32);
	CHECK_EQ_INT(revocation_sign(got, sizeof(got), &len, sk2, 42, 1,
	    keys, n), OFR_E_USAGE);

	o = json_object_get(j, "revocation_empty");
	CHECK_EQ_INT(revocation_sign(got, sizeof(got), &len, sk1,
	    intf(o, "programme_id"), intf(o, "issued"), NULL, 0), 0);
	CHECK_EQ_INT(hexf(o, "list", want, sizeof(want)), revocation_bytes(0));
	CHECK(len == revocation_bytes(0) && memcmp(got, want, len) == 0);
	CHECK_EQ_INT(revocation_verify(&rl, want, len, pk1), 0);
	CHECK(rl.n == 0);

	o = json_object_get(j, "partner");
	pi.programme_id = intf(o, "programme_id");
	pi.partner_id = intf(o, "partner_id");
	hexf(o, "partner_pub", pp, 32);
	memcpy(pi.partner_pk, pp, 32);
	pi.not_before = intf(o, "not_before");
	pi.not_after = intf(o, "not_after");
	CHECK_EQ_INT(partner_sign(got, sk1, &pi), 0);
	CHECK_EQ_INT(hexf(o, "statement", want, sizeof(want)), PARTNER_BYTES);
	CHECK(memcmp(got, want, PARTNER_BYTES) == 0);
	json_array_foreach(json_object_get(o, "valid_at"), i, v) {
		memset(&pi, 0, sizeof(pi));
		CHECK_EQ_INT(partner_verify(&pi, want, pk1,
		    json_integer_value(v)), 0);
		CHECK(pi.partner_id == 7 && memcmp(pi.partner_pk, pp, 32) == 0);
	}
	json_array_foreach(json_object_get(o, "invalid_at"), i, v)
		CHECK_EQ_INT(partner_verify(NULL, want, pk1,
		    json_integer_value(v)), OFR_E_CRYPTO);
	CHECK_EQ_INT(partner_verify(NULL, want, pk2, 1750000000),
	    OFR_E_BAD_SIGNATURE);

	json_array_foreach(json_object_get(j, "fingerprints"), i, v) {
		hexf(v, "key", pp, 32);
		key_fingerprint(fpr, pp);
		CHECK(strcmp(fpr, json_string_value(json_object_get(v,
		    "fingerprint"))) == 0);
	}
	json_decref(j);
}

int
main(void)
{
	char src[] = __FILE__;

	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/../../proto/vectors", dirname(src));
	test_hkdf();
	test_x3dh();
	test_ratchet();
	test_pad();
	test_envelope();
	test_envelope_v2();
	test_safety();
	test_cert();
	test_statements();
	return check_done();
}
