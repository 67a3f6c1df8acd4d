/*
 * session.c: sessions, their outgoing queues and the register of online
 * accounts. It owns the rule that nothing leaves before the commit it
 * depends on: every frame queued during a turn is held until
 * session_turn_end() has committed, and then until the store thread has
 * synced that commit (casework_durable). It reaches the transport only through
 * srv->conn (conn.h) and the relay only through srv->pump; it never calls
 * a handler, the dispatch or ws.c by name, and never runs SQL. When the
 * commit fails, every answer held for it becomes an error frame of its
 * own request (storage_full, unavailable or internal): each request still gets its one
 * answer, nothing uncommitted is acknowledged, and the connection stays.
 * When the store cannot make commits durable nor say they are (a sync of
 * PostgreSQL's failed), what waits for them fails the same way
 * (lose_waiting).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "casework.h"
#include "cluster.h"
#include "conn.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "proto/err.h"
#include "session.h"

#define ONLINE_BUCKETS	16384	/* power of two */

/* What becomes of a held frame when the turn's commit fails. */
enum held_kind {
	HELD_PUSH,			/* dropped: it told of the lost writes */
	HELD_ANSWER,			/* replaced by an error for its re */
	HELD_KEEP,			/* sent: an error, a challenge or
					 * ping.ok, true whatever the
					 * commit does */
};

struct outframe {
	struct outframe *next;
	size_t len;
	int64_t re;			/* the request answered; 0: a push */
	int64_t gen;			/* waits for this commit's sync */
	int64_t unit;			/* held by this unit of work */
	int64_t cursor_was;		/* a msg push: the session's cursor */
	unsigned inflight_was;		/* and inflight before it */
	enum held_kind kind;
	int64_t pace_on;		/* paced for this recipient; 0: not */
	int bypass;			/* a msg push: passes a paced answer */
	unsigned char buf[];		/* conn->pre bytes, then the payload */
};

/* A paced answer (session_reply_text) and the frames committed after it,
 * msg pushes aside, wait in their session's park for their recipient:
 * allocated while the session is paced, which few ever are. */
struct park {
	struct outframe *head, *tail;		/* the lane */
	size_t frames, bytes;
	int64_t on;				/* that recipient */
	int64_t since, until;			/* time(NULL): paced since,
						 * and until */
	struct session *prev, *next;		/* paced sessions, in order of
						 * deadline */
};

static struct session *online[ONLINE_BUCKETS];
static struct session *dirty_head;
static struct session *wait_head;	/* sessions with frames waiting */
static int64_t durable;			/* the newest commit synced, as
					 * the last turn's end read it */
static struct session *paced_head, *paced_tail;	/* by deadline */
static size_t parked_bytes;		/* in every session's park lane */
static int64_t unit;			/* the unit of work now, or the
					 * last one (session_unit_begin) */

static size_t
bucket(int64_t account)
{
	return (size_t)((uint64_t)account * 0x9e3779b97f4a7c15ULL >> 50) &
	    (ONLINE_BUCKETS - 1);
}

void
session_drop_account(int64_t account)
{
	cluster_note_drop(account);	/* and on the other nodes (a note of
					 * the unit's: sent after the commit) */
	for (struct session *s = online[bucket(account)]; s != NULL;
	    s = s->online_next)
		if (s->acct.id == account && s->close_code == 0 &&
		    s->dropped_by == 0) {
			/* closed at session_turn_end (a drop outside any
			 * unit, before the first: undone by none) */
			s->dropped_by = unit > 0 ? unit : -1;
			session_touch(s);
		}
}

void
session_drop_committed(int64_t account)
{
	for (struct session *s = online[bucket(account)]; s != NULL;
	    s = s->online_next)
		if (s->acct.id == account && s->close_code == 0) {
			s->close_code = 1008;
			session_touch(s);
		}
}

void
session_touch(struct session *s)
{
	if (s->dirty)
		return;
	s->dirty = 1;
	s->dirty_prev = NULL;
	s->dirty_next = dirty_head;
	if (dirty_head != NULL)
		dirty_head->dirty_prev = s;
	dirty_head = s;
}

static void
untouch(struct session *s)
{
	if (!s->dirty)
		return;
	if (s->dirty_prev != NULL)
		s->dirty_prev->dirty_next = s->dirty_next;
	else
		dirty_head = s->dirty_next;
	if (s->dirty_next != NULL)
		s->dirty_next->dirty_prev = s->dirty_prev;
	s->dirty = 0;
	s->dirty_prev = s->dirty_next = NULL;
}

static void
wait_link(struct session *s)
{
	if (s->waiting)
		return;
	s->waiting = 1;
	s->wait_prev = NULL;
	s->wait_next = wait_head;
	if (wait_head != NULL)
		wait_head->wait_prev = s;
	wait_head = s;
}

static void
wait_unlink(struct session *s)
{
	if (!s->waiting)
		return;
	if (s->wait_prev != NULL)
		s->wait_prev->wait_next = s->wait_next;
	else
		wait_head = s->wait_next;
	if (s->wait_next != NULL)
		s->wait_next->wait_prev = s->wait_prev;
	s->waiting = 0;
	s->wait_prev = s->wait_next = NULL;
}

/* Appends the frames head .. tail, of commit gen, to the write queue when
 * nothing waits before them and gen is synced, else to the frames that
 * wait for a sync. */
static void
committed(struct session *s, struct outframe *head,
    struct outframe *tail, int64_t gen)
{
	struct outframe *o;

	if (head == NULL)
		return;
	if (s->wait_head == NULL && gen <= durable) {
		if (s->out_tail != NULL)
			s->out_tail->next = head;
		else
			s->out_head = head;
		s->out_tail = tail;
		return;
	}
	for (o = head; o != NULL; o = o->next)
		o->gen = gen;
	if (s->wait_tail != NULL)
		s->wait_tail->next = head;
	else
		s->wait_head = head;
	s->wait_tail = tail;
	wait_link(s);
}

static void park_tick(void *arg);

/* Takes s out of the list of paced sessions and gives back its park:
 * the lane's frames, which the caller now holds. */
static struct outframe *
park_end(struct session *s)
{
	struct park *k = s->park;
	struct outframe *lane;

	if (k == NULL)
		return NULL;
	if (k->prev != NULL)
		k->prev->park->next = k->next;
	else
		paced_head = k->next;
	if (k->next != NULL)
		k->next->park->prev = k->prev;
	else
		paced_tail = k->prev;
	parked_bytes -= k->bytes;
	lane = k->head;
	free(k);
	s->park = NULL;
	return lane;
}

/* Sends what waits in s's park lane, in order, as it would have gone. */
static void
unpark(struct session *s)
{
	struct outframe *o = park_end(s), *next;

	for (; o != NULL; o = next) {
		next = o->next;
		o->next = NULL;
		committed(s, o, o, o->gen);
	}
	if (s->out_head != NULL || s->close_code != 0)
		s->srv->conn->want_write(s->conn);
}

/* Starts pacing s for recipient: 1, or 0 when it may not. */
static int
park_start(struct session *s, int64_t recipient)
{
	struct park *k;

	if (parked_bytes >= SESSION_PARK_BYTES ||
	    !session_account_online(recipient) ||
	    (k = calloc(1, sizeof(*k))) == NULL)
		return 0;
	k->on = recipient;
	k->since = time(NULL);
	k->until = k->since + SESSION_PACE_SECS;
	k->prev = paced_tail;
	if (paced_tail != NULL)
		paced_tail->park->next = s;
	else
		paced_head = s;
	paced_tail = s;
	s->park = k;
	if (paced_head == s)
		s->srv->conn->timer(SESSION_PACE_SECS, park_tick, s->srv);
	metrics_paced(0);
	return 1;
}

/* A deadline came: what is due goes; the timer is set for the next. */
static void
park_tick(void *arg)
{
	struct server *srv = arg;
	struct session *s, *next;
	int64_t now = time(NULL), first = 0;

	for (s = paced_head; s != NULL; s = next) {
		next = s->park->next;
		if (s->park->until <= now) {
			metrics_paced(1);
			unpark(s);
		} else if (first == 0 || s->park->until < first) {
			first = s->park->until;
		}
	}
	if (first != 0)
		srv->conn->timer((int)(first - now), park_tick, srv);
}

/* Appends the frames head .. tail, of commit gen, to s's queues: to its
 * park lane while a paced answer waits (but msg pushes), else as
 * committed() does; a paced answer starts a lane. */
static void
append_committed(struct session *s, struct outframe *head,
    struct outframe *tail, int64_t gen)
{
	struct outframe *o, *next;
	struct park *k;

	for (o = head; o != NULL && s->park == NULL && o->pace_on == 0;
	    o = o->next)
		;
	if (o == NULL) {
		committed(s, head, tail, gen);	/* nothing paced */
		return;
	}
	for (o = head; o != NULL; o = next) {
		next = o->next;
		o->next = NULL;
		if ((s->park == NULL && (o->pace_on == 0 ||
		    !park_start(s, o->pace_on))) || o->bypass) {
			committed(s, o, o, gen);
			continue;
		}
		k = s->park;
		o->gen = gen;
		if (k->tail != NULL)
			k->tail->next = o;
		else
			k->head = o;
		k->tail = o;
		k->frames++;
		k->bytes += o->len;
		parked_bytes += o->len;
		if (k->frames > SESSION_PARK_MAX)
			unpark(s);	/* a client this eager is not paced */
	}
}

int
session_paced_on(int64_t recipient)
{
	for (struct session *s = paced_head; s != NULL; s = s->park->next)
		if (s->park->on == recipient)
			return 1;
	return 0;
}

void
session_paced_progress(int64_t recipient)
{
	int64_t now = time(NULL);
	struct park *k;

	for (struct session *s = paced_head; s != NULL; s = k->next) {
		k = s->park;
		if (k->on == recipient) {
			k->until = now + SESSION_PACE_SECS;
			if (k->until > k->since + SESSION_PACE_MAX_SECS)
				k->until = k->since + SESSION_PACE_MAX_SECS;
		}
	}
}

void
session_unpark(int64_t recipient)
{
	struct session *s, *next;

	for (s = paced_head; s != NULL; s = next) {
		next = s->park->next;
		if (s->park->on == recipient)
			unpark(s);
	}
}

/* Moves the frames whose commit is synced to the write queue. */
static void
settle(struct session *s)
{
	struct outframe *o;

	while ((o = s->wait_head) != NULL && o->gen <= durable) {
		s->wait_head = o->next;
		o->next = NULL;
		if (s->out_tail != NULL)
			s->out_tail->next = o;
		else
			s->out_head = o;
		s->out_tail = o;
	}
	if (s->wait_head == NULL) {
		s->wait_tail = NULL;
		wait_unlink(s);
	}
}

static void
free_frames(struct outframe *f)
{
	while (f != NULL) {
		struct outframe *next = f->next;
		free(f);
		f = next;
	}
}

/* Memory is out for a frame of s: the session closes (1011), its peer
 * told so, as one whose connection dropped (an answer it waits for may
 * not come; it asks again). */
static void
out_of_memory(struct session *s)
{
	s->close_code = 1011;
	s->srv->conn->want_write(s->conn);
}

/* A new frame of the serialised text (counted in s->out_bytes), or NULL
 * when the queue is over its hard limit or memory is out: then the
 * session closes. */
static struct outframe *
frame_of(struct session *s, const char *text, size_t len, int64_t re,
    enum held_kind kind)
{
	const struct conn_ops *conn = s->srv->conn;
	struct outframe *o;

	if (s->out_bytes + len > SESSION_OUT_HARD) {
		/* A reader this slow resynchronises after reconnecting. */
		log_warn("session: output queue full, closing");
		s->close_code = 1008;
		conn->want_write(s->conn);
		return NULL;
	}
	if ((o = malloc(sizeof(*o) + conn->pre + len)) == NULL) {
		out_of_memory(s);
		return NULL;
	}
	o->next = NULL;
	o->len = len;
	o->re = re;
	o->gen = 0;
	o->kind = kind;
	o->unit = unit;
	o->cursor_was = s->cursor;
	o->inflight_was = s->inflight;
	o->pace_on = 0;
	o->bypass = 0;
	memcpy(o->buf + conn->pre, text, len);
	s->out_bytes += len;
	return o;
}

/* Appends a frame of the serialised text to the held queue, or straight
 * to the write queue when it depends on nothing uncommitted. */
static void
queue_text(struct session *s, const char *text, size_t len, int held,
    int64_t re, enum held_kind kind, int64_t pace_on, int bypass)
{
	struct outframe *o;

	if (s->close_code != 0 ||
	    (o = frame_of(s, text, len, re, kind)) == NULL)
		return;
	o->pace_on = pace_on;
	o->bypass = bypass;
	if (!held) {
		append_committed(s, o, o, casework_commit_seq(s->srv));
		return;
	}
	if (s->held_tail != NULL)
		s->held_tail->next = o;
	else
		s->held_head = o;
	s->held_tail = o;
	session_touch(s);
}

/*
 * An error, a challenge and a ping's answer are true whatever the turn's
 * commit does (a ping reads and writes nothing: one that came in the turn
 * of a failed write is still answered ping.ok); any other answer told of
 * the turn's store, a push of its writes.
 */
static enum held_kind
held_kind_of(const char *type, int64_t re)
{
	if (type != NULL && (strcmp(type, "error") == 0 ||
	    strcmp(type, "challenge") == 0 || strcmp(type, "ping.ok") == 0))
		return HELD_KEEP;
	return re > 0 ? HELD_ANSWER : HELD_PUSH;
}

static void
queue_json(struct session *s, json_t *f, int held)
{
	const char *type = json_string_value(json_object_get(f, "type"));
	int64_t re = json_integer_value(json_object_get(f, "re"));
	char *text;

	/* a frame that could not be made (frame_new's NULL) or written
	 * out: never an answer silently left out */
	if (f == NULL || (text = json_dumps(f, JSON_COMPACT)) == NULL) {
		if (s->close_code == 0)
			out_of_memory(s);
		return;
	}
	queue_text(s, text, strlen(text), held, re, held_kind_of(type, re), 0,
	    type != NULL && strcmp(type, "msg") == 0);
	free(text);
}

void
session_reply(struct session *s, json_t *f)
{
	queue_json(s, f, 1);
	json_decref(f);
}

void
session_reply_text(struct session *s, const char *text, size_t len,
    int64_t re, int64_t recipient)
{
	queue_text(s, text, len, 1, re, held_kind_of(NULL, re), recipient,
	    0);
}

int
session_reply_list(struct session *s, int64_t re, const char *type,
    const char *key, json_t *arr)
{
	struct reply_list l = { NULL, 0, 0 };
	size_t i;
	json_t *e;
	int rc = 0;

	if (arr == NULL)
		return OFR_E_NOMEM;
	/* the items that fit in one frame, in their order */
	json_array_foreach(arr, i, e) {
		if ((rc = reply_list_add(&l, json_incref(e))) != 0)
			break;
	}
	json_decref(arr);
	if (rc < 0) {
		json_decref(l.arr);
		return rc;
	}
	return session_reply_bounded(s, re, type, key, &l);
}

int
reply_list_add(struct reply_list *l, json_t *o)
{
	size_t n;

	if (o == NULL)
		return OFR_E_NOMEM;
	if (l->arr == NULL && (l->arr = json_array()) == NULL) {
		json_decref(o);
		return OFR_E_NOMEM;
	}
	n = json_dumpb(o, NULL, 0, JSON_COMPACT);
	if (l->more || n == 0 || n + 1 > REPLY_LIST_BYTES - l->bytes) {
		l->more = 1;
		json_decref(o);
		return n == 0 ? OFR_E_NOMEM : 1;
	}
	if (json_array_append_new(l->arr, o) != 0)
		return OFR_E_NOMEM;
	l->bytes += n + 1;	/* and its comma */
	return 0;
}

int
session_reply_bounded(struct session *s, int64_t re, const char *type,
    const char *key, struct reply_list *l)
{
	json_t *f, *arr = l->arr != NULL ? l->arr : json_array();

	l->arr = NULL;
	if (arr == NULL || (f = frame_new(type, re)) == NULL) {
		json_decref(arr);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, key, arr);
	if (l->more)
		json_object_set_new(f, "more", json_true());
	session_reply(s, f);
	return 0;
}

void
session_send_committed(struct session *s, json_t *f)
{
	queue_json(s, f, 0);
	json_decref(f);
}

void
session_push_msg(struct session *s, const char *text, size_t len, int held)
{
	queue_text(s, text, len, held, 0, HELD_PUSH, 0, 1);
}

void
session_push_account_text(int64_t account, const char *text, size_t len,
    const struct session *except)
{
	for (struct session *s = online[bucket(account)]; s != NULL;
	    s = s->online_next)
		if (s->acct.id == account && s != except)
			queue_text(s, text, len, 1, 0, HELD_PUSH, 0, 0);
}

/*
 * The newest event of a case (store_case_event) pushed to an account's
 * connections here, by (account, case): a push of an older event of that
 * case to that account, come late from another node (whose commit was
 * before the newer one's, its note after), is dropped, its newer state
 * being there already. EVENTS_SEEN entries; one of another (account,
 * case) that falls on the same entry takes it.
 */
#define EVENTS_SEEN	4096
struct event_seen {
	int64_t account, case_id, event;
};
static struct event_seen events_seen[EVENTS_SEEN];

/* The entries the unit of work now changed, as they were: a unit undone
 * puts them back (its pushes are not sent, and the events it numbered
 * are not the newest any more). Past EVENTS_UNDO of them, an undone unit
 * forgets every entry (a late older push is then sent, as before the
 * first of the case). */
#define EVENTS_UNDO	256
static struct {
	size_t i;
	struct event_seen was;
} events_undo[EVENTS_UNDO];
static size_t nundo;
static int undo_lost;

/* 1 when event of case_id is to be pushed to account (and noted as the
 * newest), 0 when a newer one was pushed. */
static int
event_newer(int64_t account, int64_t case_id, int64_t event)
{
	size_t i;

	if (case_id == 0 || event == 0)
		return 1;
	i = (size_t)(((uint64_t)account * 0x9e3779b97f4a7c15ull) ^
	    (uint64_t)case_id) % EVENTS_SEEN;
	if (events_seen[i].account == account &&
	    events_seen[i].case_id == case_id && events_seen[i].event > event)
		return 0;
	if (nundo < EVENTS_UNDO) {
		events_undo[nundo].i = i;
		events_undo[nundo++].was = events_seen[i];
	} else {
		undo_lost = 1;
	}
	events_seen[i].account = account;
	events_seen[i].case_id = case_id;
	events_seen[i].event = event;
	return 1;
}

void
session_push_case(int64_t account, int64_t case_id, int64_t event, json_t *f,
    const struct session *except)
{
	char *text;

	if (f == NULL || (text = json_dumps(f, JSON_COMPACT)) == NULL)
		return;
	if (event_newer(account, case_id, event))
		session_push_account_text(account, text, strlen(text), except);
	/* and to its connections on the other nodes, as it is now */
	cluster_note_frame(account, case_id, event, text, strlen(text));
	free(text);
}

void
session_push_case_text(int64_t account, int64_t case_id, int64_t event,
    const char *text, size_t len)
{
	if (event_newer(account, case_id, event))
		session_push_account_text(account, text, len, NULL);
	else
		log_info("session: a push of an older event of a case, "
		    "come late from another node: dropped");
}

void
session_push_account(int64_t account, json_t *f, const struct session *except)
{
	session_push_case(account, 0, 0, f, except);
}

void
session_wake_account(int64_t account)
{
	cluster_note_messages(account);	/* and on the other nodes */
	for (struct session *s = online[bucket(account)]; s != NULL;
	    s = s->online_next)
		if (s->acct.id == account) {
			s->want_pump = 1;
			s->caught_up = 0;	/* the store has more */
			session_touch(s);
		}
}

void
session_wake_all(void)
{
	for (size_t b = 0; b < ONLINE_BUCKETS; b++)
		for (struct session *s = online[b]; s != NULL;
		    s = s->online_next) {
			s->want_pump = 1;
			s->caught_up = 0;
			session_touch(s);
		}
}

static int pump_armed;		/* pump_tick is due */

/* The retry's timer: every session whose pump failed is pumped again. */
static void
pump_tick(void *arg)
{
	(void)arg;
	pump_armed = 0;
	for (size_t b = 0; b < ONLINE_BUCKETS; b++)
		for (struct session *s = online[b]; s != NULL;
		    s = s->online_next)
			if (s->want_pump)
				session_touch(s);
}

int
session_pump_again(struct session *s)
{
	s->want_pump = 1;
	if (pump_armed)
		return 0;
	pump_armed = 1;
	s->srv->conn->timer(SESSION_PUMP_RETRY_SECS, pump_tick, NULL);
	return 1;
}

void
session_each_account(int64_t account,
    void (*fn)(struct session *s, void *arg), void *arg)
{
	struct session *s, *next;

	for (s = online[bucket(account)]; s != NULL; s = next) {
		next = s->online_next;
		if (s->acct.id == account && s->close_code == 0)
			fn(s, arg);
	}
}

int
session_account_online(int64_t account)
{
	for (struct session *s = online[bucket(account)]; s != NULL;
	    s = s->online_next)
		if (s->acct.id == account)
			return 1;
	return 0;
}

size_t
session_online_ids(int role, int64_t *ids, size_t max)
{
	size_t n = 0;

	for (size_t b = 0; b < ONLINE_BUCKETS; b++)
		for (struct session *s = online[b]; s != NULL;
		    s = s->online_next) {
			if (role != 0 && s->acct.role != role)
				continue;
			if (n < max)
				ids[n] = s->acct.id;
			n++;
		}
	return n;
}

/* A fresh challenge, held behind what the turn queued before it, or
 * (first) written at once: a new connection's first frame depends on no
 * commit, so it need not wait for the sync of the turn's writes. */
static void
challenge(struct session *s, int first)
{
	json_t *f = frame_new("challenge", 0);
	struct outframe *o;
	char *text;

	randombytes_buf(s->challenge, sizeof(s->challenge));
	s->pow_bits = intake_bits(time(NULL));
	if (f == NULL || frame_set_bin(f, "nonce", s->challenge,
	    sizeof(s->challenge)) != 0 ||
	    frame_set_bin(f, "server_key", s->srv->pk, OFR_PK_BYTES) != 0 ||
	    json_object_set_new(f, "pow", json_integer(s->pow_bits)) != 0) {
		json_decref(f);
		out_of_memory(s);	/* no login without it */
		return;
	}
	if (!first)
		queue_json(s, f, 1);
	else if ((text = json_dumps(f, JSON_COMPACT)) != NULL) {
		if ((o = frame_of(s, text, strlen(text), 0, HELD_KEEP)) != NULL)
			append_committed(s, o, o, 0);
		free(text);
	} else {
		out_of_memory(s);
	}
	json_decref(f);
}

void
session_challenge(struct session *s)
{
	challenge(s, 0);
}

struct session *
session_new(struct server *srv, void *conn)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->srv = srv;
	s->conn = conn;
	challenge(s, 1);
	srv->conn->deadline(conn, srv->login_timeout);
	return s;
}

/* Takes s out of the register of online accounts. */
static void
unregister(struct session *s)
{
	struct session **pp = &online[bucket(s->acct.id)];

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->online_next;
	if (*pp == s)
		*pp = s->online_next;
	s->online_next = NULL;
	if (s->acct.role == ROLE_COUNSELLOR)
		casework_disconnected(s->srv, s->acct.id);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	if (s->acct.id != 0) {
		unregister(s);
		/* Nobody waits for a recipient gone (PROTOCOL.md,
		 * "msg.send"). */
		if (!session_account_online(s->acct.id))
			session_unpark(s->acct.id);
	}
	untouch(s);
	wait_unlink(s);
	free_frames(park_end(s));
	free_frames(s->out_head);
	free_frames(s->held_head);
	free_frames(s->wait_head);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

int
session_login(struct session *s, const struct account *a)
{
	size_t b = bucket(a->id);
	int rc, n = 0;

	for (struct session *o = online[b]; o != NULL; o = o->online_next)
		if (o->acct.id == a->id && o->close_code == 0)
			n++;
	if (s->srv->conns_per_account > 0 && n >= s->srv->conns_per_account)
		return OFR_E_LIMIT;	/* connections-per-account */
	if (a->role == ROLE_COUNSELLOR &&
	    (rc = casework_connected(s->srv, a->id)) != 0)
		return rc;
	s->acct.id = a->id;
	s->acct.programme = a->programme;
	memcpy(s->acct.key, a->key, sizeof(s->acct.key));
	s->acct.role = a->role;
	s->online_next = online[b];
	online[b] = s;
	s->cursor = 0;
	s->inflight = 0;
	s->want_pump = 1;
	s->caught_up = 0;
	s->login_turn = 1;
	session_touch(s);
	s->srv->conn->deadline(s->conn, 0);
	return 0;
}

unsigned char *
session_peek(struct session *s, size_t *len)
{
	if (s->out_head == NULL)
		return NULL;
	*len = s->out_head->len;
	return s->out_head->buf;
}

unsigned char *
session_peek_next(struct session *s, void **it, size_t *len)
{
	struct outframe *o = *it != NULL ? ((struct outframe *)*it)->next :
	    s->out_head;

	if (o == NULL)
		return NULL;
	*it = o;
	*len = o->len;
	return o->buf;
}

int
session_settled(const struct session *s)
{
	return s->held_head == NULL && s->wait_head == NULL &&
	    (s->park == NULL || s->park->head == NULL);
}

int
session_closing(const struct session *s)
{
	return s->close_code != 0 && session_settled(s);
}

void
session_wrote(struct session *s)
{
	struct outframe *o = s->out_head;

	if (o == NULL)
		return;
	s->out_head = o->next;
	if (s->out_head == NULL)
		s->out_tail = NULL;
	s->out_bytes -= o->len;
	free(o);
	if (s->rx_paused && s->out_bytes < SESSION_OUT_LOW) {
		s->rx_paused = 0;
		s->srv->conn->pause_rx(s->conn, 0);
	}
	if (s->want_pump)
		session_touch(s);
}

/* Moves the held frames, which depend on commit gen at most, on to wait
 * for its sync (or to the write queue, when it is synced). */
static void
release(struct session *s, int64_t gen)
{
	if (s->held_head == NULL)
		return;
	append_committed(s, s->held_head, s->held_tail, gen);
	s->held_head = s->held_tail = NULL;
	if (!s->rx_paused && s->out_bytes > SESSION_OUT_HIGH) {
		s->rx_paused = 1;
		s->srv->conn->pause_rx(s->conn, 1);
	}
}

/*
 * The frames from *head to *tail whose commit may be lost (gen > after)
 * become what err says of them: each answer an error frame for its
 * request (in its place: answers stay in order), pushes go, errors,
 * challenges and ping.ok stay. Returns the pushes dropped; *cursor (when
 * not NULL) the lowest cursor the session had when one of those frames
 * was made: every msg push up to it went out before them.
 */
static int
fail_frames(struct session *s, struct outframe **head,
    struct outframe **tail, int64_t after, int err, int64_t *cursor)
{
	struct outframe *o = *head, *next, *e;
	char *text;
	int pushes = 0, room = 1;

	*head = *tail = NULL;
	for (; o != NULL; o = next) {
		next = o->next;
		o->next = NULL;
		e = o;
		if (o->gen > after && cursor != NULL && o->cursor_was < *cursor)
			*cursor = o->cursor_was;
		if (o->gen <= after) {
			/* durable: stays as it is */
		} else if (o->kind != HELD_KEEP) {
			s->out_bytes -= o->len;
			e = NULL;
		}
		if (o->gen > after && o->kind == HELD_PUSH)
			pushes++;
		/* also on a connection that closes (strikes, a frame too
		 * big, its account dropped): its queue goes out before its
		 * close; not once there is no room (frame_of closed it) */
		if (o->gen > after && o->kind == HELD_ANSWER && room) {
			json_t *f = frame_error(o->re, err, NULL);

			metrics_error(err);
			text = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
			json_decref(f);
			if (text == NULL)
				s->close_code = 1011;
			else
				e = frame_of(s, text, strlen(text), o->re,
				    HELD_KEEP);
			free(text);
			room = e != NULL;
		}
		if (e != o)
			free(o);
		if (e == NULL)
			continue;
		if (*tail != NULL)
			(*tail)->next = e;
		else
			*head = e;
		*tail = e;
	}
	return pushes;
}

/*
 * The turn's commit failed with err: nothing of it was kept, and nobody
 * is told it was. The held frames fail (fail_frames). A login of this
 * turn is undone: its account may not exist.
 */
static void
unwind(struct session *s, int err)
{
	(void)fail_frames(s, &s->held_head, &s->held_tail, -1, err, NULL);
	/* The copies pushed from memory were dropped with the pushes: the
	 * store serves what is there. */
	if (s->fresh_turn) {
		s->cursor = s->cursor_undo;
		s->inflight = s->inflight_undo;
		s->caught_up = 0;
		s->want_pump = 1;
	}
	if (s->login_turn && s->acct.id != 0) {
		unregister(s);
		memset(&s->acct, 0, sizeof(s->acct));
		s->cursor = 0;
		s->inflight = 0;
		s->want_pump = 0;
		s->caught_up = 0;
		session_challenge(s);
		s->solve_given = 0;	/* logged out: as a new connection */
		s->srv->conn->deadline(s->conn, s->srv->login_timeout);
	}
}

/*
 * The units of work (casework_begin .. casework_end: a request, a job, a
 * counsellor back at work) each undo their writes when they fail, and
 * the turn's commit keeps the others'. What a unit undone held goes with
 * its writes: its pushes told of them, and an answer it gave is replaced
 * by the error its request gets (dispatch); a session it pushed copies to
 * from memory has its cursor back from before them. Errors and
 * challenges stay.
 */
void
session_unit_begin(void)
{
	unit++;
	nundo = 0;
	undo_lost = 0;
}

static void
drop_unit(struct session *s)
{
	struct outframe **p = &s->held_head, *o, *last = NULL;
	int rewound = 0;

	while ((o = *p) != NULL) {
		if (o->unit != unit || o->kind == HELD_KEEP) {
			last = o;
			p = &o->next;
			continue;
		}
		if (o->bypass && !rewound) {	/* its first copy's push */
			s->cursor = o->cursor_was;
			s->inflight = o->inflight_was;
			rewound = 1;
		}
		*p = o->next;
		s->out_bytes -= o->len;
		free(o);
	}
	s->held_tail = last;
}

void
session_unit_undo(void)
{
	for (struct session *s = dirty_head; s != NULL; s = s->dirty_next) {
		drop_unit(s);
		if (s->dropped_by == unit)
			s->dropped_by = 0;	/* its account's drop undone */
	}
	if (undo_lost)
		memset(events_seen, 0, sizeof(events_seen));
	else
		while (nundo > 0) {
			nundo--;
			events_seen[events_undo[nundo].i] =
			    events_undo[nundo].was;
		}
	nundo = 0;
	undo_lost = 0;
}

/*
 * The store could not make the commits after commit after durable, nor
 * say they are (a sync of PostgreSQL's failed, store_durable): they may
 * be lost. Whatever waits for them fails as a failed commit's frames do
 * (the paced ones leave their lanes for it), and a session that lost
 * pushes of them is pumped again from before the first of them (it was
 * pumped from the start of its queue, as after a login, and got the
 * copies written before them again).
 */
static void
lose_waiting(int64_t after)
{
	struct session *s, *next;

	for (s = paced_head; s != NULL; s = next) {
		next = s->park->next;
		for (struct outframe *o = s->park->head; o != NULL;
		    o = o->next)
			if (o->gen > after) {
				unpark(s);
				break;
			}
	}
	for (s = wait_head; s != NULL; s = s->wait_next) {
		int64_t from = s->cursor;

		if (fail_frames(s, &s->wait_head, &s->wait_tail, after,
		    OFR_E_UNAVAILABLE, &from) > 0 && s->acct.id != 0) {
			/* pumped again from before the first push that may
			 * be lost: those before it were written (not again:
			 * a client takes a copy twice for a replay), and the
			 * pump counts what is in flight up to there */
			s->cursor = s->cursor_undo = from;
			s->inflight = s->inflight_undo = 0;
			s->caught_up = 0;
			s->want_pump = 1;
			session_touch(s);
		}
	}
}

void
session_turn_end(struct server *srv)
{
	struct session *s, *next;
	int64_t gen;
	int rc = casework_commit(srv), committed = rc == 0;

	if (rc != 0) {
		log_warn("session: the commit failed (%s): every request of "
		    "the turn is answered with an error", err_str(rc));
		if (rc != OFR_E_STORAGE_FULL && rc != OFR_E_UNAVAILABLE)
			rc = OFR_E_INTERNAL;
	}
	/* What this turn read or wrote depends on commit gen at most. */
	gen = casework_commit_seq(srv);
	/*
	 * Read once: the store thread may find its connection lost again
	 * right after (a loss read here is settled; a later one is the next
	 * turn's), and only a failed sync of SQLite's (OFR_E_IO) stops us.
	 */
	switch (casework_durable(srv, &durable)) {
	case 0:
		break;
	case OFR_E_UNAVAILABLE:
		/* This turn's commit, and what it read, are among those. */
		log_warn("session: the commits after commit %lld may be lost: "
		    "every request that waits for them is answered "
		    "unavailable", (long long)durable);
		lose_waiting(durable);
		/* the store counted every commit so far as settled (this
		 * turn's, gen, the newest): the errors go out now */
		durable = gen;
		if (rc == 0)
			rc = OFR_E_UNAVAILABLE;
		break;
	default:
		fatal("session: the store cannot sync its log: what was "
		    "committed since commit %lld may not be on disk; stopping "
		    "without acknowledging it", (long long)durable);
	}
	/* The newest events its pushes noted were not told: forgotten
	 * (a late older push of another node is then sent, as before the
	 * first of its case) */
	if (rc != 0)
		memset(events_seen, 0, sizeof(events_seen));
	for (s = dirty_head; s != NULL; s = next) {
		next = s->dirty_next;
		untouch(s);
		if (rc != 0)
			unwind(s, rc);
		/* its account dropped by this turn: closed once that is
		 * committed (its sync lost too: it may be durable) */
		if (s->dropped_by != 0 && committed)
			s->close_code = 1008;
		s->dropped_by = 0;
		s->login_turn = 0;
		s->fresh_turn = 0;
		release(s, gen);
		if (s->close_code != 0 && s->park != NULL &&
		    s->park->head != NULL)
			unpark(s);	/* its answers go before it closes */
		if (s->want_pump && s->acct.id != 0 && s->close_code == 0)
			srv->pump(s);
		if (s->out_head != NULL || s->close_code != 0)
			srv->conn->flush(s->conn);
	}
	for (s = wait_head; s != NULL; s = next) {
		next = s->wait_next;
		settle(s);
		if (s->out_head != NULL)
			srv->conn->flush(s->conn);
	}
	/* The pump, and a write the pump waits for (session_wrote), may
	 * leave a session dirty for the next turn: it comes at once, not
	 * at the loop's next event (the writes above ask for none) */
	if (dirty_head != NULL)
		srv->conn->wake();
}
