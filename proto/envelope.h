/*
 * envelope.h: what a message's plaintext carries (CRYPTO.md, "Plaintext
 * envelope"), inside the padding (pad.h), so a client can tell its peer
 * something that is not text the user typed. Version 2 (written now):
 * version || case id || the sender's running number || the sender's time
 * || kind || body, so that a message is bound to its case, its place in
 * its sender's sequence and its date; version 1 (version || kind || body)
 * is still read. Kinds: text (the body is the UTF-8 text), report (the
 * body says how many of the peer's messages the sender could not read and
 * why; a new session has begun), nothing (no body; filler for the copies
 * of a message that concerns another participant), and in version 2
 * meeting (an in-person meeting proposed, accepted, declined, cancelled or
 * rescheduled), agreement (the counselling agreement proposed,
 * accepted or revised) and referral (a card for an external partner:
 * whom to contact, how, what to expect and what to say). No clock, no memory: it writes and checks bytes,
 * and envelope_check compares a binding with what the caller kept.
 */
#ifndef OFFRAMP_PROTO_ENVELOPE_H
#define OFFRAMP_PROTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pad.h"

#define ENVELOPE_VERSION_1	1
#define ENVELOPE_VERSION	2	/* written now */
#define ENVELOPE_HDR_BYTES	2	/* version 1: version, kind */
/* version 2: version, case id (i64), running number (u32), time (i64),
 * kind */
#define ENVELOPE_V2_HDR_BYTES	(1 + 8 + 4 + 8 + 1)	/* 22 */
/* the longest text of version 1: 16125 bytes */
#define ENVELOPE_V1_TEXT_MAX	(PAD_PLAINTEXT_MAX - ENVELOPE_HDR_BYTES)
/* the longest text of version 2: 16105 bytes */
#define ENVELOPE_TEXT_MAX	(PAD_PLAINTEXT_MAX - ENVELOPE_V2_HDR_BYTES)
#define ENVELOPE_REPORT_BYTES	(ENVELOPE_HDR_BYTES + 4 + 1)	/* 7 */
#define ENVELOPE_MAX_BYTES	PAD_PLAINTEXT_MAX

/* Bounds of the fields of a meeting and an agreement, in bytes of UTF-8. */
#define ENVELOPE_PLACE_MAX	512
#define ENVELOPE_RECOGNISE_MAX	512
#define ENVELOPE_AGREEMENT_FIELD_MAX	2048
#define ENVELOPE_AGREEMENT_FIELDS	4
#define ENVELOPE_REFERRAL_NAME_MAX	128
#define ENVELOPE_REFERRAL_CONTACT_MAX	512
#define ENVELOPE_REFERRAL_NOTE_MAX	2048	/* what to expect, to say */
#define ENVELOPE_REFERRAL_FIELDS	4

/* How far a sender's time may be ahead of the receiver's clock. */
#define ENVELOPE_FUTURE_MAX	600	/* seconds */

enum envelope_kind {
	ENVELOPE_TEXT = 1,
	ENVELOPE_REPORT = 2,
	ENVELOPE_NOTHING = 3,
	ENVELOPE_MEETING = 4,		/* version 2 only */
	ENVELOPE_AGREEMENT = 5,		/* version 2 only */
	ENVELOPE_REFERRAL = 9,		/* version 2 only */
};

/* Why a report's messages could not be read; a client shows others as
 * "another reason". */
enum envelope_reason {
	ENVELOPE_R_LIMIT = 1,	/* too many skipped messages */
	ENVELOPE_R_NO_SESSION = 2,	/* no session (state lost, keys gone) */
	ENVELOPE_R_CRYPTO = 3,	/* did not decrypt: the session is broken */
};

enum envelope_meeting_action {
	ENVELOPE_M_PROPOSE = 1,
	ENVELOPE_M_ACCEPT = 2,
	ENVELOPE_M_DECLINE = 3,
	ENVELOPE_M_CANCEL = 4,
	ENVELOPE_M_RESCHEDULE = 5,
};

enum envelope_agreement_action {
	ENVELOPE_A_PROPOSE = 1,
	ENVELOPE_A_ACCEPT = 2,
	ENVELOPE_A_REVISE = 3,
};

/* The fields of an agreement, in their order. */
enum envelope_agreement_field {
	ENVELOPE_A_OBJECTIVES = 0,
	ENVELOPE_A_FORMATS = 1,
	ENVELOPE_A_FREQUENCY = 2,
	ENVELOPE_A_CRISIS = 3,
};

/* The fields of a referral card, in their order. */
enum envelope_referral_field {
	ENVELOPE_RF_NAME = 0,		/* the partner's name */
	ENVELOPE_RF_CONTACT = 1,	/* how to reach it */
	ENVELOPE_RF_EXPECT = 2,		/* what to expect there */
	ENVELOPE_RF_SAY = 3,		/* what to say when calling */
};

/* A meeting: proposed or rescheduled with a time and a place (and how to
 * recognise each other, may be empty); accepted, declined or cancelled
 * with the time it is about and no place. */
struct envelope_meeting {
	uint8_t		 action;	/* enum envelope_meeting_action */
	uint32_t	 id;		/* the proposer's, 1.. */
	int64_t		 time;		/* when it is, seconds, 1.. */
	const uint8_t	*place;
	size_t		 place_len;
	const uint8_t	*recognise;
	size_t		 recognise_len;
};

/* The counselling agreement: proposed (version 1) or revised (version 2..)
 * with its four fields (objectives not empty); accepted with the version
 * accepted and no fields. */
struct envelope_agreement {
	uint8_t		 action;	/* enum envelope_agreement_action */
	uint32_t	 version;	/* 1.. */
	const uint8_t	*field[ENVELOPE_AGREEMENT_FIELDS];
	size_t		 len[ENVELOPE_AGREEMENT_FIELDS];
};

/* A referral card to an external partner: name and contact not empty,
 * what to expect and what to say may be empty. */
struct envelope_referral {
	const uint8_t	*field[ENVELOPE_REFERRAL_FIELDS];
	size_t		 len[ENVELOPE_REFERRAL_FIELDS];
};

/* A parsed envelope (or one to write: envelope_write); pointers point
 * into the buffer given to envelope_parse. */
struct envelope {
	uint8_t		 version;	/* 1 or 2 */
	int64_t		 case_id;	/* version 2: 1.. */
	uint32_t	 seq;		/* version 2: the sender's running
					 * number in the case, 1.. */
	int64_t		 time;		/* version 2: the sender's clock,
					 * seconds, 0.. */
	uint8_t		 kind;		/* enum envelope_kind */
	const uint8_t	*text;		/* ENVELOPE_TEXT */
	size_t		 text_len;
	uint32_t	 count;		/* ENVELOPE_REPORT: 1.. */
	uint8_t		 reason;	/* ENVELOPE_REPORT: 1..255 */
	struct envelope_meeting meeting;	/* ENVELOPE_MEETING */
	struct envelope_agreement agreement;	/* ENVELOPE_AGREEMENT */
	struct envelope_referral referral;	/* ENVELOPE_REFERRAL */
};

/* Writes a version 1 text envelope of text (len bytes) into out
 * (capacity cap), *out_len its size. 0, OFR_E_TOO_BIG when len is over
 * ENVELOPE_V1_TEXT_MAX, OFR_E_USAGE when cap is short. */
int envelope_text(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t *text, size_t len);

/* Writes a version 1 report of count (1..) messages not read for reason
 * (1..255) into out, *out_len its size (ENVELOPE_REPORT_BYTES). 0, or
 * OFR_E_USAGE when cap is short, count or reason is 0. */
int envelope_report(uint8_t *out, size_t cap, size_t *out_len,
    uint32_t count, uint8_t reason);

/* Writes a version 1 envelope of kind nothing into out; as
 * envelope_report. */
int envelope_nothing(uint8_t *out, size_t cap, size_t *out_len);

/*
 * Writes e as a version 2 envelope (e->version is not read) into out
 * (capacity cap), *out_len its size. 0; OFR_E_TOO_BIG when a text or a
 * field is over its bound; OFR_E_BAD_FIELD when e is not one that
 * envelope_parse accepts (a field not UTF-8, a missing place, an unknown
 * kind or action...); OFR_E_USAGE when cap is short. What it writes
 * parses back to e.
 */
int envelope_write(uint8_t *out, size_t cap, size_t *out_len,
    const struct envelope *e);

/*
 * Parses the plaintext pt (len bytes) into e. 0, or OFR_E_BAD_FIELD when
 * it is not an envelope: version 1 with kind text (any body up to
 * ENVELOPE_V1_TEXT_MAX), report (5 bytes, count and reason not 0) or
 * nothing (no body); or version 2 with case id and running number not 0,
 * time not negative, and one of those kinds (a text up to
 * ENVELOPE_TEXT_MAX) or a meeting, an agreement or a referral card as
 * CRYPTO.md states
 * (every length exact, every field within its bound and UTF-8).
 */
int envelope_parse(struct envelope *e, const uint8_t *pt, size_t len);

/*
 * Parses kb (len bytes): the kind byte and body of a version 2 envelope
 * without its binding, as a client keeps a message it read, into e
 * (version 2, case id, running number and time 0). 0 or OFR_E_BAD_FIELD,
 * as envelope_parse.
 */
int envelope_parse_kind(struct envelope *e, const uint8_t *kb, size_t len);

/* What envelope_check found: a set of these bits. */
enum envelope_finding {
	ENVELOPE_MOVED = 1,	/* bound to another case: refuse it */
	ENVELOPE_REPLAYED = 2,	/* its running number is not past the last
				 * one seen: replayed or repeated */
	ENVELOPE_HELD_BACK = 4,	/* numbers between were skipped: messages
				 * held back or lost */
	ENVELOPE_FUTURE = 8,	/* dated over ENVELOPE_FUTURE_MAX ahead of
				 * the receiver's clock */
	ENVELOPE_EARLIER = 16,	/* dated before the sender's previous one */
};

/*
 * Checks the binding of the version 2 envelope e, received in case
 * case_id at the receiver's time now, against what the receiver kept of
 * its sender in that case: the last running number and time seen
 * (last_seq 0: none yet, any number starts the sequence). Returns the
 * findings (0: none); a version 1 envelope has none.
 */
unsigned envelope_check(const struct envelope *e, int64_t case_id,
    uint32_t last_seq, int64_t last_time, int64_t now);

/* 1 if s (len bytes) is UTF-8 (no overlong forms, no surrogates, nothing
 * over U+10FFFF), else 0. */
int envelope_utf8_ok(const uint8_t *s, size_t len);

#endif
