/*
 * jsonfast.c: the requests' common JSON read without jansson's parser
 * (jsonfast.h). jansson reads text a character at a time through its
 * stream, with a UTF-8 check, a buffer that grows and a copy for every
 * string: 18 us for a msg.send of 1,520 bytes, a sixth of the server's
 * CPU a message relayed. This takes only what it can be sure of and
 * gives up on the rest, where json_loadb() reads it as before:
 *
 * - values: objects, arrays, strings, integers, true, false, null;
 * - strings of printable ASCII (0x20 to 0x7e) without a backslash;
 * - integers of at most 18 digits, no leading zero, no "-0", no
 *   fraction or exponent;
 * - JSON's whitespace between tokens; no key twice in an object;
 * - at most JSONFAST_DEPTH levels, an object at the top.
 *
 * Whatever it takes, json_loadb() with JSON_REJECT_DUPLICATES takes too
 * and makes the same value of (fuzz_frame checks that on every input);
 * every error comes from json_loadb(), as before.
 */
#include <string.h>

#include "proto/jsonfast.h"

#define JSONFAST_DEPTH	8

struct rd {
	const char *p, *end;
};

static json_t *value(struct rd *r, int depth);

static void
skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' ||
	    *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* At an opening quote: the string's bytes (*s, *n), the quotes passed. */
static int
string(struct rd *r, const char **s, size_t *n)
{
	const char *q;

	if (r->p >= r->end || *r->p != '"')
		return -1;
	for (q = r->p + 1; q < r->end; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '"')
			break;
		if (c < 0x20 || c > 0x7e || c == '\\')
			return -1;
	}
	if (q >= r->end)
		return -1;
	*s = r->p + 1;
	*n = (size_t)(q - *s);
	r->p = q + 1;
	return 0;
}

static json_t *
integer(struct rd *r)
{
	const char *q = r->p;
	json_int_t v = 0;
	int neg = 0, digits = 0;

	if (q < r->end && *q == '-') {
		neg = 1;
		q++;
	}
	if (q >= r->end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0' && (neg || (q + 1 < r->end && q[1] >= '0' &&
	    q[1] <= '9')))
		return NULL;		/* "-0", a leading zero */
	for (; q < r->end && *q >= '0' && *q <= '9'; q++) {
		if (++digits > 18)
			return NULL;
		v = v * 10 + (*q - '0');
	}
	if (q < r->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return NULL;
	r->p = q;
	return json_integer(neg ? -v : v);
}

static json_t *
word(struct rd *r, const char *w, size_t n, json_t *v)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return NULL;
	r->p += n;
	return v;
}

static json_t *
object(struct rd *r, int depth)
{
	json_t *o = json_object(), *v;
	const char *k;
	size_t kn;

	if (o == NULL)
		return NULL;
	r->p++;				/* '{' */
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		if (string(r, &k, &kn) != 0 ||
		    json_object_getn(o, k, kn) != NULL)
			goto fail;
		skip_ws(r);
		if (r->p >= r->end || *r->p++ != ':')
			goto fail;
		skip_ws(r);
		if ((v = value(r, depth + 1)) == NULL)
			goto fail;
		if (json_object_setn_new_nocheck(o, k, kn, v) != 0)
			goto fail;
		skip_ws(r);
		if (r->p >= r->end)
			goto fail;
		if (*r->p == '}') {
			r->p++;
			return o;
		}
		if (*r->p++ != ',')
			goto fail;
		skip_ws(r);
	}
fail:
	json_decref(o);
	return NULL;
}

static json_t *
array(struct rd *r, int depth)
{
	json_t *a = json_array(), *v;

	if (a == NULL)
		return NULL;
	r->p++;				/* '[' */
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		if ((v = value(r, depth + 1)) == NULL ||
		    json_array_append_new(a, v) != 0)
			goto fail;
		skip_ws(r);
		if (r->p >= r->end)
			goto fail;
		if (*r->p == ']') {
			r->p++;
			return a;
		}
		if (*r->p++ != ',')
			goto fail;
		skip_ws(r);
	}
fail:
	json_decref(a);
	return NULL;
}

static json_t *
value(struct rd *r, int depth)
{
	const char *s;
	size_t n;

	if (depth > JSONFAST_DEPTH || r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
		return object(r, depth);
	case '[':
		return array(r, depth);
	case '"':
		return string(r, &s, &n) == 0 ? json_stringn_nocheck(s, n) :
		    NULL;
	case 't':
		return word(r, "true", 4, json_true());
	case 'f':
		return word(r, "false", 5, json_false());
	case 'n':
		return word(r, "null", 4, json_null());
	default:
		return integer(r);
	}
}

json_t *
jsonfast_load(const char *buf, size_t len)
{
	struct rd r = { buf, buf };
	json_t *v;

	if (buf == NULL)
		return NULL;
	r.end = buf + len;
	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{')
		return NULL;
	if ((v = object(&r, 1)) == NULL)
		return NULL;
	skip_ws(&r);
	if (r.p != r.end) {
		json_decref(v);
		return NULL;
	}
	return v;
}
