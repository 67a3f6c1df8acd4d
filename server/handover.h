/*
 * handover.h: referrals of a case to a partner programme and the warm
 * handover (PROTOCOL.md, "Referrals"), in model types only, as casework.h
 * does for a case's life: a proposal, the client's answer, the partner's
 * intake (its matcher, restricted to the partner's counsellors), the
 * partner's counsellor joining as a participant everyone is told of, the
 * approval of the summary, and the handover itself. It never includes
 * jansson or a session header; it tells what it changed through
 * srv->notify, inside the caller's unit of work.
 *
 * Every function returns 0 or a negative code of proto/err.h, and
 * changes nothing when it refuses. c is the case as the caller read it
 * (one it participates in); on success it is the case as it is now.
 */
#ifndef OFFRAMP_HANDOVER_H
#define OFFRAMP_HANDOVER_H

#include <stdint.h>

#include "model.h"

struct server;

/* counsellor, c's assigned counsellor (else OFR_E_FORBIDDEN), proposes to
 * refer active or paused c (else OFR_E_BAD_STATE) to partner, a programme
 * in an active partnership with its own (else OFR_E_NOT_FOUND);
 * OFR_E_BAD_STATE when c has a proposed or accepted referral. Tells
 * changed. */
int handover_propose(struct server *srv, struct case_info *c,
    int64_t counsellor, int64_t partner, void *origin);
/* c's client answers its proposed referral (none: OFR_E_BAD_STATE).
 * Accepted, the case enters the partner's intake (handover_intake).
 * Tells changed. */
int handover_answer(struct server *srv, struct case_info *c, int accept,
    void *origin);
/* The client withdraws its open referral, or c's counsellor cancels it
 * (OFR_E_FORBIDDEN for anyone else; none: OFR_E_BAD_STATE); the
 * partner's counsellor, if it joined, leaves (removed). Tells changed. */
int handover_withdraw(struct server *srv, struct case_info *c, int64_t asker,
    void *origin);
/* An accepted referral of c with no partner counsellor yet gets the best
 * of the partner's counsellors that fits c's language, topic and stated
 * preferences (never c's counsellor), who joins c as a participant
 * (joining until everyone confirmed, as case.invite). *joined 1 when one
 * was found, else 0 (it waits). Tells changed when one joined. */
int handover_intake(struct server *srv, struct case_info *c, int *joined,
    void *origin);
/* Matches every accepted referral waiting for a partner counsellor
 * (at most a batch): the rematch job's. */
int handover_rematch(struct server *srv);
/* c's client approves the handover summary of this digest (the referral
 * is accepted, its partner counsellor chosen, the summary not sent:
 * else OFR_E_BAD_STATE). Tells changed. */
int handover_approve(struct server *srv, struct case_info *c,
    const uint8_t digest[REFERRAL_DIGEST_BYTES], void *origin);
/* sender may send c's approved summary to account to (the one copy):
 * sender is c's counsellor (else OFR_E_FORBIDDEN), the referral is
 * accepted, approved and its summary not sent (else OFR_E_BAD_STATE),
 * to is its partner counsellor, joined (else OFR_E_BAD_RECIPIENTS).
 * Marks it sent; the caller stores the copy in the same unit of work. */
int handover_summary(struct server *srv, const struct case_info *c,
    int64_t sender, int64_t to);
/* counsellor, c's counsellor (else OFR_E_FORBIDDEN), hands c over: the
 * referral is accepted, its partner counsellor joined and the summary
 * sent (else OFR_E_BAD_STATE). Its colleagues and then itself leave
 * (referral), the partner counsellor becomes c's counsellor, and c
 * belongs to the partner programme. Tells left, then changed. */
int handover_complete(struct server *srv, struct case_info *c,
    int64_t counsellor, void *origin);

#endif
