/*
 * caseload.c: what a counsellor does with its cases, on the wire: pause,
 * resume and reopen them, see the waiting cases it could take and take
 * one (the rules are casework.c's), and keep case notes. Notes are
 * ciphertext the counsellor encrypted to itself; the server hands them
 * back to their author only.
 */
#include "casework.h"
#include "handlers.h"
#include "log.h"
#include "proto/err.h"
#include "store.h"

#define QUEUE_LIST_MAX	100

/* The case named by "case" and assigned to the calling counsellor;
 * locked (cases_own) for a request that changes it. */
static int
assigned_case(struct session *s, struct frame_in *in, struct case_info *c,
    int lock)
{
	int rc;

	if ((rc = lock ? cases_own(s, in, c) : cases_own_read(s, in, c)) != 0)
		return rc;
	return c->counsellor == s->acct.id ? 0 : OFR_E_NOT_FOUND;
}

/* The assigned case named by "case", changed by op for the caller. */
static int
change(struct session *s, struct frame_in *in, const char *type,
    int (*op)(struct server *, struct case_info *, void *))
{
	struct cases_answer a = { s, in, type };
	struct case_info c;
	int rc;

	if ((rc = assigned_case(s, in, &c, 1)) != 0)
		return rc;
	return op(s->srv, &c, &a);
}

int
caseload_pause(struct session *s, struct frame_in *in)
{
	return change(s, in, "case.pause.ok", casework_pause);
}

int
caseload_resume(struct session *s, struct frame_in *in)
{
	return change(s, in, "case.resume.ok", casework_resume);
}

int
caseload_reopen(struct session *s, struct frame_in *in)
{
	return change(s, in, "case.reopen.ok", casework_reopen);
}

struct queue_ctx {
	struct server *srv;
	json_t *arr;
};

static int
queue_one(void *arg, const struct case_info *c, const struct referral *r)
{
	struct queue_ctx *q = arg;
	json_t *o = cases_queue_json(q->srv, c, r, c->created);

	if (o == NULL)
		return OFR_E_INTERNAL;
	json_array_append_new(q->arr, o);
	return 0;
}

int
caseload_queue(struct session *s, struct frame_in *in)
{
	struct queue_ctx q = { s->srv, json_array() };
	int rc;

	if (q.arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = casework_queue(s->srv, s->acct.id, QUEUE_LIST_MAX, queue_one,
	    &q)) != 0) {
		json_decref(q.arr);
		return rc;
	}
	return session_reply_list(s, in->id, "case.queue.ok", "cases", q.arr);
}

int
caseload_take(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "case.take.ok" };
	int64_t id;
	int rc;

	if ((rc = frame_int(in, "case", 1, OFR_ID_MAX, 1, &id)) != 0)
		return rc;
	return casework_take(s->srv, s->acct.id, id, &a);
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

	if ((rc = assigned_case(s, in, &c, 0)) != 0)
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

struct notes_ctx {
	struct reply_list l;
	size_t seen;
};

static int
note_one(void *arg, const struct note *n)
{
	struct notes_ctx *nc = arg;
	json_t *e;

	/* the one past a page: more wait */
	if (++nc->seen > STORE_CASES_MAX)
		nc->l.more = 1;
	if (nc->l.more)
		return 0;
	if ((e = json_object()) == NULL ||
	    frame_set_bin(e, "ct", n->ct, n->ct_len) != 0) {
		json_decref(e);
		return OFR_E_NOMEM;
	}
	json_object_set_new(e, "id", json_integer(n->id));
	json_object_set_new(e, "ts", json_integer(n->ts));
	return reply_list_add(&nc->l, e) < 0 ? OFR_E_NOMEM : 0;
}

/* The caller's notes of the case after note "after", oldest first, as
 * many as one frame holds; "more" when the next ones wait for the next
 * note.list (after the last id given). */
int
caseload_note_list(struct session *s, struct frame_in *in)
{
	struct notes_ctx nc = { { NULL, 0, 0 }, 0 };
	struct case_info c;
	int64_t after = 0;
	int rc;

	if ((rc = assigned_case(s, in, &c, 0)) != 0 ||
	    (rc = frame_int(in, "after", 0, OFR_ID_MAX, 0, &after)) != 0)
		return rc;
	if ((rc = store_note_each(s->srv->st, c.id, s->acct.id, after,
	    note_one, &nc)) != 0) {
		json_decref(nc.l.arr);
		return rc;
	}
	return session_reply_bounded(s, in->id, "note.list.ok", "notes",
	    &nc.l);
}
