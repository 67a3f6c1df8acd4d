/*
 * wsguard.c: the frame-header checks of RFC 6455 that libwebsockets 4.1
 * leaves out (wsguard.h), on a stream fed in pieces of any size. It reads
 * each header byte once and jumps over payloads; it never copies one.
 */
#include "wsguard.h"

/* The extended length's bytes after the 7-bit one: 0, 2 or 8. */
static unsigned
ext_bytes(uint8_t len7)
{
	return len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
}

/* The header's length is whole (hdr[1..]): the payload's length, or a
 * fault. */
static int
take_length(struct wsguard *g)
{
	uint8_t len7 = g->hdr[1] & 0x7f;
	uint64_t n = 0;

	if (len7 < 126) {
		g->left = len7;
		return WSGUARD_OK;
	}
	for (unsigned i = 0; i < ext_bytes(len7); i++)
		n = n << 8 | g->hdr[2 + i];
	if (len7 == 127 && (n >> 63) != 0)
		return WSGUARD_LENGTH_TOP_BIT;
	if (n < (len7 == 126 ? 126 : 65536))
		return WSGUARD_LONG_LENGTH;
	g->left = n;
	return WSGUARD_OK;
}

size_t
wsguard_feed(struct wsguard *g, const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t i = 0, start = 0;	/* where the frame under way began */
	uint64_t skip;

	if (g->fault != WSGUARD_OK)
		return 0;
	while (i < len) {
		if (g->have == 0 && g->left > 0) {	/* a payload */
			skip = len - i < g->left ? len - i : g->left;
			i += (size_t)skip;
			g->left -= skip;
			continue;
		}
		if (g->have == 0)
			start = i;
		if (g->have < sizeof(g->hdr))
			g->hdr[g->have] = p[i];
		g->have++;
		i++;
		if (g->have == 2) {
			if ((g->hdr[1] & 0x80) == 0) {
				g->fault = WSGUARD_UNMASKED;
				return start;
			}
			/* an opcode from 8 up, its length past 7 bits */
			if ((g->hdr[0] & 0x08) && (g->hdr[1] & 0x7f) > 125) {
				g->fault = WSGUARD_CONTROL_LENGTH;
				return start;
			}
			/* with the 4 bytes of the masking key */
			g->need = (uint8_t)(2 + ext_bytes(g->hdr[1] & 0x7f) +
			    4);
		}
		if (g->have >= 2 && g->have == g->need - 4 &&
		    (g->fault = (uint8_t)take_length(g)) != WSGUARD_OK)
			return start;
		if (g->have >= 2 && g->have == g->need)
			g->have = g->need = 0;	/* the payload follows */
	}
	return len;
}

const char *
wsguard_fault_str(int fault)
{
	switch (fault) {
	case WSGUARD_OK:
		return "none";
	case WSGUARD_UNMASKED:
		return "an unmasked client frame";
	case WSGUARD_LONG_LENGTH:
		return "a frame length in a longer encoding than it needs";
	case WSGUARD_LENGTH_TOP_BIT:
		return "a 64-bit frame length with its top bit set";
	case WSGUARD_CONTROL_LENGTH:
		return "a control frame of more than 125 bytes";
	case WSGUARD_EARLY:
		return "bytes sent behind the upgrade request, before its "
		    "answer";
	}
	return "unknown";
}
