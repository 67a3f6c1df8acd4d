/*
 * pad.h: padding of plaintexts before encryption, so that every ciphertext
 * has one of two sizes on the wire (CRYPTO.md, "Padding"). ISO/IEC 7816-4
 * style: the plaintext, one 0x80 byte, then zero bytes up to the padded
 * size. The caller says how many bytes it adds around the padded plaintext
 * (its overhead: header, nonce, tag), and the padded size is the wire size
 * less that overhead, so that a first ratchet message (with its X3DH
 * fields), a later one and a case note all come out the same size:
 * PAD_WIRE_SHORT for a plaintext of at most PAD_SHORT_PLAINTEXT_MAX bytes,
 * PAD_WIRE_LONG for a longer one up to PAD_PLAINTEXT_MAX. The two limits
 * are those of the largest overhead (a first message) whatever the
 * overhead, so the size class tells only whether the plaintext is longer
 * than PAD_SHORT_PLAINTEXT_MAX.
 *
 * Unpadding also reads the buckets written before (64, 256, 1024, 4096,
 * 16128: the smallest that holds len + 1, whatever the overhead), for
 * messages in flight and notes stored then; they are never written.
 */
#ifndef OFFRAMP_PROTO_PAD_H
#define OFFRAMP_PROTO_PAD_H

#include <stddef.h>
#include <stdint.h>

#define PAD_WIRE_SHORT		1024	/* wire size of a short text */
#define PAD_WIRE_LONG		16282	/* of a long one: RATCHET_MSG_MAX */
/* The largest overhead: a first ratchet message, 42 + 72 + 24 + 16
 * (ratchet.h checks it). */
#define PAD_OVERHEAD_MAX	154
/* 1024 - 154 - 1 = 869: the longest plaintext sent short */
#define PAD_SHORT_PLAINTEXT_MAX	(PAD_WIRE_SHORT - PAD_OVERHEAD_MAX - 1)
/* 16282 - 154 - 1 = 16127: the longest plaintext */
#define PAD_PLAINTEXT_MAX	(PAD_WIRE_LONG - PAD_OVERHEAD_MAX - 1)
/* A buffer that holds any padded plaintext, whatever the overhead. */
#define PAD_MAX_BYTES		PAD_WIRE_LONG
/* The buckets before fixed sizes, read only. */
#define PAD_OLD_BUCKETS		5
#define PAD_OLD_MIN_BYTES	64	/* the shortest padded size read */
#define PAD_OLD_MAX_BYTES	16128

#if PAD_WIRE_LONG > 16384
#error "a long message is over PROTOCOL.md's 16384-byte copy limit"
#endif
#if PAD_SHORT_PLAINTEXT_MAX < PAD_OLD_MIN_BYTES
#error "the short size holds less than a report or a short text"
#endif
#if PAD_PLAINTEXT_MAX != PAD_OLD_MAX_BYTES - 1
#error "the longest plaintext changed: ENVELOPE_TEXT_MAX with it"
#endif

/* The padded size of a len-byte plaintext under overhead bytes (wire size
 * less overhead), or 0 when len is over PAD_PLAINTEXT_MAX or overhead over
 * PAD_OVERHEAD_MAX. */
size_t pad_size(size_t len, size_t overhead);

/* Writes pt (len bytes) padded for overhead into out (capacity cap),
 * *out_len the padded size. 0, OFR_E_TOO_BIG when len is over
 * PAD_PLAINTEXT_MAX, or OFR_E_USAGE when cap is short or overhead over
 * PAD_OVERHEAD_MAX. out and pt may be the same buffer. */
int pad(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *pt,
    size_t len, size_t overhead);

/* The plaintext length of the padded buf (len bytes, sealed with overhead
 * bytes around it), into *pt_len. 0 when buf is 0x80 then only zeros after
 * the plaintext and len is the size pad() gives that plaintext under
 * overhead, or its old bucket (the smallest of 64, 256, 1024, 4096, 16128
 * over the plaintext); OFR_E_CRYPTO otherwise. */
int unpad(size_t *pt_len, const uint8_t *buf, size_t len, size_t overhead);

#endif
