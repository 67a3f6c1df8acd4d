/*
 * fuzz_ratchet.c: the ratchet message decoder (proto/ratchet.c): the wire
 * format parser, the replay check and the decryption, against Bob's
 * session of the fixed conversation (fixture.h), fresh for every input. A
 * message that does not authenticate must leave the session as it was.
 * The seeds are Alice's messages to Bob: the first (a replay now), one of
 * the same chain, a long one, and three of the chain after a DH step.
 */
#include <string.h>

#include <sodium.h>

#include "proto/csprng.h"
#include "proto/err.h"
#include "proto/ratchet.h"
#include "fixture.h"
#include "fuzz.h"

static uint8_t saved[RATCHET_STATE_MAX_BYTES], after[RATCHET_STATE_MAX_BYTES];
static size_t saved_len;
static struct ratchet *r;

static void
setup(void)
{
	static struct fixture f;

	FUZZ_CHECK(fixture_make(&f) == 0);
	FUZZ_CHECK(ratchet_state_save(f.bob, saved, sizeof(saved),
	    &saved_len) == 0);
	fixture_free(&f);
	FUZZ_CHECK((r = ratchet_new()) != NULL);
	csprng_set_test_hook(fixture_random, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pt[RATCHET_PT_MAX];
	struct ratchet_msg m;
	size_t n = 0, len = 0;
	int rc, used;

	if (r == NULL)
		setup();
	rc = ratchet_msg_parse(&m, data, size);
	FUZZ_CHECK(rc == 0 || rc == OFR_E_BAD_FIELD);
	if (rc == 0) {
		FUZZ_CHECK(m.hdr_len == (m.has_init ? RATCHET_HDR_BYTES +
		    RATCHET_INIT_BYTES : RATCHET_HDR_BYTES));
		FUZZ_CHECK(m.ct == data + m.hdr_len + RATCHET_NONCE_BYTES &&
		    m.hdr_len + RATCHET_NONCE_BYTES + m.ct_len == size);
		FUZZ_CHECK(size <= RATCHET_MSG_MAX &&
		    m.ct_len >= RATCHET_TAG_BYTES);
	}
	FUZZ_CHECK(ratchet_state_load(r, saved, saved_len, FIX_NOW) == 0);
	fixture_random_reset();
	used = ratchet_msg_used(r, data, size);
	FUZZ_CHECK(used == 0 || rc == 0);
	rc = ratchet_decrypt(r, pt, sizeof(pt), &n, data, size, FIX_NOW);
	FUZZ_CHECK(rc == 0 || rc == OFR_E_CRYPTO || rc == OFR_E_LIMIT);
	if (rc == 0) {
		FUZZ_CHECK(!used && n <= RATCHET_PT_MAX);
		/* Used once: the same message again is a replay. */
		FUZZ_CHECK(ratchet_msg_used(r, data, size) == 1);
		FUZZ_CHECK(ratchet_decrypt(r, pt, sizeof(pt), &n, data, size,
		    FIX_NOW) == OFR_E_CRYPTO);
	} else {
		FUZZ_CHECK(ratchet_state_save(r, after, sizeof(after),
		    &len) == 0);
		FUZZ_CHECK(len == saved_len &&
		    memcmp(after, saved, len) == 0);
	}
	return 0;
}
