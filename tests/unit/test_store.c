/*
 * test_store.c: every function of the store (server/store_*.c) against a
 * real database in a temporary directory, which is removed at the end. A
 * second SQLite handle looks at what is on disk where the API cannot show it (schema
 * version, what another process would see before a commit), and tries
 * what another process could (changing the append-only audit log).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>
#ifdef OFFRAMP_POSTGRES
#include <libpq-fe.h>
#endif

#include "check.h"
#include "log.h"
#include "match.h"
#include "proto/err.h"
#include "store.h"
#include "store_int.h"

static char root[PATH_MAX];	/* the temporary directory */
static char dir[PATH_MAX];	/* the store's data directory in it */
static char dbpath[PATH_MAX];
/* $OFFRAMP_STORE_URL: the store on PostgreSQL, on an empty database
 * (tests/tools/pg.sh run), in a build with it; NULL: SQLite in dir. */
static const char *url;

/* Opens the store under test: SQLite in dir, or PostgreSQL at url. */
static int
open_store(struct store **st)
{
	return store_open_url(st, dir, url, 1);
}

static void
rm_tree(const char *path)
{
	struct stat sb;
	struct dirent *e;
	DIR *d;
	char sub[PATH_MAX];

	if (lstat(path, &sb) != 0)
		return;
	if (S_ISDIR(sb.st_mode) && (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
			    e->d_name) < sizeof(sub))
				rm_tree(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int
mode_of(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return -1;
	return (int)(sb.st_mode & 07777);
}

/* An integer from sql through a separate read-only connection: what any
 * other process would see on disk. -1 on failure. */
static long long
peek(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

#ifdef OFFRAMP_POSTGRES
	if (url != NULL) {
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return v;
	}
#endif
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
key_of(uint8_t key[OFR_PK_BYTES], int n)
{
	memset(key, 0, OFR_PK_BYTES);
	key[0] = 0xa5;
	key[1] = (uint8_t)(n >> 8);
	key[2] = (uint8_t)n;
}

/* A new account with key number n; its id, or -1. */
static int64_t
account(struct store *st, int n, int role, int64_t programme,
    const char *name, int disabled)
{
	struct account a;

	memset(&a, 0, sizeof(a));
	key_of(a.key, n);
	a.role = role;
	a.programme = programme;
	a.disabled = disabled;
	a.created = 1000 + n;
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (store_account_create(st, &a) != 0)
		return -1;
	return a.id;
}

/* A certified counsellor with key number n and this profile. */
static int64_t
counsellor(struct store *st, int n, int64_t programme, const char *langs,
    const char *topics, int capacity, int presence, int disabled)
{
	struct profile p;
	int64_t id = account(st, n, ROLE_COUNSELLOR, programme, "c",
	    disabled);

	if (id < 0)
		return -1;
	memset(&p, 0, sizeof(p));
	snprintf(p.languages, sizeof(p.languages), "%s", langs);
	snprintf(p.topics, sizeof(p.topics), "%s", topics);
	p.capacity = capacity;
	p.presence = presence;
	p.formats = FORMAT_CHAT;
	if (store_profile_set(st, id, &p) != 0)
		return -1;
	/* Certified (the store keeps certificates; the server checks them). */
	{
		uint8_t cert[CERT_BYTES];

		memset(cert, 0x5c, sizeof(cert));
		if (store_account_set_cert(st, id, cert) != 0)
			return -1;
	}
	return id;
}

static void
test_open(void)
{
	struct store *st = NULL;
	char path[PATH_MAX + 16], file[PATH_MAX + 16];

	/* A parent that is missing, and a "directory" that is a file. */
	snprintf(path, sizeof(path), "%s/no/such", root);
	CHECK_EQ_INT(store_open(&st, path, 1), OFR_E_IO);
	CHECK(st == NULL);
	snprintf(file, sizeof(file), "%s/file", root);
	fclose(fopen(file, "w"));
	CHECK_EQ_INT(store_open(&st, file, 1), OFR_E_IO);

	/* A lax umask must not make lax files. */
	umask(022);
	CHECK_EQ_INT(store_open(&st, dir, 1), 0);
	CHECK(st != NULL);
	CHECK_EQ_INT(mode_of(dir), 0700);
	CHECK_EQ_INT(mode_of(dbpath), 0600);
	snprintf(path, sizeof(path), "%s-wal", dbpath);
	CHECK_EQ_INT(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s-shm", dbpath);
	CHECK_EQ_INT(mode_of(path), 0600);
	CHECK_EQ_INT(peek("PRAGMA user_version"), 21);
	CHECK_EQ_INT(peek("SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name = 'deliveries'"), 1);
	CHECK_EQ_INT(peek("SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name IN ('case_notes', 'audit')"), 2);
	CHECK_EQ_INT(peek("SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'trigger' AND tbl_name = 'audit'"), 2);
	CHECK_EQ_INT(peek("SELECT count(*) FROM pragma_table_info("
	    "'counsellor_profiles') WHERE name = 'available'"), 0);
	CHECK_EQ_INT(peek("SELECT count(*) FROM pragma_table_info("
	    "'counsellor_profiles') WHERE name = 'presence'"), 1);
	/* the queue is read in its index's order, without a sort */
	CHECK_EQ_INT(peek("SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'index' AND name IN ('cases_queue', 'cases_waiting')"), 1);
	CHECK_EQ_INT(store_in_tx(st), 0);
	store_close(st);
	store_close(NULL);

	/* An existing directory is made 0700. */
	snprintf(path, sizeof(path), "%s/lax", root);
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	CHECK_EQ_INT(store_open(&st, path, 1), 0);
	CHECK_EQ_INT(mode_of(path), 0700);
	store_close(st);
}

/* Number of hours set in a profile's week. */
static int
hours_set(const uint8_t hours[MODEL_HOURS_BYTES])
{
	int n = 0;

	for (int h = 0; h < 168; h++)
		n += (hours[h / 8] >> (h % 8)) & 1;
	return n;
}

/* A profile with every field stated. */
static void
full_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->languages, sizeof(p->languages), ",en,de,");
	snprintf(p->topics, sizeof(p->topics), ",leaving,");
	p->capacity = 3;
	p->presence = PRESENCE_AWAY;
	snprintf(p->gender, sizeof(p->gender), "female");
	p->age_band = 2;
	p->background = BACKGROUND_PEER;
	p->formats = FORMAT_CHAT | FORMAT_PHONE_VIDEO;
	snprintf(p->region, sizeof(p->region), "de-be");
	p->hours[0] = 0x01;
	p->hours[20] = 0x80;
}

/* A client's last login is kept to the grain: a login within it writes
 * nothing (no transaction, nothing to commit); one past it, or with no
 * grain, writes; other roles never. */
static void
test_seen_grain(struct store *st)
{
	int64_t c = account(st, 9001, ROLE_CLIENT, 0, "seen", 0);
	int64_t k = account(st, 9002, ROLE_COUNSELLOR, 0, "seen-c", 0);
	int64_t created = 1000 + 9001, seen = 0;
	uint8_t key[OFR_PK_BYTES];
	struct account a;

	key_of(key, 9001);
	CHECK(c > 0 && k > 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_account_seen(st, c, created + 3599, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_account_seen(st, k, created + 9000, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_account_seen(st, c, created + 3600, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 1);
	CHECK_EQ_INT(store_commit(st), 0);
	/* counted from the login written, not from the creation */
	CHECK_EQ_INT(store_account_seen(st, c, created + 7000, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_account_seen(st, c, created + 7200, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 1);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_account_seen(st, c, created + 7201, 0), 0);
	CHECK_EQ_INT(store_in_tx(st), 1);
	CHECK_EQ_INT(store_commit(st), 0);
	/* a login's read: the account and its last login, in one */
	CHECK_EQ_INT(store_account_login(st, key, &a, &seen), 0);
	CHECK_EQ_INT(a.id, c);
	CHECK_EQ_INT(seen, created + 7201);
	CHECK_EQ_INT(store_account_seen_since(st, c, seen, created + 7201 +
	    3599, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_account_seen_since(st, c, seen, created + 7201 +
	    3600, 3600), 0);
	CHECK_EQ_INT(store_in_tx(st), 1);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_account_login(st, key, &a, &seen), 0);
	CHECK_EQ_INT(seen, created + 7201 + 3600);
	/* never written: its creation */
	key_of(key, 9002);
	CHECK_EQ_INT(store_account_login(st, key, &a, &seen), 0);
	CHECK_EQ_INT(seen, 1000 + 9002);
	key_of(key, 9003);
	CHECK_EQ_INT(store_account_login(st, key, &a, &seen), OFR_E_NOT_FOUND);
}

static void
test_programmes_accounts(struct store *st)
{
	struct account a, b;
	struct profile p;
	int64_t p1, p2, id, n = -1, cl, co, ad;

	CHECK_EQ_INT(store_programme_first(st, &p1), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_programme_create(st, "Exit One", 10, &p1), 0);
	CHECK_EQ_INT(store_programme_create(st, "Exit Two", 11, &p2), 0);
	CHECK(p1 != p2);
	id = 0;
	CHECK_EQ_INT(store_programme_first(st, &id), 0);
	CHECK_EQ_INT(id, p1 < p2 ? p1 : p2);

	CHECK_EQ_INT(store_admin_count(st, &n), 0);
	CHECK_EQ_INT(n, 0);
	cl = account(st, 1, ROLE_CLIENT, 0, "quiet-heron-42", 0);
	co = account(st, 2, ROLE_COUNSELLOR, p1, "Sam", 0);
	ad = account(st, 3, ROLE_ADMIN, p2, "Ada", 0);
	CHECK(cl > 0 && co > 0 && ad > 0);
	CHECK(cl != co && co != ad);
	CHECK_EQ_INT(account(st, 4, ROLE_ADMIN, p1, "Off", 1) > 0, 1);
	CHECK_EQ_INT(store_admin_count(st, &n), 0);
	CHECK_EQ_INT(n, 2);	/* disabled ones count */

	key_of(a.key, 2);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &b), 0);
	CHECK_EQ_INT(b.id, co);
	CHECK_EQ_INT(b.role, ROLE_COUNSELLOR);
	CHECK_EQ_INT(b.programme, p1);
	CHECK(strcmp(b.name, "Sam") == 0);
	CHECK_EQ_INT(b.disabled, 0);
	CHECK_EQ_INT(b.created, 1002);
	CHECK(memcmp(b.key, a.key, OFR_PK_BYTES) == 0);
	CHECK_EQ_INT(store_account_by_id(st, cl, &b), 0);
	CHECK_EQ_INT(b.role, ROLE_CLIENT);
	CHECK_EQ_INT(b.programme, 0);
	CHECK(strcmp(b.name, "quiet-heron-42") == 0);
	key_of(a.key, 4);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &b), 0);
	CHECK_EQ_INT(b.disabled, 1);
	key_of(a.key, 999);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &b), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_account_by_id(st, 999999, &b), OFR_E_NOT_FOUND);

	/* A key has one account; a refused create changes nothing. */
	memset(&a, 0, sizeof(a));
	key_of(a.key, 1);
	a.role = ROLE_COUNSELLOR;
	a.programme = p1;
	snprintf(a.name, sizeof(a.name), "dup");
	CHECK_EQ_INT(store_account_create(st, &a), OFR_E_FORBIDDEN);
	CHECK_EQ_INT(store_account_by_id(st, cl, &b), 0);
	CHECK_EQ_INT(b.role, ROLE_CLIENT);
	CHECK(strcmp(b.name, "quiet-heron-42") == 0);

	/* Profiles: counsellors get the defaults, others none. */
	memset(&p, 0x77, sizeof(p));
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK(strcmp(p.languages, ",") == 0);
	CHECK(strcmp(p.topics, ",") == 0);
	CHECK_EQ_INT(p.capacity, 5);
	CHECK_EQ_INT(p.presence, PRESENCE_ONLINE);
	CHECK_EQ_INT(p.formats, FORMAT_CHAT);
	CHECK(p.gender[0] == '\0' && p.region[0] == '\0');
	CHECK_EQ_INT(p.age_band, 0);
	CHECK_EQ_INT(p.background, 0);
	CHECK_EQ_INT(hours_set(p.hours), 0);
	CHECK_EQ_INT(store_profile_get(st, cl, &p), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_profile_get(st, ad, &p), OFR_E_NOT_FOUND);
	full_profile(&p);
	CHECK_EQ_INT(store_profile_set(st, co, &p), 0);
	memset(&p, 0, sizeof(p));
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK(strcmp(p.languages, ",en,de,") == 0);
	CHECK(strcmp(p.topics, ",leaving,") == 0);
	CHECK_EQ_INT(p.capacity, 3);
	CHECK_EQ_INT(p.presence, PRESENCE_AWAY);
	CHECK(strcmp(p.gender, "female") == 0);
	CHECK_EQ_INT(p.age_band, 2);
	CHECK_EQ_INT(p.background, BACKGROUND_PEER);
	CHECK_EQ_INT(p.formats, FORMAT_CHAT | FORMAT_PHONE_VIDEO);
	CHECK(strcmp(p.region, "de-be") == 0);
	CHECK_EQ_INT(hours_set(p.hours), 2);
	CHECK_EQ_INT(p.hours[0], 0x01);	/* hour 0: bit 0 of byte 0 */
	CHECK_EQ_INT(p.hours[20], 0x80);	/* hour 167 */
	/* back to "any time", and nothing stated: stored as NULL */
	memset(p.hours, 0, sizeof(p.hours));
	p.gender[0] = p.region[0] = '\0';
	p.presence = PRESENCE_OFFLINE;
	CHECK_EQ_INT(store_profile_set(st, co, &p), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(peek("SELECT count(*) FROM counsellor_profiles WHERE "
	    "hours IS NULL AND gender IS NULL AND region IS NULL AND "
	    "presence = 0"), 1);
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK_EQ_INT(hours_set(p.hours), 0);
	CHECK_EQ_INT(p.presence, PRESENCE_OFFLINE);
	CHECK(p.gender[0] == '\0' && p.region[0] == '\0');
	/* every field out of range is refused, and nothing is written */
	for (int i = 0; i < 11; i++) {
		full_profile(&p);
		switch (i) {
		case 0: p.presence = 3; break;
		case 1: p.presence = -1; break;
		case 2: p.age_band = 5; break;
		case 3: p.background = 3; break;
		case 4: p.formats = 8; break;
		case 5: p.formats = -1; break;
		case 6: snprintf(p.gender, sizeof(p.gender), "Fe male"); break;
		case 7: snprintf(p.region, sizeof(p.region), "de,be"); break;
		case 8: memset(p.region, 'a', sizeof(p.region)); break;
		case 9: p.capacity = -1; break;
		default: snprintf(p.topics, sizeof(p.topics), "leaving"); break;
		}
		CHECK_EQ_INT(store_profile_set(st, co, &p), OFR_E_BAD_FIELD);
	}
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK_EQ_INT(p.presence, PRESENCE_OFFLINE);
	full_profile(&p);
	CHECK_EQ_INT(store_profile_set(st, cl, &p), OFR_E_NOT_FOUND);
	snprintf(p.languages, sizeof(p.languages), "en,de");
	CHECK_EQ_INT(store_profile_set(st, co, &p), OFR_E_BAD_FIELD);
	snprintf(p.languages, sizeof(p.languages), ",EN,");
	CHECK_EQ_INT(store_profile_set(st, co, &p), OFR_E_BAD_FIELD);
	snprintf(p.languages, sizeof(p.languages), ",en,,");
	CHECK_EQ_INT(store_profile_set(st, co, &p), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK(strcmp(p.languages, ",en,de,") == 0);

	CHECK_EQ_INT(store_account_set_name(st, co, "Samira"), 0);
	CHECK_EQ_INT(store_account_by_id(st, co, &b), 0);
	CHECK(strcmp(b.name, "Samira") == 0);
	CHECK_EQ_INT(store_account_set_name(st, 999999, "x"),
	    OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_commit(st), 0);
}

static void
test_invites(struct store *st)
{
	uint8_t h1[32], h2[32], h3[32], h4[32], h5[32];
	int64_t p1, p2, prog = 0, n = -1, admin;
	int role = 0;
	struct account a;

	memset(h1, 1, 32);
	memset(h2, 2, 32);
	memset(h3, 3, 32);
	memset(h4, 4, 32);
	memset(h5, 5, 32);
	CHECK_EQ_INT(store_programme_create(st, "Invites", 100, &p1), 0);
	CHECK_EQ_INT(store_programme_create(st, "Other", 100, &p2), 0);
	admin = account(st, 300, ROLE_ADMIN, p1, "adm", 0);
	CHECK(admin > 0);

	CHECK_EQ_INT(store_invite_create(st, h1, p1, ROLE_COUNSELLOR, 2000,
	    admin, 1000), 0);
	CHECK_EQ_INT(store_invite_create(st, h2, p1, ROLE_ADMIN, 1010,
	    admin, 1000), 0);
	CHECK_EQ_INT(store_invite_create(st, h5, p2, ROLE_ADMIN, 2000,
	    admin, 1000), 0);
	CHECK_EQ_INT(store_invite_pending(st, p1, 1000, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_invite_pending(st, p1, 1010, &n), 0);
	CHECK_EQ_INT(n, 1);	/* h2 expires at 1010 */
	CHECK_EQ_INT(store_invite_pending(st, p2, 1000, &n), 0);
	CHECK_EQ_INT(n, 1);

	CHECK_EQ_INT(store_invite_take(st, h1, 1005, &prog, &role), 0);
	CHECK_EQ_INT(prog, p1);
	CHECK_EQ_INT(role, ROLE_COUNSELLOR);
	prog = -7;
	CHECK_EQ_INT(store_invite_take(st, h1, 1006, &prog, &role),
	    OFR_E_BAD_INVITE);
	CHECK_EQ_INT(prog, -7);
	CHECK_EQ_INT(store_invite_pending(st, p1, 1000, &n), 0);
	CHECK_EQ_INT(n, 1);
	/* expires is the first second it no longer works */
	CHECK_EQ_INT(store_invite_take(st, h2, 1010, &prog, &role),
	    OFR_E_BAD_INVITE);
	CHECK_EQ_INT(store_invite_take(st, h3, 1000, &prog, &role),
	    OFR_E_BAD_INVITE);
	CHECK_EQ_INT(store_invite_take(st, h2, 1009, &prog, &role), 0);
	CHECK_EQ_INT(role, ROLE_ADMIN);

	/* Bootstrap invites: created_by 0; dropped only when unused. */
	CHECK_EQ_INT(store_invite_create(st, h3, p1, ROLE_ADMIN, 5000, 0,
	    1000), 0);
	CHECK_EQ_INT(store_invite_create(st, h4, p1, ROLE_ADMIN, 5000, admin,
	    1000), 0);
	CHECK_EQ_INT(store_invite_pending(st, p1, 1000, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_invite_drop_bootstrap(st), 0);
	CHECK_EQ_INT(store_invite_pending(st, p1, 1000, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_invite_take(st, h3, 1000, &prog, &role),
	    OFR_E_BAD_INVITE);
	CHECK_EQ_INT(store_invite_take(st, h4, 1000, &prog, &role), 0);

	/* A taken invite and the account made from it are one request:
	 * undoing the request gives the invite back. */
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_invite_create(st, h3, p1, ROLE_COUNSELLOR, 5000,
	    admin, 1000), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	store_mark(st);
	CHECK_EQ_INT(store_invite_take(st, h3, 1000, &prog, &role), 0);
	memset(&a, 0, sizeof(a));
	key_of(a.key, 300);	/* taken: the request fails */
	a.role = role;
	a.programme = prog;
	snprintf(a.name, sizeof(a.name), "x");
	CHECK_EQ_INT(store_account_create(st, &a), OFR_E_FORBIDDEN);
	store_unmark(st, 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_invite_take(st, h3, 1000, &prog, &role), 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

struct ids {
	int64_t id[STORE_CASES_MAX];
	int n;
	int stop_after;		/* 0: never */
};

static int
collect(void *arg, const struct case_info *c)
{
	struct ids *ids = arg;

	ids->id[ids->n++] = c->id;
	if (ids->stop_after != 0 && ids->n == ids->stop_after)
		return 7;
	return 0;
}

static void
test_cases(struct store *st)
{
	struct case_info c, c2, c3, g;
	struct participant p[MODEL_PARTICIPANTS_MAX];
	struct ids ids;
	int64_t prog, cl, cl2, co, w[3], got[8];
	size_t n = 99;
	int yes = -1;

	CHECK_EQ_INT(store_programme_first(st, &prog), 0);
	cl = account(st, 400, ROLE_CLIENT, 0, "client-a", 0);
	cl2 = account(st, 401, ROLE_CLIENT, 0, "client-b", 0);
	co = counsellor(st, 402, prog, ",zz,", ",", 5, PRESENCE_ONLINE, 0);
	CHECK(cl > 0 && cl2 > 0 && co > 0);

	CHECK_EQ_INT(store_case_open_of_client(st, cl, &c), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_create(st, cl, "zz", "leaving", 10, &c), 0);
	CHECK(c.id >= 1 && c.id <= OFR_ID_MAX);
	CHECK_EQ_INT(c.status, CASE_WAITING);
	CHECK(strcmp(c.language, "zz") == 0);
	CHECK(strcmp(c.topic, "leaving") == 0);
	CHECK_EQ_INT(c.client, cl);
	CHECK_EQ_INT(c.counsellor, 0);
	CHECK_EQ_INT(c.created, 10);
	CHECK_EQ_INT(c.updated, 10);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.id, c.id);
	CHECK_EQ_INT(g.status, CASE_WAITING);
	CHECK(strcmp(g.topic, "leaving") == 0);
	CHECK_EQ_INT(g.client, cl);
	CHECK_EQ_INT(store_case_participants(st, c.id, p,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(p[0].account, cl);
	CHECK_EQ_INT(p[0].role, ROLE_CLIENT);
	CHECK(strcmp(p[0].name, "client-a") == 0);
	CHECK_EQ_INT(store_case_open_of_client(st, cl, &g), 0);
	CHECK_EQ_INT(g.id, c.id);
	/* one open case per client; tokens only */
	CHECK_EQ_INT(store_case_create(st, cl, "zz", "", 11, &c2),
	    OFR_E_CASE_OPEN);
	CHECK_EQ_INT(store_case_create(st, cl2, "Z Z", "", 11, &c2),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_case_create(st, cl2, "zz", "a,b", 11, &c2),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_case_get(st, 12345, &g), OFR_E_NOT_FOUND);

	CHECK_EQ_INT(store_case_has_participant(st, c.id, cl, &yes), 0);
	CHECK_EQ_INT(yes, 1);
	CHECK_EQ_INT(store_case_has_participant(st, c.id, co, &yes), 0);
	CHECK_EQ_INT(yes, 0);

	/* assign */
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 15), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_ACTIVE);
	CHECK_EQ_INT(g.counsellor, co);
	CHECK_EQ_INT(g.updated, 15);
	CHECK_EQ_INT(g.created, 10);
	CHECK_EQ_INT(store_case_participants(st, c.id, p,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(p[0].account, cl);
	CHECK_EQ_INT(p[1].account, co);
	CHECK_EQ_INT(p[1].role, ROLE_COUNSELLOR);
	CHECK(strcmp(p[1].name, "c") == 0);
	CHECK_EQ_INT(store_case_participants(st, c.id, p, 1, &n),
	    OFR_E_LIMIT);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_case_has_participant(st, c.id, co, &yes), 0);
	CHECK_EQ_INT(yes, 1);
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 16), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_assign(st, 12345, co, 16), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_open_of_client(st, cl, &g), 0);
	CHECK_EQ_INT(g.status, CASE_ACTIVE);
	/* a client is not a counsellor: refused whole */
	CHECK_EQ_INT(store_case_create(st, cl2, "zz", NULL, 12, &c2), 0);
	CHECK(c2.topic[0] == '\0');
	CHECK_EQ_INT(store_case_assign(st, c2.id, cl, 16), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_get(st, c2.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_WAITING);
	CHECK_EQ_INT(g.counsellor, 0);

	/* close */
	CHECK_EQ_INT(store_case_close(st, c.id, 20), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_CLOSED);
	CHECK_EQ_INT(g.updated, 20);
	CHECK_EQ_INT(store_case_close(st, c.id, 21), OFR_E_CASE_CLOSED);
	CHECK_EQ_INT(store_case_close(st, 12345, 21), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_open_of_client(st, cl, &g), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 22), OFR_E_NOT_FOUND);

	/* each_of: newest first */
	CHECK_EQ_INT(store_case_create(st, cl, "zz", "", 30, &c3), 0);
	CHECK_EQ_INT(store_case_close(st, c3.id, 31), 0);
	CHECK_EQ_INT(store_case_create(st, cl, "zz", "", 40, &c3), 0);
	memset(&ids, 0, sizeof(ids));
	CHECK_EQ_INT(store_case_each_of(st, cl, collect, &ids, NULL), 0);
	CHECK_EQ_INT(ids.n, 3);
	CHECK_EQ_INT(ids.id[0], c3.id);
	CHECK_EQ_INT(ids.id[2], c.id);
	CHECK(ids.id[1] != c.id && ids.id[1] != c3.id);
	memset(&ids, 0, sizeof(ids));
	CHECK_EQ_INT(store_case_each_of(st, co, collect, &ids, NULL), 0);
	CHECK_EQ_INT(ids.n, 1);
	CHECK_EQ_INT(ids.id[0], c.id);
	memset(&ids, 0, sizeof(ids));
	ids.stop_after = 1;
	CHECK_EQ_INT(store_case_each_of(st, cl, collect, &ids, NULL), 7);
	CHECK_EQ_INT(ids.n, 1);
	memset(&ids, 0, sizeof(ids));
	CHECK_EQ_INT(store_case_each_of(st, 999999, collect, &ids, NULL), 0);
	CHECK_EQ_INT(ids.n, 0);

	/* waiting: in order of arrival, also within one second */
	CHECK_EQ_INT(store_case_close(st, c2.id, 41), 0);
	CHECK_EQ_INT(store_case_close(st, c3.id, 41), 0);
	w[0] = account(st, 410, ROLE_CLIENT, 0, "w0", 0);
	w[1] = account(st, 411, ROLE_CLIENT, 0, "w1", 0);
	w[2] = account(st, 412, ROLE_CLIENT, 0, "w2", 0);
	CHECK_EQ_INT(store_case_create(st, w[1], "zz", "", 50, &c2), 0);
	CHECK_EQ_INT(store_case_create(st, w[0], "zz", "", 50, &c), 0);
	CHECK_EQ_INT(store_case_create(st, w[2], "zz", "", 50, &c3), 0);
	CHECK_EQ_INT(store_case_waiting(st, got, 8, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(got[0], c2.id);
	CHECK_EQ_INT(got[1], c.id);
	CHECK_EQ_INT(got[2], c3.id);
	CHECK_EQ_INT(store_case_waiting(st, got, 2, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(got[1], c.id);
	CHECK_EQ_INT(store_case_assign(st, c2.id, co, 61), 0);
	CHECK_EQ_INT(store_case_waiting(st, got, 8, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(got[0], c.id);
	CHECK_EQ_INT(store_case_close(st, c.id, 62), 0);
	CHECK_EQ_INT(store_case_close(st, c2.id, 62), 0);
	CHECK_EQ_INT(store_case_close(st, c3.id, 62), 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

struct seen {
	int n;
	int64_t seq[16];
	int64_t case_id[16];
	uint8_t mid[16][OFR_MID_BYTES];
	uint8_t from[16][OFR_PK_BYTES];
	int64_t ts[16];
	uint8_t ct[16][64];
	size_t ct_len[16];
	int stop_after;
};

static int
seen_one(void *arg, const struct delivery *d)
{
	struct seen *s = arg;
	int i = s->n;

	if (i >= 16 || d->ct_len > sizeof(s->ct[0]))
		return 99;
	s->seq[i] = d->seq;
	s->case_id[i] = d->case_id;
	memcpy(s->mid[i], d->mid, OFR_MID_BYTES);
	memcpy(s->from[i], d->from_key, OFR_PK_BYTES);
	s->ts[i] = d->ts;
	memcpy(s->ct[i], d->ct, d->ct_len);
	s->ct_len[i] = d->ct_len;
	s->n++;
	if (s->stop_after != 0 && s->n == s->stop_after)
		return 5;
	return 0;
}

static int
seen_nested(void *arg, const struct delivery *d)
{
	struct store *st = arg;
	struct seen inner;

	(void)d;
	memset(&inner, 0, sizeof(inner));
	return store_deliveries_each(st, 1, 0, 1, seen_one, &inner);
}

static void
deliveries(struct store *st, int64_t who, int64_t after, size_t max,
    struct seen *s)
{
	memset(s, 0, sizeof(*s));
	CHECK_EQ_INT(store_deliveries_each(st, who, after, max, seen_one, s),
	    0);
}

static void
test_messages(struct store *st)
{
	uint8_t mid1[OFR_MID_BYTES], mid2[OFR_MID_BYTES], mid3[OFR_MID_BYTES];
	uint8_t key[OFR_PK_BYTES], big[OFR_CT_MAX + 1];
	const uint8_t *ct[2];
	size_t len[2];
	int64_t prog, cl, co, su, rc2[2], bogus[2], cid, seqs[2];
	struct case_info c;
	struct seen s, t;
	int dup = -1, del = -1;

	CHECK_EQ_INT(store_programme_first(st, &prog), 0);
	cl = account(st, 600, ROLE_CLIENT, 0, "m-client", 0);
	co = counsellor(st, 601, prog, ",xx,", ",", 5, PRESENCE_ONLINE, 0);
	su = counsellor(st, 602, prog, ",yy,", ",", 5, PRESENCE_ONLINE, 0);
	CHECK_EQ_INT(store_case_create(st, cl, "xx", "", 500, &c), 0);
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 500), 0);
	cid = c.id;
	memset(mid1, 0x11, sizeof(mid1));
	memset(mid2, 0x22, sizeof(mid2));
	memset(mid3, 0x33, sizeof(mid3));

	/* one message, two copies */
	rc2[0] = co;
	rc2[1] = su;
	ct[0] = (const uint8_t *)"copy-for-co";
	len[0] = 11;
	ct[1] = (const uint8_t *)"copy-for-su!";
	len[1] = 12;
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 510, rc2, ct, len,
	    2, &dup, seqs), 0);
	CHECK_EQ_INT(dup, 0);
	deliveries(st, co, 0, 10, &s);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.seq[0], seqs[0]);	/* the seqs it gave */
	CHECK_EQ_INT(s.case_id[0], cid);
	CHECK(memcmp(s.mid[0], mid1, OFR_MID_BYTES) == 0);
	key_of(key, 600);
	CHECK(memcmp(s.from[0], key, OFR_PK_BYTES) == 0);
	CHECK_EQ_INT(s.ts[0], 510);
	CHECK_EQ_INT(s.ct_len[0], 11);
	CHECK(memcmp(s.ct[0], "copy-for-co", 11) == 0);
	deliveries(st, su, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	CHECK_EQ_INT(t.seq[0], seqs[1]);
	CHECK_EQ_INT(t.ct_len[0], 12);
	CHECK(memcmp(t.ct[0], "copy-for-su!", 12) == 0);
	CHECK(t.seq[0] != s.seq[0]);
	deliveries(st, cl, 0, 10, &t);
	CHECK_EQ_INT(t.n, 0);	/* the sender gets no copy */
	/* the case changed; the client's message is no response */
	CHECK_EQ_INT(store_case_get(st, cid, &c), 0);
	CHECK_EQ_INT(c.updated, 510);
	CHECK_EQ_INT(c.first_response, 0);

	/* the same mid from the same sender: stored once */
	ct[0] = (const uint8_t *)"other";
	len[0] = 5;
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 511, rc2, ct, len,
	    2, &dup, NULL), 0);
	CHECK_EQ_INT(dup, 1);
	deliveries(st, co, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	CHECK_EQ_INT(t.ct_len[0], 11);
	CHECK_EQ_INT(store_case_get(st, cid, &c), 0);
	CHECK_EQ_INT(c.updated, 510);	/* a duplicate changes nothing */
	/* ...but another sender may use it */
	CHECK_EQ_INT(store_message_insert(st, cid, co, mid1, 512, &cl, ct, len,
	    1, &dup, NULL), 0);
	CHECK_EQ_INT(dup, 0);
	/* the counsellor's first message is the first response */
	CHECK_EQ_INT(store_case_get(st, cid, &c), 0);
	CHECK_EQ_INT(c.updated, 512);
	CHECK_EQ_INT(c.first_response, 512);
	deliveries(st, cl, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	key_of(key, 601);
	CHECK(memcmp(t.from[0], key, OFR_PK_BYTES) == 0);

	/* order, after, max */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid2, 513, rc2, ct, len,
	    1, &dup, NULL), 0);
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid3, 514, rc2, ct, len,
	    1, &dup, NULL), 0);
	CHECK_EQ_INT(store_case_get(st, cid, &c), 0);
	CHECK_EQ_INT(c.updated, 514);
	CHECK_EQ_INT(c.first_response, 512);	/* the first stays */
	deliveries(st, co, 0, 10, &s);
	CHECK_EQ_INT(s.n, 3);
	CHECK(s.seq[0] < s.seq[1] && s.seq[1] < s.seq[2]);
	CHECK(memcmp(s.mid[0], mid1, OFR_MID_BYTES) == 0);
	CHECK(memcmp(s.mid[1], mid2, OFR_MID_BYTES) == 0);
	CHECK(memcmp(s.mid[2], mid3, OFR_MID_BYTES) == 0);
	deliveries(st, co, s.seq[0], 10, &t);
	CHECK_EQ_INT(t.n, 2);
	CHECK_EQ_INT(t.seq[0], s.seq[1]);
	deliveries(st, co, s.seq[0], 1, &t);
	CHECK_EQ_INT(t.n, 1);
	CHECK_EQ_INT(t.seq[0], s.seq[1]);
	deliveries(st, co, 0, 0, &t);
	CHECK_EQ_INT(t.n, 0);
	deliveries(st, co, s.seq[2], 10, &t);
	CHECK_EQ_INT(t.n, 0);
	memset(&t, 0, sizeof(t));
	t.stop_after = 2;
	CHECK_EQ_INT(store_deliveries_each(st, co, 0, 10, seen_one, &t), 5);
	CHECK_EQ_INT(t.n, 2);
	CHECK_EQ_INT(store_deliveries_each(st, co, 0, 10, seen_nested, st),
	    OFR_E_INTERNAL);

	/* ack: only one's own copy, once */
	deliveries(st, su, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	CHECK_EQ_INT(store_delivery_ack(st, co, t.seq[0], &del), 0);
	CHECK_EQ_INT(del, 0);
	CHECK_EQ_INT(store_delivery_ack(st, co, s.seq[0], &del), 0);
	CHECK_EQ_INT(del, 1);
	CHECK_EQ_INT(store_delivery_ack(st, co, s.seq[0], &del), 0);
	CHECK_EQ_INT(del, 0);
	CHECK_EQ_INT(store_delivery_ack(st, co, 999999, &del), 0);
	CHECK_EQ_INT(del, 0);
	deliveries(st, co, 0, 10, &t);
	CHECK_EQ_INT(t.n, 2);
	CHECK_EQ_INT(t.seq[0], s.seq[1]);
	deliveries(st, su, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);	/* su's copy of mid1 is still there */

	/* bounds, and a failed insert leaves nothing behind */
	memset(big, 0, sizeof(big));
	ct[0] = big;
	len[0] = sizeof(big);
	CHECK_EQ_INT(store_message_insert(st, cid, su, mid1, 515, &cl, ct, len,
	    1, &dup, NULL), OFR_E_BAD_FIELD);
	bogus[0] = cl;
	bogus[1] = 999999;	/* no such account */
	ct[0] = ct[1] = (const uint8_t *)"z";
	len[0] = len[1] = 1;
	CHECK_EQ_INT(store_message_insert(st, cid, su, mid1, 515, bogus, ct,
	    len, 2, &dup, NULL), OFR_E_INTERNAL);
	deliveries(st, cl, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);	/* only co's copy from before */
	CHECK_EQ_INT(store_case_get(st, cid, &c), 0);
	CHECK_EQ_INT(c.updated, 514);	/* nor the case's time */
	CHECK_EQ_INT(store_message_insert(st, cid, su, mid1, 515, bogus, ct,
	    len, 1, &dup, NULL), 0);
	CHECK_EQ_INT(dup, 0);	/* the failed one stored no record */
	CHECK_EQ_INT(store_case_get(st, cid, &c), 0);
	CHECK_EQ_INT(c.updated, 515);
	CHECK_EQ_INT(c.first_response, 512);	/* su: not its counsellor */
	CHECK_EQ_INT(store_commit(st), 0);

	/* purge: records without copies, older than before */
	deliveries(st, su, 0, 10, &t);
	CHECK_EQ_INT(store_delivery_ack(st, su, t.seq[0], &del), 0);
	CHECK_EQ_INT(del, 1);
	CHECK_EQ_INT(store_messages_purge(st, 510), 0);	/* not older */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 520, rc2, ct, len,
	    1, &dup, NULL), 0);
	CHECK_EQ_INT(dup, 1);
	CHECK_EQ_INT(store_messages_purge(st, 600), 0);
	/* mid2 and mid3 still have co's copies: still known */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid2, 520, rc2, ct, len,
	    1, &dup, NULL), 0);
	CHECK_EQ_INT(dup, 1);
	/* mid1 had none left: forgotten, so it is new again */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 520, rc2, ct, len,
	    1, &dup, NULL), 0);
	CHECK_EQ_INT(dup, 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

static const int64_t from_first[2] = { 0, 0 };

/* Accepted referrals proposed in one second wait in the order they were
 * proposed, whatever the order of their answers: on both stores. */
static void
test_referral_ties(struct store *st)
{
	struct case_info c;
	int64_t pa, pb, co, cl, ref[4], cases[4], ids[8], keys[8][2];
	size_t n = 0;

	CHECK_EQ_INT(store_programme_create(st, "Tie A", 2700, &pa), 0);
	CHECK_EQ_INT(store_programme_create(st, "Tie B", 2700, &pb), 0);
	co = counsellor(st, 2705, pa, ",tt,", ",", 50, PRESENCE_ONLINE, 0);
	for (int i = 0; i < 4; i++) {
		cl = account(st, 2701 + i, ROLE_CLIENT, 0, "tie", 0);
		CHECK_EQ_INT(store_case_create(st, cl, "tt", "", 2710, &c), 0);
		CHECK_EQ_INT(store_case_assign(st, c.id, co, 2711), 0);
		cases[i] = c.id;
		CHECK_EQ_INT(store_referral_propose(st, c.id, pa, pb, 2720,
		    &ref[i]), 0);
	}
	for (int i = 3; i >= 0; i--)
		CHECK_EQ_INT(store_referral_answer(st, ref[i],
		    REFERRAL_ACCEPTED, 2730 + (3 - i)), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_referrals_waiting(st, pb, from_first, ids, keys, 8,
	    &n), 0);
	CHECK_EQ_INT((long long)n, 4);
	for (size_t i = 0; i < n && i < 4; i++) {
		CHECK_EQ_INT(ids[i], cases[i]);
		CHECK_EQ_INT(keys[i][0], 2720);
		CHECK_EQ_INT(keys[i][1], ref[i]);
	}
	/* in pages of 1 and of 3, each after the last of the one before
	 * (its time and id: the ties are told apart by the id), the same
	 * order, then nothing */
	for (size_t page = 1; page <= 3; page += 2) {
		int64_t after[2] = { 0, 0 };
		size_t got = 0;

		for (int guard = 0; guard < 8; guard++) {
			CHECK_EQ_INT(store_referrals_waiting(st, pb, after, ids,
			    keys, page, &n), 0);
			for (size_t i = 0; i < n && got < 4; i++)
				CHECK_EQ_INT(ids[i], cases[got++]);
			if (n < page)
				break;
			after[0] = keys[n - 1][0];
			after[1] = keys[n - 1][1];
		}
		CHECK_EQ_INT((long long)got, 4);
		CHECK_EQ_INT(store_referrals_waiting(st, pb, after, ids, NULL,
		    page, &n), 0);
		if (page == 1)	/* the last page was full: one more, empty */
			CHECK_EQ_INT((long long)n, 0);
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(store_referral_answer(st, ref[i],
		    REFERRAL_DECLINED, 2740), OFR_E_BAD_STATE);
}

#define STALE_REFERRALS	102	/* past store_referrals_waiting's 100 */

/*
 * Accepted referrals with nobody chosen that wait for nobody are not
 * read as waiting: of a case closed (100 of them), waiting again, or
 * led by a counsellor of another programme than the proposing one.
 * The one that waits, proposed after them all, is read; a closed case
 * opened again waits again, in its place.
 */
static void
test_referrals_stale(struct store *st)
{
	struct case_info c;
	int64_t pa, pb, pc, co, other, cl, id, live = 0, first = 0, ids[100];
	size_t n = 0;

	CHECK_EQ_INT(store_programme_create(st, "Stale A", 5000, &pa), 0);
	CHECK_EQ_INT(store_programme_create(st, "Stale B", 5000, &pb), 0);
	CHECK_EQ_INT(store_programme_create(st, "Stale C", 5000, &pc), 0);
	co = counsellor(st, 5001, pa, ",ss,", ",", 500, PRESENCE_ONLINE, 0);
	other = counsellor(st, 5002, pc, ",ss,", ",", 50, PRESENCE_ONLINE, 0);
	for (int i = 0; i <= STALE_REFERRALS; i++) {
		cl = account(st, 5100 + i, ROLE_CLIENT, 0, "stale", 0);
		CHECK_EQ_INT(store_case_create(st, cl, "ss", "", 5010, &c), 0);
		CHECK_EQ_INT(store_case_assign(st, c.id, i == 1 ? other : co,
		    5011), 0);
		/* the last one proposed after all the others */
		CHECK_EQ_INT(store_referral_propose(st, c.id, pa, pb,
		    i == STALE_REFERRALS ? 5021 : 5020, &id), 0);
		CHECK_EQ_INT(store_referral_answer(st, id, REFERRAL_ACCEPTED,
		    5030), 0);
		if (i == 0)
			CHECK_EQ_INT(store_case_unassign(st, c.id,
			    LEFT_REASSIGNED, 5040), 0);
		else if (i == STALE_REFERRALS)
			live = c.id;
		else if (i > 1) {
			CHECK_EQ_INT(store_case_close(st, c.id, 5040), 0);
			if (first == 0)
				first = c.id;
		}
	}
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_referrals_waiting(st, pb, from_first, ids, NULL,
	    100, &n), 0);
	CHECK_EQ_INT((long long)n, 1);
	CHECK_EQ_INT(n > 0 ? ids[0] : 0, live);
	/* the first closed one opened again (case.reopen) */
	CHECK_EQ_INT(store_case_set_status(st, first, CASE_ACTIVE, 5050), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_referrals_waiting(st, pb, from_first, ids, NULL,
	    100, &n), 0);
	CHECK_EQ_INT((long long)n, 2);
	CHECK_EQ_INT(n > 1 ? ids[0] : 0, first);
	CHECK_EQ_INT(n > 1 ? ids[1] : 0, live);
}

/* PostgreSQL's log of the test's cluster (host= of url), its size now
 * into *at; NULL on SQLite or when it cannot be read. */
static FILE *
pg_log_at(long *at)
{
	char path[PATH_MAX];
	const char *h;
	size_t n;
	FILE *f;

	if (url == NULL || (h = strstr(url, "host=")) == NULL)
		return NULL;
	h += 5;
	n = strcspn(h, "&");
	if ((size_t)snprintf(path, sizeof(path), "%.*s/server.log", (int)n,
	    h) >= sizeof(path) || (f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (*at = ftell(f)) < 0) {
		fclose(f);
		return NULL;
	}
	return f;
}

/*
 * The refusals a request can meet (a client's second open case, its
 * case opened again beside another, a second referral of a case, a key
 * that has an account) change nothing and are no errors of the database:
 * on PostgreSQL an error's DETAIL names the key's values (a client's
 * account id, a case's id) in its log, which outlives retention.
 */
static void
test_refusals_unlogged(struct store *st)
{
	struct case_info c, c2;
	struct account a;
	int64_t prog, pb, co, cl, ref, ref2;
	char line[1024];
	long at = 0;
	FILE *log = pg_log_at(&at);

	CHECK(url == NULL || log != NULL);
	CHECK_EQ_INT(store_programme_create(st, "Quiet", 2800, &prog), 0);
	CHECK_EQ_INT(store_programme_create(st, "Quiet B", 2800, &pb), 0);
	co = counsellor(st, 2801, prog, ",qq,", ",", 50, PRESENCE_ONLINE, 0);
	cl = account(st, 2802, ROLE_CLIENT, 0, "quiet", 0);
	CHECK_EQ_INT(store_case_create(st, cl, "qq", "", 2810, &c), 0);
	CHECK_EQ_INT(store_case_create(st, cl, "qq", "", 2811, &c2),
	    OFR_E_CASE_OPEN);
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 2812), 0);
	CHECK_EQ_INT(store_referral_propose(st, c.id, prog, pb, 2813, &ref), 0);
	CHECK_EQ_INT(store_referral_propose(st, c.id, prog, pb, 2814, &ref2),
	    OFR_E_BAD_STATE);
	CHECK_EQ_INT(store_case_close(st, c.id, 2815), 0);
	CHECK_EQ_INT(store_case_create(st, cl, "qq", "", 2816, &c2), 0);
	CHECK_EQ_INT(store_case_set_status(st, c.id, CASE_ACTIVE, 2817),
	    OFR_E_CASE_OPEN);
	CHECK_EQ_INT(store_case_set_status(st, c.id + 1, CASE_ACTIVE, 2817),
	    OFR_E_NOT_FOUND);
	memset(&a, 0, sizeof(a));
	key_of(a.key, 2802);
	a.role = ROLE_CLIENT;
	a.created = 2818;
	CHECK_EQ_INT(store_account_create(st, &a), OFR_E_FORBIDDEN);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &c), 0);
	CHECK_EQ_INT(c.status, CASE_CLOSED);
	if (log == NULL)
		return;
	CHECK_EQ_INT(fseek(log, at, SEEK_SET), 0);
	while (fgets(line, sizeof(line), log) != NULL)
		if (strstr(line, "DETAIL:  Key (") != NULL) {
			fprintf(stderr, "PostgreSQL logged: %s", line);
			CHECK(0);
		}
	fclose(log);
}

#ifdef OFFRAMP_POSTGRES
/* Node b of test_otk_two_nodes: takes a key and commits. */
struct otk_taker {
	struct store *st;
	int64_t account;
	uint32_t id;
	int rc, commit;
};

static void *
otk_take_commit(void *arg)
{
	struct otk_taker *t = arg;
	uint8_t pk[32];

	t->rc = store_otk_take(t->st, t->account, &t->id, pk);
	t->commit = store_commit(t->st);
	return NULL;
}

/* Sessions of the database waiting for a lock, or -1. */
static long long
lock_waiters(void)
{
	return peek("SELECT count(*) FROM pg_stat_activity"
	    " WHERE datname = current_database() AND wait_event_type = 'Lock'");
}

/*
 * Two nodes (two stores on one database) answer prekeys.get for one
 * account at once: node a has taken the oldest one-time prekey and not
 * yet committed when node b reads the oldest; b's delete waits for a's
 * commit. Each gets a key of its own, and both are gone.
 */
static void
test_otk_two_nodes(void)
{
	char dir2[PATH_MAX];
	struct store *a = NULL, *b = NULL;
	struct otk_taker t;
	uint8_t pk[32];
	uint32_t id = 0;
	int64_t prog, n = -1;
	pthread_t th;
	int waited = 0;

	snprintf(dir2, sizeof(dir2), "%.*s/data-b", PATH_MAX - 32, root);
	CHECK_EQ_INT(mkdir(dir2, 0700), 0);
	CHECK_EQ_INT(store_open_url(&a, dir, url, 1), 0);
	CHECK_EQ_INT(store_open_url(&b, dir2, url, 1), 0);
	if (a == NULL || b == NULL)
		goto out;
	CHECK_EQ_INT(store_programme_create(a, "otk nodes", 2600, &prog), 0);
	memset(&t, 0, sizeof(t));
	t.st = b;
	t.account = account(a, 2601, ROLE_COUNSELLOR, prog, "c", 0);
	for (uint32_t i = 1; i <= 3; i++) {
		memset(pk, (int)i, sizeof(pk));
		CHECK_EQ_INT(store_otk_add(a, t.account, 700 + i, pk), 0);
	}
	CHECK_EQ_INT(store_commit(a), 0);
	CHECK_EQ_INT(store_otk_take(a, t.account, &id, pk), 0);
	CHECK_EQ_INT((long long)id, 701);
	CHECK_EQ_INT(pthread_create(&th, NULL, otk_take_commit, &t), 0);
	/* until b waits for a's row (10 s at most) */
	for (int i = 0; i < 1000 && !waited; i++) {
		if (lock_waiters() > 0)
			waited = 1;
		else
			usleep(10000);
	}
	CHECK(waited);
	CHECK_EQ_INT(store_commit(a), 0);
	pthread_join(th, NULL);
	CHECK_EQ_INT(t.rc, 0);
	CHECK_EQ_INT(t.commit, 0);
	CHECK_EQ_INT((long long)t.id, 702);	/* not a's 701 */
	CHECK_EQ_INT(store_otk_count(a, t.account, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_commit(a), 0);
out:
	store_close(b);
	store_close(a);
}

/*
 * PostgreSQL lost between a call's writes and its release (a backend
 * stopped or ended then; test_pg_stall's SIGSTOP found it): the call
 * ends unavailable, which a client retries, not internal.
 */
static void
test_call_lost(void)
{
	char dir3[PATH_MAX];
	struct store *a = NULL;
	long long since, left = -1;

	snprintf(dir3, sizeof(dir3), "%.*s/data-c", PATH_MAX - 32, root);
	CHECK_EQ_INT(mkdir(dir3, 0700), 0);
	since = peek("SELECT floor(extract(epoch FROM clock_timestamp())"
	    " * 1000000) - 1");
	CHECK_EQ_INT(store_open_url(&a, dir3, url, 1), 0);
	if (a == NULL)
		return;
	CHECK_EQ_INT(db_call_begin(a), 0);
	{
		char q[512];

		/* the sessions this store opened, ended from outside */
		snprintf(q, sizeof(q), "SELECT count(pg_terminate_backend(pid))"
		    " FROM pg_stat_activity WHERE datname = current_database()"
		    " AND pid <> pg_backend_pid() AND backend_start >="
		    " to_timestamp(%lld / 1000000.0)", since);
		CHECK(peek(q) >= 1);
		snprintf(q, sizeof(q), "SELECT count(*) FROM pg_stat_activity"
		    " WHERE datname = current_database() AND pid <>"
		    " pg_backend_pid() AND backend_start >="
		    " to_timestamp(%lld / 1000000.0)", since);
		for (int i = 0; i < 1000 && (left = peek(q)) != 0; i++)
			usleep(10000);	/* 10 s at most */
		CHECK_EQ_INT(left, 0);
	}
	CHECK_EQ_INT(db_call_end(a, 0), OFR_E_UNAVAILABLE);
	store_close(a);
}
#endif

static void
test_transactions(struct store **stp)
{
	struct store *st = *stp;
	struct account a;
	int64_t id;
	char q[128];

	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_commit(st), 0);	/* nothing open: fine */
	key_of(a.key, 1);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), 0);
	CHECK_EQ_INT(store_in_tx(st), 0);	/* reads open nothing */

	/* rollback */
	id = account(st, 700, ROLE_CLIENT, 0, "gone", 0);
	CHECK(id > 0);
	CHECK_EQ_INT(store_in_tx(st), 1);
	store_rollback(st);
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(store_account_by_id(st, id, &a), OFR_E_NOT_FOUND);
	store_rollback(st);	/* nothing open: harmless */

	/* group commit: others see nothing until the commit */
	id = account(st, 701, ROLE_CLIENT, 0, "kept", 0);
	CHECK(id > 0);
	CHECK_EQ_INT(account(st, 702, ROLE_CLIENT, 0, "kept2", 0) > 0, 1);
	snprintf(q, sizeof(q), "SELECT count(*) FROM accounts WHERE id >= %lld",
	    (long long)id);
	CHECK_EQ_INT(peek(q), 0);
	CHECK_EQ_INT(store_commit(st), 0);
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(peek(q), 2);

	/* one request's writes, all or nothing */
	store_mark(st);
	store_unmark(st, 0);	/* wrote nothing: opened nothing */
	CHECK_EQ_INT(store_in_tx(st), 0);
	CHECK_EQ_INT(account(st, 703, ROLE_CLIENT, 0, "before", 0) > 0, 1);
	store_mark(st);
	CHECK_EQ_INT(account(st, 704, ROLE_CLIENT, 0, "undone", 0) > 0, 1);
	CHECK_EQ_INT(account(st, 705, ROLE_CLIENT, 0, "undone", 0) > 0, 1);
	store_unmark(st, 0);
	CHECK_EQ_INT(store_in_tx(st), 1);
	store_mark(st);
	CHECK_EQ_INT(account(st, 706, ROLE_CLIENT, 0, "kept", 0) > 0, 1);
	store_unmark(st, 1);
	CHECK_EQ_INT(store_commit(st), 0);
	key_of(a.key, 703);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), 0);
	key_of(a.key, 704);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), OFR_E_NOT_FOUND);
	key_of(a.key, 705);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), OFR_E_NOT_FOUND);
	key_of(a.key, 706);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), 0);

	/* durability: committed data survives a close; the rest does not */
	CHECK_EQ_INT(account(st, 707, ROLE_CLIENT, 0, "uncommitted", 0) > 0,
	    1);
	store_close(st);
	*stp = st = NULL;
	CHECK_EQ_INT(open_store(&st), 0);
	*stp = st;
	if (st == NULL)
		return;
	/* SQLite's version 17 is PostgreSQL's 1, 18 its 2, 19 its 5, 20
	 * its 6, 21 its 8; its 3, 4, 7 and 9 are its own (nodes.presence,
	 * nodes.waiting, the sequence case_events, no statistics of the
	 * columns that name a person: store_pg.c) */
	if (url != NULL)
		CHECK_EQ_INT(peek("SELECT version FROM schema_version"), 9);
	else
		CHECK_EQ_INT(peek("PRAGMA user_version"), 21);
	CHECK_EQ_INT(store_account_by_id(st, id, &a), 0);
	CHECK(strcmp(a.name, "kept") == 0);
	/* the largest id given so far, kept (migration 20) */
	CHECK(peek("SELECT last FROM account_ids") > 0 &&
	    peek("SELECT last FROM account_ids") <=
	    peek("SELECT max(id) FROM accounts"));
	key_of(a.key, 706);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), 0);
	key_of(a.key, 707);
	CHECK_EQ_INT(store_account_by_key(st, a.key, &a), OFR_E_NOT_FOUND);
}

static int
count_pending(void *arg, const uint8_t key[OFR_PK_BYTES], const char *name)
{
	(void)key;
	(void)name;
	(*(int *)arg)++;
	return 0;
}

/* Migration 2: programme keys, certificates, prekeys. */
static void
test_keys(struct store *st)
{
	uint8_t key[OFR_PK_BYTES], got[OFR_PK_BYTES], spk[32], sig[64];
	uint8_t cert[CERT_BYTES], cert2[CERT_BYTES];
	struct programme p;
	int64_t prog, co, cl, other, n;
	uint32_t id;
	int yes, has, pending = 0;

	CHECK_EQ_INT(store_programme_create(st, "keys", 900, &prog), 0);
	CHECK_EQ_INT(store_programme_get(st, prog, &p), 0);
	CHECK_EQ_INT(p.has_key, 0);
	CHECK(strcmp(p.name, "keys") == 0);
	CHECK_EQ_INT(store_programme_get(st, prog + 1000, &p),
	    OFR_E_NOT_FOUND);
	memset(key, 0x42, sizeof(key));
	CHECK_EQ_INT(store_programme_set_key(st, prog, key), 0);
	memset(got, 0x43, sizeof(got));
	CHECK_EQ_INT(store_programme_set_key(st, prog, got), OFR_E_FORBIDDEN);
	CHECK_EQ_INT(store_programme_get(st, prog, &p), 0);
	CHECK_EQ_INT(p.has_key, 1);
	CHECK(memcmp(p.key, key, sizeof(key)) == 0);

	/* certificates: pending until set */
	co = account(st, 901, ROLE_COUNSELLOR, prog, "c", 0);
	other = account(st, 902, ROLE_COUNSELLOR, prog, "c", 1);
	CHECK(co > 0 && other > 0);
	CHECK_EQ_INT(store_uncertified_each(st, prog, 10, count_pending,
	    &pending), 0);
	CHECK_EQ_INT(pending, 1);		/* the disabled one is not */
	CHECK_EQ_INT(store_account_cert(st, co, cert2, &has), 0);
	CHECK_EQ_INT(has, 0);
	memset(cert, 0x17, sizeof(cert));
	CHECK_EQ_INT(store_account_set_cert(st, co, cert), 0);
	CHECK_EQ_INT(store_account_cert(st, co, cert2, &has), 0);
	CHECK_EQ_INT(has, 1);
	CHECK(memcmp(cert, cert2, sizeof(cert)) == 0);
	pending = 0;
	CHECK_EQ_INT(store_uncertified_each(st, prog, 10, count_pending,
	    &pending), 0);
	CHECK_EQ_INT(pending, 0);
	CHECK_EQ_INT(store_account_set_cert(st, 999999, cert),
	    OFR_E_NOT_FOUND);
	/* the certified ones, in the order of their ids, at most max, or
	 * the one with a key; a drop takes one out, twice is nothing */
	{
		uint8_t k[OFR_PK_BYTES];
		int64_t ids[4];
		size_t nh;

		CHECK_EQ_INT(store_account_set_cert(st, other, cert), 0);
		CHECK_EQ_INT(store_cert_holders(st, prog, NULL, ids, 4, &nh),
		    0);
		CHECK(nh == 2 && ids[0] == co && ids[1] == other);
		CHECK_EQ_INT(store_cert_holders(st, prog, NULL, ids, 1, &nh),
		    0);
		CHECK(nh == 1 && ids[0] == co);
		key_of(k, 902);
		CHECK_EQ_INT(store_cert_holders(st, prog, k, ids, 4, &nh), 0);
		CHECK(nh == 1 && ids[0] == other);
		CHECK_EQ_INT(store_cert_drop(st, other), 0);
		CHECK_EQ_INT(store_cert_drop(st, other), 0);
		CHECK_EQ_INT(store_cert_holders(st, prog, NULL, ids, 4, &nh),
		    0);
		CHECK(nh == 1 && ids[0] == co);
		CHECK_EQ_INT(store_account_cert(st, other, cert2, &has), 0);
		CHECK_EQ_INT(has, 0);
	}

	/* signed prekey: replaced, not added */
	CHECK_EQ_INT(store_spk_get(st, co, &id, spk, sig), OFR_E_NOT_FOUND);
	memset(spk, 1, sizeof(spk));
	memset(sig, 2, sizeof(sig));
	CHECK_EQ_INT(store_spk_set(st, co, 7, spk, sig, 901), 0);
	memset(spk, 3, sizeof(spk));
	CHECK_EQ_INT(store_spk_set(st, co, 8, spk, sig, 902), 0);
	memset(spk, 0, sizeof(spk));
	CHECK_EQ_INT(store_spk_get(st, co, &id, spk, sig), 0);
	CHECK_EQ_INT(id, 8);
	CHECK_EQ_INT(spk[0], 3);

	/* one-time prekeys: each handed out once, oldest first (ids are
	 * random: their order says nothing) */
	memset(spk, 9, sizeof(spk));
	CHECK_EQ_INT(store_otk_add(st, co, 5, spk), 0);
	CHECK_EQ_INT(store_otk_add(st, co, 3, spk), 0);
	CHECK_EQ_INT(store_otk_add(st, co, 3, spk), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_otk_count(st, co, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_otk_take(st, co, &id, spk), 0);
	CHECK_EQ_INT(id, 5);
	CHECK_EQ_INT(store_otk_add(st, co, 1, spk), 0);
	CHECK_EQ_INT(store_otk_take(st, co, &id, spk), 0);
	CHECK_EQ_INT(id, 3);
	CHECK_EQ_INT(store_otk_take(st, co, &id, spk), 0);
	CHECK_EQ_INT(id, 1);
	CHECK_EQ_INT(store_otk_take(st, co, &id, spk), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_otk_count(st, co, &n), 0);
	CHECK_EQ_INT(n, 0);

	/* sharing a case */
	cl = account(st, 903, ROLE_CLIENT, 0, "cl", 0);
	CHECK_EQ_INT(store_share_case(st, cl, co, &yes), 0);
	CHECK_EQ_INT(yes, 0);
	{
		struct case_info c;

		CHECK_EQ_INT(store_case_create(st, cl, "en", "", 903, &c), 0);
		CHECK_EQ_INT(store_case_assign(st, c.id, co, 904), 0);
		CHECK_EQ_INT(store_share_case(st, cl, co, &yes), 0);
		CHECK_EQ_INT(yes, 1);
		CHECK_EQ_INT(store_share_case(st, cl, other, &yes), 0);
		CHECK_EQ_INT(yes, 0);
		{
			struct participant pp[MODEL_PARTICIPANTS_MAX];
			size_t np;

			CHECK_EQ_INT(store_case_participants(st, c.id, pp,
			    MODEL_PARTICIPANTS_MAX, &np), 0);
			CHECK_EQ_INT(np, 2);
			CHECK_EQ_INT(pp[0].has_cert, 0);
			CHECK_EQ_INT(pp[1].has_cert, 1);
			CHECK_EQ_INT(pp[1].programme, prog);
			CHECK(memcmp(pp[1].cert, cert, sizeof(cert)) == 0);
		}
		CHECK_EQ_INT(store_case_close(st, c.id, 905), 0);
	}
	CHECK_EQ_INT(store_commit(st), 0);
}

/* Issue 4 (migration 3). */

/* Copies of the cases store_case_each_of() gives. */
struct cases_seen {
	struct case_info c[4];
	int n;
};

static int
keep_case(void *arg, const struct case_info *c)
{
	struct cases_seen *cs = arg;

	if (cs->n < 4)
		cs->c[cs->n] = *c;
	cs->n++;
	return 0;
}

/* Where id is in ids[0..n), or -1. */
static int
pos_of(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return (int)i;
	return -1;
}

static int64_t
open_count(struct store *st, int64_t counsellor)
{
	struct counsellor c;

	if (store_counsellor_get(st, counsellor, &c) != 0)
		return -1;
	return c.open;
}

/* Membership: a colleague joins at a new version, joining until every
 * other participant confirmed it; it leaves with a reason, into the
 * history; the counsellor's leave is recorded too. */
static void
test_membership(struct store *st)
{
	struct participant pp[MODEL_PARTICIPANTS_MAX];
	struct peer pe[MODEL_PARTICIPANTS_MAX];
	uint8_t key[OFR_PK_BYTES];
	struct case_info c, g;
	int64_t p1, co, co2, cl, v = 0, stays = 0;
	size_t n = 99, seen = 0;
	int why = -1, status = -1;

	CHECK_EQ_INT(store_programme_create(st, "Members", 3000, &p1), 0);
	co = counsellor(st, 3001, p1, ",mm,", ",", 5, PRESENCE_ONLINE, 0);
	co2 = counsellor(st, 3002, p1, ",mm,", ",", 5, PRESENCE_ONLINE, 0);
	cl = account(st, 3003, ROLE_CLIENT, 0, "mem-a", 0);
	CHECK_EQ_INT(store_case_create(st, cl, "mm", "", 3010, &c), 0);
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 3011), 0);
	CHECK_EQ_INT(store_member_add(st, c.id, co, co2, MEMBER_OWN, 3012, &v),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_member_add(st, c.id, co, co2, MEMBER_SUPERVISOR,
	    3012, &v), 0);
	CHECK_EQ_INT(v, 1);
	CHECK_EQ_INT(store_member_add(st, c.id, co, co2, MEMBER_SUPERVISOR,
	    3012, &v), OFR_E_BAD_STATE);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.members, 1);
	CHECK_EQ_INT(store_case_participants(st, c.id, pp,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(pp[2].account, co2);
	CHECK_EQ_INT(pp[2].kind, MEMBER_SUPERVISOR);
	CHECK_EQ_INT(pp[2].since, 1);
	CHECK_EQ_INT(pp[2].joining, 1);		/* the client was not told */
	CHECK_EQ_INT(pp[2].joined_at, 3012);
	CHECK_EQ_INT(pp[0].joining, 0);
	/* what the relay reads: the same participants, keys and joining,
	 * and the case's status */
	CHECK_EQ_INT(store_case_peers(st, c.id, pe, MODEL_PARTICIPANTS_MAX,
	    &n, &status), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(status, CASE_ACTIVE);
	for (size_t i = 0; i < n; i++) {
		key_of(key, pe[i].account == co2 ? 3002 :
		    pe[i].account == co ? 3001 : 3003);
		CHECK(memcmp(pe[i].key, key, OFR_PK_BYTES) == 0);
		CHECK_EQ_INT(pe[i].joining, pe[i].account == co2);
		seen += pe[i].account == co || pe[i].account == co2 ||
		    pe[i].account == cl;
	}
	CHECK_EQ_INT(seen, 3);
	CHECK_EQ_INT(store_case_peers(st, c.id, pe, 2, &n, &status),
	    OFR_E_LIMIT);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_case_peers(st, c.id + 1000, pe,
	    MODEL_PARTICIPANTS_MAX, &n, &status), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(status, 0);
	CHECK_EQ_INT(store_case_seen(st, c.id, cl, 1), 0);
	CHECK_EQ_INT(store_case_participants(st, c.id, pp,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(pp[2].joining, 0);
	CHECK_EQ_INT(store_case_peers(st, c.id, pe, MODEL_PARTICIPANTS_MAX,
	    &n, &status), 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(pe[i].joining, 0);
	CHECK_EQ_INT(store_case_seen(st, c.id, cl, 0), 0);	/* never back */
	CHECK_EQ_INT(store_case_participants(st, c.id, pp,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(pp[2].joining, 0);

	CHECK_EQ_INT(store_member_drop(st, c.id, co2, 0, 3020),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_member_drop(st, c.id, co2, LEFT_REMOVED, 3020), 0);
	CHECK_EQ_INT(store_member_drop(st, c.id, co2, LEFT_REMOVED, 3021),
	    OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_former(st, c.id, pp, MODEL_PARTICIPANTS_MAX,
	    &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(pp[0].account, co2);
	CHECK_EQ_INT(pp[0].left_at, 3020);
	CHECK_EQ_INT(pp[0].why, LEFT_REMOVED);
	CHECK_EQ_INT(store_member_last_why(st, c.id, co2, &why), 0);
	CHECK_EQ_INT(why, LEFT_REMOVED);
	CHECK_EQ_INT(store_member_last_why(st, c.id, co, &why), 0);
	CHECK_EQ_INT(why, 0);

	CHECK_EQ_INT(store_case_unassign(st, c.id, LEFT_DISABLED, 3030), 0);
	CHECK_EQ_INT(store_member_last_why(st, c.id, co, &why), 0);
	CHECK_EQ_INT(why, LEFT_DISABLED);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.members, 3);
	CHECK_EQ_INT(store_case_stays(st, c.id, &stays), 0);
	CHECK_EQ_INT(stays, 3);
	CHECK_EQ_INT(store_case_drop(st, c.id), 0);
	CHECK_EQ_INT(store_case_stays(st, c.id, &stays), 0);
	CHECK_EQ_INT(stays, 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

/* Intake, status changes, unassign, the queue. */
/* Referrals: one open per case, answers and ends once, the handover,
 * and the figures (exact here: the handler hides small counts). */
static void
test_referrals(struct store *st)
{
	struct referral_figures f;
	struct case_info c, g;
	struct referral r;
	uint8_t digest[REFERRAL_DIGEST_BYTES];
	int64_t pa, pb, co, cob, cl, id, id2, v = 0;

	memset(digest, 7, sizeof(digest));
	CHECK_EQ_INT(store_programme_create(st, "Ref A", 4000, &pa), 0);
	CHECK_EQ_INT(store_programme_create(st, "Ref B", 4000, &pb), 0);
	co = counsellor(st, 4001, pa, ",rr,", ",", 50, PRESENCE_ONLINE, 0);
	cob = counsellor(st, 4002, pb, ",rr,", ",", 50, PRESENCE_ONLINE, 0);
	for (int i = 0; i < 6; i++) {
		cl = account(st, 4010 + i, ROLE_CLIENT, 0, "ref", 0);
		CHECK_EQ_INT(store_case_create(st, cl, "rr", "", 4100, &c), 0);
		CHECK_EQ_INT(store_case_assign(st, c.id, co, 4101), 0);
		CHECK_EQ_INT(store_referral_propose(st, c.id, pa, pb,
		    4100 + i, &id), 0);
		CHECK_EQ_INT(store_referral_propose(st, c.id, pa, pb, 4100,
		    &id2), OFR_E_BAD_STATE);	/* one open per case */
		CHECK_EQ_INT(store_referral_approve(st, id, digest),
		    OFR_E_BAD_STATE);		/* not accepted yet */
		CHECK_EQ_INT(store_referral_answer(st, id, REFERRAL_ACCEPTED,
		    4200), 0);
		CHECK_EQ_INT(store_referral_answer(st, id, REFERRAL_DECLINED,
		    4200), OFR_E_BAD_STATE);	/* answered once */
		CHECK_EQ_INT(store_referral_receiver(st, id, cob), 0);
		CHECK_EQ_INT(store_member_add(st, c.id, co, cob,
		    MEMBER_CO_COUNSELLOR, 4201, &v), 0);
		CHECK_EQ_INT(store_referral_summary_sent(st, id),
		    OFR_E_BAD_STATE);		/* not approved */
		CHECK_EQ_INT(store_referral_approve(st, id, digest), 0);
		CHECK_EQ_INT(store_referral_summary_sent(st, id), 0);
		CHECK_EQ_INT(store_referral_summary_sent(st, id),
		    OFR_E_BAD_STATE);		/* once */
		CHECK_EQ_INT(store_case_handover(st, c.id, cob, pb, 4300), 0);
		CHECK_EQ_INT(store_referral_end(st, id, REFERRAL_COMPLETED,
		    4300 + 10 * i), 0);
		CHECK_EQ_INT(store_referral_end(st, id, REFERRAL_WITHDRAWN,
		    4400), OFR_E_BAD_STATE);	/* ended already */
		CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
		CHECK_EQ_INT(g.counsellor, cob);
		CHECK_EQ_INT(g.prefs.programme, pb);
		CHECK_EQ_INT(store_referral_last(st, c.id, &r), 0);
		CHECK_EQ_INT(r.status, REFERRAL_COMPLETED);
		CHECK_EQ_INT(r.approved, 1);
		CHECK_EQ_INT(store_referral_open(st, c.id, &r),
		    OFR_E_NOT_FOUND);
	}
	/* the handover of a case whose newcomer is no colleague: refused */
	CHECK_EQ_INT(store_case_handover(st, c.id, co, pb, 4500),
	    OFR_E_BAD_STATE);
	CHECK_EQ_INT(store_referral_figures(st, pa, 0, 0, &f), 0);
	CHECK_EQ_INT(f.proposed, 6);
	CHECK_EQ_INT(f.accepted, 6);
	CHECK_EQ_INT(f.declined, 0);
	CHECK_EQ_INT(f.completed, 6);
	/* durations 200, 209, ..., 245: the upper median of six */
	CHECK_EQ_INT(f.median, 200 + 9 * 3);
	CHECK_EQ_INT(store_referral_figures(st, pb, 1, 0, &f), 0);
	CHECK_EQ_INT(f.completed, 6);
	CHECK_EQ_INT(store_referral_figures(st, pb, 0, 0, &f), 0);
	CHECK_EQ_INT(f.proposed, 0);
	CHECK_EQ_INT(f.median, -1);
	CHECK_EQ_INT(store_referrals_forget(st, cob), 0);
	CHECK_EQ_INT(store_referral_last(st, c.id, &r), 0);
	CHECK_EQ_INT(r.receiver, 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

static void
test_intake(struct store *st)
{
	struct case_info c, c2, g;
	struct case_prefs pr;
	struct participant pp[MODEL_PARTICIPANTS_MAX];
	struct cases_seen cs;
	int64_t p1, p2, co, co2, cl, cl2, q[5], qc[5], got[STORE_CASES_MAX];
	int64_t before1, before2, n64 = -1;
	size_t n = 99;
	int yes = -1, urg[5] = { 1, 0, 2, 1, 2 };

	CHECK_EQ_INT(store_programme_create(st, "Intake", 1100, &p1), 0);
	CHECK_EQ_INT(store_programme_create(st, "Intake 2", 1100, &p2), 0);
	co = counsellor(st, 1101, p1, ",qq,", ",", 5, PRESENCE_ONLINE, 0);
	co2 = counsellor(st, 1102, p1, ",qq,", ",", 5, PRESENCE_ONLINE, 0);
	cl = account(st, 1103, ROLE_CLIENT, 0, "in-a", 0);
	cl2 = account(st, 1104, ROLE_CLIENT, 0, "in-b", 0);
	CHECK(co > 0 && co2 > 0 && cl > 0 && cl2 > 0);

	/* the default intake */
	CHECK_EQ_INT(store_case_create(st, cl, "qq", "", 1110, &c), 0);
	CHECK_EQ_INT(c.prefs.urgency, 1);
	CHECK_EQ_INT(c.first_response, 0);
	memset(&g, 0x55, sizeof(g));
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.prefs.urgency, 1);
	CHECK_EQ_INT(g.prefs.programme, 0);
	CHECK(g.prefs.gender[0] == '\0' && g.prefs.region[0] == '\0');
	CHECK_EQ_INT(g.prefs.age_band, 0);
	CHECK_EQ_INT(g.prefs.background, 0);
	CHECK_EQ_INT(g.prefs.format, 0);
	CHECK_EQ_INT(g.asked, 0);
	CHECK_EQ_INT(g.met, 0);
	CHECK_EQ_INT(g.first_response, 0);

	/* set_prefs, read back by every reader of cases */
	memset(&pr, 0, sizeof(pr));
	pr.urgency = 2;
	pr.programme = p1;
	snprintf(pr.gender, sizeof(pr.gender), "male");
	pr.age_band = 3;
	pr.background = BACKGROUND_PROFESSIONAL;
	pr.format = FORMAT_IN_PERSON;
	snprintf(pr.region, sizeof(pr.region), "de-by");
	CHECK_EQ_INT(store_case_set_prefs(st, c.id, &pr), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.prefs.urgency, 2);
	CHECK_EQ_INT(g.prefs.programme, p1);
	CHECK(strcmp(g.prefs.gender, "male") == 0);
	CHECK_EQ_INT(g.prefs.age_band, 3);
	CHECK_EQ_INT(g.prefs.background, BACKGROUND_PROFESSIONAL);
	CHECK_EQ_INT(g.prefs.format, FORMAT_IN_PERSON);
	CHECK(strcmp(g.prefs.region, "de-by") == 0);
	CHECK_EQ_INT(store_case_open_of_client(st, cl, &g), 0);
	CHECK_EQ_INT(g.prefs.urgency, 2);
	CHECK(strcmp(g.prefs.region, "de-by") == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK_EQ_INT(store_case_each_of(st, cl, keep_case, &cs, NULL), 0);
	CHECK_EQ_INT(cs.n, 1);
	CHECK_EQ_INT(cs.c[0].prefs.programme, p1);
	CHECK(strcmp(cs.c[0].prefs.gender, "male") == 0);
	CHECK_EQ_INT(cs.c[0].prefs.format, FORMAT_IN_PERSON);
	/* out of range: refused, nothing written */
	for (int i = 0; i < 10; i++) {
		struct case_prefs bad = pr;

		switch (i) {
		case 0: bad.urgency = 3; break;
		case 1: bad.urgency = -1; break;
		case 2: bad.programme = -1; break;
		case 3: snprintf(bad.gender, sizeof(bad.gender), "M"); break;
		case 4: bad.age_band = 5; break;
		case 5: bad.background = 3; break;
		case 6: bad.format = FORMAT_CHAT | FORMAT_IN_PERSON; break;
		case 7: bad.format = 8; break;
		case 8: snprintf(bad.region, sizeof(bad.region), "a b"); break;
		default: memset(bad.gender, 'g', sizeof(bad.gender)); break;
		}
		CHECK_EQ_INT(store_case_set_prefs(st, c.id, &bad),
		    OFR_E_BAD_FIELD);
	}
	pr.programme = p2 + 1000;	/* no such programme */
	CHECK_EQ_INT(store_case_set_prefs(st, c.id, &pr), OFR_E_NOT_FOUND);
	pr.programme = p1;
	CHECK_EQ_INT(store_case_set_prefs(st, 12345, &pr), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.prefs.urgency, 2);
	CHECK_EQ_INT(g.prefs.programme, p1);

	/* what the counsellor meets */
	CHECK_EQ_INT(store_case_set_match(st, c.id, PREF_GENDER | PREF_FORMAT,
	    PREF_FORMAT), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.asked, PREF_GENDER | PREF_FORMAT);
	CHECK_EQ_INT(g.met, PREF_FORMAT);
	CHECK_EQ_INT(store_case_set_match(st, c.id, PREF_GENDER, PREF_AGE),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_case_set_match(st, c.id, 1u << 5, 0),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_case_set_match(st, 12345, 0, 0), OFR_E_NOT_FOUND);

	/* paused is open: in the caseload, the client's one open case */
	CHECK_EQ_INT(open_count(st, co), 0);
	CHECK_EQ_INT(store_case_assign(st, c.id, co, 1120), 0);
	CHECK_EQ_INT(open_count(st, co), 1);
	CHECK_EQ_INT(store_case_set_status(st, c.id, CASE_PAUSED, 1121), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_PAUSED);
	CHECK_EQ_INT(g.updated, 1121);
	CHECK_EQ_INT(g.counsellor, co);
	CHECK_EQ_INT(open_count(st, co), 1);
	CHECK_EQ_INT(store_case_open_of_client(st, cl, &g), 0);
	CHECK_EQ_INT(g.id, c.id);
	CHECK_EQ_INT(store_case_create(st, cl, "qq", "", 1122, &c2),
	    OFR_E_CASE_OPEN);
	CHECK_EQ_INT(store_case_open_of_counsellor(st, co, got, 8, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(got[0], c.id);
	CHECK_EQ_INT(store_case_set_status(st, c.id, 5, 1123), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_case_set_status(st, c.id, 0, 1123), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_case_set_status(st, 12345, CASE_ACTIVE, 1123),
	    OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_PAUSED);

	/* unassign: the case waits again, without its counsellor */
	CHECK_EQ_INT(store_case_unassign(st, c.id, LEFT_REASSIGNED, 1130), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_WAITING);
	CHECK_EQ_INT(g.counsellor, 0);
	CHECK_EQ_INT(g.asked, 0);
	CHECK_EQ_INT(g.met, 0);
	CHECK_EQ_INT(g.updated, 1130);
	CHECK_EQ_INT(g.prefs.urgency, 2);	/* the intake stays */
	CHECK_EQ_INT(g.left, co);		/* never matched back */
	CHECK_EQ_INT(store_case_participants(st, c.id, pp,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(pp[0].account, cl);
	CHECK_EQ_INT(store_case_has_participant(st, c.id, co, &yes), 0);
	CHECK_EQ_INT(yes, 0);
	CHECK_EQ_INT(open_count(st, co), 0);
	CHECK_EQ_INT(store_case_open_of_counsellor(st, co, got, 8, &n), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(store_case_open_of_client(st, cl, &g), 0);
	CHECK_EQ_INT(g.id, c.id);
	CHECK_EQ_INT(store_case_unassign(st, c.id, LEFT_REASSIGNED, 1131), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_unassign(st, 12345, LEFT_REASSIGNED, 1131), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.updated, 1130);
	/* and another counsellor can take it */
	CHECK_EQ_INT(store_case_assign(st, c.id, co2, 1140), 0);
	CHECK_EQ_INT(store_case_participants(st, c.id, pp,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(pp[1].account, co2);

	/* a closed case stays closed; it reopens only when the client has
	 * no other open case */
	CHECK_EQ_INT(store_case_set_status(st, c.id, CASE_CLOSED, 1141), 0);
	CHECK_EQ_INT(open_count(st, co2), 0);
	CHECK_EQ_INT(store_case_unassign(st, c.id, LEFT_REASSIGNED, 1142), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_case_participants(st, c.id, pp,
	    MODEL_PARTICIPANTS_MAX, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_case_create(st, cl, "qq", "", 1143, &c2), 0);
	CHECK_EQ_INT(store_case_set_status(st, c.id, CASE_ACTIVE, 1144),
	    OFR_E_CASE_OPEN);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_CLOSED);
	CHECK_EQ_INT(g.updated, 1141);
	CHECK_EQ_INT(store_case_close(st, c2.id, 1145), 0);
	CHECK_EQ_INT(store_case_set_status(st, c.id, CASE_ACTIVE, 1146), 0);
	CHECK_EQ_INT(open_count(st, co2), 1);

	/* closing clears the intake (urgency normal, no stated preference);
	 * the kinds asked and met, and the programme, stay */
	CHECK_EQ_INT(store_case_set_prefs(st, c.id, &pr), 0);
	CHECK_EQ_INT(store_case_set_match(st, c.id, PREF_GENDER | PREF_FORMAT,
	    PREF_FORMAT), 0);
	CHECK_EQ_INT(store_case_close(st, c.id, 1147), 0);
	CHECK_EQ_INT(store_case_get(st, c.id, &g), 0);
	CHECK_EQ_INT(g.status, CASE_CLOSED);
	CHECK_EQ_INT(g.prefs.urgency, 1);
	CHECK_EQ_INT(g.prefs.programme, p1);
	CHECK(g.prefs.gender[0] == '\0');
	CHECK_EQ_INT(g.prefs.age_band, 0);
	CHECK_EQ_INT(g.prefs.background, 0);
	CHECK_EQ_INT(g.prefs.format, 0);
	CHECK(g.prefs.region[0] == '\0');
	CHECK_EQ_INT(g.asked, PREF_GENDER | PREF_FORMAT);
	CHECK_EQ_INT(g.met, PREF_FORMAT);
	CHECK_EQ_INT(open_count(st, co2), 0);
	CHECK_EQ_INT(store_case_set_status(st, c.id, CASE_ACTIVE, 1148), 0);
	CHECK_EQ_INT(open_count(st, co2), 1);
	CHECK_EQ_INT(store_commit(st), 0);

	/* the queue: urgency high first, then order of arrival */
	CHECK_EQ_INT(store_queue_count(st, p1, &before1), 0);
	CHECK_EQ_INT(store_queue_count(st, p2, &before2), 0);
	for (int i = 0; i < 5; i++) {
		qc[i] = account(st, 1150 + i, ROLE_CLIENT, 0, "q", 0);
		CHECK_EQ_INT(store_case_create(st, qc[i], "qq", "", 1150,
		    &c2), 0);
		q[i] = c2.id;
		memset(&pr, 0, sizeof(pr));
		pr.urgency = urg[i];
		pr.programme = i == 1 ? p2 : i >= 3 ? p1 : 0;
		CHECK_EQ_INT(store_case_set_prefs(st, q[i], &pr), 0);
	}
	CHECK_EQ_INT(store_case_waiting(st, got, STORE_CASES_MAX, &n), 0);
	CHECK(pos_of(got, n, q[2]) == 0);
	CHECK(pos_of(got, n, q[4]) == 1);
	CHECK(pos_of(got, n, q[0]) > 1);
	CHECK(pos_of(got, n, q[3]) > pos_of(got, n, q[0]));
	CHECK(pos_of(got, n, q[1]) == (int)n - 1);	/* low: last */
	CHECK_EQ_INT(store_case_waiting(st, got, 2, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(got[0], q[2]);
	CHECK_EQ_INT(got[1], q[4]);
	/* waiting cases that chose the programme or none */
	CHECK_EQ_INT(store_queue_count(st, p1, &n64), 0);
	CHECK_EQ_INT(n64, before1 + 4);
	CHECK_EQ_INT(store_queue_count(st, p2, &n64), 0);
	CHECK_EQ_INT(n64, before2 + 3);
	/* taken: out of the queue; unassigned: back in its place */
	CHECK_EQ_INT(store_case_assign(st, q[2], co, 1160), 0);
	CHECK_EQ_INT(store_case_waiting(st, got, 2, &n), 0);
	CHECK_EQ_INT(got[0], q[4]);
	CHECK_EQ_INT(store_queue_count(st, p1, &n64), 0);
	CHECK_EQ_INT(n64, before1 + 3);
	CHECK_EQ_INT(store_case_unassign(st, q[2], LEFT_REASSIGNED, 1161), 0);
	CHECK_EQ_INT(store_case_waiting(st, got, 2, &n), 0);
	CHECK_EQ_INT(got[0], q[2]);
	CHECK_EQ_INT(got[1], q[4]);

	/* caseloads: waiting, active and paused count; closed does not */
	CHECK_EQ_INT(store_case_assign(st, q[0], co, 1170), 0);
	CHECK_EQ_INT(store_case_assign(st, q[3], co, 1171), 0);
	CHECK_EQ_INT(store_case_set_status(st, q[3], CASE_PAUSED, 1172), 0);
	CHECK_EQ_INT(open_count(st, co), 2);
	CHECK_EQ_INT(store_case_open_of_counsellor(st, co, got, 8, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(got[0], q[0]);	/* in order of arrival */
	CHECK_EQ_INT(got[1], q[3]);
	CHECK_EQ_INT(store_case_open_of_counsellor(st, co, got, 1, &n), 0);
	CHECK_EQ_INT(n, 1);
	/* a waiting case that still names its counsellor is open too */
	CHECK_EQ_INT(store_case_set_status(st, q[0], CASE_WAITING, 1173), 0);
	CHECK_EQ_INT(open_count(st, co), 2);
	CHECK_EQ_INT(store_case_close(st, q[0], 1174), 0);
	CHECK_EQ_INT(open_count(st, co), 1);
	CHECK_EQ_INT(store_case_open_of_counsellor(st, co, got, 8, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(got[0], q[3]);

	/* leave no waiting case behind */
	for (int i = 0; i < 5; i++)
		if (i != 0)
			CHECK_EQ_INT(store_case_close(st, q[i], 1180), 0);
	CHECK_EQ_INT(store_case_close(st, c.id, 1180), 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

struct counsellors_seen {
	int n;
	int64_t id[64];
	struct counsellor c[64];
	int stop_after;
};

static int
keep_counsellor(void *arg, const struct counsellor *c)
{
	struct counsellors_seen *cs = arg;

	if (cs->n < 64) {
		cs->id[cs->n] = c->acct.id;
		cs->c[cs->n] = *c;
	}
	cs->n++;
	if (cs->stop_after != 0 && cs->n == cs->stop_after)
		return 6;
	return 0;
}

static int
nested_counsellor(void *arg, const struct counsellor *c)
{
	struct store *st = arg;
	struct counsellors_seen inner;

	(void)c;
	memset(&inner, 0, sizeof(inner));
	return store_counsellor_each(st, 0, 1, keep_counsellor, &inner);
}

/* Counsellors as the matching index and the admin tools see them. */
static void
test_counsellors(struct store *st)
{
	struct counsellors_seen cs;
	struct counsellor k;
	struct profile p;
	struct case_info c;
	int64_t p1, p2, a, b, u, x, cl, ad;

	CHECK_EQ_INT(store_programme_create(st, "Pool", 1200, &p1), 0);
	CHECK_EQ_INT(store_programme_create(st, "Pool 2", 1200, &p2), 0);
	a = counsellor(st, 1201, p1, ",en,", ",leaving,", 4, PRESENCE_ONLINE,
	    0);
	u = account(st, 1202, ROLE_COUNSELLOR, p1, "uncertified", 0);
	b = counsellor(st, 1203, p1, ",de,", ",", 2, PRESENCE_AWAY, 1);
	x = counsellor(st, 1204, p2, ",fr,", ",", 5, PRESENCE_ONLINE, 0);
	cl = account(st, 1205, ROLE_CLIENT, 0, "pool-client", 0);
	ad = account(st, 1206, ROLE_ADMIN, p1, "pool-admin", 0);
	CHECK(a > 0 && u > 0 && b > 0 && x > 0 && cl > 0 && ad > 0);
	full_profile(&p);
	p.capacity = 4;
	CHECK_EQ_INT(store_profile_set(st, a, &p), 0);

	memset(&k, 0x55, sizeof(k));
	CHECK_EQ_INT(store_counsellor_get(st, a, &k), 0);
	CHECK_EQ_INT(k.acct.id, a);
	CHECK_EQ_INT(k.acct.role, ROLE_COUNSELLOR);
	CHECK_EQ_INT(k.acct.programme, p1);
	CHECK_EQ_INT(k.acct.disabled, 0);
	CHECK_EQ_INT(k.acct.created, 1000 + 1201);
	CHECK(strcmp(k.acct.name, "c") == 0);
	CHECK(strcmp(k.prof.languages, ",en,de,") == 0);
	CHECK_EQ_INT(k.prof.capacity, 4);
	CHECK_EQ_INT(k.prof.presence, PRESENCE_AWAY);
	CHECK(strcmp(k.prof.gender, "female") == 0);
	CHECK_EQ_INT(k.prof.formats, FORMAT_CHAT | FORMAT_PHONE_VIDEO);
	CHECK_EQ_INT(hours_set(k.prof.hours), 2);
	CHECK_EQ_INT(k.certified, 1);
	CHECK_EQ_INT(k.open, 0);
	CHECK_EQ_INT(k.last_assigned, 0);
	CHECK_EQ_INT(store_counsellor_get(st, u, &k), 0);
	CHECK_EQ_INT(k.certified, 0);
	CHECK_EQ_INT(k.prof.capacity, 5);
	CHECK_EQ_INT(k.prof.presence, PRESENCE_ONLINE);
	CHECK_EQ_INT(k.prof.formats, FORMAT_CHAT);
	CHECK_EQ_INT(store_counsellor_get(st, b, &k), 0);
	CHECK_EQ_INT(k.acct.disabled, 1);
	CHECK_EQ_INT(store_counsellor_get(st, cl, &k), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_counsellor_get(st, ad, &k), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_counsellor_get(st, 999999, &k), OFR_E_NOT_FOUND);

	/* open cases and the last assignment */
	CHECK_EQ_INT(store_case_create(st, cl, "en", "", 1210, &c), 0);
	CHECK_EQ_INT(store_case_assign(st, c.id, a, 1211), 0);
	CHECK_EQ_INT(store_counsellor_get(st, a, &k), 0);
	CHECK_EQ_INT(k.open, 1);
	CHECK_EQ_INT(k.last_assigned, 1211);
	CHECK_EQ_INT(store_case_close(st, c.id, 1212), 0);
	CHECK_EQ_INT(store_counsellor_get(st, a, &k), 0);
	CHECK_EQ_INT(k.open, 0);
	CHECK_EQ_INT(k.last_assigned, 1211);

	/* each: of a programme, oldest account first */
	memset(&cs, 0, sizeof(cs));
	CHECK_EQ_INT(store_counsellor_each(st, p1, 100, keep_counsellor, &cs),
	    0);
	CHECK_EQ_INT(cs.n, 3);
	CHECK_EQ_INT(cs.id[0], a);
	CHECK_EQ_INT(cs.id[1], u);
	CHECK_EQ_INT(cs.id[2], b);
	CHECK_EQ_INT(cs.c[0].last_assigned, 1211);
	CHECK_EQ_INT(cs.c[0].certified, 1);
	CHECK_EQ_INT(cs.c[1].certified, 0);
	CHECK_EQ_INT(cs.c[2].acct.disabled, 1);
	CHECK_EQ_INT(cs.c[2].prof.capacity, 2);
	CHECK(strcmp(cs.c[2].prof.languages, ",de,") == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK_EQ_INT(store_counsellor_each(st, p2, 100, keep_counsellor, &cs),
	    0);
	CHECK_EQ_INT(cs.n, 1);
	CHECK_EQ_INT(cs.id[0], x);
	memset(&cs, 0, sizeof(cs));
	CHECK_EQ_INT(store_counsellor_each(st, p1, 2, keep_counsellor, &cs),
	    0);
	CHECK_EQ_INT(cs.n, 2);
	memset(&cs, 0, sizeof(cs));
	cs.stop_after = 1;
	CHECK_EQ_INT(store_counsellor_each(st, p1, 100, keep_counsellor, &cs),
	    6);
	CHECK_EQ_INT(cs.n, 1);
	/* 0: every programme's, still by age, and no one else */
	memset(&cs, 0, sizeof(cs));
	CHECK_EQ_INT(store_counsellor_each(st, 0, SIZE_MAX, keep_counsellor,
	    &cs), 0);
	CHECK(cs.n >= 4 && cs.n <= 64);
	for (int i = 1; i < cs.n && i < 64; i++)
		CHECK(cs.id[i - 1] < cs.id[i]);
	for (int i = 0; i < cs.n && i < 64; i++)
		CHECK_EQ_INT(cs.c[i].acct.role, ROLE_COUNSELLOR);
	CHECK(pos_of(cs.id, (size_t)cs.n, x) > pos_of(cs.id, (size_t)cs.n, a));
	CHECK_EQ_INT(store_counsellor_each(st, 0, 10, nested_counsellor, st),
	    OFR_E_INTERNAL);

	/* disable, enable */
	CHECK_EQ_INT(store_account_set_disabled(st, a, 1), 0);
	CHECK_EQ_INT(store_counsellor_get(st, a, &k), 0);
	CHECK_EQ_INT(k.acct.disabled, 1);
	CHECK_EQ_INT(store_account_set_disabled(st, a, 0), 0);
	CHECK_EQ_INT(store_counsellor_get(st, a, &k), 0);
	CHECK_EQ_INT(k.acct.disabled, 0);
	CHECK_EQ_INT(store_account_set_disabled(st, 999999, 1),
	    OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_commit(st), 0);
}

/* Acks every copy waiting for who. */
static void
ack_all(struct store *st, int64_t who)
{
	struct seen s;
	int del;

	deliveries(st, who, 0, 16, &s);
	for (int i = 0; i < s.n; i++) {
		CHECK_EQ_INT(store_delivery_ack(st, who, s.seq[i], &del), 0);
		CHECK_EQ_INT(del, 1);
	}
}

struct notes_seen {
	int n;
	int64_t id[4], ts[4];
	uint8_t ct[4][16];
	size_t len[4];
	int stop_after;
	int64_t last;		/* the last id seen */
	struct store *nest;	/* when set: call store_note_each() */
};

static int
keep_note(void *arg, const struct note *n)
{
	struct notes_seen *ns = arg;

	if (ns->nest != NULL) {
		struct notes_seen inner;

		memset(&inner, 0, sizeof(inner));
		return store_note_each(ns->nest, 1, 1, 0, keep_note, &inner);
	}
	ns->last = n->id;
	if (ns->n < 4 && n->ct_len <= sizeof(ns->ct[0])) {
		ns->id[ns->n] = n->id;
		ns->ts[ns->n] = n->ts;
		memcpy(ns->ct[ns->n], n->ct, n->ct_len);
		ns->len[ns->n] = n->ct_len;
	}
	ns->n++;
	if (ns->stop_after != 0 && ns->n == ns->stop_after)
		return 3;
	return 0;
}

/* Unread copies of a case, and counsellors' notes. */
static void
test_unread_notes(struct store *st)
{
	static uint8_t big[OFR_CT_MAX + 1];
	uint8_t mid[OFR_MID_BYTES];
	const uint8_t *ct[1] = { (const uint8_t *)"x" };
	size_t len[1] = { 1 };
	struct case_info c1, c2;
	struct notes_seen ns;
	struct seen s;
	int64_t prog, co, co2, cl1, cl2, id1 = 0, id2 = 0, id, n = -1;
	int dup, del;

	CHECK_EQ_INT(store_programme_create(st, "Notes", 1300, &prog), 0);
	co = counsellor(st, 1301, prog, ",en,", ",", 5, PRESENCE_ONLINE, 0);
	co2 = counsellor(st, 1302, prog, ",en,", ",", 5, PRESENCE_ONLINE, 0);
	cl1 = account(st, 1303, ROLE_CLIENT, 0, "n1", 0);
	cl2 = account(st, 1304, ROLE_CLIENT, 0, "n2", 0);
	CHECK_EQ_INT(store_case_create(st, cl1, "en", "", 1310, &c1), 0);
	CHECK_EQ_INT(store_case_create(st, cl2, "en", "", 1310, &c2), 0);
	CHECK_EQ_INT(store_case_assign(st, c1.id, co, 1311), 0);
	CHECK_EQ_INT(store_case_assign(st, c2.id, co, 1311), 0);

	/* unread: the copies of that case still waiting for recipient */
	CHECK_EQ_INT(store_case_unread(st, c1.id, co, &n), 0);
	CHECK_EQ_INT(n, 0);
	for (int i = 0; i < 3; i++) {
		memset(mid, 0x60 + i, sizeof(mid));
		CHECK_EQ_INT(store_message_insert(st, c1.id, cl1, mid, 1320,
		    &co, ct, len, 1, &dup, NULL), 0);
	}
	memset(mid, 0x70, sizeof(mid));
	CHECK_EQ_INT(store_message_insert(st, c2.id, cl2, mid, 1321, &co, ct,
	    len, 1, &dup, NULL), 0);
	CHECK_EQ_INT(store_message_insert(st, c1.id, co, mid, 1322, &cl1, ct,
	    len, 1, &dup, NULL), 0);
	CHECK_EQ_INT(store_case_unread(st, c1.id, co, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(store_case_unread(st, c2.id, co, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_case_unread(st, c1.id, cl1, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(store_case_unread(st, c2.id, cl1, &n), 0);
	CHECK_EQ_INT(n, 0);
	deliveries(st, co, 0, 16, &s);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_INT(s.case_id[0], c1.id);
	CHECK_EQ_INT(store_delivery_ack(st, co, s.seq[0], &del), 0);
	CHECK_EQ_INT(store_case_unread(st, c1.id, co, &n), 0);
	CHECK_EQ_INT(n, 2);
	ack_all(st, co);
	ack_all(st, cl1);
	CHECK_EQ_INT(store_case_unread(st, c1.id, co, &n), 0);
	CHECK_EQ_INT(n, 0);

	/* notes: oldest first, only to their author, only of their case */
	CHECK_EQ_INT(store_note_add(st, c1.id, co, (const uint8_t *)"first",
	    5, 1330, &id1), 0);
	CHECK_EQ_INT(store_note_add(st, c2.id, co, (const uint8_t *)"other",
	    5, 1331, &id), 0);
	CHECK_EQ_INT(store_note_add(st, c1.id, co2, (const uint8_t *)"not co",
	    6, 1331, &id), 0);
	CHECK_EQ_INT(store_note_add(st, c1.id, co, (const uint8_t *)"second!",
	    7, 1332, &id2), 0);
	CHECK(id1 < id2);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c1.id, co, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 2);
	CHECK_EQ_INT(ns.id[0], id1);
	CHECK_EQ_INT(ns.ts[0], 1320);		/* to the minute */
	CHECK_EQ_INT(ns.len[0], 5);
	CHECK(memcmp(ns.ct[0], "first", 5) == 0);
	CHECK_EQ_INT(ns.id[1], id2);
	CHECK_EQ_INT(ns.ts[1], 1320);
	CHECK_EQ_INT(ns.len[1], 7);
	CHECK(memcmp(ns.ct[1], "second!", 7) == 0);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c2.id, co, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 1);
	CHECK(memcmp(ns.ct[0], "other", 5) == 0);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c1.id, co2, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 1);
	CHECK(memcmp(ns.ct[0], "not co", 6) == 0);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c1.id, cl1, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 0);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c2.id, co2, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 0);
	memset(&ns, 0, sizeof(ns));
	ns.stop_after = 1;
	CHECK_EQ_INT(store_note_each(st, c1.id, co, 0, keep_note, &ns), 3);
	CHECK_EQ_INT(ns.n, 1);
	memset(&ns, 0, sizeof(ns));
	ns.nest = st;
	CHECK_EQ_INT(store_note_each(st, c1.id, co, 0, keep_note, &ns),
	    OFR_E_INTERNAL);
	/* bounds: an empty note is kept, a big one refused */
	CHECK_EQ_INT(store_note_add(st, c2.id, co, NULL, 0, 1333, &id), 0);
	CHECK_EQ_INT(store_note_add(st, c2.id, co, big, sizeof(big), 1334,
	    &id), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_note_add(st, c2.id, co, big, OFR_CT_MAX, 1334, &id),
	    0);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c2.id, co, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 3);
	CHECK_EQ_INT(ns.len[1], 0);
	/* at most STORE_CASES_MAX of them */
	for (int i = 0; i < STORE_CASES_MAX; i++)
		CHECK_EQ_INT(store_note_add(st, c2.id, co2,
		    (const uint8_t *)"n", 1, 1340 + i, &id), 0);
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c2.id, co2, 0, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, STORE_CASES_MAX);
	CHECK_EQ_INT(ns.ts[0], 1320);
	/* the next ones after the last id given */
	CHECK_EQ_INT(store_note_add(st, c2.id, co2, (const uint8_t *)"n", 1,
	    1340, &id2), 0);
	id = ns.last;
	memset(&ns, 0, sizeof(ns));
	CHECK_EQ_INT(store_note_each(st, c2.id, co2, id, keep_note, &ns), 0);
	CHECK_EQ_INT(ns.n, 1);
	CHECK_EQ_INT(ns.id[0], id2);
	/* at most STORE_NOTES_MAX of one author in a case */
	for (int i = STORE_CASES_MAX + 1; i < STORE_NOTES_MAX; i++)
		CHECK_EQ_INT(store_note_add(st, c2.id, co2,
		    (const uint8_t *)"n", 1, 1340, &id), 0);
	CHECK_EQ_INT(store_note_add(st, c2.id, co2, (const uint8_t *)"n", 1,
	    1340, &id), OFR_E_LIMIT);
	CHECK_EQ_INT(store_note_add(st, c2.id, co, (const uint8_t *)"n", 1,
	    1340, &id), 0);		/* another author's */
	CHECK_EQ_INT(store_case_close(st, c1.id, 1350), 0);
	CHECK_EQ_INT(store_case_close(st, c2.id, 1350), 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

struct audit_seen {
	int n;
	struct audit_entry e[8];
	int stop_after;
};

static int
keep_audit(void *arg, const struct audit_entry *e)
{
	struct audit_seen *as = arg;

	if (as->n < 8)
		as->e[as->n] = *e;
	as->n++;
	if (as->stop_after != 0 && as->n == as->stop_after)
		return 4;
	return 0;
}

/* Runs sql through a separate read-write connection, as another process
 * could; its SQLite result code, its message in msg. */
static int
poke(const char *sql, char *msg, size_t cap)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	msg[0] = '\0';
#ifdef OFFRAMP_POSTGRES
	/* PostgreSQL's refusals (a constraint, class 23; a trigger's
	 * exception, P0001) as SQLite's SQLITE_CONSTRAINT */
	if (url != NULL) {
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, sql);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK)
			rc = SQLITE_OK;
		else if (state != NULL && (strncmp(state, "23", 2) == 0 ||
		    strcmp(state, "P0001") == 0))
			rc = SQLITE_CONSTRAINT;
		else
			rc = SQLITE_ERROR;
		snprintf(msg, cap, "%s", PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(c);
		return rc;
	}
#endif
	if ((rc = sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL)) ==
	    SQLITE_OK) {
		rc = sqlite3_exec(db, sql, NULL, NULL, &err);
		snprintf(msg, cap, "%s", err != NULL ? err : "");
		sqlite3_free(err);
	}
	sqlite3_close(db);
	return rc;
}

/* The first column of sql's first row as text, in out ("" for none). */
static void
peek_text(const char *sql, char *out, size_t cap)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const unsigned char *t = NULL;

	out[0] = '\0';
#ifdef OFFRAMP_POSTGRES
	if (url != NULL) {
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		PQfinish(c);
		return;
	}
#endif
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    (t = sqlite3_column_text(s, 0)) != NULL)
		snprintf(out, cap, "%s", (const char *)t);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/*
 * Migration 21 (PostgreSQL's 8): the copies waiting in a store of schema
 * 20 (PostgreSQL's 7), one message's ids in messages for all its copies,
 * come over whole, and the seq counter with them. The store is taken back
 * to that schema by hand, its copies (those the tests before left, of one
 * and of two recipients) split into messages and copies again as 20 kept
 * them, and opened.
 */
static void
test_copies_carried(struct store **stp)
{
	static const char rows_sqlite[] =
	    "SELECT group_concat(r, ',') FROM (SELECT seq || ':' ||"
	    " recipient_id || ':' || case_id || ':' || sender_id || ':' ||"
	    " hex(mid) || ':' || created || ':' || hex(ct) AS r"
	    " FROM deliveries ORDER BY seq)";
	static const char rows_pg[] =
	    "SELECT string_agg(seq || ':' || recipient_id || ':' || case_id"
	    " || ':' || sender_id || ':' || upper(encode(mid, 'hex')) || ':'"
	    " || created || ':' || upper(encode(ct, 'hex')), ',' ORDER BY seq)"
	    " FROM deliveries";
	static const char back_sqlite[] =
	    "BEGIN;"
	    "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
	    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
	    "  sender_id INTEGER NOT NULL REFERENCES accounts(id),"
	    "  mid BLOB NOT NULL CHECK (length(mid) = 16),"
	    "  created INTEGER NOT NULL);"
	    "INSERT INTO messages(case_id, sender_id, mid, created)"
	    "  SELECT case_id, sender_id, mid, created FROM deliveries"
	    "  GROUP BY sender_id, mid;"
	    "CREATE TABLE d20 (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
	    "  recipient_id INTEGER NOT NULL REFERENCES accounts(id),"
	    "  ct BLOB NOT NULL);"
	    "INSERT INTO d20 SELECT d.seq, m.id, d.recipient_id, d.ct"
	    "  FROM deliveries d JOIN messages m"
	    "  ON m.sender_id = d.sender_id AND m.mid = d.mid;"
	    "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence"
	    "  WHERE name = 'deliveries') WHERE name = 'd20';"
	    "DROP TABLE deliveries;"
	    "ALTER TABLE d20 RENAME TO deliveries;"
	    "CREATE INDEX messages_created ON messages(created);"
	    "CREATE INDEX messages_case ON messages(case_id);"
	    "CREATE INDEX deliveries_recipient ON deliveries(recipient_id, seq);"
	    "CREATE INDEX deliveries_message ON deliveries(message_id);"
	    "CREATE TRIGGER messages_last_copy AFTER DELETE ON deliveries"
	    "  WHEN NOT EXISTS (SELECT 1 FROM deliveries d"
	    "  WHERE d.message_id = OLD.message_id)"
	    "  BEGIN DELETE FROM messages WHERE id = OLD.message_id; END;"
	    "PRAGMA user_version = 20;"
	    "COMMIT;";
	static const char back_pg[] =
	    "BEGIN;"
	    "CREATE TABLE messages ("
	    "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	    "  case_id bigint NOT NULL REFERENCES cases(id),"
	    "  sender_id bigint NOT NULL REFERENCES accounts(id),"
	    "  mid bytea NOT NULL CHECK (length(mid) = 16),"
	    "  created bigint NOT NULL);"
	    "INSERT INTO messages(case_id, sender_id, mid, created)"
	    "  SELECT min(case_id), sender_id, mid, min(created)"
	    "  FROM deliveries GROUP BY sender_id, mid;"
	    "ALTER TABLE deliveries ADD COLUMN message_id bigint"
	    "  REFERENCES messages(id);"
	    "UPDATE deliveries d SET message_id = m.id FROM messages m"
	    "  WHERE m.sender_id = d.sender_id AND m.mid = d.mid;"
	    "ALTER TABLE deliveries ALTER COLUMN message_id SET NOT NULL,"
	    "  DROP COLUMN case_id, DROP COLUMN sender_id, DROP COLUMN mid,"
	    "  DROP COLUMN created;"
	    "CREATE INDEX messages_created ON messages(created);"
	    "CREATE INDEX messages_case ON messages(case_id);"
	    "CREATE INDEX deliveries_message ON deliveries(message_id);"
	    "CREATE FUNCTION messages_last_copy() RETURNS trigger"
	    "  LANGUAGE plpgsql AS $$ BEGIN"
	    "  IF NOT EXISTS (SELECT 1 FROM deliveries d"
	    "    WHERE d.message_id = OLD.message_id) THEN"
	    "    DELETE FROM messages WHERE id = OLD.message_id;"
	    "  END IF;"
	    "  RETURN NULL; END $$;"
	    "CREATE TRIGGER messages_last_copy AFTER DELETE ON deliveries"
	    "  FOR EACH ROW EXECUTE FUNCTION messages_last_copy();"
	    "UPDATE schema_version SET version = 7;"
	    "COMMIT;";
	static const char next_sqlite[] =
	    "SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'";
	static const char next_pg[] =
	    "SELECT last_value FROM deliveries_seq_seq";
	static char before[1 << 16], after[1 << 16];
	uint8_t mid[OFR_MID_BYTES];
	const uint8_t *ct[1] = { (const uint8_t *)"after" };
	size_t len[1] = { 5 };
	const uint8_t *cts[3] = { (const uint8_t *)"one", (const uint8_t *)"two",
	    (const uint8_t *)"three" };
	size_t lens[3] = { 3, 3, 5 };
	int64_t counter, two, seq = 0, to, from, cid, rcpt[3], seqs[3];
	char msg[256];
	int dup = -1, deleted = -1;

	/* a message of two copies, and one of three whose newest copy is
	 * acked: the counter stands past every seq left */
	to = peek("SELECT recipient_id FROM deliveries ORDER BY seq DESC"
	    " LIMIT 1");
	from = peek("SELECT sender_id FROM deliveries ORDER BY seq DESC"
	    " LIMIT 1");
	cid = peek("SELECT case_id FROM deliveries ORDER BY seq DESC LIMIT 1");
	rcpt[0] = to;
	rcpt[1] = peek("SELECT min(id) FROM accounts WHERE id != 0");
	rcpt[2] = peek("SELECT max(id) FROM accounts");
	CHECK(to > 0 && from > 0 && cid > 0 && rcpt[1] > 0 && rcpt[2] > 0);
	for (int n = 2; n <= 3; n++) {
		randombytes_buf(mid, sizeof(mid));
		CHECK_EQ_INT(store_message_insert(*stp, cid, from, mid, 800 + n,
		    rcpt, cts, lens, (size_t)n, &dup, seqs), 0);
		CHECK_EQ_INT(dup, 0);
	}
	CHECK_EQ_INT(store_delivery_ack(*stp, rcpt[2], seqs[2], &deleted), 0);
	CHECK_EQ_INT(deleted, 1);
	CHECK_EQ_INT(store_commit(*stp), 0);
	two = peek("SELECT count(*) FROM (SELECT 1 FROM deliveries"
	    " GROUP BY sender_id, mid HAVING count(*) = 2) AS t");
	CHECK(two >= 2);
	peek_text(url != NULL ? rows_pg : rows_sqlite, before, sizeof(before));
	counter = peek(url != NULL ? next_pg : next_sqlite);
	CHECK(strlen(before) > 100 && strlen(before) < sizeof(before) - 1);
	CHECK(counter > peek("SELECT max(seq) FROM deliveries"));

	store_close(*stp);
	*stp = NULL;
	CHECK_EQ_INT(poke(url != NULL ? back_pg : back_sqlite, msg,
	    sizeof(msg)), SQLITE_OK);
	CHECK_EQ_INT(peek("SELECT count(*) FROM messages") > 0, 1);
	CHECK_EQ_INT(open_store(stp), 0);
	if (*stp == NULL)
		return;
	if (url != NULL)	/* 8 carried the copies, 9 too */
		CHECK_EQ_INT(peek("SELECT version FROM schema_version"), 9);
	else
		CHECK_EQ_INT(peek("PRAGMA user_version"), 21);
	CHECK_EQ_INT(peek("SELECT count(*) FROM messages"), -1);	/* gone */
	peek_text(url != NULL ? rows_pg : rows_sqlite, after, sizeof(after));
	CHECK(strcmp(before, after) == 0);
	CHECK_EQ_INT(peek("SELECT count(*) FROM (SELECT 1 FROM deliveries"
	    " GROUP BY sender_id, mid HAVING count(*) = 2) AS t"), two);
	/* the next seq is past the counter, not past the rows left */
	randombytes_buf(mid, sizeof(mid));
	CHECK_EQ_INT(store_message_insert(*stp, cid, from, mid, 900, &to, ct,
	    len, 1, &dup, &seq), 0);
	CHECK_EQ_INT(dup, 0);
	CHECK(seq > counter);
	CHECK_EQ_INT(store_commit(*stp), 0);
}

/* The audit log: order, paging, names, and append-only on disk. */
static void
test_audit(struct store *st)
{
	struct audit_seen as;
	int64_t p1, p2, ad, co, last, before, n;
	char msg[256], q[128], detail[128];

	CHECK_EQ_INT(store_programme_create(st, "Audit", 1400, &p1), 0);
	CHECK_EQ_INT(store_programme_create(st, "Audit 2", 1400, &p2), 0);
	ad = account(st, 1401, ROLE_ADMIN, p1, "Ada", 0);
	co = account(st, 1402, ROLE_COUNSELLOR, p1, "Tom", 0);
	CHECK(ad > 0 && co > 0);
	CHECK_EQ_INT(store_audit_add(st, p1, ad, "invite.create", 0,
	    "counsellor", 1410), 0);
	CHECK_EQ_INT(store_audit_add(st, p1, ad, "counsellor.disable", co,
	    "", 1411), 0);
	CHECK_EQ_INT(store_audit_add(st, p2, ad, "programme.set", 0, NULL,
	    1412), 0);
	CHECK_EQ_INT(store_audit_add(st, p1, 0, "counsellor.certify", co,
	    "x", 1413), 0);
	/* refused: nothing written */
	CHECK_EQ_INT(store_audit_add(st, p1, ad, "", 0, "", 1414),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_audit_add(st, p1, ad,
	    "an-action-name-far-over-32-bytes-long", 0, "", 1414),
	    OFR_E_BAD_FIELD);
	memset(detail, 'd', sizeof(detail));
	detail[sizeof(detail) - 1] = '\0';		/* 127: fits */
	CHECK_EQ_INT(store_audit_add(st, p2, ad, "x", 0, detail, 1415), 0);
	{
		char over[129];

		memset(over, 'd', sizeof(over));
		over[128] = '\0';
		CHECK_EQ_INT(store_audit_add(st, p1, ad, "x", 0, over, 1416),
		    OFR_E_BAD_FIELD);
	}

	/* newest first, with names */
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p1, 0, 10, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 3);
	CHECK(as.e[0].id > as.e[1].id && as.e[1].id > as.e[2].id);
	CHECK(strcmp(as.e[0].action, "counsellor.certify") == 0);
	CHECK_EQ_INT(as.e[0].ts, 1413);
	CHECK_EQ_INT(as.e[0].actor, 0);
	CHECK(as.e[0].actor_name[0] == '\0');
	CHECK_EQ_INT(as.e[0].target, co);
	CHECK(strcmp(as.e[0].target_name, "Tom") == 0);
	CHECK(strcmp(as.e[0].detail, "x") == 0);
	CHECK(strcmp(as.e[1].action, "counsellor.disable") == 0);
	CHECK_EQ_INT(as.e[1].actor, ad);
	CHECK(strcmp(as.e[1].actor_name, "Ada") == 0);
	CHECK(as.e[1].detail[0] == '\0');
	CHECK(strcmp(as.e[2].action, "invite.create") == 0);
	CHECK_EQ_INT(as.e[2].ts, 1410);
	CHECK_EQ_INT(as.e[2].target, 0);
	CHECK(as.e[2].target_name[0] == '\0');
	CHECK(strcmp(as.e[2].detail, "counsellor") == 0);
	last = as.e[2].id;
	/* limit and before page backwards */
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p1, 0, 2, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 2);
	CHECK(strcmp(as.e[1].action, "counsellor.disable") == 0);
	before = as.e[1].id;
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p1, before, 10, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 1);
	CHECK_EQ_INT(as.e[0].id, last);
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p1, last, 10, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 0);
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p1, 0, 0, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 0);
	memset(&as, 0, sizeof(as));
	as.stop_after = 1;
	CHECK_EQ_INT(store_audit_each(st, p1, 0, 10, keep_audit, &as), 4);
	CHECK_EQ_INT(as.n, 1);
	/* another programme's log */
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p2, 0, 10, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 2);
	CHECK_EQ_INT(strlen(as.e[0].detail), 127);
	CHECK(strcmp(as.e[1].action, "programme.set") == 0);
	CHECK(as.e[1].detail[0] == '\0');

	/* append-only: the database itself refuses, whoever asks */
	CHECK_EQ_INT(store_commit(st), 0);
	snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE action = "
	    "'invite.create' AND id = %lld", (long long)last);
	n = peek("SELECT count(*) FROM audit");
	CHECK(n >= 5);
	CHECK_EQ_INT(poke("UPDATE audit SET action = 'nothing'", msg,
	    sizeof(msg)), SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "append-only") != NULL);
	/* (since version 5 only the oldest entry, never the newest, may
	 * go: the retention job's trim) */
	CHECK_EQ_INT(poke("DELETE FROM audit WHERE id = (SELECT max(id) FROM "
	    "audit)", msg, sizeof(msg)), SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "append-only") != NULL);
	CHECK_EQ_INT(poke("DELETE FROM audit WHERE id = (SELECT id FROM audit "
	    "ORDER BY id LIMIT 1 OFFSET 1)", msg, sizeof(msg)),
	    SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "append-only") != NULL);
	CHECK_EQ_INT(poke("DELETE FROM audit", msg, sizeof(msg)),
	    SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "append-only") != NULL);
	CHECK_EQ_INT(peek("SELECT count(*) FROM audit"), n);
	CHECK_EQ_INT(peek(q), 1);
	/* (the check can fail: an ordinary table takes the same writes) */
	CHECK_EQ_INT(poke("CREATE TEMP TABLE t(x bigint); INSERT INTO t "
	    "VALUES (1); UPDATE t SET x = 2; DELETE FROM t", msg,
	    sizeof(msg)), SQLITE_OK);
}

struct programmes_seen {
	int n;
	int64_t id[64];
	struct programme mine;
	int64_t want;
	int stop_after;
};

static int
keep_programme(void *arg, const struct programme *p)
{
	struct programmes_seen *ps = arg;

	if (ps->n < 64)
		ps->id[ps->n] = p->id;
	if (p->id == ps->want)
		ps->mine = *p;
	ps->n++;
	if (ps->stop_after != 0 && ps->n == ps->stop_after)
		return 8;
	return 0;
}

/* Programmes' public profiles. */
/* Erasure: store_account_drop refuses admins, takes a counsellor with its
 * profile and prekeys, keeps the audit entries that name it, and its
 * number is never given to a new account. */
static void
test_erasure(struct store *st)
{
	struct audit_seen as;
	uint8_t spk[32], sig[OFR_SIG_BYTES], pk[32];
	int64_t p, ad, co, next;
	char q[512];

	memset(spk, 1, sizeof(spk));
	memset(sig, 2, sizeof(sig));
	memset(pk, 3, sizeof(pk));
	CHECK_EQ_INT(store_programme_create(st, "Erasure", 2000, &p), 0);
	ad = account(st, 2001, ROLE_ADMIN, p, "Eda", 0);
	co = account(st, 2002, ROLE_COUNSELLOR, p, "Gone", 0);
	CHECK(ad > 0 && co > ad);
	CHECK_EQ_INT(store_spk_set(st, co, 1, spk, sig, 2003), 0);
	CHECK_EQ_INT(store_otk_add(st, co, 1, pk), 0);
	CHECK_EQ_INT(store_audit_add(st, p, ad, "counsellor.delete", co,
	    "", 2004), 0);
	CHECK_EQ_INT(store_account_drop(st, ad), OFR_E_FORBIDDEN);
	CHECK_EQ_INT(store_account_drop(st, co), 0);
	CHECK_EQ_INT(store_account_drop(st, co), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_commit(st), 0);
	snprintf(q, sizeof(q), "SELECT (SELECT count(*) FROM accounts WHERE "
	    "id = %lld) + (SELECT count(*) FROM counsellor_profiles WHERE "
	    "account_id = %lld) + (SELECT count(*) FROM signed_prekeys WHERE "
	    "account_id = %lld) + (SELECT count(*) FROM one_time_prekeys "
	    "WHERE account_id = %lld)", (long long)co, (long long)co,
	    (long long)co, (long long)co);
	CHECK_EQ_INT(peek(q), 0);
	/* the newest account was dropped: its number is not reused */
	next = account(st, 2005, ROLE_CLIENT, 0, "new", 0);
	CHECK(next > co);
	memset(&as, 0, sizeof(as));
	CHECK_EQ_INT(store_audit_each(st, p, 0, 10, keep_audit, &as), 0);
	CHECK_EQ_INT(as.n, 1);
	CHECK_EQ_INT(as.e[0].target, co);
	CHECK(as.e[0].target_name[0] == '\0');
	CHECK_EQ_INT(store_commit(st), 0);
}

static void
test_programme_profiles(struct store *st)
{
	struct programme p, g;
	struct programmes_seen ps;
	uint8_t key[OFR_PK_BYTES];
	int64_t id;

	CHECK_EQ_INT(store_programme_create(st, "Prof", 1500, &id), 0);
	memset(&g, 0x55, sizeof(g));
	CHECK_EQ_INT(store_programme_get(st, id, &g), 0);
	CHECK(strcmp(g.name, "Prof") == 0);
	CHECK(g.description[0] == '\0');
	CHECK(strcmp(g.languages, ",") == 0);
	CHECK(strcmp(g.topics, ",") == 0);
	CHECK(strcmp(g.regions, ",") == 0);
	CHECK_EQ_INT(g.formats, 0);
	CHECK_EQ_INT(g.has_key, 0);
	memset(key, 0x61, sizeof(key));
	CHECK_EQ_INT(store_programme_set_key(st, id, key), 0);

	memset(&p, 0, sizeof(p));
	p.id = id;
	snprintf(p.name, sizeof(p.name), "Exit Prof");
	snprintf(p.description, sizeof(p.description), "We help people "
	    "leave, in person and online.");
	snprintf(p.languages, sizeof(p.languages), ",en,ar,");
	snprintf(p.topics, sizeof(p.topics), ",leaving,family,");
	snprintf(p.regions, sizeof(p.regions), ",de-be,de-by,");
	p.formats = FORMAT_CHAT | FORMAT_IN_PERSON;
	CHECK_EQ_INT(store_programme_set_profile(st, &p), 0);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(store_programme_get(st, id, &g), 0);
	CHECK_EQ_INT(g.id, id);
	CHECK(strcmp(g.name, "Exit Prof") == 0);
	CHECK(strcmp(g.description, p.description) == 0);
	CHECK(strcmp(g.languages, ",en,ar,") == 0);
	CHECK(strcmp(g.topics, ",leaving,family,") == 0);
	CHECK(strcmp(g.regions, ",de-be,de-by,") == 0);
	CHECK_EQ_INT(g.formats, FORMAT_CHAT | FORMAT_IN_PERSON);
	CHECK_EQ_INT(g.has_key, 1);	/* the key is not the profile's */
	CHECK(memcmp(g.key, key, sizeof(key)) == 0);
	/* the longest description fits */
	memset(p.description, 'd', MODEL_DESCRIPTION_MAX);
	p.description[MODEL_DESCRIPTION_MAX] = '\0';
	CHECK_EQ_INT(store_programme_set_profile(st, &p), 0);
	CHECK_EQ_INT(store_programme_get(st, id, &g), 0);
	CHECK_EQ_INT(strlen(g.description), MODEL_DESCRIPTION_MAX);

	/* refused whole */
	for (int i = 0; i < 7; i++) {
		struct programme bad = p;

		switch (i) {
		case 0: memset(bad.description, 'd', sizeof(bad.description));
			break;
		case 1: memset(bad.name, 'n', sizeof(bad.name)); break;
		case 2: snprintf(bad.languages, sizeof(bad.languages), "en");
			break;
		case 3: snprintf(bad.topics, sizeof(bad.topics), ",a b,");
			break;
		case 4: snprintf(bad.regions, sizeof(bad.regions), ",DE,");
			break;
		case 5: bad.formats = 8; break;
		default: bad.formats = -1; break;
		}
		CHECK_EQ_INT(store_programme_set_profile(st, &bad),
		    OFR_E_BAD_FIELD);
	}
	p.id = id + 1000;
	CHECK_EQ_INT(store_programme_set_profile(st, &p), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_programme_get(st, id, &g), 0);
	CHECK(strcmp(g.regions, ",de-be,de-by,") == 0);
	CHECK_EQ_INT(g.formats, FORMAT_CHAT | FORMAT_IN_PERSON);

	/* each: by id */
	memset(&ps, 0, sizeof(ps));
	ps.want = id;
	CHECK_EQ_INT(store_programme_each(st, 100, keep_programme, &ps), 0);
	CHECK(ps.n > 1 && ps.n <= 64);
	for (int i = 1; i < ps.n && i < 64; i++)
		CHECK(ps.id[i - 1] < ps.id[i]);
	CHECK_EQ_INT(ps.mine.id, id);
	CHECK(strcmp(ps.mine.topics, ",leaving,family,") == 0);
	CHECK_EQ_INT(ps.mine.has_key, 1);
	memset(&ps, 0, sizeof(ps));
	CHECK_EQ_INT(store_programme_each(st, 1, keep_programme, &ps), 0);
	CHECK_EQ_INT(ps.n, 1);
	memset(&ps, 0, sizeof(ps));
	ps.stop_after = 2;
	CHECK_EQ_INT(store_programme_each(st, 100, keep_programme, &ps), 8);
	CHECK_EQ_INT(ps.n, 2);
	CHECK_EQ_INT(store_commit(st), 0);
}

/* A case of a fresh client n, created at t, taken by counsellor co, with
 * the counsellor's first message at t + after (none when after < 0). */
static int64_t
answered_case(struct store *st, int n, int64_t co, int64_t t, int64_t after)
{
	uint8_t mid[OFR_MID_BYTES];
	int64_t cl = account(st, n, ROLE_CLIENT, 0, "fr", 0);
	struct case_info c;
	int dup;

	if (cl < 0 || store_case_create(st, cl, "en", "", t, &c) != 0 ||
	    store_case_assign(st, c.id, co, t) != 0)
		return -1;
	memset(mid, 0, sizeof(mid));
	mid[0] = (uint8_t)n;
	mid[1] = (uint8_t)(n >> 8);
	/* the client's own message first: not a response */
	if (store_message_insert(st, c.id, cl, mid, t + 1, NULL, NULL, NULL,
	    0, &dup, NULL) != 0)
		return -1;
	if (after >= 0 && (store_message_insert(st, c.id, co, mid, t + after,
	    NULL, NULL, NULL, 0, &dup, NULL) != 0 ||
	    store_message_insert(st, c.id, co, (uint8_t[OFR_MID_BYTES]){ 1 },
	    t + after + 50, NULL, NULL, NULL, 0, &dup, NULL) != 0))
		return -1;
	if (store_case_close(st, c.id, t + 1000) != 0)
		return -1;
	return c.id;
}

/* Seconds to the first response, by the counsellor's programme. */
/* store_partner_each() and store_partner_programme_each() callbacks:
 * count what they see. */
static int
count_blob(void *arg, int64_t signer, const uint8_t *p, size_t n)
{
	(void)signer;
	(void)p;
	(*(int *)arg) += n == PARTNER_BYTES;
	return 0;
}

static int
count_programme(void *arg, const struct programme *p)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

/* Partnerships: one open per pair, whoever proposed; accept serves both
 * statements, end serves none and keeps one record of the pair; external
 * partners are bounded and their programme's own. */
static void
test_partnerships(struct store *st)
{
	uint8_t sa[PARTNER_BYTES], sb[PARTNER_BYTES];
	struct partnership p;
	struct external_partner e, g;
	int64_t a, b, c, id, id2;
	int n;

	memset(sa, 0xa1, sizeof(sa));
	memset(sb, 0xb2, sizeof(sb));
	CHECK_EQ_INT(store_programme_create(st, "PA", 1600, &a), 0);
	CHECK_EQ_INT(store_programme_create(st, "PB", 1600, &b), 0);
	CHECK_EQ_INT(store_programme_create(st, "PC", 1600, &c), 0);
	CHECK_EQ_INT(store_partnership_propose(st, a, a, sa, 1601, &id),
	    OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_partnership_propose(st, a, b, sa, 1601, &id), 0);
	CHECK_EQ_INT(store_partnership_propose(st, a, b, sa, 1602, &id2),
	    OFR_E_BAD_STATE);
	CHECK_EQ_INT(store_partnership_propose(st, b, a, sb, 1602, &id2),
	    OFR_E_BAD_STATE);
	CHECK_EQ_INT(store_partnership_get(st, id, &p), 0);
	CHECK_EQ_INT(p.status, PARTNERSHIP_PROPOSED);
	CHECK_EQ_INT(p.proposer, a);
	CHECK_EQ_INT(p.has_partner_st, 0);
	n = 0;
	CHECK_EQ_INT(store_partner_each(st, b, 16, count_blob, &n), 0);
	CHECK_EQ_INT(n, 0);		/* nothing served while proposed */

	CHECK_EQ_INT(store_partnership_accept(st, &p, sb), 0);
	CHECK_EQ_INT(store_partnership_accept(st, &p, sb), OFR_E_BAD_STATE);
	n = 0;
	CHECK_EQ_INT(store_partner_each(st, b, 16, count_blob, &n), 0);
	CHECK_EQ_INT(store_partner_each(st, a, 16, count_blob, &n), 0);
	CHECK_EQ_INT(n, 2);
	n = 0;
	CHECK_EQ_INT(store_partner_programme_each(st, a, 100,
	    count_programme, &n), 0);
	CHECK_EQ_INT(n, 1);
	n = 0;
	CHECK_EQ_INT(store_partner_programme_each(st, c, 100,
	    count_programme, &n), 0);
	CHECK_EQ_INT(n, 0);

	CHECK_EQ_INT(store_partnership_get(st, id, &p), 0);
	CHECK_EQ_INT(store_partnership_end(st, &p, b, 1700), 0);
	CHECK_EQ_INT(store_partnership_end(st, &p, b, 1701), OFR_E_BAD_STATE);
	CHECK_EQ_INT(store_partnership_get(st, id, &p), 0);
	CHECK_EQ_INT(p.status, PARTNERSHIP_ENDED);
	CHECK_EQ_INT(p.ended, 1700);
	CHECK_EQ_INT(p.ended_by, b);
	n = 0;
	CHECK_EQ_INT(store_partner_each(st, b, 16, count_blob, &n), 0);
	CHECK_EQ_INT(store_partner_each(st, a, 16, count_blob, &n), 0);
	CHECK_EQ_INT(n, 0);
	n = 0;
	CHECK_EQ_INT(store_partner_programme_each(st, a, 100,
	    count_programme, &n), 0);
	CHECK_EQ_INT(n, 0);
	/* proposed again, and withdrawn: one record of the pair stays */
	CHECK_EQ_INT(store_partnership_propose(st, b, a, sb, 1800, &id2), 0);
	CHECK_EQ_INT(store_partnership_get(st, id2, &p), 0);
	CHECK_EQ_INT(store_partnership_end(st, &p, b, 1801), 0);
	CHECK_EQ_INT(store_partnership_get(st, id, &p), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_commit(st), 0);	/* peek reads what is committed */
	CHECK_EQ_INT(peek("SELECT count(*) FROM partnerships"), 1);

	memset(&e, 0, sizeof(e));
	e.programme = a;
	snprintf(e.name, sizeof(e.name), "Exit Nord");
	snprintf(e.regions, sizeof(e.regions), ",hamburg,");
	snprintf(e.topics, sizeof(e.topics), ",");
	snprintf(e.contact, sizeof(e.contact), "phone 0000");
	e.formats = 8;
	CHECK_EQ_INT(store_external_set(st, &e), OFR_E_BAD_FIELD);
	e.formats = FORMAT_IN_PERSON;
	CHECK_EQ_INT(store_external_set(st, &e), 0);
	CHECK(e.id > 0);
	CHECK_EQ_INT(store_external_get(st, b, e.id, &g), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_external_remove(st, b, e.id), OFR_E_NOT_FOUND);
	g = e;
	g.programme = b;
	CHECK_EQ_INT(store_external_set(st, &g), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_external_get(st, a, e.id, &g), 0);
	CHECK(strcmp(g.regions, ",hamburg,") == 0);
	CHECK_EQ_INT(g.formats, FORMAT_IN_PERSON);
	for (int i = 1; i < MODEL_EXTERNALS_MAX; i++) {
		g.id = 0;
		CHECK_EQ_INT(store_external_set(st, &g), 0);
	}
	g.id = 0;
	CHECK_EQ_INT(store_external_set(st, &g), OFR_E_LIMIT);
	CHECK_EQ_INT(store_external_remove(st, a, e.id), 0);
	CHECK_EQ_INT(store_external_get(st, a, e.id, &g), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_commit(st), 0);
}

static void
test_first_responses(struct store *st)
{
	struct case_info g;
	int64_t pa, pb, coa, coa2, cob, secs[8], id, ref;
	size_t n = 99;

	CHECK_EQ_INT(store_programme_create(st, "Resp A", 1600, &pa), 0);
	CHECK_EQ_INT(store_programme_create(st, "Resp B", 1600, &pb), 0);
	coa = counsellor(st, 1601, pa, ",en,", ",", 5, PRESENCE_ONLINE, 0);
	coa2 = counsellor(st, 1602, pa, ",en,", ",", 5, PRESENCE_ONLINE, 0);
	cob = counsellor(st, 1603, pb, ",en,", ",", 5, PRESENCE_ONLINE, 0);
	CHECK_EQ_INT(store_first_responses(st, pa, 0, secs, 8, &n), 0);
	CHECK_EQ_INT(n, 0);
	id = answered_case(st, 1610, coa, 5000, 100);
	CHECK(id > 0);
	CHECK_EQ_INT(store_case_get(st, id, &g), 0);
	CHECK_EQ_INT(g.first_response, 5100);	/* not 5150 */
	CHECK(answered_case(st, 1611, coa2, 6000, 30) > 0);
	CHECK(answered_case(st, 1612, coa, 7000, -1) > 0);	/* no answer */
	CHECK(answered_case(st, 1613, cob, 6000, 50) > 0);	/* other prog. */
	CHECK(answered_case(st, 1614, coa, 4000, 500) > 0);	/* too old */
	CHECK(answered_case(st, 1615, coa2, 5000, 0) > 0);	/* at once */

	CHECK_EQ_INT(store_first_responses(st, pa, 5000, secs, 8, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(secs[0], 0);
	CHECK_EQ_INT(secs[1], 30);
	CHECK_EQ_INT(secs[2], 100);
	CHECK_EQ_INT(store_first_responses(st, pa, 0, secs, 8, &n), 0);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(secs[3], 500);
	CHECK_EQ_INT(store_first_responses(st, pa, 5000, secs, 2, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(secs[1], 30);
	CHECK_EQ_INT(store_first_responses(st, pb, 0, secs, 8, &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(secs[0], 50);
	CHECK_EQ_INT(store_first_responses(st, pa, 7001, secs, 8, &n), 0);
	CHECK_EQ_INT(n, 0);
	/* cases referred externally: a flag, counted per programme */
	CHECK_EQ_INT(store_referred_count(st, pa, 0, &ref), 0);
	CHECK_EQ_INT(ref, 0);
	CHECK_EQ_INT(store_case_referred(st, id), 0);
	CHECK_EQ_INT(store_case_referred(st, id), 0);	/* once is enough */
	CHECK_EQ_INT(store_referred_count(st, pa, 0, &ref), 0);
	CHECK_EQ_INT(ref, 1);
	CHECK_EQ_INT(store_referred_count(st, pa, 5001, &ref), 0);
	CHECK_EQ_INT(ref, 0);
	CHECK_EQ_INT(store_referred_count(st, pb, 0, &ref), 0);
	CHECK_EQ_INT(ref, 0);
	/* an answer in the second of the client's message, when the case's
	 * updated is that second already: still the first response */
	id = answered_case(st, 1616, coa, 8000, 1);
	CHECK(id > 0);
	CHECK_EQ_INT(store_case_get(st, id, &g), 0);
	CHECK_EQ_INT(g.first_response, 8001);
	CHECK_EQ_INT(store_commit(st), 0);
}

/* 1 when store_url_safe() makes url into want. */
static int
safe_is(const char *url, const char *want)
{
	char buf[256];

	return strcmp(store_url_safe(url, buf, sizeof(buf)), want) == 0;
}

/* A store's URL: its password never shown; an unreachable or foreign
 * one refused at open, nothing opened. */
static void
test_url(void)
{
	struct store *st = NULL;
	char buf[256];

	CHECK(safe_is("postgresql://bob:s3cret@db.example/off",
	    "postgresql://bob:***@db.example/off"));
	CHECK(safe_is("postgresql:///off?host=/run/pg&password=s3cret&user=bob",
	    "postgresql:///off?host=/run/pg&password=***&user=bob"));
	CHECK(safe_is("postgresql://bob@/off?password=s3cret",
	    "postgresql://bob@/off?password=***"));
	CHECK(safe_is("postgresql://h/off?password=a&sslmode=require&"
	    "password=b", "postgresql://h/off?password=***&sslmode=require&"
	    "password=***"));
	CHECK(safe_is("postgresql://db.example:5433/off",
	    "postgresql://db.example:5433/off"));
	CHECK(strstr(store_url_safe("postgresql://bob:s3cret@h/off", buf, 12),
	    "s3cret") == NULL);
	CHECK(strcmp(store_url_safe("postgresql://h/o?password=s3cret", buf,
	    30), "postgresql://h/o?password=***") == 0);
	CHECK(strcmp(store_url_safe("postgresql://h/o?password=s3cret", buf,
	    28), "postgresql://h/o?password=") == 0);
	CHECK_EQ_INT(store_open_url(&st, dir, "mysql://h/off", 1),
	    OFR_E_USAGE);
	CHECK(st == NULL);
#ifdef OFFRAMP_POSTGRES
	/* a socket directory with no server in it */
	snprintf(buf, sizeof(buf), "postgresql://bob:s3cret@/off?host=%.64s"
	    "&connect_timeout=5", root);
	CHECK_EQ_INT(store_open_url(&st, dir, buf, 1), OFR_E_IO);
#else
	CHECK_EQ_INT(store_open_url(&st, dir, "postgresql://h/off", 1),
	    OFR_E_USAGE);
#endif
	CHECK(st == NULL);
}

int
main(void)
{
	struct store *st = NULL;
	int64_t prog;

	if (sodium_init() < 0)
		return 1;
	log_set_level(LOG_ERR);
	snprintf(root, sizeof(root), "/tmp/offramp-test-store-XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%.*s/data", PATH_MAX - 32, root);
	snprintf(dbpath, sizeof(dbpath), "%.*s/offramp.db", PATH_MAX - 32,
	    dir);

	url = getenv("OFFRAMP_STORE_URL");
	if (url != NULL && url[0] == '\0')
		url = NULL;
#ifndef OFFRAMP_POSTGRES
	if (url != NULL) {
		fprintf(stderr, "test_store: OFFRAMP_STORE_URL is set but this "
		    "build has no PostgreSQL (OFFRAMP_POSTGRES)\n");
		return 1;
	}
#endif
	test_url();
	if (url == NULL)
		test_open();	/* SQLite's file, its modes and its checks */
	CHECK_EQ_INT(open_store(&st), 0);
	if (st != NULL) {
		test_programmes_accounts(st);
		test_invites(st);
		test_cases(st);
		test_messages(st);
		test_keys(st);
		test_intake(st);
		test_membership(st);
		test_referrals(st);
		test_referral_ties(st);
		test_refusals_unlogged(st);
		test_referrals_stale(st);
		test_counsellors(st);
		test_unread_notes(st);
		test_audit(st);
		test_erasure(st);
		test_programme_profiles(st);
		test_first_responses(st);
		test_partnerships(st);
		test_seen_grain(st);
		test_transactions(&st);
#ifdef OFFRAMP_POSTGRES
		if (url != NULL) {
			test_otk_two_nodes();
			test_call_lost();
		}
#endif
		/* and everything of before is still there after a reopen */
		if (st != NULL) {
			CHECK_EQ_INT(store_programme_first(st, &prog), 0);
			CHECK_EQ_INT(peek("SELECT count(*) FROM deliveries"),
			    5);
			test_copies_carried(&st);
		}
		store_close(st);
	}
	rm_tree(root);
	CHECK(access(root, F_OK) != 0);
	return check_done();
}
