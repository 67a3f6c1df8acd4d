/*
 * caseload.c: what a counsellor does with its cases: pause, resume and
 * reopen them, see the waiting cases it could take and take one, and keep
 * case notes. Notes are ciphertext the counsellor encrypted to itself; the
 * server hands them back to their author only.
 */
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "match.h"
#include "pool.h"
#include "proto/err.h"
#include "store.h"

#define QUEUE_LIST_MAX	100
#define QUEUE_SCAN_MAX	1000

/* The case named by "case" and assigned to the calling counsellor. */
static int
assigned_case(struct session *s, struct frame_in *in, struct case_info *c)
{
	int rc;

	if ((rc = cases_own(s, in, c)) != 0)
		return rc;
	return c->counsellor == s->acct.id ? 0 : OFR_E_NOT_FOUND;
}

/* Moves an assigned case from status from to status to. */
static int
set_status(struct session *s, struct frame_in *in, const char *type,
    int from, int to)
{
	struct server *srv = s->srv;
	struct case_info c;
	int rc;

	if ((rc = assigned_case(s, in, &c)) != 0)
		return rc;
	if (c.status != from)
		return OFR_E_BAD_STATE;
	if ((rc = store_case_set_status(srv->st, c.id, to, srv->now)) != 0 ||
	    (rc = store_case_get(srv->st, c.id, &c)) != 0 ||
	    (rc = pool_refresh(srv, s->acct.id)) != 0 ||
	    (rc = cases_reply(s, in, type, &c)) != 0)
		return rc;
	cases_push(srv, &c, s, 0);
	return 0;
}

int
caseload_pause(struct session *s, struct frame_in *in)
{
	return set_status(s, in, "case.pause.ok", CASE_ACTIVE, CASE_PAUSED);
}

int
caseload_resume(struct session *s, struct frame_in *in)
{
	return set_status(s, in, "case.resume.ok", CASE_PAUSED, CASE_ACTIVE);
}

int
caseload_reopen(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	const struct match_profile *me = match_get(srv->pool, s->acct.id);
	struct case_info c, other;
	int rc;

	if ((rc = assigned_case(s, in, &c)) != 0)
		return rc;
	if (c.status != CASE_CLOSED)
		return OFR_E_BAD_STATE;
	rc = store_case_open_of_client(srv->st, c.client, &other);
	if (rc == 0)
		return OFR_E_CASE_OPEN;
	if (rc != OFR_E_NOT_FOUND)
		return rc;
	if (me == NULL || me->open >= me->capacity)
		return OFR_E_LIMIT;
	return set_status(s, in, "case.reopen.ok", CASE_CLOSED, CASE_ACTIVE);
}

/* The waiting cases counsellor me fits (ignoring presence and hours: a
 * counsellor taking a case itself is at work), in queue order. */
static int
fits_case(struct server *srv, const struct match_profile *me,
    const struct case_info *c)
{
	struct match_profile p = *me;
	struct match_request rq;

	if (pool_case_request(srv, c, &rq) != 0)
		return 0;
	p.presence = PRESENCE_ONLINE;
	memset(p.hours, 0, sizeof(p.hours));
	p.open = 0;			/* room is checked by case.take */
	p.capacity = 1;
	return match_fits(&p, &rq, srv->now);
}

int
caseload_queue(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	const struct match_profile *me = match_get(srv->pool, s->acct.id);
	int64_t ids[QUEUE_SCAN_MAX];
	struct case_info c;
	json_t *arr = json_array();
	size_t n, listed = 0;
	int rc;

	if (arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_case_waiting(srv->st, ids, QUEUE_SCAN_MAX, &n)) != 0) {
		json_decref(arr);
		return rc;
	}
	for (size_t i = 0; me != NULL && i < n && listed < QUEUE_LIST_MAX;
	    i++) {
		json_t *o;

		if ((rc = store_case_get(srv->st, ids[i], &c)) != 0) {
			json_decref(arr);
			return rc;
		}
		if (!fits_case(srv, me, &c))
			continue;
		if ((o = cases_json(srv, &c, 0)) == NULL) {
			json_decref(arr);
			return OFR_E_INTERNAL;
		}
		json_object_set_new(o, "waiting",
		    json_integer(srv->now - c.created));
		json_array_append_new(arr, o);
		listed++;
	}
	return session_reply_list(s, in->id, "case.queue.ok", "cases", arr);
}

int
caseload_take(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	const struct match_profile *me = match_get(srv->pool, s->acct.id);
	struct match_request rq;
	struct case_info c;
	unsigned met;
	int64_t id;
	int rc;

	if ((rc = frame_int(in, "case", 1, OFR_ID_MAX, 1, &id)) != 0)
		return rc;
	if ((rc = store_case_get(srv->st, id, &c)) != 0)
		return rc;
	if (c.status != CASE_WAITING)	/* others' cases do not exist here */
		return c.counsellor == s->acct.id ? OFR_E_BAD_STATE :
		    OFR_E_NOT_FOUND;
	if (me == NULL || !me->eligible || !fits_case(srv, me, &c))
		return OFR_E_FORBIDDEN;
	if (me->open >= me->capacity)
		return OFR_E_LIMIT;
	if ((rc = pool_case_request(srv, &c, &rq)) != 0)
		return rc;
	(void)match_score(me, &rq, &met);
	if ((rc = store_case_assign(srv->st, c.id, s->acct.id,
	    srv->now)) != 0 ||
	    (rc = store_case_set_match(srv->st, c.id, pool_asked(&c.prefs),
	    met)) != 0 ||
	    (rc = store_case_get(srv->st, c.id, &c)) != 0 ||
	    (rc = pool_refresh(srv, s->acct.id)) != 0 ||
	    (rc = cases_reply(s, in, "case.take.ok", &c)) != 0)
		return rc;
	cases_push(srv, &c, s, 0);
	return 0;
}

int
caseload_note_add(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	struct case_info c;
	int64_t id;
	size_t len;
	json_t *f;
	int rc;

	if ((rc = assigned_case(s, in, &c)) != 0)
		return rc;
	if ((rc = frame_bin(in, "ct", 1, OFR_CT_MAX, 1, srv->copies[0],
	    &len)) != 0)
		return rc;
	if ((rc = store_note_add(srv->st, c.id, s->acct.id, srv->copies[0],
	    len, srv->now, &id)) != 0)
		return rc;
	if ((f = frame_new("note.add.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "id", json_integer(id));
	session_reply(s, f);
	return 0;
}

static int
note_one(void *arg, const struct note *n)
{
	json_t *e = json_object();

	if (e == NULL || frame_set_bin(e, "ct", n->ct, n->ct_len) != 0) {
		json_decref(e);
		return OFR_E_NOMEM;
	}
	json_object_set_new(e, "id", json_integer(n->id));
	json_object_set_new(e, "ts", json_integer(n->ts));
	json_array_append_new(arg, e);
	return 0;
}

int
caseload_note_list(struct session *s, struct frame_in *in)
{
	struct case_info c;
	json_t *arr;
	int rc;

	if ((rc = assigned_case(s, in, &c)) != 0)
		return rc;
	if ((arr = json_array()) == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_note_each(s->srv->st, c.id, s->acct.id, note_one,
	    arr)) != 0) {
		json_decref(arr);
		return rc;
	}
	return session_reply_list(s, in->id, "note.list.ok",
	    "notes", arr);
}
