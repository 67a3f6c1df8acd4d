/*
 * rxbuf.h: one WebSocket message put together from the pieces of frames
 * the transport receives, under the OFR_FRAME_MAX cap and the connection's
 * frame and byte budget (PROTOCOL.md, "Transport"). It knows no socket and
 * no library: ws.c feeds it what lws hands over and acts on the answer,
 * and the fuzz target tests/fuzz/fuzz_ws_rx.c drives it the same way.
 */
#ifndef OFFRAMP_SERVER_RXBUF_H
#define OFFRAMP_SERVER_RXBUF_H

#include <stddef.h>
#include <stdint.h>

#include "proto/limits.h"

/*
 * The budget: every frame of a message (continuation frames too) takes a
 * frame, and its payload bytes take bytes, from two token buckets. A frame
 * over either drops its message; it is charged all the same, down to a
 * debt of one burst, so that dropped frames are not free.
 */
#define RXBUF_FRAME_RATE	2000		/* frames per second */
#define RXBUF_FRAME_BURST	4000
#define RXBUF_BYTE_RATE		(1024 * 1024)	/* payload bytes per second */
#define RXBUF_BYTE_BURST	(4 * 1024 * 1024)

/* A frame that makes its message too big is read to its end (and the peer,
 * done sending it, reads the too_big) when at most this much of it is
 * still to come; else it is refused at once. */
#define RXBUF_DRAIN_MAX		(2 * OFR_FRAME_MAX)

/* The buckets count in units that a microsecond refills exactly, in
 * integers: the frames in 1/RXBUF_FRAME_UNIT frames (one unit a
 * microsecond), the bytes in millionths of a byte (RXBUF_BYTE_RATE units
 * a microsecond). */
#define RXBUF_FRAME_UNIT	(1000000 / RXBUF_FRAME_RATE)
#define RXBUF_BYTE_UNIT		1000000

/* A connection's receiving side. All zero is a new one. One per open
 * connection: kept small (its sizes are at most OFR_FRAME_MAX). */
struct rxbuf {
	char *buf;			/* the message so far; NULL: empty */
	int64_t budget_us;		/* when the buckets were filled; 0:
					 * never */
	int64_t bytes;			/* the byte bucket (RXBUF_BYTE_UNIT) */
	uint32_t len, cap;
	uint32_t seen;			/* its bytes so far, kept or not */
	int32_t frames;			/* the frame bucket
					 * (RXBUF_FRAME_UNIT) */
	/* flags, 0 or 1 (one per open connection: kept small) */
	unsigned char binary;		/* its first frame said binary */
	unsigned char in_frame;		/* a frame's payload is under way */
	unsigned char over;		/* over budget: dropped to its end */
	unsigned char drain;		/* too big: read to its frame's end */
	unsigned char refused;		/* too big: nothing more is taken */
};

enum rxbuf_result {
	RXBUF_MORE = 0,		/* nothing to do yet */
	RXBUF_MESSAGE,		/* whole: buf (NULL when empty), len, binary;
				 * the caller takes it, then rxbuf_reset */
	RXBUF_OVERSIZE,		/* too big: refuse (too_big, close 1009);
				 * nothing more is taken from now on */
	RXBUF_OVER_BUDGET,	/* a frame over the budget: its message is
				 * dropped (rate_limited) */
	RXBUF_NOMEM,		/* out of memory: the message is lost */
};

/*
 * Takes a piece of len bytes of a frame. first: the frame is a message's
 * first (lws_is_first_fragment), binary its type; final: the frame is the
 * message's last; left: what the frame's header announced and has not
 * come yet (a frame ends with the piece that leaves 0); now_us: a
 * monotonic clock, for the budget. Returns an enum rxbuf_result.
 */
int rxbuf_feed(struct rxbuf *rx, const void *in, size_t len, int first,
    int binary, int final, size_t left, int64_t now_us);

/* Frees the message rx holds, to take the next; the budget and a refusal
 * stay. */
void rxbuf_reset(struct rxbuf *rx);

#endif
