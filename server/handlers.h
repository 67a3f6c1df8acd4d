/*
 * handlers.h: one function per request type of PROTOCOL.md, grouped by area
 * (auth.c, cases.c, caseload.c, relay.c, admin.c, keys.c, partners.c) and
 * dispatched from the table in dispatch.c, which has already checked the
 * caller's role. A handler checks every field before it changes anything, leaves
 * what a change of cases or counsellors does to casework.c, queues its
 * answer with session_reply() (or through struct cases_answer, when
 * casework reports the change) and returns 0, or returns a negative code of
 * proto/err.h (the dispatcher sends the error frame and undoes the
 * request's writes). Handlers never call dispatch.c or ws.c.
 */
#ifndef OFFRAMP_HANDLERS_H
#define OFFRAMP_HANDLERS_H

#include "proto/frame.h"
#include "proto/pow.h"
#include "session.h"

/* auth.c */
int auth_ping(struct session *s, struct frame_in *in);
/* Checks the proof of work of purpose for key (field "pow") against the
 * session's nonce and the difficulty announced with it (at least the
 * difficulty now less one bit): 0 when it is enough, or none is asked.
 * Else OFR_E_POW_REQUIRED (a fresh challenge follows the error, with the
 * difficulty now; a connection not logged in gets INTAKE_SOLVE_SECS
 * more to log in), or OFR_E_BAD_FIELD ("pow" not an integer 0..2^53-1). */
int auth_pow(struct session *s, struct frame_in *in,
    enum ofr_pow_purpose purpose, const uint8_t key[OFR_PK_BYTES]);
int auth_login(struct session *s, struct frame_in *in);
int auth_redeem(struct session *s, struct frame_in *in);
int auth_account_delete(struct session *s, struct frame_in *in);
/* Makes sure there is an admin or a fresh bootstrap invite; writes the
 * token to *token_out (capacity OFR_INVITE_STR_MAX), or "" when an admin
 * exists. Commits. */
int auth_bootstrap(struct server *srv, const char *programme_name,
    char *token_out);
/* Operator's tool: adds a programme and an invite for its first admin
 * (token_out, capacity OFR_INVITE_STR_MAX). Commits. */
int auth_new_programme(struct server *srv, const char *name,
    char *token_out);
/* The account object of PROTOCOL.md. New reference, NULL on OOM. */
json_t *auth_account_json(const struct account *a);
const char *auth_role_name(int role);

/* cases.c */
int cases_request(struct session *s, struct frame_in *in);
int cases_list(struct session *s, struct frame_in *in);
int cases_close(struct session *s, struct frame_in *in);
int cases_reassign(struct session *s, struct frame_in *in);
/* Co-counselling (PROTOCOL.md, "Co-counselling"). */
int cases_invite(struct session *s, struct frame_in *in);
int cases_remove(struct session *s, struct frame_in *in);
int cases_seen(struct session *s, struct frame_in *in);
/* An admin's view of its programme's waiting queue, and assigning a
 * waiting case to one of its counsellors (PROTOCOL.md, "No stranded
 * case"). */
int cases_waiting(struct session *s, struct frame_in *in);
int cases_assign(struct session *s, struct frame_in *in);
/* A request that asks casework to change a case passes one of these as the
 * origin: when the case has changed, the caller is answered with a frame
 * of type type, with the case, and the other participants are told. */
struct cases_answer {
	struct session *s;
	struct frame_in *in;
	const char *type;
};
/* What casework reports (casework.h), for srv->notify: a changed case is
 * pushed to every participant, and answers the request that changed it;
 * a counsellor who left a case is told, with the case as it left it. */
extern const struct casework_notify cases_notify;
/* Reads field "case" and gets that case if the caller participates in it;
 * OFR_E_NOT_FOUND if not (the same answer as for no such case). On
 * several nodes the case is locked first (store_case_lock), for a request
 * that may change it; cases_own_read reads it as it is. */
int cases_own(struct session *s, struct frame_in *in, struct case_info *c);
int cases_own_read(struct session *s, struct frame_in *in,
    struct case_info *c);
/* The case object of PROTOCOL.md as viewer (an account id, 0: anyone)
 * sees it. New reference, NULL on failure. */
json_t *cases_json(struct server *srv, const struct case_info *c,
    int64_t viewer);
/* An entry of a queue (case.queue, case.waiting): waiting case c (r
 * NULL) as cases_json shows it to anyone, with "waiting", now - since;
 * or the case of referral r waiting at the caller's programme, of which
 * the entry shows only what the queue shows of a waiting case's request,
 * "referred_by" and "waiting" since the client accepted. New reference,
 * NULL on failure. */
json_t *cases_queue_json(struct server *srv, const struct case_info *c,
    const struct referral *r, int64_t since);
/* The referral object of case c (its newest referral; JSON null when it
 * has none), and in *receiver the partner's counsellor while the
 * referral is accepted (0: none). New reference, NULL on OOM. */
json_t *cases_referral_json(struct server *srv, const struct case_info *c,
    int64_t *receiver);

/* caseload.c */
int caseload_pause(struct session *s, struct frame_in *in);
int caseload_resume(struct session *s, struct frame_in *in);
int caseload_reopen(struct session *s, struct frame_in *in);
int caseload_queue(struct session *s, struct frame_in *in);
int caseload_take(struct session *s, struct frame_in *in);
int caseload_note_add(struct session *s, struct frame_in *in);
int caseload_note_list(struct session *s, struct frame_in *in);

/* relay.c */
int relay_send(struct session *s, struct frame_in *in);
int relay_ack(struct session *s, struct frame_in *in);
/* Queues s's stored messages after its cursor, within its window. */
void relay_pump(struct session *s);
/* Queues msg.delivered (case_id, mid, to: the recipient's key) to every
 * session of sender, held until the commit: the relay's own, and another
 * node's delivery (cluster.c). */
void relay_tell_delivered(int64_t sender, int64_t case_id,
    const uint8_t mid[OFR_MID_BYTES], const uint8_t to[OFR_PK_BYTES]);

/* admin.c */
int admin_invite_create(struct session *s, struct frame_in *in);
int admin_profile_set(struct session *s, struct frame_in *in);
int admin_counsellor_list(struct session *s, struct frame_in *in);
int admin_counsellor_update(struct session *s, struct frame_in *in);
int admin_counsellor_disable(struct session *s, struct frame_in *in);
int admin_counsellor_delete(struct session *s, struct frame_in *in);
int admin_counsellor_enable(struct session *s, struct frame_in *in);
int admin_admin_disable(struct session *s, struct frame_in *in);
int admin_admin_enable(struct session *s, struct frame_in *in);
int admin_pool_stats(struct session *s, struct frame_in *in);
int admin_audit_list(struct session *s, struct frame_in *in);
int admin_programme_set(struct session *s, struct frame_in *in);
int admin_programme_list(struct session *s, struct frame_in *in);
/* Writes an entry of the caller's programme's audit log. */
int admin_audit(struct session *s, const char *action, int64_t target,
    const char *detail);
/* A programme's public profile object. New reference, NULL on OOM. */
json_t *admin_programme_json(const struct programme *p);

/* Programme figures: a count of people under FIGURES_MIN is never given
 * exactly (PROTOCOL.md, "Figures"). figure_count gives n, or null for
 * 0..FIGURES_MIN-1 (admin.c). New reference. */
#define FIGURES_MIN	5
json_t *figure_count(int64_t n);

/* feedback.c */
int feedback_keys(struct session *s, struct frame_in *in);
int feedback_send(struct session *s, struct frame_in *in);
int feedback_list(struct session *s, struct frame_in *in);
int feedback_admin_cert(struct session *s, struct frame_in *in);

/* partners.c */
int partners_propose(struct session *s, struct frame_in *in);
int partners_accept(struct session *s, struct frame_in *in);
int partners_end(struct session *s, struct frame_in *in);
int partners_list(struct session *s, struct frame_in *in);
int partners_directory(struct session *s, struct frame_in *in);
int partners_case_referred(struct session *s, struct frame_in *in);
int partners_external_set(struct session *s, struct frame_in *in);
int partners_external_remove(struct session *s, struct frame_in *in);

/* referrals.c (PROTOCOL.md, "Referrals") */
int referrals_propose(struct session *s, struct frame_in *in);
int referrals_answer(struct session *s, struct frame_in *in);
int referrals_withdraw(struct session *s, struct frame_in *in);
int referrals_approve(struct session *s, struct frame_in *in);
int referrals_summary(struct session *s, struct frame_in *in);
int referrals_complete(struct session *s, struct frame_in *in);
int referrals_stats(struct session *s, struct frame_in *in);

/* keys.c */
int keys_upload(struct session *s, struct frame_in *in);
int keys_get(struct session *s, struct frame_in *in);
int keys_programme_set(struct session *s, struct frame_in *in);
int keys_programme_get(struct session *s, struct frame_in *in);
int keys_programme_rotate(struct session *s, struct frame_in *in);
int keys_programme_revoke(struct session *s, struct frame_in *in);
int keys_programme_partner(struct session *s, struct frame_in *in);
int keys_pending(struct session *s, struct frame_in *in);
int keys_certify(struct session *s, struct frame_in *in);
/* Queues prekeys.low for a session that just logged in, when its stock of
 * prekeys is low (created: its account was made by this login, so it has
 * none). */
void keys_after_login(struct session *s, int created);

#endif
