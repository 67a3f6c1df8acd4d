/*
 * account.c: the commands about one's own account: keygen, login, redeem,
 * invite (admins) and profile (counsellors). Output is "key: value" lines
 * that scripts read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "cli.h"
#include "conn.h"
#include "keyfile.h"

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
	if ((kdf = keyfile_kdf_parse(kdf_name)) < 0)
		return cli_usage("--kdf is interactive, moderate or min");
	if ((rc = cli_new_passphrase(cli, &pass, &len)) != 0)
		return rc;
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
	return EXIT_OK;
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
	    (rc = cli_login(cli)) != 0)
		return rc;
	print_account(cli->account);
	/* "created" is in the login.ok frame, not the account */
	printf("created: %s\n", cli->created ? "yes" : "no");
	return EXIT_OK;
}

/* Checks a display name as the server will. */
static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > OFR_NAME_MAX || !text_utf8_ok(name, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* Fills a profile.set request from the options given; 0 or EXIT_USAGE. */
static int
profile_fields(json_t *req, const char *name, const char *languages,
    const char *topics, const char *capacity, const char *available)
{
	json_t *list;
	char *end;
	long cap;

	if (name != NULL) {
		if (!name_ok(name))
			return cli_usage("a name is 1..%d bytes of UTF-8 "
			    "without control characters", OFR_NAME_MAX);
		json_object_set_new(req, "name", json_string(name));
	}
	if (languages != NULL) {
		if ((list = cli_token_list(languages, "languages")) == NULL)
			return EXIT_USAGE;
		json_object_set_new(req, "languages", list);
	}
	if (topics != NULL) {
		if ((list = cli_token_list(topics, "topics")) == NULL)
			return EXIT_USAGE;
		json_object_set_new(req, "topics", list);
	}
	if (capacity != NULL) {
		errno = 0;
		cap = strtol(capacity, &end, 10);
		if (errno || end == capacity || *end || cap < 0 || cap > 100)
			return cli_usage("--capacity is 0..100");
		json_object_set_new(req, "capacity", json_integer(cap));
	}
	if (available != NULL) {
		if (strcmp(available, "yes") != 0 &&
		    strcmp(available, "no") != 0)
			return cli_usage("--available is yes or no");
		json_object_set_new(req, "available",
		    json_boolean(strcmp(available, "yes") == 0));
	}
	return 0;
}

static int
print_profile(json_t *resp)
{
	json_t *p = json_object_get(resp, "profile");

	if (!json_is_object(p))
		return cli_fail(OFR_E_CONN, "profile.set: no profile in the "
		    "answer");
	fputs("name: ", stdout);
	text_puts(stdout, json_string_value(json_object_get(p, "name")));
	fputs("\nlanguages: ", stdout);
	text_put_list(stdout, json_object_get(p, "languages"), ",");
	fputs("\ntopics: ", stdout);
	text_put_list(stdout, json_object_get(p, "topics"), ",");
	printf("\ncapacity: %lld\navailable: %s\n",
	    (long long)json_integer_value(json_object_get(p, "capacity")),
	    json_is_true(json_object_get(p, "available")) ? "yes" : "no");
	return EXIT_OK;
}

int
cmd_redeem(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL, *languages = NULL, *topics = NULL;
	const char *capacity = NULL, *role_name;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ "--languages", &languages, NULL },
		{ "--topics", &topics, NULL },
		{ "--capacity", &capacity, NULL },
		{ NULL, NULL, NULL }
	};
	uint8_t token[OFR_INVITE_BYTES];
	json_t *profile, *resp = NULL, *account;
	char *pos[1];
	int npos, rc, role;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || name == NULL)
		return cli_usage("redeem TOKEN --name NAME");
	if (ocrypto_invite_decode(token, pos[0]) != 0)
		return cli_fail(OFR_E_BAD_INVITE, "that is not an invite "
		    "token");
	if ((profile = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "redeem");
	json_object_set_new(profile, "type", json_string("profile.set"));
	if ((rc = profile_fields(profile, name, languages, topics, capacity,
	    NULL)) != 0) {
		json_decref(profile);
		return rc;
	}
	json_object_del(profile, "name");	/* the name goes in redeem */
	if ((rc = cli_load_key(cli)) != 0 || (rc = cli_connect(cli)) != 0) {
		json_decref(profile);
		return rc;
	}
	rc = conn_redeem(cli->conn, keyfile_sk(cli->key), pos[0], name, &resp,
	    cli->timeout_ms);
	if (rc != 0) {
		json_decref(profile);
		rc = cli_fail_request(cli, rc, resp, "redeem");
		json_decref(resp);
		return rc;
	}
	account = json_object_get(resp, "account");
	role_name = json_string_value(json_object_get(account, "role"));
	if (role_name == NULL || (role = keyfile_role_parse(role_name)) < 0) {
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
	if ((rc = cli_after_login(cli)) != 0) {	/* the first prekeys */
		json_decref(profile);
		return rc;
	}
	if (json_object_size(profile) <= 1) {
		json_decref(profile);
		return EXIT_OK;
	}
	if (role != KEY_ROLE_COUNSELLOR) {
		json_decref(profile);
		fprintf(stderr, "offramp: profile options ignored: the account "
		    "is not a counsellor\n");
		return EXIT_OK;
	}
	if ((rc = cli_request(cli, profile, &resp)) != 0)
		return rc;
	json_decref(resp);
	return EXIT_OK;
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
		if ((secs = cli_parse_id(ttl)) < 0) {
			json_decref(req);
			return cli_usage("--ttl is a number of seconds");
		}
		json_object_set_new(req, "ttl", json_integer(secs));
	}
	if ((rc = cli_login(cli)) != 0) {
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
	printf("%s\n", token);
	json_decref(resp);
	return EXIT_OK;
}

int
cmd_profile(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL, *languages = NULL, *topics = NULL;
	const char *capacity = NULL, *available = NULL;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ "--languages", &languages, NULL },
		{ "--topics", &topics, NULL },
		{ "--capacity", &capacity, NULL },
		{ "--available", &available, NULL },
		{ NULL, NULL, NULL }
	};
	json_t *req, *resp = NULL;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "profile");
	json_object_set_new(req, "type", json_string("profile.set"));
	if ((rc = profile_fields(req, name, languages, topics, capacity,
	    available)) != 0 || (rc = cli_login(cli)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	rc = print_profile(resp);
	json_decref(resp);
	return rc;
}
