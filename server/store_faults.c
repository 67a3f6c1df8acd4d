/*
 * store_faults.c: fault injection in the store, for tests (issue 10): a
 * SQLite VFS that wraps the default one (unix) and makes the writes and
 * syncs of the database and its -wal fail as a control file says. It is
 * compiled only with the CMake option OFFRAMP_FAULTS, which a release
 * build refuses; it must never be in a binary that ships, and never
 * touches a file but the database, its -wal and the control file.
 *
 * The control file is <data dir>/offramp.faults (STORE_FAULTS_FILE). Before
 * every write and sync the shim stats it; when it has changed (another
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

/* A file of ours: the real one (of the default VFS) follows it. */
struct ffile {
	sqlite3_file base;
	sqlite3_file *real;
	int counted;		/* the database or its -wal */
	int wal;
};

static sqlite3_vfs fault_vfs;
static sqlite3_vfs *real_vfs;
static char ctl_path[PATH_MAX];

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

static int
f_close(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xClose(f->real);
}

static int
f_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int
f_write(sqlite3_file *file, const void *buf, int n, sqlite3_int64 off)
{
	struct ffile *f = (struct ffile *)file;
	int rc;

	if (f->counted) {
		rc = SQLITE_OK;
		pthread_mutex_lock(&lock);
		spec_check();
		if (spec.mode == FAULT_FULL) {
			log_warn("faults: a write fails (SQLITE_FULL)");
			rc = SQLITE_FULL;
		} else if (spec.mode == FAULT_WRITE && f->wal &&
		    hit(++spec.writes)) {
			log_warn("faults: write %lld fails (%d bytes at "
			    "%lld of the -wal; SQLITE_IOERR_WRITE)",
			    spec.writes, n, (long long)off);
			rc = SQLITE_IOERR_WRITE;
		}
		pthread_mutex_unlock(&lock);
		if (rc != SQLITE_OK)
			return rc;
	}
	return f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int
f_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xTruncate(f->real, size);
}

static int
f_sync(sqlite3_file *file, int flags)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xSync(f->real, flags);
}

static int
f_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xFileSize(f->real, size);
}

static int
f_lock(sqlite3_file *file, int lock)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xLock(f->real, lock);
}

static int
f_unlock(sqlite3_file *file, int lock)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xUnlock(f->real, lock);
}

static int
f_check_reserved(sqlite3_file *file, int *out)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
f_file_control(sqlite3_file *file, int op, void *arg)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
f_sector_size(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
f_device_characteristics(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
f_shm_map(sqlite3_file *file, int region, int size, int extend,
    void volatile **p)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xShmMap(f->real, region, size, extend, p);
}

static int
f_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void
f_shm_barrier(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;

	f->real->pMethods->xShmBarrier(f->real);
}

static int
f_shm_unmap(sqlite3_file *file, int del)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int
f_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xFetch(f->real, off, n, p);
}

static int
f_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct ffile *f = (struct ffile *)file;

	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods fault_io = {
	.iVersion = 3,
	.xClose = f_close,
	.xRead = f_read,
	.xWrite = f_write,
	.xTruncate = f_truncate,
	.xSync = f_sync,
	.xFileSize = f_file_size,
	.xLock = f_lock,
	.xUnlock = f_unlock,
	.xCheckReservedLock = f_check_reserved,
	.xFileControl = f_file_control,
	.xSectorSize = f_sector_size,
	.xDeviceCharacteristics = f_device_characteristics,
	.xShmMap = f_shm_map,
	.xShmLock = f_shm_lock,
	.xShmBarrier = f_shm_barrier,
	.xShmUnmap = f_shm_unmap,
	.xFetch = f_fetch,
	.xUnfetch = f_unfetch,
};

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out_flags)
{
	struct ffile *f = (struct ffile *)file;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->counted = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	/* SQLite closes a file whose pMethods is set, even after an error. */
	f->base.pMethods = f->real->pMethods != NULL ? &fault_io : NULL;
	return rc;
}

/* The rest goes straight to the default VFS. */
static int
v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int
v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *
v_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void
v_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, msg);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void
v_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, h);
}

static int
v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
v_sleep(sqlite3_vfs *vfs, int usec)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, usec);
}

static int
v_current_time(sqlite3_vfs *vfs, double *t)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, t);
}

static int
v_get_last_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, msg);
}

static int
v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, t);
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
	if (real_vfs != NULL)
		return 0;
	if ((real_vfs = sqlite3_vfs_find(NULL)) == NULL ||
	    real_vfs->iVersion < 2) {
		real_vfs = NULL;
		log_err("faults: no default SQLite VFS to wrap");
		return -1;
	}
	fault_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile,
		.mxPathname = real_vfs->mxPathname,
		.zName = STORE_FAULTS_VFS,
		.xOpen = v_open,
		.xDelete = v_delete,
		.xAccess = v_access,
		.xFullPathname = v_full_pathname,
		.xDlOpen = v_dl_open,
		.xDlError = v_dl_error,
		.xDlSym = v_dl_sym,
		.xDlClose = v_dl_close,
		.xRandomness = v_randomness,
		.xSleep = v_sleep,
		.xCurrentTime = v_current_time,
		.xGetLastError = v_get_last_error,
		.xCurrentTimeInt64 = v_current_time_int64,
	};
	if (sqlite3_vfs_register(&fault_vfs, 0) != SQLITE_OK) {
		real_vfs = NULL;
		log_err("faults: cannot register the VFS");
		return -1;
	}
	log_warn("faults: this build injects faults in the store as %s says",
	    ctl_path);
	return 0;
}

#endif
