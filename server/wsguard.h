/*
 * wsguard.h: the frames a client sends on one WebSocket connection,
 * followed in its byte stream, for the checks RFC 6455 asks of a server.
 * Two of them libwebsockets 4.1 does not make: every client frame is
 * masked (5.1), and its length is in the shortest of the three
 * encodings, a 64-bit one with its top bit clear (5.2), and at most 125
 * for a control frame (5.5; lws 4.1 drops the connection without a close
 * frame). The others lws 4.1 makes, but closes the connection itself
 * then, not waiting for the answers to the frames before the bad one
 * (those that wait for their commit's sync), and writes those after its
 * close frame: no reserved bit set (5.2, no extension is agreed), no
 * reserved opcode, a control frame never fragmented (5.5), a
 * continuation frame only inside a message and a new message only after
 * the last one ended (5.4), and a text message UTF-8 (5.6, 8.1: checked
 * as it comes, across its frames, the payload unmasked on the way; a
 * bad byte is found where it stands). A violation is a protocol error,
 * close code 1002, or for bad UTF-8 1007 (wsguard_close_code).
 *
 * A client's close frame stops the stream too (lws 4.1 answers it as it
 * parses it, before the answers to the frames before it): its body
 * empty, or a code a peer may send and a UTF-8 reason (5.5.1, 7.4),
 * else 1002 (1007 for the reason); the transport echoes its code once
 * the answers are out.
 *
 * It knows no socket and no library: rxtap.c feeds it the bytes lws reads
 * after the upgrade, and the fuzz target tests/fuzz/fuzz_wsguard.c drives
 * it the same way. It never keeps a payload: it reads it by its length,
 * and keeps at most the first 10 bytes of a header.
 */
#ifndef OFFRAMP_SERVER_WSGUARD_H
#define OFFRAMP_SERVER_WSGUARD_H

#include <stddef.h>
#include <stdint.h>

/* What a client frame broke; WSGUARD_OK while none did. */
enum wsguard_fault {
	WSGUARD_OK = 0,
	WSGUARD_UNMASKED,	/* the mask bit clear (5.1) */
	WSGUARD_LONG_LENGTH,	/* a length in a longer encoding than it
				 * needs (5.2) */
	WSGUARD_LENGTH_TOP_BIT,	/* a 64-bit length with its top bit set */
	WSGUARD_CONTROL_LENGTH,	/* a control frame of more than 125 bytes
				 * (5.5) */
	WSGUARD_EARLY,		/* bytes behind the upgrade request, before
				 * its answer (4.1; set by rxtap.c) */
	WSGUARD_RSV,		/* a reserved bit set (5.2) */
	WSGUARD_OPCODE,		/* a reserved opcode (5.2) */
	WSGUARD_CONTROL_FRAGMENT, /* a control frame without FIN (5.5) */
	WSGUARD_CONTINUATION,	/* a continuation frame outside a message,
				 * or a new message inside one (5.4) */
	WSGUARD_UTF8,		/* a text message, or a close frame's
				 * reason, that is not UTF-8 (8.1) */
	WSGUARD_CLOSE_CODE,	/* a close frame of 1 byte, or with a code
				 * a peer may not send (5.5.1, 7.4) */
	WSGUARD_CLOSED,		/* a good close frame: no fault, the end */
};

/* One connection's stream, from a frame's first byte on. All zero is a
 * new one. */
struct wsguard {
	uint64_t left;		/* payload bytes of the frame still to come */
	uint8_t hdr[10];	/* the header so far, up to its length; in a
				 * payload, hdr[0..1], the masking key at
				 * hdr[2..5], the payload's offset mod 4
				 * at hdr[6]; a close frame's code at
				 * hdr[7..8] */
	uint8_t have;		/* header bytes seen; 0: none, or a payload */
	uint8_t need;		/* the header's size, once byte 2 is seen */
	uint8_t fault;		/* an enum wsguard_fault; once set, stays */
	uint8_t msg;		/* a message under way: WSGUARD_MSG_* */
	uint8_t utf8;		/* its UTF-8 decoder's state (a close
				 * frame's reason's in a close frame); 0:
				 * between characters */
};

#define WSGUARD_MSG_OPEN	1	/* a data frame without FIN came */
#define WSGUARD_MSG_TEXT	2	/* and it began a text message */

/*
 * Follows len bytes of the stream. Returns how many of them come before
 * the first frame that breaks a rule (len when none does; 0 when that
 * frame began before these bytes, or a fault was found before): what
 * may be handed to the frame parser. g->fault then says why.
 */
size_t wsguard_feed(struct wsguard *g, const void *in, size_t len);

/* A short description of a fault, for a log line. */
const char *wsguard_fault_str(int fault);

/* The close code the server sends when g stopped: the client's code
 * after its close frame (1000 for one without a code), 1007 for bad
 * UTF-8, 1002 for the other faults. */
int wsguard_close_code(const struct wsguard *g);

#endif
