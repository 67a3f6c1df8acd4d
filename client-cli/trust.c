/*
 * trust.c: whom the CLI trusts, and the commands about it. It owns the
 * checks made before a key is used: the programme keys pinned on first
 * use (or given with --programme-key), counsellors' certificates under
 * them, the keys of each case's participants as first seen (or last
 * verified) and the warnings when one changes, and the checks of a
 * received message's sender. Its commands: programme-key and certify
 * (admins: the programme's signing key and its counsellors'
 * certificates), safety and verify (safety numbers, accepting a changed
 * key). It makes no session and decrypts nothing (e2e.c does), and the
 * programme's secret key never leaves the admin's local store.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/cert.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ratchet.h"
#include "proto/safety.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "conn.h"
#include "keyfile.h"
#include "text.h"
#include "trust.h"

/* --- keys seen per case --- */

static struct ks_contact *
contact_find(struct ks_state *s, int64_t case_id, int role)
{
	for (size_t i = 0; i < s->n_contacts; i++)
		if (s->contacts[i].case_id == case_id &&
		    s->contacts[i].role == role)
			return &s->contacts[i];
	return NULL;
}

void
trust_forget_role(struct cli *cli, int64_t case_id, int role)
{
	struct ks_state *s = keyfile_state(cli->key);
	size_t i = 0;

	while (i < s->n_contacts) {
		if (s->contacts[i].case_id == case_id &&
		    s->contacts[i].role == role) {
			s->contacts[i] = s->contacts[--s->n_contacts];
			cli->dirty = 1;
		} else {
			i++;
		}
	}
}

int
trust_check_case(struct cli *cli, json_t *kase)
{
	struct ks_state *s = keyfile_state(cli->key);
	int64_t id = json_integer_value(json_object_get(kase, "id"));
	uint8_t key[OFR_PK_BYTES];
	struct ks_contact *c;
	json_t *p;
	size_t i;
	int changed = 0, role;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (cases_participant_key(p, key) != 0 ||
		    cases_participant_role(p, &role) != 0 ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		if ((c = contact_find(s, id, role)) == NULL) {
			if (keyfile_contact_add(cli->key, id, role, key) == 0)
				cli->dirty = 1;
			continue;
		}
		if (memcmp(c->key, key, sizeof(key)) != 0) {
			fputs("warning: the key of ", stderr);
			text_puts(stderr, cases_participant_name(p));
			fprintf(stderr, " in case %lld changed\n",
			    (long long)id);
			changed++;
		}
	}
	return changed > 0 ? OFR_E_CRYPTO : 0;
}

/* --- programme keys and certificates --- */

static int
pin_find(struct ks_state *s, int64_t programme, uint8_t key[OFR_PK_BYTES])
{
	for (size_t i = 0; i < s->n_pins; i++) {
		if (s->pins[i].programme == programme) {
			memcpy(key, s->pins[i].key, OFR_PK_BYTES);
			return 0;
		}
	}
	return OFR_E_NOT_FOUND;
}

/* The pinned key of programme: --programme-key, the store's pin, or
 * (first use) the server's, pinned now. 0 or an error code (printed). */
static int
pinned_key(struct cli *cli, int64_t programme, uint8_t key[OFR_PK_BYTES])
{
	struct ks_state *s = keyfile_state(cli->key);
	const char *k;
	json_t *f, *resp = NULL;
	size_t n;
	int rc;

	if (cli->programme_key != NULL) {
		if (b64_decode(key, OFR_PK_BYTES, &n, cli->programme_key,
		    strlen(cli->programme_key)) != 0 || n != OFR_PK_BYTES)
			return cli_usage("--programme-key is the base64 of a "
			    "32-byte key");
		return 0;
	}
	if (pin_find(s, programme, key) == 0)
		return 0;
	if ((rc = cli_new_request("programme.get", &f)) != 0)
		return rc;
	json_object_set_new(f, "programme", json_integer(programme));
	if ((rc = cli_request(cli, f, &resp)) != 0)
		return rc;
	k = json_string_value(json_object_get(json_object_get(resp,
	    "programme"), "key"));
	if (k == NULL || b64_decode(key, OFR_PK_BYTES, &n, k, strlen(k)) != 0 ||
	    n != OFR_PK_BYTES) {
		json_decref(resp);
		return cli_fail(OFR_E_CRYPTO, "programme %lld has no signing "
		    "key to pin", (long long)programme);
	}
	json_decref(resp);
	if (pin_find(s, programme, key) == 0)
		return 0;
	if (s->n_pins == KS_PINS_MAX)
		return cli_fail(OFR_E_LIMIT, "too many pinned programme keys");
	s->pins[s->n_pins].programme = programme;
	memcpy(s->pins[s->n_pins].key, key, OFR_PK_BYTES);
	s->n_pins++;
	cli->dirty = 1;
	return cli_save(cli);
}

int
trust_check_cert(struct cli *cli, const char *name,
    const uint8_t key[OFR_PK_BYTES], const char *cert_b64, json_t *programme)
{
	uint8_t cert[CERT_BYTES], pin[OFR_PK_BYTES];
	struct cert_info info;
	size_t n;
	int rc;

	if (cert_b64 == NULL || !json_is_integer(programme) ||
	    b64_decode(cert, sizeof(cert), &n, cert_b64,
	    strlen(cert_b64)) != 0 || n != CERT_BYTES)
		goto refuse;
	if ((rc = pinned_key(cli, json_integer_value(programme), pin)) != 0)
		return rc;
	if (cert_verify(&info, cert, pin, key, (int64_t)time(NULL)) == 0 &&
	    info.programme_id == json_integer_value(programme))
		return 0;
refuse:
	fputs("offramp: crypto: ", stderr);
	text_puts(stderr, name);
	fputs("'s key is not certified by the pinned programme key\n",
	    stderr);
	return OFR_E_CRYPTO;
}

int
trust_check_counsellor(struct cli *cli, json_t *p)
{
	uint8_t key[OFR_PK_BYTES];

	if (cases_participant_key(p, key) != 0)
		return cli_fail(OFR_E_BAD_FIELD, "a participant without a "
		    "key");
	return trust_check_cert(cli, cases_participant_name(p), key,
	    json_string_value(json_object_get(p, "cert")),
	    json_object_get(p, "programme"));
}

int
trust_check_counsellors(struct cli *cli, json_t *kase)
{
	json_t *p;
	size_t i;
	int rc;

	(void)trust_check_case(cli, kase);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (cases_is_counsellor(p) &&
		    (rc = trust_check_counsellor(cli, p)) != 0)
			return rc;
	}
	return 0;
}

/* --- before sending and receiving --- */

int
trust_before_send(struct cli *cli, json_t *kase)
{
	int64_t id = json_integer_value(json_object_get(kase, "id"));

	if (trust_check_case(cli, kase) != 0)
		return cli_fail(OFR_E_CRYPTO, "not sent: a key in case %lld "
		    "changed; compare safety numbers (offramp safety %lld), "
		    "then accept it with offramp verify %lld", (long long)id,
		    (long long)id, (long long)id);
	return 0;
}

/* The participant of kase with key, or NULL; borrowed. */
static json_t *
participant_of(json_t *kase, const uint8_t key[OFR_PK_BYTES])
{
	uint8_t pk[OFR_PK_BYTES];
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (cases_participant_key(p, pk) == 0 &&
		    memcmp(pk, key, sizeof(pk)) == 0)
			return p;
	}
	return NULL;
}

/* 1 when participant p of kase has another key than the one the store
 * saw first (or verified last) for its role in that case, else 0. */
static int
key_changed(struct cli *cli, json_t *kase, json_t *p)
{
	int64_t id = json_integer_value(json_object_get(kase, "id"));
	uint8_t key[OFR_PK_BYTES];
	struct ks_contact *c;
	int role;

	if (cases_participant_role(p, &role) != 0 ||
	    cases_participant_key(p, key) != 0 ||
	    (c = contact_find(keyfile_state(cli->key), id, role)) == NULL)
		return 0;
	return memcmp(c->key, key, sizeof(key)) != 0;
}

int
trust_check_message(struct cli *cli, json_t *kase,
    const uint8_t from[OFR_PK_BYTES], const uint8_t *ct, size_t ctlen,
    enum trust_refusal *refusal)
{
	struct ratchet_msg m;
	json_t *p;
	int rc;

	*refusal = TRUST_OK;
	if (kase == NULL || (p = participant_of(kase, from)) == NULL) {
		/* Nobody this client knows in the case: the server relays only
		 * participants' messages, so this one is injected (or from a
		 * counsellor who has left). Never a session with it. */
		*refusal = TRUST_STRANGER;
		return 0;
	}
	if (key_changed(cli, kase, p)) {
		*refusal = TRUST_CHANGED;
		return 0;
	}
	if (!cases_is_counsellor(p) ||
	    ratchet_msg_parse(&m, ct, ctlen) != 0 || !m.has_init)
		return 0;
	/* a first message: the counsellor's key must be certified before
	 * any session is made with it */
	if ((rc = trust_check_counsellor(cli, p)) == 0)
		return 0;
	/* not checked (a bad --programme-key, no answer, the connection
	 * gone): the message stays */
	if (rc == OFR_E_USAGE || rc == OFR_E_TIMEOUT || cli->conn == NULL ||
	    conn_error(cli->conn)[0] != '\0')
		return rc;
	*refusal = TRUST_UNCERTIFIED;
	return 0;			/* it can never be accepted */
}

/* --- commands --- */

/* The programme of the logged-in account, or -1 when it has none. */
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
	if ((rc = cli_new_request("programme.get", &req)) != 0)
		return rc;
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
	if ((rc = cli_new_request("programme.key.set", &req)) != 0)
		return rc;
	frame_set_bin(req, "key", pk, sizeof(pk));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	b64_encode(b64, sizeof(b64), pk, sizeof(pk));
	printf("programme-key: %s\n", b64);
	return 0;
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
	if (cases_participant_key(e, info.counsellor_pk) != 0)
		return cli_fail(OFR_E_BAD_FIELD, "counsellor.pending: a "
		    "counsellor without a key");
	info.programme_id = prog;
	info.not_before = now - 300;
	info.not_after = now + days * 86400;
	if (cert_sign(cert, s->prog_sk, &info) != 0)
		return cli_fail(OFR_E_USAGE, "bad validity");
	if ((rc = cli_new_request("counsellor.certify", &req)) != 0)
		return rc;
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
	if (days_s != NULL && (cli_parse_id(days_s, &days) != 0 ||
	    days > 3650))
		return cli_usage("--days is 1..3650");
	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((rc = cli_new_request("counsellor.pending", &req)) != 0)
		return rc;
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	list = json_object_get(resp, "counsellors");
	if (json_array_size(list) == 0) {
		json_decref(resp);
		return 0;
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
	if (cli_parse_id(pos, id) != 0)
		return cli_usage("bad case id %s", pos);
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cases_list(cli, cases)) != 0)
		return rc;
	if ((*kase = cases_find(*cases, *id)) == NULL) {
		json_decref(*cases);
		*cases = NULL;
		return cli_fail(OFR_E_NOT_FOUND, "case %lld is not one of "
		    "yours", (long long)*id);
	}
	return 0;
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
	int npos, rc, verified, role;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_usage("safety CASE");
	if ((rc = load_case(cli, pos[0], &cases, &kase, &id)) != 0)
		return rc;
	(void)trust_check_case(cli, kase);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (cases_participant_key(p, key) != 0 ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		c = cases_participant_role(p, &role) == 0 ?
		    contact_find(keyfile_state(cli->key), id, role) : NULL;
		verified = c != NULL && c->verified &&
		    memcmp(c->key, key, sizeof(key)) == 0;
		safety_number(num, keyfile_pk(cli->key), key);
		text_puts(stdout, json_string_value(json_object_get(p,
		    "name")));
		printf(" %s %s\n", num, verified ? "verified" : "unverified");
	}
	json_decref(cases);
	return 0;
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
	(void)trust_check_case(cli, kase);	/* records first-seen keys */
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));

		if (cases_participant_key(p, key) != 0 ||
		    cases_participant_role(p, &role) != 0 ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		if (name != NULL && (n == NULL || strcmp(n, name) != 0))
			continue;
		c = contact_find(keyfile_state(cli->key), id, role);
		if (c == NULL)
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
	return 0;
}

