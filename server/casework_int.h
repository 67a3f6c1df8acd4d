/*
 * casework_int.h: the domain layer's private header, for casework.c and
 * casework_referral.c and nothing else: what one part of the module asks
 * of the other.
 */
#ifndef OFFRAMP_CASEWORK_INT_H
#define OFFRAMP_CASEWORK_INT_H

#include <stdint.h>

#include "match.h"
#include "model.h"

struct server;

/* Matches every accepted referral waiting for a partner counsellor (at
 * most a batch), as the rematch does for waiting cases
 * (casework_referral.c). 0 or a negative code. */
int casework_referral_rematch(struct server *srv);

#define CASEWORK_CLAIM_TRIES	8	/* counsellors claimed for one case */

/*
 * Several nodes: locks counsellor id in the store until the commit and
 * reads it back into the pool, so that what the pool says of it is the
 * store's, and stays so until this node's commit (casework.c). 1 when it
 * fits rq (rq NULL: when it has room), 0 when it no longer does, or a
 * negative code (OFR_E_UNAVAILABLE: the lock was not had in time). On
 * SQLite the pool is the truth: 1, with nothing read.
 */
int casework_claim(struct server *srv, int64_t id,
    const struct match_request *rq);

/* 1 in *yes when c's open referral is accepted to programme and waits
 * there for its counsellor: c active or paused, nobody chosen, the
 * partnership still active; r filled then. 0 or a negative code. */
int casework_referral_waiting_at(struct server *srv, const struct case_info *c,
    int64_t programme, struct referral *r, int *yes);
#define CASE_STAYS_MAX	64	/* stays in a case's history */
#define CASE_REFERRALS_MAX 32	/* referrals in a case's history */

/* 1 in *yes when one more participant fits in c with keep places kept
 * (0 or 1): fewer than MODEL_PARTICIPANTS_MAX participants (one copy
 * each in msg.send), after it; and, for one invited (invited 1), fewer
 * than CASE_STAYS_MAX stays in its history (present and former
 * participants, which invitations and removals could grow without end).
 * A referral's partner counsellor (invited 0) joins once a referral, as
 * a move brings one counsellor: the history does not hold it back (it
 * would wait for ever: stays are never taken out). A case over the
 * bound already has no room. 0 or a negative code. */
int casework_room(struct server *srv, const struct case_info *c, int keep,
    int invited, int *yes);
/* 1 in *keep when c's open referral waits for its partner counsellor to
 * join (proposed, or accepted with nobody chosen): the case keeps it a
 * place (case.invite). 0 or a negative code. */
int casework_referral_keeps_place(struct server *srv,
    const struct case_info *c, int *keep);
#define CASE_SENT_AWAY_MAX	64	/* counsellors a request never goes to */

/* A waiting case's or referral's request, and the counsellors sent away
 * from the case that it never goes to (store_case_sent_away). */
struct case_request {
	struct match_request rq;	/* rq.banned points into sent_away */
	int64_t sent_away[CASE_SENT_AWAY_MAX];
};

/* The request the partner's counsellors of waiting referral r of c are
 * matched by: c's language, topic and stated preferences, r's partner
 * programme, never c's counsellor, nor one of the partner's that
 * case.assign refuses: sent away from c (store_case_sent_away). Filled
 * in place (out->rq points into out).
 * 0 or a negative code. */
int casework_referral_request(struct server *srv, const struct case_info *c,
    const struct referral *r, struct case_request *out);
/* counsellor, of r's partner programme, joins c as waiting referral r's
 * counsellor, joining until everyone confirmed it, as a matched one
 * does; c read back. Tells changed. The caller claimed counsellor
 * (casework_claim: case.take), or an admin chose it. OFR_E_NOT_FOUND,
 * nothing written, when r waits no more (several nodes: another node
 * gave it a counsellor, or ended it, since the caller read it). */
int casework_referral_join(struct server *srv, struct case_info *c,
    const struct referral *r, int64_t counsellor, void *origin);
/* counsellor left c not by a choice of the case's people (disabled,
 * deleted, or with c's counsellor moved): if it was the partner
 * counsellor of c's accepted referral, the referral waits again at the
 * partner's intake, and the approved summary may go, once, to the next
 * one. 0 or a negative code. */
int casework_referral_release(struct server *srv, const struct case_info *c,
    int64_t counsellor);
/* The partner counsellor of c's accepted referral in *receiver, 0 when
 * c has none: it holds a place in that counsellor's caseload while c is
 * open, so the pool reads it again when c closes or opens again. 0 or a
 * negative code. */
int casework_referral_receiver(struct server *srv, const struct case_info *c,
    int64_t *receiver);
/* Locks the rows of cases ids[0..n) (several nodes: store_case_lock) in
 * the order of their ids, which it sorts: two requests that lock a batch
 * of cases each, at two nodes, never wait for each other in a circle
 * over them (past a batch, a request that reads the next in the order of
 * the case ids keeps to it). 0, or the store's code. */
int casework_lock_cases(struct server *srv, int64_t *ids, size_t n);

#endif
