/*
 * trust.c: whom the CLI trusts, and the commands about it. It owns the
 * checks made before a key is used: the programme keys given out of band
 * (trust anchors: trust add/import, --trust-file, --programme-key), what
 * they sign (rotations, partner statements, revocation lists; CRYPTO.md
 * "Programme keys"), counsellors' certificates under them, the programme
 * a client asked for, the keys of each case's participants as first seen
 * (or last verified) and the warnings when one changes, the server's key,
 * and the checks of a received message's sender. Its commands: trust,
 * whoami, safety and verify. It makes no session and decrypts nothing
 * (e2e.c does); the programme's signing key is progkey.c's.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/frame.h"
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

/* 1 when this client said yes to a referral of case case_id to
 * programme that no handover has used yet: asked for after the case's
 * first programme (where it began: never a yes), and not marked used
 * since (-programme, when a handover carried a key over). */
static int
accepted_to(struct cli *cli, int64_t case_id, int64_t programme)
{
	struct ks_state *s = keyfile_state(cli->key);
	int first = 1, yes = 0;

	if (programme <= 0)
		return 0;
	for (size_t i = 0; i < s->n_asked; i++) {
		if (s->asked[i].case_id != case_id)
			continue;
		if (!first && s->asked[i].programme == programme)
			yes = 1;
		else if (s->asked[i].programme == -programme)
			yes = 0;
		first = 0;
	}
	return yes;
}

/*
 * The programme (> 0) when key, the counsellor of kase now, took it over
 * by a referral this client accepted (PROTOCOL.md, "Referrals"), else 0:
 * the counsellor pinned before (old) left for a referral, the new one is
 * listed as of a programme the client itself said yes to in this case
 * (accepted_to: not the one it began at, nor a yes a handover used) and
 * its certificate holds for that programme. The case's referral now is
 * not asked: it may be a newer one, proposed after a handover this
 * client did not see, and what the listing says of a referral is the
 * server's word as much as the rest. Then the new key is a handover, not
 * a changed key; the caller that carries it over (trust_check_case)
 * marks the yes used: another counsellor of the programme put in later
 * is a changed key, until the client says yes to another referral. It
 * keeps nothing: key_changed asks too.
 */
static int64_t
handed_over(struct cli *cli, json_t *kase, const uint8_t old[OFR_PK_BYTES],
    const uint8_t key[OFR_PK_BYTES])
{
	json_t *nu = cases_participant(kase, key), *p;
	int64_t partner = json_integer_value(json_object_get(nu, "programme"));
	uint8_t k[OFR_PK_BYTES];
	int left = 0;
	size_t i;

	if (nu == NULL || partner <= 0 || !cases_is_counsellor(nu) ||
	    cases_is_colleague(nu))
		return 0;
	json_array_foreach(json_object_get(kase, "former"), i, p) {
		const char *why = json_string_value(json_object_get(p,
		    "reason"));

		if (cases_participant_key(p, k) == 0 &&
		    memcmp(k, old, sizeof(k)) == 0 && why != NULL &&
		    strcmp(why, "referral") == 0)
			left = 1;
	}
	if (!left || !accepted_to(cli,
	    json_integer_value(json_object_get(kase, "id")), partner) ||
	    trust_check_counsellor(cli, nu) != 0)
		return 0;
	return partner;
}

/*
 * An open case new to this key file (none of its participants' keys
 * seen, no programme asked for in it) takes the programme of a request
 * whose answer named no case (trust_asked_pending), the newest, before
 * any of its keys is seen: the case the server names after a case_open,
 * or after an answer without one, is held to what the user asked for.
 */
static void
claim_pending(struct cli *cli, json_t *kase)
{
	struct ks_state *s = keyfile_state(cli->key);
	int64_t id = json_integer_value(json_object_get(kase, "id"));
	const char *st = json_string_value(json_object_get(kase, "status"));

	if (id <= 0 || (st != NULL && strcmp(st, "closed") == 0) ||
	    trust_asked_any(cli, id))
		return;
	for (size_t i = 0; i < s->n_contacts; i++)
		if (s->contacts[i].case_id == id)
			return;
	for (size_t i = s->n_asked; i-- > 0;)
		if (s->asked[i].case_id == 0) {
			s->asked[i].case_id = id;
			cli->dirty = 1;
			(void)cli_save(cli);	/* else at the command's end */
			return;
		}
}

int
trust_check_case(struct cli *cli, json_t *kase)
{
	struct ks_state *s = keyfile_state(cli->key);
	int64_t id = json_integer_value(json_object_get(kase, "id"));
	uint8_t key[OFR_PK_BYTES];
	struct ks_contact *c;
	int64_t partner;
	json_t *p;
	size_t i;
	int changed = 0, role;

	claim_pending(cli, kase);
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		/* a colleague is one of several counsellors: its
		 * certificate vouches for it, not a key pinned by role */
		if (cases_participant_key(p, key) != 0 ||
		    cases_participant_role(p, &role) != 0 ||
		    cases_is_colleague(p) ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		if ((c = contact_find(s, id, role)) == NULL) {
			if (keyfile_contact_add(cli->key, id, role, key) == 0)
				cli->dirty = 1;
			continue;
		}
		if (memcmp(c->key, key, sizeof(key)) != 0 &&
		    (partner = handed_over(cli, kase, c->key, key)) > 0) {
			/* carried over, and the yes used: saved together
			 * (trust_asked saves); a new key, not verified (the
			 * one before may have been) */
			memcpy(c->key, key, sizeof(key));
			c->verified = 0;
			cli->dirty = 1;
			(void)trust_asked(cli, id, -partner);
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

/* --- programme keys: the anchors and what they sign --- */

static struct ks_anchor *
anchor_find(struct ks_state *s, const uint8_t key[OFR_PK_BYTES])
{
	for (size_t i = 0; i < s->n_anchors; i++)
		if (memcmp(s->anchors[i].key, key, OFR_PK_BYTES) == 0)
			return &s->anchors[i];
	return NULL;
}

/* 1 if a is trusted now: not a key its programme rotated away from. */
static int
live(const struct ks_anchor *a)
{
	return a != NULL && a->how != KS_ANCHOR_RETIRED;
}

/*
 * 1 if anchor a vouches for programme id: the one programme whose key it
 * is. An anchor given without it (trust add, trust import,
 * --programme-key, a key file of before) takes it the first time the
 * server names a as that programme's key (served: the key of the
 * programme's programme.get, or NULL), and vouches for no other after
 * (CRYPTO.md, "Programme keys"): a programme's key never certifies a
 * counsellor "of" another programme, which a client may have asked for.
 */
static int
anchor_vouches(struct cli *cli, struct ks_anchor *a, int64_t id,
    const uint8_t *served)
{
	if (a->programme != 0)
		return a->programme == id;
	if (id <= 0 || served == NULL ||
	    memcmp(served, a->key, OFR_PK_BYTES) != 0)
		return 0;
	a->programme = id;
	cli->dirty = 1;
	return 1;
}

/* 1 if name is a display name: 1..OFR_NAME_MAX bytes, no control
 * characters. */
static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > OFR_NAME_MAX)
		return 0;
	for (; *name != '\0'; name++)
		if ((unsigned char)*name < 0x20 || *name == 0x7f)
			return 0;
	return 1;
}

int
trust_anchor_add(struct cli *cli, const uint8_t key[OFR_PK_BYTES],
    const char *name, int how)
{
	struct ks_state *s = keyfile_state(cli->key);
	struct ks_anchor *a;

	if (!name_ok(name))
		return cli_fail(OFR_E_USAGE, "a programme's name is 1..%d "
		    "bytes, no control characters", OFR_NAME_MAX);
	if ((a = anchor_find(s, key)) != NULL && !live(a))
		return 0;	/* rotated away from: stays so (trust add says) */
	if (a == NULL) {
		if (s->n_anchors == KS_ANCHORS_MAX)
			return cli_fail(OFR_E_LIMIT, "%d programme keys are "
			    "trusted already; remove one first",
			    KS_ANCHORS_MAX);
		a = &s->anchors[s->n_anchors++];
		memset(a, 0, sizeof(*a));
		memcpy(a->key, key, OFR_PK_BYTES);
	} else if (strcmp(a->name, name) == 0 && a->how <= how) {
		return 0;
	}
	strcpy(a->name, name);
	if (a->how == 0 || how < a->how)
		a->how = (uint8_t)how;
	cli->dirty = 1;
	return cli_save(cli);
}

/* trust_anchor_add of the key of programme (known: the user accepted it
 * for that programme, or holds it). */
static int
anchor_add_for(struct cli *cli, const uint8_t key[OFR_PK_BYTES],
    const char *name, int how, int64_t programme)
{
	struct ks_anchor *a;
	int rc;

	if ((rc = trust_anchor_add(cli, key, name, how)) != 0)
		return rc;
	a = anchor_find(keyfile_state(cli->key), key);
	if (a == NULL || (a->programme != 0 && a->programme != programme))
		return cli_fail(OFR_E_CRYPTO, "that key is trusted here as "
		    "another programme's");
	if (a->programme == 0) {
		a->programme = programme;
		cli->dirty = 1;
		return cli_save(cli);
	}
	return 0;
}

/* Decodes a base64 programme key; 0 or OFR_E_USAGE (not printed). */
static int
key_decode(const char *b64, uint8_t key[OFR_PK_BYTES])
{
	size_t n;

	if (b64_decode(key, OFR_PK_BYTES, &n, b64, strlen(b64)) != 0 ||
	    n != OFR_PK_BYTES)
		return OFR_E_USAGE;
	return 0;
}

/*
 * Reads a trust file: one "KEY NAME" per line (KEY base64, NAME the rest
 * of the line), blank lines and "#" comments skipped, at most
 * KS_ANCHORS_MAX keys; adds each as an anchor given out of band. 0 or an
 * error code (printed, with the line).
 */
static int
trust_file_import(struct cli *cli, const char *path, size_t *added)
{
	char line[512], *name, *end;
	uint8_t key[OFR_PK_BYTES];
	size_t lineno = 0;
	FILE *f;
	int rc = 0;

	*added = 0;
	if ((f = fopen(path, "r")) == NULL)
		return cli_fail(OFR_E_IO, "cannot read %s", path);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((end = strchr(line, '\n')) != NULL)
			*end = '\0';
		else if (!feof(f)) {
			rc = cli_fail(OFR_E_USAGE, "%s:%zu: line too long",
			    path, lineno);
			break;
		}
		if (line[0] == '\0' || line[0] == '#')
			continue;
		name = strchr(line, ' ');
		if (name == NULL || *added == KS_ANCHORS_MAX) {
			rc = cli_fail(OFR_E_USAGE, "%s:%zu: not \"KEY NAME\" "
			    "(or too many keys)", path, lineno);
			break;
		}
		*name++ = '\0';
		if (key_decode(line, key) != 0 || !name_ok(name)) {
			rc = cli_fail(OFR_E_USAGE, "%s:%zu: a bad key or "
			    "name", path, lineno);
			break;
		}
		if ((rc = trust_anchor_add(cli, key, name,
		    KS_ANCHOR_GIVEN)) == 0)
			(*added)++;
	}
	if (rc == 0 && ferror(f))
		rc = cli_fail(OFR_E_IO, "cannot read %s", path);
	fclose(f);
	return rc;
}

/* The anchors given with this run (--programme-key, --trust-file) go
 * into the store, once per run. 0 or an error code (printed). */
static int
given_anchors(struct cli *cli)
{
	static int done;
	uint8_t key[OFR_PK_BYTES];
	size_t n;
	int rc;

	if (done)
		return 0;
	if (cli->programme_key != NULL) {
		if (key_decode(cli->programme_key, key) != 0)
			return cli_usage("--programme-key is the base64 of a "
			    "32-byte key");
		if ((rc = trust_anchor_add(cli, key, "--programme-key",
		    KS_ANCHOR_GIVEN)) != 0)
			return rc;
	}
	if (cli->trust_file != NULL &&
	    (rc = trust_file_import(cli, cli->trust_file, &n)) != 0)
		return rc;
	done = 1;
	return 0;
}

/* The issued time of a revocation list (checked when it was stored). */
static int64_t
list_issued(const uint8_t *list)
{
	return (int64_t)be64_get(list + 9);
}

/* 1 if key is on the (checked) revocation list of len bytes. */
static int
list_has(const uint8_t *list, size_t len, const uint8_t key[OFR_PK_BYTES])
{
	size_t n;

	if (len < revocation_bytes(0))
		return 0;
	n = (size_t)list[17] << 8 | list[18];
	for (size_t i = 0; i < n && revocation_bytes(i + 1) <= len; i++)
		if (memcmp(list + REVOCATION_HEAD_BYTES + i * OFR_PK_BYTES,
		    key, OFR_PK_BYTES) == 0)
			return 1;
	return 0;
}

/*
 * What the server says of programme N (programme.get): *resp, caller
 * owns. An answer is used again for PROGRAMME_FRESH_MS (a chat or the
 * inbox checks the counsellor before every message: one request a
 * programme, not one a message); a revocation list reaches a long
 * session that late at most. 0 or an error code (printed).
 */
#define PROGRAMME_FRESH_MS	30000
#define PROGRAMME_CACHED	8
static struct {
	int64_t id, at_ms;
	json_t *resp;
} fetched[PROGRAMME_CACHED];

static int
programme_fetch(struct cli *cli, int64_t programme, json_t **resp)
{
	int64_t now = cli_now_ms();
	size_t i, old = 0;
	json_t *f;
	int rc;

	for (i = 0; i < PROGRAMME_CACHED; i++) {
		if (fetched[i].resp != NULL && fetched[i].id == programme &&
		    now - fetched[i].at_ms < PROGRAMME_FRESH_MS) {
			*resp = json_incref(fetched[i].resp);
			return 0;
		}
		if (fetched[i].at_ms < fetched[old].at_ms)
			old = i;
	}
	if ((rc = cli_new_request("programme.get", &f)) != 0)
		return rc;
	json_object_set_new(f, "programme", json_integer(programme));
	if ((rc = cli_request(cli, f, resp)) != 0)
		return rc;
	json_decref(fetched[old].resp);
	fetched[old].id = programme;
	fetched[old].at_ms = now;
	fetched[old].resp = json_incref(*resp);
	return 0;
}

#define ROTATIONS_MAX	16	/* programme.get's rotations at most */

/* Follows the rotations the server lists for programme from each anchor
 * whose key signed one, step by step, telling the user: the new key
 * becomes an anchor of the same name (with its revocation list), and the
 * old one is retired, never to be trusted again. */
static void
follow_rotations(struct cli *cli, int64_t programme, json_t *rotations)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t st[ROTATION_BYTES];
	char fpr[FPR_STR_BYTES];
	struct ks_anchor *a, *to;
	struct rotation r;
	const char *b64;
	json_t *v;
	size_t i, n;

	json_array_foreach(rotations, i, v) {
		if (i >= ROTATIONS_MAX)
			break;		/* no server keeps more */
		b64 = json_string_value(v);
		if (b64 == NULL || b64_decode(st, sizeof(st), &n, b64,
		    strlen(b64)) != 0 || n != ROTATION_BYTES)
			continue;
		for (size_t k = 0, nk = s->n_anchors; k < nk; k++) {
			a = &s->anchors[k];
			if (!live(a) || (a->programme != 0 &&
			    a->programme != programme) ||
			    rotation_verify(&r, st, a->key) != 0 ||
			    r.programme_id != programme)
				continue;
			/* the programme's own statement of its id */
			a->programme = programme;
			to = anchor_find(s, r.new_pk);
			if (to == NULL && s->n_anchors < KS_ANCHORS_MAX) {
				to = &s->anchors[s->n_anchors++];
				*to = *a;
				memcpy(to->key, r.new_pk, OFR_PK_BYTES);
				a->how = KS_ANCHOR_RETIRED;
			} else if (to == NULL) {	/* full: in place */
				memcpy(a->key, r.new_pk, OFR_PK_BYTES);
				to = a;
			} else {
				a->how = KS_ANCHOR_RETIRED;
			}
			cli->dirty = 1;
			key_fingerprint(fpr, r.new_pk);
			fputs("notice: programme ", stderr);
			text_puts(stderr, to->name);
			fprintf(stderr, " rotated its key; its new key has "
			    "fingerprint %s\n", fpr);
		}
	}
}

/* The live anchor that signed partner statement st for key pk of
 * programme, valid now, or NULL. */
static struct ks_anchor *
partner_signer(struct ks_state *s, const uint8_t st[PARTNER_BYTES],
    int64_t programme, const uint8_t pk[OFR_PK_BYTES])
{
	struct partner_info pi;

	for (size_t k = 0; k < s->n_anchors; k++)
		if (live(&s->anchors[k]) && partner_verify(&pi, st,
		    s->anchors[k].key, (int64_t)time(NULL)) == 0 &&
		    pi.partner_id == programme &&
		    memcmp(pi.partner_pk, pk, OFR_PK_BYTES) == 0)
			return &s->anchors[k];
	return NULL;
}

/* The anchor vouching for programme key pk of programme through a
 * partner statement of the server's list vouched (following the signer's
 * rotations when none signed it as it is), or NULL. */
static struct ks_anchor *
partner_anchor(struct cli *cli, int64_t programme,
    const uint8_t pk[OFR_PK_BYTES], json_t *vouched)
{
	struct ks_state *s = keyfile_state(cli->key);
	struct ks_anchor *a = NULL;
	uint8_t st[PARTNER_BYTES];
	const char *b64;
	json_t *v, *resp;
	size_t i, n;

	json_array_foreach(vouched, i, v) {
		b64 = json_string_value(json_object_get(v, "statement"));
		if (b64 == NULL || b64_decode(st, sizeof(st), &n, b64,
		    strlen(b64)) != 0 || n != PARTNER_BYTES)
			continue;
		if ((a = partner_signer(s, st, programme, pk)) != NULL)
			return a;
		resp = NULL;
		if (json_is_integer(json_object_get(v, "programme")) &&
		    programme_fetch(cli, json_integer_value(json_object_get(v,
		    "programme")), &resp) == 0) {
			follow_rotations(cli, json_integer_value(
			    json_object_get(v, "programme")), json_object_get(
			    json_object_get(resp, "programme"), "rotations"));
			a = partner_signer(s, st, programme, pk);
		}
		json_decref(resp);
		if (a != NULL)
			return a;
	}
	return NULL;
}

/*
 * A programme key the user was not given: shows its name, key and
 * fingerprint and asks on a terminal; a command that is not interactive
 * refuses. 0 (trusted now, an anchor) or OFR_E_CRYPTO (printed).
 */
static int
ask_trust(struct cli *cli, int64_t programme, const char *pname,
    const uint8_t pk[OFR_PK_BYTES])
{
	char b64[OFR_B64_LEN(OFR_PK_BYTES)], fpr[FPR_STR_BYTES], line[16];

	b64_encode(b64, sizeof(b64), pk, OFR_PK_BYTES);
	key_fingerprint(fpr, pk);
	fprintf(stderr, "offramp: programme %lld (", (long long)programme);
	text_puts(stderr, pname != NULL ? pname : "?");
	fprintf(stderr, ") has a key you were not given:\n"
	    "  key: %s\n  fingerprint: %s\n"
	    "Only trust it if it is the key the programme itself published "
	    "(its website, leaflet or letter): the server alone cannot "
	    "vouch for it.\n", b64, fpr);
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		fputs("Trust this programme key? [y/N] ", stderr);
		if (fgets(line, sizeof(line), stdin) != NULL &&
		    (strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0))
			return anchor_add_for(cli, pk, pname != NULL &&
			    name_ok(pname) ? pname : "programme",
			    KS_ANCHOR_ASKED, programme);
	}
	fprintf(stderr, "offramp: crypto: not trusted; if it is the "
	    "programme's key, add it with: offramp trust add %s NAME\n", b64);
	return OFR_E_CRYPTO;
}

/* Says why name's key is refused and returns OFR_E_CRYPTO. */
static int
refuse(const char *name, const char *why)
{
	fputs("offramp: crypto: ", stderr);
	text_puts(stderr, name);
	fprintf(stderr, "'s key is refused: %s\n", why);
	return OFR_E_CRYPTO;
}

/*
 * Keeps the server's revocation list (base64 b64, may be NULL) of
 * programme when it verifies under anchor a and is newer than a's.
 */
static void
keep_revocations(struct cli *cli, struct ks_anchor *a, int64_t programme,
    const char *b64)
{
	uint8_t list[REVOCATION_BYTES_MAX];
	struct revocation r;
	size_t n;

	if (b64 == NULL || b64_decode(list, sizeof(list), &n, b64,
	    strlen(b64)) != 0 || revocation_verify(&r, list, n, a->key) != 0 ||
	    r.programme_id != programme)
		return;
	if (a->revoked_len > 0 && list_issued(a->revoked) >= r.issued)
		return;
	memcpy(a->revoked, list, n);
	a->revoked_len = n;
	cli->dirty = 1;
}

int
trust_revocations(struct cli *cli, const uint8_t pk[OFR_PK_BYTES],
    int64_t programme, struct revocation *r)
{
	struct ks_anchor *a = anchor_find(keyfile_state(cli->key), pk);

	if (a == NULL || a->revoked_len == 0 ||
	    revocation_verify(r, a->revoked, a->revoked_len, pk) != 0 ||
	    r->programme_id != programme)
		return OFR_E_NOT_FOUND;
	return 0;
}

int
trust_revocations_keep(struct cli *cli, const uint8_t pk[OFR_PK_BYTES],
    int64_t programme, const uint8_t *list, size_t len)
{
	struct ks_state *s = keyfile_state(cli->key);
	struct ks_anchor *a = anchor_find(s, pk);
	char name[OFR_NAME_MAX + 1];
	struct revocation r;
	int rc;

	if (len > REVOCATION_BYTES_MAX ||
	    revocation_verify(&r, list, len, pk) != 0 ||
	    r.programme_id != programme)
		return cli_fail(OFR_E_CRYPTO, "a revocation list not of "
		    "programme %lld's key", (long long)programme);
	if (a == NULL) {
		/* the admin's own programme: its key, which the admin
		 * holds, trusted here too */
		snprintf(name, sizeof(name), "programme %lld",
		    (long long)programme);
		if ((rc = anchor_add_for(cli, pk, name, KS_ANCHOR_GIVEN,
		    programme)) != 0)
			return rc;
		if ((a = anchor_find(s, pk)) == NULL)
			return cli_fail(OFR_E_INTERNAL, "revocations");
	}
	if (a->revoked_len > 0 && list_issued(a->revoked) >= r.issued)
		return 0;
	memcpy(a->revoked, list, len);
	a->revoked_len = len;
	cli->dirty = 1;
	return cli_save(cli);
}

/* Whose word the last certificate trust_check_cert accepted rests on
 * (trust_vouched). */
static struct {
	char anchor[OFR_NAME_MAX + 1];	/* the user's name for the anchor */
	int partner;			/* 1: a partner statement it signed */
} vouched;

const char *
trust_vouched(int *partner)
{
	*partner = vouched.partner;
	return vouched.anchor;
}

int
trust_check_cert(struct cli *cli, const char *name,
    const uint8_t key[OFR_PK_BYTES], const char *cert_b64, json_t *programme)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t cert[CERT_BYTES], pk[OFR_PK_BYTES];
	struct ks_anchor *a = NULL;
	struct cert_info info;
	json_t *resp = NULL, *prog;
	const char *pkb64;
	int64_t id, now = (int64_t)time(NULL);
	size_t n;
	struct ks_anchor *signer = NULL;
	int rc, expired = 0, served;

	vouched.anchor[0] = '\0';
	vouched.partner = 0;
	if (cert_b64 == NULL || !json_is_integer(programme) ||
	    b64_decode(cert, sizeof(cert), &n, cert_b64,
	    strlen(cert_b64)) != 0 || n != CERT_BYTES)
		return refuse(name, "it has no certificate");
	id = json_integer_value(programme);
	if ((rc = given_anchors(cli)) != 0 ||
	    (rc = programme_fetch(cli, id, &resp)) != 0)
		return rc;
	prog = json_object_get(resp, "programme");
	follow_rotations(cli, id, json_object_get(prog, "rotations"));
	pkb64 = json_string_value(json_object_get(prog, "key"));
	served = pkb64 != NULL && key_decode(pkb64, pk) == 0;
	/* an anchor of this programme that certified this key for it */
	for (size_t i = 0; a == NULL && i < s->n_anchors; i++) {
		if (!live(&s->anchors[i]))
			continue;
		rc = cert_verify(&info, cert, s->anchors[i].key, key, now);
		if (rc == 0 && info.programme_id == id &&
		    anchor_vouches(cli, &s->anchors[i], id, served ? pk : NULL))
			a = &s->anchors[i];
		else if (rc == OFR_E_CRYPTO)
			expired = 1;
	}
	if (a != NULL && cli->dirty && (rc = cli_save(cli)) != 0) {
		json_decref(resp);
		return rc;	/* its programme learnt: kept */
	}
	if (a == NULL && !expired && served &&
	    cert_verify(&info, cert, pk, key, now) == 0 &&
	    info.programme_id == id) {
		if (live(anchor_find(s, pk))) {
			/* an anchor, whose programme is another */
			json_decref(resp);
			return refuse(name, "its certificate is signed by a "
			    "key trusted here as another programme's");
		}
		/* certified under a key that is not an anchor: a partner's,
		 * or one to ask about */
		if (!live(a = anchor_find(s, pk))) {
			if (a != NULL) {	/* retired */
				json_decref(resp);
				return refuse(name, "its programme's key is one "
				    "the programme rotated away from");
			}
			if ((signer = partner_anchor(cli, id, pk,
			    json_object_get(prog, "vouched_by"))) == NULL) {
				if (ask_trust(cli, id, json_string_value(
				    json_object_get(prog, "name")), pk) != 0) {
					json_decref(resp);
					return OFR_E_CRYPTO;
				}
				a = anchor_find(s, pk);
			}
		}
		if (a == NULL) {	/* a partner: its list as served */
			strcpy(vouched.anchor, signer->name);
			vouched.partner = 1;
			rc = 0;
			goto revoked;
		}
	}
	if (a == NULL) {
		json_decref(resp);
		return refuse(name, expired ? "its certificate has expired" :
		    "no programme key you trust certified it");
	}
	keep_revocations(cli, a, id, json_string_value(json_object_get(prog,
	    "revoked")));
	strcpy(vouched.anchor, a->name);
	rc = list_has(a->revoked, a->revoked_len, key) ? OFR_E_CRYPTO : 0;
	json_decref(resp);
	return rc != 0 ? refuse(name, "its programme revoked it") : 0;
revoked:
	{
		uint8_t list[REVOCATION_BYTES_MAX];
		struct revocation r;
		const char *b = json_string_value(json_object_get(prog,
		    "revoked"));

		if (b != NULL && b64_decode(list, sizeof(list), &n, b,
		    strlen(b)) == 0 && revocation_verify(&r, list, n,
		    pk) == 0 && r.programme_id == id &&
		    revocation_has(&r, key))
			rc = OFR_E_CRYPTO;
	}
	json_decref(resp);
	return rc != 0 ? refuse(name, "its programme revoked it") : 0;
}

int
trust_admin_cert(struct cli *cli, const uint8_t key[OFR_PK_BYTES],
    const char *cert_b64, int64_t programme)
{
	struct ks_state *s;
	uint8_t cert[CERT_BYTES], pk[OFR_PK_BYTES];
	struct cert_info info;
	json_t *resp = NULL, *prog;
	const char *pkb64;
	int64_t now = (int64_t)time(NULL);
	size_t n;
	int rc, served;

	if (cert_b64 == NULL || b64_decode(cert, sizeof(cert), &n, cert_b64,
	    strlen(cert_b64)) != 0 || n != CERT_BYTES)
		return OFR_E_CRYPTO;
	if ((rc = given_anchors(cli)) != 0 ||
	    (rc = programme_fetch(cli, programme, &resp)) != 0)
		return rc;
	prog = json_object_get(resp, "programme");
	follow_rotations(cli, programme, json_object_get(prog, "rotations"));
	pkb64 = json_string_value(json_object_get(prog, "key"));
	served = pkb64 != NULL && key_decode(pkb64, pk) == 0;
	s = keyfile_state(cli->key);
	rc = OFR_E_CRYPTO;
	for (size_t i = 0; rc != 0 && i < s->n_anchors; i++) {
		struct ks_anchor *a = &s->anchors[i];

		if (!live(a) || admin_cert_verify(&info, cert, a->key, key,
		    now) != 0 || info.programme_id != programme ||
		    !anchor_vouches(cli, a, programme, served ? pk : NULL))
			continue;
		keep_revocations(cli, a, programme, json_string_value(
		    json_object_get(prog, "revoked")));
		if (!list_has(a->revoked, a->revoked_len, key))
			rc = 0;
	}
	json_decref(resp);
	return rc;
}

/* --- the programme a client asked for --- */

int
trust_asked_any(struct cli *cli, int64_t case_id)
{
	struct ks_state *s = keyfile_state(cli->key);

	for (size_t i = 0; i < s->n_asked; i++)
		if (s->asked[i].case_id == case_id)
			return 1;
	return 0;
}

int
trust_asked(struct cli *cli, int64_t case_id, int64_t programme)
{
	struct ks_state *s = keyfile_state(cli->key);

	if (accepted_to(cli, case_id, programme))
		return 0;	/* that yes is kept already, not used */
	keyfile_asked_room(s);
	s->asked[s->n_asked].case_id = case_id;
	s->asked[s->n_asked].programme = programme;
	s->n_asked++;
	cli->dirty = 1;
	return cli_save(cli);
}

/* 1 when ASKED record i (a programme p > 0) is followed by no record of
 * its case for p: a yes no handover used, nor one kept again. */
static int
open_yes(const struct ks_state *s, size_t i)
{
	int64_t p = s->asked[i].programme;

	for (size_t k = i + 1; k < s->n_asked; k++)
		if (s->asked[k].case_id == s->asked[i].case_id &&
		    (s->asked[k].programme == p || s->asked[k].programme == -p))
			return 0;
	return 1;
}

int
trust_unasked(struct cli *cli, int64_t case_id)
{
	struct ks_state *s = keyfile_state(cli->key);
	size_t j = 0;
	int first = 1, keep;

	/* never the case's first (where it began), nor a yes a handover
	 * used: whatever the server names as the partner withdrawn from,
	 * every yes of the case still to use goes */
	for (size_t i = 0; i < s->n_asked; i++) {
		keep = s->asked[i].case_id != case_id || first ||
		    s->asked[i].programme <= 0 || !open_yes(s, i);
		if (s->asked[i].case_id == case_id)
			first = 0;
		if (keep)
			s->asked[j++] = s->asked[i];
	}
	if (j == s->n_asked)
		return 0;
	s->n_asked = j;
	cli->dirty = 1;
	return cli_save(cli);
}

/* A request's programme whose case the answer did not name (no case
 * object, or case_open): an ASKED record of case 0, which the first case
 * checked that has none of its own takes (claim_pending). */
int
trust_asked_pending(struct cli *cli, int64_t programme)
{
	return trust_asked(cli, 0, programme);
}

/* 0, or OFR_E_CRYPTO (printed) when counsellor participant p of case
 * case_id is of none of the programmes the client asked for there (the
 * one of its request, and a partner it accepted a referral to). */
static int
check_asked(struct cli *cli, int64_t case_id, json_t *p)
{
	json_t *prog = json_object_get(p, "programme");

	return keyfile_asked_for(keyfile_state(cli->key), case_id,
	    json_is_integer(prog) ? json_integer_value(prog) : 0) == 0 ?
	    refuse(cases_participant_name(p), "not of the programme you "
	    "asked for") : 0;
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
		    ((rc = check_asked(cli, json_integer_value(
		    json_object_get(kase, "id")), p)) != 0 ||
		    (rc = trust_check_counsellor(cli, p)) != 0))
			return rc;
	}
	return 0;
}

int
trust_check_lead(struct cli *cli, json_t *kase, int64_t *programme)
{
	int64_t id = json_integer_value(json_object_get(kase, "id"));
	json_t *p;
	size_t i;
	int rc;

	*programme = 0;
	if ((rc = trust_check_case(cli, kase)) != 0)
		return rc;
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (!cases_is_counsellor(p) || cases_is_colleague(p))
			continue;
		if ((rc = check_asked(cli, id, p)) != 0 ||
		    (rc = trust_check_counsellor(cli, p)) != 0) {
			*programme = 0;
			return rc;
		}
		*programme = json_integer_value(json_object_get(p,
		    "programme"));
	}
	return 0;
}

/* --- before sending and receiving --- */

int
trust_before_send(struct cli *cli, json_t *kase)
{
	int64_t id = json_integer_value(json_object_get(kase, "id"));

	json_t *p;
	size_t i;

	if (!cases_participants_ok(kase, keyfile_pk(cli->key),
	    keyfile_role(cli->key)))
		return cli_fail(OFR_E_CRYPTO, "not sent: the server lists "
		    "someone in case %lld that the protocol does not allow "
		    "(a second client, an unknown role); nothing goes to it",
		    (long long)id);
	if (trust_check_case(cli, kase) != 0)
		return cli_fail(OFR_E_CRYPTO, "not sent: a key in case %lld "
		    "changed; compare safety numbers (offramp safety %lld), "
		    "then accept it with offramp verify %lld NUMBER",
		    (long long)id, (long long)id, (long long)id);
	json_array_foreach(json_object_get(kase, "participants"), i, p)
		if (cases_is_counsellor(p) && check_asked(cli, id, p) != 0)
			return OFR_E_CRYPTO;
	return 0;
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
	return memcmp(c->key, key, sizeof(key)) != 0 &&
	    handed_over(cli, kase, c->key, key) == 0;
}

int
trust_check_message(struct cli *cli, json_t *kase,
    const uint8_t from[OFR_PK_BYTES], enum trust_refusal *refusal)
{
	json_t *p;
	int rc;

	*refusal = TRUST_OK;
	if (kase != NULL && !cases_participants_ok(kase, keyfile_pk(cli->key),
	    keyfile_role(cli->key))) {
		*refusal = TRUST_BAD_LIST;
		return 0;
	}
	if (kase != NULL)
		claim_pending(cli, kase);
	if (kase != NULL && (p = cases_participant(kase, from)) == NULL &&
	    (p = cases_former(kase, from)) != NULL) {
		/* Sent while it was in the case (the server keeps who was):
		 * a counsellor's certificate vouches for it, as for a
		 * colleague. */
		if (!cases_is_counsellor(p)) {
			*refusal = TRUST_STRANGER;
			return 0;
		}
	} else if (kase == NULL || p == NULL) {
		/* Nobody this client knows in the case, then or now: the
		 * server relays only participants' messages, so this one is
		 * injected. Never a session with it. */
		*refusal = TRUST_STRANGER;
		return 0;
	}
	if (!cases_is_colleague(p) && cases_participant(kase, from) != NULL &&
	    key_changed(cli, kase, p)) {
		*refusal = TRUST_CHANGED;
		return 0;
	}
	if (cases_is_counsellor(p) && check_asked(cli,
	    json_integer_value(json_object_get(kase, "id")), p) != 0) {
		*refusal = TRUST_UNCERTIFIED;
		return 0;
	}
	/* a counsellor's certificate, and its programme's list of revoked
	 * keys (programme.get, fresh for a while), are checked for every
	 * message, not only a first one: a counsellor its programme revoked
	 * is read no more, in a session made before too */
	if (!cases_is_counsellor(p))
		return 0;
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
		cli_json(json_pack("{s:O,s:O,s:s,s:b}", "name",
		    json_object_get(p, "name"), "key", json_object_get(p,
		    "key"), "number", num, "verified", verified));
	}
	json_decref(cases);
	return 0;
}

/*
 * verify CASE NUMBER [--name NAME]: the safety number the user compared
 * (spaces optional) decides which key is verified: the participant whose
 * current key gives that number with ours. A key swapped after the user
 * looked (safety) gives another number and is not verified.
 */
int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ NULL, NULL, NULL }
	};
	char want[SAFETY_STR_BYTES], num[SAFETY_STR_BYTES];
	uint8_t key[OFR_PK_BYTES];
	struct ks_contact *c;
	json_t *cases, *kase, *p;
	char *pos[2];
	int64_t id;
	size_t i;
	int npos, rc, done = 0, role;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2 || safety_parse(want, pos[1]) != 0)
		return cli_usage("verify CASE NUMBER [--name NAME]: NUMBER is "
		    "the 60-digit safety number you compared (offramp "
		    "safety CASE)");
	if ((rc = load_case(cli, pos[0], &cases, &kase, &id)) != 0)
		return rc;
	(void)trust_check_case(cli, kase);	/* records first-seen keys */
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));

		/* a colleague's key is vouched for by its certificate: it
		 * pins nothing (the key pinned by role is the case's own
		 * counsellor's, or its client's) */
		if (cases_participant_key(p, key) != 0 ||
		    cases_participant_role(p, &role) != 0 ||
		    cases_is_colleague(p) ||
		    sodium_memcmp(key, keyfile_pk(cli->key), sizeof(key)) == 0)
			continue;
		if (name != NULL && (n == NULL || strcmp(n, name) != 0))
			continue;
		safety_number(num, keyfile_pk(cli->key), key);
		if (strcmp(num, want) != 0 ||
		    (c = contact_find(keyfile_state(cli->key), id,
		    role)) == NULL)
			continue;
		memcpy(c->key, key, sizeof(key));
		c->verified = 1;
		cli->dirty = 1;
		fputs("verified: ", stdout);
		text_puts(stdout, n);
		fputc('\n', stdout);
		cli_json(json_pack("{s:O}", "verified", json_object_get(p,
		    "name")));
		done++;
	}
	json_decref(cases);
	if ((rc = cli_save(cli)) != 0)
		return rc;
	if (done == 0)
		return cli_fail(OFR_E_CRYPTO, "nobody%s%s in case %lld has a "
		    "key that gives this safety number now: nothing verified "
		    "(did the key change since you compared? run offramp "
		    "safety %lld again)", name != NULL ? " named " : "",
		    name != NULL ? name : "", (long long)id, (long long)id);
	return 0;
}

/* --- the server's key --- */

int
trust_server_key(struct cli *cli, int accept)
{
	struct ks_state *s = keyfile_state(cli->key);
	const uint8_t *now = conn_server_key(cli->conn);
	char was[FPR_STR_BYTES], is[FPR_STR_BYTES];

	if (s->has_server_key && memcmp(s->server_key, now,
	    OFR_PK_BYTES) == 0)
		return 0;
	if (s->has_server_key && !accept) {
		key_fingerprint(was, s->server_key);
		key_fingerprint(is, now);
		return cli_fail(OFR_E_CRYPTO, "the server's key changed (was "
		    "%s, now %s): another server, or this one reinstalled. "
		    "If its operator announced the new key, accept it with "
		    "offramp trust server --accept", was, is);
	}
	memcpy(s->server_key, now, OFR_PK_BYTES);
	s->has_server_key = 1;
	cli->dirty = 1;
	return cli_save(cli);
}

/* --- the trust command --- */

/* Prints one anchor: fingerprint, key, how it came, name, revocations. */
static void
anchor_print(const struct ks_anchor *a)
{
	char b64[OFR_B64_LEN(OFR_PK_BYTES)], fpr[FPR_STR_BYTES];

	b64_encode(b64, sizeof(b64), a->key, OFR_PK_BYTES);
	key_fingerprint(fpr, a->key);
	printf("%s %s %s revoked=%u ", fpr, b64,
	    a->how == KS_ANCHOR_GIVEN ? "given" : a->how == KS_ANCHOR_ASKED ?
	    "accepted" : "retired",
	    a->revoked_len > 0 ? (unsigned)((a->revoked[17] << 8) |
	    a->revoked[18]) : 0u);
	/* the programme it vouches for, once known (anchor_vouches) */
	if (a->programme != 0)
		printf("for=%lld ", (long long)a->programme);
	else
		fputs("for=? ", stdout);
	text_puts(stdout, a->name);
	fputc('\n', stdout);
	cli_json(json_pack("{s:s,s:s,s:s,s:i,s:o,s:s}", "key", b64,
	    "fingerprint", fpr, "how", a->how == KS_ANCHOR_GIVEN ? "given" :
	    a->how == KS_ANCHOR_ASKED ? "accepted" : "retired", "revoked",
	    a->revoked_len > 0 ? (a->revoked[17] << 8) | a->revoked[18] : 0,
	    "programme", a->programme != 0 ? json_integer(a->programme) :
	    json_null(), "name", a->name));
}

int
cmd_trust(struct cli *cli, int argc, char **argv)
{
	int accept = 0;
	const struct cli_opt opts[] = {
		{ "--accept", NULL, &accept },
		{ NULL, NULL, NULL }
	};
	struct ks_state *s;
	uint8_t key[OFR_PK_BYTES];
	char *pos[3], fpr[FPR_STR_BYTES];
	size_t n;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 3, &npos)) != 0)
		return rc;
	if (npos < 1)
		return cli_usage("trust add KEY NAME | import FILE | list | "
		    "remove KEY | server [--accept]");
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	s = keyfile_state(cli->key);
	if (strcmp(pos[0], "add") == 0 && npos == 3) {
		if (key_decode(pos[1], key) != 0)
			return cli_usage("KEY is the base64 of a 32-byte key");
		if (anchor_find(s, key) != NULL && !live(anchor_find(s, key)))
			return cli_fail(OFR_E_CRYPTO, "its programme rotated "
			    "away from this key: it is not trusted again");
		if ((rc = trust_anchor_add(cli, key, pos[2],
		    KS_ANCHOR_GIVEN)) != 0)
			return rc;
		key_fingerprint(fpr, key);
		printf("trusted: %s\n", fpr);
		cli_json(json_pack("{s:s,s:s}", "trusted", pos[1],
		    "fingerprint", fpr));
		return 0;
	}
	if (strcmp(pos[0], "import") == 0 && npos == 2) {
		if ((rc = trust_file_import(cli, pos[1], &n)) != 0)
			return rc;
		printf("trusted: %zu\n", n);
		cli_json(json_pack("{s:i}", "trusted", (int)n));
		return 0;
	}
	if (strcmp(pos[0], "list") == 0 && npos == 1) {
		if (s->n_anchors == 0)
			fputs("(no programme keys trusted yet: offramp trust "
			    "add KEY NAME)\n", stderr);
		for (size_t i = 0; i < s->n_anchors; i++)
			anchor_print(&s->anchors[i]);
		return 0;
	}
	if (strcmp(pos[0], "remove") == 0 && npos == 2) {
		struct ks_anchor *a;

		if (key_decode(pos[1], key) != 0 ||
		    (a = anchor_find(s, key)) == NULL)
			return cli_fail(OFR_E_NOT_FOUND, "no such trusted key");
		*a = s->anchors[--s->n_anchors];
		cli->dirty = 1;
		cli_json(json_pack("{s:s}", "removed", pos[1]));
		return cli_save(cli);
	}
	if (strcmp(pos[0], "server") == 0 && npos == 1) {
		if ((rc = cli_connect(cli)) != 0 ||
		    (rc = trust_server_key(cli, accept)) != 0)
			return rc;
		key_fingerprint(fpr, s->server_key);
		printf("server: %s\n", fpr);
		cli_json(json_pack("{s:s}", "server", fpr));
		return 0;
	}
	return cli_usage("trust add KEY NAME | import FILE | list | "
	    "remove KEY | server [--accept]");
}

int
cmd_whoami(struct cli *cli, int argc, char **argv)
{
	char b64[OFR_B64_LEN(OFR_PK_BYTES)], fpr[FPR_STR_BYTES];
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = cli_load_key(cli)) != 0)
		return rc;
	b64_encode(b64, sizeof(b64), keyfile_pk(cli->key), OFR_PK_BYTES);
	key_fingerprint(fpr, keyfile_pk(cli->key));
	printf("key: %s\nfingerprint: %s\n", b64, fpr);
	cli_json(json_pack("{s:s,s:s}", "key", b64, "fingerprint", fpr));
	return 0;
}
