/*
 * caseload.c: what a counsellor does with its cases from the command line:
 * the queue of waiting cases it could take, take, pause, resume, reopen,
 * and case notes. A note is encrypted by the counsellor to itself, with a
 * key derived from its identity secret key: it never leaves in the clear
 * and its key never leaves at all, so the server only ever stores
 * ciphertext and nobody else can read it. Its plaintext is padded like a
 * message's (proto/pad.h), so that a stored note is 1024 or 16282 bytes
 * like a message (CRYPTO.md, "Case notes"); notes written before padding,
 * or padded to the old buckets, still read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/pad.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "keyfile.h"
#include "text.h"
#include "trust.h"

/* The contexts of the note keys: BLAKE2b keyed with the identity secret
 * key, over this string. v2 notes are padded; v1 notes (before padding)
 * are only read. Changing either makes the notes of its kind unreadable. */
#define NOTE_KEY_CONTEXT	"offramp-case-note-key-v2"
#define NOTE_KEY_CONTEXT_V1	"offramp-case-note-key-v1"
#define NOTE_CASE_BYTES		8	/* the case id, before the text */
#define NOTE_OVERHEAD	(crypto_secretbox_NONCEBYTES + \
	crypto_secretbox_MACBYTES)
#define NOTE_TEXT_MAX	(PAD_PLAINTEXT_MAX - NOTE_CASE_BYTES)
#if NOTE_OVERHEAD > PAD_OVERHEAD_MAX
#error "a note's overhead is over pad.h's: its sizes would differ"
#endif
#if PAD_WIRE_LONG > OFR_CT_MAX
#error "the largest padded note is over OFR_CT_MAX"
#endif

/* A command that moves one case: prints "case:", "status:" and, when
 * there is one, "client:", and "referral:" when the caller joins the case
 * as the counsellor of its referral (a take of a waiting referral). */
static int
move_case(struct cli *cli, int argc, char **argv, const char *type,
    const char *usage)
{
	json_t *resp = NULL, *kase, *p;
	int64_t id;
	size_t i;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, usage, &id)) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_ask(cli, type, id, &resp)) != 0)
		return rc;
	kase = json_object_get(resp, "case");
	printf("case: %lld\nstatus: ", (long long)id);
	text_puts(stdout, json_string_value(json_object_get(kase, "status")));
	fputc('\n', stdout);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *r = json_string_value(json_object_get(p, "role"));

		if (r != NULL && strcmp(r, "client") == 0) {
			fputs("client: ", stdout);
			text_puts(stdout, json_string_value(
			    json_object_get(p, "name")));
			fputc('\n', stdout);
		}
	}
	cases_print_referral_joined(cli, kase);
	(void)trust_check_case(cli, kase);	/* records the client's key */
	json_decref(resp);
	return 0;
}

int
cmd_take(struct cli *cli, int argc, char **argv)
{
	return move_case(cli, argc, argv, "case.take", "take CASE");
}

int
cmd_pause(struct cli *cli, int argc, char **argv)
{
	return move_case(cli, argc, argv, "case.pause", "pause CASE");
}

int
cmd_resume(struct cli *cli, int argc, char **argv)
{
	return move_case(cli, argc, argv, "case.resume", "resume CASE");
}

int
cmd_reopen(struct cli *cli, int argc, char **argv)
{
	return move_case(cli, argc, argv, "case.reopen", "reopen CASE");
}

int
cmd_queue(struct cli *cli, int argc, char **argv)
{
	json_t *resp = NULL;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_ask(cli, "case.queue", 0, &resp)) != 0)
		return rc;
	cases_print_waiting(cli, json_object_get(resp, "cases"),
	    "no waiting case you could take");
	json_decref(resp);
	return 0;
}

/* The note key of this identity for context (crypto_secretbox_KEYBYTES). */
static void
note_key(struct cli *cli, const char *context,
    uint8_t key[crypto_secretbox_KEYBYTES])
{
	crypto_generichash(key, crypto_secretbox_KEYBYTES,
	    (const uint8_t *)context, strlen(context),
	    keyfile_sk(cli->key), OFR_SK_BYTES);
}

static void
put_case_id(uint8_t out[NOTE_CASE_BYTES], int64_t id)
{
	for (int i = 0; i < NOTE_CASE_BYTES; i++)
		out[i] = (uint8_t)((uint64_t)id >> (8 * (7 - i)));
}

int
cmd_note(struct cli *cli, int argc, char **argv)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t *plain = NULL, *ct = NULL;
	char *pos[512], *b64 = NULL;
	json_t *req, *resp = NULL;
	size_t len = 0, plen, padded, ctlen;
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 512, &npos)) != 0)
		return rc;
	if (npos < 2 || cli_parse_id(pos[0], &id) != 0)
		return cli_usage("note CASE TEXT...");
	for (int i = 1; i < npos; i++)
		len += strlen(pos[i]) + 1;
	if (len - 1 > NOTE_TEXT_MAX)
		return cli_usage("a note is at most %d bytes",
		    (int)NOTE_TEXT_MAX);
	plen = NOTE_CASE_BYTES + len - 1;
	padded = pad_size(plen, NOTE_OVERHEAD);
	ctlen = NOTE_OVERHEAD + padded;
	if ((plain = sodium_malloc(padded)) == NULL ||
	    (ct = malloc(ctlen)) == NULL ||
	    (b64 = malloc(OFR_B64_LEN(ctlen))) == NULL) {
		rc = cli_fail(OFR_E_NOMEM, "note");
		goto out;
	}
	put_case_id(plain, id);
	len = NOTE_CASE_BYTES;
	for (int i = 1; i < npos; i++) {
		size_t n = strlen(pos[i]);

		memcpy(plain + len, pos[i], n);
		len += n;
		if (i + 1 < npos)
			plain[len++] = ' ';
	}
	if (!text_utf8_ok((char *)plain + NOTE_CASE_BYTES,
	    plen - NOTE_CASE_BYTES)) {
		rc = cli_usage("a note is UTF-8 text");
		goto out;
	}
	if ((rc = account_login(cli)) != 0)
		goto out;
	if ((rc = pad(plain, padded, &len, plain, plen, NOTE_OVERHEAD)) != 0 ||
	    len != padded) {
		rc = cli_fail(rc != 0 ? rc : OFR_E_INTERNAL, "note: padding");
		goto out;
	}
	note_key(cli, NOTE_KEY_CONTEXT, key);
	randombytes_buf(ct, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(ct + crypto_secretbox_NONCEBYTES, plain, padded,
	    ct, key);
	sodium_memzero(key, sizeof(key));
	b64_encode(b64, OFR_B64_LEN(ctlen), ct, ctlen);
	if ((rc = cli_new_request("note.add", &req)) != 0)
		goto out;
	json_object_set_new(req, "case", json_integer(id));
	json_object_set_new(req, "ct", json_string(b64));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		goto out;
	printf("note: %lld\n", (long long)json_integer_value(
	    json_object_get(resp, "id")));
	json_decref(resp);
out:
	sodium_free(plain);
	free(ct);
	free(b64);
	return rc;
}

/* The note keys: v2 (padded notes), v1 (before padding, read only). */
struct note_keys {
	uint8_t v2[crypto_secretbox_KEYBYTES];
	uint8_t v1[crypto_secretbox_KEYBYTES];
};

/* Decrypts one note of case id and prints "<time> <text>". 0, or
 * OFR_E_CRYPTO (not printed) when it does not open (or belongs to another
 * case). A note that opens with the v2 key must be padded; one that opens
 * with the v1 key is not. */
static int
print_note(const struct note_keys *keys, int64_t id, json_t *n)
{
	const char *s = json_string_value(json_object_get(n, "ct"));
	uint8_t *ct = NULL, *plain = NULL, want[NOTE_CASE_BYTES];
	size_t ctlen, plen;
	int rc = OFR_E_CRYPTO;

	if (s == NULL || (ct = malloc(OFR_CT_MAX)) == NULL)
		goto out;
	if (b64_decode(ct, OFR_CT_MAX, &ctlen, s, strlen(s)) != 0 ||
	    ctlen < NOTE_OVERHEAD + NOTE_CASE_BYTES)
		goto out;
	plen = ctlen - NOTE_OVERHEAD;
	if ((plain = sodium_malloc(plen)) == NULL)
		goto out;
	if (crypto_secretbox_open_easy(plain, ct + crypto_secretbox_NONCEBYTES,
	    ctlen - crypto_secretbox_NONCEBYTES, ct, keys->v2) == 0) {
		if (unpad(&plen, plain, plen, NOTE_OVERHEAD) != 0)
			goto out;
	} else if (crypto_secretbox_open_easy(plain, ct +
	    crypto_secretbox_NONCEBYTES, ctlen - crypto_secretbox_NONCEBYTES,
	    ct, keys->v1) != 0)
		goto out;
	if (plen < NOTE_CASE_BYTES)
		goto out;
	put_case_id(want, id);
	if (memcmp(plain, want, NOTE_CASE_BYTES) != 0)
		goto out;
	text_put_time(stdout, json_integer_value(json_object_get(n, "ts")));
	fputc(' ', stdout);
	text_put(stdout, (char *)plain + NOTE_CASE_BYTES,
	    plen - NOTE_CASE_BYTES);
	fputc('\n', stdout);
	if (cli_json_on())
		cli_json(json_pack("{s:I,s:s%}", "ts", (json_int_t)
		    json_integer_value(json_object_get(n, "ts")), "text",
		    (char *)plain + NOTE_CASE_BYTES, plen - NOTE_CASE_BYTES));
	rc = 0;
out:
	if (plain != NULL)
		sodium_free(plain);
	free(ct);
	return rc;
}

/* The most note.list pages one `notes` asks for: a case holds at most
 * 1000 notes of its counsellor, a page at least one. */
#define NOTES_PAGES_MAX	1000

int
cmd_notes(struct cli *cli, int argc, char **argv)
{
	struct note_keys keys;
	json_t *req, *resp = NULL, *n, *notes;
	int64_t id, after = 0, last;
	size_t i, shown = 0;
	int rc, bad = 0, more = 1;

	if ((rc = cli_one_case(cli, argc, argv, "notes CASE", &id)) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0)
		return rc;
	note_key(cli, NOTE_KEY_CONTEXT, keys.v2);
	note_key(cli, NOTE_KEY_CONTEXT_V1, keys.v1);
	/* a page at a time: the server gives as many as one frame holds,
	 * and "more" while the next ones wait (after the last id given) */
	for (int page = 0; more && page < NOTES_PAGES_MAX; page++) {
		if ((rc = cli_new_request("note.list", &req)) != 0)
			break;
		json_object_set_new(req, "case", json_integer(id));
		if (after > 0)
			json_object_set_new(req, "after", json_integer(after));
		if ((rc = cli_request(cli, req, &resp)) != 0)
			break;
		notes = json_object_get(resp, "notes");
		last = after;
		json_array_foreach(notes, i, n) {
			if (print_note(&keys, id, n) != 0)
				bad++;
			if (json_integer_value(json_object_get(n, "id")) > last)
				last = json_integer_value(json_object_get(n,
				    "id"));
			shown++;
		}
		/* no step forward: whatever the server says, no more */
		more = json_is_true(json_object_get(resp, "more")) &&
		    last > after;
		after = last;
		json_decref(resp);
		resp = NULL;
	}
	sodium_memzero(&keys, sizeof(keys));
	if (rc != 0)
		return rc;
	if (shown == 0)
		cli_none(NULL, "no notes in this case");
	if (bad > 0)
		return cli_fail(OFR_E_CRYPTO, "%d note(s) of case %lld do not "
		    "decrypt with this key", bad, (long long)id);
	return 0;
}
