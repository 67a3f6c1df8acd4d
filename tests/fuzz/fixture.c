/*
 * fixture.c: the fixed conversation of fixture.h, made with the real
 * x3dh.c and ratchet.c.
 */
#include <string.h>

#include <sodium.h>

#include "proto/csprng.h"
#include "fixture.h"

static uint64_t draws;

void
fixture_random_reset(void)
{
	draws = 0;
}

void
fixture_random(void *ctx, uint8_t *buf, size_t len)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	(void)ctx;
	memcpy(seed, &draws, sizeof(draws));
	draws++;
	randombytes_buf_deterministic(buf, len, seed);
}

static void
seed_keypair(uint8_t pk[OFR_PK_BYTES], uint8_t sk[OFR_SK_BYTES], uint8_t b)
{
	uint8_t seed[32];

	memset(seed, b, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

static const char *const texts[FIX_MSGS] = {
	"hello, is anyone there?", "a second one", NULL,
	"after the reply", "lost on the way", "the last one",
};

int
fixture_make(struct fixture *f)
{
	struct x3dh_bundle b;
	struct ratchet_msg m;
	struct x3dh_init init;
	uint8_t alice_pk[OFR_PK_BYTES], spk_sk[X3DH_KEY_BYTES];
	uint8_t opk_sk[X3DH_KEY_BYTES], sk[X3DH_SK_BYTES], ad[X3DH_AD_BYTES];
	static uint8_t pt[RATCHET_PT_MAX], reply[RATCHET_MSG_MAX];
	size_t n, reply_len;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if (sodium_init() < 0)
		return -1;
	fixture_random_reset();
	csprng_set_test_hook(fixture_random, NULL);
	seed_keypair(alice_pk, f->alice_sk, 0xa1);
	memset(&b, 0, sizeof(b));
	seed_keypair(b.ik, f->bob_sk, 0xb0);
	b.spk_id = 3;
	x3dh_keypair(b.spk, spk_sk);
	x3dh_spk_sign(b.spk_sig, f->bob_sk, b.spk_id, b.spk);
	b.n_opk = 1;
	b.opk[0].id = 7;
	x3dh_keypair(b.opk[0].pk, opk_sk);
	if (x3dh_bundle_encode(f->bundle, sizeof(f->bundle), &f->bundle_len,
	    &b) != 0)
		goto out;
	if ((f->alice = ratchet_new()) == NULL ||
	    (f->bob = ratchet_new()) == NULL)
		goto out;
	/* Alice starts; her first two messages carry the X3DH fields. */
	if (x3dh_initiate(sk, ad, &init, f->alice_sk, &b) != 0 ||
	    ratchet_init_initiator(f->alice, sk, ad, b.spk, &init) != 0)
		goto out;
	memset(pt, 'x', 2000);
	for (int i = 0; i < 3; i++)
		if (ratchet_encrypt(f->alice, f->msg[i], RATCHET_MSG_MAX,
		    &f->msg_len[i], texts[i] ? (const uint8_t *)texts[i] : pt,
		    texts[i] ? strlen(texts[i]) : 2000) != 0)
			goto out;
	/* Bob answers the first. */
	if (ratchet_msg_parse(&m, f->msg[0], f->msg_len[0]) != 0 ||
	    !m.has_init ||
	    x3dh_respond(sk, ad, &m.init, f->bob_sk, spk_sk, opk_sk) != 0 ||
	    ratchet_init_responder(f->bob, sk, ad, &m.init, b.spk,
	    spk_sk) != 0 ||
	    ratchet_decrypt(f->bob, pt, sizeof(pt), &n, f->msg[0],
	    f->msg_len[0], FIX_NOW) != 0 ||
	    ratchet_encrypt(f->bob, reply, sizeof(reply), &reply_len,
	    (const uint8_t *)"yes", 3) != 0 ||
	    ratchet_decrypt(f->alice, pt, sizeof(pt), &n, reply, reply_len,
	    FIX_NOW) != 0)
		goto out;
	/* Alice's next chain. */
	for (int i = 3; i < FIX_MSGS; i++)
		if (ratchet_encrypt(f->alice, f->msg[i], RATCHET_MSG_MAX,
		    &f->msg_len[i], (const uint8_t *)texts[i],
		    strlen(texts[i])) != 0)
			goto out;
	rc = 0;
out:
	csprng_set_test_hook(NULL, NULL);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(spk_sk, sizeof(spk_sk));
	sodium_memzero(opk_sk, sizeof(opk_sk));
	return rc;
}

void
fixture_free(struct fixture *f)
{
	ratchet_free(f->alice);
	ratchet_free(f->bob);
	f->alice = f->bob = NULL;
}
