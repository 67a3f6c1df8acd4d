/*
 * cases.c: the case objects the server sends (cases.h): the list of one's
 * cases, a case in it, its participants' keys, roles and names; and the
 * commands about cases (request, reassign, cases, close) and the
 * programme list clients choose from. It reads case objects and never
 * changes them; whether their keys are to be trusted is trust.c's to say.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "conn.h"
#include "keyfile.h"
#include "text.h"
#include "trust.h"

/* 1 when key is a participant's of the case arg. */
static int
in_case(const uint8_t key[OFR_PK_BYTES], void *arg)
{
	return cases_participant(arg, key) != NULL;
}

void
cases_keep_shown(struct cli *cli, json_t *kase)
{
	if (json_is_array(json_object_get(kase, "participants")) &&
	    keyfile_shown_keep(cli->key, json_integer_value(
	    json_object_get(kase, "id")), in_case, kase) > 0)
		cli->dirty = 1;
}

int
cases_current(json_t *held, json_t *kase)
{
	json_t *now = json_object_get(kase, "members");
	json_t *had = json_object_get(held, "members");

	return !json_is_integer(now) || !json_is_integer(had) ||
	    json_integer_value(now) >= json_integer_value(had);
}

int
cases_list(struct cli *cli, json_t **cases)
{
	json_t *req, *resp = NULL, *c;
	size_t i;
	int rc;

	*cases = NULL;
	if ((rc = cli_new_request("case.list", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	*cases = json_incref(json_object_get(resp, "cases"));
	cli->cases_more = json_is_true(json_object_get(resp, "more"));
	json_decref(resp);
	if (!json_is_array(*cases)) {
		json_decref(*cases);
		*cases = NULL;
		return cli_fail(OFR_E_CONN, "case.list: no cases in the "
		    "answer");
	}
	/* a colleague confirmed in a case and gone from it now is shown
	 * again before anything is sealed to her, should she be listed
	 * again */
	json_array_foreach(*cases, i, c)
		cases_keep_shown(cli, c);
	return 0;
}

json_t *
cases_with_key(json_t *list, json_t *key)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (json_equal(json_object_get(e, "key"), key))
			return e;
	return NULL;
}

json_t *
cases_find(json_t *cases, int64_t id)
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

int
cases_load(struct cli *cli, int64_t id, json_t **cases, json_t **kase)
{
	int rc;

	if ((rc = account_login(cli)) != 0 ||
	    (rc = cases_list(cli, cases)) != 0)
		return rc;
	if ((*kase = cases_find(*cases, id)) == NULL) {
		json_decref(*cases);
		return cli_fail(OFR_E_NOT_FOUND, "case %lld is not one of "
		    "yours", (long long)id);
	}
	return 0;
}

/* The name of programme id in programmes (programme.list's), or "?". */
static const char *
programme_name(json_t *programmes, int64_t id)
{
	const char *n = NULL;
	json_t *p;
	size_t i;

	json_array_foreach(programmes, i, p)
		if (json_integer_value(json_object_get(p, "id")) == id)
			n = json_string_value(json_object_get(p, "name"));
	return n != NULL ? n : "?";
}

void
cases_print_waiting(struct cli *cli, json_t *list, const char *none)
{
	json_t *c, *resp = NULL;
	size_t i;

	cli_none(list, none);
	json_array_foreach(list, i, c) {
		const char *topic = json_string_value(json_object_get(c,
		    "topic"));
		json_t *from = json_object_get(c, "referred_by");

		printf("%lld ", (long long)json_integer_value(
		    json_object_get(c, "id")));
		text_puts(stdout, json_string_value(json_object_get(c,
		    "language")));
		fputc(' ', stdout);
		text_puts(stdout, topic != NULL ? topic : "-");
		fputc(' ', stdout);
		text_puts(stdout, json_string_value(json_object_get(c,
		    "urgency")));
		printf(" waiting=%llds", (long long)json_integer_value(
		    json_object_get(c, "waiting")));
		if (json_is_integer(from)) {
			/* The programmes' names, once for the list. */
			if (resp == NULL && cli_ask(cli, "programme.list", 0,
			    &resp) != 0)
				resp = NULL;
			printf(" referred by partner programme %lld ",
			    (long long)json_integer_value(from));
			text_puts(stdout, programme_name(json_object_get(resp,
			    "programmes"), json_integer_value(from)));
		}
		fputc('\n', stdout);
	}
	json_decref(resp);
}

void
cases_print_referral_joined(struct cli *cli, json_t *kase)
{
	char me[OFR_B64_LEN(OFR_PK_BYTES)];
	json_t *r = json_object_get(kase, "referral"), *resp = NULL;
	const char *status = json_string_value(json_object_get(r, "status"));
	const char *who = json_string_value(json_object_get(r, "counsellor"));
	int64_t from = json_integer_value(json_object_get(r, "from"));

	if (status == NULL || strcmp(status, "accepted") != 0 || who == NULL)
		return;
	b64_encode(me, sizeof(me), keyfile_pk(cli->key), OFR_PK_BYTES);
	if (strcmp(who, me) != 0)
		return;
	if (cli_ask(cli, "programme.list", 0, &resp) != 0)
		resp = NULL;
	printf("referral: from partner programme %lld ", (long long)from);
	text_puts(stdout, programme_name(json_object_get(resp, "programmes"),
	    from));
	fputs("; you join as the referral's counsellor, joining until the "
	    "others confirmed you\n", stdout);
	json_decref(resp);
}

int
cases_participant_role(json_t *p, int *role)
{
	const char *r = json_string_value(json_object_get(p, "role"));

	if (r == NULL)
		return OFR_E_BAD_FIELD;
	return keyfile_role_parse(r, role);
}

int
cases_is_counsellor(json_t *p)
{
	int role;

	return cases_participant_role(p, &role) == 0 &&
	    role == KEY_ROLE_COUNSELLOR;
}

int
cases_participant_key(json_t *p, uint8_t key[OFR_PK_BYTES])
{
	const char *k = json_string_value(json_object_get(p, "key"));
	size_t n;

	if (k == NULL || b64_decode(key, OFR_PK_BYTES, &n, k, strlen(k)) != 0 ||
	    n != OFR_PK_BYTES)
		return OFR_E_BAD_FIELD;
	return 0;
}

const char *
cases_participant_name(json_t *p)
{
	const char *n = json_string_value(json_object_get(p, "name"));

	return n != NULL ? n : "?";
}

/* What a counsellor other than the case's own is there as (PROTOCOL.md,
 * "Co-counselling", "Referrals"): nothing else. */
static const char *const colleague_as[] = {
	"supervisor", "co-counsellor", "language-helper", "referral",
};

int
cases_is_colleague(json_t *p)
{
	const char *as = json_string_value(json_object_get(p, "as"));

	if (as == NULL || !cases_is_counsellor(p))
		return 0;
	for (size_t i = 0; i < sizeof(colleague_as) / sizeof(*colleague_as);
	    i++)
		if (strcmp(as, colleague_as[i]) == 0)
			return 1;
	return 0;
}

int
cases_participants_ok(json_t *kase, const uint8_t me[OFR_PK_BYTES],
    int my_role)
{
	uint8_t key[OFR_PK_BYTES];
	int clients = 0, leads = 0, role;
	const char *as;
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (!json_is_object(p) || json_object_get(p, "left") != NULL ||
		    cases_participant_key(p, key) != 0 ||
		    cases_participant_role(p, &role) != 0)
			return 0;
		as = json_string_value(json_object_get(p, "as"));
		if (json_object_get(p, "as") != NULL && as == NULL)
			return 0;
		if (role == KEY_ROLE_CLIENT) {
			if ((as != NULL && strcmp(as, "client") != 0) ||
			    ++clients > 1 || (my_role == KEY_ROLE_CLIENT &&
			    sodium_memcmp(key, me, sizeof(key)) != 0))
				return 0;
		} else if (role == KEY_ROLE_COUNSELLOR) {
			if (as == NULL || strcmp(as, "counsellor") == 0) {
				if (++leads > 1)
					return 0;
			} else if (!cases_is_colleague(p)) {
				return 0;
			}
		} else {
			return 0;	/* an admin is in no case */
		}
	}
	return 1;
}

int
cases_is_joining(json_t *p)
{
	const char *s = json_string_value(json_object_get(p, "state"));

	return s != NULL && strcmp(s, "joining") == 0;
}

/* The one of kase's list (participants, former) with key, or NULL. */
static json_t *
member_of(json_t *kase, const char *list, const uint8_t key[OFR_PK_BYTES])
{
	uint8_t pk[OFR_PK_BYTES];
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, list), i, p)
		if (cases_participant_key(p, pk) == 0 &&
		    memcmp(pk, key, sizeof(pk)) == 0)
			return p;
	return NULL;
}

json_t *
cases_participant(json_t *kase, const uint8_t key[OFR_PK_BYTES])
{
	return member_of(kase, "participants", key);
}

json_t *
cases_former(json_t *kase, const uint8_t key[OFR_PK_BYTES])
{
	return member_of(kase, "former", key);
}

/* The entry of key (base64) in case kase: in its participants, else in
 * its former ones; NULL when none. Borrowed. */
static json_t *
key_entry(json_t *kase, const char *key)
{
	static const char *const lists[] = { "participants", "former" };
	json_t *p;
	size_t i;

	if (kase == NULL || key == NULL)
		return NULL;
	for (size_t l = 0; l < 2; l++)
		json_array_foreach(json_object_get(kase, lists[l]), i, p) {
			const char *k = json_string_value(json_object_get(p,
			    "key"));

			if (k != NULL && strcmp(k, key) == 0)
				return p;
		}
	return NULL;
}

/* A message of someone who has left is named as it was. */
const char *
cases_key_name(json_t *kase, const char *key)
{
	return json_string_value(json_object_get(key_entry(kase, key),
	    "name"));
}

int
cases_key_side(json_t *kase, const char *key)
{
	/* a key in participants has the side it has there (a former entry
	 * of the same key makes a colleague no counsellor) */
	json_t *p = key_entry(kase, key);
	const char *r = json_string_value(json_object_get(p, "role"));
	const char *as = json_string_value(json_object_get(p, "as"));

	if (r == NULL)
		return KS_ITEM_NO_SIDE;
	if (as == NULL)
		as = r;		/* its role's, as cases_participants_ok takes it */
	if (strcmp(r, "client") == 0 && strcmp(as, "client") == 0)
		return KS_ITEM_CLIENT;
	if (strcmp(r, "counsellor") == 0 && strcmp(as, "counsellor") == 0)
		return KS_ITEM_COUNSELLOR;
	return KS_ITEM_NO_SIDE;
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

/* Prints a "key: a,b" line of preference names ("age_band" as
 * "age-band"), "-" when there are none. */
static void
put_prefs(const char *key, json_t *arr)
{
	json_t *e;
	size_t i;

	printf("%s: ", key);
	if (json_array_size(arr) == 0)
		fputc('-', stdout);
	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(e);

		if (i > 0)
			fputc(',', stdout);
		for (; s != NULL && *s != '\0'; s++)
			if (*s == '_')
				fputc('-', stdout);
			else
				text_put(stdout, s, 1);
	}
	fputc('\n', stdout);
}

/*
 * Prints what a client learns of its case: "case:", "status:", and when it
 * has a counsellor "counsellor:", with "met:" and "unmet:" when
 * preferences were asked. Then checks the counsellor's certificate.
 */
static int
print_client_case(struct cli *cli, json_t *kase)
{
	const char *status = json_string_value(json_object_get(kase,
	    "status")), *counsellor;
	json_t *prefs = json_object_get(kase, "preferences");

	printf("case: %lld\nstatus: ",
	    (long long)json_integer_value(json_object_get(kase, "id")));
	text_puts(stdout, status);
	fputc('\n', stdout);
	counsellor = name_with_role(kase, "counsellor");
	if (counsellor != NULL && status != NULL &&
	    strcmp(status, "closed") != 0) {
		fputs("counsellor: ", stdout);
		text_puts(stdout, counsellor);
		fputc('\n', stdout);
		if (json_array_size(json_object_get(prefs, "asked")) > 0 &&
		    json_is_array(json_object_get(prefs, "met"))) {
			put_prefs("met", json_object_get(prefs, "met"));
			put_prefs("unmet", json_object_get(prefs, "unmet"));
		}
	}
	fflush(stdout);
	/* the counsellor's key must be certified by the pinned programme
	 * key before anything is said */
	return trust_check_counsellors(cli, kase);
}

static const char *const age_bands[] = { "18-29", "30-44", "45-59",
    "60-plus", NULL };
static const char *const backgrounds[] = { "peer", "professional", NULL };
static const char *const formats[] = { "chat", "in-person", "phone-video",
    NULL };
static const char *const urgencies[] = { "low", "normal", "high", NULL };

/* 1 if s is one of names (NULL-ended). */
static int
is_one_of(const char *s, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(s, *names) == 0)
			return 1;
	return 0;
}

/* Sends case.request req (taken) with the proof of work the server asks
 * for, again with a fresh one after a pow_required: as cli_request. */
static int
request_paid(struct cli *cli, json_t *req, json_t **resp)
{
	int rc;

	for (int tries = 0; ; tries++) {
		json_object_del(req, "pow");
		if ((rc = account_pow(cli, OFR_POW_CASE, req)) != 0) {
			json_decref(req);
			return cli_fail(rc, "case.request");
		}
		rc = conn_request(cli->conn, json_incref(req), resp,
		    cli->timeout_ms);
		if (rc != OFR_E_POW_REQUIRED || tries >= 3)
			break;
		json_decref(*resp);
		*resp = NULL;
		if ((rc = account_pow_again(cli)) != 0)
			break;
	}
	json_decref(req);
	if (rc == 0) {
		if (cli->json_type != NULL &&
		    strcmp(cli->json_type, "case.request") == 0)
			cli_json(json_incref(*resp));
		return 0;
	}
	rc = cli_fail_request(cli, rc, *resp, "case.request");
	json_decref(*resp);
	*resp = NULL;
	return rc;
}

int
cmd_request(struct cli *cli, int argc, char **argv)
{
	const char *language = NULL, *topic = NULL, *programme = NULL;
	const char *gender = NULL, *age_band = NULL, *background = NULL;
	const char *format = NULL, *region = NULL, *urgency = NULL;
	const char *intake_code = NULL;
	const struct cli_opt opts[] = {
		{ "--language", &language, NULL },
		{ "--topic", &topic, NULL },
		{ "--programme", &programme, NULL },
		{ "--gender", &gender, NULL },
		{ "--age-band", &age_band, NULL },
		{ "--background", &background, NULL },
		{ "--format", &format, NULL },
		{ "--region", &region, NULL },
		{ "--urgency", &urgency, NULL },
		{ "--intake-code", &intake_code, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req, *resp = NULL, *id;
	int64_t prog = 0;
	int npos, rc, kept = 0;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (language == NULL || !frame_is_token(language))
		return cli_usage("request --language L [--topic T] (tokens "
		    "of a-z, 0-9, -)");
	if (topic != NULL && !frame_is_token(topic))
		return cli_usage("bad --topic %s", topic);
	if (programme != NULL && cli_parse_id(programme, &prog) != 0)
		return cli_usage("--programme is a programme id (see offramp "
		    "programmes)");
	if (gender != NULL && !frame_is_token(gender))
		return cli_usage("bad --gender %s", gender);
	if (region != NULL && !frame_is_token(region))
		return cli_usage("bad --region %s", region);
	if (age_band != NULL && !is_one_of(age_band, age_bands))
		return cli_usage("--age-band is 18-29, 30-44, 45-59 or "
		    "60-plus");
	if (background != NULL && !is_one_of(background, backgrounds))
		return cli_usage("--background is peer or professional");
	if (format != NULL && !is_one_of(format, formats))
		return cli_usage("--format is chat, in-person or "
		    "phone-video");
	if (urgency != NULL && !is_one_of(urgency, urgencies))
		return cli_usage("--urgency is low, normal or high");
	if (intake_code != NULL && (prog == 0 ||
	    !frame_is_intake_code(intake_code)))
		return cli_usage("--intake-code goes with --programme: 4..64 "
		    "of A-Z, a-z, 0-9, - (as the programme printed it)");
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_new_request("case.request", &req)) != 0)
		return rc;
	json_object_set_new(req, "language", json_string(language));
	if (topic != NULL)
		json_object_set_new(req, "topic", json_string(topic));
	if (prog != 0)
		json_object_set_new(req, "programme", json_integer(prog));
	if (gender != NULL)
		json_object_set_new(req, "gender", json_string(gender));
	if (age_band != NULL)
		json_object_set_new(req, "age_band", json_string(age_band));
	if (background != NULL)
		json_object_set_new(req, "background",
		    json_string(background));
	if (format != NULL)
		json_object_set_new(req, "format", json_string(format));
	if (region != NULL)
		json_object_set_new(req, "region", json_string(region));
	if (urgency != NULL)
		json_object_set_new(req, "urgency", json_string(urgency));
	if (intake_code != NULL)
		json_object_set_new(req, "intake_code",
		    json_string(intake_code));
	if ((rc = request_paid(cli, req, &resp)) != 0) {
		/* a case open already, which the server names later: held
		 * to the programme asked for all the same */
		if (rc == OFR_E_CASE_OPEN && programme != NULL)
			(void)trust_asked_pending(cli, prog);
		return rc;
	}
	/* remembered before any counsellor is checked: one of another
	 * programme is refused, now and later */
	id = json_object_get(json_object_get(resp, "case"), "id");
	if (!json_is_integer(id) || json_integer_value(id) <= 0) {
		if (programme != NULL)
			(void)trust_asked_pending(cli, prog);
		json_decref(resp);
		return cli_fail(OFR_E_CONN, "request: the server's answer "
		    "names no case");
	}
	if (programme != NULL)
		kept = trust_asked(cli, json_integer_value(id), prog);
	rc = print_client_case(cli, json_object_get(resp, "case"));
	json_decref(resp);
	return kept != 0 ? kept : rc;
}

int
cmd_reassign(struct cli *cli, int argc, char **argv)
{
	json_t *resp = NULL;
	int64_t id;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, "reassign CASE", &id)) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_ask(cli, "case.reassign", id, &resp)) != 0)
		return rc;
	/* A new counsellor is what was asked for: not a changed key. */
	trust_forget_role(cli, id, KEY_ROLE_COUNSELLOR);
	rc = print_client_case(cli, json_object_get(resp, "case"));
	json_decref(resp);
	return rc;
}

int
cmd_programmes(struct cli *cli, int argc, char **argv)
{
	json_t *resp = NULL, *p;
	size_t i;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_ask(cli, "programme.list", 0, &resp)) != 0)
		return rc;
	cli_none(json_object_get(resp, "programmes"), "no programmes yet");
	json_array_foreach(json_object_get(resp, "programmes"), i, p) {
		json_t *l = json_object_get(p, "languages");
		json_t *f = json_object_get(p, "formats");

		printf("%lld ", (long long)json_integer_value(
		    json_object_get(p, "id")));
		text_puts(stdout, json_string_value(json_object_get(p,
		    "name")));
		fputc(' ', stdout);
		if (json_array_size(l) == 0)
			fputc('-', stdout);
		text_put_list(stdout, l, ",");
		fputc(' ', stdout);
		if (json_array_size(f) == 0)
			fputc('-', stdout);
		text_put_list(stdout, f, ",");
		fputc('\n', stdout);
	}
	json_decref(resp);
	return 0;
}

int
cmd_cases(struct cli *cli, int argc, char **argv)
{
	json_t *cases, *c, *p;
	size_t i, j;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0 || (rc = cases_list(cli, &cases)))
		return rc;
	json_array_foreach(cases, i, c)
		(void)trust_check_case(cli, c);	/* warns */
	cli_none(cases, "no cases yet");
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
		/* a counsellor's view: what is new, and since when */
		if (json_is_integer(json_object_get(c, "unread"))) {
			printf(" unread=%lld updated=", (long long)
			    json_integer_value(json_object_get(c, "unread")));
			text_put_time(stdout, json_integer_value(
			    json_object_get(c, "updated")));
		}
		fputc('\n', stdout);
	}
	if (cli->cases_more)
		fprintf(stderr, "offramp: the server listed %zu cases, its "
		    "open ones first, newest first: more are not shown\n",
		    json_array_size(cases));
	json_decref(cases);
	return 0;
}

int
cmd_close(struct cli *cli, int argc, char **argv)
{
	json_t *resp = NULL, *kase;
	int64_t id;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, "close CASE", &id)) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_ask(cli, "case.close", id, &resp)) != 0)
		return rc;
	kase = json_object_get(resp, "case");
	printf("case: %lld\nstatus: ", (long long)(json_is_object(kase) ?
	    json_integer_value(json_object_get(kase, "id")) : id));
	text_puts(stdout, json_is_object(kase) ? json_string_value(
	    json_object_get(kase, "status")) : "closed");
	fputc('\n', stdout);
	json_decref(resp);
	return 0;
}
