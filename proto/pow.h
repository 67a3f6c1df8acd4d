/*
 * pow.h: the proof of work of intake (PROTOCOL.md, "Proof of work";
 * CRYPTO.md, "Proof of work"). A proof for a purpose (a new client
 * account, a case request), a challenge nonce and an identity key is a
 * number pow such that BLAKE2b-256(context || nonce || key || pow as 8
 * bytes little-endian) begins with at least bits zero bits. Checking one
 * costs one hash; finding one about 2^bits. Shared by the server (which
 * checks), the CLI (which solves) and the benchmark.
 */
#ifndef OFFRAMP_PROTO_POW_H
#define OFFRAMP_PROTO_POW_H

#include <stdint.h>

#include "proto/ocrypto.h"

/* No difficulty above this is asked, or paid: 2^28 hashes are minutes of a
 * phone's time; a client given more by a server (a challenge out of
 * bounds) refuses it at once instead of searching for days. */
#define OFR_POW_BITS_MAX	28
#define OFR_POW_MAX		9007199254740991LL	/* 2^53 - 1: a JSON-safe integer */

enum ofr_pow_purpose {
	OFR_POW_LOGIN = 0,	/* a new client account: "offramp.pow.login" */
	OFR_POW_CASE = 1,	/* a case request: "offramp.pow.case" */
};

/* The zero bits that begin the hash of pow for purpose, nonce and key
 * (0..256). */
int ofr_pow_zeros(enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES],
    uint64_t pow);

/* 1 if pow is a proof of at least bits zero bits, else 0. bits 0 always
 * passes. */
int ofr_pow_check(enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES],
    uint64_t pow, int bits);

/* Tries the numbers start, start+1, ... for at most tries of them; 0 with
 * *pow a proof of bits, or -1 when none was found (start again from
 * start + tries). */
int ofr_pow_search(enum ofr_pow_purpose purpose,
    const uint8_t nonce[OFR_CHALLENGE_BYTES], const uint8_t key[OFR_PK_BYTES],
    int bits, uint64_t start, uint64_t tries, uint64_t *pow);

#endif
