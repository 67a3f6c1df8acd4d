/*
 * feedback.c: anonymous feedback at the end of a case (PROTOCOL.md,
 * "Feedback"). A client rates a closed case once, and may write a text
 * that it seals to each admin of the programme whose key a programme key
 * it trusts certified as an admin (trust_admin_cert); with none, the text
 * cannot be sent and only the ratings go. An admin lists its programme's
 * feedback and opens the texts sealed to it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/feedback.h"
#include "proto/frame.h"
#include "account.h"
#include "cli.h"
#include "keyfile.h"
#include "pool.h"
#include "text.h"
#include "trust.h"

/* "yes" 1, "no" 0, NULL or "skip" -1; else OFR_E_USAGE (printed). */
static int
yes_no(const char *s, const char *what, int *out)
{
	*out = -1;
	if (s == NULL || strcmp(s, "skip") == 0)
		return 0;
	if (strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0)
		*out = 0;
	else
		return cli_usage("%s yes|no", what);
	return 0;
}

/* Asks on the terminal: a line into buf (newline cut), "" at EOF. */
static void
ask(const char *q, char *buf, size_t n)
{
	fputs(q, stderr);
	if (fgets(buf, (int)n, stdin) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The sealed copies of text for the trusted admins of the case's
 * programme into *copies (a new array, possibly empty). */
static int
seal_text(struct cli *cli, int64_t case_id, const char *text, json_t **copies)
{
	uint8_t key[OFR_PK_BYTES], sealed[FEEDBACK_SEALED_BYTES];
	json_t *resp = NULL, *e;
	int64_t prog;
	size_t i, n;
	int rc;

	if ((rc = cli_ask(cli, "feedback.keys", case_id, &resp)) != 0)
		return rc;
	prog = json_integer_value(json_object_get(resp, "programme"));
	*copies = json_array();
	json_array_foreach(json_object_get(resp, "admins"), i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		json_t *c;

		if (k == NULL || b64_decode(key, sizeof(key), &n, k,
		    strlen(k)) != 0 || n != OFR_PK_BYTES)
			continue;
		rc = trust_admin_cert(cli, key, json_string_value(
		    json_object_get(e, "cert")), prog);
		if (rc == OFR_E_CRYPTO)
			continue;	/* not an admin we can trust */
		if (rc != 0)
			break;
		if ((rc = feedback_seal(sealed, key, text, strlen(text))) != 0)
			break;
		c = json_object();
		json_object_set_new(c, "to", json_string(k));
		frame_set_bin(c, "ct", sealed, sizeof(sealed));
		json_array_append_new(*copies, c);
	}
	json_decref(resp);
	if (rc != 0 && rc != OFR_E_CRYPTO) {
		json_decref(*copies);
		*copies = NULL;
		return rc == OFR_E_USAGE ? cli_fail(rc, "the text must be 1 to "
		    "%d bytes", FEEDBACK_TEXT_MAX) : rc;
	}
	return 0;
}

static int
feedback_give(struct cli *cli, int64_t case_id, const char *h, const char *r,
    const char *text)
{
	char hb[16], rb[16], tb[FEEDBACK_TEXT_MAX + 2];
	json_t *req, *resp = NULL, *copies = NULL;
	int rc, helpful, recommend;

	if (h == NULL && r == NULL && text == NULL &&
	    isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		fputs("Anonymous feedback: it names no case and no account; "
		    "the text is sealed to the programme's admins. Enter to "
		    "skip.\n", stderr);
		ask("Was it helpful? [yes/no] ", hb, sizeof(hb));
		ask("Would you recommend it? [yes/no] ", rb, sizeof(rb));
		ask("Anything else (one line): ", tb, sizeof(tb));
		h = hb[0] ? hb : NULL;
		r = rb[0] ? rb : NULL;
		text = tb[0] ? tb : NULL;
	}
	if ((rc = yes_no(h, "--helpful", &helpful)) != 0 ||
	    (rc = yes_no(r, "--recommend", &recommend)) != 0)
		return rc;
	if (text != NULL && (strlen(text) == 0 ||
	    strlen(text) > FEEDBACK_TEXT_MAX))
		return cli_usage("--text: 1 to %d bytes", FEEDBACK_TEXT_MAX);
	if (helpful < 0 && recommend < 0 && text == NULL)
		return cli_usage("feedback CASE [--helpful yes|no] "
		    "[--recommend yes|no] [--text TEXT]: give at least one");
	if ((rc = account_login(cli)) != 0)
		return rc;
	if (text != NULL && (rc = seal_text(cli, case_id, text,
	    &copies)) != 0)
		return rc;
	if (copies != NULL && json_array_size(copies) == 0) {
		fputs("offramp: the text cannot be sent: no admin of the "
		    "programme has a key certified by a programme key you "
		    "trust\n", stderr);
		json_decref(copies);
		copies = NULL;
		if (helpful < 0 && recommend < 0)
			return cli_fail(OFR_E_CRYPTO, "nothing else to send");
	}
	if ((rc = cli_new_request("feedback.send", &req)) != 0) {
		json_decref(copies);
		return rc;
	}
	json_object_set_new(req, "case", json_integer(case_id));
	if (helpful >= 0)
		json_object_set_new(req, "helpful", json_boolean(helpful));
	if (recommend >= 0)
		json_object_set_new(req, "recommend", json_boolean(recommend));
	if (copies != NULL)
		json_object_set_new(req, "text", copies);
	sodium_memzero(tb, sizeof(tb));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	printf("feedback: sent\ntext: %s\n", text == NULL ? "none" :
	    copies != NULL ? "sealed to the programme's admins" : "not sent");
	return 0;
}

static const char *
word(json_t *v)
{
	return json_is_true(v) ? "yes" : json_is_false(v) ? "no" : "-";
}

static int
feedback_read(struct cli *cli)
{
	uint8_t sealed[FEEDBACK_SEALED_BYTES];
	char text[FEEDBACK_TEXT_MAX + 1];
	json_t *req, *resp = NULL, *t, *e;
	const char *ct;
	size_t i, n;
	int rc;

	if ((rc = cli_new_request("feedback.list", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	t = json_object_get(resp, "totals");
	fputs("totals: entries=", stdout);
	pool_put_count(json_object_get(t, "entries"));
	fputs(" helpful=", stdout);
	pool_put_count(json_object_get(t, "helpful_yes"));
	fputs("/", stdout);
	pool_put_count(json_object_get(t, "helpful_no"));
	fputs(" recommend=", stdout);
	pool_put_count(json_object_get(t, "recommend_yes"));
	fputs("/", stdout);
	pool_put_count(json_object_get(t, "recommend_no"));
	fputc('\n', stdout);
	json_array_foreach(json_object_get(resp, "entries"), i, e) {
		fputs("week=", stdout);
		text_puts(stdout, json_string_value(json_object_get(e, "week")));
		printf(" helpful=%s recommend=%s",
		    word(json_object_get(e, "helpful")),
		    word(json_object_get(e, "recommend")));
		ct = json_string_value(json_object_get(e, "text"));
		if (ct == NULL)
			fputs(" text: -\n", stdout);
		else if (b64_decode(sealed, sizeof(sealed), &n, ct,
		    strlen(ct)) != 0 || n != sizeof(sealed) ||
		    feedback_open(text, sealed, keyfile_sk(cli->key)) != 0)
			fputs(" text: (cannot be opened)\n", stdout);
		else {
			fputs(" text: ", stdout);
			text_puts(stdout, text);
			fputc('\n', stdout);
			sodium_memzero(text, sizeof(text));
		}
	}
	/* totals.entries is null under 5, and then no entry is given */
	cli_none(json_object_get(resp, "entries"),
	    json_is_null(json_object_get(t, "entries")) ?
	    "fewer than 5 entries: none shown" : "no feedback");
	if (json_is_true(json_object_get(resp, "more")))
		fputs("offramp: more entries than one answer holds: those "
		    "listed are the newest, and the totals theirs\n", stderr);
	json_decref(resp);
	return 0;
}

int
cmd_feedback(struct cli *cli, int argc, char **argv)
{
	const char *h = NULL, *r = NULL, *text = NULL;
	const struct cli_opt opts[] = {
		{ "--helpful", &h, NULL },
		{ "--recommend", &r, NULL },
		{ "--text", &text, NULL },
		{ NULL, NULL, NULL },
	};
	char *pos[1];
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos == 0) {		/* an admin reads */
		if (h != NULL || r != NULL || text != NULL)
			return cli_usage("feedback CASE [--helpful yes|no] "
			    "[--recommend yes|no] [--text TEXT]");
		if ((rc = account_login(cli)) != 0)
			return rc;
		if (keyfile_role(cli->key) != KEY_ROLE_ADMIN)
			return cli_fail(OFR_E_FORBIDDEN, "only an admin reads "
			    "feedback; a client gives it: offramp feedback "
			    "CASE");
		return feedback_read(cli);
	}
	if (cli_parse_id(pos[0], &id) != 0)
		return cli_usage("feedback CASE: a case id");
	return feedback_give(cli, id, h, r, text);
}
