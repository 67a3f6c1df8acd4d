/*
 * csprng.c: random bytes for the session crypto, with the test-only hook of
 * csprng.h. The normal path is randombytes_buf and nothing else.
 */
#include <sodium.h>

#include "proto/csprng.h"

static csprng_fn test_fn;
static void *test_ctx;

void
csprng_buf(uint8_t *buf, size_t len)
{
	if (test_fn != NULL)
		test_fn(test_ctx, buf, len);
	else
		randombytes_buf(buf, len);
}

void
csprng_set_test_hook(csprng_fn fn, void *ctx)
{
	test_fn = fn;
	test_ctx = ctx;
}
