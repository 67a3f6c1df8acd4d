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
#include "proto/safety.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "pool.h"
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

const char *
pool_entry_name(json_t *e)
{
	const char *n = json_string_value(json_object_get(e, "name"));

	return n != NULL ? n : json_string_value(json_object_get(
	    json_object_get(e, "profile"), "name"));
}

/* 1 if word names entry e (pool_find_named). */
static int
names(json_t *e, const char *word)
{
	uint8_t key[OFR_PK_BYTES];
	char fpr[FPR_STR_BYTES], bare[FPR_STR_BYTES];
	const char *n = pool_entry_name(e);
	const char *k = json_string_value(json_object_get(e, "key"));
	size_t j = 0;

	if (n != NULL && strcmp(n, word) == 0)
		return 1;
	if (k != NULL && strlen(word) >= POOL_PREFIX_MIN &&
	    strncmp(k, word, strlen(word)) == 0)
		return 1;
	if (cases_participant_key(e, key) != 0)
		return 0;
	key_fingerprint(fpr, key);
	for (const char *p = fpr; *p != '\0'; p++)
		if (*p != ' ')
			bare[j++] = *p;
	bare[j] = '\0';
	return strcmp(fpr, word) == 0 || strcmp(bare, word) == 0;
}

int
pool_find_named(json_t *list, const char *word, json_t **e)
{
	char fpr[FPR_STR_BYTES];
	uint8_t key[OFR_PK_BYTES];
	json_t *v;
	size_t i;
	int n = 0;

	json_array_foreach(list, i, v)
		if (names(v, word)) {
			*e = v;
			n++;
		}
	if (n == 1)
		return 0;
	if (n == 0)
		return cli_fail(OFR_E_NOT_FOUND, "%s names no counsellor here "
		    "(offramp counsellors lists them)", word);
	(void)cli_fail(OFR_E_USAGE, "%s names %d counsellors; name one by "
	    "its fingerprint or key:", word, n);
	json_array_foreach(list, i, v) {
		if (!names(v, word))
			continue;
		strcpy(fpr, "?");
		if (cases_participant_key(v, key) == 0)
			key_fingerprint(fpr, key);
		fputs("  ", stderr);
		text_puts(stderr, pool_entry_name(v));
		fprintf(stderr, " fingerprint=%s key=", fpr);
		text_puts(stderr, json_string_value(json_object_get(v,
		    "key")));
		fputc('\n', stderr);
	}
	return OFR_E_USAGE;
}

int
pool_key_of(struct cli *cli, const char *word,
    char key[OFR_B64_LEN(OFR_PK_BYTES)])
{
	json_t *req, *resp = NULL, *e;
	int rc;

	if (key_ok(word)) {
		snprintf(key, OFR_B64_LEN(OFR_PK_BYTES), "%s", word);
		return 0;
	}
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request("counsellor.list", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	if ((rc = pool_find_named(json_object_get(resp, "counsellors"), word,
	    &e)) == 0)
		snprintf(key, OFR_B64_LEN(OFR_PK_BYTES), "%s",
		    json_string_value(json_object_get(e, "key")));
	json_decref(resp);
	return rc;
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
	cli_none(json_object_get(resp, "counsellors"), "no counsellors yet: "
	    "invite one with offramp invite");
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
		printf(" certified=%s disabled=%s connections=%lld "
		    "new-cases=%s\n",
		    yes_no(json_object_get(p, "certified")),
		    yes_no(json_object_get(p, "disabled")),
		    (long long)json_integer_value(json_object_get(p,
		    "connections")), account_matching(p, 1));
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
	char key[OFR_B64_LEN(OFR_PK_BYTES)];
	json_t *req;
	char *pos[1];
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_usage("counsellor-update COUNSELLOR [profile "
		    "options] (its name, fingerprint, key or key prefix)");
	if ((rc = pool_key_of(cli, pos[0], key)) != 0 ||
	    (rc = cli_new_request("counsellor.update", &req)) != 0)
		return rc;
	json_object_set_new(req, "key", json_string(key));
	return account_send_profile(cli, req, &pf, "counsellor.update");
}

/* The request {"type", "key"} for the counsellor named by the one
 * argument: *resp is the answer (the caller's), key its key. */
static int
key_request(struct cli *cli, int argc, char **argv, const char *type,
    const char *usage, char key[OFR_B64_LEN(OFR_PK_BYTES)], json_t **resp)
{
	json_t *req;
	char *pos[1];
	int npos, rc;

	*resp = NULL;
	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_usage("%s", usage);
	if ((rc = pool_key_of(cli, pos[0], key)) != 0 ||
	    (rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request(type, &req)) != 0)
		return rc;
	json_object_set_new(req, "key", json_string(key));
	return cli_request(cli, req, resp);
}

/* admin-disable and admin-enable print the key and whether it is
 * disabled (an admin has no profile). */
static int
print_admin(json_t *resp, const char *type, const char *key)
{
	(void)type;
	printf("key: %s\ndisabled: %s\n", key,
	    json_is_true(json_object_get(resp, "disabled")) ? "yes" : "no");
	return 0;
}

/* disable and enable: key_request, then the profile. */
static int
print_profile(json_t *resp, const char *type, const char *key)
{
	(void)key;
	return account_print_profile(resp, type);
}

/* key_request, then print of its answer. */
static int
key_command(struct cli *cli, int argc, char **argv, const char *type,
    const char *usage,
    int (*print)(json_t *resp, const char *type, const char *key))
{
	char key[OFR_B64_LEN(OFR_PK_BYTES)];
	json_t *resp;
	int rc;

	if ((rc = key_request(cli, argc, argv, type, usage, key,
	    &resp)) != 0)
		return rc;
	rc = print(resp, type, key);
	json_decref(resp);
	return rc;
}

int
cmd_disable(struct cli *cli, int argc, char **argv)
{
	return key_command(cli, argc, argv, "counsellor.disable",
	    "disable COUNSELLOR (its name, fingerprint, key or key prefix)",
	    print_profile);
}

int
cmd_enable(struct cli *cli, int argc, char **argv)
{
	return key_command(cli, argc, argv, "counsellor.enable",
	    "enable COUNSELLOR (its name, fingerprint, key or key prefix)",
	    print_profile);
}

/* admin-disable and admin-enable: another admin of the programme, by
 * its key (admins are in no list a name could be looked up in). */
int
cmd_admin_disable(struct cli *cli, int argc, char **argv)
{
	return key_command(cli, argc, argv, "admin.disable",
	    "admin-disable KEY (another admin's key, base64)", print_admin);
}

int
cmd_admin_enable(struct cli *cli, int argc, char **argv)
{
	return key_command(cli, argc, argv, "admin.enable",
	    "admin-enable KEY (another admin's key, base64)", print_admin);
}

int
cmd_counsellor_delete(struct cli *cli, int argc, char **argv)
{
	char key[OFR_B64_LEN(OFR_PK_BYTES)];
	json_t *resp;
	int rc;

	if ((rc = key_request(cli, argc, argv, "counsellor.delete",
	    "counsellor-delete COUNSELLOR (its name, fingerprint, key or key "
	    "prefix)", key, &resp)) != 0)
		return rc;
	printf("key: %s\ndeleted: yes\n", key);
	printf("The counsellor's account, profile and prekeys are deleted; "
	    "its open cases went back to matching.\n");
	json_decref(resp);
	return 0;
}

void
pool_put_count(json_t *v)
{
	if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else
		fputs("fewer than 5", stdout);
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
	fputs("queue: ", stdout);
	pool_put_count(json_object_get(resp, "queue"));
	fputs("\nfirst-response: cases=", stdout);
	pool_put_count(json_object_get(fr, "cases"));
	put_secs("median", json_object_get(fr, "median"));
	put_secs("p90", json_object_get(fr, "p90"));
	fputc('\n', stdout);
	fputs("referred-external: ", stdout);
	pool_put_count(json_object_get(resp, "referred_external"));
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
	if (json_is_true(json_object_get(resp, "more")))
		fputs("offramp: more counsellors than one answer holds: "
		    "those of the highest ids are not listed (offramp "
		    "counsellors lists them)\n", stderr);
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
	cli_none(json_object_get(resp, "entries"), "no audit entries");
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
	const char *intake_code = NULL;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ "--description", &description, NULL },
		{ "--languages", &languages, NULL },
		{ "--topics", &topics, NULL },
		{ "--regions", &regions, NULL },
		{ "--formats", &formats, NULL },
		{ "--intake-code", &intake_code, NULL },
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
	if (intake_code != NULL) {
		/* "": no code asked any more */
		if (*intake_code != '\0' &&
		    !frame_is_intake_code(intake_code)) {
			json_decref(req);
			return cli_usage("an intake code is %d..%d of A-Z, "
			    "a-z, 0-9, - (\"\" for none)", OFR_INTAKE_CODE_MIN,
			    OFR_INTAKE_CODE_MAX);
		}
		json_object_set_new(req, "intake_code",
		    json_string(intake_code));
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
	printf("\nintake_code: %s\n", json_is_true(json_object_get(p,
	    "intake_code")) ? "asked" : "none");
	json_decref(resp);
	return 0;
}
