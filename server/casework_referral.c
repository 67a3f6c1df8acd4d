/*
 * casework_referral.c: referrals and the warm handover, the part of the
 * domain layer (casework.h, "Referrals") that casework.c's rematch calls
 * through casework_int.h. It owns the
 * rules of a referral's life: one open referral per case, only to a
 * programme in an active partnership, nothing moves without the client's
 * yes, the partner's counsellor joins as a participant everyone is told
 * of, the summary goes once, after the client's approval, to that
 * counsellor alone, and the handover is one unit of work. Like
 * casework.c it speaks in model types only, keeps the pool in step with
 * what it changes, and tells the layer above through srv->notify. An
 * accepted referral holds a place in its partner counsellor's caseload
 * from the join on, while its case is open and that counsellor in it
 * (store_accounts.c, COUNSELLOR_OPEN): the pool reads that counsellor
 * again whenever one joins or leaves a referral or its case, a referral
 * ends, or its case closes or opens again, and a place given back by a
 * choice of the case's people is offered at once (the rematch).
 */
#include <string.h>

#include "casework.h"
#include "casework_int.h"
#include "match.h"
#include "pool.h"
#include "proto/err.h"
#include "server.h"
#include "store.h"

#define PARTNERS_SCAN	100	/* a programme's partners looked at */
#define INTAKE_BATCH	100	/* waiting referrals matched in one pass */
#define CANCEL_BATCH	100	/* referrals a partnership's end cancels
				   in one pass */

struct find_partner {
	int64_t want;
	int found;
};

static int
is_partner(void *arg, const struct programme *p)
{
	struct find_partner *f = arg;

	if (p->id == f->want)
		f->found = 1;
	return 0;
}

/* 1 in *yes when a and b are in an active partnership. */
static int
partners(struct server *srv, int64_t a, int64_t b, int *yes)
{
	struct find_partner f = { b, 0 };
	int rc;

	if ((rc = store_partner_programme_each(srv->st, a, PARTNERS_SCAN,
	    is_partner, &f)) != 0)
		return rc;
	*yes = f.found;
	return 0;
}

/* The programme of counsellor. */
static int
programme_of(struct server *srv, int64_t counsellor, int64_t *programme)
{
	struct counsellor me;
	int rc;

	if ((rc = store_counsellor_get(srv->st, counsellor, &me)) != 0)
		return rc;
	*programme = me.acct.programme;
	return 0;
}

/* 1 in *yes when referral r of c lives: its partnership is active and
 * c's counsellor is of the programme that proposed it. A case that a
 * counsellor of another programme leads (it was moved, and its request
 * named no programme) carries a referral that nobody acts on but to end
 * it, as one whose partnership ended, until one of that programme leads
 * it again. */
static int
live(struct server *srv, const struct case_info *c, const struct referral *r,
    int *yes)
{
	int64_t programme;
	int rc;

	*yes = 0;
	if (c->counsellor == 0)
		return 0;
	rc = programme_of(srv, c->counsellor, &programme);
	if (rc != 0 || programme != r->from)
		return rc == OFR_E_NOT_FOUND ? 0 : rc;
	return partners(srv, r->from, r->to, yes);
}

static int
reread(struct server *srv, struct case_info *c)
{
	int rc = store_case_get(srv->st, c->id, c);

	/* Just written: not found breaks the store's promise; any other
	 * code is the store's (unavailable: retryable). */
	return rc == OFR_E_NOT_FOUND ? OFR_E_INTERNAL : rc;
}

int
casework_referral_propose(struct server *srv, struct case_info *c,
    int64_t counsellor, int64_t partner, void *origin)
{
	struct referral open;
	int64_t mine, id, n;
	int rc, yes = 0;

	if (c->counsellor != counsellor)
		return OFR_E_FORBIDDEN;		/* a colleague, not its own */
	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return OFR_E_BAD_STATE;
	if ((rc = programme_of(srv, counsellor, &mine)) != 0)
		return rc;
	if (partner == mine)
		return OFR_E_NOT_FOUND;		/* no partner of itself */
	/* one referral open at a time (the store refuses a second): said
	 * before the programmes' locks are taken, as this request holds the
	 * case's, which a partnership's end takes after them */
	rc = store_referral_open(srv->st, c->id, &open);
	if (rc == 0)
		return OFR_E_BAD_STATE;
	if (rc != OFR_E_NOT_FOUND)
		return rc;
	/* a case's referrals are kept as long as it is (its figures), and
	 * a proposal withdrawn and made again would add one each time */
	if ((rc = store_referrals_of_case(srv->st, c->id, &n)) != 0)
		return rc;
	if (n >= CASE_REFERRALS_MAX)
		return OFR_E_LIMIT;
	/* the partnership read under the programmes' locks, as its end
	 * takes them (several nodes): an end at another node comes before
	 * this (refused) or after (it cancels this one) */
	if ((rc = store_programme_lock_pair(srv->st, mine, partner)) != 0 ||
	    (rc = partners(srv, mine, partner, &yes)) != 0)
		return rc;
	if (!yes)
		return OFR_E_NOT_FOUND;		/* as a programme unknown */
	/* a place for the partner's counsellor, kept from now on */
	if ((rc = casework_room(srv, c, 0, 0, &yes)) != 0)
		return rc;
	if (!yes)
		return OFR_E_LIMIT;
	if ((rc = store_referral_propose(srv->st, c->id, mine, partner,
	    srv->now, &id)) != 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

int
casework_referral_waiting_at(struct server *srv, const struct case_info *c,
    int64_t programme, struct referral *r, int *yes)
{
	int rc;

	*yes = 0;
	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return 0;
	rc = store_referral_open(srv->st, c->id, r);
	if (rc == OFR_E_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (r->status != REFERRAL_ACCEPTED || r->receiver != 0 ||
	    r->to != programme || c->counsellor == 0)
		return 0;
	/* A partnership that ended since takes nobody in, nor a case led
	 * by another programme's counsellor. */
	return live(srv, c, r, yes);
}

int
casework_referral_request(struct server *srv, const struct case_info *c,
    const struct referral *r, struct case_request *out)
{
	struct match_request *rq = &out->rq;
	int rc;

	if ((rc = pool_case_request(srv, c, rq)) != 0)
		return rc;
	rq->programme = r->to;			/* the partner's counsellors */
	rq->exclude = c->counsellor;
	rq->banned = out->sent_away;
	return store_case_sent_away(srv->st, c->id, r->to, out->sent_away,
	    CASE_SENT_AWAY_MAX, &rq->nbanned);
}

int
casework_referral_keeps_place(struct server *srv, const struct case_info *c,
    int *keep)
{
	struct referral r;
	int rc = store_referral_open(srv->st, c->id, &r);

	*keep = 0;
	if (rc == OFR_E_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	*keep = r.status == REFERRAL_PROPOSED || r.receiver == 0;
	return 0;
}

/* counsellor joins c as r's partner counsellor, a place of its
 * caseload taken; c read back. OFR_E_LIMIT, with nothing written, when
 * c has no room for it (casework_room(): the place kept for it since
 * the proposal went to others meanwhile, as when a partner counsellor
 * who left by itself is deleted and gives the referral back): it waits
 * until c has. OFR_E_NOT_FOUND, with
 * nothing written, when r no longer waits: with several nodes, another
 * node chose its counsellor (or ended it) since r was read. The
 * counsellor's lock does not cover that (two nodes may choose two
 * counsellors), the referral's row does: the receiver first. */
static int
join(struct server *srv, struct case_info *c, const struct referral *r,
    int64_t counsellor)
{
	int64_t version;
	int rc, room;

	if ((rc = casework_room(srv, c, 0, 0, &room)) != 0)
		return rc;
	if (!room)
		return OFR_E_LIMIT;
	rc = store_referral_receiver(srv->st, r->id, counsellor);
	if (rc == OFR_E_BAD_STATE)
		return OFR_E_NOT_FOUND;
	/* nobody invited it (matching, case.take or an admin chose it):
	 * it alone has seen its joining, which every other participant's
	 * client confirms, the case's counsellor's too (PROTOCOL.md,
	 * "Referrals") */
	if (rc != 0 || (rc = store_member_add(srv->st, c->id, counsellor,
	    counsellor, MEMBER_CO_COUNSELLOR, srv->now, &version)) != 0 ||
	    (rc = pool_refresh(srv, counsellor)) != 0)
		return rc;
	return reread(srv, c);
}

int
casework_referral_join(struct server *srv, struct case_info *c,
    const struct referral *r, int64_t counsellor, void *origin)
{
	int rc;

	if ((rc = join(srv, c, r, counsellor)) != 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

/* c's open referral in r, with r->receiver its partner counsellor when
 * it is accepted and has one, else 0. 0 or a negative code. */
static int
joined_referral(struct server *srv, const struct case_info *c,
    struct referral *r)
{
	int rc = store_referral_open(srv->st, c->id, r);

	if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
	    r->status != REFERRAL_ACCEPTED)) {
		r->receiver = 0;
		return 0;
	}
	return rc;
}

int
casework_referral_release(struct server *srv, const struct case_info *c,
    int64_t counsellor)
{
	struct referral r;
	int rc;

	if ((rc = joined_referral(srv, c, &r)) != 0 ||
	    r.receiver == 0 || r.receiver != counsellor)
		return rc;
	if ((rc = store_referral_release(srv->st, r.id, counsellor)) != 0)
		return rc;
	return pool_refresh(srv, counsellor);
}

int
casework_referral_receiver(struct server *srv, const struct case_info *c,
    int64_t *receiver)
{
	struct referral r;
	int rc = joined_referral(srv, c, &r);

	*receiver = rc == 0 ? r.receiver : 0;
	return rc;
}

/* Matches accepted referral r of c: the partner's best counsellor joins
 * c. *joined 1 when one did, 0 when it waits (also while c has no room
 * for it: join()). */
static int
intake(struct server *srv, struct case_info *c, const struct referral *r,
    int *joined)
{
	struct case_request req;
	const struct match_request *rq = &req.rq;
	struct match_result m;
	struct referral now;
	int rc, yes = 0;

	*joined = 0;
	if ((rc = casework_referral_waiting_at(srv, c, r->to, &now,
	    &yes)) != 0 || !yes)
		return rc;
	/* no counsellor claimed for a case with no room */
	if ((rc = casework_room(srv, c, 0, 0, &yes)) != 0 || !yes)
		return rc;
	if ((rc = casework_referral_request(srv, c, &now, &req)) != 0)
		return rc;
	/* As a case is matched: the best, claimed (locked and read back
	 * under the lock), else the next best. */
	for (int i = 0; i < CASEWORK_CLAIM_TRIES; i++) {
		if (match_best(srv->pool, rq, srv->now, &m) != 0)
			return 0;		/* it waits */
		if ((rc = casework_claim(srv, m.counsellor, rq)) < 0)
			return rc;
		if (rc == 0)
			continue;	/* stale here: the next best */
		/* not found: another node gave it one first; it is not
		 * this intake's any more */
		if ((rc = join(srv, c, &now, m.counsellor)) != 0)
			return rc == OFR_E_NOT_FOUND ||
			    rc == OFR_E_LIMIT ? 0 : rc;
		*joined = 1;
		return 0;
	}
	return 0;
}

int
casework_referral_intake(struct server *srv, struct case_info *c, int *joined,
    void *origin)
{
	struct referral r;
	int rc;

	*joined = 0;
	if ((rc = store_referral_open(srv->st, c->id, &r)) != 0)
		return rc == OFR_E_NOT_FOUND ? 0 : rc;
	if ((rc = intake(srv, c, &r, joined)) != 0)
		return rc;
	return *joined ? srv->notify->changed(srv, c, origin) : 0;
}

/*
 * A pass takes INTAKE_BATCH waiting referrals, the oldest first, after
 * those the last pass took, and starts from the first again once it
 * reached the last: referrals nobody can take yet do not keep those
 * behind them from the intake for ever, nor does one whose intake
 * fails (the next pass starts after it).
 */
int
casework_referral_rematch(struct server *srv)
{
	int64_t ids[INTAKE_BATCH], keys[INTAKE_BATCH][2];
	int64_t *after = srv->intake_after;
	struct case_info c;
	size_t n, i;
	int rc = 0, joined;

	if ((rc = store_referrals_waiting(srv->st, 0, after, ids, keys,
	    INTAKE_BATCH, &n)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		if ((rc = store_case_get(srv->st, ids[i], &c)) == 0)
			rc = casework_referral_intake(srv, &c, &joined, NULL);
	if (rc != 0 || n == INTAKE_BATCH) {
		after[0] = keys[i - 1][0];
		after[1] = keys[i - 1][1];
	} else {
		after[0] = after[1] = 0;
	}
	return rc;
}

int
casework_referral_answer(struct server *srv, struct case_info *c, int accept,
    int64_t referral, void *origin)
{
	struct referral r;
	int rc, joined, yes = 0;

	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return OFR_E_BAD_STATE;		/* closed, or waiting again */
	rc = store_referral_open(srv->st, c->id, &r);
	if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
	    (r.status != REFERRAL_PROPOSED ||
	    (referral != 0 && r.id != referral))))
		return OFR_E_BAD_STATE;
	if (rc != 0)
		return rc;
	if (accept) {		/* only into an active partnership */
		if ((rc = live(srv, c, &r, &yes)) != 0)
			return rc;
		if (!yes)
			return OFR_E_BAD_STATE;
	}
	if ((rc = store_referral_answer(srv->st, r.id, accept ?
	    REFERRAL_ACCEPTED : REFERRAL_DECLINED, srv->now)) != 0)
		return rc;
	r.status = accept ? REFERRAL_ACCEPTED : REFERRAL_DECLINED;
	if (accept && (rc = intake(srv, c, &r, &joined)) != 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

/* Open referral r of c ends in status; its partner counsellor, if it
 * joined and is still in c, leaves for why (1 in *left: the caller
 * tells left) and has its place back. */
static int
end_open(struct server *srv, struct case_info *c, const struct referral *r,
    int status, int why, int *left)
{
	int rc;

	*left = 0;
	if ((rc = store_referral_end(srv->st, r->id, status, srv->now)) != 0)
		return rc;
	if (r->receiver == 0)
		return 0;
	if ((rc = store_case_has_participant(srv->st, c->id, r->receiver,
	    left)) != 0)
		return rc;
	if (*left && ((rc = store_member_drop(srv->st, c->id, r->receiver,
	    why, srv->now)) != 0 || (rc = reread(srv, c)) != 0))
		return rc;
	return pool_refresh(srv, r->receiver);
}

int
casework_referral_withdraw(struct server *srv, struct case_info *c, int64_t asker,
    void *origin)
{
	struct referral r;
	int rc, left;

	if (asker != c->client && asker != c->counsellor)
		return OFR_E_FORBIDDEN;
	rc = store_referral_open(srv->st, c->id, &r);
	if (rc == OFR_E_NOT_FOUND)
		return OFR_E_BAD_STATE;
	if (rc != 0)
		return rc;
	/* The client's withdrawal before its yes is its no. */
	if (asker == c->client && r.status == REFERRAL_PROPOSED) {
		if ((rc = store_referral_answer(srv->st, r.id,
		    REFERRAL_DECLINED, srv->now)) != 0)
			return rc;
		return srv->notify->changed(srv, c, origin);
	}
	if ((rc = end_open(srv, c, &r, asker == c->client ?
	    REFERRAL_WITHDRAWN : REFERRAL_CANCELLED, LEFT_REMOVED,
	    &left)) != 0)
		return rc;
	/* The partner counsellor has room again: the rematch before
	 * anyone is told, as casework_close()'s (a withdrawal it undoes is
	 * told to nobody). */
	if (left && (rc = casework_rematch(srv, r.receiver)) != 0)
		return rc;
	if (left)
		srv->notify->left(srv, c, r.receiver, origin);
	return srv->notify->changed(srv, c, origin);
}

/* The open referral of c in status accepted with its partner counsellor
 * in c, joined, and living (live(): else OFR_E_BAD_STATE). */
static int
accepted(struct server *srv, const struct case_info *c, struct referral *r)
{
	struct participant p[MODEL_PARTICIPANTS_MAX];
	size_t n;
	int rc, yes = 0;

	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return OFR_E_BAD_STATE;
	rc = store_referral_open(srv->st, c->id, r);
	if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
	    (r->status != REFERRAL_ACCEPTED || r->receiver == 0)))
		return OFR_E_BAD_STATE;
	if (rc != 0 || (rc = live(srv, c, r, &yes)) != 0)
		return rc;
	if (!yes)
		return OFR_E_BAD_STATE;	/* the partnership ended, or the
					   case is another programme's */
	if ((rc = store_case_participants(srv->st, c->id, p,
	    MODEL_PARTICIPANTS_MAX, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (p[i].account == r->receiver)
			return p[i].joining ? OFR_E_BAD_STATE : 0;
	return OFR_E_BAD_STATE;			/* it was removed */
}

int
casework_referral_approve(struct server *srv, struct case_info *c,
    const uint8_t digest[REFERRAL_DIGEST_BYTES], void *origin)
{
	struct referral r;
	int rc;

	if ((rc = accepted(srv, c, &r)) != 0)
		return rc;
	if (r.summary_sent)
		return OFR_E_BAD_STATE;
	if ((rc = store_referral_approve(srv->st, r.id, digest)) != 0)
		return rc;
	return srv->notify->changed(srv, c, origin);
}

int
casework_referral_summary(struct server *srv, const struct case_info *c,
    int64_t sender, int64_t to)
{
	struct referral r;
	int rc;

	if (sender != c->counsellor)
		return OFR_E_FORBIDDEN;
	rc = store_referral_open(srv->st, c->id, &r);
	if (rc == OFR_E_NOT_FOUND || (rc == 0 && (!r.approved ||
	    r.summary_sent || r.status != REFERRAL_ACCEPTED)))
		return OFR_E_BAD_STATE;
	if (rc != 0)
		return rc;
	if (to != r.receiver)
		return OFR_E_BAD_RECIPIENTS;	/* the partner's alone */
	if ((rc = accepted(srv, c, &r)) != 0)
		return rc;
	return store_referral_summary_sent(srv->st, r.id);
}

int
casework_referral_complete(struct server *srv, struct case_info *c,
    int64_t counsellor, void *origin)
{
	int64_t ids[MODEL_PARTICIPANTS_MAX], old = c->counsellor;
	struct referral r;
	size_t n;
	int rc;

	if (counsellor != c->counsellor)
		return OFR_E_FORBIDDEN;
	if (c->status != CASE_ACTIVE && c->status != CASE_PAUSED)
		return OFR_E_BAD_STATE;
	if ((rc = accepted(srv, c, &r)) != 0)
		return rc;
	if (!r.summary_sent)
		return OFR_E_BAD_STATE;
	/* The receiver's caseload keeps its size: the case held a place in
	 * it since the join, as the referral's, and now as its own. */
	/* The colleagues A's counsellor brought leave with it. */
	if ((rc = store_case_colleagues(srv->st, c->id, ids,
	    MODEL_PARTICIPANTS_MAX, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == r.receiver)
			continue;
		if ((rc = store_member_drop(srv->st, c->id, ids[i],
		    LEFT_REFERRAL, srv->now)) != 0 ||
		    (rc = reread(srv, c)) != 0)
			return rc;
		srv->notify->left(srv, c, ids[i], origin);
	}
	if ((rc = store_case_handover(srv->st, c->id, r.receiver, r.to,
	    srv->now)) != 0 ||
	    (rc = store_referral_end(srv->st, r.id, REFERRAL_COMPLETED,
	    srv->now)) != 0 ||
	    (rc = reread(srv, c)) != 0 ||
	    (rc = pool_refresh(srv, old)) != 0 ||
	    (rc = pool_refresh(srv, r.receiver)) != 0)
		return rc;
	/* A's counsellor has the case's place back: a case waiting for it
	 * has it now, as at a close (casework_close) */
	if ((rc = casework_rematch(srv, old)) != 0)
		return rc;
	srv->notify->left(srv, c, old, origin);
	return srv->notify->changed(srv, c, origin);
}

int
casework_referral_partnership_ended(struct server *srv, int64_t a, int64_t b)
{
	int64_t ids[CANCEL_BATCH];
	struct case_info c;
	struct referral r;
	size_t n;
	int rc, left, room = 0;

	/* Each pass cancels what it read: the next reads the rest. */
	do {
		/* under the cases' locks (several nodes), taken in the
		 * order of their ids, as a disable takes them: an answer
		 * under way at another node, which holds one, is read once
		 * it is committed (its partner counsellor in the case, to
		 * take out); one that ended the referral meanwhile leaves
		 * nothing of this pair open there */
		if ((rc = store_referrals_of_pair(srv->st, a, b, ids,
		    CANCEL_BATCH, &n)) != 0 ||
		    (rc = casework_lock_cases(srv, ids, n)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			if ((rc = store_case_get(srv->st, ids[i], &c)) != 0)
				return rc;
			rc = store_referral_open(srv->st, c.id, &r);
			if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
			    !((r.from == a && r.to == b) ||
			    (r.from == b && r.to == a))))
				continue;
			if (rc != 0 || (rc = end_open(srv, &c, &r,
			    REFERRAL_CANCELLED, LEFT_PARTNERSHIP, &left)) != 0)
				return rc;
			if (left)
				srv->notify->left(srv, &c, r.receiver, NULL);
			if ((rc = srv->notify->changed(srv, &c, NULL)) != 0)
				return rc;
			room |= left;
		}
	} while (n == CANCEL_BATCH);
	/* Partner counsellors have room again: one rematch for them all
	 * (after the pushes of the cases, as a failure of the passes
	 * after the first already was). */
	return room ? casework_rematch(srv, 0) : 0;
}
