/*
 * fuzz_frame.c: the request frame parser (proto/frame.c). The input is the
 * text of one frame, as dispatch_frame() gets it; when frame_in_parse()
 * takes it, every field getter runs on every key of it, so the fuzzer
 * needs no field names. What jsonfast takes (frame_in_parse's quick
 * read), jansson must take as the same value. The seeds are requests of
 * each kind.
 */
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/jsonfast.h"
#include "fuzz.h"

/* b64_decode, a table decoder, takes what libsodium's decoder takes
 * (with b64_decode's alphabet), and gives the same bytes, for buffers of
 * every size about the string's. */
static void
b64_agree(const char *s, size_t slen)
{
	static uint8_t a[OFR_CT_MAX], b[OFR_CT_MAX];
	size_t alen, blen, want = slen / 4 * 3, i;
	const char *end;
	int ra, rb, alpha = 1;

	if (slen > OFR_CT_MAX)
		return;
	for (i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];

		alpha &= (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
	}
	for (size_t m = want > 3 ? want - 3 : 0; m <= want + 1 &&
	    m <= sizeof(a); m++) {
		ra = b64_decode(a, m, &alen, s, slen);
		rb = alpha && sodium_base642bin(b, m, s, slen, NULL, &blen,
		    &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    end == s + slen ? 0 : OFR_E_BAD_FIELD;
		FUZZ_CHECK(ra == rb);
		if (ra == 0)
			FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
	}
}

static void
getters(struct frame_in *in, const char *key)
{
	json_t *v = json_object_get(in->root, key);
	const char *s = NULL;
	int64_t i = 0;
	int b = 0;
	json_t *arr = NULL;
	uint8_t bin[OFR_CT_MAX];
	size_t n = 0;
	char list[OFR_LIST_MAX * (OFR_TOKEN_MAX + 1) + 2];
	int rc;

	if ((rc = frame_str(in, key, OFR_NAME_MAX, 0, &s)) == 0 && s != NULL)
		FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= OFR_NAME_MAX);
	s = NULL;
	if (frame_token(in, key, 1, &s) == 0)
		FUZZ_CHECK(frame_is_token(s));
	(void)frame_int(in, key, INT64_MIN, INT64_MAX, 0, &i);
	(void)frame_int(in, key, 1, OFR_ID_MAX, 1, &i);
	(void)frame_bool(in, key, 0, &b);
	if (frame_bin(in, key, 0, sizeof(bin), 0, bin, &n) == 0)
		FUZZ_CHECK(n <= sizeof(bin));
	if (frame_bin(in, key, 32, 32, 1, bin, &n) == 0)
		FUZZ_CHECK(n == 32);
	if (json_is_string(v))
		b64_agree(json_string_value(v), json_string_length(v));
	(void)frame_array(in, key, OFR_COPIES_MAX, 0, &arr);
	list[0] = '\0';		/* left alone when the key is absent */
	if (frame_token_list(in, key, 0, list, sizeof(list)) == 0 &&
	    list[0] != '\0')
		FUZZ_CHECK(list[0] == ',' && list[strlen(list) - 1] == ',');
	rc = frame_token_list(in, key, 1, list, 8);	/* a short buffer */
	FUZZ_CHECK(rc == 0 || rc == OFR_E_BAD_FIELD);
	if (rc == 0)
		FUZZ_CHECK(strlen(list) < 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_in in;
	const char *key;
	json_t *v, *err, *fast, *slow;
	json_error_t jerr;
	int rc;

	/* what jsonfast takes, jansson takes too, as the same value */
	if ((fast = jsonfast_load((const char *)data, size)) != NULL) {
		slow = json_loadb((const char *)data, size,
		    JSON_REJECT_DUPLICATES, &jerr);
		FUZZ_CHECK(slow != NULL && json_equal(fast, slow));
		json_decref(slow);
		json_decref(fast);
	}
	rc = frame_in_parse(&in, (const char *)data, size);
	if (rc == 0) {
		FUZZ_CHECK(in.type != NULL && strlen(in.type) >= 1 &&
		    strlen(in.type) <= OFR_TYPE_MAX);
		FUZZ_CHECK(in.id >= 0 && in.id <= OFR_ID_MAX);
		json_object_foreach(in.root, key, v)
			getters(&in, key);
		getters(&in, "no such key");
	} else {
		FUZZ_CHECK(rc == OFR_E_TOO_BIG || rc == OFR_E_BAD_JSON ||
		    rc == OFR_E_BAD_VERSION || rc == OFR_E_BAD_FIELD);
	}
	/* The answer the server would send names the request and field. */
	err = frame_error(in.id, rc, in.bad_field);
	FUZZ_CHECK(err != NULL);
	json_decref(err);
	frame_in_clear(&in);
	return 0;
}
