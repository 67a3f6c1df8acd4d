/*
 * text.c: printing text that came from other people or the server
 * (text.h): invalid UTF-8, control characters and bidi overrides never
 * reach the terminal as they are. It prints nothing it is not given and
 * keeps no state.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "text.h"

void
text_put_time(FILE *f, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof(buf), "%lld", (long long)t);
	fputs(buf, f);
}

/* --- text --- */

/* Decodes one UTF-8 sequence at s (n bytes left): its length, or 0 when
 * invalid; *cp gets the code point. */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int
text_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (len > 0) {
		if ((n = utf8_next(p, len, &cp)) == 0)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

static int
printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return 0;
	/* bidi embeddings, overrides and isolates can disguise text, and
	 * so can the marks (LRM, RLM, ALM: they reorder what is around
	 * them; a name holds none, proto/frame.c) */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c)
		return 0;
	return 1;
}

void
text_put(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	while (len > 0) {
		n = utf8_next(p, len, &cp);
		if (n == 0) {
			fputc('?', f);
			n = 1;
		} else if (cp == '\t' || cp == '\n' || cp == '\r') {
			fputc(' ', f);
		} else if (!printable(cp)) {
			fputc('?', f);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
		len -= n;
	}
}

void
text_puts(FILE *f, const char *s)
{
	if (s == NULL)
		s = "?";
	text_put(f, s, strlen(s));
}

void
text_put_list(FILE *f, json_t *arr, const char *sep)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		if (i > 0)
			fputs(sep, f);
		text_puts(f, json_string_value(e));
	}
}

