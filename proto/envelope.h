/*
 * envelope.h: what a message's plaintext carries (CRYPTO.md, "Plaintext
 * envelope"): version || kind || body, inside the padding (pad.h), so a
 * client can tell its peer something that is not text the user typed.
 * Kinds: text (the body is the UTF-8 text), report (the body says how
 * many of the peer's messages the sender could not read and why; a new
 * session has begun) and nothing (no body; filler for the copies of a
 * message that concerns another participant). No clock, no memory: it
 * only writes and checks bytes.
 */
#ifndef OFFRAMP_PROTO_ENVELOPE_H
#define OFFRAMP_PROTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pad.h"

#define ENVELOPE_VERSION	1
#define ENVELOPE_HDR_BYTES	2	/* version, kind */
/* the longest text: 16125 bytes */
#define ENVELOPE_TEXT_MAX	(PAD_PLAINTEXT_MAX - ENVELOPE_HDR_BYTES)
#define ENVELOPE_REPORT_BYTES	(ENVELOPE_HDR_BYTES + 4 + 1)	/* 7 */
#define ENVELOPE_MAX_BYTES	PAD_PLAINTEXT_MAX

enum envelope_kind {
	ENVELOPE_TEXT = 1,
	ENVELOPE_REPORT = 2,
	ENVELOPE_NOTHING = 3,
};

/* Why a report's messages could not be read; a client shows others as
 * "another reason". */
enum envelope_reason {
	ENVELOPE_R_LIMIT = 1,	/* too many skipped messages */
	ENVELOPE_R_NO_SESSION = 2,	/* no session (state lost, keys gone) */
	ENVELOPE_R_CRYPTO = 3,	/* did not decrypt: the session is broken */
};

/* A parsed envelope: text points into the buffer given to envelope_parse. */
struct envelope {
	uint8_t		 kind;		/* enum envelope_kind */
	const uint8_t	*text;		/* ENVELOPE_TEXT */
	size_t		 text_len;
	uint32_t	 count;		/* ENVELOPE_REPORT: 1.. */
	uint8_t		 reason;	/* ENVELOPE_REPORT: 1..255 */
};

/* Writes a text envelope of text (len bytes) into out (capacity cap),
 * *out_len its size. 0, OFR_E_TOO_BIG when len is over ENVELOPE_TEXT_MAX,
 * OFR_E_USAGE when cap is short. */
int envelope_text(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t *text, size_t len);

/* Writes a report of count (1..) messages not read for reason (1..255)
 * into out, *out_len its size (ENVELOPE_REPORT_BYTES). 0, or OFR_E_USAGE
 * when cap is short, count or reason is 0. */
int envelope_report(uint8_t *out, size_t cap, size_t *out_len,
    uint32_t count, uint8_t reason);

/* Writes an envelope of kind nothing into out; as envelope_report. */
int envelope_nothing(uint8_t *out, size_t cap, size_t *out_len);

/* Parses the plaintext pt (len bytes) into e. 0, or OFR_E_BAD_FIELD when
 * it is not an envelope of version 1 with a known kind and a body of that
 * kind's length (text: any, up to ENVELOPE_TEXT_MAX; report: 5 bytes,
 * count and reason not 0; nothing: none). */
int envelope_parse(struct envelope *e, const uint8_t *pt, size_t len);

#endif
