/*
 * account.c: one's own account on the server (account.h): the login
 * exchange (the server's challenge signed with the identity key, in a
 * login or redeem frame) and the prekey upkeep that follows it, the
 * profile options, and the commands keygen, login, redeem, invite
 * (admins) and profile (counsellors), whose output is "key: value" lines
 * that scripts read. It is the one place that signs a login, and it sees
 * the transport only through conn.h's requests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "proto/pow.h"
#include "account.h"
#include "cli.h"
#include "passphrase.h"
#include "conn.h"
#include "e2e.h"
#include "keyfile.h"
#include "text.h"
#include "trust.h"

/* --- the login exchange --- */

/*
 * A login or redeem frame of type: the identity key, and its signature of
 * the server's key and the nonce of its latest challenge. NULL on OOM.
 */
static json_t *
signed_frame(struct cli *cli, const char *type)
{
	uint8_t sig[OFR_SIG_BYTES];
	json_t *f = json_object();

	if (f == NULL)
		return NULL;
	ocrypto_login_sign(sig, keyfile_sk(cli->key),
	    conn_server_key(cli->conn), conn_nonce(cli->conn));
	if (json_object_set_new(f, "type", json_string(type)) ||
	    frame_set_bin(f, "key", keyfile_pk(cli->key), OFR_PK_BYTES) ||
	    frame_set_bin(f, "sig", sig, sizeof(sig))) {
		json_decref(f);
		return NULL;
	}
	return f;
}

#define POW_SLOW_MS	2000	/* a solve this long is said on stderr */
#define POW_CHUNK	65536	/* hashes between two looks at the clock */
#define POW_TRIES	3	/* pow_required answers taken in a row */

int
account_pow(struct cli *cli, enum ofr_pow_purpose purpose, json_t *req)
{
	int bits = conn_pow_bits(cli->conn), told = 0;
	int64_t t0 = cli_now_ms();
	uint64_t pow = 0, start = 0;

	if (bits <= 0)
		return 0;
	while (ofr_pow_search(purpose, conn_nonce(cli->conn),
	    keyfile_pk(cli->key), bits, start, POW_CHUNK, &pow) != 0) {
		start += POW_CHUNK;
		if (!told && cli_now_ms() - t0 > POW_SLOW_MS) {
			fprintf(stderr, "offramp: the server asks for a proof "
			    "of work (%d bits): a few seconds more...\n", bits);
			told = 1;
		}
	}
	return json_object_set_new(req, "pow", json_integer((json_int_t)pow))
	    ? OFR_E_NOMEM : 0;
}

int
account_pow_again(struct cli *cli)
{
	json_t *f = json_object(), *resp = NULL;
	int rc;

	/* the fresh challenge came after the error: a ping's answer comes
	 * after it, so it is taken once the ping is answered */
	if (f == NULL || json_object_set_new(f, "type", json_string("ping"))) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	rc = conn_request(cli->conn, f, &resp, cli->timeout_ms);
	json_decref(resp);
	return rc;
}

/* The prekey upkeep after a login or redeem (e2e_after_login): 0 or an
 * error code (printed). */
static int
after_login(struct cli *cli)
{
	const char *what = "ping";
	json_t *resp = NULL;
	int rc;

	if ((rc = e2e_after_login(cli, &resp, &what)) != 0) {
		if (rc == OFR_E_IO)
			rc = cli_fail(rc, "cannot save %s: %s", cli->key_path,
			    strerror(errno));
		else
			rc = cli_fail_request(cli, rc, resp, what);
	}
	json_decref(resp);
	return rc;
}

int
account_login(struct cli *cli)
{
	json_t *f, *resp = NULL;
	int rc;

	if (cli->conn != NULL && conn_is_closed(cli->conn))
		cli_disconnect(cli);	/* gone: log in again */
	if (cli->account != NULL)
		return 0;	/* logged in already (offramp daemon) */
	if ((rc = cli_load_key(cli)) != 0 || (rc = cli_connect(cli)) != 0 ||
	    (rc = trust_server_key(cli, 0)) != 0)
		return rc;
	/* A new client pays a proof of work, a known key nothing: try
	 * without, and pay when the server says so (a fresh challenge
	 * follows its pow_required). */
	for (int tries = 0, pay = 0; ; tries++) {
		f = signed_frame(cli, "login");
		if (f == NULL || json_object_set_new(f, "role", json_string(
		    keyfile_role_name(keyfile_role(cli->key)))) ||
		    (pay && account_pow(cli, OFR_POW_LOGIN, f) != 0)) {
			json_decref(f);
			rc = OFR_E_NOMEM;
		} else {
			rc = conn_request(cli->conn, f, &resp,
			    cli->timeout_ms);
		}
		if (rc != OFR_E_POW_REQUIRED || tries >= POW_TRIES ||
		    cli->no_pow)
			break;
		json_decref(resp);
		resp = NULL;
		if ((rc = account_pow_again(cli)) != 0)
			break;
		pay = 1;
	}
	if (rc != 0) {
		rc = cli_fail_request(cli, rc, resp, "login");
		json_decref(resp);
		return rc;
	}
	cli->account = json_incref(json_object_get(resp, "account"));
	cli->created = json_is_true(json_object_get(resp, "created"));
	cli->uncertified = json_is_false(json_object_get(resp, "certified"));
	json_decref(resp);
	/* The role is the key file's, not the server's to name (the page
	 * refuses such an answer too: conn.js) */
	if (!json_is_object(cli->account) ||
	    !json_is_string(json_object_get(cli->account, "role")) ||
	    strcmp(json_string_value(json_object_get(cli->account, "role")),
	    keyfile_role_name(keyfile_role(cli->key))) != 0) {
		json_decref(cli->account);
		cli->account = NULL;
		return cli_fail(OFR_E_CONN, "login: the server answered for "
		    "another role than %s's", cli->key_path);
	}
	return after_login(cli);
}

/* Redeems invite as a new account named name, logged in at once: 0 with
 * *resp the redeem.ok, or as conn_request (*resp the error frame or
 * NULL). */
static int
redeem(struct cli *cli, const char *invite, const char *name, json_t **resp)
{
	json_t *f = signed_frame(cli, "redeem");

	*resp = NULL;
	if (f == NULL ||
	    json_object_set_new(f, "invite", json_string(invite)) ||
	    json_object_set_new(f, "name", json_string(name))) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	return conn_request(cli->conn, f, resp, cli->timeout_ms);
}

/* --- commands --- */

/* What a key file's passphrase protects, said before it is asked. */
#define PASS_SENTENCE	"Your passphrase protects this key file: with the " \
	"file and the passphrase anyone can read your conversations and " \
	"write as you, and if you forget it nobody can open the file again."
int
cmd_keygen(struct cli *cli, int argc, char **argv)
{
	const char *kdf_name = "interactive";
	const struct cli_opt opts[] = {
		{ "--kdf", &kdf_name, NULL },
		{ NULL, NULL, NULL }
	};
	char b64[OFR_B64_LEN(OFR_PK_BYTES)], *pass;
	size_t len;
	int npos, kdf, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (keyfile_kdf_parse(kdf_name, &kdf) != 0)
		return cli_usage("--kdf is interactive or moderate");
	fputs(PASS_SENTENCE "\n", stderr);
	if ((rc = cli_new_passphrase(cli, &pass, &len)) != 0)
		return rc;
	/* "min" is for tests, where the passphrase protects nothing */
	if (kdf != KEY_KDF_MIN && !passphrase_strong(pass, len)) {
		cli_pass_free(pass);
		return cli_fail(OFR_E_PASSPHRASE, "the passphrase is too weak: "
		    PASSPHRASE_RULE);
	}
	if (len == 0) {
		cli_pass_free(pass);
		return cli_fail(OFR_E_PASSPHRASE, "the passphrase is empty");
	}
	rc = keyfile_create(&cli->key, cli->key_path, pass, len, kdf);
	cli_pass_free(pass);
	if (rc == OFR_E_IO && errno == EEXIST)
		return cli_fail(rc, "%s exists; not replacing it",
		    cli->key_path);
	if (rc == OFR_E_IO)
		return cli_fail(rc, "cannot write %s: %s", cli->key_path,
		    strerror(errno));
	if (rc != 0)
		return cli_fail(rc, "cannot make a key");
	b64_encode(b64, sizeof(b64), keyfile_pk(cli->key), OFR_PK_BYTES);
	printf("key: %s\n", b64);
	cli_json(json_pack("{s:s}", "key", b64));
	return 0;
}

static void
print_account(json_t *account)
{
	fputs("role: ", stdout);
	text_puts(stdout, json_string_value(json_object_get(account,
	    "role")));
	fputs("\nname: ", stdout);
	text_puts(stdout, json_string_value(json_object_get(account,
	    "name")));
	fputc('\n', stdout);
}

int
cmd_login(struct cli *cli, int argc, char **argv)
{
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0)
		return rc;
	print_account(cli->account);
	/* "created" is in the login.ok frame, not the account */
	printf("created: %s\n", cli->created ? "yes" : "no");
	if (cli->uncertified)
		fputs("Your programme has not certified your key yet, so no "
		    "case comes to you: tell your admin your fingerprint "
		    "(offramp whoami).\n", stderr);
	return 0;
}

int
account_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > OFR_NAME_MAX || !text_utf8_ok(name, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* Splits "0:9-17,1:9-17" into *list, [[0,9,17],[1,9,17]] ("" gives []).
 * 0, or OFR_E_USAGE (printed) when bad, OFR_E_NOMEM. */
static int
hours_list(const char *s, json_t **list)
{
	json_t *arr = json_array();
	const char *p = s;

	*list = NULL;
	if (arr == NULL)
		return cli_fail(OFR_E_NOMEM, "--hours");
	while (*p != '\0') {
		char *end;
		long day, from, to;

		errno = 0;
		day = strtol(p, &end, 10);
		if (end == p || *end != ':' || day < 0 || day > 6)
			goto bad;
		p = end + 1;
		from = strtol(p, &end, 10);
		if (end == p || *end != '-' || from < 0 || from > 23)
			goto bad;
		p = end + 1;
		to = strtol(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0') || to < 1 ||
		    to > 24 || from >= to || errno != 0)
			goto bad;
		if (json_array_size(arr) >= ACCOUNT_HOURS_MAX) {
			json_decref(arr);
			return cli_usage("--hours: at most %d ranges",
			    ACCOUNT_HOURS_MAX);
		}
		json_array_append_new(arr, json_pack("[iii]", (int)day,
		    (int)from, (int)to));
		p = end;
		if (*p == ',' && *++p == '\0')
			goto bad;
	}
	*list = arr;
	return 0;
bad:
	json_decref(arr);
	return cli_usage("--hours is DAY:FROM-TO[,...] in UTC (day 0 = Monday, "
	    "0..6; hours FROM 0..23 < TO 1..24), or \"\": %s", s);
}

/* s when it is one of the NULL-ended names, else NULL. */
static const char *
one_of(const char *s, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(s, *names) == 0)
			return s;
	return NULL;
}

static const char *const age_bands[] = { "18-29", "30-44", "45-59",
    "60-plus", NULL };
static const char *const backgrounds[] = { "peer", "professional", NULL };
/* Said whenever a name is set: the server takes any (PRIVACY.md). */
#define PSEUDONYM_NOTICE "offramp: the display name is shown to clients " \
	"and admins: use a pseudonym,\nnever a real name (the server does " \
	"not check it)\n"
static const char *const formats[] = { "chat", "in-person", "phone-video",
    NULL };
static const char *const presences[] = { "online", "away", "offline",
    NULL };

int
account_profile_fields(json_t *req, const struct account_profile *p)
{
	json_t *list;
	char *end;
	long cap;
	int rc;

	if (p->name != NULL) {
		if (!account_name_ok(p->name))
			return cli_usage("a name is 1..%d bytes of UTF-8 "
			    "without control characters", OFR_NAME_MAX);
		json_object_set_new(req, "name", json_string(p->name));
		fputs(PSEUDONYM_NOTICE, stderr);
	}
	if (p->languages != NULL) {
		if ((rc = cli_token_list(p->languages, "languages",
		    &list)) != 0)
			return rc;
		json_object_set_new(req, "languages", list);
	}
	if (p->topics != NULL) {
		if ((rc = cli_token_list(p->topics, "topics", &list)) != 0)
			return rc;
		json_object_set_new(req, "topics", list);
	}
	if (p->capacity != NULL) {
		errno = 0;
		cap = strtol(p->capacity, &end, 10);
		if (errno || end == p->capacity || *end || cap < 0 ||
		    cap > 100)
			return cli_usage("--capacity is 0..100");
		json_object_set_new(req, "capacity", json_integer(cap));
	}
	if (p->available != NULL) {
		if (strcmp(p->available, "yes") != 0 &&
		    strcmp(p->available, "no") != 0)
			return cli_usage("--available is yes or no");
		json_object_set_new(req, "available",
		    json_boolean(strcmp(p->available, "yes") == 0));
	}
	if (p->gender != NULL) {
		if (!frame_is_token(p->gender))
			return cli_usage("--gender is a token of a-z, 0-9, -");
		json_object_set_new(req, "gender", json_string(p->gender));
	}
	if (p->age_band != NULL) {
		if (one_of(p->age_band, age_bands) == NULL)
			return cli_usage("--age-band is 18-29, 30-44, 45-59 "
			    "or 60-plus");
		json_object_set_new(req, "age_band",
		    json_string(p->age_band));
	}
	if (p->background != NULL) {
		if (one_of(p->background, backgrounds) == NULL)
			return cli_usage("--background is peer or "
			    "professional");
		json_object_set_new(req, "background",
		    json_string(p->background));
	}
	if (p->formats != NULL) {
		if ((rc = cli_token_list(p->formats, "formats", &list)) != 0)
			return rc;
		for (size_t i = 0; i < json_array_size(list); i++) {
			if (one_of(json_string_value(json_array_get(list, i)),
			    formats) == NULL) {
				json_decref(list);
				return cli_usage("--formats are of chat, "
				    "in-person, phone-video");
			}
		}
		json_object_set_new(req, "formats", list);
	}
	if (p->region != NULL) {
		if (!frame_is_token(p->region))
			return cli_usage("--region is a token of a-z, 0-9, -");
		json_object_set_new(req, "region", json_string(p->region));
	}
	if (p->presence != NULL) {
		if (one_of(p->presence, presences) == NULL)
			return cli_usage("--presence is online, away or "
			    "offline");
		json_object_set_new(req, "presence",
		    json_string(p->presence));
	}
	if (p->hours != NULL) {
		if ((rc = hours_list(p->hours, &list)) != 0)
			return rc;
		json_object_set_new(req, "hours", list);
	}
	return 0;
}

/* A "key: list" line of a JSON array of strings ("-" when empty or
 * absent). */
static void
put_list_line(const char *key, json_t *arr)
{
	printf("%s: ", key);
	if (json_array_size(arr) == 0)
		fputc('-', stdout);
	else
		text_put_list(stdout, arr, ",");
	fputc('\n', stdout);
}

/* A "key: value" line of a string or null ("-"). */
static void
put_str_line(const char *key, json_t *v)
{
	printf("%s: ", key);
	text_puts(stdout, json_is_string(v) ? json_string_value(v) : "-");
	fputc('\n', stdout);
}

const char *
account_matching(json_t *p, int terse)
{
	static const char *const why[][2] = {
		{ "yes", "yes" },
		{ "uncertified", "no (not certified yet)" },
		{ "disabled", "no (disabled)" },
		{ "away", "no (away)" },
		{ "offline", "no (offline)" },
		{ "not-connected",
		    "no (not connected: run offramp daemon or offramp inbox)" },
		{ "idle", "no (idle: any request of yours brings you back)" },
		{ "full", "no (caseload full)" },
	};
	const char *presence = json_string_value(json_object_get(p,
	    "presence"));
	int i = 0;

	if (json_is_false(json_object_get(p, "certified")))
		i = 1;
	else if (json_is_true(json_object_get(p, "disabled")))
		i = 2;
	else if (presence != NULL && strcmp(presence, "online") != 0)
		i = strcmp(presence, "away") == 0 ? 3 : 4;
	else if (json_integer_value(json_object_get(p, "connections")) == 0)
		i = 5;
	else if (json_is_true(json_object_get(p, "idle")))
		i = 6;
	else if (json_integer_value(json_object_get(p, "open")) >=
	    json_integer_value(json_object_get(p, "capacity")))
		i = 7;
	return why[i][terse ? 0 : 1];
}

int
account_print_profile(json_t *resp, const char *type)
{
	json_t *p = json_object_get(resp, "profile"), *r;
	const char *key = json_string_value(json_object_get(resp, "key"));
	size_t i;

	if (!json_is_object(p))
		return cli_fail(OFR_E_CONN, "%s: no profile in the answer",
		    type);
	if (key != NULL) {
		fputs("key: ", stdout);
		text_puts(stdout, key);
		fputc('\n', stdout);
	}
	fputs("name: ", stdout);
	text_puts(stdout, json_string_value(json_object_get(p, "name")));
	fputs("\nlanguages: ", stdout);
	text_put_list(stdout, json_object_get(p, "languages"), ",");
	fputs("\ntopics: ", stdout);
	text_put_list(stdout, json_object_get(p, "topics"), ",");
	printf("\ncapacity: %lld\navailable: %s\n",
	    (long long)json_integer_value(json_object_get(p, "capacity")),
	    json_is_true(json_object_get(p, "available")) ? "yes" : "no");
	put_str_line("presence", json_object_get(p, "presence"));
	put_str_line("gender", json_object_get(p, "gender"));
	put_str_line("age-band", json_object_get(p, "age_band"));
	put_str_line("background", json_object_get(p, "background"));
	put_list_line("formats", json_object_get(p, "formats"));
	put_str_line("region", json_object_get(p, "region"));
	fputs("hours: ", stdout);
	if (json_array_size(json_object_get(p, "hours")) == 0)
		fputc('-', stdout);
	json_array_foreach(json_object_get(p, "hours"), i, r) {
		printf("%s%lld:%lld-%lld", i > 0 ? "," : "",
		    (long long)json_integer_value(json_array_get(r, 0)),
		    (long long)json_integer_value(json_array_get(r, 1)),
		    (long long)json_integer_value(json_array_get(r, 2)));
	}
	printf("\nopen: %lld\ncertified: %s\ndisabled: %s\n",
	    (long long)json_integer_value(json_object_get(p, "open")),
	    json_is_true(json_object_get(p, "certified")) ? "yes" : "no",
	    json_is_true(json_object_get(p, "disabled")) ? "yes" : "no");
	printf("connections: %lld\nnew cases: %s\n",
	    (long long)json_integer_value(json_object_get(p, "connections")),
	    account_matching(p, 0));
	return 0;
}

int
cmd_redeem(struct cli *cli, int argc, char **argv)
{
	const char *capacity = NULL, *role_name;
	struct account_profile pf = { 0 };
	const struct cli_opt opts[] = {
		ACCOUNT_PROFILE_OPTS(pf),
		{ "--capacity", &capacity, NULL },
		{ NULL, NULL, NULL }
	};
	uint8_t token[OFR_INVITE_BYTES];
	json_t *profile, *resp = NULL, *account;
	char *pos[1];
	int npos, rc, role;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (capacity != NULL)
		return cli_usage(ACCOUNT_CAPACITY_IS_ADMINS);
	if (npos != 1 || pf.name == NULL)
		return cli_usage("redeem TOKEN --name NAME");
	if (ocrypto_invite_decode(token, pos[0]) != 0)
		return cli_fail(OFR_E_BAD_INVITE, "that is not an invite "
		    "token");
	if ((profile = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "redeem");
	json_object_set_new(profile, "type", json_string("profile.set"));
	if ((rc = account_profile_fields(profile, &pf)) != 0) {
		json_decref(profile);
		return rc;
	}
	json_object_del(profile, "name");	/* the name goes in redeem */
	if ((rc = cli_load_key(cli)) != 0 || (rc = cli_connect(cli)) != 0) {
		json_decref(profile);
		return rc;
	}
	rc = redeem(cli, pos[0], pf.name, &resp);
	if (rc != 0) {
		json_decref(profile);
		rc = cli_fail_request(cli, rc, resp, "redeem");
		json_decref(resp);
		return rc;
	}
	account = json_object_get(resp, "account");
	role_name = json_string_value(json_object_get(account, "role"));
	/* an invite makes a counsellor or an admin, never a client */
	if (role_name == NULL || keyfile_role_parse(role_name, &role) != 0 ||
	    role == KEY_ROLE_CLIENT) {
		json_decref(profile);
		json_decref(resp);
		return cli_fail(OFR_E_CONN, "redeem: the server sent no role");
	}
	if (role != keyfile_role(cli->key) &&
	    keyfile_set_role(cli->key, cli->key_path, role) != 0) {
		rc = cli_fail(OFR_E_IO, "redeemed as %s, but cannot update "
		    "%s: %s", role_name, cli->key_path, strerror(errno));
		json_decref(profile);
		json_decref(resp);
		return rc;
	}
	print_account(account);
	fflush(stdout);
	json_decref(resp);
	if ((rc = after_login(cli)) != 0) {	/* the first prekeys */
		json_decref(profile);
		return rc;
	}
	if (json_object_size(profile) <= 1) {
		json_decref(profile);
		return 0;
	}
	if (role != KEY_ROLE_COUNSELLOR) {
		json_decref(profile);
		fprintf(stderr, "offramp: profile options ignored: the account "
		    "is not a counsellor\n");
		return 0;
	}
	if ((rc = cli_request(cli, profile, &resp)) != 0)
		return rc;
	json_decref(resp);
	return 0;
}

int
cmd_invite(struct cli *cli, int argc, char **argv)
{
	const char *role = "counsellor", *ttl = NULL;
	const struct cli_opt opts[] = {
		{ "--role", &role, NULL },
		{ "--ttl", &ttl, NULL },
		{ NULL, NULL, NULL }
	};
	uint8_t raw[OFR_INVITE_BYTES];
	json_t *req, *resp = NULL;
	const char *token;
	int npos, rc;
	int64_t secs;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (strcmp(role, "counsellor") != 0 && strcmp(role, "admin") != 0)
		return cli_usage("--role is counsellor or admin");
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "invite");
	json_object_set_new(req, "type", json_string("invite.create"));
	json_object_set_new(req, "role", json_string(role));
	if (ttl != NULL) {
		if (cli_parse_id(ttl, &secs) != 0) {
			json_decref(req);
			return cli_usage("--ttl is a number of seconds");
		}
		json_object_set_new(req, "ttl", json_integer(secs));
	}
	if ((rc = account_login(cli)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	token = json_string_value(json_object_get(resp, "invite"));
	if (token == NULL || ocrypto_invite_decode(raw, token) != 0) {
		json_decref(resp);
		return cli_fail(OFR_E_CONN, "invite.create: no token in the "
		    "answer");
	}
	/* the token last: scripts take the last line */
	fputs("expires: ", stdout);
	text_put_time(stdout, json_integer_value(json_object_get(resp,
	    "expires")));
	printf("\n%s\n", token);
	json_decref(resp);
	return 0;
}

int
cmd_profile(struct cli *cli, int argc, char **argv)
{
	const char *capacity = NULL;
	struct account_profile pf = { 0 };
	const struct cli_opt opts[] = {
		ACCOUNT_PROFILE_OPTS(pf),
		{ "--capacity", &capacity, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (capacity != NULL)
		return cli_usage(ACCOUNT_CAPACITY_IS_ADMINS);
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "profile");
	json_object_set_new(req, "type", json_string("profile.set"));
	return account_send_profile(cli, req, &pf, "profile.set");
}

int
account_send_profile(struct cli *cli, json_t *req,
    const struct account_profile *p, const char *type)
{
	json_t *resp = NULL;
	int rc;

	if ((rc = account_profile_fields(req, p)) != 0 ||
	    (rc = account_login(cli)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	rc = account_print_profile(resp, type);
	json_decref(resp);
	return rc;
}
