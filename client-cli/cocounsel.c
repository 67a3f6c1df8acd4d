/*
 * cocounsel.c: co-counselling and the admin's waiting queue from the
 * command line (PROTOCOL.md, "Co-counselling", "No stranded case"):
 * bringing a colleague into a case (bring), the case's members present
 * and former, in words, confirmed to the server once shown (members:
 * case.seen), removing a colleague (remove), and an admin's queue and
 * assignment (waiting, assign). A colleague is shown only after its
 * certificate is checked against the programme keys this user trusts;
 * nothing is confirmed that was not shown.
 */
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "keyfile.h"
#include "pool.h"
#include "text.h"
#include "trust.h"

static const char *const kinds[] = { "supervisor", "co-counsellor",
    "language-helper", NULL };

const char *
cocounsel_reason_words(const char *reason)
{
	static const struct {
		const char *reason, *words;
	} w[] = {
		{ "reassigned", "left: the client asked for another counsellor" },
		{ "disabled", "left: the programme's admin disabled the "
		    "counsellor's account" },
		{ "removed", "left: removed from the case at a participant's "
		    "request" },
		{ "left", "left the case by itself" },
		{ "referral", "left: the case was referred" },
		{ "partnership", "left: the partnership between the programmes "
		    "ended" },
	};

	for (size_t i = 0; reason != NULL && i < sizeof(w) / sizeof(w[0]);
	    i++)
		if (strcmp(reason, w[i].reason) == 0)
			return w[i].words;
	return "left";
}

/* Prints "NAME (AS) STATE" lines for the participants of kase, and
 * "NAME (AS) WORDS TIME" for the former ones. */
static void
print_members(json_t *kase)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *state = json_string_value(json_object_get(p,
		    "state"));

		fputs("member ", stdout);
		text_puts(stdout, cases_participant_name(p));
		fputs(" (", stdout);
		text_puts(stdout, json_string_value(json_object_get(p, "as")));
		fputs(") ", stdout);
		text_puts(stdout, state != NULL && strcmp(state, "joining") ==
		    0 ? "joining: nothing can be written to it until every "
		    "participant has been told" : "in the case");
		fputc('\n', stdout);
	}
	json_array_foreach(json_object_get(kase, "former"), i, p) {
		fputs("former ", stdout);
		text_puts(stdout, cases_participant_name(p));
		fputs(" (", stdout);
		text_puts(stdout, json_string_value(json_object_get(p, "as")));
		fputs(") ", stdout);
		text_puts(stdout, cocounsel_reason_words(json_string_value(
		    json_object_get(p, "reason"))));
		fputs(" at ", stdout);
		text_put_time(stdout, json_integer_value(json_object_get(p,
		    "left")));
		fputc('\n', stdout);
	}
}

/* The colleagues of kase, as shown, become those whose keys are sealed
 * to in it (keyfile_shown_set): a key not among them gets nothing. */
static void
keep_shown(struct cli *cli, json_t *kase)
{
	uint8_t keys[8][OFR_PK_BYTES];
	size_t i, n = 0;
	json_t *p;

	json_array_foreach(json_object_get(kase, "participants"), i, p)
		if (n < 8 && cases_is_colleague(p) &&
		    cases_participant_key(p, keys[n]) == 0 &&
		    memcmp(keys[n], keyfile_pk(cli->key),
		    OFR_PK_BYTES) != 0)
			n++;	/* a colleague, not this user */
	keyfile_shown_set(cli->key, json_integer_value(json_object_get(kase,
	    "id")), (const uint8_t (*)[OFR_PK_BYTES])keys, n, 1);
	cli->dirty = 1;
}

int
cocounsel_confirm(struct cli *cli, json_t *kase)
{
	json_t *req, *resp = NULL;
	int rc;

	if ((rc = cli_new_request("case.seen", &req)) != 0)
		return rc;
	json_object_set(req, "case", json_object_get(kase, "id"));
	json_object_set(req, "members", json_object_get(kase, "members"));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	return 0;
}

int
cmd_members(struct cli *cli, int argc, char **argv)
{
	json_t *cases = NULL, *kase;
	int64_t id;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, "members CASE", &id)) != 0 ||
	    (rc = cases_load(cli, id, &cases, &kase)) != 0)
		return rc;
	/* every counsellor's certificate first: a key only the server
	 * vouches for is neither shown as a member nor confirmed */
	if ((rc = trust_check_counsellors(cli, kase)) == 0) {
		print_members(kase);
		fflush(stdout);
		if ((rc = cocounsel_confirm(cli, kase)) == 0)
			keep_shown(cli, kase);
		if (rc == 0)
			printf("confirmed: members=%lld\n", (long long)
			    json_integer_value(json_object_get(kase,
			    "members")));
	}
	json_decref(cases);
	return rc;
}

/* Prints what the answer resp to a change of members says. */
static void
print_answer(json_t *resp)
{
	json_t *kase = json_object_get(resp, "case");

	printf("case: %lld\nmembers: %lld\n", (long long)json_integer_value(
	    json_object_get(kase, "id")), (long long)json_integer_value(
	    json_object_get(kase, "members")));
	print_members(kase);
}

int
cmd_bring(struct cli *cli, int argc, char **argv)
{
	const char *as = NULL;
	const struct cli_opt opts[] = {
		{ "--as", &as, NULL },
		{ NULL, NULL, NULL }
	};
	char key[OFR_B64_LEN(OFR_PK_BYTES)];
	uint8_t pk[OFR_PK_BYTES];
	char *pos[2] = { NULL, NULL };
	json_t *req, *resp = NULL;
	int64_t id;
	size_t n;
	int npos, rc, ok = 0;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 2, &npos)) != 0)
		return rc;
	for (size_t i = 0; as != NULL && kinds[i] != NULL; i++)
		ok |= strcmp(as, kinds[i]) == 0;
	if (npos != 2 || cli_parse_id(pos[0], &id) != 0 || !ok)
		return cli_usage("bring CASE KEY --as supervisor|"
		    "co-counsellor|language-helper");
	if ((rc = pool_key_of(cli, pos[1], key)) != 0 ||
	    (rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request("case.invite", &req)) != 0)
		return rc;
	json_object_set_new(req, "case", json_integer(id));
	json_object_set_new(req, "key", json_string(key));
	json_object_set_new(req, "as", json_string(as));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	/* brought in by this user: shown */
	if (b64_decode(pk, sizeof(pk), &n, key, strlen(key)) == 0 &&
	    n == sizeof(pk)) {
		keyfile_shown_set(cli->key, id, (const uint8_t (*)
		    [OFR_PK_BYTES])pk, 1, 0);
		cli->dirty = 1;
	}
	print_answer(resp);
	json_decref(resp);
	return 0;
}

int
cmd_remove(struct cli *cli, int argc, char **argv)
{
	char *pos[2] = { NULL, NULL };
	json_t *cases = NULL, *kase, *p, *req, *resp = NULL;
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2 || cli_parse_id(pos[0], &id) != 0)
		return cli_usage("remove CASE WHO (a colleague's name, "
		    "fingerprint or key, as offramp members shows it)");
	if ((rc = cases_load(cli, id, &cases, &kase)) != 0)
		return rc;
	if ((rc = pool_find_named(json_object_get(kase, "participants"),
	    pos[1], &p)) != 0 ||
	    (rc = cli_new_request("case.remove", &req)) != 0) {
		json_decref(cases);
		return rc;
	}
	json_object_set_new(req, "case", json_integer(id));
	json_object_set(req, "key", json_object_get(p, "key"));
	json_decref(cases);
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	print_answer(resp);
	json_decref(resp);
	return 0;
}

int
cmd_waiting(struct cli *cli, int argc, char **argv)
{
	json_t *resp = NULL;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0 ||
	    (rc = cli_ask(cli, "case.waiting", 0, &resp)) != 0)
		return rc;
	cases_print_waiting(cli, json_object_get(resp, "cases"),
	    "no case waits for your programme");
	json_decref(resp);
	return 0;
}

int
cmd_assign(struct cli *cli, int argc, char **argv)
{
	char key[OFR_B64_LEN(OFR_PK_BYTES)];
	char *pos[2] = { NULL, NULL };
	json_t *req, *resp = NULL, *kase;
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2 || cli_parse_id(pos[0], &id) != 0)
		return cli_usage("assign CASE COUNSELLOR (its name, "
		    "fingerprint, key or key prefix)");
	if ((rc = pool_key_of(cli, pos[1], key)) != 0 ||
	    (rc = cli_new_request("case.assign", &req)) != 0)
		return rc;
	json_object_set_new(req, "case", json_integer(id));
	json_object_set_new(req, "key", json_string(key));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	kase = json_object_get(resp, "case");
	printf("case: %lld\nstatus: ", (long long)json_integer_value(
	    json_object_get(kase, "id")));
	text_puts(stdout, json_string_value(json_object_get(kase, "status")));
	printf("\ncounsellor: %s\n", key);
	json_decref(resp);
	return 0;
}
