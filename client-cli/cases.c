/*
 * cases.c: the commands about cases (request, cases, close) and the
 * look-ups of case objects that the message commands share.
 */
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "cli.h"
#include "conn.h"

int
cli_case_list(struct cli *cli, json_t **cases)
{
	json_t *req = json_object(), *resp = NULL;
	int rc;

	*cases = NULL;
	if (req == NULL)
		return cli_fail(OFR_E_NOMEM, "case.list");
	json_object_set_new(req, "type", json_string("case.list"));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	*cases = json_incref(json_object_get(resp, "cases"));
	json_decref(resp);
	if (!json_is_array(*cases)) {
		json_decref(*cases);
		*cases = NULL;
		return cli_fail(OFR_E_CONN, "case.list: no cases in the "
		    "answer");
	}
	return 0;
}

json_t *
cli_case_find(json_t *cases, int64_t id)
{
	json_t *c;
	size_t i;

	json_array_foreach(cases, i, c) {
		json_t *v = json_object_get(c, "id");

		if (json_is_integer(v) && json_integer_value(v) == id)
			return c;
	}
	return NULL;
}

const char *
cli_participant_name(json_t *kase, const char *key)
{
	json_t *p;
	size_t i;

	if (kase == NULL || key == NULL)
		return NULL;
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *k = json_string_value(json_object_get(p, "key"));

		if (k != NULL && strcmp(k, key) == 0)
			return json_string_value(json_object_get(p, "name"));
	}
	return NULL;
}

/* The name of the case's participant with role, or NULL. */
static const char *
name_with_role(json_t *kase, const char *role)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *r = json_string_value(json_object_get(p, "role"));

		if (r != NULL && strcmp(r, role) == 0)
			return json_string_value(json_object_get(p, "name"));
	}
	return NULL;
}

/* Records the keys of kase's participants and checks every counsellor's
 * certificate. 0 or an exit status (printed). */
static int
check_counsellors(struct cli *cli, json_t *kase)
{
	json_t *p;
	size_t i;
	int rc;

	(void)e2e_check_case(cli, kase);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (e2e_participant_role(p) == 1 &&
		    (rc = e2e_check_counsellor(cli, p)) != 0)
			return rc;
	}
	return 0;
}

int
cmd_request(struct cli *cli, int argc, char **argv)
{
	const char *language = NULL, *topic = NULL, *counsellor, *status;
	const struct cli_opt opts[] = {
		{ "--language", &language, NULL },
		{ "--topic", &topic, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req, *resp = NULL, *kase;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (language == NULL || !frame_is_token(language))
		return cli_usage("request --language L [--topic T] (tokens "
		    "of a-z, 0-9, -)");
	if (topic != NULL && !frame_is_token(topic))
		return cli_usage("bad --topic %s", topic);
	if ((rc = cli_login(cli)) != 0)
		return rc;
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "case.request");
	json_object_set_new(req, "type", json_string("case.request"));
	json_object_set_new(req, "language", json_string(language));
	if (topic != NULL)
		json_object_set_new(req, "topic", json_string(topic));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	kase = json_object_get(resp, "case");
	status = json_string_value(json_object_get(kase, "status"));
	printf("case: %lld\nstatus: ",
	    (long long)json_integer_value(json_object_get(kase, "id")));
	text_puts(stdout, status);
	fputc('\n', stdout);
	counsellor = name_with_role(kase, "counsellor");
	if (counsellor != NULL && status != NULL &&
	    strcmp(status, "active") == 0) {
		fputs("counsellor: ", stdout);
		text_puts(stdout, counsellor);
		fputc('\n', stdout);
	}
	fflush(stdout);
	/* the counsellor's key must be certified by the pinned programme
	 * key before anything is said */
	rc = check_counsellors(cli, kase);
	json_decref(resp);
	return rc;
}

int
cmd_cases(struct cli *cli, int argc, char **argv)
{
	json_t *cases, *c, *p;
	size_t i, j;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = cli_login(cli)) != 0 || (rc = cli_case_list(cli, &cases)))
		return rc;
	json_array_foreach(cases, i, c)
		(void)e2e_check_case(cli, c);	/* warns of changed keys */
	json_array_foreach(cases, i, c) {
		const char *topic = json_string_value(json_object_get(c,
		    "topic"));

		printf("%lld ", (long long)json_integer_value(
		    json_object_get(c, "id")));
		text_puts(stdout, json_string_value(json_object_get(c,
		    "status")));
		fputc(' ', stdout);
		text_puts(stdout, json_string_value(json_object_get(c,
		    "language")));
		fputc(' ', stdout);
		text_puts(stdout, topic != NULL ? topic : "-");
		fputc(' ', stdout);
		json_array_foreach(json_object_get(c, "participants"), j, p) {
			if (j > 0)
				fputc(',', stdout);
			text_puts(stdout, json_string_value(json_object_get(p,
			    "name")));
		}
		fputc('\n', stdout);
	}
	json_decref(cases);
	return EXIT_OK;
}

int
cmd_close(struct cli *cli, int argc, char **argv)
{
	json_t *req, *resp = NULL, *kase;
	char *pos[1];
	int64_t id;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || (id = cli_parse_id(pos[0])) < 0)
		return cli_usage("close CASE");
	if ((rc = cli_login(cli)) != 0)
		return rc;
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "case.close");
	json_object_set_new(req, "type", json_string("case.close"));
	json_object_set_new(req, "case", json_integer(id));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	kase = json_object_get(resp, "case");
	printf("case: %lld\nstatus: ", (long long)(json_is_object(kase) ?
	    json_integer_value(json_object_get(kase, "id")) : id));
	text_puts(stdout, json_is_object(kase) ? json_string_value(
	    json_object_get(kase, "status")) : "closed");
	fputc('\n', stdout);
	json_decref(resp);
	return EXIT_OK;
}
