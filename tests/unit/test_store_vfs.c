/*
 * test_store_vfs.c: the store's VFS (server/store_vfs.c), which gathers a
 * commit's frames into few writes to the -wal. Over a VFS of the test's
 * own below it (SQLite's default, its writes to a -wal counted and, when
 * asked, failed), for commits of one frame, of many, of more than one
 * gathering holds, and for a transaction that spills and writes its pages
 * again (SQLite rewrites its frames' headers after the commit's last):
 * - the -wal gets far fewer writes than frames;
 * - after each commit the files hold it as a kill -9 would leave them
 *   (copied byte for byte and opened with SQLite's own VFS: the commit is
 *   there, and the database checks);
 * - another connection reads it and checkpoints it into the database
 *   (what the store's checkpoint thread does), and the database checks;
 * - a write out that fails (a full disk) fails the commit, and nothing
 *   of it reaches the file later (at a read, a checkpoint, the next
 *   commit); transactions rolled back, whole or to a savepoint, after
 *   they spilled, leave nothing either, not when another connection then
 *   writes where they were (second_writer()); a commit on a full disk
 *   that fits in the -wal's bytes is made;
 * - a transaction reads back what it spilled, from the buffer;
 * - synchronous=FULL commits on a file without psow (synced before their
 *   last bytes) are whole in the file when they return;
 * - and so after each of a seeded run of random work (stress());
 * - the exclusive locking mode (no lock of the shared memory tells the
 *   end of a transaction) is refused, and another connection still
 *   writes.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "store_vfs.h"

#define ROW_BYTES	1000
#define STRESS_ROUNDS	160

/* The VFS below ours: the default one, its -wal writes counted. */
static sqlite3_vfs below;
static sqlite3_vfs *unix_vfs;
/* The default VFS's kinds of file (their methods), each with a copy
 * that counts (of the same index). */
static const sqlite3_io_methods *unix_io[4];
static sqlite3_io_methods counting_io[4];

/* The default VFS's methods of f, a file of ours. */
static const sqlite3_io_methods *
real_io(sqlite3_file *f)
{
	return unix_io[(const sqlite3_io_methods *)f->pMethods - counting_io];
}
static sqlite3_file *wal_files[8];
static long long wal_writes;
static int wal_full;		/* the -wal's writes fail with SQLITE_FULL */
static int wal_room;		/* those past its end do (a full disk) */

static int
is_wal(sqlite3_file *f)
{
	for (size_t i = 0; i < sizeof(wal_files) / sizeof(*wal_files); i++)
		if (wal_files[i] == f)
			return 1;
	return 0;
}

static int
counting_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (is_wal(f)) {
		sqlite3_int64 size = 0;

		if (wal_full || (wal_room &&
		    (real_io(f)->xFileSize(f, &size) != SQLITE_OK ||
		    off + n > size)))
			return SQLITE_FULL;
		wal_writes++;
	}
	return real_io(f)->xWrite(f, buf, n, off);
}

static int
counting_close(sqlite3_file *f)
{
	for (size_t i = 0; i < sizeof(wal_files) / sizeof(*wal_files); i++)
		if (wal_files[i] == f)
			wal_files[i] = NULL;
	return real_io(f)->xClose(f);
}

static int
below_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	int rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out);
	size_t k;

	(void)vfs;
	if (f->pMethods == NULL)
		return rc;
	for (k = 0; k < 4 && unix_io[k] != NULL &&
	    unix_io[k] != f->pMethods; k++)
		;
	if (k == 4) {
		fprintf(stderr, "test_store_vfs: too many kinds of file\n");
		exit(1);
	}
	if (unix_io[k] == NULL) {
		unix_io[k] = f->pMethods;
		counting_io[k] = *f->pMethods;
		counting_io[k].xWrite = counting_write;
		counting_io[k].xClose = counting_close;
	}
	f->pMethods = &counting_io[k];
	if (flags & SQLITE_OPEN_WAL)
		for (size_t i = 0; i < sizeof(wal_files) / sizeof(*wal_files);
		    i++)
			if (wal_files[i] == NULL) {
				wal_files[i] = f;
				break;
			}
	return rc;
}

static int frames;		/* the -wal's length after the last commit */

static int
on_wal(void *arg, sqlite3 *db, const char *name, int n)
{
	(void)arg;
	(void)db;
	(void)name;
	frames = n;
	return SQLITE_OK;
}

static sqlite3 *
open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, vfs) != SQLITE_OK) {
		fprintf(stderr, "test_store_vfs: open %s: %s\n", path,
		    db != NULL ? sqlite3_errmsg(db) : "no memory");
		exit(1);
	}
	return db;
}

static int
exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		fprintf(stderr, "test_store_vfs: %s: %s\n", sql,
		    sqlite3_errmsg(db));
	return rc;
}

/* A new database at path on the store's VFS, in WAL mode with sync
 * ("NORMAL" or "FULL"), no automatic checkpoint, and the table t. */
static sqlite3 *
create_db(const char *path, const char *sync)
{
	sqlite3 *db = open_db(path, STORE_VFS);
	char sql[256];

	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = %s; PRAGMA wal_autocheckpoint = 0; "
	    "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, "
	    "v BLOB NOT NULL)", sync);
	CHECK_EQ_INT(exec(db, sql), SQLITE_OK);
	return db;
}

/* One integer of one row (-1 on an error). */
static long long
one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
checks(sqlite3 *db)
{
	sqlite3_stmt *s;
	int ok = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) !=
	    SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		ok = strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0;
	sqlite3_finalize(s);
	return ok;
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		perror(to);
		exit(1);
	}
	while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			perror(to);
			exit(1);
		}
	if (in >= 0)
		close(in);
	close(out);
}

/*
 * What a kill -9 now would leave: the database and its -wal copied as they
 * are (dir/name.db), opened with SQLite's own VFS (which recovers the
 * -wal). Checks that it holds rows rows whose n column sums to sum, and
 * that it is sound.
 */
static void
check_crash_image(const char *dir, const char *name, long long rows,
    long long sum, int line)
{
	char from[512], to[512];
	sqlite3 *db;

	snprintf(to, sizeof(to), "%s/crash.db-wal", dir);
	unlink(to);
	snprintf(to, sizeof(to), "%s/crash.db", dir);
	unlink(to);
	snprintf(from, sizeof(from), "%s/%s.db", dir, name);
	copy_file(from, to);
	snprintf(from, sizeof(from), "%s/%s.db-wal", dir, name);
	snprintf(to, sizeof(to), "%s/crash.db-wal", dir);
	copy_file(from, to);
	snprintf(to, sizeof(to), "%s/crash.db", dir);
	db = open_db(to, NULL);
	exec(db, "PRAGMA synchronous = OFF");	/* a copy: no syncs */
	if (one(db, "SELECT count(*) FROM t") != rows ||
	    one(db, "SELECT coalesce(sum(n), 0) FROM t") != sum || !checks(db))
		fprintf(stderr, "test_store_vfs: line %d: the crash image "
		    "holds %lld rows summing to %lld (want %lld, %lld)\n", line,
		    one(db, "SELECT count(*) FROM t"),
		    one(db, "SELECT coalesce(sum(n), 0) FROM t"), rows, sum);
	CHECK_EQ_INT(one(db, "SELECT count(*) FROM t"), rows);
	CHECK_EQ_INT(one(db, "SELECT coalesce(sum(n), 0) FROM t"), sum);
	CHECK(checks(db));
	sqlite3_close(db);
}

/* The other connection reads the commit and checkpoints it all into the
 * database, which must then be sound on its own. */
static void
check_reader(sqlite3 *r, long long rows, long long sum)
{
	CHECK_EQ_INT(one(r, "SELECT count(*) FROM t"), rows);
	CHECK_EQ_INT(one(r, "SELECT coalesce(sum(n), 0) FROM t"), sum);
	CHECK_EQ_INT(exec(r, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
	CHECK(checks(r));
	CHECK_EQ_INT(one(r, "SELECT count(*) FROM t"), rows);
}

/* Inserts rows rows numbered from first (n = their number, v = ROW_BYTES
 * random bytes) in one transaction and commits it. SQLite's result (the
 * transaction left open when the insert failed). */
static int
insert_commit(sqlite3 *db, int first, int rows)
{
	char sql[160];
	int rc;

	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; WITH RECURSIVE k(i) AS "
	    "(SELECT %d UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(%d) FROM k", first,
	    first + rows - 1, ROW_BYTES);
	if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return rc;
	return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

static long long
sum_of(long long from, long long to)
{
	return (from + to) * (to - from + 1) / 2;
}

/* A commit of n rows from first, made: *rows and *sum count them. */
static void
committed(sqlite3 *db, int first, int n, long long *rows, long long *sum)
{
	CHECK_EQ_INT(insert_commit(db, first, n), SQLITE_OK);
	*rows += n;
	*sum += sum_of(first, first + n - 1);
}

/* Inserts n rows from first in a transaction, and rolls it back. */
static void
rolled_back(sqlite3 *db, int first, int n)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; WITH RECURSIVE k(i) AS "
	    "(SELECT %d UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(%d) FROM k; ROLLBACK",
	    first, first + n - 1, ROW_BYTES);
	CHECK_EQ_INT(exec(db, sql), SQLITE_OK);
}

/* A commit of rows rows from first on a full disk: it fails, and db
 * still holds rows rows. */
static void
failed_commit(sqlite3 *db, int first, int rows, long long held)
{
	wal_full = 1;
	CHECK_EQ_INT(insert_commit(db, first, rows), SQLITE_FULL);
	if (!sqlite3_get_autocommit(db))
		CHECK_EQ_INT(exec(db, "ROLLBACK"), SQLITE_OK);
	wal_full = 0;
	CHECK_EQ_INT(one(db, "SELECT count(*) FROM t"), held);
}


/*
 * A spill of one connection (w) rolled back, then another (x) commits
 * over where it was, in a new database: nothing of the spill reaches the
 * file afterwards, nor answers w's reads (at a read of w's, a checkpoint
 * of w's, its close).
 */
static void
second_writer(const char *dir)
{
	char path[512];
	sqlite3 *w, *x, *c;

	snprintf(path, sizeof(path), "%s/d.db", dir);
	w = create_db(path, "NORMAL");
	x = open_db(path, STORE_VFS);
	CHECK_EQ_INT(exec(x, "PRAGMA wal_autocheckpoint = 0"), SQLITE_OK);
	CHECK_EQ_INT(insert_commit(w, 1, 20), SQLITE_OK);
	CHECK_EQ_INT(exec(w, "PRAGMA cache_size = 8"), SQLITE_OK);
	rolled_back(w, 1000, 100);
	CHECK_EQ_INT(insert_commit(x, 500, 40), SQLITE_OK);
	CHECK_EQ_INT(one(w, "SELECT count(*) FROM t"), 60);
	CHECK_EQ_INT(one(w, "SELECT sum(n) FROM t"),
	    sum_of(1, 20) + sum_of(500, 539));
	CHECK(checks(w));
	CHECK_EQ_INT(exec(w, "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
	check_crash_image(dir, "d", 60, sum_of(1, 20) + sum_of(500, 539),
	    __LINE__);
	sqlite3_close(w);
	sqlite3_close(x);
	c = open_db(path, NULL);
	CHECK_EQ_INT(one(c, "SELECT count(*) FROM t"), 60);
	CHECK(checks(c));
	sqlite3_close(c);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

/* A fixed sequence (xorshift): a failure replays. */
static unsigned
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 32);
}

/*
 * STRESS_ROUNDS rounds of random work on w: commits of 1 to 200 rows,
 * with a small cache or not, with a savepoint rolled back, rolled back
 * whole, failed by a full disk (every write, or past the -wal's end),
 * deletes, and checkpoints of either connection. After each, the crash
 * image holds what w sees (what was committed), and now and then the
 * reader checkpoints it all into a sound database.
 */
static void
stress(const char *dir, sqlite3 *w, sqlite3 *r)
{
	for (int round = 0; round < STRESS_ROUNDS; round++) {
		long long rows = one(w, "SELECT count(*) FROM t");
		long long sum = one(w, "SELECT coalesce(sum(n), 0) FROM t");
		int n = 1 + (int)(next() % 200), first = 100000 + round * 1000;
		unsigned kind = next() % 8, three, five;
		char sql[640];
		int rc;

		CHECK_EQ_INT(exec(w, next() % 3 == 0 ? "PRAGMA cache_size = 8" :
		    "PRAGMA cache_size = -2000"), SQLITE_OK);
		switch (kind) {
		case 0:
		case 1:
			CHECK_EQ_INT(insert_commit(w, first, n), SQLITE_OK);
			break;
		case 2:
			three = next() % 3;
			five = next() % 5;
			snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; WITH "
			    "RECURSIVE k(i) AS (SELECT %d UNION ALL SELECT "
			    "i + 1 FROM k WHERE i < %d) INSERT INTO t(n, v) "
			    "SELECT i, randomblob(1000) FROM k; SAVEPOINT s; "
			    "UPDATE t SET n = n + 1 WHERE id %% 3 = %u; WITH "
			    "RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT "
			    "i + 1 FROM k WHERE i < %d) INSERT INTO t(n, v) "
			    "SELECT i, randomblob(900) FROM k; ROLLBACK TO s; "
			    "RELEASE s; UPDATE t SET n = n + 2 WHERE "
			    "id %% 5 = %u; COMMIT", first, first + n - 1,
			    three, n, five);
			CHECK_EQ_INT(exec(w, sql), SQLITE_OK);
			break;
		case 3:
			snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; WITH "
			    "RECURSIVE k(i) AS (SELECT %d UNION ALL SELECT "
			    "i + 1 FROM k WHERE i < %d) INSERT INTO t(n, v) "
			    "SELECT i, randomblob(1000) FROM k; UPDATE t SET "
			    "n = n + 1; ROLLBACK", first, first + n - 1);
			CHECK_EQ_INT(exec(w, sql), SQLITE_OK);
			CHECK_EQ_INT(one(w, "SELECT count(*) FROM t"), rows);
			break;
		case 4:
			if (next() % 2)
				wal_full = 1;
			else
				wal_room = 1;
			rc = insert_commit(w, first, n);
			wal_full = wal_room = 0;
			if (rc != SQLITE_OK) {
				CHECK_EQ_INT(rc, SQLITE_FULL);
				if (!sqlite3_get_autocommit(w))
					CHECK_EQ_INT(exec(w, "ROLLBACK"),
					    SQLITE_OK);
				CHECK_EQ_INT(one(w, "SELECT count(*) FROM t"),
				    rows);
				CHECK_EQ_INT(one(w, "SELECT coalesce(sum(n), "
				    "0) FROM t"), sum);
			}
			break;
		case 5:
			snprintf(sql, sizeof(sql), "DELETE FROM t WHERE id IN "
			    "(SELECT id FROM t ORDER BY random() LIMIT %lld)",
			    rows > 2000 ? rows / 2 : (long long)n);
			CHECK_EQ_INT(exec(w, sql), SQLITE_OK);
			break;
		case 6:
			CHECK_EQ_INT(exec(w, "PRAGMA wal_checkpoint(PASSIVE)"),
			    SQLITE_OK);
			break;
		default:
			CHECK_EQ_INT(exec(r, next() % 2 ?
			    "PRAGMA wal_checkpoint(RESTART)" :
			    "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
			break;
		}
		rows = one(w, "SELECT count(*) FROM t");
		sum = one(w, "SELECT coalesce(sum(n), 0) FROM t");
		check_crash_image(dir, "t", rows, sum, 10000 + round);
		if (round % 16 == 15)
			check_reader(r, rows, sum);
	}
	CHECK_EQ_INT(exec(w, "PRAGMA cache_size = -2000"), SQLITE_OK);
}

int
main(void)
{
	char dir[] = "/tmp/offramp-test-vfs-XXXXXX", path[512];
	sqlite3 *w, *r, *x, *fr;
	long long before, rows = 0, sum = 0;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unix_vfs = sqlite3_vfs_find(NULL);
	below = *unix_vfs;
	below.zName = "test-below";
	below.xOpen = below_open;
	CHECK_EQ_INT(sqlite3_vfs_register(&below, 1), SQLITE_OK);
	CHECK_EQ_INT(store_vfs_register(), 0);
	CHECK(sqlite3_vfs_find(STORE_VFS) != NULL);
	CHECK(sqlite3_vfs_find(NULL) == &below);	/* not the default */

	snprintf(path, sizeof(path), "%s/t.db", dir);
	w = create_db(path, "NORMAL");
	sqlite3_wal_hook(w, on_wal, NULL);
	r = open_db(path, STORE_VFS);

	/* no exclusive locking mode (it takes no lock that tells the end of
	 * a transaction): refused, and the other connection still writes */
	CHECK(sqlite3_exec(w, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL,
	    NULL) == SQLITE_ERROR);
	CHECK_EQ_INT(exec(w, "INSERT INTO t(n, v) VALUES (0, x'00')"),
	    SQLITE_OK);
	CHECK_EQ_INT(exec(r, "BEGIN IMMEDIATE; DELETE FROM t; COMMIT"),
	    SQLITE_OK);

	/* commits of one frame, each: written as they come */
	for (int i = 1; i <= 3; i++) {
		char sql[96];

		snprintf(sql, sizeof(sql), "INSERT INTO t(n, v) VALUES "
		    "(%d, randomblob(10))", i);
		CHECK_EQ_INT(exec(w, sql), SQLITE_OK);
		rows++;
		sum += i;
		check_crash_image(dir, "t", rows, sum, __LINE__);
		check_reader(r, rows, sum);
	}

	/* a commit of many frames: a few writes */
	before = wal_writes;
	frames = 0;
	committed(w, 100, 60, &rows, &sum);
	CHECK(frames >= 16);
	CHECK(wal_writes - before <= 3);
	printf("60 rows: %d frames in %lld writes to the -wal\n", frames,
	    wal_writes - before);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);

	/* more than one gathering holds */
	before = wal_writes;
	frames = 0;
	committed(w, 1000, 400, &rows, &sum);
	CHECK(frames * 4120 > 3 * STORE_VFS_GATHER);
	CHECK(wal_writes - before <= frames * 4120 / STORE_VFS_GATHER + 3);
	printf("400 rows: %d frames in %lld writes to the -wal\n", frames,
	    wal_writes - before);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);

	/*
	 * A transaction that spills its pages to the -wal before its commit
	 * (a cache of 8 pages) and then changes them again: SQLite writes
	 * them over in place, and rewrites the checksums of its frames after
	 * the commit's last; the crash image must hold it.
	 */
	CHECK_EQ_INT(exec(w, "PRAGMA cache_size = 8"), SQLITE_OK);
	CHECK_EQ_INT(exec(w, "BEGIN IMMEDIATE; WITH RECURSIVE k(i) AS "
	    "(SELECT 5000 UNION ALL SELECT i + 1 FROM k WHERE i < 5299) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(1000) FROM k; "
	    "UPDATE t SET n = n + 1 WHERE n >= 5000; "
	    "UPDATE t SET v = randomblob(900) WHERE n >= 5000; COMMIT"),
	    SQLITE_OK);
	rows += 300;
	sum += sum_of(5001, 5300);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);
	CHECK_EQ_INT(exec(w, "PRAGMA cache_size = -2000"), SQLITE_OK);

	/* the write out fails: the commit fails, and nothing of it stays */
	failed_commit(w, 8000, 60, rows);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);
	committed(w, 9000, 60, &rows, &sum);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);

	/*
	 * The write out of a commit of many frames fails, into a -wal that
	 * is not empty (no header of its own to write first): nothing of it
	 * reaches the file later, not at a read, at a checkpoint of the same
	 * connection, nor at the next commit.
	 */
	committed(w, 9500, 5, &rows, &sum);
	failed_commit(w, 10000, 40, rows);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	CHECK_EQ_INT(exec(w, "PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	committed(w, 11000, 3, &rows, &sum);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);

	/*
	 * Transactions that spill, rolled back whole, and to a savepoint:
	 * SQLite writes frames anew where the ones rolled back began, and
	 * the files hold what was committed, no more.
	 */
	committed(w, 11500, 5, &rows, &sum);
	CHECK_EQ_INT(exec(w, "PRAGMA cache_size = 8"), SQLITE_OK);
	rolled_back(w, 12000, 200);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	/* a full disk now: a commit that fits in what the -wal has still
	 * commits (the frames rolled back are not written first) */
	wal_room = 1;
	committed(w, 12500, 1, &rows, &sum);
	wal_room = 0;
	check_crash_image(dir, "t", rows, sum, __LINE__);
	CHECK_EQ_INT(exec(w, "BEGIN IMMEDIATE; WITH RECURSIVE k(i) AS "
	    "(SELECT 13000 UNION ALL SELECT i + 1 FROM k WHERE i < 13099) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(1000) FROM k; "
	    "SAVEPOINT s; WITH RECURSIVE k(i) AS "
	    "(SELECT 14000 UNION ALL SELECT i + 1 FROM k WHERE i < 14199) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(1000) FROM k; "
	    "UPDATE t SET n = n + 1 WHERE n >= 13000; "
	    "ROLLBACK TO s; RELEASE s; WITH RECURSIVE k(i) AS "
	    "(SELECT 15000 UNION ALL SELECT i + 1 FROM k WHERE i < 15049) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(1000) FROM k; COMMIT"),
	    SQLITE_OK);
	rows += 150;
	sum += sum_of(13000, 13099) + sum_of(15000, 15049);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);

	/* a spilled transaction reads back what it spilled (frames still in
	 * the buffer) */
	CHECK_EQ_INT(exec(w, "BEGIN IMMEDIATE; WITH RECURSIVE k(i) AS "
	    "(SELECT 20000 UNION ALL SELECT i + 1 FROM k WHERE i < 20059) "
	    "INSERT INTO t(n, v) SELECT i, randomblob(1000) FROM k"),
	    SQLITE_OK);
	CHECK_EQ_INT(one(w, "SELECT sum(length(v)) FROM t WHERE n >= 20000"),
	    60 * 1000);
	CHECK_EQ_INT(exec(w, "COMMIT"), SQLITE_OK);
	rows += 60;
	sum += sum_of(20000, 20059);
	check_crash_image(dir, "t", rows, sum, __LINE__);
	check_reader(r, rows, sum);	/* the -wal is empty after it */

	/* a spill rolled back in an empty -wal (its own header at 0), then a
	 * commit on a full disk that fits in the -wal's bytes */
	rolled_back(w, 21000, 200);
	wal_room = 1;
	committed(w, 22000, 1, &rows, &sum);
	wal_room = 0;
	check_crash_image(dir, "t", rows, sum, __LINE__);

	CHECK_EQ_INT(exec(w, "PRAGMA cache_size = -2000"), SQLITE_OK);
	check_reader(r, rows, sum);
	second_writer(dir);

	/*
	 * synchronous=FULL on a file that does not keep a sector's other
	 * bytes through a power loss (psow=0): SQLite pads a commit to the
	 * sector with copies of its last frame and syncs in the middle of
	 * one, writing the rest after the sync. Each commit is whole in the
	 * file when it returns.
	 */
	snprintf(path, sizeof(path), "file:%s/f.db?psow=0", dir);
	x = create_db(path, "FULL");
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(insert_commit(x, i * 10, 10), SQLITE_OK);
		check_crash_image(dir, "f", (i + 1) * 10, sum_of(0, i * 10 + 9),
		    __LINE__);
	}
	snprintf(path, sizeof(path), "%s/f.db", dir);
	fr = open_db(path, NULL);
	check_reader(fr, 30, sum_of(0, 29));
	sqlite3_close(fr);
	sqlite3_close(x);

	stress(dir, w, r);
	printf("after %d random rounds: %lld -wal writes in all\n",
	    STRESS_ROUNDS, wal_writes);

	sqlite3_close(r);
	sqlite3_close(w);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "test_store_vfs: cannot remove %s\n", dir);
	return check_done();
}
