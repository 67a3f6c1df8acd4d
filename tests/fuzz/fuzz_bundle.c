/*
 * fuzz_bundle.c: the prekey bundle decoder (proto/x3dh.c), as the server
 * runs it on an upload and a client on a fetched bundle: decode, verify
 * and, when it verifies, the X3DH agreement a client starts with it (the
 * one-time keys are not signed: any value can reach it). A bundle that
 * decodes must encode to the same bytes. The seeds are signed bundles
 * with 0, 1 and several one-time keys.
 */
#include <string.h>

#include <sodium.h>

#include "proto/csprng.h"
#include "proto/err.h"
#include "proto/x3dh.h"
#include "fuzz.h"

/* The same "random" bytes for every run: a crash must replay. */
static void
fixed_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t my_pk[OFR_PK_BYTES], my_sk[OFR_SK_BYTES];
	static int ready;
	static struct x3dh_bundle b;
	static uint8_t out[X3DH_BUNDLE_MAX_BYTES];
	uint8_t sk[X3DH_SK_BYTES], ad[X3DH_AD_BYTES];
	struct x3dh_init init;
	size_t len = 0;
	int rc;

	if (!ready) {
		uint8_t seed[32] = { 1 };

		FUZZ_CHECK(sodium_init() >= 0);
		crypto_sign_seed_keypair(my_pk, my_sk, seed);
		csprng_set_test_hook(fixed_random, NULL);
		ready = 1;
	}
	rc = x3dh_bundle_decode(&b, data, size);
	if (rc != 0) {
		FUZZ_CHECK(rc == OFR_E_BAD_FIELD);
		FUZZ_CHECK(x3dh_bundle_verify(NULL, data, size, NULL) ==
		    OFR_E_BAD_FIELD);
		return 0;
	}
	FUZZ_CHECK(b.n_opk <= X3DH_OPK_MAX && x3dh_bundle_size(&b) == size);
	FUZZ_CHECK(x3dh_bundle_encode(out, sizeof(out), &len, &b) == 0);
	FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
	rc = x3dh_bundle_verify(&b, data, size, size > 1 ? data + 1 : NULL);
	FUZZ_CHECK(rc == 0 || rc == OFR_E_BAD_SIGNATURE);
	if (rc != 0)
		return 0;
	rc = x3dh_initiate(sk, ad, &init, my_sk, &b);
	FUZZ_CHECK(rc == 0 || rc == OFR_E_CRYPTO);
	if (rc == 0)
		FUZZ_CHECK(init.spk_id == b.spk_id &&
		    init.has_opk == (b.n_opk > 0) &&
		    memcmp(ad + OFR_PK_BYTES, b.ik, OFR_PK_BYTES) == 0);
	return 0;
}
