/*
 * test_pow.c: proto/pow.c, the intake proof of work: a fixed vector
 * (client-web/test/proto_pow.test.js checks the same numbers), the
 * contexts kept apart, the bounds, and that a search finds what the
 * check takes.
 */
#include <sodium.h>

#include "check.h"
#include "proto/pow.h"

int
main(void)
{
	uint8_t nonce[OFR_CHALLENGE_BYTES], key[OFR_PK_BYTES];
	uint64_t pow = 0;

	if (sodium_init() < 0)
		return 1;
	for (int i = 0; i < 32; i++) {
		nonce[i] = (uint8_t)i;
		key[i] = (uint8_t)(32 + i);
	}
	/* the vector: the first proofs of 12 bits from 0 */
	CHECK(ofr_pow_search(OFR_POW_LOGIN, nonce, key, 12, 0, 1u << 20,
	    &pow) == 0);
	CHECK_EQ_INT(pow, 2110);
	CHECK_EQ_INT(ofr_pow_zeros(OFR_POW_LOGIN, nonce, key, 2110), 15);
	CHECK(ofr_pow_search(OFR_POW_CASE, nonce, key, 12, 0, 1u << 20,
	    &pow) == 0);
	CHECK_EQ_INT(pow, 7656);
	CHECK_EQ_INT(ofr_pow_zeros(OFR_POW_LOGIN, nonce, key, 0), 1);

	/* checks */
	CHECK(ofr_pow_check(OFR_POW_LOGIN, nonce, key, 2110, 15));
	CHECK(!ofr_pow_check(OFR_POW_LOGIN, nonce, key, 2110, 16));
	CHECK(ofr_pow_check(OFR_POW_CASE, nonce, key, 7656, 12));
	/* a login proof is no case proof, and the other way round */
	CHECK(ofr_pow_zeros(OFR_POW_CASE, nonce, key, 2110) < 12);
	CHECK(ofr_pow_zeros(OFR_POW_LOGIN, nonce, key, 7656) < 12);
	/* bound to the nonce and the key */
	nonce[0] ^= 1;
	CHECK(!ofr_pow_check(OFR_POW_LOGIN, nonce, key, 2110, 12) ||
	    ofr_pow_zeros(OFR_POW_LOGIN, nonce, key, 2110) >= 12);
	nonce[0] ^= 1;
	/* no difficulty: anything; past 2^53 - 1: nothing */
	CHECK(ofr_pow_check(OFR_POW_CASE, nonce, key, 0, 0));
	CHECK(!ofr_pow_check(OFR_POW_CASE, nonce, key,
	    (uint64_t)OFR_POW_MAX + 1, 1));
	/* a search that gives up says so */
	CHECK(ofr_pow_search(OFR_POW_LOGIN, nonce, key, 40, 0, 100,
	    &pow) == -1);
	return check_done();
}
