/*
 * rxbuf.h: one WebSocket message put together from the fragments the
 * transport receives, under the OFR_FRAME_MAX cap. It knows no socket and
 * no library: ws.c feeds it what lws hands over and acts on the answer,
 * and the fuzz target tests/fuzz/fuzz_ws_rx.c drives it the same way.
 */
#ifndef OFFRAMP_SERVER_RXBUF_H
#define OFFRAMP_SERVER_RXBUF_H

#include <stddef.h>

/* A message being received. All zero is an empty one. */
struct rxbuf {
	char *buf;			/* malloc'd; NULL while empty */
	size_t len, cap;
	int binary;			/* its first fragment said binary */
	int drop;			/* over the cap: dropped to its end */
};

enum rxbuf_result {
	RXBUF_MORE = 0,			/* the message goes on */
	RXBUF_MESSAGE = 1,		/* it is whole: buf (NULL when
					 * empty), len and binary */
	RXBUF_OVERSIZE = 2,		/* it ended and was over the cap
					 * (or out of memory): dropped */
};

/*
 * Adds a received chunk of len bytes to rx. first: the chunk starts a
 * message, whose type binary gives; last: it ends the message (the final
 * fragment with no payload remaining). Returns an enum rxbuf_result; after
 * RXBUF_MESSAGE or RXBUF_OVERSIZE the caller takes the message and calls
 * rxbuf_reset before the next chunk.
 */
int rxbuf_feed(struct rxbuf *rx, const void *in, size_t len, int first,
    int binary, int last);

/* Frees what rx holds and makes it empty again. */
void rxbuf_reset(struct rxbuf *rx);

#endif
