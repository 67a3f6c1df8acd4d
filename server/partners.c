/*
 * partners.c: partnerships between programmes and the partner directory
 * (PROTOCOL.md, "Partnerships"). An admin proposes a partnership with its
 * programme's signed partner statement for the other programme's key; the
 * other programme's admin accepts with its own statement for the first
 * one's key; only then are both served (programme.get's vouched_by).
 * Either side ends it, and then neither statement is served. A programme's
 * directory lists its active partners' public profiles and the external
 * partners its admin keeps. Every action is the caller's programme's own
 * and goes to its audit log. A counsellor who sent a client a referral
 * card for an external partner says so (case.referred): the case keeps
 * only that it was referred, for the programme's figures, never to whom. The server checks every statement but signs
 * nothing: the signing keys stay with the admins.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "casework.h"
#include "profile.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "store.h"

#define PARTNERSHIPS_LIST_MAX	100
#define DIRECTORY_MAX		100

static const char *const status_names[] = {
	[PARTNERSHIP_PROPOSED] = "proposed",
	[PARTNERSHIP_ACTIVE] = "active",
	[PARTNERSHIP_ENDED] = "ended",
};

/* The partnership object of PROTOCOL.md, "name" being the other
 * programme's (the one that is not viewer's). New reference, NULL on
 * failure. */
static json_t *
partnership_json(struct store *st, const struct partnership *p,
    int64_t viewer)
{
	struct programme other;
	json_t *o = json_object();

	if (o == NULL || store_programme_get(st, p->proposer == viewer ?
	    p->partner : p->proposer, &other) != 0) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "id", json_integer(p->id));
	json_object_set_new(o, "proposer", json_integer(p->proposer));
	json_object_set_new(o, "partner", json_integer(p->partner));
	json_object_set_new(o, "name", json_string(other.name));
	json_object_set_new(o, "status",
	    json_string(status_names[p->status]));
	json_object_set_new(o, "created", json_integer(p->created));
	json_object_set_new(o, "ended", p->ended ? json_integer(p->ended) :
	    json_null());
	json_object_set_new(o, "ended_by", p->ended_by ?
	    json_integer(p->ended_by) : json_null());
	frame_set_bin(o, "proposer_statement", p->proposer_st, PARTNER_BYTES);
	if (p->has_partner_st)
		frame_set_bin(o, "partner_statement", p->partner_st,
		    PARTNER_BYTES);
	else
		json_object_set_new(o, "partner_statement", json_null());
	return o;
}

/* Answers with partnership id as it is now. */
static int
reply_partnership(struct session *s, struct frame_in *in, const char *type,
    int64_t id)
{
	struct partnership p;
	json_t *f, *o;
	int rc;

	if ((rc = store_partnership_get(s->srv->st, id, &p)) != 0)
		return rc;
	if ((f = frame_new(type, in->id)) == NULL ||
	    (o = partnership_json(s->srv->st, &p, s->acct.programme)) ==
	    NULL) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "partnership", o);
	session_reply(s, f);
	return 0;
}

/*
 * Reads field "statement": a partner statement signed by the caller's
 * programme (which must have a key: else OFR_E_FORBIDDEN), valid now,
 * for programme partner's current key. 0 with st filled; OFR_E_NOT_FOUND
 * for an unknown partner; OFR_E_BAD_SIGNATURE, or OFR_E_BAD_FIELD naming
 * "statement" (expired, another signer, a key not the partner's current
 * one, the caller's own programme).
 */
static int
own_statement(struct session *s, struct frame_in *in, int64_t partner,
    uint8_t st[PARTNER_BYTES], struct partner_info *pi)
{
	struct programme own, other;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "statement", PARTNER_BYTES, PARTNER_BYTES, 1,
	    st, &n)) != 0)
		return rc;
	if ((rc = store_programme_get(s->srv->st, s->acct.programme,
	    &own)) != 0)
		return rc;
	if (!own.has_key)
		return OFR_E_FORBIDDEN;
	in->bad_field = "statement";
	if ((rc = partner_verify(pi, st, own.key, s->srv->now)) != 0)
		return rc == OFR_E_BAD_SIGNATURE ? rc : OFR_E_BAD_FIELD;
	if (pi->programme_id != own.id ||
	    (partner > 0 && pi->partner_id != partner))
		return OFR_E_BAD_FIELD;
	if ((rc = store_programme_get(s->srv->st, pi->partner_id,
	    &other)) != 0) {
		in->bad_field = rc == OFR_E_NOT_FOUND ? NULL : in->bad_field;
		return rc;
	}
	if (!other.has_key || memcmp(other.key, pi->partner_pk,
	    OFR_PK_BYTES) != 0)
		return OFR_E_BAD_FIELD;
	in->bad_field = NULL;
	return 0;
}

int
partners_propose(struct session *s, struct frame_in *in)
{
	uint8_t st[PARTNER_BYTES];
	struct partner_info pi;
	char detail[32];
	int64_t id;
	int rc;

	/* read again under both programmes' locks (several nodes): the
	 * open partnerships of either are counted once another node's
	 * proposal to it has committed, or before it begins (each took the
	 * place of the last under the bound), and the keys are those of
	 * now */
	if ((rc = own_statement(s, in, 0, st, &pi)) != 0 ||
	    (rc = store_programme_lock_pair(s->srv->st, s->acct.programme,
	    pi.partner_id)) != 0 ||
	    (rc = own_statement(s, in, 0, st, &pi)) != 0)
		return rc;
	snprintf(detail, sizeof(detail), "programme %lld",
	    (long long)pi.partner_id);
	if ((rc = store_partnership_propose(s->srv->st, s->acct.programme,
	    pi.partner_id, st, s->srv->now, &id)) != 0 ||
	    (rc = admin_audit(s, "partnership.propose", 0, detail)) != 0)
		return rc;
	return reply_partnership(s, in, "partnership.propose.ok", id);
}

/* Field "partnership": one the caller's programme is part of (else
 * OFR_E_NOT_FOUND, as for none). */
static int
own_partnership(struct session *s, struct frame_in *in, struct partnership *p)
{
	int64_t id;
	int rc;

	if ((rc = frame_int(in, "partnership", 1, OFR_ID_MAX, 1, &id)) != 0 ||
	    (rc = store_partnership_get(s->srv->st, id, p)) != 0)
		return rc;
	if (p->proposer != s->acct.programme &&
	    p->partner != s->acct.programme)
		return OFR_E_NOT_FOUND;
	return 0;
}

int
partners_accept(struct session *s, struct frame_in *in)
{
	uint8_t st[PARTNER_BYTES];
	struct partner_info pi;
	struct partnership p;
	struct programme proposer, own;
	char detail[32];
	int rc;

	/* read again under both programmes' locks (several nodes): a key
	 * rotated or the partnership ended at another node meanwhile is
	 * decided on before this, or after */
	if ((rc = own_partnership(s, in, &p)) != 0 ||
	    (rc = store_programme_lock_pair(s->srv->st, p.proposer,
	    p.partner)) != 0 ||
	    (rc = own_partnership(s, in, &p)) != 0)
		return rc;
	if (p.partner != s->acct.programme)
		return OFR_E_FORBIDDEN;	/* the proposer does not accept */
	if (p.status != PARTNERSHIP_PROPOSED)
		return OFR_E_BAD_STATE;
	if ((rc = own_statement(s, in, p.proposer, st, &pi)) != 0)
		return rc;
	/* the proposal must still hold: the proposer's statement, under its
	 * key now, for this programme's key now */
	if ((rc = store_programme_get(s->srv->st, p.proposer,
	    &proposer)) != 0 ||
	    (rc = store_programme_get(s->srv->st, p.partner, &own)) != 0)
		return rc;
	if (partner_verify(&pi, p.proposer_st, proposer.key,
	    s->srv->now) != 0 || memcmp(pi.partner_pk, own.key,
	    OFR_PK_BYTES) != 0)
		return OFR_E_BAD_STATE;
	snprintf(detail, sizeof(detail), "programme %lld",
	    (long long)p.proposer);
	if ((rc = store_partnership_accept(s->srv->st, &p, st)) != 0 ||
	    (rc = admin_audit(s, "partnership.accept", 0, detail)) != 0)
		return rc;
	return reply_partnership(s, in, "partnership.accept.ok", p.id);
}

int
partners_end(struct session *s, struct frame_in *in)
{
	struct partnership p;
	char detail[32];
	int rc;

	/* read again under both programmes' locks (several nodes), which a
	 * referral's proposal along it takes too: one proposed at another
	 * node meanwhile is among those the end cancels, or is refused */
	if ((rc = own_partnership(s, in, &p)) != 0 ||
	    (rc = store_programme_lock_pair(s->srv->st, p.proposer,
	    p.partner)) != 0 ||
	    (rc = own_partnership(s, in, &p)) != 0)
		return rc;
	if (p.status == PARTNERSHIP_ENDED)
		return OFR_E_BAD_STATE;
	snprintf(detail, sizeof(detail), "programme %lld",
	    (long long)(p.proposer == s->acct.programme ? p.partner :
	    p.proposer));
	if ((rc = store_partnership_end(s->srv->st, &p, s->acct.programme,
	    s->srv->now)) != 0 ||
	    (rc = casework_referral_partnership_ended(s->srv, p.proposer,
	    p.partner)) != 0 ||
	    (rc = admin_audit(s, "partnership.end", 0, detail)) != 0)
		return rc;
	return reply_partnership(s, in, "partnership.end.ok", p.id);
}

/* partners_list()'s walk. */
struct list_walk {
	struct store *st;
	int64_t viewer;
	json_t *arr;
};

static int
list_one(void *arg, const struct partnership *p)
{
	struct list_walk *w = arg;
	json_t *o = partnership_json(w->st, p, w->viewer);

	if (o == NULL)
		return OFR_E_NOMEM;
	json_array_append_new(w->arr, o);
	return 0;
}

int
partners_list(struct session *s, struct frame_in *in)
{
	struct list_walk w = { s->srv->st, s->acct.programme, json_array() };
	int rc;

	if (w.arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_partnership_each(w.st, w.viewer,
	    PARTNERSHIPS_LIST_MAX, list_one, &w)) != 0) {
		json_decref(w.arr);
		return rc;
	}
	return session_reply_list(s, in->id, "partnership.list.ok",
	    "partnerships", w.arr);
}

/* The external partner object of PROTOCOL.md. New reference or NULL. */
static json_t *
external_json(const struct external_partner *e)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "regions", profile_list_json(e->regions));
	json_object_set_new(o, "formats", profile_formats_json(e->formats));
	json_object_set_new(o, "topics", profile_list_json(e->topics));
	json_object_set_new(o, "contact", json_string(e->contact));
	return o;
}

/* One item of a directory list (a struct reply_list): past the frame's
 * room it is left out, and so is every later one ("more"). */
static int
directory_add(void *arg, json_t *o)
{
	int rc = reply_list_add(arg, o);

	return rc < 0 ? rc : 0;
}

static int
partner_one(void *arg, const struct programme *p)
{
	return directory_add(arg, admin_programme_json(p));
}

static int
external_one(void *arg, const struct external_partner *e)
{
	return directory_add(arg, external_json(e));
}

/* Both lists in one frame: the external partners get the room the
 * partners left; "more" when either was cut. */
int
partners_directory(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	struct reply_list partners = { NULL, 0, 0 }, external = { NULL, 0, 0 };
	json_t *f = NULL;
	int rc;

	if ((rc = store_partner_programme_each(st, s->acct.programme,
	    DIRECTORY_MAX, partner_one, &partners)) != 0)
		goto out;
	external.bytes = partners.bytes;
	external.more = partners.more;
	if ((rc = store_external_each(st, s->acct.programme,
	    MODEL_EXTERNALS_MAX, external_one, &external)) != 0)
		goto out;
	rc = OFR_E_NOMEM;
	if ((partners.arr == NULL && (partners.arr = json_array()) == NULL) ||
	    (external.arr == NULL && (external.arr = json_array()) == NULL) ||
	    (f = frame_new("partner.directory.ok", in->id)) == NULL)
		goto out;
	json_object_set_new(f, "partners", partners.arr);
	json_object_set_new(f, "external", external.arr);
	if (external.more)
		json_object_set_new(f, "more", json_true());
	session_reply(s, f);
	return 0;
out:
	json_decref(partners.arr);
	json_decref(external.arr);
	return rc;
}

/* case.referred: the frame names the case and nothing else (a partner's
 * name or a card's text is refused, never kept). */
int
partners_case_referred(struct session *s, struct frame_in *in)
{
	struct case_info c;
	const char *k;
	json_t *f, *v;
	int rc;

	json_object_foreach(in->root, k, v) {
		if (strcmp(k, "v") != 0 && strcmp(k, "type") != 0 &&
		    strcmp(k, "id") != 0 && strcmp(k, "case") != 0) {
			in->bad_field = k;
			return OFR_E_BAD_FIELD;
		}
	}
	if ((rc = cases_own(s, in, &c)) != 0)
		return rc;
	if (c.counsellor != s->acct.id)
		return OFR_E_FORBIDDEN;		/* a colleague of the case */
	if (c.status == CASE_CLOSED)
		return OFR_E_CASE_CLOSED;
	if ((rc = store_case_referred(s->srv->st, c.id)) != 0)
		return rc;
	if ((f = frame_new("case.referred.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "case", json_integer(c.id));
	session_reply(s, f);
	return 0;
}

int
partners_external_set(struct session *s, struct frame_in *in)
{
	struct external_partner e;
	const char *name = NULL, *contact = NULL;
	char regions[MODEL_LIST_BYTES] = "", topics[MODEL_LIST_BYTES] = "";
	int64_t id = 0;
	json_t *f, *o;
	int rc, formats = -1;

	if ((rc = frame_int(in, "external", 1, OFR_ID_MAX, 0, &id)) != 0 ||
	    (rc = frame_str(in, "name", OFR_NAME_MAX, id == 0, &name)) != 0 ||
	    (rc = frame_str(in, "contact", MODEL_CONTACT_MAX, id == 0,
	    &contact)) != 0 ||
	    (rc = frame_token_list(in, "regions", 0, regions,
	    sizeof(regions))) != 0 ||
	    (rc = frame_token_list(in, "topics", 0, topics,
	    sizeof(topics))) != 0 ||
	    (rc = profile_read_formats(in, "formats", &formats)) != 0)
		return rc;
	if (id != 0) {
		if ((rc = store_external_get(s->srv->st, s->acct.programme, id,
		    &e)) != 0)
			return rc;
	} else {
		memset(&e, 0, sizeof(e));
		e.programme = s->acct.programme;
		strcpy(e.regions, ",");
		strcpy(e.topics, ",");
	}
	if (name != NULL)
		snprintf(e.name, sizeof(e.name), "%s", name);
	if (contact != NULL)
		snprintf(e.contact, sizeof(e.contact), "%s", contact);
	if (regions[0] != '\0')
		memcpy(e.regions, regions, sizeof(regions));
	if (topics[0] != '\0')
		memcpy(e.topics, topics, sizeof(topics));
	if (formats >= 0)
		e.formats = formats;
	if ((rc = store_external_set(s->srv->st, &e)) != 0 ||
	    (rc = admin_audit(s, id == 0 ? "partner.external.add" :
	    "partner.external.set", 0, e.name)) != 0)
		return rc;
	if ((f = frame_new("partner.external.set.ok", in->id)) == NULL ||
	    (o = external_json(&e)) == NULL) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "external", o);
	session_reply(s, f);
	return 0;
}

int
partners_external_remove(struct session *s, struct frame_in *in)
{
	struct external_partner e;
	json_t *f;
	int64_t id;
	int rc;

	if ((rc = frame_int(in, "external", 1, OFR_ID_MAX, 1, &id)) != 0 ||
	    (rc = store_external_get(s->srv->st, s->acct.programme, id,
	    &e)) != 0 ||
	    (rc = store_external_remove(s->srv->st, s->acct.programme,
	    id)) != 0 ||
	    (rc = admin_audit(s, "partner.external.remove", 0, e.name)) != 0)
		return rc;
	if ((f = frame_new("partner.external.remove.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "external", json_integer(id));
	session_reply(s, f);
	return 0;
}
