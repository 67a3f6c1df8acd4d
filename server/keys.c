/*
 * keys.c: the public keys that end-to-end sessions start from. Prekey
 * bundles (checked against their owner's identity, one-time prekeys handed
 * out once), the public half of each programme's signing key, and the
 * certificates with which a programme vouches for its counsellors' keys.
 * The server only stores and checks public keys and signatures: it holds no
 * secret that opens a session, and it cannot certify a key itself.
 * Fetches are counted per requester and owner, in memory only, so that no
 * case participant takes all of another's one-time prekeys
 * (srv->prekey_fetches an hour).
 */
#include <string.h>

#include "casework.h"
#include "handlers.h"
#include "log.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/x3dh.h"
#include "store.h"

#define OTK_STORED_MAX	200	/* one-time prekeys kept per account */
#define OTK_LOW		10	/* below this the owner is told */
#define PENDING_MAX	100
#define PARTNERS_MAX	16	/* partner statements served per programme */
#define FETCH_SLOTS	4096	/* (requester, owner) pairs counted; 2^n */
#define FETCH_PROBE	16	/* slots looked at for one pair */
#define FETCH_WINDOW	3600	/* seconds a count lasts */

/* prekeys.get counts: the window of a pair starts at its first fetch. */
static struct fetch {
	int64_t requester, owner;	/* 0: a free slot */
	int64_t since;
	int n;
} fetches[FETCH_SLOTS];

/*
 * The count of requester's prekeys.get of owner's bundle in the window:
 * *slot, or OFR_E_LIMIT when requester had srv->prekey_fetches of them
 * already. A fetch answered counts (the caller adds it): one refused,
 * not_found say, leaves the count as it was. With every slot of its
 * probe taken by live pairs, the oldest is forgotten (the count errs
 * towards letting a fetch through).
 */
static int
count_fetch(struct server *srv, int64_t requester, int64_t owner,
    struct fetch **slot)
{
	uint64_t h = ((uint64_t)requester * 0x9e3779b97f4a7c15ULL) ^
	    ((uint64_t)owner * 0xc2b2ae3d27d4eb4fULL);
	struct fetch *f = NULL, *spare = NULL;

	for (size_t i = 0; i < FETCH_PROBE; i++) {
		struct fetch *e = &fetches[(h + i) & (FETCH_SLOTS - 1)];

		if (e->requester == requester && e->owner == owner) {
			f = e;
			break;
		}
		if (spare == NULL || e->since < spare->since)
			spare = e;	/* a free slot's since is 0 */
	}
	if (f != NULL && srv->now - f->since >= FETCH_WINDOW)
		f->n = 0, f->since = srv->now;
	if (f == NULL) {
		f = spare;
		f->requester = requester;
		f->owner = owner;
		f->since = srv->now;
		f->n = 0;
	}
	if (srv->prekey_fetches > 0 && f->n >= srv->prekey_fetches)
		return OFR_E_LIMIT;
	*slot = f;
	return 0;
}

/* Pushes prekeys.low to the owner's sessions when its stock is low
 * (empty, without asking the store, for an account made this turn). */
static void
tell_if_low(struct store *st, int64_t account, int after_login,
    int created, struct session *s)
{
	uint8_t spk[32], sig[OFR_SIG_BYTES];
	uint32_t spk_id;
	int64_t n = 0;
	int has_spk = 0;
	json_t *f;

	if (!created) {
		if (store_otk_count(st, account, &n) != 0)
			return;
		has_spk = store_spk_get(st, account, &spk_id, spk, sig) == 0;
		if (n >= OTK_LOW && has_spk)
			return;
	}
	if ((f = frame_new("prekeys.low", 0)) == NULL)
		return;
	json_object_set_new(f, "one_time", json_integer(n));
	json_object_set_new(f, "spk", json_boolean(has_spk));
	if (after_login)
		session_reply(s, f);
	else {
		session_push_account(account, f, NULL);
		json_decref(f);
	}
}

void
keys_after_login(struct session *s, int created)
{
	tell_if_low(s->srv->st, s->acct.id, 1, created, s);
}

int
keys_upload(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t buf[X3DH_BUNDLE_MAX_BYTES];
	struct x3dh_bundle b;
	int64_t stored;
	size_t len;
	json_t *f;
	int rc;

	if ((rc = frame_bin(in, "bundle", X3DH_BUNDLE_FIXED_BYTES,
	    X3DH_BUNDLE_MAX_BYTES, 1, buf, &len)) != 0)
		return rc;
	if ((rc = x3dh_bundle_verify(&b, buf, len, s->acct.key)) != 0) {
		if (rc == OFR_E_BAD_FIELD)
			in->bad_field = "bundle";
		return rc == OFR_E_BAD_FIELD ? rc : OFR_E_BAD_SIGNATURE;
	}
	/* the account's row locked (PostgreSQL): an upload of the same
	 * account at another node waits, so that the bound below holds for
	 * both and their keys' order does not repeat */
	if ((rc = store_account_lock(st, s->acct.id)) != 0 ||
	    (rc = store_otk_count(st, s->acct.id, &stored)) != 0)
		return rc;
	if (stored + (int64_t)b.n_opk > OTK_STORED_MAX)
		return OFR_E_LIMIT;
	if ((rc = store_spk_set(st, s->acct.id, b.spk_id, b.spk, b.spk_sig,
	    s->srv->now)) != 0)
		return rc;
	for (size_t i = 0; i < b.n_opk; i++)
		if ((rc = store_otk_add(st, s->acct.id, b.opk[i].id,
		    b.opk[i].pk)) != 0) {
			if (rc == OFR_E_BAD_FIELD)
				in->bad_field = "bundle";
			return rc;
		}
	if ((f = frame_new("prekeys.upload.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "one_time",
	    json_integer(stored + (int64_t)b.n_opk));
	session_reply(s, f);
	return 0;
}

int
keys_get(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t key[OFR_PK_BYTES], buf[X3DH_BUNDLE_MAX_BYTES];
	uint8_t cert[CERT_BYTES];
	struct x3dh_bundle b;
	struct account a;
	struct fetch *counted = NULL;
	size_t n, len;
	json_t *f;
	int rc, shares = 0, has_cert;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0)
		return rc;
	if ((rc = store_account_by_key(st, key, &a)) != 0)
		return rc;
	if ((rc = store_share_case(st, s->acct.id, a.id, &shares)) != 0)
		return rc;
	if (!shares || a.id == s->acct.id)
		return OFR_E_NOT_FOUND;
	if ((rc = count_fetch(s->srv, s->acct.id, a.id, &counted)) != 0)
		return rc;

	memset(&b, 0, sizeof(b));
	memcpy(b.ik, a.key, OFR_PK_BYTES);
	if ((rc = store_spk_get(st, a.id, &b.spk_id, b.spk, b.spk_sig)) != 0)
		return rc;
	rc = store_otk_take(st, a.id, &b.opk[0].id, b.opk[0].pk);
	if (rc == 0)
		b.n_opk = 1;
	else if (rc != OFR_E_NOT_FOUND)
		return rc;
	if (x3dh_bundle_encode(buf, sizeof(buf), &len, &b) != 0)
		return OFR_E_INTERNAL;

	if ((f = frame_new("prekeys.get.ok", in->id)) == NULL ||
	    frame_set_bin(f, "bundle", buf, len) != 0) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	if (a.role == ROLE_COUNSELLOR) {
		if ((rc = store_account_cert(st, a.id, cert, &has_cert)) != 0) {
			json_decref(f);
			return rc;
		}
		if (has_cert)
			frame_set_bin(f, "cert", cert, CERT_BYTES);
		else
			json_object_set_new(f, "cert", json_null());
		json_object_set_new(f, "programme", json_integer(a.programme));
	}
	counted->n++;
	session_reply(s, f);
	tell_if_low(st, a.id, 0, 0, NULL);
	return 0;
}

int
keys_programme_set(struct session *s, struct frame_in *in)
{
	uint8_t key[OFR_PK_BYTES];
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0)
		return rc;
	if ((rc = store_programme_set_key(s->srv->st, s->acct.programme,
	    key)) != 0 ||
	    (rc = admin_audit(s, "programme.key.set", 0, NULL)) != 0)
		return rc;
	log_info("keys: programme %lld set its signing key",
	    (long long)s->acct.programme);
	session_reply(s, frame_new("programme.key.set.ok", in->id));
	return 0;
}

/* Appends the base64 of a signed statement to the array arg (a rotation)
 * or, with its signer, {"programme", "statement"} (a partner statement). */
static int
statement_add(void *arg, int64_t signer, const uint8_t *p, size_t n)
{
	json_t *e = signer > 0 ? json_object() : NULL;
	json_t *holder = json_object(), *v;

	if (holder == NULL || frame_set_bin(holder, "s", p, n) != 0 ||
	    (signer > 0 && (e == NULL || json_object_set_new(e, "programme",
	    json_integer(signer)) != 0 ||
	    json_object_set(e, "statement", json_object_get(holder,
	    "s")) != 0))) {
		json_decref(holder);
		json_decref(e);
		return OFR_E_NOMEM;
	}
	v = e != NULL ? e : json_incref(json_object_get(holder, "s"));
	json_decref(holder);
	return json_array_append_new(arg, v) == 0 ? 0 : OFR_E_NOMEM;
}

/* What clients need to check programme p's key and counsellors: its
 * rotations, its newest revocation list and the partner statements for
 * it (PROTOCOL.md, programme.get), set into o. */
static int
programme_statements(struct store *st, const struct programme *p, json_t *o)
{
	uint8_t list[REVOCATION_BYTES_MAX];
	json_t *rot = json_array(), *vouched = json_array();
	int64_t issued;
	size_t len;
	int rc;

	if (json_object_set_new(o, "rotations", rot) != 0 ||
	    json_object_set_new(o, "vouched_by", vouched) != 0)
		return OFR_E_NOMEM;
	if ((rc = store_rotation_each(st, p->id, STORE_ROTATIONS_MAX,
	    statement_add, rot)) != 0 ||
	    (rc = store_partner_each(st, p->id, PARTNERS_MAX, statement_add,
	    vouched)) != 0)
		return rc;
	rc = store_revocation_get(st, p->id, &issued, list, sizeof(list),
	    &len);
	if (rc == OFR_E_NOT_FOUND)
		return json_object_set_new(o, "revoked", json_null()) == 0 ?
		    0 : OFR_E_NOMEM;
	if (rc != 0)
		return rc;
	return frame_set_bin(o, "revoked", list, len);
}

int
keys_programme_get(struct session *s, struct frame_in *in)
{
	struct programme p;
	int64_t id;
	json_t *f, *o;
	int rc;

	if ((rc = frame_int(in, "programme", 1, OFR_ID_MAX, 1, &id)) != 0)
		return rc;
	if ((rc = store_programme_get(s->srv->st, id, &p)) != 0)
		return rc;
	if ((f = frame_new("programme.get.ok", in->id)) == NULL ||
	    (o = admin_programme_json(&p)) == NULL) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "programme", o);
	if ((rc = programme_statements(s->srv->st, &p, o)) != 0) {
		json_decref(f);
		return rc;
	}
	session_reply(s, f);
	return 0;
}

/* The caller's programme, which must have a signing key: 0 or
 * OFR_E_FORBIDDEN. Read under its lock (several nodes): what the request
 * decides on its key and its revocation list stays so until its commit,
 * and a certification, a revocation, a rotation or a partnership at
 * another node comes before or after it. */
static int
own_programme(struct session *s, struct programme *p)
{
	int rc;

	if ((rc = store_programme_lock(s->srv->st, s->acct.programme)) != 0 ||
	    (rc = store_programme_get(s->srv->st, s->acct.programme,
	    p)) != 0)
		return rc;
	return p->has_key ? 0 : OFR_E_FORBIDDEN;
}

int
keys_programme_rotate(struct session *s, struct frame_in *in)
{
	uint8_t st[ROTATION_BYTES];
	struct programme p;
	struct rotation r;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "statement", ROTATION_BYTES, ROTATION_BYTES,
	    1, st, &n)) != 0 ||
	    (rc = own_programme(s, &p)) != 0)
		return rc;
	in->bad_field = "statement";
	if ((rc = rotation_verify(&r, st, p.key)) != 0)
		return rc;
	if (r.programme_id != p.id)
		return OFR_E_BAD_FIELD;
	/* a key the programme had before is refused there: "statement" */
	if ((rc = store_programme_rotate(s->srv->st, p.id, p.key, r.new_pk,
	    st, n)) != 0)
		return rc;
	in->bad_field = NULL;
	if ((rc = casework_uncertify(s->srv, p.id, NULL)) != 0 ||
	    (rc = admin_audit(s, "programme.key.rotate", 0, NULL)) != 0)
		return rc;
	log_info("keys: programme %lld rotated its signing key",
	    (long long)p.id);
	session_reply(s, frame_new("programme.key.rotate.ok", in->id));
	return 0;
}

#define REVOCATION_SKEW	86400	/* seconds a list's issued may be ahead */

int
keys_programme_revoke(struct session *s, struct frame_in *in)
{
	uint8_t list[REVOCATION_BYTES_MAX];
	struct revocation r;
	struct programme p;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "list", revocation_bytes(0),
	    REVOCATION_BYTES_MAX, 1, list, &n)) != 0 ||
	    (rc = own_programme(s, &p)) != 0)
		return rc;
	in->bad_field = "list";
	if ((rc = revocation_verify(&r, list, n, p.key)) != 0)
		return rc;
	if (r.programme_id != p.id)
		return OFR_E_BAD_FIELD;
	/* Each list must be newer than the last: one dated far ahead (a
	 * clock set wrong) would leave the programme no revocation until
	 * then. A day of clock skew, no more. */
	if (r.issued > s->srv->now + REVOCATION_SKEW)
		return OFR_E_BAD_FIELD;
	if ((rc = store_revocation_set(s->srv->st, p.id, r.issued, list,
	    n)) != 0)
		return rc;
	in->bad_field = NULL;
	for (size_t i = 0; i < r.n; i++)
		if ((rc = casework_uncertify(s->srv, p.id,
		    r.keys + i * OFR_PK_BYTES)) != 0)
			return rc;
	if ((rc = admin_audit(s, "programme.revoke", 0, NULL)) != 0)
		return rc;
	session_reply(s, frame_new("programme.revoke.ok", in->id));
	return 0;
}

int
keys_programme_partner(struct session *s, struct frame_in *in)
{
	uint8_t st[PARTNER_BYTES];
	struct partner_info pi;
	struct programme p, partner;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "statement", PARTNER_BYTES, PARTNER_BYTES, 1,
	    st, &n)) != 0 ||
	    (rc = own_programme(s, &p)) != 0)
		return rc;
	in->bad_field = "statement";
	if ((rc = partner_verify(&pi, st, p.key, s->srv->now)) != 0)
		return rc == OFR_E_BAD_SIGNATURE ? rc : OFR_E_BAD_FIELD;
	if (pi.programme_id != p.id)
		return OFR_E_BAD_FIELD;
	if ((rc = store_programme_get(s->srv->st, pi.partner_id,
	    &partner)) != 0)
		return rc;
	if (!partner.has_key || memcmp(partner.key, pi.partner_pk,
	    OFR_PK_BYTES) != 0)
		return OFR_E_BAD_FIELD;
	in->bad_field = NULL;
	if ((rc = store_partner_set(s->srv->st, p.id, partner.id, st,
	    n)) != 0 ||
	    (rc = admin_audit(s, "programme.partner", 0, NULL)) != 0)
		return rc;
	session_reply(s, frame_new("programme.partner.ok", in->id));
	return 0;
}

static int
pending_one(void *arg, const uint8_t key[OFR_PK_BYTES], const char *name)
{
	json_t *e = json_object();

	if (e == NULL || frame_set_bin(e, "key", key, OFR_PK_BYTES) != 0) {
		json_decref(e);
		return OFR_E_NOMEM;
	}
	json_object_set_new(e, "name", json_string(name));
	json_array_append_new(arg, e);
	return 0;
}

int
keys_pending(struct session *s, struct frame_in *in)
{
	json_t *arr = json_array();
	int rc;

	if (arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_uncertified_each(s->srv->st, s->acct.programme,
	    PENDING_MAX, pending_one, arr)) != 0) {
		json_decref(arr);
		return rc;
	}
	return session_reply_list(s, in->id, "counsellor.pending.ok",
	    "counsellors", arr);
}

/* OFR_E_BAD_STATE when key is on the revocation list programme p keeps,
 * under its key: clients refuse a listed counsellor, certified or not,
 * so one certified again would be matched to clients that cannot use it.
 * The programme publishes a list without it first. */
static int
revoked(struct store *st, const struct programme *p,
    const uint8_t key[OFR_PK_BYTES])
{
	uint8_t list[REVOCATION_BYTES_MAX];
	struct revocation r;
	int64_t issued;
	size_t len;
	int rc;

	rc = store_revocation_get(st, p->id, &issued, list, sizeof(list), &len);
	if (rc == OFR_E_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	/* a list of a key the programme rotated away from: not this key's */
	if (revocation_verify(&r, list, len, p->key) != 0)
		return 0;
	return revocation_has(&r, key) ? OFR_E_BAD_STATE : 0;
}

int
keys_certify(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t key[OFR_PK_BYTES], cert[CERT_BYTES];
	struct cert_info info;
	struct programme p;
	struct account a;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0 ||
	    (rc = frame_bin(in, "cert", CERT_BYTES, CERT_BYTES, 1, cert,
	    &n)) != 0)
		return rc;
	/* the programme's key and list as they stay until the commit: a
	 * revocation at another node after its list was read here dropped
	 * no certificate, and this one came after it */
	if ((rc = own_programme(s, &p)) != 0)
		return rc;
	rc = store_account_by_key(st, key, &a);
	if (rc == OFR_E_NOT_FOUND || (rc == 0 && (a.role != ROLE_COUNSELLOR ||
	    a.programme != s->acct.programme)))
		return OFR_E_NOT_FOUND;
	if (rc != 0)
		return rc;
	if (cert_verify(&info, cert, p.key, key, s->srv->now) != 0 ||
	    info.programme_id != p.id)
		return OFR_E_BAD_SIGNATURE;
	if ((rc = revoked(st, &p, key)) != 0)
		return rc;
	if ((rc = casework_certify(s->srv, a.id, cert)) != 0 ||
	    (rc = admin_audit(s, "counsellor.certify", a.id, NULL)) != 0)
		return rc;
	session_reply(s, frame_new("counsellor.certify.ok", in->id));
	return 0;
}
