/*
 * pool.c: the programme admin's tools from the command line: the
 * counsellors of the programme (list, update, disable, enable), pool
 * figures, the audit log and the programme's public profile. Everything
 * acts on the admin's own programme, which the server checks; it keeps
 * nothing of its own in the local store.
 */
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "account.h"
#include "cli.h"
#include "text.h"

/* 1 if s is the base64 of a 32-byte key. */
static int
key_ok(const char *s)
{
	uint8_t k[OFR_PK_BYTES];
	size_t n;

	return b64_decode(k, sizeof(k), &n, s, strlen(s)) == 0 &&
	    n == OFR_PK_BYTES;
}

static const char *
yes_no(json_t *v)
{
	return json_is_true(v) ? "yes" : "no";
}

int
cmd_counsellors(struct cli *cli, int argc, char **argv)
{
	json_t *req, *resp = NULL, *c;
	size_t i;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_new_request("counsellor.list", &req)) != 0)
		return rc;
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_array_foreach(json_object_get(resp, "counsellors"), i, c) {
		json_t *p = json_object_get(c, "profile");

		text_puts(stdout, json_string_value(json_object_get(c,
		    "key")));
		fputc(' ', stdout);
		text_puts(stdout, json_string_value(json_object_get(p,
		    "name")));
		printf(" open=%lld capacity=%lld presence=",
		    (long long)json_integer_value(json_object_get(p, "open")),
		    (long long)json_integer_value(json_object_get(p,
		    "capacity")));
		text_puts(stdout, json_string_value(json_object_get(p,
		    "presence")));
		printf(" certified=%s disabled=%s\n",
		    yes_no(json_object_get(p, "certified")),
		    yes_no(json_object_get(p, "disabled")));
	}
	json_decref(resp);
	return 0;
}

int
cmd_counsellor_update(struct cli *cli, int argc, char **argv)
{
	struct account_profile pf = { 0 };
	const struct cli_opt opts[] = {
		ACCOUNT_PROFILE_OPTS(pf),
		{ "--capacity", &pf.capacity, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req;
	char *pos[1];
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || !key_ok(pos[0]))
		return cli_usage("counsellor-update KEY [profile options] "
		    "(KEY as offramp counsellors prints it)");
	if ((rc = cli_new_request("counsellor.update", &req)) != 0)
		return rc;
	json_object_set_new(req, "key", json_string(pos[0]));
	return account_send_profile(cli, req, &pf, "counsellor.update");
}

/* disable and enable: {"type", "key"}, then the profile. */
static int
key_command(struct cli *cli, int argc, char **argv, const char *type,
    const char *usage)
{
	json_t *req, *resp = NULL;
	char *pos[1];
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || !key_ok(pos[0]))
		return cli_usage("%s", usage);
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_new_request(type, &req)) != 0)
		return rc;
	json_object_set_new(req, "key", json_string(pos[0]));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	rc = account_print_profile(resp, type);
	json_decref(resp);
	return rc;
}

int
cmd_disable(struct cli *cli, int argc, char **argv)
{
	return key_command(cli, argc, argv, "counsellor.disable",
	    "disable KEY");
}

int
cmd_enable(struct cli *cli, int argc, char **argv)
{
	return key_command(cli, argc, argv, "counsellor.enable",
	    "enable KEY");
}

/* " name=Ns" of an integer, or " name=-" of null. */
static void
put_secs(const char *name, json_t *v)
{
	if (json_is_integer(v))
		printf(" %s=%llds", name, (long long)json_integer_value(v));
	else
		printf(" %s=-", name);
}

int
cmd_stats(struct cli *cli, int argc, char **argv)
{
	json_t *req, *resp = NULL, *fr, *c;
	size_t i;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_new_request("pool.stats", &req)) != 0)
		return rc;
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	fr = json_object_get(resp, "first_response");
	printf("queue: %lld\nfirst-response: cases=%lld",
	    (long long)json_integer_value(json_object_get(resp, "queue")),
	    (long long)json_integer_value(json_object_get(fr, "cases")));
	put_secs("median", json_object_get(fr, "median"));
	put_secs("p90", json_object_get(fr, "p90"));
	fputc('\n', stdout);
	json_array_foreach(json_object_get(resp, "counsellors"), i, c) {
		fputs("counsellor ", stdout);
		text_puts(stdout, json_string_value(json_object_get(c,
		    "name")));
		printf(" open=%lld capacity=%lld presence=",
		    (long long)json_integer_value(json_object_get(c, "open")),
		    (long long)json_integer_value(json_object_get(c,
		    "capacity")));
		text_puts(stdout, json_string_value(json_object_get(c,
		    "presence")));
		fputc('\n', stdout);
	}
	json_decref(resp);
	return 0;
}

/* A word of an audit line: the string, or "-" when null or empty. */
static void
put_word(json_t *v)
{
	const char *s = json_string_value(v);

	text_puts(stdout, s != NULL && s[0] != '\0' ? s : "-");
}

int
cmd_audit(struct cli *cli, int argc, char **argv)
{
	const char *limit_s = NULL, *before_s = NULL;
	const struct cli_opt opts[] = {
		{ "--limit", &limit_s, NULL },
		{ "--before", &before_s, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req, *resp = NULL, *e;
	int64_t limit = 0, before = 0;
	size_t i;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (limit_s != NULL && (cli_parse_id(limit_s, &limit) != 0 ||
	    limit > 100))
		return cli_usage("--limit is 1..100");
	if (before_s != NULL && cli_parse_id(before_s, &before) != 0)
		return cli_usage("--before is an audit entry id");
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_new_request("audit.list", &req)) != 0)
		return rc;
	if (limit > 0)
		json_object_set_new(req, "limit", json_integer(limit));
	if (before > 0)
		json_object_set_new(req, "before", json_integer(before));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_array_foreach(json_object_get(resp, "entries"), i, e) {
		printf("%lld ", (long long)json_integer_value(
		    json_object_get(e, "id")));
		text_put_time(stdout, json_integer_value(json_object_get(e,
		    "ts")));
		fputc(' ', stdout);
		put_word(json_object_get(e, "actor"));
		fputc(' ', stdout);
		put_word(json_object_get(e, "action"));
		fputc(' ', stdout);
		put_word(json_object_get(e, "target"));
		fputc(' ', stdout);
		put_word(json_object_get(e, "detail"));
		fputc('\n', stdout);
	}
	json_decref(resp);
	return 0;
}

int
cmd_programme_set(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL, *description = NULL, *languages = NULL;
	const char *topics = NULL, *regions = NULL, *formats = NULL;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ "--description", &description, NULL },
		{ "--languages", &languages, NULL },
		{ "--topics", &topics, NULL },
		{ "--regions", &regions, NULL },
		{ "--formats", &formats, NULL },
		{ NULL, NULL, NULL }
	};
	const struct {
		const char *field, **val;
	} lists[] = {
		{ "languages", &languages }, { "topics", &topics },
		{ "regions", &regions }, { "formats", &formats },
	};
	json_t *req, *resp = NULL, *p, *list;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if ((rc = cli_new_request("programme.set", &req)) != 0)
		return rc;
	if (name != NULL) {
		if (!account_name_ok(name)) {
			json_decref(req);
			return cli_usage("a name is 1..%d bytes of UTF-8 "
			    "without control characters", OFR_NAME_MAX);
		}
		json_object_set_new(req, "name", json_string(name));
	}
	if (description != NULL) {
		if (strlen(description) > 512 ||
		    !text_utf8_ok(description, strlen(description))) {
			json_decref(req);
			return cli_usage("a description is at most 512 bytes "
			    "of UTF-8");
		}
		json_object_set_new(req, "description",
		    json_string(description));
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (*lists[i].val == NULL)
			continue;
		if ((rc = cli_token_list(*lists[i].val, lists[i].field,
		    &list)) != 0) {
			json_decref(req);
			return rc;
		}
		json_object_set_new(req, lists[i].field, list);
	}
	if ((rc = account_login(cli)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	p = json_object_get(resp, "programme");
	printf("programme: %lld\nname: ", (long long)json_integer_value(
	    json_object_get(p, "id")));
	text_puts(stdout, json_string_value(json_object_get(p, "name")));
	fputs("\ndescription: ", stdout);
	text_puts(stdout, json_string_value(json_object_get(p,
	    "description")));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		printf("\n%s: ", lists[i].field);
		text_put_list(stdout, json_object_get(p, lists[i].field), ",");
	}
	fputc('\n', stdout);
	json_decref(resp);
	return 0;
}
