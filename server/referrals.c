/*
 * referrals.c: referrals and the warm handover on the wire (PROTOCOL.md,
 * "Referrals"): the requests of the proposing counsellor, the client's
 * consent, approval and withdrawal, the summary's one copy, the handover,
 * the referral object inside a case object, and a programme's referral
 * figures. It reads frames and writes answers; what a referral does to a
 * case is casework_referral.c's. It never sees a reason, an offer or a summary in
 * plaintext: they travel encrypted between the clients.
 */
#include <string.h>

#include "handlers.h"
#include "casework.h"
#include "metrics.h"
#include "proto/err.h"
#include "store.h"

#define FIGURES_DAYS	365	/* the figures' window */

int
referrals_propose(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "referral.propose.ok" };
	struct case_info c;
	int64_t partner;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0 ||
	    (rc = frame_int(in, "partner", 1, OFR_ID_MAX, 1, &partner)) != 0)
		return rc;
	return casework_referral_propose(s->srv, &c, s->acct.id, partner, &a);
}

int
referrals_answer(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "referral.answer.ok" };
	struct case_info c;
	int64_t referral = 0;		/* the one the client read; 0: any */
	int rc, accept;

	if ((rc = cases_own(s, in, &c)) != 0 ||
	    (rc = frame_bool(in, "accept", 1, &accept)) != 0 ||
	    (rc = frame_int(in, "referral", 1, OFR_ID_MAX, 0,
	    &referral)) != 0)
		return rc;
	if (c.client != s->acct.id)
		return OFR_E_FORBIDDEN;
	return casework_referral_answer(s->srv, &c, accept, referral, &a);
}

int
referrals_withdraw(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "referral.withdraw.ok" };
	struct case_info c;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0)
		return rc;
	return casework_referral_withdraw(s->srv, &c, s->acct.id, &a);
}

int
referrals_approve(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "referral.approve.ok" };
	uint8_t digest[REFERRAL_DIGEST_BYTES];
	struct case_info c;
	size_t n;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0 ||
	    (rc = frame_bin(in, "digest", sizeof(digest), sizeof(digest), 1,
	    digest, &n)) != 0)
		return rc;
	if (c.client != s->acct.id)
		return OFR_E_FORBIDDEN;
	return casework_referral_approve(s->srv, &c, digest, &a);
}

int
referrals_summary(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	uint8_t mid[OFR_MID_BYTES], to[OFR_PK_BYTES];
	const uint8_t *ct[1] = { srv->copies[0] };
	struct case_info c;
	struct account them;
	size_t n, ct_len[1];
	int64_t recipient[1];
	json_t *f;
	int rc, dup = 0;

	/* not locked: stored as msg.send stores, under the deliveries' lock,
	 * which is taken before a case's row and never after */
	if ((rc = cases_own_read(s, in, &c)) != 0 ||
	    (rc = frame_bin(in, "mid", OFR_MID_BYTES, OFR_MID_BYTES, 1, mid,
	    &n)) != 0 ||
	    (rc = frame_bin(in, "to", OFR_PK_BYTES, OFR_PK_BYTES, 1, to,
	    &n)) != 0 ||
	    (rc = frame_bin(in, "ct", 1, OFR_CT_MAX, 1, srv->copies[0],
	    &ct_len[0])) != 0)
		return rc;
	/* Who sends first: a mid is no way past a refusal. */
	if (c.counsellor != s->acct.id)
		return OFR_E_FORBIDDEN;
	/* A retry of the stored summary is answered as one (as msg.send):
	 * the sender must not think it was lost. */
	if ((rc = store_message_seen(srv->st, s->acct.id, mid, &dup)) != 0)
		return rc;
	if (!dup && store_full(srv->st))
		return OFR_E_STORAGE_FULL;
	rc = store_account_by_key(srv->st, to, &them);
	if (rc == OFR_E_NOT_FOUND)
		return OFR_E_BAD_RECIPIENTS;
	if (rc != 0)
		return rc;
	recipient[0] = them.id;
#ifdef OFFRAMP_POSTGRES
	/* Stored as msg.send stores: across nodes, copies commit in the
	 * order of their seqs (cluster.c). */
	if (!dup && (rc = store_lock(srv->st, STORE_LOCK_DELIVERIES)) != 0)
		return rc;
#endif
	if (!dup && ((rc = casework_referral_summary(srv, &c, s->acct.id,
	    them.id)) != 0 ||
	    (rc = store_message_insert(srv->st, c.id, s->acct.id, mid,
	    srv->now, recipient, ct, ct_len, 1, &dup, NULL)) != 0))
		return rc;
	if ((f = frame_new("referral.summary.ok", in->id)) == NULL ||
	    frame_set_bin(f, "mid", mid, OFR_MID_BYTES) != 0) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "dup", json_boolean(dup));
	session_reply(s, f);
	if (dup)
		return 0;
	metrics_stored(1);
	session_wake_account(them.id);
	return 0;
}

int
referrals_complete(struct session *s, struct frame_in *in)
{
	struct cases_answer a = { s, in, "referral.complete.ok" };
	struct case_info c;
	int rc;

	if ((rc = cases_own(s, in, &c)) != 0)
		return rc;
	return casework_referral_complete(s->srv, &c, s->acct.id, &a);
}

/* One side's figures: counts under FIGURES_MIN are null. */
static json_t *
side_json(const struct referral_figures *f)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "proposed", figure_count(f->proposed));
	json_object_set_new(o, "accepted", figure_count(f->accepted));
	json_object_set_new(o, "declined", figure_count(f->declined));
	json_object_set_new(o, "completed", figure_count(f->completed));
	json_object_set_new(o, "median", f->median >= 0 &&
	    f->completed >= FIGURES_MIN ? json_integer(f->median) :
	    json_null());
	return o;
}

int
referrals_stats(struct session *s, struct frame_in *in)
{
	struct referral_figures out, got;
	int64_t since = s->srv->now - FIGURES_DAYS * 86400;
	json_t *f;
	int rc;

	if ((rc = store_referral_figures(s->srv->st, s->acct.programme, 0,
	    since, &out)) != 0 ||
	    (rc = store_referral_figures(s->srv->st, s->acct.programme, 1,
	    since, &got)) != 0)
		return rc;
	if ((f = frame_new("referral.stats.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "sent", side_json(&out));
	json_object_set_new(f, "received", side_json(&got));
	json_object_set_new(f, "days", json_integer(FIGURES_DAYS));
	json_object_set_new(f, "min_count", json_integer(FIGURES_MIN));
	session_reply(s, f);
	return 0;
}
