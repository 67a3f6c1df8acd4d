/*
 * fuzz_ws_rx.c: what the server does with the bytes of a WebSocket
 * connection before dispatch (server/rxbuf.c, fed by ws.c's on_receive):
 * the reassembly of a message from the pieces of its frames under
 * OFR_FRAME_MAX, the refusal of a message that announces more, the frame
 * and byte budget, then, for a whole text message, the frame parser that
 * dispatch_frame() runs first.
 *
 * The input is a list of frames as lws hands them over, each
 *   flags (1) || length (u16 big-endian) || [extra (u24)] || that many bytes
 * (the length cut to what is left). flags bit 0: the message's first
 * frame, bit 1: binary, bit 2: its final frame; bits 3..6: the bytes come
 * 2^n times, as that many pieces of one frame (2^14 pieces at most in
 * all), so that a short input can pass the cap; bit 7: the frame's header
 * announces extra more bytes than the pieces bring (a peer that stops
 * sending, or lies). The clock advances 100 us a piece. A model of the
 * message is kept alongside and checked against every whole message.
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
	int want_bad = 0, want_over = 0, in_frame = 0, refused = 0;
	int64_t now = 1;

	memset(&rx, 0, sizeof(rx));
	while (size - off >= 3) {
		uint8_t flags = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		size_t reps = (size_t)1 << ((flags >> 3) & 15), extra = 0;

		off += 3;
		if (flags & 0x80) {
			if (size - off < 3)
				break;
			extra = (size_t)data[off] << 16 |
			    (size_t)data[off + 1] << 8 | data[off + 2];
			off += 3;
		}
		if (len > size - off)
			len = size - off;
		if (reps > budget)	/* a bound on the time of one input */
			reps = budget;
		budget -= reps;
		if (reps == 0)
			break;
		for (size_t r = 0; r < reps; r++) {
			size_t left = (reps - r - 1) * len + extra;
			int first = flags & 1, fin = (flags & 4) != 0;
			int start = !in_frame, rc;

			in_frame = left != 0;
			if (first && start) {
				want_len = 0;
				want_bad = want_over = 0;
			}
			if (len > OFR_FRAME_MAX - want_len)
				want_bad = 1;	/* it cannot be whole */
			else if (len > 0) {
				memcpy(want + want_len, data + off, len);
				want_len += len;
			}
			now += 100;
			rc = rxbuf_feed(&rx, data + off, len, first,
			    (flags & 2) != 0, fin, left, now);
			FUZZ_CHECK(rx.len <= rx.cap &&
			    rx.cap <= OFR_FRAME_MAX);
			if (refused) {
				FUZZ_CHECK(rc == RXBUF_MORE);
				continue;
			}
			switch (rc) {
			case RXBUF_MESSAGE:
				FUZZ_CHECK(fin && left == 0 && !want_bad &&
				    !want_over);
				FUZZ_CHECK(rx.len == want_len && (want_len ==
				    0 || memcmp(rx.buf, want, want_len) == 0));
				if (!rx.binary) {
					(void)frame_in_parse(&in, rx.buf ?
					    rx.buf : "", rx.len);
					frame_in_clear(&in);
				}
				rxbuf_reset(&rx);
				want_len = 0;
				break;
			case RXBUF_OVERSIZE:
				refused = 1;
				FUZZ_CHECK(rx.buf == NULL && rx.len == 0);
				break;
			case RXBUF_OVER_BUDGET:
				FUZZ_CHECK(start);
				want_over = 1;
				break;
			case RXBUF_NOMEM:
				FUZZ_CHECK(rx.buf == NULL);
				want_bad = 1;
				break;
			default:
				FUZZ_CHECK(rc == RXBUF_MORE);
				/* a message is whole or gone when it ends */
				FUZZ_CHECK(!(fin && left == 0) || want_over ||
				    rx.buf == NULL);
				break;
			}
			/* Ended, whatever became of it: what comes next is
			 * another (a continuation frame with no message under
			 * way, which wsguard.c refuses before rxbuf.c sees
			 * it, makes one as a first frame would). */
			if (fin && left == 0) {
				want_len = 0;
				want_bad = want_over = 0;
			}
		}
		off += len;
	}
	rxbuf_reset(&rx);	/* the connection closes mid-message */
	return 0;
}
