/*
 * refer_external.c: the command refer-external, by which a counsellor refers a
 * case to an external partner (PROTOCOL.md, case.referred). The card
 * (CRYPTO.md, "Plaintext envelope", kind referral) is made from the
 * partner's entry in the programme's directory (partner.directory: its
 * name and contact, shown to the counsellor, who agrees to them:
 * card_agreed) and what the counsellor adds (what to expect, what to
 * say), and sent end-to-end encrypted like a text (messages_send);
 * only then is the server told that the case was referred, and nothing
 * of the card. Its readable form is meetings_render's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/envelope.h"
#include "proto/err.h"
#include "account.h"
#include "cli.h"
#include "meetings.h"
#include "messages.h"
#include "text.h"

#define REFER_USAGE \
	"refer-external CASE EXTERNAL-ID [--contact TEXT] [--expect TEXT] " \
	"[--say TEXT]"

/*
 * The directory is the server's word: the name and contact it gives are
 * shown, and go only once the counsellor agreed to them: on a terminal,
 * asked; else only with --contact, which must be the directory's
 * contact, as the counsellor knows it. 0, or OFR_E_CRYPTO (printed).
 */
static int
card_agreed(const char *name, const char *contact, const char *expected)
{
	char line[16];

	fputs("the card names: ", stderr);
	text_puts(stderr, name);
	fputs("; contact: ", stderr);
	text_puts(stderr, contact);
	fputc('\n', stderr);
	if (expected != NULL) {
		if (strcmp(expected, contact) == 0)
			return 0;
		return cli_fail(OFR_E_CRYPTO, "not sent: the directory's "
		    "contact is not the one given with --contact");
	}
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		fputs("Send the client this contact? [y/N] ", stderr);
		if (fgets(line, sizeof(line), stdin) != NULL &&
		    (strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0))
			return 0;
		return cli_fail(OFR_E_CRYPTO, "not sent");
	}
	return cli_fail(OFR_E_CRYPTO, "not sent: the contact comes from the "
	    "server; check it above, then give it with --contact (or run "
	    "this on a terminal, which asks)");
}

/* The external partner id of the directory into *name and *contact
 * (pointers into resp). 0 or OFR_E_NOT_FOUND (printed). */
static int
find_external(json_t *resp, int64_t id, const char **name,
    const char **contact)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(resp, "external"), i, e) {
		if (json_integer_value(json_object_get(e, "id")) != id)
			continue;
		*name = json_string_value(json_object_get(e, "name"));
		*contact = json_string_value(json_object_get(e, "contact"));
		if (*name == NULL || *contact == NULL)
			break;
		return 0;
	}
	return cli_fail(OFR_E_NOT_FOUND, "no external partner %lld in your "
	    "programme's directory (offramp directory)", (long long)id);
}

/* A field of the card: UTF-8 within max bytes. */
static int
card_field(struct envelope_referral *r, int i, const char *what,
    const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > max)
		return cli_fail(OFR_E_TOO_BIG, "%s: at most %zu bytes", what,
		    max);
	if (n > 0 && !text_utf8_ok(s, n))
		return cli_usage("%s: not UTF-8 text", what);
	r->field[i] = (const uint8_t *)s;
	r->len[i] = n;
	return 0;
}

int
cmd_refer_external(struct cli *cli, int argc, char **argv)
{
	const char *expect = NULL, *say = NULL, *name = NULL, *contact = NULL;
	const char *expected = NULL;
	const struct cli_opt opts[] = {
		{ "--contact", &expected, NULL },
		{ "--expect", &expect, NULL },
		{ "--say", &say, NULL },
		{ NULL, NULL, NULL }
	};
	struct envelope e;
	json_t *req, *resp = NULL, *ans = NULL;
	char *pos[2], *text = NULL;
	int64_t case_id, ext;
	size_t len = 0;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2 || cli_parse_id(pos[0], &case_id) != 0 ||
	    cli_parse_id(pos[1], &ext) != 0)
		return cli_usage(REFER_USAGE);
	memset(&e, 0, sizeof(e));
	e.kind = ENVELOPE_REFERRAL;
	if ((rc = card_field(&e.referral, ENVELOPE_RF_EXPECT, "--expect",
	    expect, ENVELOPE_REFERRAL_NOTE_MAX)) != 0 ||
	    (rc = card_field(&e.referral, ENVELOPE_RF_SAY, "--say", say,
	    ENVELOPE_REFERRAL_NOTE_MAX)) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request("partner.directory", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	if ((rc = find_external(resp, ext, &name, &contact)) != 0 ||
	    (rc = card_field(&e.referral, ENVELOPE_RF_NAME, "the name",
	    name, ENVELOPE_REFERRAL_NAME_MAX)) != 0 ||
	    (rc = card_field(&e.referral, ENVELOPE_RF_CONTACT, "the contact",
	    contact, ENVELOPE_REFERRAL_CONTACT_MAX)) != 0 ||
	    (rc = card_agreed(name, contact, expected)) != 0)
		goto out;
	if ((rc = meetings_render(&e, &text, &len)) != 0) {
		rc = cli_fail(rc, "render");
		goto out;
	}
	/* the card first: the server hears of the referral only once the
	 * client has it */
	if ((rc = messages_send(cli, case_id, &e, text, len)) != 0)
		goto out;
	if ((rc = cli_new_request("case.referred", &req)) != 0)
		goto out;
	json_object_set_new(req, "case", json_integer(case_id));
	if ((rc = cli_request(cli, req, &ans)) != 0)
		goto out;
	printf("referred: %lld\n", (long long)case_id);
out:
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	json_decref(ans);
	json_decref(resp);
	return rc;
}
