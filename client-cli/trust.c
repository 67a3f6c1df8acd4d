/*
 * trust.c: the commands about whom to trust: programme-key and certify
 * (admins: the programme's signing key and its counsellors' certificates),
 * safety and verify (safety numbers, accepting a participant's key),
 * history (the messages kept in the local store) and the debugging aid
 * bundle --dump. The programme's secret key never leaves the admin's
 * local store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/cert.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/safety.h"
#include "proto/x3dh.h"
#include "cli.h"
#include "conn.h"
#include "keyfile.h"

static int64_t
my_programme(struct cli *cli)
{
	json_t *p = json_object_get(cli->account, "programme");

	return json_is_integer(p) ? json_integer_value(p) : -1;
}

int
cmd_programme_key(struct cli *cli, int argc, char **argv)
{
	struct ks_state *s;
	uint8_t pk[OFR_PK_BYTES];
	char b64[OFR_B64_LEN(OFR_PK_BYTES)];
	json_t *req, *resp = NULL, *key;
	int64_t prog;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0)
		return rc;
	if ((prog = my_programme(cli)) < 0 ||
	    keyfile_role(cli->key) != KEY_ROLE_ADMIN)
		return cli_fail(OFR_E_FORBIDDEN, "programme-key: only a "
		    "programme's admin makes its key");
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "programme.get");
	json_object_set_new(req, "type", json_string("programme.get"));
	json_object_set_new(req, "programme", json_integer(prog));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	key = json_object_get(json_object_get(resp, "programme"), "key");
	if (key != NULL && !json_is_null(key)) {
		json_decref(resp);
		return cli_fail(OFR_E_FORBIDDEN, "programme %lld already has "
		    "a signing key; it is set once", (long long)prog);
	}
	json_decref(resp);
	s = keyfile_state(cli->key);
	crypto_sign_keypair(pk, s->prog_sk);
	s->prog_id = prog;
	s->has_progsk = 1;
	cli->dirty = 1;
	/* the secret is kept before the server learns the public half */
	if ((rc = cli_save(cli)) != 0)
		return rc;
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "programme.key.set");
	json_object_set_new(req, "type", json_string("programme.key.set"));
	frame_set_bin(req, "key", pk, sizeof(pk));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	b64_encode(b64, sizeof(b64), pk, sizeof(pk));
	printf("programme-key: %s\n", b64);
	return EXIT_OK;
}

/* Certifies one pending counsellor e ({"key","name"}). */
static int
certify_one(struct cli *cli, json_t *e, int64_t prog, int64_t days)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t cert[CERT_BYTES];
	struct cert_info info;
	json_t *req, *resp = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(&info, 0, sizeof(info));
	if (e2e_participant_key(e, info.counsellor_pk) != 0)
		return cli_fail(OFR_E_BAD_FIELD, "counsellor.pending: a "
		    "counsellor without a key");
	info.programme_id = prog;
	info.not_before = now - 300;
	info.not_after = now + days * 86400;
	if (cert_sign(cert, s->prog_sk, &info) != 0)
		return cli_fail(OFR_E_USAGE, "bad validity");
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "counsellor.certify");
	json_object_set_new(req, "type", json_string("counsellor.certify"));
	json_object_set(req, "key", json_object_get(e, "key"));
	frame_set_bin(req, "cert", cert, sizeof(cert));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	fputs("certified: ", stdout);
	text_puts(stdout, json_string_value(json_object_get(e, "name")));
	fputc('\n', stdout);
	return 0;
}

int
cmd_certify(struct cli *cli, int argc, char **argv)
{
	const char *days_s = NULL;
	const struct cli_opt opts[] = {
		{ "--days", &days_s, NULL },
		{ NULL, NULL, NULL }
	};
	struct ks_state *s;
	json_t *req, *resp = NULL, *list, *e;
	int64_t days = 365, prog;
	size_t i;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (days_s != NULL && ((days = cli_parse_id(days_s)) < 0 ||
	    days > 3650))
		return cli_usage("--days is 1..3650");
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "counsellor.pending");
	json_object_set_new(req, "type", json_string("counsellor.pending"));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	list = json_object_get(resp, "counsellors");
	if (json_array_size(list) == 0) {
		json_decref(resp);
		return EXIT_OK;
	}
	s = keyfile_state(cli->key);
	prog = my_programme(cli);
	if (!s->has_progsk || s->prog_id != prog) {
		json_decref(resp);
		return cli_fail(OFR_E_FORBIDDEN, "this key file holds no "
		    "signing key of programme %lld (made with offramp "
		    "programme-key)", (long long)prog);
	}
	json_array_foreach(list, i, e) {
		if ((rc = certify_one(cli, e, prog, days)) != 0)
			break;
	}
	json_decref(resp);
	return rc;
}

/* Logs in and finds case pos; 0 with *cases (caller owns), *kase. */
static int
load_case(struct cli *cli, const char *pos, json_t **cases, json_t **kase,
    int64_t *id)
{
	int rc;

	*cases = NULL;
	if ((*id = cli_parse_id(pos)) < 0)
		return cli_usage("bad case id %s", pos);
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cli_case_list(cli, cases)) != 0)
		return rc;
	if ((*kase = cli_case_find(*cases, *id)) == NULL) {
		json_decref(*cases);
		*cases = NULL;
		return cli_fail(OFR_E_NOT_FOUND, "case %lld is not one of "
		    "yours", (long long)*id);
	}
	return 0;
}

static struct ks_contact *
contact_of(struct cli *cli, int64_t id, int role)
{
	struct ks_state *s = keyfile_state(cli->key);

	for (size_t i = 0; i < s->n_contacts; i++)
		if (s->contacts[i].case_id == id &&
		    s->contacts[i].role == role)
			return &s->contacts[i];
	return NULL;
}

int
cmd_safety(struct cli *cli, int argc, char **argv)
{
	char num[SAFETY_STR_BYTES], *pos[1];
	uint8_t key[OFR_PK_BYTES];
	struct ks_contact *c;
	json_t *cases, *kase, *p;
	int64_t id;
	size_t i;
	int npos, rc, verified;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_usage("safety CASE");
	if ((rc = load_case(cli, pos[0], &cases, &kase, &id)) != 0)
		return rc;
	(void)e2e_check_case(cli, kase);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (e2e_participant_key(p, key) != 0 ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		c = contact_of(cli, id, e2e_participant_role(p));
		verified = c != NULL && c->verified &&
		    memcmp(c->key, key, sizeof(key)) == 0;
		safety_number(num, keyfile_pk(cli->key), key);
		text_puts(stdout, json_string_value(json_object_get(p,
		    "name")));
		printf(" %s %s\n", num, verified ? "verified" : "unverified");
	}
	json_decref(cases);
	return EXIT_OK;
}

int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ NULL, NULL, NULL }
	};
	uint8_t key[OFR_PK_BYTES];
	struct ks_contact *c;
	json_t *cases, *kase, *p;
	char *pos[1];
	int64_t id;
	size_t i;
	int npos, rc, done = 0, role;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_usage("verify CASE [--name NAME]");
	if ((rc = load_case(cli, pos[0], &cases, &kase, &id)) != 0)
		return rc;
	(void)e2e_check_case(cli, kase);	/* records first-seen keys */
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));

		if (e2e_participant_key(p, key) != 0 ||
		    (role = e2e_participant_role(p)) < 0 ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		if (name != NULL && (n == NULL || strcmp(n, name) != 0))
			continue;
		if ((c = contact_of(cli, id, role)) == NULL)
			continue;
		memcpy(c->key, key, sizeof(key));
		c->verified = 1;
		cli->dirty = 1;
		fputs("verified: ", stdout);
		text_puts(stdout, n);
		fputc('\n', stdout);
		done++;
	}
	json_decref(cases);
	if ((rc = cli_save(cli)) != 0)
		return rc;
	if (done == 0)
		return cli_fail(OFR_E_NOT_FOUND, "no participant %s%s in case "
		    "%lld", name != NULL ? "named " : "",
		    name != NULL ? name : "", (long long)id);
	return EXIT_OK;
}

int
cmd_history(struct cli *cli, int argc, char **argv)
{
	struct ks_state *s;
	int64_t id;
	int rc;

	if ((id = cli_one_case(cli, argc, argv, "history CASE", &rc)) < 0)
		return rc;
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	s = keyfile_state(cli->key);
	for (size_t i = 0; i < s->n_msgs; i++) {
		if (s->msgs[i].case_id != id)
			continue;
		text_puts(stdout, s->msgs[i].sent ? "me" : s->msgs[i].name);
		fputs(": ", stdout);
		text_put(stdout, s->msgs[i].text, s->msgs[i].len);
		fputc('\n', stdout);
	}
	return EXIT_OK;
}

int
cmd_bundle(struct cli *cli, int argc, char **argv)
{
	struct x3dh_bundle *b;
	uint8_t *buf, sk[X3DH_KEY_BYTES];
	char *b64;
	size_t len = 0;
	int dump = 0, npos, rc;
	const struct cli_opt opts[] = {
		{ "--dump", NULL, &dump },
		{ NULL, NULL, NULL }
	};

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (!dump)
		return cli_usage("bundle --dump");
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	if ((b = sodium_malloc(sizeof(*b))) == NULL ||
	    (buf = malloc(X3DH_BUNDLE_MAX_BYTES)) == NULL ||
	    (b64 = malloc(OFR_B64_LEN(X3DH_BUNDLE_MAX_BYTES))) == NULL)
		return cli_fail(OFR_E_NOMEM, "bundle");
	memset(b, 0, sizeof(*b));
	/* fresh keys whose secrets are thrown away; ids far above the
	 * store's, so they never meet real ones */
	memcpy(b->ik, keyfile_pk(cli->key), OFR_PK_BYTES);
	b->spk_id = 0xf0000000u | randombytes_uniform(0x0fffffff);
	x3dh_keypair(b->spk, sk);
	x3dh_spk_sign(b->spk_sig, keyfile_sk(cli->key), b->spk_id, b->spk);
	b->n_opk = 3;
	for (size_t i = 0; i < b->n_opk; i++) {
		b->opk[i].id = b->spk_id + (uint32_t)i;
		x3dh_keypair(b->opk[i].pk, sk);
	}
	sodium_memzero(sk, sizeof(sk));
	if (x3dh_bundle_encode(buf, X3DH_BUNDLE_MAX_BYTES, &len, b) == 0) {
		b64_encode(b64, OFR_B64_LEN(X3DH_BUNDLE_MAX_BYTES), buf, len);
		printf("%s\n", b64);
	}
	sodium_free(b);
	free(buf);
	free(b64);
	return len > 0 ? EXIT_OK : cli_fail(OFR_E_NOMEM, "bundle");
}
