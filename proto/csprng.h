/*
 * csprng.h: the one source of random bytes of the end-to-end session code
 * (x3dh.c, ratchet.c). It is libsodium's randombytes_buf; tests and the
 * vector generator can replace it with a deterministic source so that key
 * generation, and so whole conversations, are reproducible. Nothing outside
 * tests may set the hook.
 */
#ifndef OFFRAMP_PROTO_CSPRNG_H
#define OFFRAMP_PROTO_CSPRNG_H

#include <stddef.h>
#include <stdint.h>

/* A deterministic source for tests: fills buf with len bytes. */
typedef void (*csprng_fn)(void *ctx, uint8_t *buf, size_t len);

/* Fills buf with len random bytes (from the test hook when one is set). */
void csprng_buf(uint8_t *buf, size_t len);

/*
 * FOR TESTS ONLY. Makes csprng_buf call fn(ctx, ...) instead of the system
 * generator; fn NULL restores the system generator. Not thread-safe: set it
 * before any other thread uses the library.
 */
void csprng_set_test_hook(csprng_fn fn, void *ctx);

#endif
