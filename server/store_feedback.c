/*
 * store_feedback.c: anonymous feedback at the end of a case (PRIVACY.md,
 * "Feedback"), and the admin certificates its text is sealed under. A
 * feedback row names no case and no account, and its only time is its
 * week; the case keeps only that its client gave feedback. This file must
 * never write a case id, an account id or a time closer than the week
 * into the feedback table, and never read feedback in the order it came
 * (its key is random).
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "store_int.h"

#define WEEK		604800
#define MONDAY		345600	/* 1970-01-05, the first Monday, 00:00 UTC */

const char *const store_feedback_sql[S_COUNT] = {
	[S_CASE_FEEDBACK_MARK] =
	    "UPDATE cases SET feedback = 1"
	    " WHERE id = ?1 AND status = 3 AND feedback = 0",
	[S_FEEDBACK_INSERT] =
	    "INSERT INTO feedback(programme_id, week, id, helpful, recommend,"
	    " sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* Newest week first, then by the random id: never the order of
	 * arrival. */
	[S_FEEDBACK_EACH] =
	    "SELECT week, helpful, recommend, sealed FROM feedback"
	    " WHERE programme_id = ?1 AND week < ?3"
	    " ORDER BY week DESC, id LIMIT ?2",
	[S_FEEDBACK_DROP] =
	    "DELETE FROM feedback WHERE (programme_id, week, id) IN"
	    " (SELECT programme_id, week, id FROM feedback"
	    " WHERE week < ?1 LIMIT ?2)",
	[S_ADMIN_CERTS] =
	    "SELECT key, cert FROM accounts WHERE role = 3"
	    " AND programme_id = ?1 AND disabled = 0 AND cert IS NOT NULL"
	    " ORDER BY id LIMIT ?2",
};

int64_t
store_week_of(int64_t t)
{
	int64_t d = t - MONDAY;

	return t - (d % WEEK + WEEK) % WEEK;
}

int
store_feedback_add(struct store *st, int64_t case_id, int64_t programme,
    int64_t now, int helpful, int recommend, const uint8_t *sealed,
    size_t sealed_len)
{
	struct db_stmt *m = st->s[S_CASE_FEEDBACK_MARK];
	struct db_stmt *s = st->s[S_FEEDBACK_INSERT];
	uint8_t id[16];
	int rc;

	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if (db_bind_int64(m, 1, case_id) != DB_OK) {
		rc = db_fail(st, m, __func__);
		goto out;
	}
	/* a case not closed, or given feedback already: nothing changes */
	if ((rc = db_exec_one(st, m, OFR_E_LIMIT, __func__)) != 0)
		goto out;
	randombytes_buf(id, sizeof(id));
	if (db_bind_int64(s, 1, programme) != DB_OK ||
	    db_bind_int64(s, 2, store_week_of(now)) != DB_OK ||
	    db_bind_blob(s, 3, id, sizeof(id)) != DB_OK ||
	    (helpful < 0 ? db_bind_null(s, 4) :
	    db_bind_int(s, 4, helpful)) != DB_OK ||
	    (recommend < 0 ? db_bind_null(s, 5) :
	    db_bind_int(s, 5, recommend)) != DB_OK ||
	    (sealed_len == 0 ? db_bind_null(s, 6) :
	    db_bind_blob(s, 6, sealed, sealed_len)) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	rc = db_exec(st, s, __func__);
	/* the commit links the case's mark and the row: the -wal that
	 * holds it is emptied within a second (store_checkpoint) */
	if (rc == 0)
		st->scrub = 1;
out:
	return db_call_end(st, rc);
}

struct feedback_walk {
	int (*fn)(void *arg, const struct feedback_row *r);
	void *arg;
};

static int
feedback_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct feedback_walk *w = ctx;
	struct feedback_row r;
	int n;

	memset(&r, 0, sizeof(r));
	r.week = db_col_int64(s, 0);
	r.helpful = db_col_is_null(s, 1) ? -1 :
	    db_col_int(s, 1);
	r.recommend = db_col_is_null(s, 2) ? -1 :
	    db_col_int(s, 2);
	if (!db_col_is_null(s, 3)) {
		n = db_col_bytes(s, 3);
		if (n < 0 || (size_t)n > sizeof(r.sealed))
			return -1;
		if (n > 0)
			memcpy(r.sealed, db_col_data(s, 3), (size_t)n);
		r.sealed_len = (size_t)n;
	}
	*rc = w->fn(w->arg, &r);
	return 0;
}

int
store_feedback_each(struct store *st, int64_t programme, int64_t before,
    size_t max, int (*fn)(void *arg, const struct feedback_row *r), void *arg)
{
	struct feedback_walk w = { fn, arg };
	int64_t p[3] = { programme, db_limit(max), before };

	return db_each_row(st, S_FEEDBACK_EACH, p, nitems(p), feedback_visit,
	    &w, __func__);
}

int
store_feedback_drop(struct store *st, int64_t before, size_t max, size_t *n)
{
	/* a week goes once all of it is before `before` */
	int64_t p[2] = { before - WEEK + 1, db_limit(max) };
	int64_t changed = 0;
	int rc;

	*n = 0;
	if ((rc = db_write(st, S_FEEDBACK_DROP, p, nitems(p), &changed,
	    __func__)) == 0)
		*n = (size_t)changed;
	return rc;
}

struct admin_walk {
	int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES],
	    const uint8_t cert[CERT_BYTES]);
	void *arg;
};

static int
admin_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct admin_walk *w = ctx;
	uint8_t key[OFR_PK_BYTES], cert[CERT_BYTES];

	if (db_col_blob(s, 0, key, sizeof(key)) != 0)
		return -1;
	if (db_col_blob(s, 1, cert, sizeof(cert)) != 0)
		return 0;	/* not an admin certificate's size: skipped */
	*rc = w->fn(w->arg, key, cert);
	return 0;
}

int
store_admin_certs_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES],
    const uint8_t cert[CERT_BYTES]), void *arg)
{
	struct admin_walk w = { fn, arg };
	int64_t p[2] = { programme, db_limit(max) };

	return db_each_row(st, S_ADMIN_CERTS, p, nitems(p), admin_visit, &w,
	    __func__);
}
