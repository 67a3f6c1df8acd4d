/*
 * test_cli_replay.c: replayed first messages in the CLI's end-to-end
 * sessions (client-cli/e2e.c, e2e_open; CRYPTO.md "Replayed first
 * messages"). A first message without a one-time prekey makes a responder
 * session once; while that session lives a replay goes to it and fails;
 * once it is gone (dropped, and the store saved and loaded again) the
 * remembered (spk_id, EKa) refuses the replay instead of making a new
 * session. A new first message still makes one, and a one-time prekey is
 * still used once. No network: the responder only reads its store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "cli.h"
#include "e2e.h"
#include "keyfile.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "proto/ratchet.h"
#include "proto/x3dh.h"

#define PASS	"replay passphrase"

static char dir[256], path[300];

/* Alice's first message to the store's identity over its signed prekey
 * (and one-time prekey opk, when not NULL): text into msg (*len). */
static void
first_message(struct keyfile *bob, const uint8_t alice_sk[OFR_SK_BYTES],
    const struct ks_opk *opk, const char *text, uint8_t *msg, size_t *len)
{
	struct ks_state *s = keyfile_state(bob);
	struct x3dh_bundle b;
	struct x3dh_init init;
	struct ratchet *r = ratchet_new();
	uint8_t sk[X3DH_SK_BYTES], ad[X3DH_AD_BYTES];

	CHECK(r != NULL);
	memset(&b, 0, sizeof(b));
	memcpy(b.ik, keyfile_pk(bob), OFR_PK_BYTES);
	b.spk_id = s->spk[0].id;
	memcpy(b.spk, s->spk[0].pk, X3DH_KEY_BYTES);
	x3dh_spk_sign(b.spk_sig, keyfile_sk(bob), b.spk_id, b.spk);
	if (opk != NULL) {
		b.n_opk = 1;
		b.opk[0].id = opk->id;
		crypto_scalarmult_base(b.opk[0].pk, opk->sk);
	}
	CHECK_EQ_INT(x3dh_initiate(sk, ad, &init, alice_sk, &b), 0);
	CHECK_EQ_INT(ratchet_init_initiator(r, sk, ad, b.spk, &init), 0);
	CHECK_EQ_INT(ratchet_encrypt(r, msg, RATCHET_MSG_MAX, len,
	    (const uint8_t *)text, strlen(text)), 0);
	sodium_memzero(sk, sizeof(sk));
	ratchet_free(r);
}

static enum e2e_why last_why;	/* of the last opens_as that failed */

/* e2e_open as cli does; 1 when it gave exactly text. */
static int
opens_as(struct cli *cli, const uint8_t from[OFR_PK_BYTES],
    const uint8_t *msg, size_t len, const char *text)
{
	size_t n = 0;
	uint8_t *pt = NULL;
	int rc = e2e_open(cli, from, msg, len, &pt, &n, &last_why);
	int ok = rc == 0 && pt != NULL && n == strlen(text) &&
	    memcmp(pt, text, n) == 0;

	CHECK(rc == 0 ? pt != NULL : pt == NULL);

	if (pt != NULL) {
		sodium_memzero(pt, n);
		free(pt);
	}
	return ok;
}

static void
drop_sessions(struct ks_state *s)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		ratchet_free(s->sessions[i].r);
	memset(s->sessions, 0, s->n_sessions * sizeof(s->sessions[0]));
	s->n_sessions = 0;
}

static void
reload(struct cli *cli)
{
	CHECK_EQ_INT(keyfile_save(cli->key, cli->key_path), 0);
	keyfile_free(cli->key);
	cli->key = NULL;
	CHECK_EQ_INT(keyfile_load(&cli->key, cli->key_path, PASS,
	    strlen(PASS)), 0);
}

int
main(void)
{
	char base[] = "/tmp/test_cli_replay.XXXXXX";
	struct cli cli;
	struct ks_state *s;
	struct ks_opk opk;
	uint8_t alice_pk[OFR_PK_BYTES], alice_sk[OFR_SK_BYTES];
	uint8_t *m1 = malloc(RATCHET_MSG_MAX), *m2 = malloc(RATCHET_MSG_MAX);
	uint8_t *m3 = malloc(RATCHET_MSG_MAX);
	size_t l1 = 0, l2 = 0, l3 = 0;

	if (ocrypto_init() != 0 || mkdtemp(base) == NULL || m1 == NULL ||
	    m2 == NULL || m3 == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s", base);
	snprintf(path, sizeof(path), "%s/bob", dir);
	memset(&cli, 0, sizeof(cli));
	cli.key_path = path;
	cli.lock_fd = -1;
	CHECK_EQ_INT(keyfile_create(&cli.key, path, PASS, strlen(PASS),
	    KEY_KDF_MIN), 0);
	if (cli.key == NULL)
		return check_done();
	s = keyfile_state(cli.key);
	s->n_spk = 1;
	s->next_spk_id = 5;
	s->spk[0].id = 5;
	s->spk[0].created = 1700000000;
	x3dh_keypair(s->spk[0].pk, s->spk[0].sk);
	crypto_sign_keypair(alice_pk, alice_sk);

	/* a first message without a one-time prekey makes a session */
	first_message(cli.key, alice_sk, NULL, "first", m1, &l1);
	CHECK(opens_as(&cli, alice_pk, m1, l1, "first"));
	CHECK_EQ_INT(s->n_sessions, 1);
	CHECK_EQ_INT(s->n_seen, 1);
	/* while the session lives, the replay goes to it and fails */
	CHECK(!opens_as(&cli, alice_pk, m1, l1, "first"));
	CHECK_EQ_INT(last_why, E2E_REPLAY);
	CHECK_EQ_INT(s->n_sessions, 1);
	/* damaged, with a counter already used: still a replay */
	m1[l1 - 1] ^= 1;
	CHECK(!opens_as(&cli, alice_pk, m1, l1, "first"));
	CHECK_EQ_INT(last_why, E2E_REPLAY);	/* its counter is used */
	m1[l1 - 1] ^= 1;
	m1[10] ^= 1;		/* another ratchet key: an unknown chain */
	CHECK(!opens_as(&cli, alice_pk, m1, l1, "first"));
	CHECK_EQ_INT(last_why, E2E_CRYPTO);
	m1[10] ^= 1;
	CHECK(!opens_as(&cli, alice_pk, m1, 20, "first"));
	CHECK_EQ_INT(last_why, E2E_MALFORMED);

	/* the session gone (dropped), the store saved and loaded: the
	 * signed prekey is still there, yet the replay makes no session */
	drop_sessions(s);
	reload(&cli);
	if (cli.key == NULL)
		return check_done();
	s = keyfile_state(cli.key);
	CHECK_EQ_INT(s->n_sessions, 0);
	CHECK_EQ_INT(s->n_seen, 1);
	CHECK(!opens_as(&cli, alice_pk, m1, l1, "first"));
	CHECK_EQ_INT(last_why, E2E_REPLAY);
	CHECK_EQ_INT(s->n_sessions, 0);
	CHECK_EQ_INT(s->n_seen, 1);

	/* a new first message (a new EKa) still makes a session */
	first_message(cli.key, alice_sk, NULL, "second", m2, &l2);
	CHECK(opens_as(&cli, alice_pk, m2, l2, "second"));
	CHECK_EQ_INT(s->n_sessions, 1);
	CHECK_EQ_INT(s->n_seen, 2);

	/* with a one-time prekey: used once, remembered, refused after */
	s->n_opk = 1;
	s->next_opk_id = 9;
	s->opk[0].id = 9;
	{
		uint8_t pk[X3DH_KEY_BYTES];	/* made again from the secret */

		x3dh_keypair(pk, s->opk[0].sk);
	}
	opk = s->opk[0];
	first_message(cli.key, alice_sk, &opk, "third", m3, &l3);
	CHECK(opens_as(&cli, alice_pk, m3, l3, "third"));
	CHECK_EQ_INT(s->n_opk, 0);
	CHECK_EQ_INT(s->n_seen, 3);
	drop_sessions(s);
	CHECK(!opens_as(&cli, alice_pk, m3, l3, "third"));
	CHECK(!opens_as(&cli, alice_pk, m2, l2, "second"));
	CHECK_EQ_INT(s->n_sessions, 0);

	/* the records go with the signed prekey they name */
	s->spk[0].id = 6;
	CHECK_EQ_INT(keyfile_seen_prune(cli.key), 3);
	CHECK_EQ_INT(s->n_seen, 0);
	/* and then a first message to it has no session to go to */
	CHECK(!opens_as(&cli, alice_pk, m2, l2, "second"));
	CHECK_EQ_INT(last_why, E2E_NO_SESSION);

	sodium_memzero(alice_sk, sizeof(alice_sk));
	sodium_memzero(&opk, sizeof(opk));
	keyfile_free(cli.key);
	free(m1);
	free(m2);
	free(m3);
	unlink(path);
	rmdir(dir);
	return check_done();
}
