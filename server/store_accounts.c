/*
 * store_accounts.c: accounts (a public key, a role, a name), counsellors'
 * certificates and profiles, and the counsellors as the matching index and
 * the admin tools read them. A counsellor's account and profile are written
 * together, all or nothing. This file must never store or log a network
 * address, never hold a secret key (an account has only the public half,
 * and a counsellor the certificate the caller has checked), and never let
 * a profile in that the matching could not read (lists and tokens are
 * checked before they are written).
 * With several server nodes on one database it also holds the
 * counsellor's lock of an assignment, the stored presence and the
 * clients waiting on each node (store.h),
 * through hooks of the backend: nothing on SQLite.
 */
#include <string.h>

#include "log.h"
#include "proto/err.h"
#include "store_int.h"

#define PROFILE_CAPACITY	5	/* the default of a new counsellor */
#define ACCOUNT_ID_TRIES	8	/* ids taken by other nodes meanwhile */

/* Column lists, in the order the *_cols() readers below take them. */
#define ACCOUNT_COLS	"a.id, a.key, a.role, " \
			"coalesce(a.programme_id, 0), a.name, a.disabled, " \
			"a.created"
#define ACCOUNT_NCOLS	7
#define PROFILE_COLS	"p.languages, p.topics, p.capacity, p.presence, " \
			"coalesce(p.gender, ''), p.age_band, p.background, " \
			"p.formats, coalesce(p.region, ''), p.hours"
#define PROFILE_NCOLS	10
/* A counsellor: account, profile, then certified, open, last_assigned. */
#define COUNSELLOR_COLS	ACCOUNT_COLS ", " PROFILE_COLS ", " \
			"CASE WHEN a.cert IS NULL THEN 0 ELSE 1 END, "
#define COUNSELLOR_FROM	" FROM accounts a JOIN counsellor_profiles p" \
			" ON p.account_id = a.id"
#define COUNSELLOR_OPEN	" (SELECT count(*) FROM cases c" \
			"  WHERE c.counsellor_id = a.id" \
			"  AND c.status IN (1, 2, 4))" \
			" + (SELECT count(*) FROM referrals r JOIN cases c" \
			"  ON c.id = r.case_id JOIN case_participants cp" \
			"  ON cp.case_id = r.case_id" \
			"  AND cp.account_id = r.receiver_id" \
			"  WHERE r.receiver_id = a.id" \
			"  AND r.status = 1 AND c.status IN (1, 2, 4))"

const char *const store_accounts_sql[S_COUNT] = {
	/* then the last login of a client (its creation if none), for
	 * store_account_login() */
	[S_ACCOUNT_BY_KEY] =
	    "SELECT " ACCOUNT_COLS ", coalesce(a.seen, a.created)"
	    " FROM accounts a WHERE a.key = ?1",
	[S_ACCOUNT_BY_ID] =
	    "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = ?1",
	/* A new id is never one given before, to an account deleted since
	 * or named by the audit log (a deleted counsellor's): past the
	 * largest in use and the largest deleted (account_ids, kept by a
	 * trigger of the delete: migration 20). */
	[S_ACCOUNT_INSERT] =
	    "INSERT INTO accounts(id, key, role, programme_id, name, disabled,"
	    " created) VALUES ((SELECT max(n) FROM"
	    " (SELECT max(id) AS n FROM accounts UNION ALL"
	    " SELECT last FROM account_ids) AS m) + 1,"
	    " ?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT DO NOTHING RETURNING id",
	[S_ACCOUNT_SET_NAME] =
	    "UPDATE accounts SET name = ?2 WHERE id = ?1",
	[S_ACCOUNT_SET_DISABLED] =
	    "UPDATE accounts SET disabled = ?2 WHERE id = ?1",
	[S_ADMIN_COUNT] =
	    "SELECT count(*) FROM accounts WHERE role = 3",
	/* A client's login: the time, for store_clients_idle_drop(). */
	[S_ACCOUNT_SEEN] =
	    "UPDATE accounts SET seen = ?2 WHERE id = ?1 AND role = 1",
	[S_ACCOUNT_SEEN_AT] =
	    "SELECT coalesce(seen, created) FROM accounts"
	    " WHERE id = ?1 AND role = 1",
	/* Clients with no login since ?1 and nothing that names them: no
	 * case of theirs (their own case always lists them as a
	 * participant, and a client's messages are in its cases), no copy
	 * for them. */
	[S_CLIENTS_IDLE] =
	    "SELECT a.id FROM accounts a WHERE a.role = 1"
	    " AND coalesce(a.seen, a.created) < ?1"
	    " AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.client_id = a.id"
	    "  AND c.status IN (1, 2, 4))"
	    " AND NOT EXISTS (SELECT 1 FROM case_participants p"
	    "  WHERE p.account_id = a.id)"
	    " AND NOT EXISTS (SELECT 1 FROM deliveries d"
	    "  WHERE d.recipient_id = a.id)"
	    " ORDER BY a.id LIMIT ?2",
	[S_SPK_DROP] =
	    "DELETE FROM signed_prekeys WHERE account_id = ?1",
	[S_OTK_DROP] =
	    "DELETE FROM one_time_prekeys WHERE account_id = ?1",
	[S_SENT_DROP] =
	    "DELETE FROM sent WHERE sender_id = ?1",
	/* Clients and counsellors; an admin's account is never dropped. */
	[S_ACCOUNT_DROP] =
	    "DELETE FROM accounts WHERE id = ?1 AND role IN (1, 2)",
	[S_PROFILE_DROP] =
	    "DELETE FROM counsellor_profiles WHERE account_id = ?1",
	/* What a counsellor leaves in cases that outlive it (the cases it
	 * was moved out of): its copies, its messages with theirs, its
	 * notes, its participation, and the memory that it left. */
	[S_SCRUB_COPIES_TO] =
	    "DELETE FROM deliveries WHERE recipient_id = ?1",
	[S_SCRUB_COPIES_FROM] =
	    "DELETE FROM deliveries WHERE sender_id = ?1",
	[S_SCRUB_NOTES] =
	    "DELETE FROM case_notes WHERE author_id = ?1",
	[S_SCRUB_PARTICIPANT] =
	    "DELETE FROM case_participants WHERE account_id = ?1",
	[S_SCRUB_MEMBERS] =
	    "DELETE FROM case_members WHERE account_id = ?1",
	[S_SCRUB_LEFT] =
	    "UPDATE cases SET left_counsellor = NULL"
	    " WHERE left_counsellor = ?1",
	[S_CERT_SET] =
	    "UPDATE accounts SET cert = ?2 WHERE id = ?1",
	[S_CERT_GET] =
	    "SELECT cert FROM accounts WHERE id = ?1",
	[S_PROFILE_INSERT] =
	    "INSERT INTO counsellor_profiles(account_id, capacity, presence,"
	    " formats) VALUES (?1, ?2, ?3, ?4)",
	[S_PROFILE_GET] =
	    "SELECT " PROFILE_COLS
	    " FROM counsellor_profiles p WHERE p.account_id = ?1",
	[S_PROFILE_SET] =
	    "UPDATE counsellor_profiles SET languages = ?2, topics = ?3,"
	    " capacity = ?4, presence = ?5, gender = ?6, age_band = ?7,"
	    " background = ?8, formats = ?9, region = ?10, hours = ?11"
	    " WHERE account_id = ?1",
	/*
	 * Counsellors, with their open cases counted by a subquery per row
	 * (three seeks in cases_counsellor). Measured for the start-up load
	 * of 10k counsellors: about 20 ms, as fast as a LEFT JOIN on a
	 * GROUP BY of cases; with 1M closed cases 31 ms, while the GROUP BY
	 * scans all of cases_counsellor and takes 97 ms. COUNSELLOR_OPEN:
	 * the cases it leads, and the open cases it joined, and is still
	 * in, as an accepted referral's partner counsellor
	 * (referrals_receiver), which hold a place from the join on and
	 * become its own at the handover.
	 */
	[S_COUNSELLOR_GET] =
	    "SELECT " COUNSELLOR_COLS COUNSELLOR_OPEN
	    ", coalesce(p.last_assigned, 0)"
	    COUNSELLOR_FROM " WHERE a.id = ?1 AND a.role = 2",
	[S_COUNSELLOR_EACH] =
	    "SELECT " COUNSELLOR_COLS COUNSELLOR_OPEN
	    ", coalesce(p.last_assigned, 0)"
	    COUNSELLOR_FROM " WHERE a.role = 2"
	    " AND (?1 = 0 OR a.programme_id = ?1) ORDER BY a.id LIMIT ?2",
	[S_UNCERTIFIED] =
	    "SELECT key, name FROM accounts WHERE role = 2"
	    " AND programme_id = ?1 AND cert IS NULL AND disabled = 0"
	    " ORDER BY id LIMIT ?2",
};

/* Accounts. */

/* Reads ACCOUNT_COLS into a struct account. */
static int
account_cols(struct db_stmt *s, void *row)
{
	struct account *out = row;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int64(s, 0);
	if (db_col_blob(s, 1, out->key, OFR_PK_BYTES) != 0 ||
	    db_col_text(s, 4, out->name, sizeof(out->name)) != 0)
		return -1;
	out->role = db_col_int(s, 2);
	out->programme = db_col_int64(s, 3);
	out->disabled = db_col_int(s, 5);
	out->created = db_col_int64(s, 6);
	return 0;
}

int
store_account_by_key(struct store *st, const uint8_t key[OFR_PK_BYTES],
    struct account *out)
{
	struct db_stmt *s = st->s[S_ACCOUNT_BY_KEY];

	if (db_bind_blob(s, 1, key, OFR_PK_BYTES) != DB_OK)
		return db_fail(st, s, __func__);
	return db_get_row(st, S_ACCOUNT_BY_KEY, NULL, 0, account_cols, out,
	    __func__);
}

struct account_seen {
	struct account *a;
	int64_t *seen;
};

/* Reads ACCOUNT_COLS and then the last login. */
static int
account_seen_cols(struct db_stmt *s, void *row)
{
	struct account_seen *r = row;

	if (account_cols(s, r->a) != 0)
		return -1;
	*r->seen = db_col_int64(s, ACCOUNT_NCOLS);
	return 0;
}

int
store_account_login(struct store *st, const uint8_t key[OFR_PK_BYTES],
    struct account *out, int64_t *seen)
{
	struct db_stmt *s = st->s[S_ACCOUNT_BY_KEY];
	struct account_seen r = { out, seen };

	if (db_bind_blob(s, 1, key, OFR_PK_BYTES) != DB_OK)
		return db_fail(st, s, __func__);
	return db_get_row(st, S_ACCOUNT_BY_KEY, NULL, 0, account_seen_cols,
	    &r, __func__);
}

int
store_account_by_id(struct store *st, int64_t id, struct account *out)
{
	return db_get_row(st, S_ACCOUNT_BY_ID, &id, 1, account_cols, out,
	    __func__);
}

int
store_account_create(struct store *st, struct account *a)
{
	struct db_stmt *s = st->s[S_ACCOUNT_INSERT];
	size_t namelen = strnlen(a->name, sizeof(a->name));
	int64_t id;
	int rc;

	if (namelen == sizeof(a->name) || a->role < ROLE_CLIENT ||
	    a->role > ROLE_ADMIN)
		return OFR_E_BAD_FIELD;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	/* The id is the next one: another node may take it first (its
	 * insert commits, this one inserts nothing), and then the next is
	 * tried; a key that has an account inserts nothing either. Neither
	 * is an error (PostgreSQL would log one, with the id). */
	for (int tries = 0;; tries++) {
		struct account had;

		if (db_bind_blob(s, 1, a->key, OFR_PK_BYTES) != DB_OK ||
		    db_bind_int(s, 2, a->role) != DB_OK ||
		    db_bind_ref(s, 3, a->programme) != DB_OK ||
		    db_bind_text(s, 4, a->name) != DB_OK ||
		    db_bind_int(s, 5, a->disabled != 0) != DB_OK ||
		    db_bind_int64(s, 6, a->created) != DB_OK) {
			rc = db_fail(st, s, __func__);
			goto out;
		}
		if ((rc = db_insert(st, s, DB_NONE, 0, &id, __func__)) != 0 ||
		    id != 0)
			break;
		rc = store_account_by_key(st, a->key, &had);
		if (rc == 0) {
			rc = OFR_E_FORBIDDEN;	/* the key has an account */
			break;
		}
		if (rc != OFR_E_NOT_FOUND)
			break;
		rc = OFR_E_LIMIT;
		if (tries == ACCOUNT_ID_TRIES)
			break;
	}
	if (rc == OFR_E_LIMIT) {
		log_err("store: %s: no free account id in %d tries", __func__,
		    ACCOUNT_ID_TRIES + 1);
		rc = OFR_E_INTERNAL;
	}
	if (rc != 0)
		goto out;
	a->id = id;
	if (a->role == ROLE_COUNSELLOR) {
		s = st->s[S_PROFILE_INSERT];
		if (db_bind_int64(s, 1, a->id) != DB_OK ||
		    db_bind_int(s, 2, PROFILE_CAPACITY) != DB_OK ||
		    db_bind_int(s, 3, PRESENCE_ONLINE) != DB_OK ||
		    db_bind_int(s, 4, FORMAT_CHAT) != DB_OK) {
			rc = db_fail(st, s, __func__);
			goto out;
		}
		rc = db_exec(st, s, __func__);
	}
out:
	return db_call_end(st, rc);
}

int
store_account_set_name(struct store *st, int64_t account, const char *name)
{
	struct db_stmt *s = st->s[S_ACCOUNT_SET_NAME];
	int rc;

	if (strnlen(name, OFR_NAME_MAX + 1) > OFR_NAME_MAX)
		return OFR_E_BAD_FIELD;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, account) != DB_OK ||
	    db_bind_text(s, 2, name) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* OFR_E_NOT_FOUND when no account has this id. */
int
store_account_set_disabled(struct store *st, int64_t account, int disabled)
{
	struct db_stmt *s = st->s[S_ACCOUNT_SET_DISABLED];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, account) != DB_OK ||
	    db_bind_int(s, 2, disabled != 0) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* Several nodes: the backend's hooks (store_int.h), none on SQLite. */

int
store_shared(const struct store *st)
{
	return st->be->shared;
}

int
store_reconnected(struct store *st)
{
	int yes = st->reconnected;

	st->reconnected = 0;
	return yes;
}

/* Row id locked by the backend's lock (PostgreSQL's; SQLite has none), in
 * the write transaction it opens. */
static int
lock_row(struct store *st, int (*lock)(struct store *, int64_t), int64_t id)
{
	int rc;

	if (lock == NULL)
		return 0;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return lock(st, id);
}

int
store_counsellor_lock(struct store *st, int64_t id)
{
	return lock_row(st, st->be->lock, id);
}

int
store_case_event(struct store *st, int64_t *v)
{
	static int64_t count;	/* one node: its own order */

	if (st->be->case_event == NULL) {
		*v = ++count;
		return 0;
	}
	return st->be->case_event(st, v);
}

int
store_case_lock(struct store *st, int64_t id)
{
	return lock_row(st, st->be->case_lock, id);
}

int
store_account_lock(struct store *st, int64_t id)
{
	return lock_row(st, st->be->account_lock, id);
}

int
store_programme_lock(struct store *st, int64_t id)
{
	return lock_row(st, st->be->programme_lock, id);
}

int
store_programme_lock_pair(struct store *st, int64_t a, int64_t b)
{
	int rc;

	if ((rc = store_programme_lock(st, a < b ? a : b)) != 0 || a == b)
		return rc;
	return store_programme_lock(st, a < b ? b : a);
}

int
store_presence_publish(struct store *st, const int64_t *ids, size_t n,
    int expiry)
{
	int rc;

	if (st->be->presence_publish == NULL)
		return 0;
	if (n > STORE_PRESENCE_MAX || expiry < 1)
		return OFR_E_LIMIT;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return st->be->presence_publish(st, ids, n, expiry);
}

int
store_presence_each(struct store *st, int (*fn)(void *arg, int64_t id),
    void *arg)
{
	if (st->be->presence_each == NULL)
		return 0;
	return st->be->presence_each(st, fn, arg);
}

int
store_waiting_publish(struct store *st, const int64_t *ids, size_t n,
    int expiry)
{
	int rc;

	if (st->be->waiting_publish == NULL)
		return 0;
	if (n > STORE_PRESENCE_MAX || expiry < 1)
		return OFR_E_LIMIT;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return st->be->waiting_publish(st, ids, n, expiry);
}

int
store_accounts_barred(struct store *st, const int64_t *ids, size_t n,
    int (*fn)(void *arg, int64_t id), void *arg)
{
	if (st->be->accounts_barred == NULL || n == 0)
		return 0;
	if (n > STORE_PRESENCE_MAX)
		return OFR_E_LIMIT;
	return st->be->accounts_barred(st, ids, n, fn, arg);
}

int
store_try_lock(struct store *st, int key, int *got)
{
	int rc;

	*got = 1;
	if (st->be->try_lock == NULL)
		return 0;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return st->be->try_lock(st, key, got);
}

int
store_waiting_elsewhere(struct store *st, int64_t account, int *yes)
{
	*yes = 0;
	if (st->be->waiting_elsewhere == NULL)
		return 0;
	return st->be->waiting_elsewhere(st, account, yes);
}

int
store_admin_count(struct store *st, int64_t *n)
{
	return db_count(st, S_ADMIN_COUNT, NULL, 0, n, __func__);
}

/* Certificates of counsellors' keys. */

int
store_account_set_cert(struct store *st, int64_t account,
    const uint8_t cert[CERT_BYTES])
{
	struct db_stmt *s = st->s[S_CERT_SET];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, account) != DB_OK ||
	    db_bind_blob(s, 2, cert, CERT_BYTES) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* Where store_account_cert() puts a row of S_CERT_GET. */
struct cert_out {
	uint8_t *cert;
	int *has;
};

static int
cert_cols(struct db_stmt *s, void *row)
{
	struct cert_out *out = row;

	if (db_col_is_null(s, 0))
		return 0;
	if (db_col_blob(s, 0, out->cert, CERT_BYTES) != 0)
		return -1;
	*out->has = 1;
	return 0;
}

int
store_account_cert(struct store *st, int64_t account,
    uint8_t cert[CERT_BYTES], int *has)
{
	struct cert_out out = { cert, has };

	*has = 0;
	return db_get_row(st, S_CERT_GET, &account, 1, cert_cols, &out,
	    __func__);
}

/* Counsellor profiles. */

/* Reads PROFILE_COLS from column i on; -1 when a field breaks the
 * schema's promises. */
static int
profile_cols(struct db_stmt *s, int i, struct profile *out)
{
	memset(out, 0, sizeof(*out));
	if (db_col_text(s, i, out->languages, sizeof(out->languages)) != 0 ||
	    db_col_text(s, i + 1, out->topics, sizeof(out->topics)) != 0 ||
	    db_col_text(s, i + 4, out->gender, sizeof(out->gender)) != 0 ||
	    db_col_text(s, i + 8, out->region, sizeof(out->region)) != 0)
		return -1;
	out->capacity = db_col_int(s, i + 2);
	out->presence = db_col_int(s, i + 3);
	out->age_band = db_col_int(s, i + 5);
	out->background = db_col_int(s, i + 6);
	out->formats = db_col_int(s, i + 7);
	if (!db_col_is_null(s, i + 9) &&
	    db_col_blob(s, i + 9, out->hours, MODEL_HOURS_BYTES) != 0)
		return -1;
	return 0;
}

/* Reads a row of S_PROFILE_GET into a struct profile. */
static int
profile_row(struct db_stmt *s, void *out)
{
	return profile_cols(s, 0, out);
}

/* OFR_E_NOT_FOUND when the account has no profile (not a counsellor). */
int
store_profile_get(struct store *st, int64_t account, struct profile *out)
{
	return db_get_row(st, S_PROFILE_GET, &account, 1, profile_row, out,
	    __func__);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* OFR_E_BAD_FIELD (nothing written) when a list is not ",tok,...,", gender
 * or region is neither "" nor a token, or a number is out of its range
 * (capacity >= 0, presence 0..2, age_band 0..4, background 0..2, formats
 * 0..7); OFR_E_NOT_FOUND when the account has no profile. Hours all zero
 * are stored as "any time". */
int
store_profile_set(struct store *st, int64_t account, const struct profile *p)
{
	struct db_stmt *s = st->s[S_PROFILE_SET];
	int rc, hours;

	if (!db_list_ok(p->languages, sizeof(p->languages)) ||
	    !db_list_ok(p->topics, sizeof(p->topics)) || p->capacity < 0 ||
	    p->presence < PRESENCE_OFFLINE || p->presence > PRESENCE_ONLINE ||
	    !db_token_or_empty(p->gender, sizeof(p->gender)) ||
	    p->age_band < 0 || p->age_band > 4 ||
	    p->background < BACKGROUND_NONE ||
	    p->background > BACKGROUND_PROFESSIONAL ||
	    p->formats < 0 || p->formats > (FORMAT_CHAT | FORMAT_IN_PERSON |
	    FORMAT_PHONE_VIDEO) ||
	    !db_token_or_empty(p->region, sizeof(p->region)))
		return OFR_E_BAD_FIELD;
	hours = !all_zero(p->hours, sizeof(p->hours));
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, account) != DB_OK ||
	    db_bind_text(s, 2, p->languages) != DB_OK ||
	    db_bind_text(s, 3, p->topics) != DB_OK ||
	    db_bind_int(s, 4, p->capacity) != DB_OK ||
	    db_bind_int(s, 5, p->presence) != DB_OK ||
	    db_bind_text_or_null(s, 6, p->gender) != DB_OK ||
	    db_bind_int(s, 7, p->age_band) != DB_OK ||
	    db_bind_int(s, 8, p->background) != DB_OK ||
	    db_bind_int(s, 9, p->formats) != DB_OK ||
	    db_bind_text_or_null(s, 10, p->region) != DB_OK ||
	    (hours ? db_bind_blob(s, 11, p->hours, sizeof(p->hours)) :
	    db_bind_null(s, 11)) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* Counsellors. */

/* Reads COUNSELLOR_COLS and the two after them into a struct
 * counsellor. */
static int
counsellor_cols(struct db_stmt *s, void *row)
{
	struct counsellor *out = row;
	int i = ACCOUNT_NCOLS + PROFILE_NCOLS;

	memset(out, 0, sizeof(*out));
	if (account_cols(s, &out->acct) != 0 ||
	    profile_cols(s, ACCOUNT_NCOLS, &out->prof) != 0)
		return -1;
	out->certified = db_col_int(s, i);
	out->open = db_col_int(s, i + 1);
	out->last_assigned = db_col_int64(s, i + 2);
	return 0;
}

int
store_counsellor_get(struct store *st, int64_t id, struct counsellor *out)
{
	return db_get_row(st, S_COUNSELLOR_GET, &id, 1, counsellor_cols, out,
	    __func__);
}

/* store_counsellor_each()'s callback. */
struct counsellor_fn {
	int (*fn)(void *arg, const struct counsellor *c);
	void *arg;
};

static int
counsellor_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct counsellor_fn *f = ctx;
	struct counsellor c;

	if (counsellor_cols(s, &c) != 0)
		return -1;
	*rc = f->fn(f->arg, &c);
	return 0;
}

/* fn may call other store functions, but not store_counsellor_each(). */
int
store_counsellor_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct counsellor *c), void *arg)
{
	const int64_t key[] = { programme, db_limit(max) };
	struct counsellor_fn f = { fn, arg };

	return db_each_row(st, S_COUNSELLOR_EACH, key, nitems(key),
	    counsellor_visit, &f, __func__);
}

/* store_uncertified_each()'s callback. */
struct uncertified_fn {
	int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES],
	    const char *name);
	void *arg;
};

static int
uncertified_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct uncertified_fn *f = ctx;
	uint8_t key[OFR_PK_BYTES];
	char name[OFR_NAME_MAX + 1];

	if (db_col_blob(s, 0, key, OFR_PK_BYTES) != 0 ||
	    db_col_text(s, 1, name, sizeof(name)) != 0)
		return -1;
	*rc = f->fn(f->arg, key, name);
	return 0;
}

/* fn may call other store functions, but not store_uncertified_each(). */
int
store_uncertified_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES], const char *name),
    void *arg)
{
	const int64_t key[] = { programme, db_limit(max) };
	struct uncertified_fn f = { fn, arg };

	return db_each_row(st, S_UNCERTIFIED, key, nitems(key),
	    uncertified_visit, &f, __func__);
}

int
store_account_seen_since(struct store *st, int64_t account, int64_t at,
    int64_t now, int grain)
{
	const int64_t key[] = { account, now };

	if (grain > 0 && at <= now && now - at < grain)
		return 0;	/* seen lately */
	return db_write(st, S_ACCOUNT_SEEN, key, nitems(key), NULL, __func__);
}

int
store_account_seen(struct store *st, int64_t account, int64_t now,
    int grain)
{
	const int64_t key[] = { account };
	int64_t at = 0;
	size_t n = 0;
	int rc;

	if (grain > 0) {
		if ((rc = db_ints(st, S_ACCOUNT_SEEN_AT, key, 1, &at, 1, &n,
		    __func__)) != 0)
			return rc;
		if (n == 0)
			return 0;	/* not a client */
	}
	return store_account_seen_since(st, account, at, now, grain);
}

/* Deletes account's records of sends, prekeys, counsellor profile (if
 * any) and account row, inside the caller's db_call_begin(). */
static int
account_drop(struct store *st, int64_t account)
{
	static const enum stmt_id steps[] = {
		S_SENT_DROP, S_OTK_DROP, S_SPK_DROP, S_PROFILE_DROP,
		S_ACCOUNT_DROP,
	};
	int rc = 0;

	for (size_t i = 0; i < nitems(steps) && rc == 0; i++)
		rc = db_write(st, steps[i], &account, 1, NULL, __func__);
	if (rc == 0)
		st->scrub = 1;	/* its old pages: out of offramp.db soon */
	return rc;
}

/* All or nothing: each account goes with its prekeys. */
int
store_clients_idle_drop(struct store *st, int64_t before, size_t max,
    int64_t *gone, size_t *n)
{
	return db_drop_batch(st, S_CLIENTS_IDLE, before, max, account_drop,
	    gone, n,
	    __func__);
}

int
store_account_drop(struct store *st, int64_t account)
{
	static const enum stmt_id scrub[] = {
		S_SCRUB_COPIES_TO, S_SCRUB_COPIES_FROM, S_SCRUB_NOTES,
		S_SCRUB_PARTICIPANT, S_SCRUB_LEFT,
		S_SCRUB_MEMBERS,
	};
	struct account a;
	int rc;

	if ((rc = store_account_by_id(st, account, &a)) != 0)
		return rc;
	if (a.role == ROLE_ADMIN)
		return OFR_E_FORBIDDEN;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	for (size_t i = 0; i < nitems(scrub) && rc == 0; i++)
		rc = db_write(st, scrub[i], &account, 1, NULL, __func__);
	if (rc == 0)
		rc = account_drop(st, account);
	return db_call_end(st, rc);
}
