/*
 * progkey.c: an admin's programme signing key and what it signs
 * (CRYPTO.md, "Programme keys"). The secret lives in its own file, sealed
 * with its own passphrase (a key file whose PROGSK record holds the
 * programme's seed; its identity is unused), never in the admin's
 * everyday key file and never on the server. Commands: programme-key
 * (new, export, rotate), certify (a list, then only the counsellors
 * named), revoke, partner and partnership (propose, accept, end, list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/safety.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "keyfile.h"
#include "passphrase.h"
#include "pool.h"
#include "text.h"
#include "trust.h"

#define CERT_DAYS_DEFAULT	90
#define CERT_DAYS_MAX		365
#define PARTNER_DAYS_DEFAULT	365
#define DAY			86400

/* The options every command here takes. */
struct pk_opts {
	const char *file;	/* --signing-key: the programme key file */
	const char *pass;	/* --signing-passphrase-file */
	const char *out;	/* --out: a new programme key file */
	const char *new_pass;	/* --new-passphrase-file */
	const char *kdf;	/* --kdf (tests: min) */
	const char *days;	/* --days */
	int renew;		/* --renew */
};

#define PK_OPTS(o) \
	{ "--signing-key", &(o).file, NULL }, \
	{ "--signing-passphrase-file", &(o).pass, NULL }, \
	{ "--out", &(o).out, NULL }, \
	{ "--new-passphrase-file", &(o).new_pass, NULL }, \
	{ "--kdf", &(o).kdf, NULL }, \
	{ "--days", &(o).days, NULL }, \
	{ "--renew", NULL, &(o).renew }

/* The programme of the logged-in account, or -1 when it has none. */
static int64_t
my_programme(struct cli *cli)
{
	json_t *p = json_object_get(cli->account, "programme");

	return json_is_integer(p) ? json_integer_value(p) : -1;
}

/* Logs in as an admin of a programme: 0 with *prog, or an error code
 * (printed). */
static int
admin_login(struct cli *cli, int64_t *prog)
{
	int rc;

	if ((rc = account_login(cli)) != 0)
		return rc;
	if ((*prog = my_programme(cli)) < 0 ||
	    keyfile_role(cli->key) != KEY_ROLE_ADMIN)
		return cli_fail(OFR_E_FORBIDDEN, "only a programme's admin "
		    "holds its signing key");
	return 0;
}

/* A passphrase from file, else $OFFRAMP_SIGNING_PASSPHRASE (for
 * scripts), else the terminal: never $OFFRAMP_PASSPHRASE, which is the
 * everyday key file's. */
static int
own_passphrase(const char *file, int confirm, char **pass, size_t *len)
{
	const char *env = getenv("OFFRAMP_SIGNING_PASSPHRASE");
	char why[256] = "";
	int rc;

	if (env != NULL && env[0] != '\0')
		setenv("OFFRAMP_PASSPHRASE", env, 1);
	else
		unsetenv("OFFRAMP_PASSPHRASE");
	rc = passphrase_get(file, confirm, pass, len, why, sizeof(why));
	unsetenv("OFFRAMP_PASSPHRASE");
	if (rc != 0)
		return cli_fail(rc, "%s", why[0] ? why : "no passphrase");
	if (*len == 0) {
		passphrase_free(*pass);
		return cli_fail(OFR_E_PASSPHRASE, "the passphrase is empty");
	}
	return 0;
}

/* Writes a new programme key file at path holding secret sk of
 * programme prog. 0 or an error code (printed). */
static int
file_write(const struct pk_opts *o, int64_t prog,
    const uint8_t sk[OFR_SK_BYTES])
{
	struct keyfile *k = NULL;
	struct ks_state *s;
	char *pass;
	size_t len;
	int kdf = KEY_KDF_INTERACTIVE, rc;

	if (o->out == NULL)
		return cli_usage("--out FILE: where the programme key goes");
	if (o->kdf != NULL && keyfile_kdf_parse(o->kdf, &kdf) != 0)
		return cli_usage("bad --kdf");
	fputs("The programme key file gets its own passphrase: whoever holds "
	    "the file and it can certify any key for the programme.\n",
	    stderr);
	if ((rc = own_passphrase(o->new_pass, 1, &pass, &len)) != 0)
		return rc;
	if (kdf != KEY_KDF_MIN && !passphrase_strong(pass, len)) {
		passphrase_free(pass);
		return cli_fail(OFR_E_PASSPHRASE, "the passphrase is too weak: "
		    PASSPHRASE_RULE);
	}
	rc = keyfile_create(&k, o->out, pass, len, kdf);
	passphrase_free(pass);
	if (rc != 0)
		return cli_fail(rc, "cannot write %s (it must not exist)",
		    o->out);
	s = keyfile_state(k);
	s->has_progsk = 1;
	s->prog_id = prog;
	memcpy(s->prog_sk, sk, OFR_SK_BYTES);
	(void)keyfile_set_role(k, o->out, KEY_ROLE_ADMIN);
	rc = keyfile_save(k, o->out);
	keyfile_free(k);
	return rc != 0 ? cli_fail(rc, "cannot write %s", o->out) : 0;
}

/*
 * The programme's secret key: from --signing-key FILE (its own
 * passphrase), or (an older key file) from the admin's key file, with a
 * warning. 0 with sk filled, or an error code (printed).
 */
static int
secret_key(struct cli *cli, const struct pk_opts *o, int64_t prog,
    uint8_t sk[OFR_SK_BYTES])
{
	struct ks_state *s = keyfile_state(cli->key);
	struct keyfile *k = NULL;
	char *pass;
	size_t len;
	int rc;

	if (o->file == NULL) {
		if (!s->has_progsk || s->prog_id != prog)
			return cli_usage("--signing-key FILE: the programme "
			    "key file (offramp programme-key new)");
		fputs("warning: this key file holds the programme's signing "
		    "key; move it to its own file with offramp programme-key "
		    "export --out FILE\n", stderr);
		memcpy(sk, s->prog_sk, OFR_SK_BYTES);
		return 0;
	}
	if ((rc = own_passphrase(o->pass, 0, &pass, &len)) != 0)
		return rc;
	rc = keyfile_load(&k, o->file, pass, len);
	passphrase_free(pass);
	if (rc != 0)
		return cli_fail(rc, "cannot open the programme key file %s",
		    o->file);
	s = keyfile_state(k);
	if (!s->has_progsk || s->prog_id != prog)
		rc = cli_fail(OFR_E_FORBIDDEN, "%s holds no signing key of "
		    "programme %lld", o->file, (long long)prog);
	else
		memcpy(sk, s->prog_sk, OFR_SK_BYTES);
	keyfile_free(k);
	return rc;
}

/* The programme's public key as the server has it: 0 with *has, or an
 * error code (printed); *revoked (caller owns) the served list or NULL. */
static int
server_key(struct cli *cli, int64_t prog, uint8_t pk[OFR_PK_BYTES],
    int *has, json_t **revoked)
{
	json_t *f, *resp = NULL, *p;
	const char *k;
	size_t n;
	int rc;

	if ((rc = cli_new_request("programme.get", &f)) != 0)
		return rc;
	json_object_set_new(f, "programme", json_integer(prog));
	if ((rc = cli_request(cli, f, &resp)) != 0)
		return rc;
	p = json_object_get(resp, "programme");
	k = json_string_value(json_object_get(p, "key"));
	*has = k != NULL && b64_decode(pk, OFR_PK_BYTES, &n, k,
	    strlen(k)) == 0 && n == OFR_PK_BYTES;
	if (revoked != NULL)
		*revoked = json_incref(json_object_get(p, "revoked"));
	json_decref(resp);
	return 0;
}

/* Sends a request whose one field is the base64 of a signed statement. */
static int
send_signed(struct cli *cli, const char *type, const char *field,
    const uint8_t *p, size_t n)
{
	json_t *req, *resp = NULL;
	int rc;

	if ((rc = cli_new_request(type, &req)) != 0)
		return rc;
	frame_set_bin(req, field, p, n);
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	return 0;
}

/* The counsellors of the admin's programme (counsellor.list), or of
 * those waiting for a certificate (counsellor.pending): *resp, caller
 * owns; its array in *list. */
static int
counsellors(struct cli *cli, const char *type, json_t **resp, json_t **list)
{
	json_t *req;
	int rc;

	*resp = NULL;
	if ((rc = cli_new_request(type, &req)) != 0 ||
	    (rc = cli_request(cli, req, resp)) != 0)
		return rc;
	*list = json_object_get(*resp, "counsellors");
	return 0;
}

/* Prints a counsellor entry: name, fingerprint, profile, key. */
static void
print_entry(const char *tag, json_t *e, json_t *profile)
{
	uint8_t key[OFR_PK_BYTES];
	char fpr[FPR_STR_BYTES] = "?";
	const char *fields[] = { "languages", "topics", "gender", "age_band",
	    "background", "formats", "region", NULL };

	if (cases_participant_key(e, key) == 0)
		key_fingerprint(fpr, key);
	printf("%s: ", tag);
	text_puts(stdout, pool_entry_name(e));
	printf(" fingerprint=%s", fpr);
	for (int i = 0; fields[i] != NULL; i++) {
		json_t *v = json_object_get(profile, fields[i]);
		char *s;

		if (v == NULL || json_is_null(v))
			continue;
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		printf(" %s=", fields[i]);
		text_puts(stdout, s != NULL ? s : "?");
		free(s);
	}
	fputs(" key=", stdout);
	text_puts(stdout, json_string_value(json_object_get(e, "key")));
	fputc('\n', stdout);
	cli_json(json_pack("{s:s?,s:s,s:O,s:O?}", tag, pool_entry_name(e),
	    "fingerprint", fpr, "key", json_object_get(e, "key"), "profile",
	    profile));
}

/* Certifies counsellor entry e ({"key", name}) for days. */
static int
certify_one(struct cli *cli, json_t *e, int64_t prog,
    const uint8_t sk[OFR_SK_BYTES], int64_t days)
{
	uint8_t cert[CERT_BYTES];
	struct cert_info info;
	json_t *req, *resp = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(&info, 0, sizeof(info));
	if (cases_participant_key(e, info.counsellor_pk) != 0)
		return cli_fail(OFR_E_BAD_FIELD, "a counsellor without a key");
	info.programme_id = prog;
	info.not_before = now - 300;
	info.not_after = now + days * DAY;
	if (cert_sign(cert, sk, &info) != 0)
		return cli_fail(OFR_E_USAGE, "bad validity");
	if ((rc = cli_new_request("counsellor.certify", &req)) != 0)
		return rc;
	json_object_set(req, "key", json_object_get(e, "key"));
	frame_set_bin(req, "cert", cert, sizeof(cert));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	fputs("certified: ", stdout);
	text_puts(stdout, pool_entry_name(e));
	fputc('\n', stdout);
	return 0;
}

/* 1 when key is on programme prog's revocation list under pk: the one
 * the server serves (revoked: its base64, may be NULL), checked, or the
 * one this device keeps (trust_revocations), which a server that
 * withholds its list cannot take back. */
static int
revoked_key(struct cli *cli, json_t *revoked, int64_t prog,
    const uint8_t pk[OFR_PK_BYTES], const uint8_t key[OFR_PK_BYTES])
{
	uint8_t list[REVOCATION_BYTES_MAX];
	struct revocation r;
	const char *b64 = json_string_value(revoked);
	size_t len;

	if (b64 != NULL && b64_decode(list, sizeof(list), &len, b64,
	    strlen(b64)) == 0 && revocation_verify(&r, list, len, pk) == 0 &&
	    r.programme_id == prog && revocation_has(&r, key))
		return 1;
	return trust_revocations(cli, pk, prog, &r) == 0 &&
	    revocation_has(&r, key);
}

/*
 * Certifies again, with sk for days, each enabled counsellor of list (a
 * counsellor.list) whose certificate there verifies under pk, the
 * programme's key it was certified with (expired or not), and that pk's
 * revocation list does not name (revoked_key; revoked: the server's):
 * the server's word "certified" alone would let it have any key it names
 * signed by the programme, a revoked one too. The others are named, not
 * certified.
 */
static int
renew_listed(struct cli *cli, json_t *list, int64_t prog,
    const uint8_t pk[OFR_PK_BYTES], const uint8_t sk[OFR_SK_BYTES],
    int64_t days, json_t *revoked)
{
	uint8_t key[OFR_PK_BYTES], cert[CERT_BYTES];
	struct cert_info info;
	const char *b64;
	json_t *e, *p;
	size_t i, n;
	int rc, v;

	json_array_foreach(list, i, e) {
		p = json_object_get(e, "profile");
		if (!json_is_true(json_object_get(p, "certified")) ||
		    json_is_true(json_object_get(p, "disabled")))
			continue;
		b64 = json_string_value(json_object_get(e, "cert"));
		v = OFR_E_BAD_SIGNATURE;
		if (cases_participant_key(e, key) == 0 && b64 != NULL &&
		    b64_decode(cert, sizeof(cert), &n, b64, strlen(b64)) == 0 &&
		    n == CERT_BYTES)
			v = cert_verify(&info, cert, pk, key, (int64_t)time(NULL));
		if (v != 0 && v != OFR_E_CRYPTO) {	/* CRYPTO: expired */
			fputs("offramp: not renewed: ", stderr);
			text_puts(stderr, pool_entry_name(e));
			fputs(": no certificate of this programme's key is "
			    "listed for it; compare its fingerprint and "
			    "certify it by name\n", stderr);
			continue;
		}
		if (revoked_key(cli, revoked, prog, pk, key)) {
			fputs("offramp: not renewed: ", stderr);
			text_puts(stderr, pool_entry_name(e));
			fputs(": the programme revoked it\n", stderr);
			continue;
		}
		if ((rc = certify_one(cli, e, prog, sk, days)) != 0)
			return rc;
	}
	return 0;
}

/* --days into *days (1..max, default dflt). */
static int
parse_days(const char *s, int64_t dflt, int64_t max, int64_t *days)
{
	*days = dflt;
	if (s != NULL && (cli_parse_id(s, days) != 0 || *days > max))
		return cli_usage("--days is 1..%lld", (long long)max);
	return 0;
}

/* programme-key new: a new key in its own file; the server gets the
 * public half once the secret is kept. */
static int
key_new(struct cli *cli, const struct pk_opts *o, int64_t prog)
{
	uint8_t pk[OFR_PK_BYTES], sk[OFR_SK_BYTES];
	char b64[OFR_B64_LEN(OFR_PK_BYTES)], fpr[FPR_STR_BYTES];
	json_t *req, *resp = NULL;
	int has, rc;

	if ((rc = server_key(cli, prog, pk, &has, NULL)) != 0)
		return rc;
	if (has)
		return cli_fail(OFR_E_FORBIDDEN, "programme %lld already has "
		    "a signing key; it changes only by programme-key rotate",
		    (long long)prog);
	crypto_sign_keypair(pk, sk);
	rc = file_write(o, prog, sk);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		return rc;
	if ((rc = cli_new_request("programme.key.set", &req)) != 0)
		return rc;
	frame_set_bin(req, "key", pk, sizeof(pk));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	b64_encode(b64, sizeof(b64), pk, sizeof(pk));
	key_fingerprint(fpr, pk);
	printf("programme-key: %s\nfingerprint: %s\nfile: %s\n", b64, fpr,
	    o->out);
	cli_json(json_pack("{s:s,s:s,s:s}", "programme_key", b64,
	    "fingerprint", fpr, "file", o->out));
	return 0;
}

/* programme-key export: the same key in a new file under a new
 * passphrase (a second admin, a backup); from an older key file, the
 * secret then leaves it. */
static int
key_export(struct cli *cli, const struct pk_opts *o, int64_t prog)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t sk[OFR_SK_BYTES];
	int rc;

	if ((rc = secret_key(cli, o, prog, sk)) != 0)
		return rc;
	rc = file_write(o, prog, sk);
	sodium_memzero(sk, sizeof(sk));
	if (rc == 0 && o->file == NULL) {
		sodium_memzero(s->prog_sk, sizeof(s->prog_sk));
		s->has_progsk = 0;
		cli->dirty = 1;
		rc = cli_save(cli);
	}
	if (rc == 0) {
		printf("file: %s\n", o->out);
		cli_json(json_pack("{s:s}", "file", o->out));
	}
	return rc;
}

/* programme-key rotate: a new key signed by the old one; the counsellors
 * certified under the old key are certified again under the new one. */
static int
key_rotate(struct cli *cli, const struct pk_opts *o, int64_t prog)
{
	uint8_t st[ROTATION_BYTES], oldsk[OFR_SK_BYTES], newsk[OFR_SK_BYTES];
	char fpr[FPR_STR_BYTES];
	struct rotation r;
	json_t *resp = NULL, *list, *revoked = NULL;
	int64_t days;
	int has, rc;

	if ((rc = parse_days(o->days, CERT_DAYS_DEFAULT, CERT_DAYS_MAX,
	    &days)) != 0 ||
	    (rc = secret_key(cli, o, prog, oldsk)) != 0)
		return rc;
	if ((rc = server_key(cli, prog, r.old_pk, &has, &revoked)) != 0)
		goto out;
	crypto_sign_ed25519_sk_to_pk(st, oldsk);
	if (!has || memcmp(st, r.old_pk, OFR_PK_BYTES) != 0) {
		rc = cli_fail(OFR_E_CRYPTO, "the server's key of programme "
		    "%lld is not the one in %s", (long long)prog,
		    o->file != NULL ? o->file : "this key file");
		goto out;
	}
	if ((rc = counsellors(cli, "counsellor.list", &resp, &list)) != 0)
		goto out;
	/* the server drops every certificate of the old key: each one is
	 * to be made again, none left out unseen */
	if (json_is_true(json_object_get(resp, "more"))) {
		rc = cli_fail(OFR_E_LIMIT, "the programme has more counsellors "
		    "than one answer of the server lists: not rotated, "
		    "nothing changed");
		goto out;
	}
	crypto_sign_keypair(r.new_pk, newsk);
	r.programme_id = prog;
	r.issued = (int64_t)time(NULL);
	if ((rc = file_write(o, prog, newsk)) != 0 ||
	    (rc = rotation_sign(st, oldsk, &r)) != 0 ||
	    (rc = send_signed(cli, "programme.key.rotate", "statement", st,
	    sizeof(st))) != 0)
		goto out;
	key_fingerprint(fpr, r.new_pk);
	printf("rotated: fingerprint %s\nfile: %s\n", fpr, o->out);
	cli_json(json_pack("{s:s,s:s}", "rotated", fpr, "file", o->out));
	rc = renew_listed(cli, list, prog, r.old_pk, newsk, days, revoked);
out:
	json_decref(revoked);
	json_decref(resp);
	sodium_memzero(oldsk, sizeof(oldsk));
	sodium_memzero(newsk, sizeof(newsk));
	return rc;
}

/* programme-key admin-cert: certifies the caller's own admin key with the
 * programme key (an admin certificate, CRYPTO.md "Feedback"), so that
 * clients can seal feedback text to it. */
static int
key_admin_cert(struct cli *cli, const struct pk_opts *o, int64_t prog)
{
	uint8_t sk[OFR_SK_BYTES], cert[CERT_BYTES];
	struct cert_info info;
	json_t *req, *resp = NULL;
	int64_t now = (int64_t)time(NULL), days;
	int rc;

	if ((rc = parse_days(o->days, CERT_DAYS_MAX, CERT_DAYS_MAX,
	    &days)) != 0 || (rc = secret_key(cli, o, prog, sk)) != 0)
		return rc;
	memset(&info, 0, sizeof(info));
	memcpy(info.counsellor_pk, keyfile_pk(cli->key), OFR_PK_BYTES);
	info.programme_id = prog;
	info.not_before = now - 300;
	info.not_after = now + days * DAY;
	rc = admin_cert_sign(cert, sk, &info);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		return cli_fail(OFR_E_USAGE, "bad validity");
	if ((rc = cli_new_request("admin.certify", &req)) != 0)
		return rc;
	frame_set_bin(req, "cert", cert, sizeof(cert));
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_decref(resp);
	printf("admin-cert: %lld days\n", (long long)days);
	return 0;
}

int
cmd_programme_key(struct cli *cli, int argc, char **argv)
{
	struct pk_opts o = { 0 };
	const struct cli_opt opts[] = { PK_OPTS(o), { NULL, NULL, NULL } };
	char *pos[1];
	int64_t prog;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1)
		return cli_usage("programme-key new|export|rotate|admin-cert");
	if ((rc = admin_login(cli, &prog)) != 0)
		return rc;
	if (strcmp(pos[0], "new") == 0)
		return key_new(cli, &o, prog);
	if (strcmp(pos[0], "export") == 0)
		return key_export(cli, &o, prog);
	if (strcmp(pos[0], "rotate") == 0)
		return key_rotate(cli, &o, prog);
	if (strcmp(pos[0], "admin-cert") == 0)
		return key_admin_cert(cli, &o, prog);
	return cli_usage("programme-key new|export|rotate|admin-cert");
}

int
cmd_certify(struct cli *cli, int argc, char **argv)
{
	struct pk_opts o = { 0 };
	const struct cli_opt opts[] = { PK_OPTS(o), { NULL, NULL, NULL } };
	uint8_t sk[OFR_SK_BYTES], pk[OFR_PK_BYTES], spk[OFR_PK_BYTES];
	json_t *presp = NULL, *lresp = NULL, *pending, *listed, *from, *e;
	json_t *revoked = NULL;
	char *pos[32];
	int64_t prog, days;
	size_t i;
	int npos, has, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 32, &npos)) != 0 ||
	    (rc = parse_days(o.days, CERT_DAYS_DEFAULT, CERT_DAYS_MAX,
	    &days)) != 0 ||
	    (rc = admin_login(cli, &prog)) != 0)
		return rc;
	if ((rc = counsellors(cli, "counsellor.pending", &presp,
	    &pending)) != 0 ||
	    (rc = counsellors(cli, "counsellor.list", &lresp, &listed)) != 0)
		goto out;
	if (npos == 0 && !o.renew) {
		/* a list, nothing certified: the admin names whom */
		cli_none(pending, "no counsellor waits for a certificate");
		json_array_foreach(pending, i, e)
			print_entry("pending", e, json_object_get(cases_with_key(listed,
			    json_object_get(e, "key")), "profile"));
		if (json_array_size(pending) > 0)
			fputs("Compare each fingerprint with the one the "
			    "counsellor reads from their own device (offramp "
			    "whoami), then: offramp certify NAME-or-"
			    "FINGERPRINT...\n", stderr);
		goto out;
	}
	from = o.renew ? listed : pending;
	for (int k = 0; k < npos; k++)		/* all named, before any */
		if ((rc = pool_find_named(from, pos[k], &e)) != 0)
			goto out;
	if ((rc = secret_key(cli, &o, prog, sk)) != 0)
		goto out;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	if ((rc = server_key(cli, prog, spk, &has, &revoked)) != 0) {
		sodium_memzero(sk, sizeof(sk));
		goto out;
	}
	if (npos > 0) {
		/* never a key the programme revoked, whatever the server
		 * says of it (revoked_key: its list and this device's) */
		for (int k = 0; rc == 0 && k < npos; k++) {
			if ((rc = pool_find_named(from, pos[k], &e)) != 0)
				break;
			if (cases_participant_key(e, spk) == 0 &&
			    revoked_key(cli, revoked, prog, pk, spk))
				rc = cli_fail(OFR_E_CRYPTO, "%s: the programme "
				    "revoked it: not certified", pos[k]);
			else
				rc = certify_one(cli, e, prog, sk, days);
		}
	} else {	/* --renew: every one this key certified */
		rc = renew_listed(cli, listed, prog, pk, sk, days, revoked);
		if (rc == 0 && json_is_true(json_object_get(lresp, "more")))
			rc = cli_fail(OFR_E_LIMIT, "the programme has more "
			    "counsellors than one answer of the server lists: "
			    "those past it were not renewed (certify NAME "
			    "renews one)");
	}
	sodium_memzero(sk, sizeof(sk));
out:
	json_decref(revoked);
	json_decref(presp);
	json_decref(lresp);
	return rc;
}

/* Compares two 32-byte keys for qsort. */
static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, OFR_PK_BYTES);
}

/* Adds r's keys that keys (*n of them) lacks; *issued after r's. 0, or
 * OFR_E_LIMIT (printed) past REVOCATION_MAX keys. */
static int
revoked_merge(uint8_t *keys, size_t *n, const struct revocation *r,
    int64_t *issued)
{
	size_t k;

	for (size_t j = 0; j < r->n; j++) {
		for (k = 0; k < *n; k++)
			if (memcmp(keys + k * OFR_PK_BYTES,
			    r->keys + j * OFR_PK_BYTES, OFR_PK_BYTES) == 0)
				break;
		if (k < *n)
			continue;
		if (*n == REVOCATION_MAX)
			return cli_fail(OFR_E_LIMIT, "the list holds %d keys "
			    "already", REVOCATION_MAX);
		memcpy(keys + (*n)++ * OFR_PK_BYTES,
		    r->keys + j * OFR_PK_BYTES, OFR_PK_BYTES);
	}
	if (r->issued >= *issued)
		*issued = r->issued + 1;
	return 0;
}

int
cmd_revoke(struct cli *cli, int argc, char **argv)
{
	struct pk_opts o = { 0 };
	const struct cli_opt opts[] = { PK_OPTS(o), { NULL, NULL, NULL } };
	uint8_t sk[OFR_SK_BYTES], pk[OFR_PK_BYTES];
	uint8_t keys[REVOCATION_MAX * OFR_PK_BYTES];
	uint8_t list[REVOCATION_BYTES_MAX];
	struct revocation r;
	json_t *resp = NULL, *listed, *revoked = NULL, *e;
	const char *b64;
	char *pos[16];
	int64_t prog, issued = (int64_t)time(NULL);
	size_t n = 0, len, k;
	int npos, has, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 16, &npos)) != 0)
		return rc;
	if (npos == 0)
		return cli_usage("revoke --signing-key FILE "
		    "NAME-or-FINGERPRINT...");
	if ((rc = admin_login(cli, &prog)) != 0 ||
	    (rc = counsellors(cli, "counsellor.list", &resp, &listed)) != 0 ||
	    (rc = server_key(cli, prog, pk, &has, &revoked)) != 0)
		goto out;
	for (int i = 0; i < npos; i++) {
		if ((rc = pool_find_named(listed, pos[i], &e)) != 0)
			goto out;
		if (n == REVOCATION_MAX) {
			rc = cli_fail(OFR_E_LIMIT, "the list holds %d keys "
			    "already", REVOCATION_MAX);
			goto out;
		}
		if (cases_participant_key(e, keys + n * OFR_PK_BYTES) != 0)
			continue;
		for (k = 0; k < n; k++)
			if (memcmp(keys + k * OFR_PK_BYTES,
			    keys + n * OFR_PK_BYTES, OFR_PK_BYTES) == 0)
				break;
		if (k == n)
			n++;
	}
	if ((rc = secret_key(cli, &o, prog, sk)) != 0)
		goto out;
	/* the list so far: the server's, as the programme's own key (the
	 * one of sk, not the one the server names) signed it, and the one
	 * this device keeps, so that one the server withheld takes no
	 * revocation back */
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	b64 = json_string_value(revoked);
	if (b64 != NULL && b64_decode(list, sizeof(list), &len, b64,
	    strlen(b64)) == 0 && revocation_verify(&r, list, len, pk) == 0 &&
	    r.programme_id == prog)
		rc = revoked_merge(keys, &n, &r, &issued);
	if (rc == 0 && trust_revocations(cli, pk, prog, &r) == 0)
		rc = revoked_merge(keys, &n, &r, &issued);
	if (rc != 0) {
		sodium_memzero(sk, sizeof(sk));
		goto out;
	}
	qsort(keys, n, OFR_PK_BYTES, key_cmp);
	rc = revocation_sign(list, sizeof(list), &len, sk, prog, issued, keys,
	    n);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0 || (rc = send_signed(cli, "programme.revoke", "list",
	    list, len)) != 0 ||
	    (rc = trust_revocations_keep(cli, pk, prog, list, len)) != 0)
		goto out;
	for (int i = 0; i < npos; i++) {
		fputs("revoked: ", stdout);
		text_puts(stdout, pos[i]);
		fputc('\n', stdout);
	}
out:
	json_decref(revoked);
	json_decref(resp);
	return rc;
}

int
cmd_partner(struct cli *cli, int argc, char **argv)
{
	struct pk_opts o = { 0 };
	const struct cli_opt opts[] = { PK_OPTS(o), { NULL, NULL, NULL } };
	uint8_t sk[OFR_SK_BYTES], st[PARTNER_BYTES];
	struct partner_info pi;
	char *pos[2];
	int64_t prog, days;
	size_t n;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2)
		return cli_usage("partner --signing-key FILE PROGRAMME KEY");
	memset(&pi, 0, sizeof(pi));
	if (cli_parse_id(pos[0], &pi.partner_id) != 0 ||
	    b64_decode(pi.partner_pk, OFR_PK_BYTES, &n, pos[1],
	    strlen(pos[1])) != 0 || n != OFR_PK_BYTES)
		return cli_usage("partner PROGRAMME KEY: a programme id and "
		    "the base64 of its key, as the partner gave it to you");
	if ((rc = parse_days(o.days, PARTNER_DAYS_DEFAULT, 3 * 365,
	    &days)) != 0 ||
	    (rc = admin_login(cli, &prog)) != 0 ||
	    (rc = secret_key(cli, &o, prog, sk)) != 0)
		return rc;
	pi.programme_id = prog;
	pi.not_before = (int64_t)time(NULL) - 300;
	pi.not_after = pi.not_before + 300 + days * DAY;
	rc = partner_sign(st, sk, &pi);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		return cli_usage("a programme does not vouch for itself");
	if ((rc = send_signed(cli, "programme.partner", "statement", st,
	    sizeof(st))) != 0)
		return rc;
	printf("partner: %lld\n", (long long)pi.partner_id);
	return 0;
}

/* Prints a partnership object: "partnership: ID" and its fields, one a
 * line, or one JSON line. */
static void
print_partnership(json_t *p)
{
	json_t *ended = json_object_get(p, "ended");

	printf("partnership: %lld\nstatus: ", (long long)json_integer_value(
	    json_object_get(p, "id")));
	text_puts(stdout, json_string_value(json_object_get(p, "status")));
	printf("\nproposer: %lld\npartner: %lld\nname: ",
	    (long long)json_integer_value(json_object_get(p, "proposer")),
	    (long long)json_integer_value(json_object_get(p, "partner")));
	text_puts(stdout, json_string_value(json_object_get(p, "name")));
	fputc('\n', stdout);
	if (json_is_integer(ended)) {
		fputs("ended: ", stdout);
		text_put_time(stdout, json_integer_value(ended));
		printf(" by programme %lld\n", (long long)json_integer_value(
		    json_object_get(p, "ended_by")));
	}
	cli_json(json_incref(p));
}

/* Signs this programme's partner statement for programme partner's key
 * pk, valid for days, into st. 0 or an error code (printed). */
static int
sign_partner(struct cli *cli, const struct pk_opts *o, int64_t prog,
    int64_t partner, const uint8_t pk[OFR_PK_BYTES], int64_t days,
    uint8_t st[PARTNER_BYTES])
{
	uint8_t sk[OFR_SK_BYTES];
	struct partner_info pi;
	int rc;

	memset(&pi, 0, sizeof(pi));
	pi.programme_id = prog;
	pi.partner_id = partner;
	memcpy(pi.partner_pk, pk, OFR_PK_BYTES);
	pi.not_before = (int64_t)time(NULL) - 300;
	pi.not_after = pi.not_before + 300 + days * DAY;
	if ((rc = secret_key(cli, o, prog, sk)) != 0)
		return rc;
	rc = partner_sign(st, sk, &pi);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		return cli_usage("a programme is not its own partner");
	return 0;
}

/* Sends a partnership request: type with "partnership": id (when > 0)
 * and "statement" (when st is not NULL); prints the answer's
 * partnership. */
static int
partnership_send(struct cli *cli, const char *type, int64_t id,
    const uint8_t *st)
{
	json_t *req, *resp = NULL;
	int rc;

	if ((rc = cli_new_request(type, &req)) != 0)
		return rc;
	if (id > 0)
		json_object_set_new(req, "partnership", json_integer(id));
	if (st != NULL)
		frame_set_bin(req, "statement", st, PARTNER_BYTES);
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	print_partnership(json_object_get(resp, "partnership"));
	json_decref(resp);
	return 0;
}

/*
 * partnership accept: the proposal must carry the proposer's statement,
 * signed by key (given out of band, as for partner), for this
 * programme's key; only then is the proposer's key signed in turn.
 */
static int
partnership_accept(struct cli *cli, const struct pk_opts *o, int64_t prog,
    int64_t id, const uint8_t key[OFR_PK_BYTES], int64_t days)
{
	uint8_t st[PARTNER_BYTES], own[OFR_PK_BYTES], mine[PARTNER_BYTES];
	struct partner_info pi;
	json_t *req, *resp = NULL, *p, *found = NULL;
	const char *b64;
	int64_t proposer = 0;
	size_t i, n;
	int has, rc;

	if ((rc = server_key(cli, prog, own, &has, NULL)) != 0)
		return rc;
	if (!has)
		return cli_fail(OFR_E_FORBIDDEN, "your programme has no key");
	if ((rc = cli_new_request("partnership.list", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	json_array_foreach(json_object_get(resp, "partnerships"), i, p)
		if (json_integer_value(json_object_get(p, "id")) == id)
			found = p;
	b64 = json_string_value(json_object_get(found, "proposer_statement"));
	proposer = json_integer_value(json_object_get(found, "proposer"));
	if (found == NULL || proposer == prog) {
		json_decref(resp);
		return cli_fail(OFR_E_NOT_FOUND, "no proposal %lld to your "
		    "programme", (long long)id);
	}
	if (b64 == NULL || b64_decode(st, sizeof(st), &n, b64,
	    strlen(b64)) != 0 || n != PARTNER_BYTES ||
	    partner_verify(&pi, st, key, (int64_t)time(NULL)) != 0 ||
	    pi.programme_id != proposer || pi.partner_id != prog ||
	    memcmp(pi.partner_pk, own, OFR_PK_BYTES) != 0) {
		json_decref(resp);
		return cli_fail(OFR_E_CRYPTO, "the proposal is not signed by "
		    "the key you gave for programme %lld, or not for your "
		    "programme's key: nothing signed", (long long)proposer);
	}
	json_decref(resp);
	if ((rc = sign_partner(cli, o, prog, proposer, key, days,
	    mine)) != 0)
		return rc;
	return partnership_send(cli, "partnership.accept", id, mine);
}

int
cmd_partnership(struct cli *cli, int argc, char **argv)
{
	struct pk_opts o = { 0 };
	const struct cli_opt opts[] = { PK_OPTS(o), { NULL, NULL, NULL } };
	const char *usage = "partnership list | propose SIGN PROGRAMME KEY | "
	    "accept SIGN ID KEY | end ID";
	uint8_t key[OFR_PK_BYTES], st[PARTNER_BYTES];
	json_t *req, *resp = NULL, *p;
	char *pos[4];
	int64_t prog, id = 0, days;
	size_t i, n;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 4, &npos)) != 0)
		return rc;
	if (npos == 0)
		return cli_usage("%s", usage);
	if ((strcmp(pos[0], "list") == 0 && npos != 1) ||
	    (strcmp(pos[0], "end") == 0 && npos != 2) ||
	    ((strcmp(pos[0], "propose") == 0 ||
	    strcmp(pos[0], "accept") == 0) && npos != 3))
		return cli_usage("%s", usage);
	if (npos >= 2 && cli_parse_id(pos[1], &id) != 0)
		return cli_usage("%s: a programme or partnership id", usage);
	if (npos == 3 && (b64_decode(key, OFR_PK_BYTES, &n, pos[2],
	    strlen(pos[2])) != 0 || n != OFR_PK_BYTES))
		return cli_usage("KEY: the base64 of the other programme's key, "
		    "as it gave it to you");
	if ((rc = parse_days(o.days, PARTNER_DAYS_DEFAULT, 3 * 365,
	    &days)) != 0)
		return rc;
	if (strcmp(pos[0], "list") != 0 && strcmp(pos[0], "end") != 0 &&
	    strcmp(pos[0], "propose") != 0 && strcmp(pos[0], "accept") != 0)
		return cli_usage("%s", usage);
	if ((rc = admin_login(cli, &prog)) != 0)
		return rc;
	if (strcmp(pos[0], "end") == 0)
		return partnership_send(cli, "partnership.end", id, NULL);
	if (strcmp(pos[0], "accept") == 0)
		return partnership_accept(cli, &o, prog, id, key, days);
	if (strcmp(pos[0], "propose") == 0) {
		if ((rc = sign_partner(cli, &o, prog, id, key, days, st)) != 0)
			return rc;
		return partnership_send(cli, "partnership.propose", 0, st);
	}
	if ((rc = cli_new_request("partnership.list", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	cli_none(json_object_get(resp, "partnerships"), "no partnerships");
	json_array_foreach(json_object_get(resp, "partnerships"), i, p) {
		int64_t proposer = json_integer_value(json_object_get(p,
		    "proposer"));

		printf("%lld ", (long long)json_integer_value(
		    json_object_get(p, "id")));
		text_puts(stdout, json_string_value(json_object_get(p,
		    "status")));
		printf(" %s %lld ", proposer == prog ? "to" : "from",
		    (long long)(proposer == prog ? json_integer_value(
		    json_object_get(p, "partner")) : proposer));
		text_puts(stdout, json_string_value(json_object_get(p,
		    "name")));
		fputc('\n', stdout);
		cli_json(json_incref(p));
	}
	json_decref(resp);
	return 0;
}
