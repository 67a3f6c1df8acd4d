/*
 * log.c: one line per event on stderr, with a UTC timestamp and a level.
 * Nothing here may write a client's network address; see log_redact().
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_set_level(int level)
{
	max_level = level;
}

static void
vlog(int level, const char *fmt, va_list ap)
{
	char line[1024], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	vsnprintf(line, sizeof(line), fmt, ap);
	log_redact(line, sizeof(line));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s %s\n", stamp, level_names[level], line);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > max_level || level < 0)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Length of an IPv4 dotted quad at s, or 0. */
static size_t
ipv4_len(const char *s)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t digits = 0;

		while (isdigit((unsigned char)s[i]) && digits < 3) {
			i++;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (part < 3) {
			if (s[i] != '.')
				return 0;
			i++;
		}
	}
	return isdigit((unsigned char)s[i]) ? 0 : i;
}

/* Length of an IPv6-looking run at s (hex digits, colons, dots; at least
 * two colons, and at least one "::" or seven colons), or 0. */
static size_t
ipv6_len(const char *s)
{
	size_t i = 0, colons = 0;
	int dcolon = 0;

	while (isxdigit((unsigned char)s[i]) || s[i] == ':' || s[i] == '.') {
		if (s[i] == ':') {
			colons++;
			if (s[i + 1] == ':')
				dcolon = 1;
		}
		i++;
	}
	if (colons >= 2 && (dcolon || colons >= 7))
		return i;
	return 0;
}

void
log_redact(char *s, size_t cap)
{
	static const char mark[] = "[addr]";
	char out[2048];
	size_t o = 0;
	const char *r = s;

	while (*r != '\0' && o + sizeof(mark) < sizeof(out)) {
		size_t n = 0;
		int boundary = (r == s) || !isalnum((unsigned char)r[-1]);

		if (boundary && (n = ipv4_len(r)) == 0)
			n = ipv6_len(r);
		if (n > 0) {
			memcpy(out + o, mark, sizeof(mark) - 1);
			o += sizeof(mark) - 1;
			r += n;
		} else {
			out[o++] = *r++;
		}
	}
	out[o] = '\0';
	snprintf(s, cap, "%s", out);
}
