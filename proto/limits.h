/*
 * limits.h: the sizes and bounds of protocol v1 (PROTOCOL.md, "Limits")
 * and the rule every token follows, apart from the JSON that carries them,
 * so that code which knows no wire format (the server's model, store and
 * domain layer) can size and check its values by them. It includes no
 * library header; frame.h includes it.
 */
#ifndef OFFRAMP_PROTO_LIMITS_H
#define OFFRAMP_PROTO_LIMITS_H

#define OFR_PROTO_VERSION	1
#define OFR_FRAME_MAX		(128 * 1024)	/* bytes of one text frame */
#define OFR_TYPE_MAX		32		/* bytes of "type" */
#define OFR_ID_MAX		9007199254740991LL /* 2^53 - 1 */
#define OFR_TOKEN_MAX		32		/* a language, topic: [a-z0-9-] */
#define OFR_NAME_MAX		64		/* a display name, UTF-8 bytes */
#define OFR_CT_MAX		(16 * 1024)	/* bytes of one ciphertext copy */
#define OFR_COPIES_MAX		8		/* copies in one msg.send */
#define OFR_MID_BYTES		16		/* a message id */
#define OFR_ACKS_MAX		256		/* seqs in one msg.ack */
#define OFR_LIST_MAX		16		/* languages or topics in a list */
#define OFR_DEPTH_MAX		4		/* nesting of JSON values */
#define OFR_INTAKE_CODE_MIN	4		/* a programme's intake code: */
#define OFR_INTAKE_CODE_MAX	64		/* [A-Za-z0-9-], any case */

/* A token: 1..OFR_TOKEN_MAX of [a-z0-9-], starting with a letter or digit,
 * as frame_token() reads one (frame.c). 1 if s is one, 0 if not. */
int frame_is_token(const char *s);
/* An intake code (PROTOCOL.md, "Intake codes"): OFR_INTAKE_CODE_MIN..MAX
 * of [A-Za-z0-9-]. 1 if s is one, 0 if not. */
int frame_is_intake_code(const char *s);

#endif
