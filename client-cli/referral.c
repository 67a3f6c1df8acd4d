/*
 * referral.c: referrals to a partner programme and the warm handover from
 * the command line (PROTOCOL.md, "Referrals"). A counsellor proposes,
 * telling the client the reason and the offer in an encrypted message to
 * the client alone; the client sees the proposal with the partner's
 * public profile and answers; the partner's counsellor is shown as what
 * it is only after its certificate checks out through the partner
 * statement of a programme this user trusts; the summary draft goes to
 * the client alone, the client approves the text it read (its digest),
 * and the approved text, and no other, goes to the partner's counsellor
 * alone; then the handover. A programme's figures for its admin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/envelope.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "keyfile.h"
#include "messages.h"
#include "text.h"
#include "trust.h"

#define REFERRAL_USAGE \
	"referral propose CASE PARTNER [--reason TEXT] [--offer TEXT] | " \
	"show CASE | accept CASE [PARTNER] | decline CASE | withdraw CASE | " \
	"draft CASE TEXT... | approve CASE TEXT... | summary CASE TEXT... | " \
	"complete CASE | stats"

/* The public profile of programme id (programme.list): a new reference,
 * or NULL. */
static json_t *
programme_of(struct cli *cli, int64_t id)
{
	json_t *resp = NULL, *p, *out = NULL;
	size_t i;

	if (cli_ask(cli, "programme.list", 0, &resp) != 0)
		return NULL;
	json_array_foreach(json_object_get(resp, "programmes"), i, p)
		if (json_integer_value(json_object_get(p, "id")) == id)
			out = json_incref(p);
	json_decref(resp);
	return out;
}

static const char *
name_of(json_t *prog)
{
	const char *n = json_string_value(json_object_get(prog, "name"));

	return n != NULL ? n : "?";
}

/* Prints "KEY a,b" for list field key of o. */
static void
print_list(json_t *o, const char *key)
{
	json_t *v;
	size_t i;

	printf("%s: ", key);
	json_array_foreach(json_object_get(o, key), i, v) {
		if (i > 0)
			fputc(',', stdout);
		text_puts(stdout, json_string_value(v));
	}
	if (json_array_size(json_object_get(o, key)) == 0)
		fputc('-', stdout);
	fputc('\n', stdout);
}

/* The participant of kase whose key is key, or NULL. */
static json_t *
participant(json_t *kase, const char *key)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p)
		if (key != NULL && json_is_string(json_object_get(p, "key")) &&
		    strcmp(json_string_value(json_object_get(p, "key")),
		    key) == 0)
			return p;
	return NULL;
}

static int partner_counsellor(json_t *kase, json_t *r);

/* Prints the referral of kase: its state, the partner's profile, and
 * the partner's counsellor once its certificate checked out. */
static int
show(struct cli *cli, json_t *kase)
{
	json_t *r = json_object_get(kase, "referral"), *prog, *p;
	const char *status, *ckey;
	int rc = 0;

	if (!json_is_object(r)) {
		printf("referral: none\n");
		return 0;
	}
	status = json_string_value(json_object_get(r, "status"));
	prog = programme_of(cli, json_integer_value(json_object_get(r,
	    "partner")));
	printf("referral: ");
	text_puts(stdout, status != NULL ? status : "?");
	printf("\npartner: %lld ", (long long)json_integer_value(
	    json_object_get(r, "partner")));
	text_puts(stdout, name_of(prog));
	fputc('\n', stdout);
	if (prog != NULL) {
		const char *d = json_string_value(json_object_get(prog,
		    "description"));

		printf("description: ");
		text_puts(stdout, d != NULL && *d ? d : "-");
		fputc('\n', stdout);
		print_list(prog, "languages");
		print_list(prog, "topics");
		print_list(prog, "regions");
		print_list(prog, "formats");
	}
	printf("summary: %s\n", json_is_true(json_object_get(r,
	    "summary_sent")) ? "sent" : json_is_string(json_object_get(r,
	    "approved")) ? "approved" : "-");
	ckey = json_string_value(json_object_get(r, "counsellor"));
	if ((p = participant(kase, ckey)) != NULL &&
	    partner_counsellor(kase, r)) {
		/* a key only the server vouches for is not shown as the
		 * partner's counsellor; who vouches is said in the user's
		 * own name for the key it trusts, never the server's */
		if ((rc = trust_check_counsellor(cli, p)) == 0) {
			int partner;
			const char *by = trust_vouched(&partner);

			printf("counsellor: ");
			text_puts(stdout, cases_participant_name(p));
			printf(": new counsellor from partner programme ");
			text_puts(stdout, name_of(prog));
			if (partner) {
				printf(", certified by ");
				text_puts(stdout, name_of(prog));
				fputs(", ", stdout);
				text_puts(stdout, name_of(prog));
				printf(" endorsed by ");
			} else {
				printf(", certified by ");
			}
			text_puts(stdout, by);
			fputc('\n', stdout);
		}
	}
	json_decref(prog);
	return rc;
}

/* A request of type about case id alone; prints the referral after.
 * *answered (when not NULL): 1 once the server took the request, though
 * printing the referral failed after. */
static int
simple(struct cli *cli, const char *type, int64_t id, json_t *extra,
    int *answered)
{
	json_t *req, *resp = NULL;
	int rc;

	if (answered != NULL)
		*answered = 0;
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request(type, &req)) != 0) {
		json_decref(extra);
		return rc;
	}
	json_object_set_new(req, "case", json_integer(id));
	if (extra != NULL)
		json_object_update(req, extra);
	json_decref(extra);
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	if (answered != NULL)
		*answered = 1;
	/* the case as the answer gives it (after a handover, the caller
	 * may no longer be in it) */
	rc = show(cli, json_object_get(resp, "case"));
	json_decref(resp);
	return rc;
}

/* Keeps a client's yes to partner in case id (lead: the programme of
 * the case's counsellor, checked): not for where the case is. 1 when
 * kept, 0 when not, or the error code (< 0, printed) of a key file that
 * could not be saved. */
static int
keep_yes(struct cli *cli, int64_t id, int64_t lead, int64_t partner)
{
	int rc = 0;

	if (partner <= 0 || lead <= 0 || partner == lead)
		return 0;
	if (!trust_asked_any(cli, id))
		rc = trust_asked(cli, id, lead);
	if (rc == 0)
		rc = trust_asked(cli, id, partner);
	return rc != 0 ? rc : 1;
}

/*
 * referral accept CASE. Once the server took a client's yes to a
 * proposed referral, the partner is a programme it asked for in this
 * case: its counsellor is not refused there, and a handover to it is
 * not a changed key (trust.c). A request that named no programme is
 * first given the programme of the case's counsellor, or that
 * counsellor would be refused from then on. A client's yes is not sent
 * while the case's counsellor is not the one pinned here, or not of a
 * programme asked for, or its certificate does not hold for the
 * programme it is listed in (printed): the server would then choose
 * where the yes takes the client. Nothing is kept on a refusal, nor
 * for a partner that is the programme of the case's counsellor. A
 * referral the server lists as accepted already (a yes whose answer was
 * lost) is not answered again: the yes the user gives now is kept.
 * want > 0: the partner the user read (referral show); a referral of the
 * case to another is not answered.
 */
static int
accept(struct cli *cli, int64_t id, int64_t want)
{
	json_t *cases = NULL, *kase, *r, *extra;
	const char *status;
	int64_t partner, lead, rid;
	int rc, proposed, taken, held, client, answered, kept;

	if ((rc = cases_load(cli, id, &cases, &kase)) != 0)
		return rc;		/* logged in from here: the key is read */
	client = keyfile_role(cli->key) == KEY_ROLE_CLIENT;
	r = json_object_get(kase, "referral");
	status = json_string_value(json_object_get(r, "status"));
	proposed = status != NULL && strcmp(status, "proposed") == 0;
	taken = status != NULL && strcmp(status, "accepted") == 0;
	partner = json_integer_value(json_object_get(r, "partner"));
	rid = json_integer_value(json_object_get(r, "id"));
	/* the case's counsellor: the one pinned here (no changed key), of a
	 * programme asked for, its certificate holding for it */
	held = trust_check_lead(cli, kase, &lead) == 0;
	if (want > 0 && partner != want) {
		json_decref(cases);
		return cli_fail(OFR_E_BAD_STATE, "not answered: case %lld has "
		    "no referral to programme %lld now; see offramp referral "
		    "show %lld", (long long)id, (long long)want,
		    (long long)id);
	}
	if (!held && (proposed || taken) && client) {
		json_decref(cases);
		return cli_fail(OFR_E_CRYPTO, "not answered: the counsellor of "
		    "case %lld did not pass the checks above, so this device "
		    "cannot tell where a yes would take you; nothing was sent",
		    (long long)id);
	}
	if (taken && client) {
		kept = keep_yes(cli, id, lead, partner);
		fprintf(stderr, "offramp: the server has your yes to this "
		    "referral already; %s\n", kept > 0 ? "it is kept here" :
		    kept == 0 ? "nothing was sent" :
		    "it could not be kept here");
		rc = show(cli, kase);
		json_decref(cases);
		return kept < 0 ? kept : rc;
	}
	json_decref(cases);
	if ((extra = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "referral");
	json_object_set_new(extra, "accept", json_true());
	/* the referral read here, and no other proposed since */
	if (rid > 0)
		json_object_set_new(extra, "referral", json_integer(rid));
	rc = simple(cli, "referral.answer", id, extra, &answered);
	if ((rc == OFR_E_TIMEOUT || rc == OFR_E_CONN) && client && proposed)
		fprintf(stderr, "offramp: whether the server took your yes is "
		    "not known: run offramp referral accept %lld again\n",
		    (long long)id);
	/* taken, though the referral's new counsellor may not hold (printed) */
	if (answered && client && proposed &&
	    (kept = keep_yes(cli, id, lead, partner)) < 0) {
		fprintf(stderr, "offramp: the server took your yes, but this "
		    "device could not keep it: the new counsellor will be "
		    "refused here until offramp referral accept %lld runs "
		    "again with the key file saved\n", (long long)id);
		return kept;
	}
	return rc;
}

/* The text of words (or stdin for "-") into a new buffer *text. */
static int
read_text(int n, char **words, char **text, size_t *len)
{
	size_t used = 0, w;

	if ((*text = malloc(CLI_TEXT_MAX + 1)) == NULL)
		return cli_fail(OFR_E_NOMEM, "referral");
	if (n == 1 && strcmp(words[0], "-") == 0) {
		used = fread(*text, 1, CLI_TEXT_MAX + 1, stdin);
		while (used > 0 && ((*text)[used - 1] == '\n' ||
		    (*text)[used - 1] == '\r'))
			used--;
	} else {
		for (int i = 0; i < n; i++) {
			w = strlen(words[i]);
			if (used + (i > 0) + w > CLI_TEXT_MAX) {
				used = CLI_TEXT_MAX + 1;
				break;
			}
			if (i > 0)
				(*text)[used++] = ' ';
			memcpy(*text + used, words[i], w);
			used += w;
		}
	}
	if (used > CLI_TEXT_MAX) {
		free(*text);
		*text = NULL;
		return cli_fail(OFR_E_TOO_BIG, "a text is at most %d bytes",
		    CLI_TEXT_MAX);
	}
	(*text)[used] = '\0';
	*len = used;
	return 0;
}

static void
text_free(char *text)
{
	if (text != NULL) {
		sodium_memzero(text, CLI_TEXT_MAX + 1);
		free(text);
	}
}

/* Sends text in case id to the participant of key b64 (summary: as the
 * referral's one summary copy). */
static int
send_text(struct cli *cli, int64_t id, const char *text, size_t len,
    const char *b64, int summary)
{
	uint8_t to[OFR_PK_BYTES];
	struct envelope e;
	size_t n;

	if (b64 == NULL || b64_decode(to, sizeof(to), &n, b64, strlen(b64)) != 0 ||
	    n != sizeof(to))
		return cli_fail(OFR_E_NOT_FOUND, "nobody to send it to");
	memset(&e, 0, sizeof(e));
	e.kind = ENVELOPE_TEXT;
	e.text = (const uint8_t *)text;
	e.text_len = len;
	return messages_send_to(cli, id, &e, text, len, to, summary);
}

/* The key (base64) of kase's client. */
static const char *
client_key(json_t *kase)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *role = json_string_value(json_object_get(p,
		    "role"));

		if (role != NULL && strcmp(role, "client") == 0)
			return json_string_value(json_object_get(p, "key"));
	}
	return NULL;
}

static int
propose(struct cli *cli, int argc, char **argv)
{
	const char *reason = NULL, *offer = NULL;
	const struct cli_opt opts[] = {
		{ "--reason", &reason, NULL },
		{ "--offer", &offer, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req, *resp = NULL, *cases = NULL, *kase;
	char *pos[2] = { NULL, NULL }, *text = NULL;
	int64_t id, partner;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2 || cli_parse_id(pos[0], &id) != 0 ||
	    cli_parse_id(pos[1], &partner) != 0)
		return cli_usage("referral propose CASE PARTNER [--reason "
		    "TEXT] [--offer TEXT]");
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request("referral.propose", &req)) != 0)
		return rc;
	json_object_set_new(req, "case", json_integer(id));
	json_object_set_new(req, "partner", json_integer(partner));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	kase = json_object_get(resp, "case");
	/* The reason and the offer are the client's to read, not the
	 * server's: an encrypted message to the client alone. */
	if (reason != NULL || offer != NULL) {
		size_t cap = CLI_TEXT_MAX + 1;
		int n;

		if ((text = malloc(cap)) == NULL) {
			json_decref(resp);
			return cli_fail(OFR_E_NOMEM, "referral");
		}
		n = snprintf(text, cap, "Referral proposed to programme "
		    "%lld.%s%s%s%s", (long long)partner,
		    reason != NULL ? " Reason: " : "", reason != NULL ?
		    reason : "", offer != NULL ? " What they offer: " : "",
		    offer != NULL ? offer : "");
		if (n < 0 || (size_t)n >= cap)
			rc = cli_fail(OFR_E_TOO_BIG, "the reason and the offer "
			    "are at most %d bytes", CLI_TEXT_MAX);
		else
			rc = send_text(cli, id, text, (size_t)n,
			    client_key(kase), 0);
		text_free(text);
	}
	json_decref(resp);
	if (rc != 0)
		return rc;
	if ((rc = cases_load(cli, id, &cases, &kase)) != 0)
		return rc;
	rc = show(cli, kase);
	json_decref(cases);
	return rc;
}

/* 1 when referral r's counsellor is a participant of kase as the
 * partner's counsellor ("referral"), of the partner programme: the one
 * the summary may go to (its certificate is checked for that programme
 * when it is sealed), never any key the server names. */
static int
partner_counsellor(json_t *kase, json_t *r)
{
	json_t *p = cases_with_key(json_object_get(kase, "participants"),
	    json_object_get(r, "counsellor"));
	const char *role = json_string_value(json_object_get(p, "role"));
	const char *as = json_string_value(json_object_get(p, "as"));
	json_t *prog = json_object_get(p, "programme");

	return p != NULL && role != NULL && as != NULL &&
	    strcmp(role, "counsellor") == 0 && strcmp(as, "referral") == 0 &&
	    json_is_integer(prog) && json_integer_value(prog) ==
	    json_integer_value(json_object_get(r, "partner")) &&
	    json_integer_value(prog) > 0;
}

/* draft, approve, summary: CASE TEXT... */
static int
with_text(struct cli *cli, const char *what, int argc, char **argv)
{
	uint8_t digest[crypto_generichash_BYTES];
	char b64[OFR_B64_LEN(crypto_generichash_BYTES)];
	json_t *cases = NULL, *kase, *r, *extra;
	char *text = NULL;
	size_t len = 0;
	int64_t id;
	int rc;

	if (argc < 2 || cli_parse_id(argv[0], &id) != 0)
		return cli_usage("referral %s CASE TEXT... (TEXT - : stdin)",
		    what);
	if ((rc = read_text(argc - 1, argv + 1, &text, &len)) != 0)
		return rc;
	crypto_generichash(digest, sizeof(digest), (const uint8_t *)text,
	    len, NULL, 0);
	b64_encode(b64, sizeof(b64), digest, sizeof(digest));
	if (strcmp(what, "approve") == 0) {
		text_free(text);
		extra = json_object();
		json_object_set_new(extra, "digest", json_string(b64));
		return simple(cli, "referral.approve", id, extra, NULL);
	}
	if ((rc = cases_load(cli, id, &cases, &kase)) != 0) {
		text_free(text);
		return rc;
	}
	r = json_object_get(kase, "referral");
	if (strcmp(what, "draft") == 0) {
		/* to the client alone: the partner reads nothing before the
		 * client approved it */
		rc = send_text(cli, id, text, len, client_key(kase), 0);
	} else if (!json_is_string(json_object_get(r, "approved")) ||
	    strcmp(json_string_value(json_object_get(r, "approved")),
	    b64) != 0) {
		rc = cli_fail(OFR_E_BAD_STATE, "not the summary the client "
		    "approved: nothing sent");
	} else if (!partner_counsellor(kase, r)) {
		rc = cli_fail(OFR_E_BAD_STATE, "the partner's counsellor is "
		    "not in the case: nothing sent");
	} else {
		rc = send_text(cli, id, text, len, json_string_value(
		    json_object_get(r, "counsellor")), 1);
	}
	text_free(text);
	json_decref(cases);
	return rc;
}

/* Prints one side of the figures: counts under min_count as "<5". */
static void
print_side(const char *name, json_t *o, long long min)
{
	static const char *const keys[] = { "proposed", "accepted",
	    "declined", "completed", "median" };

	printf("%s", name);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(o, keys[i]);

		if (json_is_integer(v))
			printf(" %s=%lld%s", keys[i], (long long)
			    json_integer_value(v), i == 4 ? "s" : "");
		else if (i == 4)
			printf(" %s=-", keys[i]);
		else
			printf(" %s=<%lld", keys[i], min);
	}
	fputc('\n', stdout);
}

static int
stats(struct cli *cli)
{
	json_t *resp = NULL;
	long long min;
	int rc;

	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_ask(cli, "referral.stats", 0, &resp)) != 0)
		return rc;
	min = (long long)json_integer_value(json_object_get(resp,
	    "min_count"));
	print_side("sent", json_object_get(resp, "sent"), min);
	print_side("received", json_object_get(resp, "received"), min);
	json_decref(resp);
	return 0;
}

int
cmd_referral(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *verb, *type;
	} simple_verbs[] = {
		{ "complete", "referral.complete" },
	};
	json_t *cases = NULL, *kase, *extra;
	int64_t id;
	int rc;

	if (argc < 1)
		return cli_usage(REFERRAL_USAGE);
	if (strcmp(argv[0], "propose") == 0)
		return propose(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "stats") == 0 && argc == 1)
		return stats(cli);
	if (strcmp(argv[0], "draft") == 0 || strcmp(argv[0], "approve") == 0 ||
	    strcmp(argv[0], "summary") == 0)
		return with_text(cli, argv[0], argc - 1, argv + 1);
	if (strcmp(argv[0], "accept") == 0 && argc == 3) {
		int64_t want;

		if (cli_parse_id(argv[1], &id) != 0 ||
		    cli_parse_id(argv[2], &want) != 0)
			return cli_usage(REFERRAL_USAGE);
		return accept(cli, id, want);
	}
	if (argc != 2 || cli_parse_id(argv[1], &id) != 0)
		return cli_usage(REFERRAL_USAGE);
	if (strcmp(argv[0], "show") == 0) {
		if ((rc = cases_load(cli, id, &cases, &kase)) != 0)
			return rc;
		rc = show(cli, kase);
		json_decref(cases);
		return rc;
	}
	if (strcmp(argv[0], "accept") == 0)
		return accept(cli, id, 0);
	if (strcmp(argv[0], "withdraw") == 0 ||
	    strcmp(argv[0], "decline") == 0) {
		/* a client's yes taken back, or a no: no yes of the case is
		 * left to use, and the partner's counsellors are refused in
		 * this case again (trust_unasked); at once, whatever the
		 * answer (refused, or lost, the yes is not left to stand on
		 * the server's word) */
		if ((rc = cli_load_key(cli)) != 0)
			return rc;
		if (keyfile_role(cli->key) == KEY_ROLE_CLIENT) {
			/* a handover not seen here yet uses its yes first
			 * (trust_check_case marks it used), so that the yes
			 * is not taken back as one still to use; offline,
			 * the yes goes all the same */
			if (cases_load(cli, id, &cases, &kase) == 0) {
				(void)trust_check_case(cli, kase);
				json_decref(cases);
			}
			/* a yes still on the disk would let the partner in
			 * later: nothing is sent while it is */
			if ((rc = trust_unasked(cli, id)) != 0) {
				fprintf(stderr, "offramp: nothing was sent: "
				    "your yes could not be taken back on this "
				    "device\n");
				return rc;
			}
		}
		if (strcmp(argv[0], "withdraw") == 0)
			return simple(cli, "referral.withdraw", id, NULL, NULL);
		if ((extra = json_object()) == NULL)
			return cli_fail(OFR_E_NOMEM, "referral");
		json_object_set_new(extra, "accept", json_false());
		return simple(cli, "referral.answer", id, extra, NULL);
	}
	for (size_t i = 0; i < sizeof(simple_verbs) / sizeof(simple_verbs[0]);
	    i++)
		if (strcmp(argv[0], simple_verbs[i].verb) == 0)
			return simple(cli, simple_verbs[i].type, id, NULL,
			    NULL);
	return cli_usage(REFERRAL_USAGE);
}
