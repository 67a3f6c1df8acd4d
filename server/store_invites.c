/*
 * store_invites.c: the invites that make counsellor and admin accounts,
 * and the bootstrap invite of a new server. Only the BLAKE2b-256 hash of a
 * token is stored. This file must never store or log a token, and never
 * split the check of an invite from its taking (one statement does both,
 * so that an invite is taken once at most).
 */
#include "proto/err.h"
#include "store_int.h"

const char *const store_invites_sql[S_COUNT] = {
	[S_INVITE_INSERT] =
	    "INSERT INTO invites(hash, programme_id, role, expires,"
	    " created_by, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6 - ?6 % 86400)",
	/* One statement: the check and the take cannot be split. */
	[S_INVITE_TAKE] =
	    "UPDATE invites SET used_at = ?2"
	    " WHERE hash = ?1 AND used_at IS NULL AND expires > ?2"
	    " RETURNING programme_id, role",
	[S_INVITE_PENDING] =
	    "SELECT count(*) FROM invites"
	    " WHERE programme_id = ?1 AND used_at IS NULL AND expires > ?2",
	[S_INVITE_DROP_BOOTSTRAP] =
	    "DELETE FROM invites WHERE created_by IS NULL AND used_at IS NULL",
	[S_INVITE_DROP_OF] =
	    "DELETE FROM invites WHERE created_by = ?1 AND used_at IS NULL",
	/* Used, or expired unused, before ?1. */
	[S_INVITES_DONE] =
	    "SELECT id FROM invites WHERE coalesce(used_at, expires) < ?1"
	    " ORDER BY id LIMIT ?2",
	[S_INVITE_DROP] =
	    "DELETE FROM invites WHERE id = ?1",
};

int
store_invite_create(struct store *st, const uint8_t hash[32],
    int64_t programme, int role, int64_t expires, int64_t created_by,
    int64_t now)
{
	struct db_stmt *s = st->s[S_INVITE_INSERT];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_blob(s, 1, hash, 32) != DB_OK ||
	    db_bind_int64(s, 2, programme) != DB_OK ||
	    db_bind_int(s, 3, role) != DB_OK ||
	    db_bind_int64(s, 4, expires) != DB_OK ||
	    db_bind_ref(s, 5, created_by) != DB_OK ||
	    db_bind_int64(s, 6, now) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

int
store_invite_take(struct store *st, const uint8_t hash[32], int64_t now,
    int64_t *programme, int *role)
{
	struct db_stmt *s = st->s[S_INVITE_TAKE];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_blob(s, 1, hash, 32) != DB_OK ||
	    db_bind_int64(s, 2, now) != DB_OK)
		return db_fail(st, s, __func__);
	if ((rc = db_row(st, s, __func__)) <= 0)
		return rc == 0 ? OFR_E_BAD_INVITE : rc;
	*programme = db_col_int64(s, 0);
	*role = db_col_int(s, 1);
	/* hash is UNIQUE: one row. Run to the end so the update completes. */
	return db_exec(st, s, __func__);
}

int
store_invite_pending(struct store *st, int64_t programme, int64_t now,
    int64_t *n)
{
	const int64_t key[] = { programme, now };

	return db_count(st, S_INVITE_PENDING, key, nitems(key), n, __func__);
}

int
store_invite_drop_bootstrap(struct store *st)
{
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return db_exec(st, st->s[S_INVITE_DROP_BOOTSTRAP], __func__);
}

int
store_invite_drop_of(struct store *st, int64_t admin)
{
	return db_write(st, S_INVITE_DROP_OF, &admin, 1, NULL, __func__);
}

static int
invite_drop(struct store *st, int64_t id)
{
	return db_write(st, S_INVITE_DROP, &id, 1, NULL, __func__);
}

/* Two statements, not one DELETE .. LIMIT (which needs an SQLite built
 * with SQLITE_ENABLE_UPDATE_DELETE_LIMIT). */
int
store_invites_drop(struct store *st, int64_t before, size_t max, size_t *n)
{
	return db_drop_batch(st, S_INVITES_DONE, before, max, invite_drop, NULL, n,
	    __func__);
}
