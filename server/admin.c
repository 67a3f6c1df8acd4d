/*
 * admin.c: the programme's own tools. Admins invite counsellors and admins
 * with expiring one-time tokens (only the token's hash is stored), edit and
 * disable counsellors, see pool figures without any message content, set
 * the programme's public profile and read its audit log; counsellors set
 * their own profile. Everything acts within the caller's own programme,
 * and every admin action is written to the append-only audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casework.h"
#include "handlers.h"
#include "intake.h"
#include "log.h"
#include "profile.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "store.h"

#define INVITE_TTL_MIN		60
#define INVITE_TTL_MAX		(7 * 86400)
#define INVITE_TTL_DEFAULT	86400
#define INVITES_PENDING_MAX	1000
#define COUNSELLORS_LIST_MAX	1000
#define STATS_WINDOW		(90 * 86400)
#define STATS_MAX		10000

int
admin_audit(struct session *s, const char *action, int64_t target,
    const char *detail)
{
	return store_audit_add(s->srv->st, s->acct.programme, s->acct.id,
	    action, target, detail ? detail : "", s->srv->now);
}

int
admin_invite_create(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t token[OFR_INVITE_BYTES], hash[32];
	char text[OFR_INVITE_STR_MAX];
	const char *role_name = "counsellor";
	int64_t ttl = INVITE_TTL_DEFAULT, pending;
	json_t *f;
	int rc, role;

	if ((rc = frame_str(in, "role", 16, 0, &role_name)) != 0 ||
	    (rc = frame_int(in, "ttl", INVITE_TTL_MIN, INVITE_TTL_MAX, 0,
	    &ttl)) != 0)
		return rc;
	if (strcmp(role_name, "counsellor") == 0)
		role = ROLE_COUNSELLOR;
	else if (strcmp(role_name, "admin") == 0)
		role = ROLE_ADMIN;
	else {
		in->bad_field = "role";
		return OFR_E_BAD_FIELD;
	}
	if ((rc = store_invite_pending(st, s->acct.programme, s->srv->now,
	    &pending)) != 0)
		return rc;
	if (pending >= INVITES_PENDING_MAX)
		return OFR_E_LIMIT;

	ocrypto_invite_new(token);
	crypto_generichash(hash, sizeof(hash), token, sizeof(token), NULL, 0);
	if ((rc = store_invite_create(st, hash, s->acct.programme, role,
	    s->srv->now + ttl, s->acct.id, s->srv->now)) != 0 ||
	    (rc = admin_audit(s, "invite.create", 0, role_name)) != 0)
		return rc;
	ocrypto_invite_encode(text, token);
	sodium_memzero(token, sizeof(token));
	if ((f = frame_new("invite.create.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "invite", json_string(text));
	json_object_set_new(f, "expires", json_integer(s->srv->now + ttl));
	sodium_memzero(text, sizeof(text));
	session_reply(s, f);
	return 0;
}

/* Answers with the counsellor's profile as it is now. */
static int
reply_profile(struct session *s, struct frame_in *in, const char *type,
    int64_t id)
{
	struct counsellor c;
	json_t *f, *o;
	int rc;

	if ((rc = store_counsellor_get(s->srv->st, id, &c)) != 0)
		return rc;
	if ((f = frame_new(type, in->id)) == NULL ||
	    (o = profile_json(&c)) == NULL) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	frame_set_bin(f, "key", c.acct.key, OFR_PK_BYTES);
	json_object_set_new(f, "profile", o);
	session_reply(s, f);
	return 0;
}

/* Applies the profile fields of in to counsellor id (casework rematches). */
static int
update_profile(struct session *s, struct frame_in *in, int64_t id,
    int allow_capacity)
{
	const char *name = NULL;
	struct profile p;
	int rc;

	if ((rc = store_profile_get(s->srv->st, id, &p)) != 0 ||
	    (rc = profile_read(in, &p, &name, allow_capacity)) != 0)
		return rc;
	return casework_profile_set(s->srv, id, &p, name);
}

int
admin_profile_set(struct session *s, struct frame_in *in)
{
	int rc;

	if ((rc = update_profile(s, in, s->acct.id, 0)) != 0)
		return rc;
	return reply_profile(s, in, "profile.set.ok", s->acct.id);
}

/* The counsellor named by "key", of the admin's programme. */
static int
own_counsellor(struct session *s, struct frame_in *in, struct account *a)
{
	uint8_t key[OFR_PK_BYTES];
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0)
		return rc;
	rc = store_account_by_key(s->srv->st, key, a);
	if (rc != 0)
		return rc;
	if (a->role != ROLE_COUNSELLOR || a->programme != s->acct.programme)
		return OFR_E_NOT_FOUND;
	return 0;
}

int
admin_counsellor_update(struct session *s, struct frame_in *in)
{
	struct account a;
	int rc;

	if ((rc = own_counsellor(s, in, &a)) != 0 ||
	    (rc = update_profile(s, in, a.id, 1)) != 0 ||
	    (rc = admin_audit(s, "counsellor.update", a.id, NULL)) != 0)
		return rc;
	return reply_profile(s, in, "counsellor.update.ok", a.id);
}

int
admin_counsellor_disable(struct session *s, struct frame_in *in)
{
	struct account a;
	int rc;

	/* Its clients go back to matching, and are told. */
	if ((rc = own_counsellor(s, in, &a)) != 0 ||
	    (rc = casework_disable(s->srv, a.id)) != 0 ||
	    (rc = admin_audit(s, "counsellor.disable", a.id, NULL)) != 0)
		return rc;
	session_drop_account(a.id);
	return reply_profile(s, in, "counsellor.disable.ok", a.id);
}

/* Deletes a counsellor of the admin's programme (casework_counsellor_erase);
 * the audit entry keeps its number, with its key in the detail. */
int
admin_counsellor_delete(struct session *s, struct frame_in *in)
{
	char hex[OFR_PK_BYTES * 2 + 1];
	struct account a;
	json_t *f;
	int rc;

	if ((rc = own_counsellor(s, in, &a)) != 0 ||
	    (rc = casework_counsellor_erase(s->srv, a.id)) != 0)
		return rc;
	sodium_bin2hex(hex, sizeof(hex), a.key, OFR_PK_BYTES);
	if ((rc = admin_audit(s, "counsellor.delete", a.id, hex)) != 0)
		return rc;
	session_drop_account(a.id);
	if ((f = frame_new("counsellor.delete.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	frame_set_bin(f, "key", a.key, OFR_PK_BYTES);
	session_reply(s, f);
	return 0;
}

int
admin_counsellor_enable(struct session *s, struct frame_in *in)
{
	struct account a;
	int rc;

	if ((rc = own_counsellor(s, in, &a)) != 0 ||
	    (rc = casework_enable(s->srv, a.id)) != 0 ||
	    (rc = admin_audit(s, "counsellor.enable", a.id, NULL)) != 0)
		return rc;
	return reply_profile(s, in, "counsellor.enable.ok", a.id);
}

/* Another admin of the caller's programme, named by "key": not_found for
 * any other account (as for none), forbidden for the caller itself. */
static int
other_admin(struct session *s, struct frame_in *in, struct account *a)
{
	uint8_t key[OFR_PK_BYTES];
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0 ||
	    (rc = store_account_by_key(s->srv->st, key, a)) != 0)
		return rc;
	if (a->role != ROLE_ADMIN || a->programme != s->acct.programme)
		return OFR_E_NOT_FOUND;
	return a->id == s->acct.id ? OFR_E_FORBIDDEN : 0;
}

/*
 * On several nodes: the caller's row and a's, in the order of their ids,
 * then the caller read again. Two admins who disable each other at two
 * nodes at once: the second, once the first has committed, is disabled
 * itself and refused (forbidden), as on one node, where the first's
 * disable closes the second's connection; one admin is always left.
 */
static int
lock_both(struct session *s, const struct account *a)
{
	struct store *st = s->srv->st;
	struct account me;
	int64_t lo = a->id < s->acct.id ? a->id : s->acct.id;
	int64_t hi = a->id < s->acct.id ? s->acct.id : a->id;
	int rc;

	if (!store_shared(st))
		return 0;
	if ((rc = store_account_lock(st, lo)) != 0 ||
	    (rc = store_account_lock(st, hi)) != 0)
		return rc;
	if ((rc = store_account_by_key(st, s->acct.key, &me)) != 0)
		return rc == OFR_E_NOT_FOUND ? OFR_E_FORBIDDEN : rc;
	return me.disabled ? OFR_E_FORBIDDEN : 0;
}

static int
admin_set_disabled(struct session *s, struct frame_in *in, int disabled)
{
	const char *type = disabled ? "admin.disable" : "admin.enable";
	char name[32];
	struct account a;
	json_t *f;
	int rc;

	/* disabled, its unused invites go too: one made before it left
	 * would bring it back as a new account */
	if ((rc = other_admin(s, in, &a)) != 0 ||
	    (rc = lock_both(s, &a)) != 0 ||
	    (rc = store_account_set_disabled(s->srv->st, a.id,
	    disabled)) != 0 ||
	    (disabled && (rc = store_invite_drop_of(s->srv->st, a.id)) != 0) ||
	    (rc = admin_audit(s, type, a.id, NULL)) != 0)
		return rc;
	if (disabled)
		session_drop_account(a.id);	/* on every node */
	snprintf(name, sizeof(name), "%s.ok", type);
	if ((f = frame_new(name, in->id)) == NULL)
		return OFR_E_NOMEM;
	frame_set_bin(f, "key", a.key, OFR_PK_BYTES);
	json_object_set_new(f, "disabled", json_boolean(disabled));
	session_reply(s, f);
	return 0;
}

/* An admin who leaves the programme: it cannot log in, its connections
 * close, feedback is no longer sealed to it (feedback.keys lists enabled
 * admins only), and it reads nothing more; enabled again, all as before. */
int
admin_admin_disable(struct session *s, struct frame_in *in)
{
	return admin_set_disabled(s, in, 1);
}

int
admin_admin_enable(struct session *s, struct frame_in *in)
{
	return admin_set_disabled(s, in, 0);
}

struct list_walk {
	struct store *st;
	json_t *arr;
};

/* A counsellor's entry: its key, profile and certificate (null when it
 * has none), which the admin's CLI checks before it renews one. */
static int
list_one(void *arg, const struct counsellor *c)
{
	struct list_walk *w = arg;
	json_t *e = json_object(), *o = profile_json(c);
	uint8_t cert[CERT_BYTES];
	int rc, has = 0;

	if (e == NULL || o == NULL ||
	    frame_set_bin(e, "key", c->acct.key, OFR_PK_BYTES) != 0) {
		json_decref(e);
		json_decref(o);
		return OFR_E_NOMEM;
	}
	json_object_set_new(e, "profile", o);
	if ((rc = store_account_cert(w->st, c->acct.id, cert, &has)) != 0) {
		json_decref(e);
		return rc;
	}
	if (!has)
		json_object_set_new(e, "cert", json_null());
	else if (frame_set_bin(e, "cert", cert, CERT_BYTES) != 0) {
		json_decref(e);
		return OFR_E_NOMEM;
	}
	json_array_append_new(w->arr, e);
	return 0;
}

int
admin_counsellor_list(struct session *s, struct frame_in *in)
{
	struct list_walk w = { s->srv->st, json_array() };
	int rc;

	if (w.arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_counsellor_each(s->srv->st, s->acct.programme,
	    COUNSELLORS_LIST_MAX, list_one, &w)) != 0) {
		json_decref(w.arr);
		return rc;
	}
	return session_reply_list(s, in->id, "counsellor.list.ok",
	    "counsellors", w.arr);
}

static int
stats_one(void *arg, const struct counsellor *c)
{
	json_t *e = json_object();
	int rc;

	if (e == NULL || frame_set_bin(e, "key", c->acct.key,
	    OFR_PK_BYTES) != 0) {
		json_decref(e);
		return OFR_E_NOMEM;
	}
	json_object_set_new(e, "name", json_string(c->acct.name));
	json_object_set_new(e, "open", json_integer(c->open));
	json_object_set_new(e, "capacity", json_integer(c->prof.capacity));
	json_object_set_new(e, "presence",
	    json_string(profile_presence_name(c->prof.presence)));
	profile_now_json(e, c->acct.id);
	/* past the frame's room, left out ("more") */
	return (rc = reply_list_add(arg, e)) < 0 ? rc : 0;
}

json_t *
figure_count(int64_t n)
{
	return n >= FIGURES_MIN ? json_integer(n) : json_null();
}

/* The value at fraction q of sorted values (nearest rank). */
static int64_t
quantile(const int64_t *v, size_t n, int percent)
{
	size_t rank = (n * (size_t)percent + 99) / 100;

	return v[rank > 0 ? rank - 1 : 0];
}

int
admin_pool_stats(struct session *s, struct frame_in *in)
{
	struct server *srv = s->srv;
	struct reply_list l = { NULL, 0, 0 };
	int64_t *secs, queue, referred;
	json_t *arr, *f = NULL, *fr;
	size_t n;
	int rc;

	if ((secs = malloc(STATS_MAX * sizeof(*secs))) == NULL)
		return OFR_E_NOMEM;
	/* the counsellors that fit in one frame, its figures besides */
	rc = store_counsellor_each(srv->st, s->acct.programme,
	    COUNSELLORS_LIST_MAX, stats_one, &l);
	arr = l.arr != NULL ? l.arr : json_array();
	if (rc != 0 || arr == NULL ||
	    (rc = store_queue_count(srv->st, s->acct.programme, &queue)) != 0 ||
	    (rc = store_first_responses(srv->st, s->acct.programme,
	    srv->now - STATS_WINDOW, secs, STATS_MAX, &n)) != 0 ||
	    (rc = store_referred_count(srv->st, s->acct.programme,
	    srv->now - STATS_WINDOW, &referred)) != 0 ||
	    (f = frame_new("pool.stats.ok", in->id)) == NULL ||
	    (fr = json_object()) == NULL) {
		free(secs);
		json_decref(arr);
		json_decref(f);
		return rc ? rc : OFR_E_NOMEM;
	}
	/* too few cases: neither their number nor their times */
	json_object_set_new(fr, "cases", figure_count((int64_t)n));
	json_object_set_new(fr, "median", n >= FIGURES_MIN ?
	    json_integer(quantile(secs, n, 50)) : json_null());
	json_object_set_new(fr, "p90", n >= FIGURES_MIN ?
	    json_integer(quantile(secs, n, 90)) : json_null());
	free(secs);
	json_object_set_new(f, "min_count", json_integer(FIGURES_MIN));
	json_object_set_new(f, "counsellors", arr);
	if (l.more)
		json_object_set_new(f, "more", json_true());
	json_object_set_new(f, "queue", figure_count(queue));
	json_object_set_new(f, "first_response", fr);
	json_object_set_new(f, "referred_external", figure_count(referred));
	session_reply(s, f);
	return 0;
}

static int
audit_one(void *arg, const struct audit_entry *e)
{
	json_t *o = json_object();

	if (o == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "ts", json_integer(e->ts));
	json_object_set_new(o, "actor", json_string(e->actor_name));
	json_object_set_new(o, "action", json_string(e->action));
	json_object_set_new(o, "target", e->target ?
	    json_string(e->target_name) : json_null());
	json_object_set_new(o, "detail", json_string(e->detail));
	json_array_append_new(arg, o);
	return 0;
}

int
admin_audit_list(struct session *s, struct frame_in *in)
{
	int64_t before = 0, limit = 50;
	json_t *arr;
	int rc;

	if ((rc = frame_int(in, "before", 1, OFR_ID_MAX, 0, &before)) != 0 ||
	    (rc = frame_int(in, "limit", 1, 100, 0, &limit)) != 0)
		return rc;
	if ((arr = json_array()) == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_audit_each(s->srv->st, s->acct.programme, before,
	    (size_t)limit, audit_one, arr)) != 0) {
		json_decref(arr);
		return rc;
	}
	return session_reply_list(s, in->id, "audit.list.ok",
	    "entries", arr);
}

json_t *
admin_programme_json(const struct programme *p)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_integer(p->id));
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "description", json_string(p->description));
	json_object_set_new(o, "languages", profile_list_json(p->languages));
	json_object_set_new(o, "topics", profile_list_json(p->topics));
	json_object_set_new(o, "regions", profile_list_json(p->regions));
	json_object_set_new(o, "formats", profile_formats_json(p->formats));
	/* whether a direct request needs the code; never the code's hash */
	json_object_set_new(o, "intake_code", json_boolean(p->has_intake));
	if (p->has_key)
		frame_set_bin(o, "key", p->key, OFR_PK_BYTES);
	else
		json_object_set_new(o, "key", json_null());
	return o;
}

int
admin_programme_set(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	const char *name = NULL, *description = NULL;
	char languages[MODEL_LIST_BYTES] = "", topics[MODEL_LIST_BYTES] = "";
	char regions[MODEL_LIST_BYTES] = "";
	struct programme p;
	json_t *f, *o, *code;
	int rc, formats = -1;

	if ((rc = store_programme_get(st, s->acct.programme, &p)) != 0)
		return rc;
	/* "": no code any more; a code: 4..64 of [A-Za-z0-9-] */
	code = json_object_get(in->root, "intake_code");
	if (code != NULL && !json_is_null(code)) {
		if (!json_is_string(code)) {
			in->bad_field = "intake_code";
			return OFR_E_BAD_FIELD;
		}
		if (json_string_length(code) == 0) {
			p.has_intake = 0;
			memset(p.intake, 0, sizeof(p.intake));
		} else if (intake_code_hash(p.id, json_string_value(code),
		    p.intake) != 0) {
			in->bad_field = "intake_code";
			return OFR_E_BAD_FIELD;
		} else {
			p.has_intake = 1;
		}
	}
	if ((rc = frame_str(in, "name", OFR_NAME_MAX, 0, &name)) != 0 ||
	    (rc = frame_str(in, "description", MODEL_DESCRIPTION_MAX, 0,
	    &description)) != 0 ||
	    (rc = frame_token_list(in, "languages", 0, languages,
	    sizeof(languages))) != 0 ||
	    (rc = frame_token_list(in, "topics", 0, topics,
	    sizeof(topics))) != 0 ||
	    (rc = frame_token_list(in, "regions", 0, regions,
	    sizeof(regions))) != 0 ||
	    (rc = profile_read_formats(in, "formats", &formats)) != 0)
		return rc;
	if (name != NULL)
		snprintf(p.name, sizeof(p.name), "%s", name);
	if (description != NULL)
		snprintf(p.description, sizeof(p.description), "%s",
		    description);
	if (languages[0] != '\0')
		memcpy(p.languages, languages, sizeof(languages));
	if (topics[0] != '\0')
		memcpy(p.topics, topics, sizeof(topics));
	if (regions[0] != '\0')
		memcpy(p.regions, regions, sizeof(regions));
	if (formats >= 0)
		p.formats = formats;
	if ((rc = store_programme_set_profile(st, &p)) != 0 ||
	    (rc = admin_audit(s, "programme.set", 0, NULL)) != 0)
		return rc;
	if ((f = frame_new("programme.set.ok", in->id)) == NULL ||
	    (o = admin_programme_json(&p)) == NULL) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "programme", o);
	session_reply(s, f);
	return 0;
}

static int
programme_one(void *arg, const struct programme *p)
{
	json_t *o = admin_programme_json(p);

	if (o == NULL)
		return OFR_E_NOMEM;
	json_array_append_new(arg, o);
	return 0;
}

int
admin_programme_list(struct session *s, struct frame_in *in)
{
	json_t *arr = json_array();
	int rc;

	if (arr == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_programme_each(s->srv->st, 100, programme_one,
	    arr)) != 0) {
		json_decref(arr);
		return rc;
	}
	return session_reply_list(s, in->id, "programme.list.ok",
	    "programmes", arr);
}
