/*
 * test_log.c: log_redact() of server/log.c, which keeps network addresses
 * out of the log. Every address form libwebsockets may print must go; text
 * that only resembles one is checked too, and where the redactor is
 * over-eager the test pins down what it does (documented below), so a
 * change of behaviour is a decision, not an accident.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "log.h"

/* Redacts in into a buffer of cap bytes; 1 if the result equals want. */
static int
redacts(const char *in, size_t cap, const char *want)
{
	char buf[1024];

	if (cap > sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", in);
	log_redact(buf, cap);
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "redact(\"%s\") = \"%s\", want \"%s\"\n", in, buf,
		    want);
		return 0;
	}
	return 1;
}

static int
unchanged(const char *in)
{
	return redacts(in, 1024, in);
}

int
main(void)
{
	char buf[64];

	/* IPv4, with and without a port, anywhere in the line */
	CHECK(redacts("conn from 127.0.0.1:5555", 1024, "conn from [addr]:5555"));
	CHECK(redacts("127.0.0.1", 1024, "[addr]"));
	CHECK(redacts("peer=10.20.30.40, closing", 1024,
	    "peer=[addr], closing"));
	CHECK(redacts("a 1.2.3.4 b 255.255.255.255", 1024, "a [addr] b [addr]"));
	CHECK(redacts("(192.168.0.1)", 1024, "([addr])"));

	/* IPv6: loopback, link-local with a zone, compressed, full, mapped,
	 * bracketed with a port */
	CHECK(redacts("::1", 1024, "[addr]"));
	CHECK(redacts("from ::1 port 80", 1024, "from [addr] port 80"));
	CHECK(redacts("fe80::1%eth0", 1024, "[addr]%eth0"));
	CHECK(redacts("2001:db8::2", 1024, "[addr]"));
	CHECK(redacts("2001:0db8:85a3:0000:0000:8a2e:0370:7334", 1024,
	    "[addr]"));
	CHECK(redacts("x 2001:DB8:0:0:1:0:0:1 y", 1024, "x [addr] y"));
	CHECK(redacts("::ffff:192.0.2.1", 1024, "[addr]"));
	CHECK(redacts("[2001:db8::1]:443", 1024, "[[addr]]:443"));
	CHECK(redacts("64:ff9b::198.51.100.7", 1024, "[addr]"));

	/* what is not an address stays */
	CHECK(unchanged("port 7443"));
	CHECK(unchanged("v1.2"));
	CHECK(unchanged("version 1.2.3"));
	CHECK(unchanged("at 12:34:56 the turn took 3 ms"));
	CHECK(unchanged("2026-11-22T03:42:07Z"));
	CHECK(unchanged("10:20"));
	CHECK(unchanged("std::map"));
	CHECK(unchanged("1.2.3.4567"));
	CHECK(unchanged("store: case_insert: UNIQUE constraint failed"));
	CHECK(unchanged(""));

	/*
	 * Over-eager, by design of a redactor that must not miss: a dotted
	 * quad that is a version number, and "::" between hex-letter words,
	 * read as addresses.
	 */
	CHECK(redacts("libfoo 1.2.3.4", 1024, "libfoo [addr]"));
	CHECK(redacts("cafe::babe", 1024, "[addr]"));

	/* The result is cut to the buffer it lives in. */
	CHECK(redacts("::1 and more", 5, "[add"));
	snprintf(buf, sizeof(buf), "%s", "from 127.0.0.1");
	log_redact(buf, sizeof(buf));
	CHECK(strstr(buf, "127.0.0.1") == NULL);
	CHECK(strstr(buf, "[addr]") != NULL);
	return check_done();
}
