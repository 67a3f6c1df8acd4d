/*
 * account.h: one's own account on the server (account.c): the login
 * exchange, and the profile options and their printing that the profile,
 * redeem and counsellor-update commands share.
 */
#ifndef OFFRAMP_CLI_ACCOUNT_H
#define OFFRAMP_CLI_ACCOUNT_H

#include <jansson.h>

#include "proto/pow.h"

struct cli;

/*
 * Loads the key, connects, and logs in: signs the server's challenge with
 * the identity key and sends login with the key's role hint; keeps the
 * account in cli->account; then the prekey upkeep (e2e_after_login). 0
 * or an error code (printed).
 */
int account_login(struct cli *cli);
/* Solves the proof of work of purpose that the connection's latest
 * challenge asks for (none: nothing) and puts it in req as "pow"; says so
 * on stderr when it takes more than 2 s. 0 or OFR_E_NOMEM. */
int account_pow(struct cli *cli, enum ofr_pow_purpose purpose, json_t *req);
/* After a pow_required: waits until the fresh challenge that follows it
 * is taken (a ping's round trip). 0 or as conn_request. */
int account_pow_again(struct cli *cli);

/* The profile options of profile, redeem and counsellor-update, as given
 * (NULL: not given). */
struct account_profile {
	const char *name, *languages, *topics, *available, *gender;
	const char *age_band, *background, *formats, *region, *presence;
	const char *hours;
	const char *capacity;	/* counsellor-update only */
};

/* The cli_opt entries of struct account_profile p, but --capacity. */
#define ACCOUNT_PROFILE_OPTS(p) \
	{ "--name", &(p).name, NULL }, \
	{ "--languages", &(p).languages, NULL }, \
	{ "--topics", &(p).topics, NULL }, \
	{ "--available", &(p).available, NULL }, \
	{ "--gender", &(p).gender, NULL }, \
	{ "--age-band", &(p).age_band, NULL }, \
	{ "--background", &(p).background, NULL }, \
	{ "--formats", &(p).formats, NULL }, \
	{ "--region", &(p).region, NULL }, \
	{ "--presence", &(p).presence, NULL }, \
	{ "--hours", &(p).hours, NULL }

#define ACCOUNT_HOURS_MAX	28	/* ranges of --hours */
#define ACCOUNT_CAPACITY_IS_ADMINS "--capacity is set by the programme's " \
	"admin: offramp counsellor-update KEY --capacity N"

/* Checks the options of p and adds them to req as profile fields.
 * 0 or OFR_E_USAGE (printed). */
int account_profile_fields(json_t *req, const struct account_profile *p);
/* Prints the "profile" of answer resp (and its "key" when there is one)
 * as "field: value" lines; type names the request in errors. 0, or
 * OFR_E_CONN (printed) when there is no profile. */
int account_print_profile(json_t *resp, const char *type);
/* Whether the server gives the counsellor of profile object p new cases
 * now: "yes", or "no (why, and what to do)"; terse: "yes" or one word
 * ("not-connected", "idle", "away", ...). A static string. */
const char *account_matching(json_t *p, int terse);
/* Adds p's fields to req (owned), logs in, sends it and prints the profile
 * of the answer. 0 or an error code (printed). */
int account_send_profile(struct cli *cli, json_t *req,
    const struct account_profile *p, const char *type);
/* 1 if name is a display name the server takes, else 0. */
int account_name_ok(const char *name);

#endif
