/*
 * pad.h: padding of message plaintexts to size buckets before encryption,
 * so that a ciphertext's length tells only its bucket (CRYPTO.md,
 * "Padding"). ISO/IEC 7816-4 style: the plaintext, one 0x80 byte, then zero
 * bytes up to the smallest bucket that holds len + 1 bytes. Buckets: 64,
 * 256, 1024, 4096 and 16128 bytes (the last keeps the largest encrypted
 * message under the 16384-byte ciphertext limit of PROTOCOL.md).
 */
#ifndef OFFRAMP_PROTO_PAD_H
#define OFFRAMP_PROTO_PAD_H

#include <stddef.h>
#include <stdint.h>

#define PAD_BUCKETS		5
#define PAD_MAX_BYTES		16128			/* the largest bucket */
#define PAD_PLAINTEXT_MAX	(PAD_MAX_BYTES - 1)	/* longest plaintext */

/* The padded size of a len-byte plaintext, or 0 when len is over
 * PAD_PLAINTEXT_MAX. */
size_t pad_size(size_t len);

/* Writes pt (len bytes) padded into out (capacity cap), *out_len the
 * padded size. 0, OFR_E_TOO_BIG when len is over PAD_PLAINTEXT_MAX, or
 * OFR_E_USAGE when cap is short. out and pt may be the same buffer. */
int pad(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *pt,
    size_t len);

/* The plaintext length of the padded buf (len bytes), into *pt_len. 0, or
 * OFR_E_CRYPTO when len is not a bucket size or the padding is not
 * 0x80 followed by only zeros. */
int unpad(size_t *pt_len, const uint8_t *buf, size_t len);

#endif
