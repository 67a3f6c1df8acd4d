/*
 * fuzz_ws_rx.c: what the server does with the bytes of a WebSocket
 * connection before dispatch (server/rxbuf.c, fed by ws.c's on_receive):
 * the reassembly of fragments under OFR_FRAME_MAX, then, for a whole text
 * message, the frame parser that dispatch_frame() runs first.
 *
 * The input is a list of chunks as lws hands them over, each
 *   flags (1) || length (u16 big-endian) || that many bytes
 * (the length cut to what is left). flags bit 0: first fragment, bit 1:
 * binary, bit 2: last (final, nothing remaining); bits 3..6: the chunk is
 * fed 2^n times (2^14 feeds at most in all), so that a short input can
 * pass the cap. A model of the
 * message is kept alongside and checked against every message that ends.
 */
#include <string.h>

#include "proto/frame.h"
#include "rxbuf.h"
#include "fuzz.h"

/* The model: what the message should hold. */
static uint8_t want[OFR_FRAME_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rxbuf rx;
	struct frame_in in;
	size_t off = 0, want_len = 0, budget = (size_t)1 << 14;
	int want_over = 0, want_bin = 0;

	memset(&rx, 0, sizeof(rx));
	while (size - off >= 3) {
		uint8_t flags = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		size_t reps = (size_t)1 << ((flags >> 3) & 15);
		int rc = RXBUF_MORE;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (reps > budget)	/* a bound on the time of one input */
			reps = budget;
		budget -= reps;
		if (reps == 0)
			break;
		for (size_t r = 0; r < reps; r++) {
			int first = (flags & 1) && r == 0;
			int last = (flags & 4) && r == reps - 1;

			if (first)
				want_bin = (flags & 2) != 0;
			if (!want_over && len > OFR_FRAME_MAX - want_len) {
				want_over = 1;
			} else if (!want_over && len > 0) {
				memcpy(want + want_len, data + off, len);
				want_len += len;
			}
			rc = rxbuf_feed(&rx, data + off, len, first,
			    (flags & 2) != 0, last);
			FUZZ_CHECK(rx.len <= OFR_FRAME_MAX &&
			    rx.len <= rx.cap);
			if (!last) {
				FUZZ_CHECK(rc == RXBUF_MORE);
				continue;
			}
			if (want_over) {
				FUZZ_CHECK(rc == RXBUF_OVERSIZE);
			} else {
				FUZZ_CHECK(rc == RXBUF_MESSAGE);
				FUZZ_CHECK(rx.len == want_len &&
				    rx.binary == want_bin);
				FUZZ_CHECK(want_len == 0 ||
				    memcmp(rx.buf, want, want_len) == 0);
				if (!rx.binary) {
					(void)frame_in_parse(&in, rx.buf ?
					    rx.buf : "", rx.len);
					frame_in_clear(&in);
				}
			}
			rxbuf_reset(&rx);
			want_len = 0;
			want_over = 0;
			want_bin = 0;
		}
		off += len;
	}
	rxbuf_reset(&rx);	/* the connection closes mid-message */
	return 0;
}
