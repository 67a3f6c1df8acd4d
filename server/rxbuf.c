/*
 * rxbuf.c: the reassembly of a WebSocket message from the pieces of its
 * frames (rxbuf.h), without a socket, so that it can be fuzzed. lws hands
 * a frame over in pieces of at most the protocol's rx_buffer_size, and
 * what its header announced and has not come yet is known at the first
 * piece: so a message's size is checked as its bytes arrive, and it never
 * holds more than OFR_FRAME_MAX bytes.
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
	rx->len = rx->cap = rx->seen = 0;
	rx->binary = 0;
	rx->over = 0;
	rx->drain = 0;
}

/* Appends len bytes (the message's size already checked); 0, or -1 when
 * out of memory. */
static int
append(struct rxbuf *rx, const void *in, size_t len)
{
	size_t cap;
	char *nb;

	if (len == 0)
		return 0;	/* an empty frame, or an empty piece */
	if (rx->len + len > rx->cap) {
		cap = rx->cap ? rx->cap : 1024;
		while (cap < rx->len + len)
			cap *= 2;
		if (cap > OFR_FRAME_MAX)
			cap = OFR_FRAME_MAX;
		if ((nb = realloc(rx->buf, cap)) == NULL)
			return -1;
		rx->buf = nb;
		rx->cap = (uint32_t)cap;
	}
	memcpy(rx->buf + rx->len, in, len);
	rx->len += (uint32_t)len;
	return 0;
}

#define FRAMES_FULL	((int32_t)RXBUF_FRAME_BURST * RXBUF_FRAME_UNIT)
#define BYTES_FULL	((int64_t)RXBUF_BYTE_BURST * RXBUF_BYTE_UNIT)
/* From the floor (a burst's debt) to full, with room: a longer pause
 * refills no more, and the sums stay far from overflowing. */
#define REFILL_MAX_US	INT64_C(10000000)

_Static_assert(1000000 % RXBUF_FRAME_RATE == 0,
    "a microsecond refills a whole frame unit");
_Static_assert(2 * (int64_t)RXBUF_FRAME_BURST * 1000000 <=
    REFILL_MAX_US * RXBUF_FRAME_RATE &&
    2 * (int64_t)RXBUF_BYTE_BURST * 1000000 <=
    REFILL_MAX_US * RXBUF_BYTE_RATE, "REFILL_MAX_US fills the buckets");

/* Takes one frame of cost payload bytes (at most OFR_FRAME_MAX) from the
 * budget: 1 when it had them, else 0 (and the frame is charged anyway,
 * down to the floor). */
static int
budget_take(struct rxbuf *rx, size_t cost, int64_t now_us)
{
	int64_t dt, want = (int64_t)cost * RXBUF_BYTE_UNIT;
	int ok;

	if (rx->budget_us == 0) {	/* the first frame: full buckets */
		rx->frames = FRAMES_FULL;
		rx->bytes = BYTES_FULL;
		rx->budget_us = now_us;
	}
	dt = now_us > rx->budget_us ? now_us - rx->budget_us : 0;
	if (dt > REFILL_MAX_US)
		dt = REFILL_MAX_US;
	rx->budget_us = now_us > rx->budget_us ? now_us : rx->budget_us;
	rx->frames = rx->frames + dt > FRAMES_FULL ? FRAMES_FULL :
	    (int32_t)(rx->frames + dt);
	rx->bytes += dt * RXBUF_BYTE_RATE;
	if (rx->bytes > BYTES_FULL)
		rx->bytes = BYTES_FULL;
	ok = rx->frames >= RXBUF_FRAME_UNIT && rx->bytes >= want;
	rx->frames -= RXBUF_FRAME_UNIT;
	if (rx->frames < -FRAMES_FULL)
		rx->frames = -FRAMES_FULL;
	rx->bytes -= want;
	if (rx->bytes < -BYTES_FULL)
		rx->bytes = -BYTES_FULL;
	return ok;
}

/* Too big: the message goes, and only the first refusal is told. */
static int
refuse(struct rxbuf *rx)
{
	rxbuf_reset(rx);
	if (rx->refused)
		return RXBUF_MORE;
	rx->refused = 1;
	return RXBUF_OVERSIZE;
}

int
rxbuf_feed(struct rxbuf *rx, const void *in, size_t len, int first,
    int binary, int final, size_t left, int64_t now_us)
{
	int frame_start = !rx->in_frame, rc = RXBUF_MORE;

	rx->in_frame = left != 0;
	if (rx->refused)
		return RXBUF_MORE;
	if (first && frame_start) {
		rxbuf_reset(rx);
		rx->binary = binary != 0;
	}
	if (!rx->drain && (len > OFR_FRAME_MAX - rx->seen ||
	    left > OFR_FRAME_MAX - rx->seen - len)) {
		if (left > RXBUF_DRAIN_MAX)
			return refuse(rx);
		rx->drain = 1;
	}
	if (rx->drain)
		return left == 0 ? refuse(rx) : RXBUF_MORE;
	rx->seen += (uint32_t)len;
	if (frame_start && !budget_take(rx, len + left, now_us)) {
		if (!rx->over) {
			free(rx->buf);
			rx->buf = NULL;
			rx->len = rx->cap = 0;
			rx->over = 1;
		}
		rc = RXBUF_OVER_BUDGET;
	}
	if (!rx->over && append(rx, in, len) != 0) {
		rxbuf_reset(rx);
		return RXBUF_NOMEM;
	}
	if (!final || left != 0)
		return rc;
	if (!rx->over)
		return RXBUF_MESSAGE;
	rxbuf_reset(rx);
	return rc;
}
