/*
 * fixture.h: a conversation made the same way every time (fixed keys and
 * a deterministic csprng hook), shared by the ratchet target, which
 * decrypts against Bob's session, and by gen_corpus, which writes its
 * messages as seeds.
 */
#ifndef OFFRAMP_TESTS_FUZZ_FIXTURE_H
#define OFFRAMP_TESTS_FUZZ_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ratchet.h"
#include "proto/x3dh.h"

#define FIX_MSGS	6
#define FIX_NOW		1750000000	/* the time the fixture lives at */

struct fixture {
	uint8_t alice_sk[OFR_SK_BYTES], bob_sk[OFR_SK_BYTES];
	uint8_t bundle[X3DH_BUNDLE_MAX_BYTES];	/* Bob's, with one OPK */
	size_t bundle_len;
	/* Alice's messages to Bob: [0] the first (X3DH fields), [1] a
	 * second before any reply, [2] a long one, then after Bob's reply
	 * (a DH step) [3], [4] and [5]; Bob has decrypted [0] only. */
	uint8_t msg[FIX_MSGS][RATCHET_MSG_MAX];
	size_t msg_len[FIX_MSGS];
	struct ratchet *alice, *bob;
};

/* Makes the conversation (sets and then removes the csprng hook). 0, or
 * -1 when a step fails. Free with fixture_free. */
int fixture_make(struct fixture *f);
void fixture_free(struct fixture *f);

/* The deterministic csprng hook: the same bytes after every reset. */
void fixture_random_reset(void);
void fixture_random(void *ctx, uint8_t *buf, size_t len);

#endif
