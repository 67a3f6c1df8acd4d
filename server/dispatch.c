/*
 * dispatch.c: the table of request types and the path of one request
 * (dispatch.h). Handlers sit below it and never call it; it reaches the
 * store and the pool only through casework's unit of work.
 */
#include <string.h>

#include "casework.h"
#include "dispatch.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "mono.h"
#include "proto/err.h"
#include "session.h"

#define STRIKES_MAX	16	/* errors before the connection closes */
#define RATE		2000	/* frames per second, on average */
#define BURST		4000

enum {
	R_PRE = 1 << 0,			/* before login */
	R_CLIENT = 1 << ROLE_CLIENT,
	R_COUNSELLOR = 1 << ROLE_COUNSELLOR,
	R_ADMIN = 1 << ROLE_ADMIN,
	R_USER = R_CLIENT | R_COUNSELLOR | R_ADMIN,
	R_ANY = R_PRE | R_USER,
};

/* W: a request a person makes, never one a client sends by itself (a
 * ping, an ack, prekeys, lists it refreshes): from a counsellor, it shows
 * it is at work (casework_work), so idleness is measured by these. */
#define W	1

static const struct handler {
	const char *type;
	unsigned roles;
	int (*fn)(struct session *, struct frame_in *);
	int work;
} handlers[] = {
	{ "ping",		R_ANY,			auth_ping, 0 },
	{ "login",		R_PRE,			auth_login, 0 },
	{ "redeem",		R_PRE,			auth_redeem, 0 },
	{ "account.delete",	R_CLIENT,		auth_account_delete, 0 },
	{ "case.request",	R_CLIENT,		cases_request, 0 },
	{ "case.list",		R_CLIENT | R_COUNSELLOR, cases_list, 0 },
	{ "case.close",		R_CLIENT | R_COUNSELLOR, cases_close, W },
	{ "case.reassign",	R_CLIENT,		cases_reassign, 0 },
	{ "case.invite",	R_COUNSELLOR,		cases_invite, W },
	{ "case.remove",	R_CLIENT | R_COUNSELLOR, cases_remove, W },
	{ "case.seen",		R_CLIENT | R_COUNSELLOR, cases_seen, 0 },
	{ "case.pause",		R_COUNSELLOR,		caseload_pause, W },
	{ "case.resume",	R_COUNSELLOR,		caseload_resume, W },
	{ "case.reopen",	R_COUNSELLOR,		caseload_reopen, W },
	{ "case.queue",		R_COUNSELLOR,		caseload_queue, W },
	{ "case.take",		R_COUNSELLOR,		caseload_take, W },
	{ "note.add",		R_COUNSELLOR,		caseload_note_add, W },
	{ "note.list",		R_COUNSELLOR,		caseload_note_list, W },
	{ "msg.send",		R_CLIENT | R_COUNSELLOR, relay_send, W },
	{ "msg.ack",		R_USER,			relay_ack, 0 },
	{ "profile.set",	R_COUNSELLOR,		admin_profile_set, W },
	{ "invite.create",	R_ADMIN,		admin_invite_create, 0 },
	{ "prekeys.upload",	R_USER,			keys_upload, 0 },
	{ "prekeys.get",	R_CLIENT | R_COUNSELLOR, keys_get, 0 },
	{ "programme.key.set",	R_ADMIN,		keys_programme_set, 0 },
	{ "programme.get",	R_USER,			keys_programme_get, 0 },
	{ "programme.key.rotate", R_ADMIN,		keys_programme_rotate, 0 },
	{ "programme.revoke",	R_ADMIN,		keys_programme_revoke, 0 },
	{ "programme.partner",	R_ADMIN,		keys_programme_partner, 0 },
	{ "counsellor.pending",	R_ADMIN,		keys_pending, 0 },
	{ "counsellor.certify",	R_ADMIN,		keys_certify, 0 },
	{ "counsellor.list",	R_ADMIN,		admin_counsellor_list, 0 },
	{ "counsellor.update",	R_ADMIN,		admin_counsellor_update, 0 },
	{ "counsellor.disable",	R_ADMIN,		admin_counsellor_disable, 0 },
	{ "counsellor.delete",	R_ADMIN,		admin_counsellor_delete, 0 },
	{ "case.waiting",	R_ADMIN,		cases_waiting, 0 },
	{ "case.assign",	R_ADMIN,		cases_assign, 0 },
	{ "counsellor.enable",	R_ADMIN,		admin_counsellor_enable, 0 },
	{ "admin.disable",	R_ADMIN,		admin_admin_disable, 0 },
	{ "admin.enable",	R_ADMIN,		admin_admin_enable, 0 },
	{ "pool.stats",		R_ADMIN,		admin_pool_stats, 0 },
	{ "audit.list",		R_ADMIN,		admin_audit_list, 0 },
	{ "feedback.keys",	R_CLIENT,		feedback_keys, 0 },
	{ "feedback.send",	R_CLIENT,		feedback_send, 0 },
	{ "feedback.list",	R_ADMIN,		feedback_list, 0 },
	{ "admin.certify",	R_ADMIN,		feedback_admin_cert, 0 },
	{ "programme.set",	R_ADMIN,		admin_programme_set, 0 },
	{ "programme.list",	R_USER,			admin_programme_list, 0 },
	{ "partnership.propose", R_ADMIN,		partners_propose, 0 },
	{ "partnership.accept",	R_ADMIN,		partners_accept, 0 },
	{ "partnership.end",	R_ADMIN,		partners_end, 0 },
	{ "partnership.list",	R_ADMIN,		partners_list, 0 },
	{ "partner.directory",	R_COUNSELLOR | R_ADMIN,	partners_directory, W },
	{ "case.referred",	R_COUNSELLOR,		partners_case_referred, W },
	{ "partner.external.set", R_ADMIN,		partners_external_set, 0 },
	{ "partner.external.remove", R_ADMIN,		partners_external_remove, 0 },
	{ "referral.propose",	R_COUNSELLOR,		referrals_propose, W },
	{ "referral.answer",	R_CLIENT,		referrals_answer, 0 },
	{ "referral.withdraw",	R_CLIENT | R_COUNSELLOR, referrals_withdraw, W },
	{ "referral.approve",	R_CLIENT,		referrals_approve, 0 },
	{ "referral.summary",	R_COUNSELLOR,		referrals_summary, W },
	{ "referral.complete",	R_COUNSELLOR,		referrals_complete, W },
	{ "referral.stats",	R_ADMIN,		referrals_stats, 0 },
};

/* Sends an error frame; the connection closes at STRIKES_MAX. */
static void
reply_error(struct session *s, int64_t re, int err, const char *field)
{
	if (err <= OFR_E_NOMEM)
		err = OFR_E_INTERNAL;	/* local codes never reach the wire */
	metrics_error(err);
	session_reply(s, frame_error(re, err, field));
	if (err == OFR_E_INTERNAL || err == OFR_E_STORAGE_FULL ||
	    err == OFR_E_UNAVAILABLE)
		return;		/* the server's fault: no strike */
	if (++s->strikes >= STRIKES_MAX && s->close_code == 0) {
		log_info("dispatch: closing a connection after %d errors",
		    s->strikes);
		s->close_code = 1008;
	}
}

/* Token bucket: 1 if the frame may pass. */
static int
rate_ok(struct session *s)
{
	int64_t t = mono_ms();

	if (s->tokens_ms == 0) {	/* the first frame: a full bucket */
		s->tokens = BURST;
		s->tokens_ms = t;
	}
	s->tokens += (double)(t - s->tokens_ms) * RATE / 1000.0;
	if (s->tokens > BURST)
		s->tokens = BURST;
	s->tokens_ms = t;
	if (s->tokens < 1.0)
		return 0;
	s->tokens -= 1.0;
	return 1;
}

/* The counsellor of s is at work: back from idle, waiting cases are
 * matched to it, in a unit of work of its own (the request's failing
 * does not undo it). */
static void
at_work(struct session *s)
{
	int rc;

	casework_begin(s->srv);
	rc = casework_work(s->srv, s->acct.id);
	casework_end(s->srv, rc == 0);
	if (rc != 0)
		log_warn("dispatch: cannot match the queue for a counsellor "
		    "back at work: %s", err_str(rc));
}

static const struct handler *
find_handler(const char *type)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].type, type) == 0)
			return &handlers[i];
	return NULL;
}

void
dispatch_frame(struct session *s, const char *buf, size_t len, int binary)
{
	struct frame_in in;
	const struct handler *h;
	unsigned role;
	int rc;

	metrics_frame();
	if (s->close_code != 0)
		return;			/* closing: input is ignored */
	if (!rate_ok(s)) {
		reply_error(s, 0, OFR_E_RATE_LIMITED, NULL);
		return;
	}
	if (binary) {
		reply_error(s, 0, OFR_E_BAD_JSON, NULL);
		return;
	}
	if ((rc = frame_in_parse(&in, buf, len)) != 0)
		goto fail;
	if ((h = find_handler(in.type)) == NULL) {
		rc = OFR_E_UNKNOWN_TYPE;
		goto fail;
	}
	metrics_request(h->type);
	if (in.id == 0) {
		in.bad_field = "id";
		rc = OFR_E_BAD_FIELD;
		goto fail;
	}
	if (s->dropped_by != 0) {
		/* its account is dropped by this turn's commit: nothing more
		 * of it runs (should the commit fail, it may ask again) */
		rc = OFR_E_UNAVAILABLE;
		goto fail;
	}
	role = s->acct.id == 0 ? R_PRE : 1u << s->acct.role;
	if (!(h->roles & role)) {
		rc = s->acct.id == 0 ? OFR_E_NOT_LOGGED_IN :
		    (h->roles == R_PRE ? OFR_E_ALREADY_LOGGED_IN :
		    OFR_E_FORBIDDEN);
		goto fail;
	}

	if (h->work && s->acct.role == ROLE_COUNSELLOR)
		at_work(s);
	casework_begin(s->srv);
	rc = h->fn(s, &in);
	casework_end(s->srv, rc == 0);
	if (rc != 0)
		goto fail;
	if (s->strikes > 0)
		s->strikes--;
	frame_in_clear(&in);
	return;
fail:
	reply_error(s, in.id, rc, rc == OFR_E_BAD_FIELD ? in.bad_field : NULL);
	if (s->rechallenge) {
		s->rechallenge = 0;
		session_challenge(s);
	}
	frame_in_clear(&in);
}

void
dispatch_oversize(struct session *s)
{
	metrics_frame();
	if (s->close_code != 0)
		return;
	metrics_error(OFR_E_TOO_BIG);
	session_reply(s, frame_error(0, OFR_E_TOO_BIG, NULL));
	s->close_code = 1009;
}

void
dispatch_over_budget(struct session *s)
{
	metrics_frame();
	if (s->close_code != 0)
		return;
	reply_error(s, 0, OFR_E_RATE_LIMITED, NULL);
}
