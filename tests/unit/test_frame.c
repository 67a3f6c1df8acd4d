/*
 * test_frame.c: proto/frame.c (envelope parsing, field getters, building)
 * and proto/ocrypto.c (login signatures, the interim box, invite tokens),
 * on valid input, on every way input can be wrong, and at every bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/jsonfast.h"
#include "proto/ocrypto.h"

#define LIST_BYTES	(OFR_LIST_MAX * (OFR_TOKEN_MAX + 1) + 2)

static struct frame_in in;

/* 1 when needle (n bytes) occurs in hay (len bytes). */
static int
contains(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Parses text as a frame into the global in; the previous one is cleared. */
static int
parse(const char *text)
{
	frame_in_clear(&in);
	return frame_in_parse(&in, text, strlen(text));
}

/* Parses {"v":1,"type":"t","id":1,<fields>} into in; 1 on success. */
static int
with(const char *fields)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "{\"v\":1,\"type\":\"t\",\"id\":1,%s}",
	    fields);
	return parse(buf) == 0;
}

static int
bad_field_is(const char *key)
{
	return in.bad_field != NULL && strcmp(in.bad_field, key) == 0;
}

/* The compact, key-sorted text of f (which is released). */
static char *
dump(json_t *f)
{
	char *s = f != NULL ? json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;

	json_decref(f);
	return s;
}

static int
dump_is(json_t *f, const char *want)
{
	char *s = dump(f);
	int ok = s != NULL && strcmp(s, want) == 0;

	if (!ok)
		fprintf(stderr, "got %s, want %s\n", s ? s : "NULL", want);
	free(s);
	return ok;
}

static void
test_parse(void)
{
	char *big;
	size_t n;

	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"ping\",\"id\":7}"), 0);
	CHECK(in.type != NULL && strcmp(in.type, "ping") == 0);
	CHECK_EQ_INT(in.id, 7);
	CHECK(in.bad_field == NULL);
	/* pushes and responses carry no id */
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"challenge\",\"x\":[1,2]}"), 0);
	CHECK_EQ_INT(in.id, 0);
	CHECK(strcmp(in.type, "challenge") == 0);
	/* whitespace, unknown fields */
	CHECK_EQ_INT(parse(" {\"type\" : \"a\", \"v\":1, \"zz\":null }\n"), 0);

	/* size */
	big = malloc(OFR_FRAME_MAX + 2);
	CHECK(big != NULL);
	if (big != NULL) {
		n = (size_t)snprintf(big, OFR_FRAME_MAX + 2,
		    "{\"v\":1,\"type\":\"t\",\"pad\":\"");
		memset(big + n, 'a', OFR_FRAME_MAX - n - 2);
		memcpy(big + OFR_FRAME_MAX - 2, "\"}", 2);
		frame_in_clear(&in);
		CHECK_EQ_INT(frame_in_parse(&in, big, OFR_FRAME_MAX), 0);
		big[OFR_FRAME_MAX - 2] = 'a';
		memcpy(big + OFR_FRAME_MAX - 1, "\"}", 2);
		frame_in_clear(&in);
		CHECK_EQ_INT(frame_in_parse(&in, big, OFR_FRAME_MAX + 1),
		    OFR_E_TOO_BIG);
		free(big);
	}

	/* not JSON, not an object */
	CHECK_EQ_INT(parse(""), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("hello"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\"} x"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",}"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"\xff\"}"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"s\":\"a\\u0000b\"}"),
	    OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("[1,2]"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("1"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("\"s\""), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("null"), OFR_E_BAD_JSON);
	frame_in_clear(&in);
	CHECK_EQ_INT(frame_in_parse(&in, "{\"v\":1,\"type\":\"t\"}\0x", 21),
	    OFR_E_BAD_JSON);

	/*
	 * depth: the frame is level 1, each object or array one level below
	 * its container; none may be below level 4. Scalars add no level.
	 */
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":{\"b\":{\"c\":{}}}}"),
	    0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":[[[]]]}"), 0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":[[1,\"x\"]]}"), 0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"copies\":[{\"to\":\"k\","
	    "\"ct\":\"c\"}]}"), 0);	/* msg.send's shape */
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":{\"b\":{\"c\":"
	    "{\"d\":1}}}}"), 0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":[[[1]]]}"), 0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":{\"b\":{\"c\":"
	    "{\"d\":{}}}}}"), OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":[[[[]]]]}"),
	    OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":3,\"a\":[[[[1]]]]}"),
	    OFR_E_BAD_JSON);
	CHECK_EQ_INT(in.id, 3);	/* the error can name the request */

	/* duplicate keys, anywhere */
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"type\":\"u\"}"),
	    OFR_E_BAD_JSON);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"a\":{\"k\":1,\"k\":2}}"),
	    OFR_E_BAD_JSON);

	/* version */
	CHECK_EQ_INT(parse("{\"type\":\"t\",\"id\":5}"), OFR_E_BAD_VERSION);
	CHECK_EQ_INT(in.id, 5);
	CHECK_EQ_INT(parse("{\"v\":2,\"type\":\"t\"}"), OFR_E_BAD_VERSION);
	CHECK_EQ_INT(parse("{\"v\":\"1\",\"type\":\"t\"}"), OFR_E_BAD_VERSION);
	CHECK_EQ_INT(parse("{\"v\":1.0,\"type\":\"t\"}"), OFR_E_BAD_VERSION);
	CHECK_EQ_INT(parse("{\"v\":null,\"type\":\"t\"}"), OFR_E_BAD_VERSION);

	/* type */
	CHECK_EQ_INT(parse("{\"v\":1,\"id\":6}"), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("type"));
	CHECK_EQ_INT(in.id, 6);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"\"}"), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("type"));
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":7}"), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("type"));
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"abcdefghijklmnopqrstuvwxyz012345"
	    "\"}"), 0);	/* 32 bytes */
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"abcdefghijklmnopqrstuvwxyz0123456"
	    "\"}"), OFR_E_BAD_FIELD);	/* 33 */
	CHECK(bad_field_is("type"));

	/* id */
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":9007199254740991}"),
	    0);
	CHECK_EQ_INT(in.id, OFR_ID_MAX);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":9007199254740992}"),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("id"));
	CHECK_EQ_INT(in.id, 0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":0}"),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("id"));
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":-4}"),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("id"));
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":\"4\"}"),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("id"));
	CHECK_EQ_INT(in.id, 0);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":4.5}"),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\",\"id\":1e3}"),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(parse("{\"v\":1,\"type\":\"t\","
	    "\"id\":99999999999999999999999}"), OFR_E_BAD_JSON);
	frame_in_clear(&in);
}

static void
test_str(void)
{
	const char *s;

	CHECK(with("\"name\":\"Sam\",\"n\":5,\"z\":null,\"e\":\"\","
	    "\"nl\":\"a\\nb\",\"tab\":\"a\\tb\",\"del\":\"a\\u007fb\","
	    "\"c1\":\"a\\u0085b\",\"u\":\"Zo\\u00eb\",\"o\":{}"));
	s = NULL;
	CHECK_EQ_INT(frame_str(&in, "name", 64, 1, &s), 0);
	CHECK(s != NULL && strcmp(s, "Sam") == 0);
	CHECK_EQ_INT(frame_str(&in, "name", 3, 1, &s), 0);	/* at the bound */
	CHECK_EQ_INT(frame_str(&in, "name", 2, 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("name"));
	in.bad_field = NULL;
	s = "keep";
	CHECK_EQ_INT(frame_str(&in, "absent", 64, 0, &s), 0);
	CHECK(strcmp(s, "keep") == 0);
	CHECK(in.bad_field == NULL);
	CHECK_EQ_INT(frame_str(&in, "z", 64, 0, &s), 0);	/* null: absent */
	CHECK(strcmp(s, "keep") == 0);
	CHECK_EQ_INT(frame_str(&in, "absent", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("absent"));
	CHECK_EQ_INT(frame_str(&in, "z", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("z"));
	CHECK_EQ_INT(frame_str(&in, "n", 64, 0, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("n"));
	CHECK_EQ_INT(frame_str(&in, "o", 64, 0, &s), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_str(&in, "e", 64, 0, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("e"));
	/* control characters: C0, DEL and C1 */
	CHECK_EQ_INT(frame_str(&in, "nl", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("nl"));
	CHECK_EQ_INT(frame_str(&in, "tab", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_str(&in, "del", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_str(&in, "c1", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("c1"));
	/* what turns text around: bidi overrides, isolates, separators,
	 * the BOM; not the marks and joiners that scripts need */
	frame_in_clear(&in);
	CHECK(with("\"rlo\":\"\\u202eevil\",\"lrm\":\"a\\u200eb\","
	    "\"iso\":\"\\u2067b\",\"bom\":\"\\ufeffb\",\"ls\":\"a\\u2028b\","
	    "\"zwnj\":\"a\\u200cb\""));
	CHECK_EQ_INT(frame_str(&in, "rlo", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("rlo"));
	CHECK_EQ_INT(frame_str(&in, "iso", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_str(&in, "bom", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_str(&in, "ls", 64, 1, &s), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_str(&in, "lrm", 64, 1, &s), 0);
	CHECK_EQ_INT(frame_str(&in, "zwnj", 64, 1, &s), 0);
	frame_in_clear(&in);
	CHECK(with("\"u\":\"Zo\\u00eb\""));
	/* UTF-8 is fine; bounds are in bytes */
	CHECK_EQ_INT(frame_str(&in, "u", 4, 1, &s), 0);
	CHECK(strcmp(s, "Zo\xc3\xab") == 0);
	CHECK_EQ_INT(frame_str(&in, "u", 3, 1, &s), OFR_E_BAD_FIELD);
	frame_in_clear(&in);
}

/* Display names: what a client shows for its own user, and characters
 * that make two names look alike or a name end in a blank. */
static void
test_names(void)
{
	static const char *const ok[] = {
		"Sam", "Sam Smith", "m e", "mee", "Aya", "\xd9\x85\xd9\x8a",
		/* Persian with a zero-width non-joiner inside */
		"\xd9\x85\xe2\x80\x8c\xd9\x8a",
		/* an emoji and its presentation selector, then a letter */
		"\xe2\x9d\xa4\xef\xb8\x8f Sam",
		"Sam\xc2\xa0Smith",	/* a no-break space inside */
	};
	static const char *const bad[] = {
		"me", "YOU", " Sam", "Sam ",
		"me\xc2\xa0", "\xc2\xa0Sam", "Sam\xe3\x80\x80",	/* NBSP, U+3000 */
		"Sam\xe2\x80\x83", "\xe2\xa0\x80Sam",		/* U+2003, U+2800 */
		"Sa\xc2\xadm", "Sa\xcd\x8fm", "Sa\xe1\xa0\x8em",	/* U+00AD, 034F, 180E */
		"S\xe2\x80\x8d" "am", "Sam\xe2\x80\x8c",		/* joiners by ASCII, at an end */
		"Sa\xe2\x81\xa5m", "Sa\xe2\x81\xafm",		/* U+2065, U+206F */
		"\xe3\x85\xa4", "Sa\xf3\xa0\x80\xa0m",	/* U+3164, a tag */
		"Sa\xe2\x80\x8bm", "\xd8\x9cSam", "Sam\xe2\x81\xa0",
		"m\xd0\xb5", "\xd0\x9c\xd0\x95", "y\xd0\xbeu",	/* Cyrillic */
		"\xef\xbd\x8d\xef\xbd\x85", "\xce\x9c\xce\x95",	/* fullwidth, Greek */
		"Sam\xf0", "Sam\xe2\x80",	/* cut inside a character: never read past */
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(frame_is_display_name(ok[i]) == 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(frame_is_display_name(bad[i]) == 0);
}

static void
test_token(void)
{
	const char *s;

	CHECK_EQ_INT(frame_is_token("en"), 1);
	CHECK_EQ_INT(frame_is_token("a-b"), 1);
	CHECK_EQ_INT(frame_is_token("1x"), 1);
	CHECK_EQ_INT(frame_is_token("abcdefghijklmnopqrstuvwxyz012345"), 1);
	CHECK_EQ_INT(frame_is_token("abcdefghijklmnopqrstuvwxyz0123456"), 0);
	CHECK_EQ_INT(frame_is_token(""), 0);
	CHECK_EQ_INT(frame_is_token("-en"), 0);
	CHECK_EQ_INT(frame_is_token("EN"), 0);
	CHECK_EQ_INT(frame_is_token("e n"), 0);
	CHECK_EQ_INT(frame_is_token("en,de"), 0);
	CHECK_EQ_INT(frame_is_token("en_gb"), 0);
	CHECK_EQ_INT(frame_is_token("\xc3\xa9"), 0);

	CHECK(with("\"language\":\"en\",\"up\":\"En\",\"dash\":\"-x\","
	    "\"long\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"num\":3,"
	    "\"topic\":null"));
	s = NULL;
	CHECK_EQ_INT(frame_token(&in, "language", 1, &s), 0);
	CHECK(s != NULL && strcmp(s, "en") == 0);
	CHECK_EQ_INT(frame_token(&in, "up", 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("up"));
	CHECK_EQ_INT(frame_token(&in, "dash", 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("dash"));
	CHECK_EQ_INT(frame_token(&in, "long", 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("long"));
	CHECK_EQ_INT(frame_token(&in, "num", 1, &s), OFR_E_BAD_FIELD);
	s = "keep";
	CHECK_EQ_INT(frame_token(&in, "topic", 0, &s), 0);
	CHECK(strcmp(s, "keep") == 0);
	CHECK_EQ_INT(frame_token(&in, "missing", 0, &s), 0);
	CHECK(strcmp(s, "keep") == 0);
	CHECK_EQ_INT(frame_token(&in, "topic", 1, &s), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("topic"));
	frame_in_clear(&in);
}

static void
test_int_bool(void)
{
	int64_t v;
	int b;

	CHECK(with("\"cap\":5,\"lo\":0,\"hi\":100,\"neg\":-1,\"big\":101,"
	    "\"real\":5.0,\"str\":\"5\",\"t\":true,\"f\":false,\"n\":null,"
	    "\"one\":1,\"ts\":\"true\""));
	v = -9;
	CHECK_EQ_INT(frame_int(&in, "cap", 0, 100, 1, &v), 0);
	CHECK_EQ_INT(v, 5);
	CHECK_EQ_INT(frame_int(&in, "lo", 0, 100, 1, &v), 0);
	CHECK_EQ_INT(v, 0);
	CHECK_EQ_INT(frame_int(&in, "hi", 0, 100, 1, &v), 0);
	CHECK_EQ_INT(v, 100);
	CHECK_EQ_INT(frame_int(&in, "neg", 0, 100, 1, &v), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("neg"));
	CHECK_EQ_INT(frame_int(&in, "big", 0, 100, 1, &v), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("big"));
	CHECK_EQ_INT(frame_int(&in, "real", 0, 100, 1, &v), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_int(&in, "str", 0, 100, 1, &v), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_int(&in, "t", 0, 100, 1, &v), OFR_E_BAD_FIELD);
	v = 42;
	CHECK_EQ_INT(frame_int(&in, "n", 0, 100, 0, &v), 0);
	CHECK_EQ_INT(frame_int(&in, "gone", 0, 100, 0, &v), 0);
	CHECK_EQ_INT(v, 42);
	CHECK_EQ_INT(frame_int(&in, "gone", 0, 100, 1, &v), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("gone"));
	CHECK_EQ_INT(v, 42);

	b = -1;
	CHECK_EQ_INT(frame_bool(&in, "t", 1, &b), 0);
	CHECK_EQ_INT(b, 1);
	CHECK_EQ_INT(frame_bool(&in, "f", 1, &b), 0);
	CHECK_EQ_INT(b, 0);
	b = 7;
	CHECK_EQ_INT(frame_bool(&in, "n", 0, &b), 0);
	CHECK_EQ_INT(b, 7);
	CHECK_EQ_INT(frame_bool(&in, "one", 0, &b), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("one"));
	CHECK_EQ_INT(frame_bool(&in, "ts", 0, &b), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_bool(&in, "n", 1, &b), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(b, 7);
	frame_in_clear(&in);
}

static void
test_bin(void)
{
	uint8_t out[32], want[16];
	char b64[OFR_B64_LEN(16)];
	char fields[512];
	size_t n;

	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 17 + 3);
	b64_encode(b64, sizeof(b64), want, sizeof(want));
	CHECK_EQ_INT(strlen(b64), 24);
	snprintf(fields, sizeof(fields),
	    "\"mid\":\"%s\",\"short\":\"AAECAwQFBgcICQoLDA0O\","
	    "\"long\":\"AAECAwQFBgcICQoLDA0ODxA=\",\"bad\":\"!!!!\","
	    "\"nopad\":\"AQI\",\"sp\":\"AQ I=\",\"url\":\"_-8=\","
	    "\"empty\":\"\",\"n\":5,\"three\":\"AQID\"", b64);
	CHECK(with(fields));
	n = 0;
	memset(out, 0, sizeof(out));
	CHECK_EQ_INT(frame_bin(&in, "mid", 16, 16, 1, out, &n), 0);
	CHECK_EQ_INT(n, 16);
	CHECK(memcmp(out, want, 16) == 0);
	CHECK_EQ_INT(frame_bin(&in, "short", 16, 16, 1, out, &n),
	    OFR_E_BAD_FIELD);	/* 15 bytes */
	CHECK(bad_field_is("short"));
	CHECK_EQ_INT(frame_bin(&in, "long", 16, 16, 1, out, &n),
	    OFR_E_BAD_FIELD);	/* 17 bytes */
	CHECK(bad_field_is("long"));
	CHECK_EQ_INT(frame_bin(&in, "long", 0, 17, 1, out, &n), 0);
	CHECK_EQ_INT(n, 17);
	CHECK_EQ_INT(frame_bin(&in, "bad", 0, 32, 1, out, &n),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_bin(&in, "nopad", 0, 32, 1, out, &n),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("nopad"));
	CHECK_EQ_INT(frame_bin(&in, "sp", 0, 32, 1, out, &n),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_bin(&in, "url", 0, 32, 1, out, &n),
	    OFR_E_BAD_FIELD);	/* base64url is not base64 */
	CHECK_EQ_INT(frame_bin(&in, "n", 0, 32, 1, out, &n), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_bin(&in, "empty", 1, 32, 1, out, &n),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_bin(&in, "three", 3, 3, 1, out, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK(out[0] == 1 && out[1] == 2 && out[2] == 3);
	n = 99;
	CHECK_EQ_INT(frame_bin(&in, "absent", 16, 16, 0, out, &n), 0);
	CHECK_EQ_INT(n, 99);
	CHECK_EQ_INT(frame_bin(&in, "absent", 16, 16, 1, out, &n),
	    OFR_E_BAD_FIELD);
	frame_in_clear(&in);

	/* b64_decode directly */
	CHECK_EQ_INT(b64_decode(out, 3, &n, "AQID", 4), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(b64_decode(out, 2, &n, "AQID", 4), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(b64_decode(out, 32, &n, "AQID====", 8), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(b64_decode(out, 32, &n, "AQ==", 4), 0);
	/* bytes of 0x80 and up, which libsodium 1.0.18 takes for '/' */
	CHECK_EQ_INT(b64_decode(out, 32, &n, "\xc3\x84\xc3\x96\xc3\x9c\xc3\xa9",
	    8), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(b64_decode(out, 32, &n, "AQI\xff", 4), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(b64_decode(out, 32, &n, "AQ==", 3), OFR_E_BAD_FIELD);
}

/* b64_decode as it was, on libsodium's decoder: the reference that the
 * table decoder must agree with. */
static int
b64_sodium(uint8_t *out, size_t maxlen, size_t *outlen, const char *s,
    size_t slen)
{
	const char *end;

	for (size_t i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return OFR_E_BAD_FIELD;
	}
	if (sodium_base642bin(out, maxlen, s, slen, NULL, outlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + slen)
		return OFR_E_BAD_FIELD;
	return 0;
}

/* The table decoder against libsodium's on 200,000 strings: encodings of
 * random bytes, some with a character changed (the alphabet, '=', a byte
 * of 0x80 and up, a NUL) or cut, and strings of the alphabet and '=' at
 * random; every buffer size around the length. */
static void
test_b64_sodium(void)
{
	static const char pick[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "+/====-_ \xc3\x80";
	uint8_t bin[48], a[48], b[48];
	char s[72];
	size_t slen, alen, blen, maxlen, agree = 0, valid = 0;
	int ra, rb;

	for (int k = 0; k < 200000; k++) {
		size_t len = randombytes_uniform(34);

		if (k % 2 == 0) {
			randombytes_buf(bin, len);
			b64_encode(s, sizeof(s), bin, len);
			slen = strlen(s);
			if (k % 6 == 2 && slen > 0)
				s[randombytes_uniform((uint32_t)slen)] =
				    pick[randombytes_uniform(sizeof(pick) - 1)];
			else if (k % 6 == 4 && slen > 0)
				slen -= 1 + randombytes_uniform(
				    (uint32_t)(slen < 3 ? slen : 3));
		} else {
			slen = randombytes_uniform(13);
			for (size_t i = 0; i < slen; i++)
				s[i] = pick[randombytes_uniform(68)];
			s[slen] = '\0';
		}
		maxlen = randombytes_uniform(34);
		alen = blen = 777;
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		ra = b64_decode(a, maxlen, &alen, s, slen);
		rb = b64_sodium(b, maxlen, &blen, s, slen);
		if (ra == rb && (ra != 0 || (alen == blen &&
		    memcmp(a, b, alen) == 0)) && (ra == 0 || alen == 777))
			agree++;
		else
			fprintf(stderr, "b64: \"%.*s\" (%zu), maxlen %zu: "
			    "table %d (%zu), libsodium %d (%zu)\n", (int)slen,
			    s, slen, maxlen, ra, alen, rb, blen);
		valid += rb == 0;
	}
	CHECK_EQ_INT(agree, 200000);
	/* both sides of it were tried */
	CHECK(valid > 20000 && valid < 180000);
}

/* The table encoder against libsodium's: every length up to 1,100 bytes
 * (every tail of 0, 1 and 2 bytes), random bytes, then every byte value
 * in each place of a group of three. */
static void
test_b64_encode_public(void)
{
	static uint8_t bin[1100];
	static char a[OFR_B64_LEN(1100)], b[OFR_B64_LEN(1100)];
	size_t agree = 0;

	for (size_t len = 0; len <= sizeof(bin); len++) {
		randombytes_buf(bin, len);
		memset(a, 'x', sizeof(a));
		b64_encode_public(a, OFR_B64_LEN(len), bin, len);
		b64_encode(b, OFR_B64_LEN(len), bin, len);
		agree += strcmp(a, b) == 0 && strlen(a) + 1 == OFR_B64_LEN(len);
	}
	CHECK_EQ_INT(agree, sizeof(bin) + 1);
	agree = 0;
	for (int v = 0; v < 256; v++)
		for (size_t at = 0; at < 3; at++) {
			memset(bin, 0, 3);
			bin[at] = (uint8_t)v;
			for (size_t len = at + 1; len <= 3; len++) {
				b64_encode_public(a, sizeof(a), bin, len);
				b64_encode(b, sizeof(b), bin, len);
				agree += strcmp(a, b) == 0;
			}
		}
	CHECK_EQ_INT(agree, 256 * (3 + 2 + 1));
}

/* jsonfast_load: what it takes, json_loadb takes and makes the same value
 * of; what it does not, it leaves to json_loadb (NULL). */
static int
fast_agrees(const char *text)
{
	json_error_t err;
	json_t *a = jsonfast_load(text, strlen(text));
	json_t *b = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES,
	    &err);
	int ok = a != NULL && b != NULL && json_equal(a, b);

	json_decref(a);
	json_decref(b);
	return ok;
}

static int
fast_leaves(const char *text, size_t len)
{
	json_t *a = jsonfast_load(text, len);

	json_decref(a);
	return a == NULL;
}

static void
test_jsonfast(void)
{
	static const char *takes[] = {
		"{\"v\":1,\"type\":\"msg.send\",\"id\":12345,\"case\":77,"
		"\"mid\":\"AAECAwQFBgcICQoLDA0ODw==\",\"copies\":[{\"to\":"
		"\"AAEC\",\"ct\":\"QUJD+/==\"}]}",
		"{}", " {\t\"a\" :\r\n[ ] , \"b\":{ }}\n",
		"{\"n\":-5,\"z\":0,\"m\":-123456789012345678,"
		"\"p\":999999999999999999}",
		"{\"t\":true,\"f\":false,\"x\":null,\"\":\"\"}",
		"{\"a\":[1,[2,[3,[\"d\"]]],{\"k\":[]}]}",
		"{\"s\":\" !#$%&'()*+,-./:;<=>?@[]^_`{|}~\"}",
		"{\"a\":{\"a\":1},\"b\":{\"a\":1}}",
	};
	static const char *leaves[] = {
		"", "   ", "[1]", "\"s\"", "1", "{", "{\"a\":1", "{\"a\":1,}",
		"{\"a\":1}x", "{\"a\":1}{}", "{\"a\" 1}", "{a:1}",
		"{\"a\":\"x\\ny\"}", "{\"a\":\"\\u0041\"}",
		"{\"a\":\"\xc3\xa4\"}", "{\"a\":\"\x7f\"}",
		"{\"a\":\"\t\"}", "{\"a\":1.5}", "{\"a\":1e3}",
		"{\"a\":1E3}", "{\"a\":01}", "{\"a\":-0}", "{\"a\":-}",
		"{\"a\":+1}", "{\"a\":1234567890123456789}", "{\"a\":1,\"a\":2}",
		"{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":[1,]}",
		"{\"a\":[1 2]}", "{\"\xc3\xa4\":1}",
		"{\"a\":\"b}",
	};

	for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]); i++)
		if (!fast_agrees(takes[i])) {
			fprintf(stderr, "jsonfast: not taken alike: %s\n",
			    takes[i]);
			CHECK(0);
		}
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		if (!fast_leaves(leaves[i], strlen(leaves[i]))) {
			fprintf(stderr, "jsonfast: taken: %s\n", leaves[i]);
			CHECK(0);
		}
	CHECK(fast_leaves("{\"a\":\"x\0y\"}", 10));	/* a NUL */
	CHECK(fast_leaves("{\"a\":1}\0", 8));
	/* eight levels in all are taken (JSONFAST_DEPTH), nine are not */
	CHECK(fast_agrees("{\"a\":[[[[[[1]]]]]]}"));
	CHECK(fast_leaves("{\"a\":[[[[[[[1]]]]]]]}", 21));
}

static void
test_array_list(void)
{
	char out[LIST_BYTES], small[8];
	json_t *a;

	CHECK(with("\"langs\":[\"en\",\"de\"],\"none\":[],\"dup\":[\"en\","
	    "\"de\",\"en\"],\"sub\":[\"de\",\"e\"],\"bad\":[\"en\",\"EN\"],"
	    "\"num\":[\"en\",1],\"obj\":{\"a\":1},\"str\":\"en\","
	    "\"sixteen\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\","
	    "\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\"],"
	    "\"seventeen\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\","
	    "\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"],"
	    "\"n\":null"));
	a = NULL;
	CHECK_EQ_INT(frame_array(&in, "langs", 2, 1, &a), 0);
	CHECK(a != NULL && json_array_size(a) == 2);
	CHECK_EQ_INT(frame_array(&in, "langs", 1, 1, &a), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("langs"));
	CHECK_EQ_INT(frame_array(&in, "obj", 8, 1, &a), OFR_E_BAD_FIELD);
	CHECK(bad_field_is("obj"));
	CHECK_EQ_INT(frame_array(&in, "str", 8, 1, &a), OFR_E_BAD_FIELD);
	a = NULL;
	CHECK_EQ_INT(frame_array(&in, "n", 8, 0, &a), 0);
	CHECK(a == NULL);
	CHECK_EQ_INT(frame_array(&in, "n", 8, 1, &a), OFR_E_BAD_FIELD);

	CHECK_EQ_INT(frame_token_list(&in, "langs", 1, out, sizeof(out)), 0);
	CHECK(strcmp(out, ",en,de,") == 0);
	CHECK_EQ_INT(frame_token_list(&in, "none", 1, out, sizeof(out)), 0);
	CHECK(strcmp(out, ",") == 0);
	CHECK_EQ_INT(frame_token_list(&in, "sub", 1, out, sizeof(out)), 0);
	CHECK(strcmp(out, ",de,e,") == 0);	/* "e" is not a duplicate */
	CHECK_EQ_INT(frame_token_list(&in, "dup", 1, out, sizeof(out)),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("dup"));
	CHECK_EQ_INT(frame_token_list(&in, "bad", 1, out, sizeof(out)),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("bad"));
	CHECK_EQ_INT(frame_token_list(&in, "num", 1, out, sizeof(out)),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_token_list(&in, "str", 1, out, sizeof(out)),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_token_list(&in, "sixteen", 1, out, sizeof(out)), 0);
	CHECK(strcmp(out, ",a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,") == 0);
	CHECK_EQ_INT(frame_token_list(&in, "seventeen", 1, out, sizeof(out)),
	    OFR_E_BAD_FIELD);
	CHECK(bad_field_is("seventeen"));
	strcpy(out, "keep");
	CHECK_EQ_INT(frame_token_list(&in, "n", 0, out, sizeof(out)), 0);
	CHECK(strcmp(out, "keep") == 0);
	CHECK_EQ_INT(frame_token_list(&in, "n", 1, out, sizeof(out)),
	    OFR_E_BAD_FIELD);
	/* the output buffer is a bound too: ",en,de," needs 8 bytes */
	CHECK_EQ_INT(frame_token_list(&in, "langs", 1, small, 8), 0);
	CHECK_EQ_INT(frame_token_list(&in, "langs", 1, small, 7),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(frame_token_list(&in, "none", 1, small, 1),
	    OFR_E_BAD_FIELD);
	frame_in_clear(&in);
}

static void
test_build(void)
{
	static const uint8_t bytes[] = { 1, 2, 3, 0xff };
	json_t *f;
	char b64[OFR_B64_LEN(4)];
	uint8_t back[4];
	size_t n;

	CHECK(dump_is(frame_new("ping.ok", 5),
	    "{\"re\":5,\"type\":\"ping.ok\",\"v\":1}"));
	CHECK(dump_is(frame_new("case", 0), "{\"type\":\"case\",\"v\":1}"));
	CHECK(dump_is(frame_error(7, OFR_E_BAD_FIELD, "language"),
	    "{\"code\":\"bad_field\",\"field\":\"language\",\"re\":7,"
	    "\"type\":\"error\",\"v\":1}"));
	CHECK(dump_is(frame_error(0, OFR_E_TOO_BIG, NULL),
	    "{\"code\":\"too_big\",\"type\":\"error\",\"v\":1}"));
	CHECK(dump_is(frame_error(3, OFR_E_DISABLED, NULL),
	    "{\"code\":\"account_disabled\",\"re\":3,\"type\":\"error\","
	    "\"v\":1}"));
	f = frame_new("x", 0);
	CHECK_EQ_INT(frame_set_bin(f, "k", bytes, sizeof(bytes)), 0);
	CHECK_EQ_INT(frame_set_bin(f, "e", bytes, 0), 0);
	CHECK(dump_is(f, "{\"e\":\"\",\"k\":\"AQID/w==\",\"type\":\"x\","
	    "\"v\":1}"));
	b64_encode(b64, sizeof(b64), bytes, sizeof(bytes));
	CHECK(strcmp(b64, "AQID/w==") == 0);
	CHECK_EQ_INT(b64_decode(back, sizeof(back), &n, b64, strlen(b64)), 0);
	CHECK_EQ_INT(n, 4);
	CHECK(memcmp(back, bytes, 4) == 0);

	/* what we build, we parse */
	f = frame_new("msg.ack", 9);
	CHECK(f != NULL);
	if (f != NULL) {
		char *s = dump(f);

		CHECK(s != NULL && parse(s) == 0 && in.id == 0 &&
		    strcmp(in.type, "msg.ack") == 0);
		free(s);
		frame_in_clear(&in);
	}
	CHECK(strcmp(err_str(OFR_E_BAD_INVITE), "bad_invite") == 0);
	CHECK_EQ_INT(err_from_str("case_waiting"), OFR_E_CASE_WAITING);
	CHECK_EQ_INT(err_from_str("nonsense"), OFR_E_INTERNAL);
	CHECK(strcmp(err_str(12345), "unknown") == 0);
}

static void
test_login(void)
{
	uint8_t pk[OFR_PK_BYTES], sk[OFR_SK_BYTES], spk[OFR_PK_BYTES];
	uint8_t ssk[OFR_SK_BYTES], other[OFR_PK_BYTES], osk[OFR_SK_BYTES];
	uint8_t ch[OFR_CHALLENGE_BYTES], ch2[OFR_CHALLENGE_BYTES];
	uint8_t sig[OFR_SIG_BYTES], bad[OFR_SIG_BYTES];
	uint8_t msg[OFR_LOGIN_MSG_BYTES];

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(spk, ssk);
	crypto_sign_keypair(other, osk);
	randombytes_buf(ch, sizeof(ch));
	memcpy(ch2, ch, sizeof(ch));
	ch2[31] ^= 1;

	/* the layout PROTOCOL.md gives */
	CHECK_EQ_INT(OFR_LOGIN_MSG_BYTES, 112);
	ocrypto_login_message(msg, spk, ch, pk);
	CHECK(memcmp(msg, "offramp-login-v1", 16) == 0);
	CHECK(memcmp(msg + 16, spk, 32) == 0);
	CHECK(memcmp(msg + 48, ch, 32) == 0);
	CHECK(memcmp(msg + 80, pk, 32) == 0);

	ocrypto_login_sign(sig, sk, spk, ch);
	CHECK_EQ_INT(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk),
	    0);
	CHECK_EQ_INT(ocrypto_login_verify(sig, spk, ch, pk), 0);
	CHECK_EQ_INT(ocrypto_login_verify(sig, spk, ch2, pk),
	    OFR_E_BAD_SIGNATURE);
	CHECK_EQ_INT(ocrypto_login_verify(sig, other, ch, pk),
	    OFR_E_BAD_SIGNATURE);
	CHECK_EQ_INT(ocrypto_login_verify(sig, spk, ch, other),
	    OFR_E_BAD_SIGNATURE);
	for (int i = 0; i < OFR_SIG_BYTES; i += 9) {
		memcpy(bad, sig, sizeof(sig));
		bad[i] ^= 0x01;
		CHECK_EQ_INT(ocrypto_login_verify(bad, spk, ch, pk),
		    OFR_E_BAD_SIGNATURE);
	}
	memcpy(bad, sig, sizeof(sig));
	bad[63] ^= 0x80;
	CHECK_EQ_INT(ocrypto_login_verify(bad, spk, ch, pk),
	    OFR_E_BAD_SIGNATURE);
	memset(bad, 0, sizeof(bad));
	CHECK_EQ_INT(ocrypto_login_verify(bad, spk, ch, pk),
	    OFR_E_BAD_SIGNATURE);
	/* another key's signature of the same challenge */
	ocrypto_login_sign(bad, osk, spk, ch);
	CHECK_EQ_INT(ocrypto_login_verify(bad, spk, ch, pk),
	    OFR_E_BAD_SIGNATURE);
	CHECK_EQ_INT(ocrypto_login_verify(bad, spk, ch, other), 0);
}

static void
test_box(void)
{
	static const char text[] = "leaving is possible";
	uint8_t apk[32], ask[64], bpk[32], bsk[64], cpk[32], csk[64];
	uint8_t ct[sizeof(text) + OFR_BOX_OVERHEAD], bad[sizeof(ct)];
	uint8_t ct2[sizeof(ct)], pt[sizeof(text)];
	uint8_t e[OFR_BOX_OVERHEAD], zero[32];
	size_t len = sizeof(text);

	crypto_sign_keypair(apk, ask);
	crypto_sign_keypair(bpk, bsk);
	crypto_sign_keypair(cpk, csk);

	CHECK_EQ_INT(ocrypto_box_seal(ct, (const uint8_t *)text, len, ask,
	    bpk), 0);
	CHECK(!contains(ct, sizeof(ct), text, len - 1));
	memset(pt, 0, sizeof(pt));
	CHECK_EQ_INT(ocrypto_box_open(pt, ct, sizeof(ct), bsk, apk), 0);
	CHECK(memcmp(pt, text, len) == 0);
	/* a fresh nonce every time */
	CHECK_EQ_INT(ocrypto_box_seal(ct2, (const uint8_t *)text, len, ask,
	    bpk), 0);
	CHECK(memcmp(ct, ct2, 24) != 0);

	/* tampering anywhere: nonce, MAC, body */
	for (size_t i = 0; i < sizeof(ct); i += 7) {
		memcpy(bad, ct, sizeof(ct));
		bad[i] ^= 0x20;
		CHECK_EQ_INT(ocrypto_box_open(pt, bad, sizeof(bad), bsk, apk),
		    OFR_E_CRYPTO);
	}
	CHECK_EQ_INT(ocrypto_box_open(pt, ct, sizeof(ct) - 1, bsk, apk),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ocrypto_box_open(pt, ct, OFR_BOX_OVERHEAD - 1, bsk, apk),
	    OFR_E_CRYPTO);
	/* wrong keys: another recipient, another claimed sender */
	CHECK_EQ_INT(ocrypto_box_open(pt, ct, sizeof(ct), csk, apk),
	    OFR_E_CRYPTO);
	CHECK_EQ_INT(ocrypto_box_open(pt, ct, sizeof(ct), bsk, cpk),
	    OFR_E_CRYPTO);
	/* not a point: the all-zero key does not convert */
	memset(zero, 0, sizeof(zero));
	CHECK_EQ_INT(ocrypto_box_seal(ct2, (const uint8_t *)text, len, ask,
	    zero), OFR_E_CRYPTO);
	/* the empty message */
	CHECK_EQ_INT(ocrypto_box_seal(e, (const uint8_t *)"", 0, ask, bpk), 0);
	CHECK_EQ_INT(ocrypto_box_open(pt, e, sizeof(e), bsk, apk), 0);
}

static void
test_invite(void)
{
	uint8_t tok[OFR_INVITE_BYTES], back[OFR_INVITE_BYTES];
	char s[OFR_INVITE_STR_MAX], t[OFR_INVITE_STR_MAX + 8];
	int clean = 1;

	randombytes_buf(tok, sizeof(tok));
	tok[31] = 0xff;	/* the last group uses every bit */
	ocrypto_invite_encode(s, tok);
	CHECK_EQ_INT(strlen(s), 43);
	for (size_t i = 0; s[i] != '\0'; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= 'a' &&
		    s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '-' && s[i] != '_')
			clean = 0;
	CHECK(clean);
	memset(back, 0, sizeof(back));
	CHECK_EQ_INT(ocrypto_invite_decode(back, s), 0);
	CHECK(memcmp(back, tok, sizeof(tok)) == 0);

	/* a token whose text begins with '-' can be made, but never by
	 * ocrypto_invite_new: a command line would take it for an option.
	 * 2000 draws miss '-' (1 in 64) with a chance of 1e-14. */
	tok[0] = 62 << 2;
	ocrypto_invite_encode(t, tok);
	CHECK(t[0] == '-');
	for (int i = 0; i < 2000; i++) {
		ocrypto_invite_new(tok);
		ocrypto_invite_encode(t, tok);
		if (t[0] == '-')
			clean = 0;
	}
	CHECK(clean);

	CHECK_EQ_INT(ocrypto_invite_decode(back, ""), OFR_E_BAD_INVITE);
	CHECK_EQ_INT(ocrypto_invite_decode(back, "abc"), OFR_E_BAD_INVITE);
	CHECK_EQ_INT(ocrypto_invite_decode(back, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
	    "!!!!!!!!!!!!!!!"), OFR_E_BAD_INVITE);
	snprintf(t, sizeof(t), "%.42s", s);		/* one short */
	CHECK_EQ_INT(ocrypto_invite_decode(back, t), OFR_E_BAD_INVITE);
	snprintf(t, sizeof(t), "%.41s\xc3\x84", s);	/* one not ASCII */
	CHECK_EQ_INT(ocrypto_invite_decode(back, t), OFR_E_BAD_INVITE);
	snprintf(t, sizeof(t), "%sA", s);		/* one long */
	CHECK_EQ_INT(ocrypto_invite_decode(back, t), OFR_E_BAD_INVITE);
	snprintf(t, sizeof(t), "%s=", s);		/* padded */
	CHECK_EQ_INT(ocrypto_invite_decode(back, t), OFR_E_BAD_INVITE);
	snprintf(t, sizeof(t), "%s", s);
	t[5] = '+';					/* base64, not url */
	CHECK_EQ_INT(ocrypto_invite_decode(back, t), OFR_E_BAD_INVITE);
	memset(t, 'A', sizeof(t) - 1);			/* far too long */
	t[sizeof(t) - 1] = '\0';
	CHECK_EQ_INT(ocrypto_invite_decode(back, t), OFR_E_BAD_INVITE);
	/* 43 characters carry 258 bits: the 2 spare ones must be zero */
	memset(tok, 0, sizeof(tok));
	ocrypto_invite_encode(s, tok);
	CHECK_EQ_INT(s[42], 'A');
	s[42] = 'B';
	CHECK_EQ_INT(ocrypto_invite_decode(back, s), OFR_E_BAD_INVITE);
}

int
main(void)
{
	if (ocrypto_init() != 0)
		return 1;
	test_parse();
	test_str();
	test_token();
	test_names();
	test_int_bool();
	test_bin();
	test_b64_sodium();
	test_b64_encode_public();
	test_jsonfast();
	test_array_list();
	test_build();
	test_login();
	test_box();
	test_invite();
	return check_done();
}
