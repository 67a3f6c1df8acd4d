/*
 * frame.c: parsing and building of protocol v1 frames (frame.h). Every
 * getter checks type and bounds before it hands out a value; nothing is
 * copied without a length check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/jsonfast.h"

/* 1 if no container in v is nested deeper than OFR_DEPTH_MAX (the root
 * object is level 1; scalars add no level). */
static int
depth_ok(json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return 1;
	if (depth > OFR_DEPTH_MAX)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach(v, key, child)
			if (!depth_ok(child, depth + 1))
				return 0;
	} else {
		json_array_foreach(v, i, child)
			if (!depth_ok(child, depth + 1))
				return 0;
	}
	return 1;
}

int
frame_in_parse(struct frame_in *in, const char *buf, size_t len)
{
	json_t *v, *type, *id;
	json_error_t jerr;

	memset(in, 0, sizeof(*in));
	if (len > OFR_FRAME_MAX)
		return OFR_E_TOO_BIG;
	/* jsonfast takes the common requests (quickly), json_loadb the
	 * rest and gives every error */
	if ((in->root = jsonfast_load(buf, len)) == NULL)
		in->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (in->root == NULL || !json_is_object(in->root))
		return OFR_E_BAD_JSON;

	/* The id first, so that every later error can name the request. */
	id = json_object_get(in->root, "id");
	if (id != NULL) {
		if (!json_is_integer(id) || json_integer_value(id) < 1 ||
		    json_integer_value(id) > OFR_ID_MAX) {
			in->bad_field = "id";
			return OFR_E_BAD_FIELD;
		}
		in->id = json_integer_value(id);
	}
	if (!depth_ok(in->root, 1))
		return OFR_E_BAD_JSON;
	v = json_object_get(in->root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != OFR_PROTO_VERSION)
		return OFR_E_BAD_VERSION;
	type = json_object_get(in->root, "type");
	if (!json_is_string(type) || json_string_length(type) == 0 ||
	    json_string_length(type) > OFR_TYPE_MAX) {
		in->bad_field = "type";
		return OFR_E_BAD_FIELD;
	}
	in->type = json_string_value(type);
	return 0;
}

void
frame_in_clear(struct frame_in *in)
{
	json_decref(in->root);
	memset(in, 0, sizeof(*in));
}

static int
bad(struct frame_in *in, const char *key)
{
	in->bad_field = key;
	return OFR_E_BAD_FIELD;
}

/* Looks key up; returns 1 if present, 0 if absent and allowed, or an
 * error when absent and required. */
static int
field(struct frame_in *in, const char *key, int required, json_t **v)
{
	*v = json_object_get(in->root, key);
	if (*v == NULL || json_is_null(*v))
		return required ? bad(in, key) : 0;
	return 1;
}

int
frame_str(struct frame_in *in, const char *key, size_t maxlen, int required,
    const char **out)
{
	json_t *v;
	const unsigned char *s;
	size_t len;
	int rc;

	if ((rc = field(in, key, required, &v)) <= 0)
		return rc;
	if (!json_is_string(v))
		return bad(in, key);
	len = json_string_length(v);
	if (len == 0 || len > maxlen)
		return bad(in, key);
	s = (const unsigned char *)json_string_value(v);
	/* C0, DEL, and C1 (U+0080..U+009F: 0xc2 0x80..0x9f in UTF-8,
	 * which jansson has checked); and what turns text shown to others
	 * around or breaks it (a name "\u202eevil" reads "live"): the line
	 * and paragraph separators and the bidi embeddings and overrides
	 * U+2028..U+202E (0xe2 0x80 0xa8..0xae), the bidi isolates
	 * U+2066..U+2069 (0xe2 0x81 0xa6..0xa9), the byte order mark U+FEFF
	 * (0xef 0xbb 0xbf). */
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 &&
		    i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) ||
		    (s[i] == 0xe2 && i + 2 < len && ((s[i + 1] == 0x80 &&
		    s[i + 2] >= 0xa8 && s[i + 2] <= 0xae) || (s[i + 1] == 0x81 &&
		    s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9))) ||
		    (s[i] == 0xef && i + 2 < len && s[i + 1] == 0xbb &&
		    s[i + 2] == 0xbf))
			return bad(in, key);
	*out = (const char *)s;
	return 0;
}

int
frame_is_token(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > OFR_TOKEN_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
	}
	return 1;
}

int
frame_is_intake_code(const char *s)
{
	size_t n = strlen(s);

	if (n < OFR_INTAKE_CODE_MIN || n > OFR_INTAKE_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

/* The code point at s (UTF-8, left bytes of it), and its length in *n:
 * past left when the string ends inside it (never read). */
static uint32_t
utf8_at(const unsigned char *s, size_t left, size_t *n)
{
	*n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 :
	    (s[0] & 0xf0) == 0xe0 ? 3 : 4;
	if (*n > left)
		return 0;
	switch (*n) {
	case 1:
		return s[0];
	case 2:
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	case 3:
		return (uint32_t)(s[0] & 0x0f) << 12 |
		    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	default:
		return (uint32_t)(s[0] & 0x07) << 18 |
		    (uint32_t)(s[1] & 0x3f) << 12 |
		    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	}
}

/* A space, or a character that shows as one (Unicode's White_Space, the
 * Braille blank and the Hangul fillers). */
static int
blank(uint32_t c)
{
	return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000 || c == 0x2800 || c == 0x115f || c == 0x1160 ||
	    c == 0x3164 || c == 0xffa0;
}

/* Shown as nothing at all, and of no use in a name (Unicode's
 * Default_Ignorable_Code_Point, but for the joiners and variation
 * selectors: joiner()). */
static int
invisible(uint32_t c)
{
	return c == 0xad || c == 0x34f || c == 0x61c || c == 0x17b4 ||
	    c == 0x17b5 || (c >= 0x180b && c <= 0x180f) || c == 0x200b ||
	    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
	    (c >= 0xfff0 && c <= 0xfff8) || (c >= 0x1bca0 && c <= 0x1bca3) ||
	    (c >= 0x1d173 && c <= 0x1d17a) || (c >= 0xe0000 && c <= 0xe00ff) ||
	    (c >= 0xe01f0 && c <= 0xe0fff);
}

/* The zero-width (non-)joiners and the variation selectors: invisible,
 * but part of how Persian, Indic scripts and emoji are written; never
 * after an ASCII character, where they only make two names differ. */
static int
joiner(uint32_t c)
{
	return c == 0x200c || c == 0x200d || (c >= 0xfe00 && c <= 0xfe0f) ||
	    (c >= 0xe0100 && c <= 0xe01ef);
}

/* The ASCII letter c looks like in a name's skeleton (fullwidth forms,
 * and the Cyrillic and Greek letters of "me" and "you"), or c. */
static uint32_t
look(uint32_t c)
{
	static const uint32_t alike[][2] = {
		{ 0x415, 'E' }, { 0x41c, 'M' }, { 0x41e, 'O' }, { 0x423, 'Y' },
		{ 0x435, 'e' }, { 0x43c, 'm' }, { 0x43e, 'o' }, { 0x443, 'y' },
		{ 0x395, 'E' }, { 0x39c, 'M' }, { 0x39f, 'O' }, { 0x3a5, 'Y' },
		{ 0x3bf, 'o' }, { 0x3c5, 'u' }, { 0x475, 'v' }, { 0x4af, 'y' },
	};

	if (c >= 0xff01 && c <= 0xff5e)
		return c - 0xfee0;
	for (size_t i = 0; i < sizeof(alike) / sizeof(alike[0]); i++)
		if (alike[i][0] == c)
			return alike[i][1];
	return c;
}

int
frame_is_display_name(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i, k, len = 0;
	uint32_t c, prev = 0;
	char skel[8];

	if (n == 0 || n > OFR_NAME_MAX)
		return 0;
	for (i = 0; i < n; i += k, prev = c) {
		c = utf8_at(u + i, n - i, &k);
		if (k > n - i || invisible(c) ||
		    (joiner(c) && (i == 0 || prev < 0x80 || i + k == n)) ||
		    (blank(c) && (i == 0 || i + k == n)))
			return 0;
		/* the skeleton, while it could be "me" or "you" */
		if (!joiner(c) && len < sizeof(skel) - 1) {
			uint32_t a = look(c);

			skel[len++] = a < 0x80 ? (char)a : '?';
		}
	}
	skel[len] = '\0';
	/* what a client shows for its own user's lines (the CLI's "me",
	 * the web's "You"): nobody else's name, nor one that looks like it */
	return len >= sizeof(skel) - 1 ||
	    (strcasecmp(skel, "me") != 0 && strcasecmp(skel, "you") != 0);
}

/* frame_str of at most maxlen bytes that ok() accepts. */
static int
str_that(struct frame_in *in, const char *key, size_t maxlen, int required,
    int (*ok)(const char *), const char **out)
{
	const char *s = NULL;
	int rc;

	if ((rc = frame_str(in, key, maxlen, required, &s)) != 0)
		return rc;
	if (s == NULL)
		return 0;
	if (!ok(s))
		return bad(in, key);
	*out = s;
	return 0;
}

int
frame_name(struct frame_in *in, const char *key, int required,
    const char **out)
{
	return str_that(in, key, OFR_NAME_MAX, required,
	    frame_is_display_name, out);
}

int
frame_token(struct frame_in *in, const char *key, int required,
    const char **out)
{
	return str_that(in, key, OFR_TOKEN_MAX, required, frame_is_token,
	    out);
}

int
frame_int(struct frame_in *in, const char *key, int64_t min, int64_t max,
    int required, int64_t *out)
{
	json_t *v;
	int rc;

	if ((rc = field(in, key, required, &v)) <= 0)
		return rc;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return bad(in, key);
	*out = json_integer_value(v);
	return 0;
}

int
frame_bool(struct frame_in *in, const char *key, int required, int *out)
{
	json_t *v;
	int rc;

	if ((rc = field(in, key, required, &v)) <= 0)
		return rc;
	if (!json_is_boolean(v))
		return bad(in, key);
	*out = json_is_true(v);
	return 0;
}

int
frame_bin(struct frame_in *in, const char *key, size_t minlen, size_t maxlen,
    int required, uint8_t *out, size_t *outlen)
{
	json_t *v;
	size_t n;
	int rc;

	if ((rc = field(in, key, required, &v)) <= 0)
		return rc;
	if (!json_is_string(v))
		return bad(in, key);
	if (b64_decode(out, maxlen, &n, json_string_value(v),
	    json_string_length(v)) != 0 || n < minlen)
		return bad(in, key);
	*outlen = n;
	return 0;
}

int
frame_array(struct frame_in *in, const char *key, size_t maxn, int required,
    json_t **out)
{
	json_t *v;
	int rc;

	if ((rc = field(in, key, required, &v)) <= 0)
		return rc;
	if (!json_is_array(v) || json_array_size(v) > maxn)
		return bad(in, key);
	*out = v;
	return 0;
}

int
frame_token_list(struct frame_in *in, const char *key, int required,
    char *out, size_t outsz)
{
	json_t *arr = NULL, *e;
	size_t i, used;
	int rc;

	if ((rc = frame_array(in, key, OFR_LIST_MAX, required, &arr)) != 0)
		return rc;
	if (arr == NULL)
		return 0;
	if (outsz < 2)
		return bad(in, key);
	strcpy(out, ",");
	used = 1;
	json_array_foreach(arr, i, e) {
		const char *s;
		char probe[OFR_TOKEN_MAX + 3];
		size_t n;

		if (!json_is_string(e) || !frame_is_token(json_string_value(e)))
			return bad(in, key);
		s = json_string_value(e);
		n = strlen(s);
		snprintf(probe, sizeof(probe), ",%s,", s);
		if (strstr(out, probe) != NULL)
			return bad(in, key);	/* duplicate */
		if (used + n + 1 >= outsz)
			return bad(in, key);
		memcpy(out + used, s, n);
		used += n;
		out[used++] = ',';
		out[used] = '\0';
	}
	return 0;
}

json_t *
frame_new(const char *type, int64_t re)
{
	json_t *f = json_object();

	if (f == NULL)
		return NULL;
	if (json_object_set_new(f, "v", json_integer(OFR_PROTO_VERSION)) ||
	    json_object_set_new(f, "type", json_string(type)) ||
	    (re > 0 && json_object_set_new(f, "re", json_integer(re)))) {
		json_decref(f);
		return NULL;
	}
	return f;
}

json_t *
frame_error(int64_t re, int err, const char *field_name)
{
	json_t *f = frame_new("error", re);

	if (f == NULL)
		return NULL;
	if (json_object_set_new(f, "code", json_string(err_str(err))) ||
	    (field_name != NULL &&
	    json_object_set_new(f, "field", json_string(field_name)))) {
		json_decref(f);
		return NULL;
	}
	return f;
}

int
frame_set_bin(json_t *f, const char *key, const uint8_t *buf, size_t len)
{
	size_t sz = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(sz);
	int rc;

	if (s == NULL)
		return OFR_E_NOMEM;
	sodium_bin2base64(s, sz, buf, len, sodium_base64_VARIANT_ORIGINAL);
	rc = json_object_set_new(f, key, json_stringn(s, sz - 1));
	free(s);
	return rc == 0 ? 0 : OFR_E_NOMEM;
}

void
b64_encode(char *out, size_t outsz, const uint8_t *bin, size_t len)
{
	sodium_bin2base64(out, outsz, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/*
 * libsodium's encoder takes constant time, for secrets: the relay's
 * pushes, a ciphertext of up to 16 KiB each, took 7% of its CPU in it.
 * What the server sends in base64 is public (it holds no secret of a
 * client's). Aborts, as libsodium's does, when out is too small.
 */
void
b64_encode_public(char *out, size_t outsz, const uint8_t *bin, size_t len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	uint32_t v;

	if (outsz < OFR_B64_LEN(len))
		abort();
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8 |
		    bin[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[v >> 12 & 0x3f];
		out[o++] = abc[v >> 6 & 0x3f];
		out[o++] = abc[v & 0x3f];
	}
	if (i < len) {
		v = (uint32_t)bin[i] << 16 |
		    (i + 1 < len ? (uint32_t)bin[i + 1] << 8 : 0);
		out[o++] = abc[v >> 18];
		out[o++] = abc[v >> 12 & 0x3f];
		out[o++] = i + 1 < len ? abc[v >> 6 & 0x3f] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* Each byte's value in base64 (RFC 4648, section 4), or -1. */
static const signed char b64_value[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/*
 * Strict base64 with its padding, as sodium_base642bin() with
 * sodium_base64_VARIANT_ORIGINAL decodes it (bits past the last byte must
 * be 0), by a table: libsodium's decoder takes constant time for secrets,
 * a tenth of a relay's CPU on the ciphertexts it decodes, and everything
 * that comes here (keys, signatures, ciphertexts off the wire) is public.
 * Nothing is written to *outlen unless it decodes.
 */
int
b64_decode(uint8_t *out, size_t maxlen, size_t *outlen, const char *s,
    size_t slen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t pad = 0, full, i, o = 0;
	int a, b, c, d;

	if (slen % 4 != 0)
		return OFR_E_BAD_FIELD;
	if (slen > 0 && u[slen - 1] == '=')
		pad = u[slen - 2] == '=' ? 2 : 1;
	if (slen / 4 * 3 - pad > maxlen)
		return OFR_E_BAD_FIELD;
	full = pad != 0 ? slen - 4 : slen;
	for (i = 0; i < full; i += 4) {
		a = b64_value[u[i]];
		b = b64_value[u[i + 1]];
		c = b64_value[u[i + 2]];
		d = b64_value[u[i + 3]];
		if ((a | b | c | d) < 0)
			return OFR_E_BAD_FIELD;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
		out[o++] = (uint8_t)(c << 6 | d);
	}
	if (pad != 0) {
		a = b64_value[u[i]];
		b = b64_value[u[i + 1]];
		c = pad == 1 ? b64_value[u[i + 2]] : 0;
		/* the bits the padding stands for are 0 */
		if ((a | b | c) < 0 || (pad == 2 ? b & 0x0f : c & 0x03) != 0)
			return OFR_E_BAD_FIELD;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (pad == 1)
			out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	*outlen = o;
	return 0;
}
