/*
 * casework.h: the life of a case and who works on it, in model types only.
 * casework.c owns case lifecycle (request, take, pause, resume, close,
 * reopen, reassign), assignment (matching one case, rematching the waiting
 * queue), the counsellor changes that decide matching (profile and
 * presence, certificate, disabled or enabled, a new counsellor), and the
 * unit of work that keeps the in-memory pool (pool.c, match.h) in step
 * with the store: no other module refreshes or reloads the pool. It never
 * includes jansson or a header of the session, handler or transport
 * layers, and never calls up: it tells what it changed through the table
 * srv->notify, which the layer above fills (cases.c).
 *
 * Every function returns 0 or a negative code of proto/err.h. A function
 * that changes cases does so inside the caller's unit of work
 * (casework_begin .. casework_end); a failure leaves the undoing to
 * casework_end(srv, 0).
 */
#ifndef OFFRAMP_CASEWORK_H
#define OFFRAMP_CASEWORK_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct server;

/*
 * What casework tells the layer above, at the moment each change is made,
 * so that everyone hears of changes in the order they happened. origin is
 * what the caller passed for the case it asked to change (a handler
 * answers its request there), NULL for a case the change set off (the
 * queue matched, a disabled counsellor's cases moved).
 */
struct casework_notify {
	/* Case c, as it is now, changed: tell its participants. 0, or a
	 * negative code that fails the operation. */
	int (*changed)(struct server *srv, const struct case_info *c,
	    void *origin);
	/* counsellor left case c; c is as it left it, before it is matched
	 * again (the counsellor is never told who takes it over). */
	void (*left)(struct server *srv, const struct case_info *c,
	    int64_t counsellor, void *origin);
	/* Waiting case c is at place position (1: next) of the queue: tell
	 * its client (casework_announce_queue). */
	void (*queued)(struct server *srv, const struct case_info *c,
	    int64_t position);
	/* 1 if account has a logged-in connection now, else 0. */
	int (*online)(int64_t account);
	/* The accounts of role (0: any) with a logged-in connection here,
	 * at most max into ids: how many there were (maybe more). */
	size_t (*online_ids)(int role, int64_t *ids, size_t max);
	/* A unit of work begins; it ends undone: what it told goes. */
	void (*unit_begin)(void);
	void (*unit_undo)(void);
};

/* The unit of work. */
/* Builds the pool from the store, at start. 0 or a negative code. */
int casework_load(struct server *srv);
/* Frees the pool. Harmless when none was built. */
void casework_unload(struct server *srv);
/* Begins one request or job: sets srv->now, marks the store, and starts
 * remembering the counsellors the work changes. */
void casework_begin(struct server *srv);
/* Ends it: keep 1 keeps its writes; keep 0 undoes them, reads the
 * counsellors it changed back into the pool, and takes back what it told
 * (srv->notify's unit_undo: its pushes and answers; its notes to the
 * other nodes). */
void casework_end(struct server *srv, int keep);
/* Commits the turn's writes (store_commit: the store thread syncs them);
 * when that fails nothing of the turn was kept (or, the database's
 * connection lost during the commit, maybe all of it), and the pool is
 * read back from the store, at once or, when it cannot be, at the next
 * request or job (casework_begin). 0, or the store's code. */
int casework_commit(struct server *srv);
/* Several nodes: this node's counsellors and waiting clients taken out
 * of the store's presence, as the node stops (nothing on SQLite). */
void casework_nodes_leave(struct server *srv);
/* The number of the newest commit made (store_commit_seq): what was read
 * or written so far depends on it at most. */
int64_t casework_commit_seq(const struct server *srv);
/* *seq: the newest commit on disk (store_durable). 0, or OFR_E_IO when a
 * sync failed: the server must stop without sending what waits; or
 * OFR_E_UNAVAILABLE, once, when the commits after *seq may be lost:
 * what waits for them is answered with that error. */
int casework_durable(struct server *srv, int64_t *seq);

/* Cases. c is the case as the caller read it (and checked that it may act
 * on it); on success it is updated to the case as it is now. */
/* Opens a waiting case of client (language required, topic "" for none)
 * with the intake prefs and gives it the best counsellor that fits, or
 * leaves it waiting; tells changed. OFR_E_CASE_OPEN when the client has an
 * open case. */
int casework_request(struct server *srv, int64_t client, const char *language,
    const char *topic, const struct case_prefs *prefs, void *origin);
/* Closes c (OFR_E_CASE_CLOSED when it is), tells changed, and matches the
 * queue for its counsellor, who has room again (the whole queue when it
 * had none); a failure of that matching is OFR_E_INTERNAL. */
int casework_close(struct server *srv, struct case_info *c, void *origin);
/* Takes the counsellor out of active or paused c (else OFR_E_BAD_STATE),
 * tells it (left), matches c again without it, or leaves it waiting, and
 * tells changed. */
int casework_reassign(struct server *srv, struct case_info *c, void *origin);
/* Co-counselling (PROTOCOL.md, "Co-counselling"). inviter, the assigned
 * counsellor of active or paused c (else OFR_E_FORBIDDEN, or
 * OFR_E_BAD_STATE), brings colleague, a counsellor of its programme
 * (else OFR_E_NOT_FOUND), certified and enabled (else OFR_E_FORBIDDEN),
 * into c as kind (enum member_kind, not MEMBER_OWN: else
 * OFR_E_BAD_FIELD); it joins at a new membership version and is joining
 * until every other participant's client confirmed it
 * (casework_seen). OFR_E_LIMIT when c has no room for it (its bounds, a
 * place kept for the partner counsellor of its referral yet to join).
 * Tells changed. */
int casework_invite(struct server *srv, struct case_info *c, int64_t inviter,
    int64_t colleague, int kind, void *origin);
/* Takes colleague member out of c, asked by c's client or counsellor
 * (LEFT_REMOVED) or by member itself (LEFT_LEFT); OFR_E_NOT_FOUND when
 * member is not in c, OFR_E_FORBIDDEN when it is the client or the
 * counsellor, or asker may not. Tells left, then changed. */
int casework_remove(struct server *srv, struct case_info *c, int64_t asker,
    int64_t member, void *origin);
/* account's client has shown c's membership up to version (at most
 * c->members: else OFR_E_BAD_FIELD). Tells changed. */
int casework_seen(struct server *srv, struct case_info *c, int64_t account,
    int64_t version, void *origin);
/* Active c to paused, paused c to active; else OFR_E_BAD_STATE. Tell
 * changed. */
int casework_pause(struct server *srv, struct case_info *c, void *origin);
int casework_resume(struct server *srv, struct case_info *c, void *origin);
/* Closed c back to active with its counsellor: OFR_E_BAD_STATE when c is
 * not closed, OFR_E_CASE_OPEN when its client has another open case,
 * OFR_E_LIMIT when the counsellor's caseload is full. Tells changed. */
int casework_reopen(struct server *srv, struct case_info *c, void *origin);
/* Counsellor takes waiting case case_id itself: OFR_E_NOT_FOUND when there
 * is no such waiting case (OFR_E_BAD_STATE when it is already the
 * counsellor's), OFR_E_FORBIDDEN when the counsellor may not take cases or
 * does not fit it (presence and hours aside), OFR_E_LIMIT when its
 * caseload is full. A case whose referral waits at the counsellor's
 * programme is taken as the referral's counsellor: it joins the case
 * (casework_referral_intake's way; OFR_E_LIMIT when the case has no
 * room for it). Tells changed. */
int casework_take(struct server *srv, int64_t counsellor, int64_t case_id,
    void *origin);
/* Calls fn for the waiting cases that chose programme or no programme,
 * and the cases whose accepted referral waits at programme for its
 * counsellor (r that referral; NULL for a waiting case), in queue order
 * (a referral after the waiting cases of its urgency), at most max; fn
 * returning non-zero stops and is returned. */
int casework_waiting(struct server *srv, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct case_info *c, const struct referral *r),
    void *arg);
/* An admin of programme gives waiting case case_id (one that chose
 * programme or none: else OFR_E_NOT_FOUND, as for no such case; not
 * waiting: OFR_E_BAD_STATE) to counsellor, of programme (else
 * OFR_E_NOT_FOUND), certified and enabled (else OFR_E_FORBIDDEN), and not
 * one the client asked to leave (OFR_E_FORBIDDEN); with room or not. A
 * case whose referral waits at programme: the counsellor joins it as the
 * referral's counsellor (OFR_E_LIMIT when the case has no room for it).
 * Tells changed. */
int casework_admin_assign(struct server *srv, int64_t programme,
    int64_t case_id, int64_t counsellor, void *origin);
/* Calls fn for the waiting cases and the referrals waiting at its
 * programme that counsellor fits (presence, hours and room aside), as
 * casework_waiting does; fn returning non-zero stops and is returned.
 * None when it is no counsellor of the pool. */
int casework_queue(struct server *srv, int64_t counsellor, size_t max,
    int (*fn)(void *arg, const struct case_info *c, const struct referral *r),
    void *arg);
/* Matches waiting cases in queue order and tells changed (origin NULL) for
 * each one matched; when trigger is a counsellor's id, only the cases that
 * counsellor could take now (it got room or became available). */
int casework_rematch(struct server *srv, int64_t trigger);
/* The place of waiting case case_id in the queue, in the order the
 * matcher reads it (urgency, then time of request; all waiting cases,
 * whatever programmes they could go to): 1 is next; 0 when it does not
 * wait. */
int casework_queue_position(struct server *srv, int64_t case_id,
    int64_t *position);
/* Tells queued for each waiting case, in queue order, at most the
 * first 1000: the rematch job's announcement of places. */
int casework_announce_queue(struct server *srv);
/* Closes the waiting cases whose client has had no connection (to this
 * node or, several nodes on one database, to any: store_waiting_elsewhere)
 * for intake_keep_waiting() seconds (looked at once a rematch: from the
 * first pass that finds it gone, or from when it began to wait). *n
 * gets how many. 0 or a negative code. */
int casework_expire_waiting(struct server *srv, size_t *n);
/* This node runs the jobs from now (jobs.c: at its first tick as the one
 * that runs them, at its start or when it took them over from another
 * node): the waiting clients' absence counts from now here, as
 * --keep-waiting says "from its last connection to any node" and this
 * node did not watch them before. */
void casework_jobs_here(int64_t now);
/* The preferences an intake states, as PREF_ bits. */
unsigned casework_asked(const struct case_prefs *p);

/* Referrals to a partner programme and the warm handover (PROTOCOL.md,
 * "Referrals"; casework_referral.c). c is the case as the caller read it
 * (one it participates in); nothing changes when one refuses. */
/* counsellor, c's assigned counsellor (else OFR_E_FORBIDDEN), proposes to
 * refer active or paused c (else OFR_E_BAD_STATE) to partner, a programme
 * in an active partnership with its own (else OFR_E_NOT_FOUND);
 * OFR_E_BAD_STATE when c has a proposed or accepted referral;
 * OFR_E_LIMIT when c has no room for the partner's counsellor (its
 * place is kept from then on). Tells changed. */
int casework_referral_propose(struct server *srv, struct case_info *c,
    int64_t counsellor, int64_t partner, void *origin);
/* c's client answers its proposed referral (none: OFR_E_BAD_STATE; nor
 * when referral, not 0, is not its id: the client read another).
 * Accepted, the case enters the partner's intake (casework_referral_intake).
 * Tells changed. */
int casework_referral_answer(struct server *srv, struct case_info *c, int accept,
    int64_t referral, void *origin);
/* The client withdraws its open referral, or c's counsellor cancels it
 * (OFR_E_FORBIDDEN for anyone else; none: OFR_E_BAD_STATE); the
 * partner's counsellor, if it joined, leaves (removed). Tells changed. */
int casework_referral_withdraw(struct server *srv, struct case_info *c, int64_t asker,
    void *origin);
/* An accepted referral of c with no partner counsellor yet gets the best
 * of the partner's counsellors that fits c's language, topic and stated
 * preferences (never c's counsellor), who joins c as a participant
 * (joining until everyone confirmed, as case.invite). *joined 1 when one
 * was found, else 0 (it waits). Tells changed when one joined. */
int casework_referral_intake(struct server *srv, struct case_info *c, int *joined,
    void *origin);
/* c's client approves the handover summary of this digest (the referral
 * is accepted, its partner counsellor chosen, the summary not sent:
 * else OFR_E_BAD_STATE). Tells changed. */
int casework_referral_approve(struct server *srv, struct case_info *c,
    const uint8_t digest[REFERRAL_DIGEST_BYTES], void *origin);
/* sender may send c's approved summary to account to (the one copy):
 * sender is c's counsellor (else OFR_E_FORBIDDEN), the referral is
 * accepted, approved and its summary not sent (else OFR_E_BAD_STATE),
 * to is its partner counsellor, joined (else OFR_E_BAD_RECIPIENTS).
 * Marks it sent; the caller stores the copy in the same unit of work. */
int casework_referral_summary(struct server *srv, const struct case_info *c,
    int64_t sender, int64_t to);
/* counsellor, c's counsellor (else OFR_E_FORBIDDEN), hands c over: the
 * referral is accepted, its partner counsellor joined and the summary
 * sent (else OFR_E_BAD_STATE). Its colleagues and then itself leave
 * (referral), the partner counsellor becomes c's counsellor, and c
 * belongs to the partner programme. Tells left, then changed. */
int casework_referral_complete(struct server *srv, struct case_info *c,
    int64_t counsellor, void *origin);
/* The partnership of programmes a and b ended (store_partnership_end):
 * every referral still open between them, either way, is cancelled, and
 * its partner counsellor, if it joined, leaves (partnership). Tells left,
 * then changed, of each case (origin NULL). The referral checks above
 * refuse, once a referral's partnership is not active, an acceptance,
 * an approval, the summary and the handover (OFR_E_BAD_STATE). */
int casework_referral_partnership_ended(struct server *srv, int64_t a,
    int64_t b);

/* Retention: deletes cases closed before before (a closed case's time
 * is when it closed), with everything of theirs (store_case_drop), at
 * most max; *n set. The pool follows each counsellor whose case went. */
int casework_drop_closed(struct server *srv, int64_t before, size_t max,
    size_t *n);

/* Erasure (PRIVACY.md, "Erasure"). */
/* Erases client: its open case is closed (casework_close: participants
 * are told it closed, nothing about why), then every case of its goes
 * with everything of theirs (store_case_drop), then its prekeys and its
 * account (store_account_drop). */
int casework_client_erase(struct server *srv, int64_t client);
/* Erases counsellor: its open cases go back to matching as
 * casework_disable moves them, its closed cases go as retention drops
 * them, then what it left in its former cases, its profile, prekeys and
 * account (store_account_drop); the pool forgets it. */
int casework_counsellor_erase(struct server *srv, int64_t counsellor);

/* Counsellors. */
/* Creates account *a (a counsellor; a->id set on return) and adds it to
 * the pool; it takes no case until it is certified. */
int casework_counsellor_create(struct server *srv, struct account *a);
/* Stores counsellor's profile p, and its display name when name is not
 * NULL, then matches the queue for it. */
int casework_profile_set(struct server *srv, int64_t counsellor,
    const struct profile *p, const char *name);
/* Stores the certificate the caller has checked; the counsellor may now
 * take cases, and the queue is matched for it. */
int casework_certify(struct server *srv, int64_t counsellor,
    const uint8_t cert[CERT_BYTES]);
/* Drops the certificates of programme's counsellors (only key's when key
 * is not NULL): they are matched no more until certified again. */
int casework_uncertify(struct server *srv, int64_t programme,
    const uint8_t *key);
/* Disables counsellor: its open cases go back to matching, each as
 * casework_reassign moves one (origin NULL), and it leaves the cases it
 * was brought into; a referral it was the partner counsellor of waits
 * again at the partner's intake (casework_referral_release). */
int casework_disable(struct server *srv, int64_t counsellor);
/* Enables counsellor again and matches the queue for it. */
int casework_enable(struct server *srv, int64_t counsellor);
/* Presence: a counsellor is matched while it chose online and is there
 * (presence.h): connected, and not idle. */
/* A connection of counsellor logs in: when it is there now, waiting
 * cases it fits are matched to it. Inside a unit of work. On an error
 * the connection is not counted (the login fails). */
int casework_connected(struct server *srv, int64_t counsellor);
/* A connection of counsellor closed: with its last, it is not matched. */
void casework_disconnected(struct server *srv, int64_t counsellor);
/* Counsellor made a request of its own: back from idle, waiting cases
 * are matched to it. Inside a unit of work. */
int casework_work(struct server *srv, int64_t counsellor);
/* Counsellors with no request since idle_after seconds (0: never) are
 * idle: not matched until their next request. */
void casework_age(struct server *srv, int64_t idle_after);
/* What the server sees of counsellor now, beside the presence it chose. */
struct presence_now {
	int connections;			/* logged in */
	int idle;				/* connected, but idle */
};
void casework_presence(int64_t counsellor, struct presence_now *out);

#endif
