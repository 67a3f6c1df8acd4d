/*
 * rxbuf.c: the reassembly of a WebSocket message from its fragments
 * (rxbuf.h), moved out of ws.c unchanged so that it can be tested and
 * fuzzed without a socket. It never holds more than OFR_FRAME_MAX bytes:
 * past the cap it frees what it had and drops the rest of the message.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/limits.h"
#include "rxbuf.h"

void
rxbuf_reset(struct rxbuf *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
	rx->binary = 0;
	rx->drop = 0;
}

/* Appends len bytes to the message; 0, or -1 when it is over the cap. */
static int
append(struct rxbuf *rx, const void *in, size_t len)
{
	size_t cap;
	char *nb;

	if (len == 0)
		return 0;	/* an empty frame, or an empty fragment */
	if (len > OFR_FRAME_MAX - rx->len)
		return -1;
	if (rx->len + len > rx->cap) {
		cap = rx->cap ? rx->cap : 1024;
		while (cap < rx->len + len)
			cap *= 2;
		if (cap > OFR_FRAME_MAX)
			cap = OFR_FRAME_MAX;
		if ((nb = realloc(rx->buf, cap)) == NULL)
			return -1;
		rx->buf = nb;
		rx->cap = cap;
	}
	memcpy(rx->buf + rx->len, in, len);
	rx->len += len;
	return 0;
}

int
rxbuf_feed(struct rxbuf *rx, const void *in, size_t len, int first,
    int binary, int last)
{
	if (first)
		rx->binary = binary;
	if (!rx->drop && append(rx, in, len) != 0) {
		free(rx->buf);
		rx->buf = NULL;
		rx->len = rx->cap = 0;
		rx->drop = 1;
	}
	if (!last)
		return RXBUF_MORE;
	return rx->drop ? RXBUF_OVERSIZE : RXBUF_MESSAGE;
}
