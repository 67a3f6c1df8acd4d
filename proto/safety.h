/*
 * safety.h: safety numbers, which two people compare out of band to know
 * that no one sits between their identity keys (CRYPTO.md, "Safety
 * numbers"). Each Ed25519 identity public key gives 30 digits:
 *   h = BLAKE2b-512(SAFETY_CONTEXT || pk), then SAFETY_ITERATIONS times
 *   h = BLAKE2b-512(h || pk); the first 30 bytes of h in six 5-byte chunks,
 *   each a big-endian integer mod 100000 as 5 digits.
 * The number is the 30 digits of the lesser key (memcmp order) then those
 * of the other, shown as 12 groups of 5 digits with single spaces: the
 * same from either side.
 */
#ifndef OFFRAMP_PROTO_SAFETY_H
#define OFFRAMP_PROTO_SAFETY_H

#include <stdint.h>

#include "proto/ocrypto.h"

#define SAFETY_CONTEXT		"offramp-safety-v1"	/* 17 bytes, no NUL */
#define SAFETY_CONTEXT_BYTES	17
#define SAFETY_ITERATIONS	5200
#define SAFETY_DIGITS		60
#define SAFETY_STR_BYTES	(SAFETY_DIGITS + 11 + 1)	/* 72, with NUL */

/* The safety number of identities a and b into out, NUL-terminated;
 * safety_number(a, b) and safety_number(b, a) are equal. Never fails. */
void safety_number(char out[SAFETY_STR_BYTES], const uint8_t a[OFR_PK_BYTES],
    const uint8_t b[OFR_PK_BYTES]);

/*
 * A key's fingerprint, for people to compare a programme's or a
 * counsellor's key with what was published or told: the first 10 bytes
 * of BLAKE2b-256(FPR_CONTEXT || key) in lowercase hex, five groups of
 * four ("1a2b 3c4d 5e6f 7a8b 9c0d"), NUL-terminated. Never fails.
 */
#define FPR_CONTEXT		"offramp-fingerprint-v1"	/* 22 bytes */
#define FPR_CONTEXT_BYTES	22
#define FPR_STR_BYTES		25
void key_fingerprint(char out[FPR_STR_BYTES], const uint8_t key[OFR_PK_BYTES]);
/*
 * Reads a safety number as a person types it: 60 digits, any spaces
 * between them. 0 with out the canonical form (as safety_number writes
 * it), or OFR_E_USAGE.
 */
int safety_parse(char out[SAFETY_STR_BYTES], const char *in);

#endif
