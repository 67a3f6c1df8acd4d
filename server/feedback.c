/*
 * feedback.c: anonymous feedback at the end of a case (PROTOCOL.md,
 * "Feedback"; PRIVACY.md, "Feedback"). The client of a closed case may
 * send it once: two ratings and a text sealed to each certified admin of
 * the programme, which the server cannot open. The server needs the case
 * to check that, and stores nothing that links the feedback to it: the
 * case only notes that feedback was given, the row only the programme and
 * the week (store_feedback.c). Admins read their programme's feedback,
 * each its own sealed copy of the texts; totals under FIGURES_MIN are
 * withheld. This file must never log a case, an account or a time with
 * feedback.
 */
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/feedback.h"
#include "store.h"

#define FEEDBACK_LIST_MAX	500
#define ENTRY_BYTES		(OFR_PK_BYTES + FEEDBACK_SEALED_BYTES)

_Static_assert(FEEDBACK_ADMINS_MAX * ENTRY_BYTES <= STORE_FEEDBACK_SEALED_MAX,
    "a feedback row holds a sealed text for every admin");

/* The programme of case c's counsellor (or of the one its client left
 * last, when the case closed while it waited for another): the one its
 * feedback goes to. */
static int
case_programme(struct session *s, const struct case_info *c, int64_t *prog)
{
	int64_t who = c->counsellor != 0 ? c->counsellor : c->left;
	struct account a;
	int rc;

	if (who == 0)
		return OFR_E_BAD_STATE;	/* it never had a counsellor */
	if ((rc = store_account_by_id(s->srv->st, who, &a)) != 0)
		return rc == OFR_E_NOT_FOUND ? OFR_E_BAD_STATE : rc;
	*prog = a.programme;
	return 0;
}

static int
admin_one(void *arg, const uint8_t key[OFR_PK_BYTES],
    const uint8_t cert[CERT_BYTES])
{
	json_t *o = json_object();

	if (o == NULL || frame_set_bin(o, "key", key, OFR_PK_BYTES) != 0 ||
	    frame_set_bin(o, "cert", cert, CERT_BYTES) != 0) {
		json_decref(o);
		return OFR_E_NOMEM;
	}
	json_array_append_new(arg, o);
	return 0;
}

int
feedback_keys(struct session *s, struct frame_in *in)
{
	struct case_info c;
	int64_t prog;
	json_t *arr, *f;
	int rc;

	if ((rc = cases_own_read(s, in, &c)) != 0)
		return rc;
	/* its client only, once it closed (PRIVACY.md: the admins'
	 * certificates go to the clients of closed cases) */
	if (s->acct.id != c.client || c.status != CASE_CLOSED)
		return c.status != CASE_CLOSED ? OFR_E_BAD_STATE :
		    OFR_E_FORBIDDEN;
	if ((rc = case_programme(s, &c, &prog)) != 0)
		return rc;
	if ((arr = json_array()) == NULL)
		return OFR_E_NOMEM;
	if ((rc = store_admin_certs_each(s->srv->st, prog,
	    FEEDBACK_ADMINS_MAX, admin_one, arr)) != 0 ||
	    (f = frame_new("feedback.keys.ok", in->id)) == NULL) {
		json_decref(arr);
		return rc ? rc : OFR_E_NOMEM;
	}
	json_object_set_new(f, "programme", json_integer(prog));
	json_object_set_new(f, "admins", arr);
	session_reply(s, f);
	return 0;
}

/* A rating: true, false, or absent (-1). */
static int
rating(struct frame_in *in, const char *key, int *out)
{
	*out = -1;
	return frame_bool(in, key, 0, out);
}

/* Reads "text": at most FEEDBACK_ADMINS_MAX {"to", "ct"}, each "to" a
 * distinct certified admin of prog, into buf as (key || sealed) each. */
static int
read_text(struct session *s, struct frame_in *in, int64_t prog,
    uint8_t *buf, size_t *len)
{
	uint8_t key[OFR_PK_BYTES], cert[CERT_BYTES];
	json_t *arr = NULL, *e, *to, *ct;
	struct account a;
	size_t n, i, got;
	int rc, has;

	*len = 0;
	if ((rc = frame_array(in, "text", FEEDBACK_ADMINS_MAX, 0, &arr)) != 0)
		return rc;
	if (arr == NULL)
		return 0;
	in->bad_field = "text";
	if (json_array_size(arr) == 0)
		return OFR_E_BAD_FIELD;
	json_array_foreach(arr, n, e) {
		uint8_t *at = buf + n * ENTRY_BYTES;

		to = json_object_get(e, "to");
		ct = json_object_get(e, "ct");
		if (!json_is_string(to) || !json_is_string(ct) ||
		    b64_decode(key, sizeof(key), &got, json_string_value(to),
		    json_string_length(to)) != 0 || got != OFR_PK_BYTES ||
		    b64_decode(at + OFR_PK_BYTES, FEEDBACK_SEALED_BYTES, &got,
		    json_string_value(ct), json_string_length(ct)) != 0 ||
		    got != FEEDBACK_SEALED_BYTES)
			return OFR_E_BAD_FIELD;
		for (i = 0; i < n; i++)
			if (memcmp(buf + i * ENTRY_BYTES, key,
			    OFR_PK_BYTES) == 0)
				return OFR_E_BAD_FIELD;
		/* a certified admin of the programme, as feedback.keys */
		rc = store_account_by_key(s->srv->st, key, &a);
		if (rc == OFR_E_NOT_FOUND || (rc == 0 &&
		    (a.role != ROLE_ADMIN || a.programme != prog || a.disabled)))
			return OFR_E_BAD_FIELD;
		if (rc != 0 || (rc = store_account_cert(s->srv->st, a.id, cert,
		    &has)) != 0)
			return rc;
		if (!has)
			return OFR_E_BAD_FIELD;
		memcpy(at, key, OFR_PK_BYTES);
	}
	in->bad_field = NULL;
	*len = json_array_size(arr) * ENTRY_BYTES;
	return 0;
}

int
feedback_send(struct session *s, struct frame_in *in)
{
	static uint8_t sealed[FEEDBACK_ADMINS_MAX * ENTRY_BYTES];
	struct case_info c;
	int64_t prog;
	size_t len;
	int rc, helpful, recommend;

	/* the case under its lock (cases_own): a reopen at another node
	 * meanwhile is waited for, and answered bad_state here, not limit */
	if ((rc = rating(in, "helpful", &helpful)) != 0 ||
	    (rc = rating(in, "recommend", &recommend)) != 0 ||
	    (rc = cases_own(s, in, &c)) != 0)
		return rc;
	if (c.status != CASE_CLOSED)
		return OFR_E_BAD_STATE;
	if ((rc = case_programme(s, &c, &prog)) != 0 ||
	    (rc = read_text(s, in, prog, sealed, &len)) != 0)
		return rc;
	if (helpful < 0 && recommend < 0 && len == 0) {
		in->bad_field = "helpful";	/* nothing to give */
		return OFR_E_BAD_FIELD;
	}
	if ((rc = store_feedback_add(s->srv->st, c.id, prog, s->srv->now,
	    helpful, recommend, sealed, len)) != 0)
		return rc;
	session_reply(s, frame_new("feedback.send.ok", in->id));
	return 0;
}

struct list_ctx {
	struct session *s;
	struct reply_list l;	/* the entries, within one frame */
	int64_t n, helpful[2], recommend[2];
};

static json_t *
rating_json(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static int
list_one(void *arg, const struct feedback_row *r)
{
	struct list_ctx *l = arg;
	json_t *o;
	int rc;

	if (l->l.more)
		return 0;	/* past one frame: neither listed nor counted */
	o = json_object();
	char week[16];
	time_t t = (time_t)r->week;
	struct tm tm;

	if (o == NULL || gmtime_r(&t, &tm) == NULL ||
	    strftime(week, sizeof(week), "%G-W%V", &tm) == 0) {
		json_decref(o);
		return OFR_E_NOMEM;
	}
	json_object_set_new(o, "week", json_string(week));
	json_object_set_new(o, "helpful", rating_json(r->helpful));
	json_object_set_new(o, "recommend", rating_json(r->recommend));
	json_object_set_new(o, "text", json_null());
	/* only the caller's own sealed copy */
	for (size_t i = 0; i + ENTRY_BYTES <= r->sealed_len;
	    i += ENTRY_BYTES)
		if (memcmp(r->sealed + i, l->s->acct.key, OFR_PK_BYTES) == 0)
			frame_set_bin(o, "text", r->sealed + i + OFR_PK_BYTES,
			    FEEDBACK_SEALED_BYTES);
	if ((rc = reply_list_add(&l->l, o)) != 0)
		return rc < 0 ? rc : 0;
	l->n++;
	if (r->helpful >= 0)
		l->helpful[r->helpful]++;
	if (r->recommend >= 0)
		l->recommend[r->recommend]++;
	return 0;
}

int
feedback_list(struct session *s, struct frame_in *in)
{
	struct list_ctx l = { s, { NULL, 0, 0 }, 0, { 0, 0 }, { 0, 0 } };
	int64_t limit = 100;
	json_t *f = NULL, *t;
	int rc;

	if ((rc = frame_int(in, "limit", 1, FEEDBACK_LIST_MAX, 0,
	    &limit)) != 0)
		return rc;
	if ((l.l.arr = json_array()) == NULL)
		return OFR_E_NOMEM;
	/* the weeks that ended: an entry shows from the Monday after its
	 * week, so that no admin polling the list tells one entry's time
	 * more finely than its week */
	if ((rc = store_feedback_each(s->srv->st, s->acct.programme,
	    store_week_of(s->srv->now), (size_t)limit, list_one, &l)) != 0 ||
	    (f = frame_new("feedback.list.ok", in->id)) == NULL ||
	    (t = json_object()) == NULL) {
		json_decref(l.l.arr);
		json_decref(f);
		return rc ? rc : OFR_E_NOMEM;
	}
	json_object_set_new(t, "entries", figure_count(l.n));
	json_object_set_new(t, "helpful_yes", figure_count(l.helpful[1]));
	json_object_set_new(t, "helpful_no", figure_count(l.helpful[0]));
	json_object_set_new(t, "recommend_yes", figure_count(l.recommend[1]));
	json_object_set_new(t, "recommend_no", figure_count(l.recommend[0]));
	json_object_set_new(f, "min_count", json_integer(FIGURES_MIN));
	json_object_set_new(f, "totals", t);
	/* fewer than FIGURES_MIN entries are withheld too: each would be one
	 * person's, told apart by its week */
	if (l.n < FIGURES_MIN)
		json_array_clear(l.l.arr);
	json_object_set_new(f, "entries", l.l.arr);
	/* more entries than one frame holds: the totals are the listed
	 * ones' */
	if (l.l.more)
		json_object_set_new(f, "more", json_true());
	session_reply(s, f);
	return 0;
}

int
feedback_admin_cert(struct session *s, struct frame_in *in)
{
	uint8_t cert[CERT_BYTES];
	struct cert_info info;
	struct programme p;
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "cert", CERT_BYTES, CERT_BYTES, 1, cert,
	    &n)) != 0 ||
	    (rc = store_programme_get(s->srv->st, s->acct.programme, &p)) != 0)
		return rc;
	if (!p.has_key)
		return OFR_E_FORBIDDEN;
	if ((rc = admin_cert_verify(&info, cert, p.key, s->acct.key,
	    s->srv->now)) != 0 || info.programme_id != p.id) {
		in->bad_field = NULL;
		return OFR_E_BAD_SIGNATURE;
	}
	if ((rc = store_account_set_cert(s->srv->st, s->acct.id, cert)) != 0 ||
	    (rc = admin_audit(s, "admin.certify", s->acct.id, NULL)) != 0)
		return rc;
	session_reply(s, frame_new("admin.certify.ok", in->id));
	return 0;
}
