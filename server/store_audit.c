/*
 * store_audit.c: the audit log of the admin tools, per programme, with the
 * names of actor and target as they are when it is read. This file must
 * never update an entry or delete one but the oldest (the database's
 * triggers refuse that too: the log is trimmed from its head only, by the
 * retention job), and never record message content or a network address.
 */
#include <stdint.h>
#include <string.h>

#include "proto/err.h"
#include "store_int.h"

const char *const store_audit_sql[S_COUNT] = {
	[S_AUDIT_INSERT] =
	    "INSERT INTO audit(programme_id, actor_id, action, target_id,"
	    " detail, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_AUDIT] =
	    "SELECT u.id, u.created, coalesce(u.actor_id, 0),"
	    " coalesce(a.name, ''), u.action, coalesce(u.target_id, 0),"
	    " coalesce(t.name, ''), u.detail FROM audit u"
	    " LEFT JOIN accounts a ON a.id = u.actor_id"
	    " LEFT JOIN accounts t ON t.id = u.target_id"
	    " WHERE u.programme_id = ?1 AND u.id < ?2"
	    " ORDER BY u.id DESC LIMIT ?3",
	/* The oldest entry, when it is old enough and not the newest: the
	 * only delete the schema's trigger lets through. */
	[S_AUDIT_TRIM] =
	    "DELETE FROM audit WHERE id = (SELECT min(id) FROM audit)"
	    " AND id < (SELECT max(id) FROM audit) AND created < ?1",
};

/* actor and target 0: none; detail NULL: "". OFR_E_BAD_FIELD when action
 * is empty or over OFR_TYPE_MAX bytes, or detail does not fit an
 * audit_entry's. */
int
store_audit_add(struct store *st, int64_t programme, int64_t actor,
    const char *action, int64_t target, const char *detail, int64_t now)
{
	struct db_stmt *s = st->s[S_AUDIT_INSERT];
	struct audit_entry e;
	size_t n = strnlen(action, OFR_TYPE_MAX + 1);
	int rc;

	if (detail == NULL)
		detail = "";
	if (n == 0 || n > OFR_TYPE_MAX ||
	    strnlen(detail, sizeof(e.detail)) == sizeof(e.detail))
		return OFR_E_BAD_FIELD;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, programme) != DB_OK ||
	    db_bind_ref(s, 2, actor) != DB_OK ||
	    db_bind_text(s, 3, action) != DB_OK ||
	    db_bind_ref(s, 4, target) != DB_OK ||

	    db_bind_text(s, 5, detail) != DB_OK ||
	    db_bind_int64(s, 6, now) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

/* store_audit_each()'s callback. */
struct audit_fn {
	int (*fn)(void *arg, const struct audit_entry *e);
	void *arg;
};

static int
audit_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct audit_fn *f = ctx;
	struct audit_entry e;

	memset(&e, 0, sizeof(e));
	e.id = db_col_int64(s, 0);
	e.ts = db_col_int64(s, 1);
	e.actor = db_col_int64(s, 2);
	e.target = db_col_int64(s, 5);
	if (db_col_text(s, 3, e.actor_name, sizeof(e.actor_name)) != 0 ||
	    db_col_text(s, 4, e.action, sizeof(e.action)) != 0 ||
	    db_col_text(s, 6, e.target_name, sizeof(e.target_name)) != 0 ||
	    db_col_text(s, 7, e.detail, sizeof(e.detail)) != 0)
		return -1;
	*rc = f->fn(f->arg, &e);
	return 0;
}

/* fn may call other store functions, but not store_audit_each(). */
int
store_audit_each(struct store *st, int64_t programme, int64_t before,
    size_t limit, int (*fn)(void *arg, const struct audit_entry *e),
    void *arg)
{
	const int64_t key[] = { programme, before > 0 ? before : INT64_MAX,
	    db_limit(limit) };
	struct audit_fn f = { fn, arg };

	return db_each_row(st, S_AUDIT, key, nitems(key), audit_visit, &f,
	    __func__);
}

/* One entry at a time, oldest first, all or nothing. */
int
store_audit_trim(struct store *st, int64_t before, size_t max, size_t *n)
{
	int64_t changed = 1;
	int rc;

	*n = 0;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	while (rc == 0 && changed == 1 && *n < max)
		if ((rc = db_write(st, S_AUDIT_TRIM, &before, 1, &changed,
		    __func__)) == 0)
			*n += (size_t)changed;
	if ((rc = db_call_end(st, rc)) != 0)
		*n = 0;
	return rc;
}
