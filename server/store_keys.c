/*
 * store_keys.c: the public prekeys of end-to-end sessions: each account's
 * signed prekey and its one-time prekeys. This file must never hold a
 * secret key (those never leave the clients), and never give a one-time
 * prekey out twice (taking one deletes it).
 */
#include "proto/err.h"
#include "store_int.h"

const char *const store_keys_sql[S_COUNT] = {
	/* updated: to the day (PRIVACY.md; nothing reads it closer). */
	[S_SPK_SET] =
	    "INSERT INTO signed_prekeys(account_id, spk_id, spk, sig, updated)"
	    " VALUES (?1, ?2, ?3, ?4, ?5 - ?5 % 86400)"
	    " ON CONFLICT(account_id) DO UPDATE"
	    " SET spk_id = ?2, spk = ?3, sig = ?4, updated = ?5 - ?5 % 86400",
	[S_SPK_GET] =
	    "SELECT spk_id, spk, sig FROM signed_prekeys WHERE account_id = ?1",
	/* ord: after every key of the account's on the server. */
	[S_OTK_ADD] =
	    "INSERT INTO one_time_prekeys(account_id, otk_id, pk, ord)"
	    " VALUES (?1, ?2, ?3, (SELECT coalesce(max(ord), 0) + 1"
	    "  FROM one_time_prekeys WHERE account_id = ?1))"
	    " ON CONFLICT DO NOTHING",
	[S_OTK_COUNT] =
	    "SELECT count(*) FROM one_time_prekeys WHERE account_id = ?1",
	[S_OTK_FIRST] =
	    "SELECT otk_id, pk FROM one_time_prekeys WHERE account_id = ?1"
	    " ORDER BY ord LIMIT 1",
	[S_OTK_DELETE] =
	    "DELETE FROM one_time_prekeys WHERE account_id = ?1 AND otk_id = ?2",
};

/* Signed prekeys. */

int
store_spk_set(struct store *st, int64_t account, uint32_t id,
    const uint8_t spk[32], const uint8_t sig[OFR_SIG_BYTES], int64_t now)
{
	struct db_stmt *s = st->s[S_SPK_SET];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, account) != DB_OK ||
	    db_bind_int64(s, 2, id) != DB_OK ||
	    db_bind_blob(s, 3, spk, 32) != DB_OK ||
	    db_bind_blob(s, 4, sig, OFR_SIG_BYTES) != DB_OK ||
	    db_bind_int64(s, 5, now) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

/* Where store_spk_get() puts a row of S_SPK_GET. */
struct spk_out {
	uint32_t *id;
	uint8_t *spk;
	uint8_t *sig;
};

static int
spk_cols(struct db_stmt *s, void *row)
{
	struct spk_out *out = row;

	*out->id = (uint32_t)db_col_int64(s, 0);
	if (db_col_blob(s, 1, out->spk, 32) != 0 ||
	    db_col_blob(s, 2, out->sig, OFR_SIG_BYTES) != 0)
		return -1;
	return 0;
}

int
store_spk_get(struct store *st, int64_t account, uint32_t *id,
    uint8_t spk[32], uint8_t sig[OFR_SIG_BYTES])
{
	struct spk_out out = { id, spk, sig };

	return db_get_row(st, S_SPK_GET, &account, 1, spk_cols, &out, __func__);
}

/* One-time prekeys. */

/* OFR_E_BAD_FIELD when the account has this id already. */
int
store_otk_add(struct store *st, int64_t account, uint32_t id,
    const uint8_t pk[32])
{
	struct db_stmt *s = st->s[S_OTK_ADD];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, account) != DB_OK ||
	    db_bind_int64(s, 2, id) != DB_OK ||
	    db_bind_blob(s, 3, pk, 32) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_BAD_FIELD, __func__);
}

int
store_otk_count(struct store *st, int64_t account, int64_t *n)
{
	return db_count(st, S_OTK_COUNT, &account, 1, n, __func__);
}

/* Reads of the oldest key that another node took first, before
 * store_otk_take() gives none. */
#define OTK_TAKE_TRIES	8

/* Where store_otk_take() puts a row of S_OTK_FIRST. */
struct otk_out {
	uint32_t *id;
	uint8_t *pk;
};

static int
otk_cols(struct db_stmt *s, void *row)
{
	struct otk_out *out = row;

	*out->id = (uint32_t)db_col_int64(s, 0);
	return db_col_blob(s, 1, out->pk, 32);
}

/*
 * Deletes and gives the account's oldest one-time prekey. A key is given
 * only by the delete that removed it: on PostgreSQL another node may read
 * the same oldest key, and its delete, which waited for this one's
 * commit, removes nothing; it reads again, then the next key (each
 * statement sees what was committed before it). OFR_E_NOT_FOUND when none
 * is left (X3DH goes on without one).
 */
int
store_otk_take(struct store *st, int64_t account, uint32_t *id,
    uint8_t pk[32])
{
	struct db_stmt *d = st->s[S_OTK_DELETE];
	struct otk_out out = { id, pk };
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	for (int tries = 0; tries < OTK_TAKE_TRIES; tries++) {
		if ((rc = db_get_row(st, S_OTK_FIRST, &account, 1, otk_cols,
		    &out, __func__)) != 0)
			return rc;
		if (db_bind_int64(d, 1, account) != DB_OK ||
		    db_bind_int64(d, 2, *id) != DB_OK)
			return db_fail(st, d, __func__);
		if ((rc = db_exec(st, d, __func__)) != 0)
			return rc;
		if (db_changes(st) == 1)
			return 0;
	}
	return OFR_E_NOT_FOUND;
}
