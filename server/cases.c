/*
 * cases.c: cases, the conversations between a client and a counsellor.
 * Opening a case, matching it to a counsellor with room (or leaving it to
 * wait), listing and closing, and telling every participant of each change.
 * Whoever is in a case is in its participant list and in every `case` push:
 * nobody in a conversation is hidden from the others.
 */
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "proto/err.h"
#include "store.h"

#define MATCH_BATCH	64	/* waiting cases looked at per change */

static const char *
status_name(int status)
{
	switch (status) {
	case CASE_WAITING:
		return "waiting";
	case CASE_ACTIVE:
		return "active";
	default:
		return "closed";
	}
}

/* The case object of PROTOCOL.md; NULL on failure. */
static json_t *
case_json(struct store *st, const struct case_info *c)
{
	struct participant p[STORE_PARTICIPANTS_MAX];
	json_t *o, *arr;
	size_t n;

	if (store_case_participants(st, c->id, p, STORE_PARTICIPANTS_MAX,
	    &n) != 0)
		return NULL;
	if ((o = json_object()) == NULL)
		return NULL;
	arr = json_array();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "status", json_string(status_name(c->status)));
	json_object_set_new(o, "language", json_string(c->language));
	json_object_set_new(o, "topic", c->topic[0] ? json_string(c->topic) :
	    json_null());
	json_object_set_new(o, "created", json_integer(c->created));
	json_object_set_new(o, "participants", arr);
	for (size_t i = 0; i < n && arr != NULL; i++) {
		json_t *e = json_object();

		if (e == NULL || frame_set_bin(e, "key", p[i].key,
		    OFR_PK_BYTES) != 0) {
			json_decref(e);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(e, "role",
		    json_string(auth_role_name(p[i].role)));
		json_object_set_new(e, "name", json_string(p[i].name));
		if (p[i].role == ROLE_COUNSELLOR) {
			json_object_set_new(e, "programme",
			    json_integer(p[i].programme));
			if (p[i].has_cert)
				frame_set_bin(e, "cert", p[i].cert,
				    CERT_BYTES);
			else
				json_object_set_new(e, "cert", json_null());
		}
		json_array_append_new(arr, e);
	}
	if (arr == NULL) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Pushes the case, as it is now, to every participant but except. */
static void
push_case(struct store *st, const struct case_info *c,
    const struct session *except)
{
	struct participant p[STORE_PARTICIPANTS_MAX];
	json_t *f = frame_new("case", 0);
	json_t *o = case_json(st, c);
	size_t n;

	if (f == NULL || o == NULL ||
	    store_case_participants(st, c->id, p, STORE_PARTICIPANTS_MAX,
	    &n) != 0) {
		json_decref(f);
		json_decref(o);
		return;
	}
	json_object_set_new(f, "case", o);
	for (size_t i = 0; i < n; i++)
		session_push_account(p[i].account, f, except);
	json_decref(f);
}

/* Gives case c a counsellor if one fits; 1 if it got one, 0 if not. */
static int
match(struct store *st, struct case_info *c, int64_t now)
{
	int64_t counsellor;
	int rc;

	rc = store_match_counsellor(st, c->language, c->topic, &counsellor);
	if (rc != 0)
		return rc == OFR_E_NOT_FOUND ? 0 : rc;
	if ((rc = store_case_assign(st, c->id, counsellor, now)) != 0)
		return rc;
	c->counsellor = counsellor;
	c->status = CASE_ACTIVE;
	return 1;
}

int
cases_request(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	const char *language = NULL, *topic = NULL;
	struct case_info c;
	json_t *f, *o;
	int rc;

	if ((rc = frame_token(in, "language", 1, &language)) != 0 ||
	    (rc = frame_token(in, "topic", 0, &topic)) != 0)
		return rc;
	rc = store_case_open_of_client(st, s->acct.id, &c);
	if (rc == 0)
		return OFR_E_CASE_OPEN;
	if (rc != OFR_E_NOT_FOUND)
		return rc;
	if ((rc = store_case_create(st, s->acct.id, language,
	    topic ? topic : "", s->srv->now, &c)) != 0)
		return rc;
	if ((rc = match(st, &c, s->srv->now)) < 0)
		return rc;

	f = frame_new("case.request.ok", in->id);
	if (f == NULL || (o = case_json(st, &c)) == NULL) {
		json_decref(f);
		return OFR_E_INTERNAL;
	}
	json_object_set_new(f, "case", o);
	session_reply(s, f);
	push_case(st, &c, s);
	return 0;
}

struct list_ctx {
	struct store *st;
	json_t *arr;
};

static int
list_one(void *arg, const struct case_info *c)
{
	struct list_ctx *lc = arg;
	json_t *o = case_json(lc->st, c);

	if (o == NULL)
		return OFR_E_INTERNAL;
	json_array_append_new(lc->arr, o);
	return 0;
}

int
cases_list(struct session *s, struct frame_in *in)
{
	struct list_ctx lc = { s->srv->st, json_array() };
	json_t *f;
	int rc;

	if (lc.arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_case_each_of(lc.st, s->acct.id, list_one, &lc)) != 0) {
		json_decref(lc.arr);
		return rc < 0 ? rc : OFR_E_INTERNAL;
	}
	if ((f = frame_new("case.list.ok", in->id)) == NULL) {
		json_decref(lc.arr);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "cases", lc.arr);
	session_reply(s, f);
	return 0;
}

int
cases_own(struct session *s, struct frame_in *in, struct case_info *c)
{
	int64_t id;
	int rc, yes = 0;

	if ((rc = frame_int(in, "case", 1, OFR_ID_MAX, 1, &id)) != 0)
		return rc;
	if ((rc = store_case_get(s->srv->st, id, c)) != 0)
		return rc;
	if ((rc = store_case_has_participant(s->srv->st, id, s->acct.id,
	    &yes)) != 0)
		return rc;
	return yes ? 0 : OFR_E_NOT_FOUND;
}

int
cases_close(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	struct case_info c;
	json_t *f, *o;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0)
		return rc;
	if (c.status == CASE_CLOSED)
		return OFR_E_CASE_CLOSED;
	if ((rc = store_case_close(st, c.id, s->srv->now)) != 0)
		return rc;
	c.status = CASE_CLOSED;
	f = frame_new("case.close.ok", in->id);
	if (f == NULL || (o = case_json(st, &c)) == NULL) {
		json_decref(f);
		return OFR_E_INTERNAL;
	}
	json_object_set_new(f, "case", o);
	session_reply(s, f);
	push_case(st, &c, s);
	/* The counsellor has room again. */
	return cases_match_waiting(s->srv) < 0 ? OFR_E_INTERNAL : 0;
}

int
cases_match_waiting(struct server *srv)
{
	int64_t ids[MATCH_BATCH];
	struct case_info c;
	size_t n;
	int rc;

	if ((rc = store_case_waiting(srv->st, ids, MATCH_BATCH, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = store_case_get(srv->st, ids[i], &c)) != 0)
			return rc;
		if ((rc = match(srv->st, &c, srv->now)) < 0)
			return rc;
		if (rc == 1)
			push_case(srv->st, &c, NULL);
	}
	return 0;
}
