/*
 * store_programmes.c: programmes: their names, public profiles and the
 * public half of their signing keys. This file must never hold the secret
 * half of a signing key, and never replace a signing key once it is set.
 */
#include <string.h>

#include "proto/err.h"
#include "store_int.h"

/* Column list, in the order programme_cols() takes it. */
#define PROGRAMME_COLS	"id, name, signing_key, description, " \
			"languages, topics, regions, formats"

const char *const store_programmes_sql[S_COUNT] = {
	[S_PROGRAMME_INSERT] =
	    "INSERT INTO programmes(name, created) VALUES (?1, ?2)",
	[S_PROGRAMME_FIRST] =
	    "SELECT id FROM programmes ORDER BY id LIMIT 1",
	[S_PROGRAMME_GET] =
	    "SELECT " PROGRAMME_COLS " FROM programmes WHERE id = ?1",
	[S_PROGRAMME_SET_KEY] =
	    "UPDATE programmes SET signing_key = ?2"
	    " WHERE id = ?1 AND signing_key IS NULL",
	[S_PROGRAMME_SET_PROFILE] =
	    "UPDATE programmes SET name = ?2, description = ?3,"
	    " languages = ?4, topics = ?5, regions = ?6, formats = ?7"
	    " WHERE id = ?1",
	[S_PROGRAMME_EACH] =
	    "SELECT " PROGRAMME_COLS " FROM programmes ORDER BY id LIMIT ?1",
};

/* Reads PROGRAMME_COLS into a struct programme. */
static int
programme_cols(sqlite3_stmt *s, void *row)
{
	struct programme *out = row;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	if (db_col_text(s, 1, out->name, sizeof(out->name)) != 0 ||
	    db_col_text(s, 3, out->description,
	    sizeof(out->description)) != 0 ||
	    db_col_text(s, 4, out->languages, sizeof(out->languages)) != 0 ||
	    db_col_text(s, 5, out->topics, sizeof(out->topics)) != 0 ||
	    db_col_text(s, 6, out->regions, sizeof(out->regions)) != 0)
		return -1;
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		if (db_col_blob(s, 2, out->key, OFR_PK_BYTES) != 0)
			return -1;
		out->has_key = 1;
	}
	out->formats = sqlite3_column_int(s, 7);
	return 0;
}

int
store_programme_create(struct store *st, const char *name, int64_t now,
    int64_t *id)
{
	sqlite3_stmt *s = st->s[S_PROGRAMME_INSERT];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_text(s, 1, name) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK)
		return db_fail(st, s, __func__);
	if ((rc = db_exec(st, s, __func__)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_programme_first(struct store *st, int64_t *id)
{
	return db_get_row(st, S_PROGRAMME_FIRST, NULL, 0, db_int64_col, id,
	    __func__);
}

int
store_programme_get(struct store *st, int64_t id, struct programme *out)
{
	return db_get_row(st, S_PROGRAMME_GET, &id, 1, programme_cols, out,
	    __func__);
}

/* OFR_E_FORBIDDEN when the programme has a key already (or is unknown). */
int
store_programme_set_key(struct store *st, int64_t id,
    const uint8_t key[OFR_PK_BYTES])
{
	sqlite3_stmt *s = st->s[S_PROGRAMME_SET_KEY];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    db_bind_blob(s, 2, key, OFR_PK_BYTES) != SQLITE_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_FORBIDDEN, __func__);
}

/* Sets every field of p's public profile but id and key. OFR_E_BAD_FIELD
 * (nothing written) when name is over OFR_NAME_MAX bytes, description over
 * MODEL_DESCRIPTION_MAX, a list is not ",tok,...," or formats is not
 * 0..7; OFR_E_NOT_FOUND when no programme has p->id. */
int
store_programme_set_profile(struct store *st, const struct programme *p)
{
	sqlite3_stmt *s = st->s[S_PROGRAMME_SET_PROFILE];
	int rc;

	if (strnlen(p->name, sizeof(p->name)) == sizeof(p->name) ||
	    strnlen(p->description, sizeof(p->description)) ==
	    sizeof(p->description) ||
	    !db_list_ok(p->languages, sizeof(p->languages)) ||
	    !db_list_ok(p->topics, sizeof(p->topics)) ||
	    !db_list_ok(p->regions, sizeof(p->regions)) ||
	    p->formats < 0 || p->formats > (FORMAT_CHAT | FORMAT_IN_PERSON |
	    FORMAT_PHONE_VIDEO))
		return OFR_E_BAD_FIELD;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, p->id) != SQLITE_OK ||
	    db_bind_text(s, 2, p->name) != SQLITE_OK ||
	    db_bind_text(s, 3, p->description) != SQLITE_OK ||
	    db_bind_text(s, 4, p->languages) != SQLITE_OK ||
	    db_bind_text(s, 5, p->topics) != SQLITE_OK ||
	    db_bind_text(s, 6, p->regions) != SQLITE_OK ||
	    sqlite3_bind_int(s, 7, p->formats) != SQLITE_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* store_programme_each()'s callback. */
struct programme_fn {
	int (*fn)(void *arg, const struct programme *p);
	void *arg;
};

static int
programme_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct programme_fn *f = ctx;
	struct programme p;

	if (programme_cols(s, &p) != 0)
		return -1;
	*rc = f->fn(f->arg, &p);
	return 0;
}

/* fn may call other store functions, but not store_programme_each(). */
int
store_programme_each(struct store *st, size_t max,
    int (*fn)(void *arg, const struct programme *p), void *arg)
{
	const int64_t key[] = { db_limit(max) };
	struct programme_fn f = { fn, arg };

	return db_each_row(st, S_PROGRAMME_EACH, key, nitems(key),
	    programme_visit, &f, __func__);
}
