/*
 * store_programmes.c: programmes: their names, public profiles, the
 * public half of their signing keys and what those keys signed
 * (rotations, revocation lists, partner statements), their partnerships
 * and the external partners of their directories. This file must never
 * hold the secret half of a signing key, and replaces a signing key only
 * by a rotation that the old key signed (checked by the caller).
 */
#include <string.h>

#include "proto/err.h"
#include "store_int.h"

/* Column list, in the order programme_cols() takes it. */
#define PROGRAMME_COLS	"id, name, signing_key, description, " \
			"languages, topics, regions, formats, intake_hash"
/* ... partnership_cols()'s, and external_cols()'s */
#define PARTNERSHIP_COLS "id, proposer_id, partner_id, status, created, " \
			"ended, ended_by, proposer_statement, partner_statement"
#define EXTERNAL_COLS	"id, programme_id, name, regions, formats, topics, " \
			"contact"

const char *const store_programmes_sql[S_COUNT] = {
	[S_PROGRAMME_INSERT] =
	    "INSERT INTO programmes(name, created) VALUES (?1, ?2 - ?2 % 86400)"
	    " RETURNING id",
	[S_PROGRAMME_FIRST] =
	    "SELECT id FROM programmes ORDER BY id LIMIT 1",
	[S_PROGRAMME_GET] =
	    "SELECT " PROGRAMME_COLS " FROM programmes WHERE id = ?1",
	[S_PROGRAMME_SET_KEY] =
	    "UPDATE programmes SET signing_key = ?2"
	    " WHERE id = ?1 AND signing_key IS NULL",
	[S_PROGRAMME_SET_PROFILE] =
	    "UPDATE programmes SET name = ?2, description = ?3,"
	    " languages = ?4, topics = ?5, regions = ?6, formats = ?7,"
	    " intake_hash = ?8"
	    " WHERE id = ?1",
	[S_PROGRAMME_EACH] =
	    "SELECT " PROGRAMME_COLS " FROM programmes ORDER BY id LIMIT ?1",
	[S_PROGRAMME_ROTATE_KEY] =
	    "UPDATE programmes SET signing_key = ?3"
	    " WHERE id = ?1 AND signing_key = ?2",
	[S_ROTATION_COUNT] =
	    "SELECT count(*) FROM programme_rotations WHERE programme_id = ?1",
	[S_ROTATION_INSERT] =
	    "INSERT INTO programme_rotations(programme_id, seq, new_key,"
	    " statement) VALUES (?1, ?2, ?3, ?4)",
	[S_ROTATION_HAD_KEY] =
	    "SELECT 1 FROM programme_rotations"
	    " WHERE programme_id = ?1"
	    " AND (new_key = ?2 OR substr(statement, 10, 32) = ?2)",
	[S_ROTATION_EACH] =
	    "SELECT statement FROM programme_rotations WHERE programme_id = ?1"
	    " ORDER BY seq LIMIT ?2",
	/* ?3 NULL: every counsellor of the programme */
	[S_CERT_HOLDERS] =
	    "SELECT id FROM accounts WHERE role = 2"
	    " AND programme_id = ?1 AND cert IS NOT NULL"
	    " AND (key = ?3 OR ?3 IS NULL) ORDER BY id LIMIT ?2",
	[S_CERT_DROP] =
	    "UPDATE accounts SET cert = NULL WHERE id = ?1 AND role = 2"
	    " AND cert IS NOT NULL",
	[S_REVOCATION_GET] =
	    "SELECT issued, list FROM programme_revocations"
	    " WHERE programme_id = ?1",
	[S_REVOCATION_SET] =
	    "INSERT INTO programme_revocations(programme_id, issued, list)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT(programme_id) DO UPDATE"
	    " SET issued = excluded.issued, list = excluded.list"
	    " WHERE excluded.issued > programme_revocations.issued",
	[S_PARTNER_SET] =
	    "INSERT INTO programme_partners(programme_id, partner_id,"
	    " statement) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT(partner_id, programme_id) DO UPDATE"
	    " SET statement = excluded.statement",
	[S_PARTNER_EACH] =
	    "SELECT programme_id, statement FROM programme_partners"
	    " WHERE partner_id = ?1 ORDER BY programme_id LIMIT ?2",
	/* both directions of a pair */
	[S_PARTNER_DROP] =
	    "DELETE FROM programme_partners"
	    " WHERE (programme_id = ?1 AND partner_id = ?2)"
	    " OR (programme_id = ?2 AND partner_id = ?1)",
	/* the pair either way round */
	[S_PARTNERSHIP_OPEN_PAIR] =
	    "SELECT 1 FROM partnerships WHERE status < 2"
	    " AND ((proposer_id = ?1 AND partner_id = ?2)"
	    " OR (proposer_id = ?2 AND partner_id = ?1))",
	[S_PARTNERSHIP_OPEN_COUNT] =
	    "SELECT count(*) FROM partnerships WHERE status < 2"
	    " AND (proposer_id = ?1 OR partner_id = ?1)",
	[S_PARTNERSHIP_INSERT] =
	    "INSERT INTO partnerships(proposer_id, partner_id, status,"
	    " proposer_statement, created) VALUES (?1, ?2, 0, ?3, ?4)"
	    " RETURNING id",
	[S_PARTNERSHIP_GET] =
	    "SELECT " PARTNERSHIP_COLS " FROM partnerships WHERE id = ?1",
	[S_PARTNERSHIP_ACCEPT] =
	    "UPDATE partnerships SET status = 1, partner_statement = ?2"
	    " WHERE id = ?1 AND status = 0",
	[S_PARTNERSHIP_END] =
	    "UPDATE partnerships SET status = 2, ended = ?2, ended_by = ?3"
	    " WHERE id = ?1 AND status < 2",
	/* the ended ones of the pair of ?1 but ?1 */
	[S_PARTNERSHIP_TRIM] =
	    "DELETE FROM partnerships WHERE status = 2 AND id != ?1"
	    " AND ((proposer_id = ?2 AND partner_id = ?3)"
	    " OR (proposer_id = ?3 AND partner_id = ?2))",
	[S_PARTNERSHIP_EACH] =
	    "SELECT " PARTNERSHIP_COLS " FROM partnerships"
	    " WHERE proposer_id = ?1 OR partner_id = ?1"
	    " ORDER BY id DESC LIMIT ?2",
	[S_PARTNER_PROGRAMMES] =
	    "SELECT " PROGRAMME_COLS " FROM programmes WHERE id IN"
	    " (SELECT CASE WHEN proposer_id = ?1 THEN partner_id"
	    " ELSE proposer_id END FROM partnerships WHERE status = 1"
	    " AND (proposer_id = ?1 OR partner_id = ?1))"
	    " ORDER BY id LIMIT ?2",
	[S_EXTERNAL_INSERT] =
	    "INSERT INTO external_partners(programme_id, name, regions,"
	    " formats, topics, contact) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " RETURNING id",
	[S_EXTERNAL_UPDATE] =
	    "UPDATE external_partners SET name = ?2, regions = ?3,"
	    " formats = ?4, topics = ?5, contact = ?6"
	    " WHERE programme_id = ?1 AND id = ?7",
	[S_EXTERNAL_DELETE] =
	    "DELETE FROM external_partners WHERE programme_id = ?1 AND id = ?2",
	[S_EXTERNAL_COUNT] =
	    "SELECT count(*) FROM external_partners WHERE programme_id = ?1",
	[S_EXTERNAL_GET] =
	    "SELECT " EXTERNAL_COLS " FROM external_partners"
	    " WHERE programme_id = ?1 AND id = ?2",
	[S_EXTERNAL_EACH] =
	    "SELECT " EXTERNAL_COLS " FROM external_partners"
	    " WHERE programme_id = ?1 ORDER BY id LIMIT ?2",
};

/* Reads PROGRAMME_COLS into a struct programme. */
static int
programme_cols(struct db_stmt *s, void *row)
{
	struct programme *out = row;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int64(s, 0);
	if (db_col_text(s, 1, out->name, sizeof(out->name)) != 0 ||
	    db_col_text(s, 3, out->description,
	    sizeof(out->description)) != 0 ||
	    db_col_text(s, 4, out->languages, sizeof(out->languages)) != 0 ||
	    db_col_text(s, 5, out->topics, sizeof(out->topics)) != 0 ||
	    db_col_text(s, 6, out->regions, sizeof(out->regions)) != 0)
		return -1;
	if (!db_col_is_null(s, 2)) {
		if (db_col_blob(s, 2, out->key, OFR_PK_BYTES) != 0)
			return -1;
		out->has_key = 1;
	}
	out->formats = db_col_int(s, 7);
	if (!db_col_is_null(s, 8)) {
		if (db_col_blob(s, 8, out->intake, sizeof(out->intake)) != 0)
			return -1;
		out->has_intake = 1;
	}
	return 0;
}

int
store_programme_create(struct store *st, const char *name, int64_t now,
    int64_t *id)
{
	struct db_stmt *s = st->s[S_PROGRAMME_INSERT];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_text(s, 1, name) != DB_OK ||
	    db_bind_int64(s, 2, now) != DB_OK)
		return db_fail(st, s, __func__);
	return db_insert(st, s, DB_NONE, 0, id, __func__);
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
	struct db_stmt *s = st->s[S_PROGRAMME_SET_KEY];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, id) != DB_OK ||
	    db_bind_blob(s, 2, key, OFR_PK_BYTES) != DB_OK)
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
	struct db_stmt *s = st->s[S_PROGRAMME_SET_PROFILE];
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
	if (db_bind_int64(s, 1, p->id) != DB_OK ||
	    db_bind_text(s, 2, p->name) != DB_OK ||
	    db_bind_text(s, 3, p->description) != DB_OK ||
	    db_bind_text(s, 4, p->languages) != DB_OK ||
	    db_bind_text(s, 5, p->topics) != DB_OK ||
	    db_bind_text(s, 6, p->regions) != DB_OK ||
	    db_bind_int(s, 7, p->formats) != DB_OK ||
	    (p->has_intake ? db_bind_blob(s, 8, p->intake,
	    sizeof(p->intake)) : db_bind_null(s, 8)) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* store_programme_each()'s callback. */
struct programme_fn {
	int (*fn)(void *arg, const struct programme *p);
	void *arg;
};

static int
programme_visit(struct db_stmt *s, void *ctx, int *rc)
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

/* --- rotations, revocation lists, partner statements --- */

int
store_programme_rotate(struct store *st, int64_t id,
    const uint8_t old_key[OFR_PK_BYTES], const uint8_t new_key[OFR_PK_BYTES],
    const uint8_t *statement, size_t len)
{
	struct db_stmt *s = st->s[S_PROGRAMME_ROTATE_KEY];
	int64_t n;
	int rc, had;

	if (db_bind_blob(st->s[S_ROTATION_HAD_KEY], 2, new_key,
	    OFR_PK_BYTES) != DB_OK)
		return db_fail(st, st->s[S_ROTATION_HAD_KEY], __func__);
	if ((rc = db_exists(st, S_ROTATION_HAD_KEY, &id, 1, &had,
	    __func__)) != 0)
		return rc;
	if (had)
		return OFR_E_BAD_FIELD;
	if ((rc = db_count(st, S_ROTATION_COUNT, &id, 1, &n, __func__)) != 0)
		return rc;
	if (n >= STORE_ROTATIONS_MAX)
		return OFR_E_LIMIT;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, id) != DB_OK ||
	    db_bind_blob(s, 2, old_key, OFR_PK_BYTES) != DB_OK ||
	    db_bind_blob(s, 3, new_key, OFR_PK_BYTES) != DB_OK)
		return db_fail(st, s, __func__);
	if ((rc = db_exec_one(st, s, OFR_E_BAD_SIGNATURE, __func__)) != 0)
		return rc;
	s = st->s[S_ROTATION_INSERT];
	if (db_bind_int64(s, 1, id) != DB_OK ||
	    db_bind_int64(s, 2, n + 1) != DB_OK ||
	    db_bind_blob(s, 3, new_key, OFR_PK_BYTES) != DB_OK ||
	    db_bind_blob(s, 4, statement, len) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

/* Hands each blob of column col of a walk to blob_fn. */
struct blob_fn {
	int col;
	int (*fn)(void *arg, int64_t id, const uint8_t *p, size_t n);
	void *arg;
};

static int
blob_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct blob_fn *f = ctx;
	const void *p = db_col_data(s, f->col);
	int n = db_col_bytes(s, f->col);

	if (p == NULL || n <= 0)
		return -1;
	*rc = f->fn(f->arg, f->col > 0 ? db_col_int64(s, 0) : 0, p,
	    (size_t)n);
	return 0;
}

int
store_rotation_each(struct store *st, int64_t id, size_t max,
    int (*fn)(void *arg, int64_t unused, const uint8_t *p, size_t n),
    void *arg)
{
	const int64_t key[] = { id, db_limit(max) };
	struct blob_fn f = { 0, fn, arg };

	return db_each_row(st, S_ROTATION_EACH, key, nitems(key), blob_visit,
	    &f, __func__);
}

int
store_cert_holders(struct store *st, int64_t programme, const uint8_t *key,
    int64_t *ids, size_t max, size_t *n)
{
	struct db_stmt *s = st->s[S_CERT_HOLDERS];
	const int64_t params[2] = { programme, (int64_t)max };

	if ((key != NULL ? db_bind_blob(s, 3, key, OFR_PK_BYTES) :
	    db_bind_null(s, 3)) != DB_OK)
		return db_fail(st, s, __func__);
	return db_ints(st, S_CERT_HOLDERS, params, 2, ids, max, n, __func__);
}

int
store_cert_drop(struct store *st, int64_t counsellor)
{
	struct db_stmt *s = st->s[S_CERT_DROP];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, counsellor) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

/* Where store_revocation_get() puts the row. */
struct revocation_out {
	int64_t *issued;
	uint8_t *buf;
	size_t cap, *len;
};

static int
revocation_cols(struct db_stmt *s, void *row)
{
	struct revocation_out *o = row;
	const void *p = db_col_data(s, 1);
	int n = db_col_bytes(s, 1);

	if (p == NULL || n <= 0 || (size_t)n > o->cap)
		return -1;
	*o->issued = db_col_int64(s, 0);
	memcpy(o->buf, p, (size_t)n);
	*o->len = (size_t)n;
	return 0;
}

int
store_revocation_get(struct store *st, int64_t programme, int64_t *issued,
    uint8_t *buf, size_t cap, size_t *len)
{
	struct revocation_out o = { issued, buf, cap, len };

	return db_get_row(st, S_REVOCATION_GET, &programme, 1,
	    revocation_cols, &o, __func__);
}

int
store_revocation_set(struct store *st, int64_t programme, int64_t issued,
    const uint8_t *list, size_t len)
{
	struct db_stmt *s = st->s[S_REVOCATION_SET];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, programme) != DB_OK ||
	    db_bind_int64(s, 2, issued) != DB_OK ||
	    db_bind_blob(s, 3, list, len) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_BAD_FIELD, __func__);
}

int
store_partner_set(struct store *st, int64_t programme, int64_t partner,
    const uint8_t *statement, size_t len)
{
	struct db_stmt *s = st->s[S_PARTNER_SET];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, programme) != DB_OK ||
	    db_bind_int64(s, 2, partner) != DB_OK ||
	    db_bind_blob(s, 3, statement, len) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

int
store_partner_each(struct store *st, int64_t partner, size_t max,
    int (*fn)(void *arg, int64_t programme, const uint8_t *p, size_t n),
    void *arg)
{
	const int64_t key[] = { partner, db_limit(max) };
	struct blob_fn f = { 1, fn, arg };

	return db_each_row(st, S_PARTNER_EACH, key, nitems(key), blob_visit,
	    &f, __func__);
}

/* --- partnerships --- */

/* Reads PARTNERSHIP_COLS into a struct partnership. */
static int
partnership_cols(struct db_stmt *s, void *row)
{
	struct partnership *out = row;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int64(s, 0);
	out->proposer = db_col_int64(s, 1);
	out->partner = db_col_int64(s, 2);
	out->status = db_col_int(s, 3);
	out->created = db_col_int64(s, 4);
	out->ended = db_col_int64(s, 5);
	out->ended_by = db_col_int64(s, 6);
	if (db_col_blob(s, 7, out->proposer_st, PARTNER_BYTES) != 0)
		return -1;
	if (!db_col_is_null(s, 8)) {
		if (db_col_blob(s, 8, out->partner_st, PARTNER_BYTES) != 0)
			return -1;
		out->has_partner_st = 1;
	}
	return 0;
}

int
store_partnership_propose(struct store *st, int64_t proposer,
    int64_t partner, const uint8_t statement[PARTNER_BYTES], int64_t now,
    int64_t *id)
{
	const int64_t pair[] = { proposer, partner };
	struct db_stmt *s = st->s[S_PARTNERSHIP_INSERT];
	int64_t n;
	int rc, open;

	if (proposer == partner)
		return OFR_E_BAD_FIELD;
	if ((rc = db_exists(st, S_PARTNERSHIP_OPEN_PAIR, pair, nitems(pair),
	    &open, __func__)) != 0)
		return rc;
	if (open)
		return OFR_E_BAD_STATE;
	/* the bound holds for both: the partner's proposals count too */
	for (size_t i = 0; i < nitems(pair); i++) {
		if ((rc = db_count(st, S_PARTNERSHIP_OPEN_COUNT, &pair[i], 1,
		    &n, __func__)) != 0)
			return rc;
		if (n >= STORE_PARTNERSHIPS_MAX)
			return OFR_E_LIMIT;
	}
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, proposer) != DB_OK ||
	    db_bind_int64(s, 2, partner) != DB_OK ||
	    db_bind_blob(s, 3, statement, PARTNER_BYTES) != DB_OK ||
	    db_bind_int64(s, 4, now) != DB_OK)
		return db_fail(st, s, __func__);
	return db_insert(st, s, DB_NONE, 0, id, __func__);
}

int
store_partnership_get(struct store *st, int64_t id, struct partnership *out)
{
	return db_get_row(st, S_PARTNERSHIP_GET, &id, 1, partnership_cols,
	    out, __func__);
}

int
store_partnership_accept(struct store *st, const struct partnership *p,
    const uint8_t statement[PARTNER_BYTES])
{
	struct db_stmt *s = st->s[S_PARTNERSHIP_ACCEPT];
	int rc;

	if ((rc = db_write_begin(st)) != 0 || (rc = db_call_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, p->id) != DB_OK ||
	    db_bind_blob(s, 2, statement, PARTNER_BYTES) != DB_OK)
		rc = db_fail(st, s, __func__);
	else
		rc = db_exec_one(st, s, OFR_E_BAD_STATE, __func__);
	if (rc == 0)
		rc = store_partner_set(st, p->proposer, p->partner,
		    p->proposer_st, PARTNER_BYTES);
	if (rc == 0)
		rc = store_partner_set(st, p->partner, p->proposer, statement,
		    PARTNER_BYTES);
	return db_call_end(st, rc);
}

int
store_partnership_end(struct store *st, const struct partnership *p,
    int64_t by, int64_t now)
{
	const int64_t end[] = { p->id, now, by };
	const int64_t pair[] = { p->proposer, p->partner };
	const int64_t trim[] = { p->id, p->proposer, p->partner };
	int64_t n;
	int rc;

	if ((rc = db_write_begin(st)) != 0 || (rc = db_call_begin(st)) != 0)
		return rc;
	rc = db_write(st, S_PARTNERSHIP_END, end, nitems(end), &n, __func__);
	if (rc == 0 && n != 1)
		rc = OFR_E_BAD_STATE;
	if (rc == 0)
		rc = db_write(st, S_PARTNER_DROP, pair, nitems(pair), NULL,
		    __func__);
	if (rc == 0)
		rc = db_write(st, S_PARTNERSHIP_TRIM, trim, nitems(trim),
		    NULL, __func__);
	return db_call_end(st, rc);
}

/* store_partnership_each()'s callback. */
struct partnership_fn {
	int (*fn)(void *arg, const struct partnership *p);
	void *arg;
};

static int
partnership_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct partnership_fn *f = ctx;
	struct partnership p;

	if (partnership_cols(s, &p) != 0)
		return -1;
	*rc = f->fn(f->arg, &p);
	return 0;
}

int
store_partnership_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct partnership *p), void *arg)
{
	const int64_t key[] = { programme, db_limit(max) };
	struct partnership_fn f = { fn, arg };

	return db_each_row(st, S_PARTNERSHIP_EACH, key, nitems(key),
	    partnership_visit, &f, __func__);
}

int
store_partner_programme_each(struct store *st, int64_t programme,
    size_t max, int (*fn)(void *arg, const struct programme *p), void *arg)
{
	const int64_t key[] = { programme, db_limit(max) };
	struct programme_fn f = { fn, arg };

	return db_each_row(st, S_PARTNER_PROGRAMMES, key, nitems(key),
	    programme_visit, &f, __func__);
}

/* --- external partners --- */

/* Reads EXTERNAL_COLS into a struct external_partner. */
static int
external_cols(struct db_stmt *s, void *row)
{
	struct external_partner *out = row;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int64(s, 0);
	out->programme = db_col_int64(s, 1);
	out->formats = db_col_int(s, 4);
	if (db_col_text(s, 2, out->name, sizeof(out->name)) != 0 ||
	    db_col_text(s, 3, out->regions, sizeof(out->regions)) != 0 ||
	    db_col_text(s, 5, out->topics, sizeof(out->topics)) != 0 ||
	    db_col_text(s, 6, out->contact, sizeof(out->contact)) != 0)
		return -1;
	return 0;
}

int
store_external_set(struct store *st, struct external_partner *e)
{
	struct db_stmt *s;
	int64_t n;
	int rc;

	if (strnlen(e->name, sizeof(e->name)) == sizeof(e->name) ||
	    e->name[0] == '\0' ||
	    strnlen(e->contact, sizeof(e->contact)) == sizeof(e->contact) ||
	    !db_list_ok(e->regions, sizeof(e->regions)) ||
	    !db_list_ok(e->topics, sizeof(e->topics)) ||
	    e->formats < 0 || e->formats > (FORMAT_CHAT | FORMAT_IN_PERSON |
	    FORMAT_PHONE_VIDEO))
		return OFR_E_BAD_FIELD;
	if (e->id == 0) {
		if ((rc = db_count(st, S_EXTERNAL_COUNT, &e->programme, 1, &n,
		    __func__)) != 0)
			return rc;
		if (n >= MODEL_EXTERNALS_MAX)
			return OFR_E_LIMIT;
	}
	s = st->s[e->id == 0 ? S_EXTERNAL_INSERT : S_EXTERNAL_UPDATE];
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, e->programme) != DB_OK ||
	    db_bind_text(s, 2, e->name) != DB_OK ||
	    db_bind_text(s, 3, e->regions) != DB_OK ||
	    db_bind_int(s, 4, e->formats) != DB_OK ||
	    db_bind_text(s, 5, e->topics) != DB_OK ||
	    db_bind_text(s, 6, e->contact) != DB_OK ||
	    (e->id != 0 && db_bind_int64(s, 7, e->id) != DB_OK))
		return db_fail(st, s, __func__);
	if (e->id != 0)
		return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
	return db_insert(st, s, DB_NONE, 0, &e->id, __func__);
}

int
store_external_get(struct store *st, int64_t programme, int64_t id,
    struct external_partner *out)
{
	const int64_t key[] = { programme, id };

	return db_get_row(st, S_EXTERNAL_GET, key, nitems(key), external_cols,
	    out, __func__);
}

int
store_external_remove(struct store *st, int64_t programme, int64_t id)
{
	const int64_t key[] = { programme, id };
	int64_t n;
	int rc;

	if ((rc = db_write_begin(st)) != 0 ||
	    (rc = db_write(st, S_EXTERNAL_DELETE, key, nitems(key), &n,
	    __func__)) != 0)
		return rc;
	return n == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* store_external_each()'s callback. */
struct external_fn {
	int (*fn)(void *arg, const struct external_partner *e);
	void *arg;
};

static int
external_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct external_fn *f = ctx;
	struct external_partner e;

	if (external_cols(s, &e) != 0)
		return -1;
	*rc = f->fn(f->arg, &e);
	return 0;
}

int
store_external_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct external_partner *e), void *arg)
{
	const int64_t key[] = { programme, db_limit(max) };
	struct external_fn f = { fn, arg };

	return db_each_row(st, S_EXTERNAL_EACH, key, nitems(key),
	    external_visit, &f, __func__);
}
