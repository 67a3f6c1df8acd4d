/*
 * store_faults.c: fault injection in the store, for tests (issue 10): it
 * makes the writes and syncs of the database and its -wal fail as a
 * control file says, asked by the store's VFS (store_vfs.c) before each
 * of SQLite's writes and each write out of what it gathered ("full"
 * alone), and by the store thread before each sync. It is
 * compiled only with the CMake option OFFRAMP_FAULTS, which a release
 * build refuses; it must never be in a binary that ships, and never
 * touches a file but the database, its -wal and the control file.
 *
 * The control file is <data dir>/offramp.faults (STORE_FAULTS_FILE). Before
 * every write and sync it is stat()ed; when it has changed (another
 * inode, size or time: write a new file and rename it over), it is read
 * again and its counts start from zero. It holds one line:
 *
 *   write N [K]    the Nth write to the -wal from now (the frames of
 *                  commits and the -wal's header; a checkpoint's writes to
 *                  the database are not counted), and the K-1 after it (K
 *                  is 1 if left out), fail with SQLITE_IOERR_WRITE,
 *                  nothing written; then no fault.
 *   commit N [K]   the store thread's Nth sync of the -wal from now (the
 *                  one that makes the commits made since the one before
 *                  durable, store_db.c "Durability"; a checkpoint's sync is
 *                  not counted), and the K-1 after it, fail with EIO
 *                  without syncing: the commits are in the -wal (in the
 *                  page cache) but never known to be on disk, and the
 *                  server stops without acknowledging them. Then no
 *                  fault.
 *   full           every write to the database or the -wal fails with
 *                  SQLITE_FULL, nothing written, until the file changes.
 *
 * No file, an empty one or a line it cannot read: no fault (a line it
 * cannot read is logged). Each fault is logged ("faults: ...").
 */
#ifdef OFFRAMP_FAULTS

#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_faults.h"
#include "log.h"

enum fault_mode {
	FAULT_NONE,
	FAULT_WRITE,
	FAULT_COMMIT,
	FAULT_FULL,
};

static char ctl_path[PATH_MAX];
static int registered;

/* The spec in force, and what identifies the control file it came from:
 * under lock, for the store thread's connection and syncs count too. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	enum fault_mode mode;
	long long n, k;
	long long writes, commits;	/* counted since it was read */
} spec;

/* Reads the control file again when it has changed. */
static void
spec_check(void)
{
	struct stat sb;
	char line[128];
	long long n = 0, k = 1;
	int fd, got;
	ssize_t len;

	if (stat(ctl_path, &sb) != 0) {
		if (spec.present)
			log_warn("faults: %s is gone: no fault", ctl_path);
		memset(&spec, 0, sizeof(spec));
		return;
	}
	if (spec.present && sb.st_dev == spec.dev && sb.st_ino == spec.ino &&
	    sb.st_size == spec.size &&
	    sb.st_mtim.tv_sec == spec.mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == spec.mtime.tv_nsec)
		return;
	memset(&spec, 0, sizeof(spec));
	spec.present = 1;
	spec.dev = sb.st_dev;
	spec.ino = sb.st_ino;
	spec.size = sb.st_size;
	spec.mtime = sb.st_mtim;
	if ((fd = open(ctl_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	len = read(fd, line, sizeof(line) - 1);
	close(fd);
	line[len > 0 ? len : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '\0')
		return;
	if (strcmp(line, "full") == 0) {
		spec.mode = FAULT_FULL;
	} else if ((got = sscanf(line, "write %lld %lld", &n, &k)) >= 1 &&
	    n > 0 && k > 0) {
		spec.mode = FAULT_WRITE;
	} else if ((got = sscanf(line, "commit %lld %lld", &n, &k)) >= 1 &&
	    n > 0 && k > 0) {
		spec.mode = FAULT_COMMIT;
	} else {
		log_warn("faults: cannot read \"%s\": no fault", line);
		return;
	}
	spec.n = n;
	spec.k = k;
	log_warn("faults: now \"%s\"", line);
}

/* Whether count (the one just counted) is one of N..N+K-1. */
static int
hit(long long count)
{
	return count >= spec.n && count - spec.n < spec.k;
}

int
store_faults_write(int wal, int n, long long off)
{
	int rc = SQLITE_OK;

	pthread_mutex_lock(&lock);
	spec_check();
	if (spec.mode == FAULT_FULL) {
		log_warn("faults: a write fails (SQLITE_FULL)");
		rc = SQLITE_FULL;
	} else if (spec.mode == FAULT_WRITE && wal && hit(++spec.writes)) {
		log_warn("faults: write %lld fails (%d bytes at %lld of the "
		    "-wal; SQLITE_IOERR_WRITE)", spec.writes, n, off);
		rc = SQLITE_IOERR_WRITE;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int
store_faults_full(void)
{
	int full;

	pthread_mutex_lock(&lock);
	spec_check();
	full = spec.mode == FAULT_FULL;
	if (full)
		log_warn("faults: a write fails (SQLITE_FULL)");
	pthread_mutex_unlock(&lock);
	return full;
}

int
store_faults_sync_fails(void)
{
	int fails;

	pthread_mutex_lock(&lock);
	spec_check();
	fails = spec.mode == FAULT_COMMIT && hit(++spec.commits);
	if (fails)
		log_warn("faults: the store thread's sync %lld of the -wal "
		    "fails (EIO)", spec.commits);
	pthread_mutex_unlock(&lock);
	return fails;
}

int
store_faults_register(const char *dir)
{
	if ((size_t)snprintf(ctl_path, sizeof(ctl_path), "%s/%s", dir,
	    STORE_FAULTS_FILE) >= sizeof(ctl_path)) {
		log_err("faults: the data directory's path is too long");
		return -1;
	}
	pthread_mutex_lock(&lock);
	memset(&spec, 0, sizeof(spec));
	pthread_mutex_unlock(&lock);
	if (registered)
		return 0;
	registered = 1;
	log_warn("faults: this build injects faults in the store as %s says",
	    ctl_path);
	return 0;
}

#endif
