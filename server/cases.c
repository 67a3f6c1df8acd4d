/*
 * cases.c: cases, the conversations between a client and a counsellor, on
 * the wire. The requests of a client's intake, listing, closing and
 * reassigning a case, co-counselling (a colleague brought in, confirmed,
 * removed), an admin's waiting queue and assignment, the case object of
 * PROTOCOL.md with its present and former participants, and the `case`
 * pushes by which every participant hears of each change casework.c
 * reports (cases_notify), and the queue pushes that tell a waiting
 * client its place. It reads frames and writes answers; what a
 * change does (matching, the queue, the pool) is casework's, never done
 * here. Whoever is in a case is in its participant list and in every
 * `case` push: nobody in a conversation is hidden from the others.
 */
#include <string.h>

#include <sodium.h>

#include "casework.h"
#include "handlers.h"
#include "intake.h"
#include "log.h"
#include "profile.h"
#include "proto/err.h"
#include "store.h"

#define CASES_FORMER_MAX	16	/* former participants in a case object */
#define CASES_WAITING_MAX	100	/* cases in a case.waiting answer */

static const char *
status_name(int status)
{
	switch (status) {
	case CASE_WAITING:
		return "waiting";
	case CASE_ACTIVE:
		return "active";
	case CASE_PAUSED:
		return "paused";
	default:
		return "closed";
	}
}

/* The names of enum member_kind (MEMBER_OWN: by role) and of enum
 * member_why, as PROTOCOL.md spells them. */
static const char *const kind_names[] = {
	NULL, "supervisor", "co-counsellor", "language-helper",
};
static const char *const why_names[] = {
	NULL, "reassigned", "disabled", "removed", "left", "referral",
	"partnership",
};

/* The kind named s (not MEMBER_OWN), or -1. */
static int
kind_parse(const char *s)
{
	for (int i = MEMBER_SUPERVISOR; i <= MEMBER_LANGUAGE_HELPER; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

/* A participant (or a former one, when p->left_at) of the case object.
 * New reference, NULL on OOM. */
static json_t *
participant_json(const struct participant *p)
{
	json_t *e = json_object();

	if (e == NULL || frame_set_bin(e, "key", p->key, OFR_PK_BYTES) != 0) {
		json_decref(e);
		return NULL;
	}
	json_object_set_new(e, "role", json_string(auth_role_name(p->role)));
	json_object_set_new(e, "name", json_string(p->name));
	if (p->role == ROLE_COUNSELLOR) {
		json_object_set_new(e, "programme",
		    json_integer(p->programme));
		if (p->has_cert)
			frame_set_bin(e, "cert", p->cert, CERT_BYTES);
		else
			json_object_set_new(e, "cert", json_null());
	}
	json_object_set_new(e, "as", json_string(p->kind > MEMBER_OWN &&
	    p->kind <= MEMBER_LANGUAGE_HELPER ? kind_names[p->kind] :
	    auth_role_name(p->role)));
	json_object_set_new(e, "joined", json_integer(p->joined_at));
	if (p->left_at != 0) {
		json_object_set_new(e, "left", json_integer(p->left_at));
		json_object_set_new(e, "reason", json_string(p->why >= 1 &&
		    p->why <= LEFT_WHY_MAX ? why_names[p->why] : "left"));
	} else {
		json_object_set_new(e, "since", json_integer(p->since));
		json_object_set_new(e, "state", json_string(p->joining ?
		    "joining" : "joined"));
	}
	return e;
}

/* Appends the participants p[0..n) to arr; -1 on OOM. */
static int
participants_json(json_t *arr, const struct participant *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *e = participant_json(&p[i]);

		if (e == NULL || json_array_append_new(arr, e) != 0)
			return -1;
	}
	return 0;
}

/* The names of enum referral_status. */
static const char *const referral_status_names[] = {
	"proposed", "accepted", "declined", "withdrawn", "cancelled",
	"completed",
};

json_t *
cases_referral_json(struct server *srv, const struct case_info *c,
    int64_t *receiver)
{
	struct referral r;
	struct account a;
	json_t *o;

	*receiver = 0;
	if (store_referral_last(srv->st, c->id, &r) != 0)
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "id", json_integer(r.id));
	json_object_set_new(o, "from", json_integer(r.from));
	json_object_set_new(o, "partner", json_integer(r.to));
	json_object_set_new(o, "status", json_string(referral_status_names[r.status]));
	json_object_set_new(o, "proposed", json_integer(r.proposed));
	if (r.receiver != 0 && store_account_by_id(srv->st, r.receiver,
	    &a) == 0) {
		frame_set_bin(o, "counsellor", a.key, OFR_PK_BYTES);
		if (r.status == REFERRAL_ACCEPTED)
			*receiver = r.receiver;
	} else
		json_object_set_new(o, "counsellor", json_null());
	if (r.approved)
		frame_set_bin(o, "approved", r.digest, sizeof(r.digest));
	else
		json_object_set_new(o, "approved", json_null());
	json_object_set_new(o, "summary_sent", json_boolean(r.summary_sent));
	if (r.completed != 0)
		json_object_set_new(o, "ended", json_integer(r.completed));
	return o;
}

/* The fields of case c that its request gave: id, language, topic,
 * urgency and when it was made. */
static void
request_json(json_t *o, const struct case_info *c)
{
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "language", json_string(c->language));
	json_object_set_new(o, "topic", c->topic[0] ? json_string(c->topic) :
	    json_null());
	json_object_set_new(o, "urgency",
	    json_string(profile_urgency_name(c->prefs.urgency)));
	json_object_set_new(o, "created", json_integer(c->created));
}

json_t *
cases_json(struct server *srv, const struct case_info *c, int64_t viewer)
{
	struct participant p[MODEL_PARTICIPANTS_MAX];
	struct participant old[CASES_FORMER_MAX];
	json_t *o, *arr, *former, *ref;
	int64_t receiver = 0;
	size_t n, nold;

	if (store_case_participants(srv->st, c->id, p,
	    MODEL_PARTICIPANTS_MAX, &n) != 0 ||
	    store_case_former(srv->st, c->id, old, CASES_FORMER_MAX,
	    &nold) != 0)
		return NULL;
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	request_json(o, c);
	json_object_set_new(o, "status", json_string(status_name(c->status)));
	json_object_set_new(o, "updated", json_integer(c->updated));
	/* Once matched, what was asked is the case's record of it (a
	 * closed case keeps no stated preference). */
	json_object_set_new(o, "preferences",
	    profile_prefs_json(c->counsellor != 0 ? c->asked :
	    casework_asked(&c->prefs), c->met, c->counsellor != 0));
	if (viewer != 0 && viewer == c->counsellor) {
		int64_t unread = 0;

		if (store_case_unread(srv->st, c->id, viewer, &unread) != 0) {
			json_decref(o);
			json_decref(arr);
			return NULL;
		}
		json_object_set_new(o, "unread", json_integer(unread));
	}
	if (viewer != 0 && viewer == c->client && c->status == CASE_WAITING) {
		int64_t pos = 0;

		/* Only the client learns its place in the queue. */
		if (casework_queue_position(srv, c->id, &pos) != 0) {
			json_decref(o);
			json_decref(arr);
			return NULL;
		}
		json_object_set_new(o, "queue_position", json_integer(pos));
	}
	json_object_set_new(o, "participants", arr);
	json_object_set_new(o, "members", json_integer(c->members));
	if (participants_json(arr, p, n) != 0 ||
	    (former = json_array()) == NULL ||
	    json_object_set_new(o, "former", former) != 0 ||
	    participants_json(former, old, nold) != 0 ||
	    (ref = cases_referral_json(srv, c, &receiver)) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "referral", ref);
	/* The partner's counsellor of an accepted referral is there as
	 * what it is. */
	for (size_t i = 0; i < n; i++)
		if (p[i].account == receiver && p[i].kind != MEMBER_OWN)
			json_object_set_new(json_array_get(arr, i), "as",
			    json_string("referral"));
	return o;
}

json_t *
cases_queue_json(struct server *srv, const struct case_info *c,
    const struct referral *r, int64_t since)
{
	json_t *o;

	if (r == NULL) {
		if ((o = cases_json(srv, c, 0)) != NULL)
			json_object_set_new(o, "waiting",
			    json_integer(srv->now - since));
		return o;
	}
	/* A referral: its request, as the partner's intake matches it. */
	if ((o = json_object()) == NULL)
		return NULL;
	request_json(o, c);
	json_object_set_new(o, "preferences",
	    profile_prefs_json(casework_asked(&c->prefs), 0, 0));
	json_object_set_new(o, "referred_by", json_integer(r->from));
	json_object_set_new(o, "waiting", json_integer(srv->now -
	    r->answered));
	return o;
}

/* The number of the case event about to be pushed (store_case_event), 0
 * when the store cannot give one (the push then goes unnumbered). */
static int64_t
event_of(struct server *srv)
{
	int64_t ev = 0;

	return store_case_event(srv->st, &ev) == 0 ? ev : 0;
}

/* Pushes the case, as it is now, to account (but not session except). */
static void
push_to(struct server *srv, const struct case_info *c, int64_t account,
    const struct session *except)
{
	json_t *f = frame_new("case", 0), *o;

	if (f != NULL && (o = cases_json(srv, c, 0)) != NULL) {
		json_object_set_new(f, "case", o);
		session_push_case(account, c->id, event_of(srv), f, except);
	}
	json_decref(f);
}

/* Pushes the case, as it is now, to every participant but session
 * except. */
static void
push_case(struct server *srv, const struct case_info *c,
    const struct session *except)
{
	struct participant p[MODEL_PARTICIPANTS_MAX];
	int64_t ev;
	size_t n;

	if (store_case_participants(srv->st, c->id, p, MODEL_PARTICIPANTS_MAX,
	    &n) != 0)
		return;
	ev = event_of(srv);
	for (size_t i = 0; i < n; i++) {
		json_t *f = frame_new("case", 0), *o;

		/* Each participant's own view (a counsellor's unread). */
		if (f == NULL || (o = cases_json(srv, c, p[i].account)) == NULL) {
			json_decref(f);
			continue;
		}
		json_object_set_new(f, "case", o);
		session_push_case(p[i].account, c->id, ev, f, except);
		json_decref(f);
	}
}

/* Queues the answer type with the case, for the caller. */
static int
reply_case(struct session *s, struct frame_in *in, const char *type,
    const struct case_info *c)
{
	json_t *f = frame_new(type, in->id), *o;

	if (f == NULL || (o = cases_json(s->srv, c, s->acct.id)) == NULL) {
		json_decref(f);
		return OFR_E_INTERNAL;
	}
	json_object_set_new(f, "case", o);
	session_reply(s, f);
	return 0;
}

static int
on_changed(struct server *srv, const struct case_info *c, void *origin)
{
	struct cases_answer *a = origin;
	int rc;

	if (a != NULL && (rc = reply_case(a->s, a->in, a->type, c)) != 0)
		return rc;
	push_case(srv, c, a != NULL ? a->s : NULL);
	return 0;
}

static void
on_left(struct server *srv, const struct case_info *c, int64_t counsellor,
    void *origin)
{
	struct cases_answer *a = origin;

	push_to(srv, c, counsellor, a != NULL ? a->s : NULL);
}

/* The rematch job's announcement: a queue push to the waiting client's
 * sessions (none when it is offline). */
static void
on_queued(struct server *srv, const struct case_info *c, int64_t position)
{
	json_t *f = frame_new("queue", 0);

	(void)srv;
	if (f == NULL)
		return;
	json_object_set_new(f, "case", json_integer(c->id));
	json_object_set_new(f, "queue_position", json_integer(position));
	session_push_account(c->client, f, NULL);
	json_decref(f);
}

const struct casework_notify cases_notify = { on_changed, on_left,
    on_queued, session_account_online, session_online_ids,
    session_unit_begin, session_unit_undo };

/* The intake of case.request: everything optional but the language. */
static int
read_intake(struct frame_in *in, const char **language, const char **topic,
    struct case_prefs *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->urgency = 1;
	if ((rc = frame_token(in, "language", 1, language)) != 0 ||
	    (rc = frame_token(in, "topic", 0, topic)) != 0 ||
	    (rc = frame_int(in, "programme", 1, OFR_ID_MAX, 0,
	    &p->programme)) != 0 ||
	    (rc = profile_read_token(in, "gender", p->gender)) != 0 ||
	    (rc = profile_read_token(in, "region", p->region)) != 0 ||
	    (rc = profile_read_enum(in, "age_band", profile_age_band,
	    &p->age_band)) != 0 ||
	    (rc = profile_read_enum(in, "background", profile_background,
	    &p->background)) != 0 ||
	    (rc = profile_read_enum(in, "format", profile_format,
	    &p->format)) != 0 ||
	    (rc = profile_read_enum(in, "urgency", profile_urgency,
	    &p->urgency)) != 0)
		return rc;
	return 0;
}

/* A direct request to programme p carries its intake code, if it has
 * one: 0, OFR_E_INTAKE_CODE_REQUIRED or OFR_E_BAD_INTAKE_CODE. */
static int
code_check(const struct programme *p, const char *code)
{
	uint8_t got[INTAKE_HASH_BYTES];

	if (!p->has_intake)
		return 0;
	if (code == NULL)
		return OFR_E_INTAKE_CODE_REQUIRED;
	if (intake_code_hash(p->id, code, got) != 0 ||
	    sodium_memcmp(got, p->intake, sizeof(got)) != 0)
		return OFR_E_BAD_INTAKE_CODE;
	return 0;
}

int
cases_request(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.request.ok" };
	const char *language = NULL, *topic = NULL, *code = NULL;
	struct case_prefs prefs;
	struct programme prog;
	int rc, paid;

	if ((rc = read_intake(in, &language, &topic, &prefs)) != 0 ||
	    (rc = frame_str(in, "intake_code", INTAKE_CODE_MAX, 0,
	    &code)) != 0)
		return rc;
	if (prefs.programme != 0 &&
	    (rc = store_programme_get(s->srv->st, prefs.programme,
	    &prog)) != 0) {
		/* the store's failure is not the client's field */
		if (rc != OFR_E_NOT_FOUND)
			return rc;
		in->bad_field = "programme";
		return OFR_E_BAD_FIELD;
	}
	/* The proof first: each guess of an intake code costs one. */
	paid = s->pow_bits > 0 || intake_bits(s->srv->now) > 1;
	if ((rc = auth_pow(s, in, OFR_POW_CASE, s->acct.key)) != 0)
		return rc;
	if (paid)
		s->rechallenge = 1;	/* the nonce is spent, come what may */
	if (prefs.programme != 0 && (rc = code_check(&prog, code)) != 0)
		return rc;
	if ((rc = casework_request(s->srv, s->acct.id, language,
	    topic ? topic : "", &prefs, &a)) != 0)
		return rc;
	intake_count(s->srv->now);
	if (paid) {
		s->rechallenge = 0;
		session_challenge(s);	/* after the answer: the next nonce */
	}
	return 0;
}

struct list_ctx {
	struct server *srv;
	int64_t viewer;
	struct reply_list l;
};

static int
list_one(void *arg, const struct case_info *c)
{
	struct list_ctx *lc = arg;
	json_t *o;

	if (lc->l.more)
		return 0;
	if ((o = cases_json(lc->srv, c, lc->viewer)) == NULL)
		return OFR_E_INTERNAL;
	return reply_list_add(&lc->l, o) < 0 ? OFR_E_NOMEM : 0;
}

/* The caller's open cases first, then its closed ones, as many as one
 * frame holds; "more" when some were left out (past the frame, or past
 * the store's STORE_CASES_MAX). */
int
cases_list(struct session *s, struct frame_in *in)
{
	struct list_ctx lc = { s->srv, s->acct.id, { NULL, 0, 0 } };
	int rc, more = 0;

	if ((rc = store_case_each_of(s->srv->st, s->acct.id, list_one,
	    &lc, &more)) != 0) {
		json_decref(lc.l.arr);
		return rc < 0 ? rc : OFR_E_INTERNAL;
	}
	if (more)
		lc.l.more = 1;
	return session_reply_bounded(s, in->id, "case.list.ok", "cases",
	    &lc.l);
}

static int
own(struct session *s, struct frame_in *in, struct case_info *c, int lock)
{
	int64_t id;
	int rc, yes = 0;

	if ((rc = frame_int(in, "case", 1, OFR_ID_MAX, 1, &id)) != 0)
		return rc;
	if ((rc = store_case_has_participant(s->srv->st, id, s->acct.id,
	    &yes)) != 0)
		return rc;
	if (!yes)
		return OFR_E_NOT_FOUND;	/* as for no such case; never locked */
	/* on several nodes, the case as it is once no other node's change
	 * of it is under way (store_case_lock); the caller may have left
	 * it meanwhile */
	if (lock && ((rc = store_case_lock(s->srv->st, id)) != 0 ||
	    (rc = store_case_has_participant(s->srv->st, id, s->acct.id,
	    &yes)) != 0))
		return rc;
	if ((rc = store_case_get(s->srv->st, id, c)) != 0)
		return rc;
	return yes ? 0 : OFR_E_NOT_FOUND;
}

int
cases_own(struct session *s, struct frame_in *in, struct case_info *c)
{
	return own(s, in, c, 1);
}

int
cases_own_read(struct session *s, struct frame_in *in, struct case_info *c)
{
	return own(s, in, c, 0);
}

int
cases_close(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.close.ok" };
	struct case_info c;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0)
		return rc;
	/* the client and its counsellor: not a colleague they brought in */
	if (s->acct.id != c.client && s->acct.id != c.counsellor)
		return OFR_E_FORBIDDEN;
	return casework_close(s->srv, &c, &a);
}

int
cases_reassign(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.reassign.ok" };
	struct case_info c;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0)
		return rc;
	return casework_reassign(s->srv, &c, &a);
}

/* The account whose key is field "key" of in, into *account;
 * OFR_E_NOT_FOUND when no account has it. */
static int
read_account(struct session *s, struct frame_in *in, int64_t *account)
{
	uint8_t key[OFR_PK_BYTES];
	struct account a;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0)
		return rc;
	if ((rc = store_account_by_key(s->srv->st, key, &a)) != 0)
		return rc;
	*account = a.id;
	return 0;
}

int
cases_invite(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.invite.ok" };
	struct case_info c;
	const char *as = NULL;
	int64_t colleague;
	int rc, kind;

	if ((rc = cases_own(s, in, &c)) != 0 ||
	    (rc = frame_token(in, "as", 1, &as)) != 0)
		return rc;
	if ((kind = kind_parse(as)) < 0) {
		in->bad_field = "as";
		return OFR_E_BAD_FIELD;
	}
	if ((rc = read_account(s, in, &colleague)) != 0)
		return rc;
	return casework_invite(s->srv, &c, s->acct.id, colleague, kind, &a);
}

int
cases_remove(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.remove.ok" };
	struct case_info c;
	int64_t member;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0 ||
	    (rc = read_account(s, in, &member)) != 0)
		return rc;
	if (c.status == CASE_CLOSED)
		return OFR_E_CASE_CLOSED;
	return casework_remove(s->srv, &c, s->acct.id, member, &a);
}

int
cases_seen(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.seen.ok" };
	struct case_info c;
	int64_t version;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0 ||
	    (rc = frame_int(in, "members", 0, OFR_ID_MAX, 1, &version)) != 0)
		return rc;
	if (version > c.members) {
		in->bad_field = "members";
		return OFR_E_BAD_FIELD;
	}
	return casework_seen(s->srv, &c, s->acct.id, version, &a);
}

/* case.waiting: a waiting case as case.queue shows it, with how long it
 * has waited. */
struct waiting_ctx {
	struct server *srv;
	json_t *arr;
};

static int
waiting_one(void *arg, const struct case_info *c, const struct referral *r)
{
	struct waiting_ctx *w = arg;
	json_t *o = cases_queue_json(w->srv, c, r, c->updated);

	if (o == NULL)
		return OFR_E_INTERNAL;
	json_array_append_new(w->arr, o);
	return 0;
}

int
cases_waiting(struct session *s, struct frame_in *in)
{
	struct waiting_ctx w = { s->srv, json_array() };
	int rc;

	if (w.arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = casework_waiting(s->srv, s->acct.programme,
	    CASES_WAITING_MAX, waiting_one, &w)) != 0) {
		json_decref(w.arr);
		return rc;
	}
	return session_reply_list(s, in->id, "case.waiting.ok", "cases",
	    w.arr);
}

/* An admin's assignment is written to its programme's audit log, as
 * admin.c writes the admin's other actions. */
int
cases_assign(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.assign.ok" };
	int64_t id, counsellor;
	int rc;

	/* The entry first: the answer goes with the change. */
	if ((rc = frame_int(in, "case", 1, OFR_ID_MAX, 1, &id)) != 0 ||
	    (rc = read_account(s, in, &counsellor)) != 0 ||
	    (rc = store_audit_add(s->srv->st, s->acct.programme, s->acct.id,
	    "case.assign", counsellor, "", s->srv->now)) != 0)
		return rc;
	return casework_admin_assign(s->srv, s->acct.programme, id,
	    counsellor, &a);
}
