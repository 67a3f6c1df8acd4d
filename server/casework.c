/*
 * casework.c: cases and counsellors as the matching sees them (casework.h).
 * It owns the rules of a case's life and of assignment, and it alone keeps
 * the pool in step with the store: every write here that changes a
 * counsellor's caseload or profile is followed by pool_refresh(), and the
 * unit of work reads the pool back when its writes are undone. It speaks
 * in model types only: it must never build a frame, include jansson or a
 * session or transport header, or call the layers above by name; they
 * hear of each change through srv->notify.
 *
 * Several nodes on one database (store_shared(): PostgreSQL's). Each
 * node has a pool of its own, and its own counsellors' connections.
 *   - Assignment: the pool may be stale (another node assigned, closed,
 *     changed a profile), so before a case is given to a counsellor
 *     casework_claim() locks that counsellor in the store until the
 *     commit and reads it back under the lock: only if it still fits,
 *     with room, is the case given; else the next best is tried
 *     (CASEWORK_CLAIM_TRIES). Two nodes thus never give one
 *     counsellor's last place twice. A case that another node gave
 *     first is left to it. A referral's partner counsellor is claimed
 *     so before it joins (the referral holds a place in its caseload
 *     from then on: casework_referral.c).
 *   - Presence: every NODES_PERIOD seconds (a timer of the loop through
 *     srv->conn, conn.h's table, as jobs.c's; armed by the first unit of
 *     work), nodes_sync() stores the counsellors there by a connection
 *     to this node, and the clients connected to it that have a waiting
 *     case (whichever node runs the expiry of the waiting cases sees
 *     them there: casework_expire_waiting()), each until NODES_EXPIRY
 *     seconds from then, and reads
 *     those of the other nodes: a counsellor there on another node is
 *     there here too (presence.h), and one that became so is read into
 *     the pool and, by the node that runs the jobs, matched to the
 *     waiting cases (once, not on every node). A counsellor's
 *     connections and idleness stay its node's own. A node that stops, or is killed, stops refreshing
 *     its rows: its counsellors are there no more within NODES_EXPIRY
 *     (and one period). Every NODES_RELOAD seconds the whole pool is
 *     read again, for what other nodes changed of profiles and
 *     caseloads. Correctness never rests on these: a stale pool costs a
 *     claim that fails, or a case that waits until a rematch.
 * On SQLite (one node) none of this runs: the pool is the truth.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casework.h"
#include "casework_int.h"
#include "cluster.h"
#include "conn.h"
#include "intake.h"
#include "log.h"
#include "match.h"
#include "pool.h"
#include "presence.h"
#include "proto/err.h"
#include "server.h"
#include "store.h"

#define QUEUE_SCAN	1000	/* waiting cases looked at in one pass */
#define MOVE_MAX	256	/* open cases of one counsellor */
#define QUEUE_REFERRALS	100	/* waiting referrals in one listing */
#define NODES_PERIOD	2	/* seconds between two nodes_sync() */
#define NODES_EXPIRY	10	/* seconds a stored presence lasts */
#define NODES_RELOAD	10	/* seconds between two reloads of the pool */

static int nodes_armed;			/* nodes_tick() is on the timer */
static int64_t nodes_reload_at;		/* the next reload of the pool */

static void nodes_tick(void *arg);

int
casework_load(struct server *srv)
{
	return pool_load(srv);
}

void
casework_unload(struct server *srv)
{
	nodes_armed = 0;
	match_free(srv->pool);
	srv->pool = NULL;
	presence_clear();
}

void
casework_begin(struct server *srv)
{
	srv->now = time(NULL);
	if (srv->pool_stale && pool_load(srv) == 0)
		srv->pool_stale = 0;
	/* Several nodes: the first unit of work (the transport runs by
	 * then) starts the presence of the nodes. */
	if (!nodes_armed && srv->conn != NULL && store_shared(srv->st)) {
		nodes_armed = 1;
		nodes_reload_at = srv->now + NODES_RELOAD;
		srv->conn->timer(0, nodes_tick, srv);
	}
	cluster_unit_begin();		/* before the unit's savepoint */
	store_mark(srv->st);
	pool_request_begin(srv);
	if (srv->notify != NULL && srv->notify->unit_begin != NULL)
		srv->notify->unit_begin();
}

void
casework_end(struct server *srv, int keep)
{
	store_unmark(srv->st, keep);
	if (keep)
		return;
	pool_request_undone(srv);	/* read back what was undone */
	/* and what it would have told, here and at the other nodes */
	cluster_unit_undo();
	if (srv->notify != NULL && srv->notify->unit_undo != NULL)
		srv->notify->unit_undo();
}

int
casework_commit(struct server *srv)
{
	int rc;

	if (!store_in_tx(srv->st))
		return 0;
	if ((rc = store_commit(srv->st)) != 0 && pool_load(srv) != 0) {
		log_err("casework: cannot reload the pool after a failed "
		    "commit: it is read at the next request");
		srv->pool_stale = 1;
	}
	return rc;
}

/* A node that stops takes its presence out of the store: its
 * counsellors and waiting clients are there no more (a node that dies
 * leaves them until they expire). The caller commits. */
void
casework_nodes_leave(struct server *srv)
{
	if (!store_shared(srv->st))
		return;
	if (store_presence_publish(srv->st, NULL, 0, 1) != 0 ||
	    store_waiting_publish(srv->st, NULL, 0, 1) != 0)
		log_warn("casework: this node's presence stays in the store "
		    "until it expires");
}

int64_t
casework_commit_seq(const struct server *srv)
{
	return store_commit_seq(srv->st);
}

int
casework_durable(struct server *srv, int64_t *seq)
{
	return store_durable(srv->st, seq);
}

unsigned
casework_asked(const struct case_prefs *p)
{
	return (p->gender[0] ? PREF_GENDER : 0) |
	    (p->age_band ? PREF_AGE : 0) |
	    (p->background ? PREF_BACKGROUND : 0) |
	    (p->format ? PREF_FORMAT : 0) | (p->region[0] ? PREF_REGION : 0);
}

/* Makes counsellor the counsellor of waiting case c, recording the
 * preferences it meets, and reads c back. */
static int
assign(struct server *srv, struct case_info *c, int64_t counsellor,
    unsigned met)
{
	int rc;

	if ((rc = store_case_assign(srv->st, c->id, counsellor,
	    srv->now)) != 0 ||
	    (rc = store_case_set_match(srv->st, c->id,
	    casework_asked(&c->prefs), met)) != 0 ||
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	/* Just written: not found breaks the store's promise; any other
	 * code is the store's (unavailable: retryable). */
	rc = store_case_get(srv->st, c->id, c);
	return rc == OFR_E_NOT_FOUND ? OFR_E_INTERNAL : rc;
}

int
casework_claim(struct server *srv, int64_t id, const struct match_request *rq)
{
	const struct match_profile *p;
	int rc;

	if (!store_shared(srv->st))
		return 1;
	if ((rc = store_counsellor_lock(srv->st, id)) != 0 ||
	    (rc = pool_refresh(srv, id)) != 0)
		return rc;
	if ((p = match_get(srv->pool, id)) == NULL)
		return 0;
	return rq != NULL ? match_fits(p, rq, srv->now) :
	    p->open < p->capacity;
}

/* The request waiting case c is matched by (pool_case_request: never to
 * the counsellor its client left last), and, once its client left one,
 * never to any it left or that was removed from c either (as case.assign
 * refuses them: store_case_sent_away). 0 or a negative code. */
static int
case_request(struct server *srv, const struct case_info *c,
    struct case_request *out)
{
	struct match_request *rq = &out->rq;
	int rc;

	if ((rc = pool_case_request(srv, c, rq)) != 0 || c->left == 0)
		return rc;
	rq->banned = out->sent_away;
	return store_case_sent_away(srv->st, c->id, 0, out->sent_away,
	    CASE_SENT_AWAY_MAX, &rq->nbanned);
}

/* Gives waiting case c the best counsellor that fits (never one its
 * client left: case_request()), claimed (casework_claim()). 1 if it got one, 0 if it
 * waits (or another node gave it one: c read back), or a negative
 * code. */
static int
match_case(struct server *srv, struct case_info *c)
{
	struct case_request req;
	struct match_result r;
	int rc;

	if ((rc = case_request(srv, c, &req)) != 0)
		return rc;
	for (int i = 0; i < CASEWORK_CLAIM_TRIES; i++) {
		if (match_best(srv->pool, &req.rq, srv->now, &r) != 0)
			return 0;
		if ((rc = casework_claim(srv, r.counsellor, &req.rq)) < 0)
			return rc;
		if (rc == 0)
			continue;	/* stale here: the next best */
		rc = assign(srv, c, r.counsellor, r.met);
		if (rc == OFR_E_NOT_FOUND && store_shared(srv->st) &&
		    store_case_get(srv->st, c->id, c) == 0 &&
		    c->status != CASE_WAITING)
			return 0;	/* another node matched it first */
		return rc != 0 ? rc : 1;
	}
	return 0;
}

int
casework_request(struct server *srv, int64_t client, const char *language,
    const char *topic, const struct case_prefs *prefs, void *origin)
{
	struct case_info c;
	int rc;

	rc = store_case_open_of_client(srv->st, client, &c);
	if (rc == 0)
		return OFR_E_CASE_OPEN;
	if (rc != OFR_E_NOT_FOUND)
		return rc;
	if ((rc = store_case_create(srv->st, client, language, topic,
	    srv->now, &c)) != 0 ||
	    (rc = store_case_set_prefs(srv->st, c.id, prefs)) != 0 ||
	    (rc = store_case_get(srv->st, c.id, &c)) != 0)
		return rc;
	if ((rc = match_case(srv, &c)) < 0)
		return rc;
	return srv->notify->changed(srv, &c, origin);
}

int
casework_close(struct server *srv, struct case_info *c, void *origin)
{
	int64_t receiver;
	int rc;

	if (c->status == CASE_CLOSED)
		return OFR_E_CASE_CLOSED;
	if ((rc = store_case_close(srv->st, c->id, srv->now)) != 0 ||
	    (rc = store_case_get(srv->st, c->id, c)) != 0 ||
	    (rc = casework_referral_receiver(srv, c, &receiver)) != 0)
		return rc;
	if (c->counsellor != 0 && (rc = pool_refresh(srv, c->counsellor)) != 0)
		return rc;
	if (receiver != 0 && (rc = pool_refresh(srv, receiver)) != 0)
		return rc;
	/* The counsellor has room again, and the partner counsellor of
	 * its referral. The rematch first, its code as it is (a lock
	 * another node holds too long is unavailable: retryable): a close
	 * it undoes is told to nobody, the requester answered once, with
	 * that error. */
	if ((rc = casework_rematch(srv, c->counsellor)) != 0 ||
	    (receiver != 0 && (rc = casework_rematch(srv, receiver)) != 0))
		return rc;
	return srv->notify->changed(srv, c, origin);
}

/* Takes colleague out of c for why; c read back. A referral's
 * counsellor that nobody in the case sent away (disabled, deleted, or
 * with the case's counsellor moved) gives the referral back to the
 * partner's intake; one removed or gone by itself keeps it, but not its
 * place (it is no longer in c). */
static int
take_out(struct server *srv, struct case_info *c, int64_t colleague, int why)
{
	int rc;

	if ((rc = store_member_drop(srv->st, c->id, colleague, why,
	    srv->now)) != 0 ||
	    (why != LEFT_REMOVED && why != LEFT_LEFT &&
	    (rc = casework_referral_release(srv, c, colleague)) != 0) ||
	    (rc = pool_refresh(srv, colleague)) != 0)
		return rc;
	return store_case_get(srv->st, c->id, c);
}

/* take_out(), and tells it (left). */
static int
drop_colleague(struct server *srv, struct case_info *c, int64_t colleague,
    int why, void *origin)
{
	int rc;

	if ((rc = take_out(srv, c, colleague, why)) != 0)
		return rc;
	srv->notify->left(srv, c, colleague, origin);
	return 0;
}

/* Takes the counsellor out of c for why (enum member_why), and the
 * colleagues it brought in with it, and matches c again without it. */
static int
move(struct server *srv, struct case_info *c, int why, void *origin)
{
	int64_t old = c->counsellor, ids[MODEL_PARTICIPANTS_MAX];
	size_t n;
	int rc;

	if ((rc = store_case_colleagues(srv->st, c->id, ids,
	    MODEL_PARTICIPANTS_MAX, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = drop_colleague(srv, c, ids[i], why, origin)) != 0)
			return rc;
	if ((rc = store_case_unassign(srv->st, c->id, why, srv->now)) != 0 ||
	    (rc = store_case_get(srv->st, c->id, c)) != 0 ||
	    (rc = pool_refresh(srv, old)) != 0)
		return rc;
	srv->notify->left(srv, c, old, origin);
	if ((rc = match_case(srv, c)) < 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

int
casework_reassign(struct server *srv, struct case_info *c, void *origin)
{
	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return OFR_E_BAD_STATE;
	return move(srv, c, LEFT_REASSIGNED, origin);
}

int
casework_room(struct server *srv, const struct case_info *c, int keep,
    int invited, int *yes)
{
	struct participant p[MODEL_PARTICIPANTS_MAX];
	int64_t stays;
	size_t n;
	int rc;

	*yes = 0;
	rc = store_case_participants(srv->st, c->id, p,
	    MODEL_PARTICIPANTS_MAX, &n);
	if (rc == OFR_E_LIMIT)
		return 0;	/* over the bound already: no room */
	if (rc != 0 || (rc = store_case_stays(srv->st, c->id, &stays)) != 0)
		return rc;
	*yes = n + (size_t)keep < MODEL_PARTICIPANTS_MAX &&
	    (!invited || stays + keep < CASE_STAYS_MAX);
	return 0;
}

/* 1 when kind is a colleague's. */
static int
colleague_kind(int kind)
{
	return kind > MEMBER_OWN && kind <= MEMBER_LANGUAGE_HELPER;
}

int
casework_invite(struct server *srv, struct case_info *c, int64_t inviter,
    int64_t colleague, int kind, void *origin)
{
	struct counsellor me, them;
	int64_t version;
	int rc, why, there, keep, room;

	if (!colleague_kind(kind))
		return OFR_E_BAD_FIELD;
	if (c->counsellor != inviter)
		return OFR_E_FORBIDDEN;		/* the assigned counsellor only */
	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return OFR_E_BAD_STATE;
	if ((rc = store_counsellor_get(srv->st, inviter, &me)) != 0)
		return rc;
	/* On several nodes the colleague is read under its lock: a disable
	 * at another node comes before this (it is refused) or after (the
	 * disable finds it among the colleague's cases and takes it out).
	 * One in the case already is refused first, as store_member_add
	 * refuses it: a disable taking it out of this case holds its lock
	 * and then writes the case, which this request holds. */
	if ((rc = store_case_has_participant(srv->st, c->id, colleague,
	    &there)) != 0)
		return rc;
	if (there)
		return OFR_E_BAD_STATE;
	if ((rc = store_counsellor_lock(srv->st, colleague)) != 0)
		return rc;
	rc = store_counsellor_get(srv->st, colleague, &them);
	if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
	    them.acct.programme != me.acct.programme))
		return OFR_E_NOT_FOUND;	/* others' counsellors do not exist */
	if (rc != 0)
		return rc;
	if (!them.certified || them.acct.disabled)
		return OFR_E_FORBIDDEN;
	/* Never back to a counsellor its client asked to leave, as
	 * case.assign and matching hold to (store_member_last_why). */
	if ((rc = store_member_last_why(srv->st, c->id, colleague,
	    &why)) != 0)
		return rc;
	if (why == LEFT_REASSIGNED || why == LEFT_REMOVED)
		return OFR_E_FORBIDDEN;
	/* Bounded (casework_room()), with the place of a referral's
	 * partner counsellor still to join kept. */
	if ((rc = casework_referral_keeps_place(srv, c, &keep)) != 0 ||
	    (rc = casework_room(srv, c, keep, 1, &room)) != 0)
		return rc;
	if (!room)
		return OFR_E_LIMIT;
	if ((rc = store_member_add(srv->st, c->id, inviter, colleague, kind,
	    srv->now, &version)) != 0 ||
	    (rc = store_case_get(srv->st, c->id, c)) != 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

int
casework_remove(struct server *srv, struct case_info *c, int64_t asker,
    int64_t member, void *origin)
{
	struct participant p[MODEL_PARTICIPANTS_MAX];
	const struct participant *m = NULL;
	int64_t receiver;
	size_t n;
	int rc;

	if ((rc = store_case_participants(srv->st, c->id, p,
	    MODEL_PARTICIPANTS_MAX, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (p[i].account == member)
			m = &p[i];
	if (m == NULL)
		return OFR_E_NOT_FOUND;
	if (!colleague_kind(m->kind))
		return OFR_E_FORBIDDEN;	/* the counsellor: case.reassign */
	/* The client, the counsellor, or the colleague itself. */
	if (asker != c->client && asker != c->counsellor && asker != member)
		return OFR_E_FORBIDDEN;
	if ((rc = casework_referral_receiver(srv, c, &receiver)) != 0 ||
	    (rc = take_out(srv, c, member, asker == member ? LEFT_LEFT :
	    LEFT_REMOVED)) != 0)
		return rc;
	/* A referral's counsellor has its place back: the rematch before
	 * anyone is told, as casework_close()'s. */
	if (receiver == member && (rc = casework_rematch(srv, member)) != 0)
		return rc;
	srv->notify->left(srv, c, member, origin);
	return srv->notify->changed(srv, c, origin);
}

int
casework_seen(struct server *srv, struct case_info *c, int64_t account,
    int64_t version, void *origin)
{
	int rc;

	if (version < 0 || version > c->members)
		return OFR_E_BAD_FIELD;
	if ((rc = store_case_seen(srv->st, c->id, account, version)) != 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

/* Moves c from status from to status to, for its counsellor (and the
 * partner counsellor of its referral: a case opened again holds its
 * place again). */
static int
set_status(struct server *srv, struct case_info *c, int from, int to,
    void *origin)
{
	int64_t receiver;
	int rc;

	if (c->status != from)
		return OFR_E_BAD_STATE;
	if ((rc = store_case_set_status(srv->st, c->id, to, srv->now)) != 0 ||
	    (rc = store_case_get(srv->st, c->id, c)) != 0 ||
	    (rc = pool_refresh(srv, c->counsellor)) != 0 ||
	    (rc = casework_referral_receiver(srv, c, &receiver)) != 0 ||
	    (receiver != 0 && (rc = pool_refresh(srv, receiver)) != 0))
		return rc;
	return srv->notify->changed(srv, c, origin);
}

int
casework_pause(struct server *srv, struct case_info *c, void *origin)
{
	return set_status(srv, c, CASE_ACTIVE, CASE_PAUSED, origin);
}

int
casework_resume(struct server *srv, struct case_info *c, void *origin)
{
	return set_status(srv, c, CASE_PAUSED, CASE_ACTIVE, origin);
}

int
casework_reopen(struct server *srv, struct case_info *c, void *origin)
{
	const struct match_profile *me;
	struct case_info other;
	int rc;

	if (c->status != CASE_CLOSED)
		return OFR_E_BAD_STATE;
	rc = store_case_open_of_client(srv->st, c->client, &other);
	if (rc == 0)
		return OFR_E_CASE_OPEN;
	if (rc != OFR_E_NOT_FOUND)
		return rc;
	if (c->counsellor != 0 &&
	    (rc = casework_claim(srv, c->counsellor, NULL)) < 0)
		return rc;
	me = match_get(srv->pool, c->counsellor);
	if (me == NULL || me->open >= me->capacity)
		return OFR_E_LIMIT;
	return set_status(srv, c, CASE_CLOSED, CASE_ACTIVE, origin);
}

/* 1 when counsellor me fits request rq, presence and hours aside (a
 * counsellor taking a case itself is at work and there) and room aside
 * (case.take checks it). */
static int
fits(struct server *srv, const struct match_profile *me,
    const struct match_request *rq)
{
	struct match_profile p = *me;

	p.presence = PRESENCE_ONLINE;
	p.there = 1;
	memset(p.hours, 0, sizeof(p.hours));
	p.open = 0;
	p.capacity = 1;
	return match_fits(&p, rq, srv->now);
}

/* 1 when counsellor me fits waiting case c, as fits() says, 0 when
 * not, or a negative code. */
static int
fits_case(struct server *srv, const struct match_profile *me,
    const struct case_info *c)
{
	struct case_request req;
	int rc;

	if ((rc = case_request(srv, c, &req)) != 0)
		return rc;
	return fits(srv, me, &req.rq);
}

/* 1 when counsellor me fits referral r of c waiting at its programme, as
 * fits() says, 0 when not, or a negative code. */
static int
fits_referral(struct server *srv, const struct match_profile *me,
    const struct case_info *c, const struct referral *r)
{
	struct case_request req;
	int rc;

	if ((rc = casework_referral_request(srv, c, r, &req)) != 0)
		return rc;
	return fits(srv, me, &req.rq);
}

/* Counsellor me takes referral r of c waiting at its programme: it joins
 * c as r's counsellor. */
static int
take_referral(struct server *srv, const struct match_profile *me,
    struct case_info *c, const struct referral *r, void *origin)
{
	int rc;

	if (!me->eligible)
		return OFR_E_FORBIDDEN;
	if ((rc = fits_referral(srv, me, c, r)) <= 0)
		return rc < 0 ? rc : OFR_E_FORBIDDEN;
	if (me->open >= me->capacity)
		return OFR_E_LIMIT;
	return casework_referral_join(srv, c, r, me->id, origin);
}

int
casework_take(struct server *srv, int64_t counsellor, int64_t case_id,
    void *origin)
{
	const struct match_profile *me;
	struct match_request rq;
	struct case_info c;
	struct referral r;
	unsigned met;
	int rc, yes = 0;

	/* its own caseload as the store has it, under its lock */
	if ((rc = casework_claim(srv, counsellor, NULL)) < 0)
		return rc;
	me = match_get(srv->pool, counsellor);
	if ((rc = store_case_get(srv->st, case_id, &c)) != 0)
		return rc;
	if (c.status != CASE_WAITING && c.counsellor == counsellor)
		return OFR_E_BAD_STATE;
	/* A referral waiting at its programme is in its queue. */
	if (c.status != CASE_WAITING && me != NULL &&
	    (rc = casework_referral_waiting_at(srv, &c, me->programme, &r,
	    &yes)) != 0)
		return rc;
	if (yes)
		return take_referral(srv, me, &c, &r, origin);
	/* Its own already: its request brought it back to work, and the
	 * rematch gave it the case, or joined it to the referral, first. */
	if (c.status != CASE_WAITING && (rc = store_case_has_participant(
	    srv->st, c.id, counsellor, &yes)) != 0)
		return rc;
	if (c.status != CASE_WAITING)	/* others' cases do not exist here */
		return yes ? OFR_E_BAD_STATE : OFR_E_NOT_FOUND;
	if (me == NULL || !me->eligible)
		return OFR_E_FORBIDDEN;
	if ((rc = fits_case(srv, me, &c)) <= 0)
		return rc < 0 ? rc : OFR_E_FORBIDDEN;
	if (me->open >= me->capacity)
		return OFR_E_LIMIT;
	if ((rc = pool_case_request(srv, &c, &rq)) != 0)
		return rc;
	(void)match_score(me, &rq, &met);
	if ((rc = assign(srv, &c, counsellor, met)) != 0)
		return rc;
	return srv->notify->changed(srv, &c, origin);
}

/* 1 when waiting case c is for programme's counsellors: it chose that
 * programme, or none. */
static int
for_programme(const struct case_info *c, int64_t programme)
{
	return c->prefs.programme == 0 || c->prefs.programme == programme;
}

/* A listing of the queue as programme's people see it: for counsellor me
 * the waiting cases and referrals it fits, for an admin (me NULL) those
 * for programme; fn is told each, at most max. */
struct queue_walk {
	struct server *srv;
	int64_t programme;
	const struct match_profile *me;
	size_t max, listed;
	int (*fn)(void *arg, const struct case_info *c,
	    const struct referral *r);
	void *arg;
};

/* A referral waiting at the walk's programme, in the walk's order. */
struct queued_referral {
	int64_t case_id;
	int urgency;
};

/* 0 when counsellor me fits no referral of c waiting at programme,
 * whatever its sent-away list says (fits_referral's request without it,
 * from memory), 1 when it may. */
static int
may_fit_referral(struct server *srv, const struct match_profile *me,
    const struct case_info *c, int64_t programme)
{
	struct match_request rq;

	if (pool_case_request(srv, c, &rq) != 0)
		return 1;
	rq.programme = programme;
	rq.exclude = c->counsellor;
	return fits(srv, me, &rq) != 0;
}

/* The referrals waiting at w's programme that w lists, at most
 * QUEUE_REFERRALS, by urgency (high first), then as they were proposed:
 * the oldest that w may take of the QUEUE_SCAN oldest (as for cases,
 * walk_queue), so that those it may not do not hide the others. One it
 * cannot fit costs one read of the store (may_fit_referral). */
static int
queued_referrals(struct queue_walk *w, struct queued_referral *q, size_t *n)
{
	int64_t ids[QUEUE_SCAN];
	struct case_info c;
	struct referral r;
	size_t found;
	int rc, yes;

	*n = 0;
	if ((rc = store_referrals_waiting(w->srv->st, w->programme,
	    (const int64_t[2]){ 0, 0 }, ids, NULL, QUEUE_SCAN, &found)) != 0)
		return rc;
	for (size_t i = 0; i < found && *n < QUEUE_REFERRALS; i++) {
		size_t j;

		if ((rc = store_case_get(w->srv->st, ids[i], &c)) != 0)
			return rc;
		if (w->me != NULL &&
		    !may_fit_referral(w->srv, w->me, &c, w->programme))
			continue;
		if ((rc = casework_referral_waiting_at(w->srv, &c,
		    w->programme, &r, &yes)) != 0)
			return rc;
		if (!yes)
			continue;
		if (w->me != NULL &&
		    (rc = fits_referral(w->srv, w->me, &c, &r)) <= 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		/* Stable: after those of its urgency or higher. */
		for (j = *n; j > 0 && q[j - 1].urgency < c.prefs.urgency; j--)
			q[j] = q[j - 1];
		q[j].case_id = c.id;
		q[j].urgency = c.prefs.urgency;
		(*n)++;
	}
	return 0;
}

/* Tells w's fn of the referral waiting in c, read again. */
static int
list_referral(struct queue_walk *w, int64_t case_id)
{
	struct case_info c;
	struct referral r;
	int rc, yes;

	if ((rc = store_case_get(w->srv->st, case_id, &c)) != 0 ||
	    (rc = casework_referral_waiting_at(w->srv, &c, w->programme, &r,
	    &yes)) != 0)
		return rc;
	if (!yes || w->listed >= w->max)
		return 0;
	w->listed++;
	return w->fn(w->arg, &c, &r);
}

/* The walk: the waiting cases in queue order, each referral waiting at
 * the programme after the waiting cases of its urgency. */
static int
walk_queue(struct queue_walk *w)
{
	int64_t ids[QUEUE_SCAN];
	struct queued_referral q[QUEUE_REFERRALS];
	struct case_info c;
	size_t n, nq, next = 0;
	int rc;

	if ((rc = queued_referrals(w, q, &nq)) != 0 ||
	    (rc = store_case_waiting(w->srv->st, ids, QUEUE_SCAN, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n && w->listed < w->max; i++) {
		if ((rc = store_case_get(w->srv->st, ids[i], &c)) != 0)
			return rc;
		if (w->me == NULL ? !for_programme(&c, w->programme) :
		    (rc = fits_case(w->srv, w->me, &c)) <= 0) {
			if (w->me != NULL && rc < 0)
				return rc;
			continue;
		}
		for (; next < nq && q[next].urgency > c.prefs.urgency; next++)
			if ((rc = list_referral(w, q[next].case_id)) != 0)
				return rc;
		if (w->listed >= w->max)
			break;
		w->listed++;
		if ((rc = w->fn(w->arg, &c, NULL)) != 0)
			return rc;
	}
	for (; next < nq; next++)
		if ((rc = list_referral(w, q[next].case_id)) != 0)
			return rc;
	return 0;
}

int
casework_waiting(struct server *srv, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct case_info *c, const struct referral *r),
    void *arg)
{
	struct queue_walk w = { srv, programme, NULL, max, 0, fn, arg };

	return walk_queue(&w);
}

int
casework_admin_assign(struct server *srv, int64_t programme,
    int64_t case_id, int64_t counsellor, void *origin)
{
	const struct match_profile *me;
	struct counsellor them;
	struct match_request rq;
	struct case_info c;
	struct referral r;
	unsigned met = 0;
	int rc, why, referral = 0;

	if ((rc = store_case_get(srv->st, case_id, &c)) != 0)
		return rc;
	/* A referral waiting at the programme is in its queue. */
	if (c.status != CASE_WAITING && (rc = casework_referral_waiting_at(srv,
	    &c, programme, &r, &referral)) != 0)
		return rc;
	if (!referral && !for_programme(&c, programme))
		return OFR_E_NOT_FOUND;	/* others' cases do not exist here */
	if (!referral && c.status != CASE_WAITING)
		return OFR_E_BAD_STATE;
	/* On several nodes the counsellor is read under its lock, as
	 * matching reads it (casework_claim): a disable or a revocation at
	 * another node comes before this (it is refused) or after (the
	 * disable moves the case, as it moves those given before). */
	if ((rc = store_counsellor_lock(srv->st, counsellor)) != 0)
		return rc;
	rc = store_counsellor_get(srv->st, counsellor, &them);
	if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
	    them.acct.programme != programme))
		return OFR_E_NOT_FOUND;
	if (rc != 0)
		return rc;
	if (store_shared(srv->st) && them.acct.role == ROLE_COUNSELLOR &&
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	me = match_get(srv->pool, counsellor);
	if (!them.certified || them.acct.disabled || me == NULL)
		return OFR_E_FORBIDDEN;
	/* Never back to a counsellor its client asked to leave. */
	if ((rc = store_member_last_why(srv->st, c.id, counsellor,
	    &why)) != 0)
		return rc;
	if (why == LEFT_REASSIGNED || why == LEFT_REMOVED)
		return OFR_E_FORBIDDEN;
	if (referral) {			/* it joins, as a matched one */
		rc = casework_referral_join(srv, &c, &r, counsellor, origin);
		/* taken meanwhile at another node: as a case that does not
		 * wait */
		if (rc == OFR_E_NOT_FOUND && for_programme(&c, programme))
			return OFR_E_BAD_STATE;
		return rc;
	}
	/* Room or not: the admin decides. */
	if (pool_case_request(srv, &c, &rq) == 0)
		(void)match_score(me, &rq, &met);
	/* closed or taken meanwhile at another node (the write is of a
	 * waiting case alone): as a case that does not wait */
	if ((rc = assign(srv, &c, counsellor, met)) != 0)
		return rc == OFR_E_NOT_FOUND ? OFR_E_BAD_STATE : rc;
	return srv->notify->changed(srv, &c, origin);
}

int
casework_queue(struct server *srv, int64_t counsellor, size_t max,
    int (*fn)(void *arg, const struct case_info *c, const struct referral *r),
    void *arg)
{
	const struct match_profile *me = match_get(srv->pool, counsellor);
	struct queue_walk w = { srv, 0, me, max, 0, fn, arg };

	if (me == NULL)
		return 0;
	w.programme = me->programme;
	return walk_queue(&w);
}

int
casework_rematch(struct server *srv, int64_t trigger)
{
	int64_t ids[QUEUE_SCAN];
	struct case_request req;
	struct case_info c;
	size_t n;
	int rc;

	if ((rc = store_case_waiting(srv->st, ids, QUEUE_SCAN, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const struct match_profile *t = NULL;

		if (trigger != 0) {
			/* Only the cases this counsellor could now take. */
			t = match_get(srv->pool, trigger);
			if (t == NULL || t->open >= t->capacity)
				break;
		}
		if ((rc = store_case_get(srv->st, ids[i], &c)) != 0)
			return rc;
		if (c.status != CASE_WAITING)
			continue;	/* another node matched it meanwhile */
		if (t != NULL) {
			if ((rc = case_request(srv, &c, &req)) != 0)
				return rc;
			if (!match_fits(t, &req.rq, srv->now))
				continue;
		}
		if ((rc = match_case(srv, &c)) < 0)
			return rc;
		if (rc == 1)
			(void)srv->notify->changed(srv, &c, NULL);
	}
	/* Accepted referrals wait for a partner's counsellor too. */
	return casework_referral_rematch(srv);
}

int
casework_queue_position(struct server *srv, int64_t case_id,
    int64_t *position)
{
	return store_case_queue_position(srv->st, case_id, position);
}

int
casework_announce_queue(struct server *srv)
{
	int64_t ids[QUEUE_SCAN];
	struct case_info c;
	size_t n;
	int rc;

	if ((rc = store_case_waiting(srv->st, ids, QUEUE_SCAN, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = store_case_get(srv->st, ids[i], &c)) != 0)
			return rc;
		srv->notify->queued(srv, &c, (int64_t)i + 1);
	}
	return 0;
}

void
casework_jobs_here(int64_t now)
{
	intake_waiting_restart(now);
}

int
casework_expire_waiting(struct server *srv, size_t *n)
{
	int64_t ids[QUEUE_SCAN];
	struct case_info c;
	size_t found;
	int rc = 0, gone, there;

	*n = 0;
	if ((rc = store_case_waiting(srv->st, ids, QUEUE_SCAN, &found)) != 0)
		return rc;
	intake_waiting_begin();
	for (size_t i = 0; i < found && rc == 0; i++) {
		if ((rc = store_case_get(srv->st, ids[i], &c)) != 0)
			break;
		/* Connected here, or to another node (which stored it). */
		if (!(there = srv->notify->online(c.client)) &&
		    (rc = store_waiting_elsewhere(srv->st, c.client,
		    &there)) != 0)
			break;
		gone = intake_waiting_seen(c.id, there, c.updated, srv->now);
		if (gone < 0) {
			rc = gone;
			break;
		}
		if (gone && (rc = casework_close(srv, &c, NULL)) == 0)
			(*n)++;
	}
	if (rc == 0)
		intake_waiting_end();
	return rc;
}

int
casework_drop_closed(struct server *srv, int64_t before, size_t max,
    size_t *n)
{
	int64_t ids[STORE_RETAIN_BATCH];
	struct case_info c;
	size_t found, i;
	int rc;

	*n = 0;
	if (max > STORE_RETAIN_BATCH)
		max = STORE_RETAIN_BATCH;
	if ((rc = store_cases_closed_before(srv->st, before, ids, max,
	    &found)) != 0)
		return rc;
	for (i = 0; i < found; i++) {
		if ((rc = store_case_get(srv->st, ids[i], &c)) != 0 ||
		    (rc = store_case_drop(srv->st, c.id)) != 0 ||
		    (c.counsellor != 0 &&
		    (rc = pool_refresh(srv, c.counsellor)) != 0))
			return rc;
	}
	*n = found;
	return 0;
}

/* Drops every case of account (client or counsellor: by then all
 * closed), each as retention drops one, in batches. */
static int
drop_cases_of(struct server *srv, int64_t account)
{
	int64_t ids[MOVE_MAX];
	struct case_info c;
	size_t n;
	int rc;

	do {
		if ((rc = store_cases_of(srv->st, account, ids, MOVE_MAX,
		    &n)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			if ((rc = store_case_get(srv->st, ids[i], &c)) != 0)
				return rc;
			if (c.status != CASE_CLOSED)
				return OFR_E_INTERNAL;	/* never dropped open */
			if ((rc = store_case_drop(srv->st, c.id)) != 0 ||
			    (c.counsellor != 0 && c.counsellor != account &&
			    (rc = pool_refresh(srv, c.counsellor)) != 0))
				return rc;
		}
	} while (n == MOVE_MAX);
	return 0;
}

int
casework_client_erase(struct server *srv, int64_t client)
{
	struct case_info c;
	int rc;

	rc = store_case_open_of_client(srv->st, client, &c);
	if (rc == 0)
		rc = casework_close(srv, &c, NULL);
	else if (rc == OFR_E_NOT_FOUND)
		rc = 0;
	if (rc != 0 || (rc = drop_cases_of(srv, client)) != 0)
		return rc;
	return store_account_drop(srv->st, client);
}

int
casework_counsellor_erase(struct server *srv, int64_t counsellor)
{
	int rc;

	if ((rc = casework_disable(srv, counsellor)) != 0 ||
	    (rc = drop_cases_of(srv, counsellor)) != 0 ||
	    (rc = store_referrals_forget(srv->st, counsellor)) != 0 ||
	    (rc = store_account_drop(srv->st, counsellor)) != 0)
		return rc;
	return pool_refresh(srv, counsellor);	/* gone: out of the pool */
}

int
casework_counsellor_create(struct server *srv, struct account *a)
{
	int rc;

	if ((rc = store_account_create(srv->st, a)) != 0)
		return rc;
	return pool_refresh(srv, a->id);
}

int
casework_profile_set(struct server *srv, int64_t counsellor,
    const struct profile *p, const char *name)
{
	int rc;

	if ((rc = store_profile_set(srv->st, counsellor, p)) != 0 ||
	    (name != NULL &&
	    (rc = store_account_set_name(srv->st, counsellor, name)) != 0) ||
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	/* Room may have opened, or hours and presence begun. */
	return casework_rematch(srv, counsellor);
}

int
casework_certify(struct server *srv, int64_t counsellor,
    const uint8_t cert[CERT_BYTES])
{
	int rc;

	if ((rc = store_account_set_cert(srv->st, counsellor, cert)) != 0 ||
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	/* A newly certified counsellor may take waiting cases. */
	return casework_rematch(srv, counsellor);
}

int
casework_uncertify(struct server *srv, int64_t programme,
    const uint8_t *key)
{
	int64_t ids[MOVE_MAX];
	size_t n;
	int rc;

	/* Each under its lock, in the order of the ids, as casework_claim
	 * takes it at another node: an assignment under way there reads the
	 * certificate after this commit, or ends before it. Those dropped
	 * leave the holders: the next batch is the rest. */
	do {
		if ((rc = store_cert_holders(srv->st, programme, key, ids,
		    MOVE_MAX, &n)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			if ((rc = store_counsellor_lock(srv->st, ids[i])) != 0 ||
			    (rc = store_cert_drop(srv->st, ids[i])) != 0 ||
			    (rc = pool_refresh(srv, ids[i])) != 0)
				return rc;
	} while (n == MOVE_MAX);
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
casework_lock_cases(struct server *srv, int64_t *ids, size_t n)
{
	int rc;

	qsort(ids, n, sizeof(ids[0]), id_cmp);
	for (size_t i = 0; i < n; i++)
		if ((rc = store_case_lock(srv->st, ids[i])) != 0)
			return rc;
	return 0;
}

int
casework_disable(struct server *srv, int64_t counsellor)
{
	int64_t ids[MOVE_MAX];
	struct case_info c;
	size_t n;
	int rc;

	/* On several nodes: after an assignment to it under way at another
	 * node (which holds the lock), whose case is then among those moved.
	 * Its open cases' rows first, in the order a request that changes
	 * one and then matches (a close) takes them: a case's row, then a
	 * counsellor's. */
	if ((rc = store_case_open_of_counsellor(srv->st, counsellor, ids,
	    MOVE_MAX, &n)) != 0 ||
	    (rc = casework_lock_cases(srv, ids, n)) != 0)
		return rc;
	if ((rc = store_counsellor_lock(srv->st, counsellor)) != 0 ||
	    (rc = store_account_set_disabled(srv->st, counsellor, 1)) != 0 ||
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	/* Its clients go back to matching, and are told; in batches, as
	 * many as it has (an admin's case.assign gives past capacity): a
	 * case moved leaves the list. Past the first batch a case's row is
	 * locked after the counsellor's; were another node closing it at
	 * that moment, PostgreSQL breaks the deadlock (unavailable, to be
	 * tried again). */
	do {
		if ((rc = store_case_open_of_counsellor(srv->st, counsellor,
		    ids, MOVE_MAX, &n)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			if ((rc = store_case_lock(srv->st, ids[i])) != 0 ||
			    (rc = store_case_get(srv->st, ids[i], &c)) != 0 ||
			    (rc = move(srv, &c, LEFT_DISABLED, NULL)) != 0)
				return rc;
	} while (n == MOVE_MAX);
	/* It leaves the cases it was brought into, and they are told; in
	 * batches too, closed ones among them: one left leaves the list. */
	do {
		if ((rc = store_colleague_cases(srv->st, counsellor, ids,
		    MOVE_MAX, &n)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			if ((rc = store_case_get(srv->st, ids[i], &c)) != 0 ||
			    (rc = drop_colleague(srv, &c, counsellor,
			    LEFT_DISABLED, NULL)) != 0 ||
			    (rc = srv->notify->changed(srv, &c, NULL)) != 0)
				return rc;
	} while (n == MOVE_MAX);
	return 0;
}

int
casework_enable(struct server *srv, int64_t counsellor)
{
	int rc;

	if ((rc = store_account_set_disabled(srv->st, counsellor, 0)) != 0 ||
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	return casework_rematch(srv, counsellor);
}

int
casework_connected(struct server *srv, int64_t counsellor)
{
	int rc = presence_connect(counsellor, srv->now);

	if (rc <= 0)
		return rc;
	pool_there(srv, counsellor);
	/* Clients waiting get their case now. */
	if ((rc = casework_rematch(srv, counsellor)) != 0) {
		presence_disconnect(counsellor);	/* no login, then */
		pool_there(srv, counsellor);
	}
	return rc;
}

void
casework_disconnected(struct server *srv, int64_t counsellor)
{
	if (presence_disconnect(counsellor))
		pool_there(srv, counsellor);
}

int
casework_work(struct server *srv, int64_t counsellor)
{
	if (!presence_work(counsellor, srv->now))
		return 0;
	pool_there(srv, counsellor);
	return casework_rematch(srv, counsellor);
}

void
casework_age(struct server *srv, int64_t idle_after)
{
	int64_t ids[MOVE_MAX];
	size_t n, all = 0;

	do {
		n = presence_age(srv->now, idle_after, ids, MOVE_MAX);
		for (size_t i = 0; i < n; i++)
			pool_there(srv, ids[i]);
		all += n;
	} while (n == MOVE_MAX);
	if (all > 0)
		log_debug("casework: %zu counsellors idle: no new case until "
		    "their next request", all);
}

/* The ids a pass of nodes_sync() found there anew on other nodes. */
struct nodes_seen {
	int64_t *ids;
	size_t n, max;
};

static int
remote_seen(void *arg, int64_t id)
{
	struct nodes_seen *ns = arg;
	int rc = presence_remote_seen(id);

	if (rc == 1 && ns->n < ns->max)
		ns->ids[ns->n++] = id;
	return rc < 0 ? rc : 0;
}

/*
 * Several nodes: stores this node's counsellors that are there (until
 * NODES_EXPIRY from now; the idle first aged, as the rematch job does,
 * which one node may run for all), reads the other nodes' (casework.c's
 * header), and reloads the pool when NODES_RELOAD has passed. Those no longer
 * there anywhere are matched no more; those there anew are read into the
 * pool (they may be new to this node) and matched to the waiting cases.
 */
static int
nodes_sync(struct server *srv)
{
	struct nodes_seen ns = { NULL, 0, STORE_PRESENCE_MAX };
	int64_t gone[MOVE_MAX];
	size_t n, all;
	int rc, got;

	if ((ns.ids = malloc(STORE_PRESENCE_MAX * sizeof(*ns.ids))) == NULL)
		return OFR_E_NOMEM;
	/* Idleness is this node's to see, whichever node runs the jobs. */
	casework_age(srv, srv->idle_away);
	if ((n = presence_here_all(ns.ids, STORE_PRESENCE_MAX)) >
	    STORE_PRESENCE_MAX) {
		log_warn("casework: more than %d counsellors here: the "
		    "others nodes see the first only", STORE_PRESENCE_MAX);
		n = STORE_PRESENCE_MAX;
	}
	if ((rc = store_presence_publish(srv->st, ns.ids, n,
	    NODES_EXPIRY)) != 0)
		goto out;
	/* The clients here, of which the store keeps those waiting: the
	 * node that runs the jobs sees them there (casework_expire_waiting). */
	if ((n = srv->notify->online_ids(ROLE_CLIENT, ns.ids,
	    STORE_PRESENCE_MAX)) > STORE_PRESENCE_MAX) {
		log_warn("casework: more than %d clients here: the others "
		    "nodes see the first only as waiting", STORE_PRESENCE_MAX);
		n = STORE_PRESENCE_MAX;
	}
	if ((rc = store_waiting_publish(srv->st, ns.ids, n,
	    NODES_EXPIRY)) != 0)
		goto out;
	if (srv->now >= nodes_reload_at) {
		if ((rc = pool_load(srv)) != 0)
			goto out;
		nodes_reload_at = srv->now + NODES_RELOAD;
	}
	presence_remote_begin();
	if ((rc = store_presence_each(srv->st, remote_seen, &ns)) != 0)
		goto out;
	all = 0;
	do {
		n = presence_remote_end(gone, MOVE_MAX);
		for (size_t i = 0; i < n; i++)
			pool_there(srv, gone[i]);
		all += n;
	} while (n == MOVE_MAX);
	if (all > 0)
		log_info("casework: %zu counsellors of other nodes there no "
		    "more", all);
	if (ns.n > 0)
		log_info("casework: %zu counsellors there on other nodes anew",
		    ns.n);
	for (size_t i = 0; i < ns.n && rc == 0; i++) {
		if (match_get(srv->pool, ns.ids[i]) == NULL)
			rc = pool_refresh(srv, ns.ids[i]);
		else
			pool_there(srv, ns.ids[i]);
	}
	/* The queue once, for one counsellor or for many: on one node (the
	 * jobs' leader, which sees them anew too), under the rematch's
	 * lock (the rematch job's: never two at once). */
	if (rc == 0 && ns.n > 0 && cluster_leader() &&
	    (rc = store_try_lock(srv->st, STORE_LOCK_REMATCH, &got)) == 0 &&
	    got)
		rc = casework_rematch(srv, ns.n == 1 ? ns.ids[0] : 0);
out:
	free(ns.ids);
	return rc;
}

/* The timer of nodes_sync(): one unit of work each NODES_PERIOD. */
static void
nodes_tick(void *arg)
{
	struct server *srv = arg;
	int rc;

	casework_begin(srv);
	rc = nodes_sync(srv);
	casework_end(srv, rc == 0);
	if (rc != 0 && rc != OFR_E_UNAVAILABLE)	/* the store says that */
		log_warn("casework: the presence of the nodes: %s",
		    err_str(rc));
	if (nodes_armed)
		srv->conn->timer(NODES_PERIOD, nodes_tick, srv);
}

void
casework_presence(int64_t counsellor, struct presence_now *out)
{
	out->connections = presence_connections(counsellor);
	out->idle = presence_idle(counsellor);
}
