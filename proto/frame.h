/*
 * frame.h: JSON text frames of protocol v1 (PROTOCOL.md), for the server and
 * the CLI alike. Parsing checks the envelope ("v", "type", "id"); the field
 * getters check each field's type and bounds and name the field that failed.
 * Nothing here knows the transport.
 */
#ifndef OFFRAMP_PROTO_FRAME_H
#define OFFRAMP_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/limits.h"

/* An incoming frame. The getters point into root; they stay valid until
 * frame_in_clear(). bad_field names the field that made a getter fail. */
struct frame_in {
	json_t *root;
	const char *type;
	int64_t id;		/* 0 when the frame has no valid id */
	const char *bad_field;
};

/*
 * Parses len bytes of text as a frame: a JSON object of at most
 * OFR_FRAME_MAX bytes and OFR_DEPTH_MAX levels with "v": 1, a string "type"
 * and, for requests, an integer "id" in 1..OFR_ID_MAX. Returns 0, or
 * OFR_E_TOO_BIG, OFR_E_BAD_JSON, OFR_E_BAD_VERSION, OFR_E_BAD_FIELD (field
 * "type" or "id"). in->id is set whenever the id could be read, so an error
 * can name the request. Call frame_in_clear() in every case.
 */
int frame_in_parse(struct frame_in *in, const char *buf, size_t len);
void frame_in_clear(struct frame_in *in);

/*
 * Field getters. Each returns 0 with *out set, 0 with *out left alone when
 * the field is absent and not required, or OFR_E_BAD_FIELD with
 * in->bad_field = key.
 */
/* A UTF-8 string of 1..maxlen bytes with no control characters. */
int frame_str(struct frame_in *in, const char *key, size_t maxlen,
    int required, const char **out);
/* A token: 1..OFR_TOKEN_MAX of [a-z0-9-], starting with a letter or digit. */
int frame_token(struct frame_in *in, const char *key, int required,
    const char **out);
/* A person's display name: frame_str of 1..OFR_NAME_MAX bytes, and
 * frame_is_display_name. */
int frame_name(struct frame_in *in, const char *key, int required,
    const char **out);
/* 1 if s may be a person's display name: no space or blank-looking
 * character at either end (Unicode's White_Space, U+2800, the Hangul
 * fillers), none of the invisible characters that make two names look
 * alike (Unicode's Default_Ignorable_Code_Point; the joiners and variation
 * selectors only after a non-ASCII character, as Persian, Indic scripts
 * and emoji use them, never at an end), and not "me" or "you" in any
 * case, nor their look-alikes in fullwidth, Cyrillic or Greek letters
 * (what the clients show for their own user). frame_str's checks are the
 * caller's. */
int frame_is_display_name(const char *s);
/* An integer in min..max. */
int frame_int(struct frame_in *in, const char *key, int64_t min, int64_t max,
    int required, int64_t *out);
int frame_bool(struct frame_in *in, const char *key, int required, int *out);
/* Base64 (RFC 4648, padded) that decodes to minlen..maxlen bytes into out
 * (capacity maxlen); *outlen gets the length. */
int frame_bin(struct frame_in *in, const char *key, size_t minlen,
    size_t maxlen, int required, uint8_t *out, size_t *outlen);
/* An array of at most maxn elements (elements unchecked). */
int frame_array(struct frame_in *in, const char *key, size_t maxn,
    int required, json_t **out);
/* An array of 0..OFR_LIST_MAX distinct tokens, joined as ",a,b," into out
 * (capacity outsz); the empty list gives ",". */
int frame_token_list(struct frame_in *in, const char *key, int required,
    char *out, size_t outsz);

/* A new frame {"v":1,"type":type} with "re": re when re > 0. NULL on OOM. */
json_t *frame_new(const char *type, int64_t re);
/* An error frame for request re (0: none) with code err and, when field
 * is not NULL, "field". */
json_t *frame_error(int64_t re, int err, const char *field);
/* Sets key to the base64 of len bytes. Returns 0 or OFR_E_NOMEM. */
int frame_set_bin(json_t *f, const char *key, const uint8_t *buf, size_t len);

/* Base64 (RFC 4648, padded) helpers, on sodium_bin2base64. */
#define OFR_B64_LEN(n)	((((n) + 2) / 3) * 4 + 1)	/* with the NUL */
void b64_encode(char *out, size_t outsz, const uint8_t *bin, size_t len);
/* The same text by a table, for public bytes alone (a ciphertext, a
 * public key, a message id): not in constant time, never for a secret. */
void b64_encode_public(char *out, size_t outsz, const uint8_t *bin,
    size_t len);
/* Decodes exactly; returns 0, or OFR_E_BAD_FIELD when not valid base64 or
 * longer than maxlen bytes. */
int b64_decode(uint8_t *out, size_t maxlen, size_t *outlen, const char *s,
    size_t slen);

#endif
