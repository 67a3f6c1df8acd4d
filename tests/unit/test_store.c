/*
 * test_store.c: every function of server/store.c against a real database in
 * a temporary directory, which is removed at the end. A second, read-only
 * SQLite handle looks at what is on disk where the API cannot show it
 * (schema version, what another process would see before a commit).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "check.h"
#include "log.h"
#include "proto/err.h"
#include "store.h"

static char root[PATH_MAX];	/* the temporary directory */
static char dir[PATH_MAX];	/* the store's data directory in it */
static char dbpath[PATH_MAX];

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

static int64_t
counsellor(struct store *st, int n, int64_t programme, const char *langs,
    const char *topics, int capacity, int available, int disabled)
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
	p.available = available;
	if (store_profile_set(st, id, &p) != 0)
		return -1;
	return id;
}

static int64_t
match(struct store *st, const char *language, const char *topic)
{
	int64_t c = 0;
	int rc = store_match_counsellor(st, language, topic, &c);

	return rc == 0 ? c : rc;
}

static void
test_open(void)
{
	struct store *st = NULL;
	char path[PATH_MAX + 16], file[PATH_MAX + 16];

	/* A parent that is missing, and a "directory" that is a file. */
	snprintf(path, sizeof(path), "%s/no/such", root);
	CHECK_EQ_INT(store_open(&st, path), OFR_E_IO);
	CHECK(st == NULL);
	snprintf(file, sizeof(file), "%s/file", root);
	fclose(fopen(file, "w"));
	CHECK_EQ_INT(store_open(&st, file), OFR_E_IO);

	/* A lax umask must not make lax files. */
	umask(022);
	CHECK_EQ_INT(store_open(&st, dir), 0);
	CHECK(st != NULL);
	CHECK_EQ_INT(mode_of(dir), 0700);
	CHECK_EQ_INT(mode_of(dbpath), 0600);
	snprintf(path, sizeof(path), "%s-wal", dbpath);
	CHECK_EQ_INT(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s-shm", dbpath);
	CHECK_EQ_INT(mode_of(path), 0600);
	CHECK_EQ_INT(peek("PRAGMA user_version"), 2);
	CHECK_EQ_INT(peek("SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name = 'deliveries'"), 1);
	CHECK_EQ_INT(store_in_tx(st), 0);
	store_close(st);
	store_close(NULL);

	/* An existing directory is made 0700. */
	snprintf(path, sizeof(path), "%s/lax", root);
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	CHECK_EQ_INT(store_open(&st, path), 0);
	CHECK_EQ_INT(mode_of(path), 0700);
	store_close(st);
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
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK(strcmp(p.languages, ",") == 0);
	CHECK(strcmp(p.topics, ",") == 0);
	CHECK_EQ_INT(p.capacity, 5);
	CHECK_EQ_INT(p.available, 1);
	CHECK_EQ_INT(store_profile_get(st, cl, &p), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(store_profile_get(st, ad, &p), OFR_E_NOT_FOUND);
	snprintf(p.languages, sizeof(p.languages), ",en,de,");
	snprintf(p.topics, sizeof(p.topics), ",leaving,");
	p.capacity = 3;
	p.available = 0;
	CHECK_EQ_INT(store_profile_set(st, co, &p), 0);
	memset(&p, 0, sizeof(p));
	CHECK_EQ_INT(store_profile_get(st, co, &p), 0);
	CHECK(strcmp(p.languages, ",en,de,") == 0);
	CHECK(strcmp(p.topics, ",leaving,") == 0);
	CHECK_EQ_INT(p.capacity, 3);
	CHECK_EQ_INT(p.available, 0);
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
	struct participant p[STORE_PARTICIPANTS_MAX];
	struct ids ids;
	int64_t prog, cl, cl2, co, w[3], got[8];
	size_t n = 99;
	int yes = -1;

	CHECK_EQ_INT(store_programme_first(st, &prog), 0);
	cl = account(st, 400, ROLE_CLIENT, 0, "client-a", 0);
	cl2 = account(st, 401, ROLE_CLIENT, 0, "client-b", 0);
	co = counsellor(st, 402, prog, ",zz,", ",", 5, 1, 0);
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
	    STORE_PARTICIPANTS_MAX, &n), 0);
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
	    STORE_PARTICIPANTS_MAX, &n), 0);
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
	CHECK_EQ_INT(store_case_each_of(st, cl, collect, &ids), 0);
	CHECK_EQ_INT(ids.n, 3);
	CHECK_EQ_INT(ids.id[0], c3.id);
	CHECK_EQ_INT(ids.id[2], c.id);
	CHECK(ids.id[1] != c.id && ids.id[1] != c3.id);
	memset(&ids, 0, sizeof(ids));
	CHECK_EQ_INT(store_case_each_of(st, co, collect, &ids), 0);
	CHECK_EQ_INT(ids.n, 1);
	CHECK_EQ_INT(ids.id[0], c.id);
	memset(&ids, 0, sizeof(ids));
	ids.stop_after = 1;
	CHECK_EQ_INT(store_case_each_of(st, cl, collect, &ids), 7);
	CHECK_EQ_INT(ids.n, 1);
	memset(&ids, 0, sizeof(ids));
	CHECK_EQ_INT(store_case_each_of(st, 999999, collect, &ids), 0);
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

/* A waiting case in language/topic for a fresh client number n. */
static int64_t
open_case(struct store *st, int n, const char *language, const char *topic,
    int64_t now)
{
	struct case_info c;
	int64_t cl = account(st, n, ROLE_CLIENT, 0, "m", 0);

	if (cl < 0 || store_case_create(st, cl, language, topic, now, &c) != 0)
		return -1;
	return c.id;
}

static void
test_match(struct store *st)
{
	int64_t prog, a, b, c, d, e, off, x, y, k1, k2, j1, j2;

	CHECK_EQ_INT(store_programme_first(st, &prog), 0);
	a = counsellor(st, 500, prog, ",en,de,", ",leaving,family,", 2, 1, 0);
	b = counsellor(st, 501, prog, ",en,", ",leaving,", 1, 1, 0);
	c = counsellor(st, 502, prog, ",fr,", ",", 5, 1, 0);
	d = counsellor(st, 503, prog, ",it,", ",", 0, 1, 0);	/* no room */
	e = counsellor(st, 504, prog, ",sv,", ",", 5, 1, 1);	/* disabled */
	off = counsellor(st, 505, prog, ",pt,", ",", 5, 0, 0);	/* away */
	CHECK(a > 0 && b > 0 && c > 0 && d > 0 && e > 0 && off > 0);
	CHECK(a < b);

	/* filters */
	CHECK_EQ_INT(match(st, "fr", ""), c);
	CHECK_EQ_INT(match(st, "fr", NULL), c);
	CHECK_EQ_INT(match(st, "fr", "leaving"), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(match(st, "de", ""), a);
	CHECK_EQ_INT(match(st, "e", ""), OFR_E_NOT_FOUND);	/* no substrings */
	CHECK_EQ_INT(match(st, "es", ""), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(match(st, "en", "family"), a);
	CHECK_EQ_INT(match(st, "en", "famil"), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(match(st, "en,de", ""), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(match(st, "it", ""), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(match(st, "sv", ""), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(match(st, "pt", ""), OFR_E_NOT_FOUND);

	/* a and b both free and never assigned: the older account */
	CHECK_EQ_INT(match(st, "en", "leaving"), a);
	x = open_case(st, 510, "en", "leaving", 100);
	CHECK_EQ_INT(store_case_assign(st, x, a, 100), 0);
	/* fewest open cases first */
	CHECK_EQ_INT(match(st, "en", "leaving"), b);
	y = open_case(st, 511, "en", "leaving", 101);
	CHECK_EQ_INT(store_case_assign(st, y, b, 101), 0);
	/* b is full (capacity 1), a has room (1 of 2) */
	CHECK_EQ_INT(match(st, "en", "leaving"), a);
	x = open_case(st, 512, "en", "", 102);
	CHECK_EQ_INT(store_case_assign(st, x, a, 102), 0);
	CHECK_EQ_INT(match(st, "en", ""), OFR_E_NOT_FOUND);	/* all full */
	/* a closed case gives room back */
	CHECK_EQ_INT(store_case_close(st, x, 103), 0);
	CHECK_EQ_INT(match(st, "en", ""), a);

	/* equal load: never assigned first, then least recently assigned */
	k1 = counsellor(st, 520, prog, ",nl,", ",", 5, 1, 0);
	k2 = counsellor(st, 521, prog, ",nl,", ",", 5, 1, 0);
	CHECK(k1 < k2);
	CHECK_EQ_INT(match(st, "nl", ""), k1);
	x = open_case(st, 522, "nl", "", 200);
	CHECK_EQ_INT(store_case_assign(st, x, k1, 200), 0);
	CHECK_EQ_INT(store_case_close(st, x, 201), 0);
	CHECK_EQ_INT(match(st, "nl", ""), k2);
	x = open_case(st, 523, "nl", "", 300);
	CHECK_EQ_INT(store_case_assign(st, x, k2, 300), 0);
	CHECK_EQ_INT(store_case_close(st, x, 301), 0);
	CHECK_EQ_INT(match(st, "nl", ""), k1);	/* 200 < 300 */

	/* load comes before recency: j1 (2 open, assigned long ago) loses
	 * to j2 (1 open, assigned just now) */
	j1 = counsellor(st, 530, prog, ",ja,", ",", 5, 1, 0);
	j2 = counsellor(st, 531, prog, ",ja,", ",", 5, 1, 0);
	CHECK_EQ_INT(store_case_assign(st, open_case(st, 532, "ja", "", 390),
	    j1, 390), 0);
	CHECK_EQ_INT(store_case_assign(st, open_case(st, 533, "ja", "", 400),
	    j1, 400), 0);
	CHECK_EQ_INT(store_case_assign(st, open_case(st, 534, "ja", "", 500),
	    j2, 500), 0);
	CHECK_EQ_INT(match(st, "ja", ""), j2);
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
	int64_t prog, cl, co, su, rc2[2], bogus[2], cid;
	struct case_info c;
	struct seen s, t;
	int dup = -1, del = -1;

	CHECK_EQ_INT(store_programme_first(st, &prog), 0);
	cl = account(st, 600, ROLE_CLIENT, 0, "m-client", 0);
	co = counsellor(st, 601, prog, ",xx,", ",", 5, 1, 0);
	su = counsellor(st, 602, prog, ",yy,", ",", 5, 1, 0);
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
	    2, &dup), 0);
	CHECK_EQ_INT(dup, 0);
	deliveries(st, co, 0, 10, &s);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.case_id[0], cid);
	CHECK(memcmp(s.mid[0], mid1, OFR_MID_BYTES) == 0);
	key_of(key, 600);
	CHECK(memcmp(s.from[0], key, OFR_PK_BYTES) == 0);
	CHECK_EQ_INT(s.ts[0], 510);
	CHECK_EQ_INT(s.ct_len[0], 11);
	CHECK(memcmp(s.ct[0], "copy-for-co", 11) == 0);
	deliveries(st, su, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	CHECK_EQ_INT(t.ct_len[0], 12);
	CHECK(memcmp(t.ct[0], "copy-for-su!", 12) == 0);
	CHECK(t.seq[0] != s.seq[0]);
	deliveries(st, cl, 0, 10, &t);
	CHECK_EQ_INT(t.n, 0);	/* the sender gets no copy */

	/* the same mid from the same sender: stored once */
	ct[0] = (const uint8_t *)"other";
	len[0] = 5;
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 511, rc2, ct, len,
	    2, &dup), 0);
	CHECK_EQ_INT(dup, 1);
	deliveries(st, co, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	CHECK_EQ_INT(t.ct_len[0], 11);
	/* ...but another sender may use it */
	CHECK_EQ_INT(store_message_insert(st, cid, co, mid1, 512, &cl, ct, len,
	    1, &dup), 0);
	CHECK_EQ_INT(dup, 0);
	deliveries(st, cl, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);
	key_of(key, 601);
	CHECK(memcmp(t.from[0], key, OFR_PK_BYTES) == 0);

	/* order, after, max */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid2, 513, rc2, ct, len,
	    1, &dup), 0);
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid3, 514, rc2, ct, len,
	    1, &dup), 0);
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
	    1, &dup), OFR_E_BAD_FIELD);
	bogus[0] = cl;
	bogus[1] = 999999;	/* no such account */
	ct[0] = ct[1] = (const uint8_t *)"z";
	len[0] = len[1] = 1;
	CHECK_EQ_INT(store_message_insert(st, cid, su, mid1, 515, bogus, ct,
	    len, 2, &dup), OFR_E_INTERNAL);
	deliveries(st, cl, 0, 10, &t);
	CHECK_EQ_INT(t.n, 1);	/* only co's copy from before */
	CHECK_EQ_INT(store_message_insert(st, cid, su, mid1, 515, bogus, ct,
	    len, 1, &dup), 0);
	CHECK_EQ_INT(dup, 0);	/* the failed one stored no record */
	CHECK_EQ_INT(store_commit(st), 0);

	/* purge: records without copies, older than before */
	deliveries(st, su, 0, 10, &t);
	CHECK_EQ_INT(store_delivery_ack(st, su, t.seq[0], &del), 0);
	CHECK_EQ_INT(del, 1);
	CHECK_EQ_INT(store_messages_purge(st, 510), 0);	/* not older */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 520, rc2, ct, len,
	    1, &dup), 0);
	CHECK_EQ_INT(dup, 1);
	CHECK_EQ_INT(store_messages_purge(st, 600), 0);
	/* mid2 and mid3 still have co's copies: still known */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid2, 520, rc2, ct, len,
	    1, &dup), 0);
	CHECK_EQ_INT(dup, 1);
	/* mid1 had none left: forgotten, so it is new again */
	CHECK_EQ_INT(store_message_insert(st, cid, cl, mid1, 520, rc2, ct, len,
	    1, &dup), 0);
	CHECK_EQ_INT(dup, 0);
	CHECK_EQ_INT(store_commit(st), 0);
}

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
	CHECK_EQ_INT(store_open(&st, dir), 0);
	*stp = st;
	if (st == NULL)
		return;
	CHECK_EQ_INT(peek("PRAGMA user_version"), 2);
	CHECK_EQ_INT(store_account_by_id(st, id, &a), 0);
	CHECK(strcmp(a.name, "kept") == 0);
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
	co = counsellor(st, 901, prog, ",en,", ",", 5, 1, 0);
	other = counsellor(st, 902, prog, ",en,", ",", 5, 1, 1);
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

	/* one-time prekeys: each handed out once, lowest id first */
	memset(spk, 9, sizeof(spk));
	CHECK_EQ_INT(store_otk_add(st, co, 5, spk), 0);
	CHECK_EQ_INT(store_otk_add(st, co, 3, spk), 0);
	CHECK_EQ_INT(store_otk_add(st, co, 3, spk), OFR_E_BAD_FIELD);
	CHECK_EQ_INT(store_otk_count(st, co, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(store_otk_take(st, co, &id, spk), 0);
	CHECK_EQ_INT(id, 3);
	CHECK_EQ_INT(store_otk_take(st, co, &id, spk), 0);
	CHECK_EQ_INT(id, 5);
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
			struct participant pp[STORE_PARTICIPANTS_MAX];
			size_t np;

			CHECK_EQ_INT(store_case_participants(st, c.id, pp,
			    STORE_PARTICIPANTS_MAX, &np), 0);
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

	test_open();
	CHECK_EQ_INT(store_open(&st, dir), 0);
	if (st != NULL) {
		test_programmes_accounts(st);
		test_invites(st);
		test_cases(st);
		test_match(st);
		test_messages(st);
		test_keys(st);
		test_transactions(&st);
		/* and everything of before is still there after a reopen */
		if (st != NULL) {
			CHECK_EQ_INT(store_programme_first(st, &prog), 0);
			CHECK_EQ_INT(peek("SELECT count(*) FROM deliveries"),
			    5);
		}
		store_close(st);
	}
	rm_tree(root);
	CHECK(access(root, F_OK) != 0);
	return check_done();
}
