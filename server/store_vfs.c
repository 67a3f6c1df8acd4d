/*
 * store_vfs.c: the SQLite VFS of the database's connections (issue 16). It
 * is SQLite's default VFS (unix) but for one thing: what a commit writes
 * to the -wal goes to the file in as few writes as it fills, not two a
 * frame (its 24-byte header, then its page). It changes no byte that
 * reaches the file, nor when it is there for anyone else to read: every
 * byte of a commit is in the file before the commit's write of its last
 * frame returns, and so before SQLite publishes it in the wal-index to
 * the other connections (the checkpoint's) and before any sync of the
 * store thread can count it (store_db.c, "Durability"). It writes the
 * database file as SQLite does (it only watches its lock of the writer
 * and refuses one pragma, below), and never reads the bytes it gathers
 * but for the mark that ends a commit (the WAL's format,
 * sqlite.org/fileformat.html).
 * In a test build it also asks store_faults.c whether each of SQLite's
 * writes fails, before it does anything with it.
 *
 * SQLite writes a commit's frames in order, from the end of the -wal on,
 * and the last of them carries the commit's mark: a database size,
 * bytes 4-7 of its header, which no other frame has. A -wal's handle
 * gathers writes that follow each other into its buffer
 * (STORE_VFS_GATHER), and writes it out
 * - when the write of the page of a frame whose header has the mark
 *   comes (the page right after it): the commit's end;
 * - when a write does not follow the buffer's end, or would overflow it;
 * - before a sync, a truncate, the file's size, a file control, a map,
 *   the close; and before a read of bytes of which the buffer holds only
 *   some (a read of bytes all in the buffer is answered from it, one of
 *   none from the file).
 * A header with the mark that does not follow the buffer's end (SQLite
 * rewriting the headers of a transaction that overwrote a frame of its
 * own, walRewriteChecksums, after the commit's last frame), and its
 * page, are written at once, as they come: nothing follows them within
 * the commit to carry them out.
 * SQLite writes a frame's header at a place only to write every frame
 * from there on anew (a rollback to a savepoint, the -wal started over
 * with its own header at 0): what the buffer holds from that place on is
 * dropped, never written. At the end of a transaction (SQLite lets go of
 * the writer's lock, on the database's file) what the buffer holds is
 * dropped too: nothing, after a commit; frames of no use, after a
 * rollback. After a sync of the -wal in a transaction (SQLite's
 * synchronous=FULL commits, which sync before their last bytes and
 * write those after it), its writes go to the file as they come (not
 * after the sync of the -wal's own header, when it was started over).
 * The link to the writer's lock is the database's: a -wal opened for a
 * database on another VFS is written as SQLite writes it, nothing
 * gathered; and the exclusive locking mode, which takes no lock of the
 * shared memory, is refused.
 * When a write out fails (a full disk), what the buffer held is dropped
 * and the call that asked for it fails: SQLite's write of a frame, of its
 * commit's page, or a sync fails with the error, and SQLite gives up the
 * transaction (it has no use for the frames); a read fails with an I/O
 * error, on which SQLite gives it up too (on a full disk it would roll
 * back the statement alone; the request is then answered internal, not
 * storage_full: it needs a transaction that spills out of the loop's
 * cache of 32 MiB, which no request makes); anything else comes outside
 * a transaction, when the buffer holds nothing SQLite needs. A failed
 * commit so never reaches the file whole later on.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_faults.h"
#include "store_vfs.h"

#define FRAME_HEADER	24	/* a WAL frame's header */
#define WAL_HEADER	32	/* the -wal's own, at its start */

/* A file of ours: the real one (of the VFS below) follows it. */
struct gfile {
	sqlite3_file base;
	sqlite3_file *real;
	unsigned char *buf;	/* a -wal's, at its first write */
	sqlite3_int64 off;	/* the file offset of buf[0] */
	int len;		/* bytes gathered */
	sqlite3_int64 mark_end;	/* where the page of the last write, a
				 * header with the mark, goes; -1: none */
	struct gfile *log;	/* a database's: its connection's -wal */
	struct gfile *owner;	/* a -wal's: its connection's database */
	int wal;		/* a -wal */
	int db;			/* a database (faults: counted) */
	int writing;		/* its connection holds the writer's lock */
	int through;		/* synced in this transaction: no gathering */
	int headed;		/* the last write: the -wal's own header */
};

/* SQLite's lock of the writer (wal.c's WAL_WRITE_LOCK), a database's
 * first lock of its shared memory: held from a transaction's first write
 * to its end. */
#define WRITER_LOCK	0

static sqlite3_vfs gather_vfs;
static sqlite3_vfs *real_vfs;

/* Writes out what f gathered, dropped if it fails. SQLITE_OK, or the
 * VFS's error. */
static int
flush(struct gfile *f)
{
	int len = f->len;

	if (len == 0)
		return SQLITE_OK;
	f->len = 0;
#ifdef OFFRAMP_FAULTS
	if (store_faults_full())
		return SQLITE_FULL;
#endif
	return f->real->pMethods->xWrite(f->real, f->buf, len, f->off);
}

/* The end of f's connection's hold of the writer's lock (a transaction,
 * committed or rolled back; a checkpoint): what f holds is dropped
 * (nothing, after a commit). */
static void
tx_end(struct gfile *f)
{
	f->len = 0;
	f->mark_end = -1;
	f->writing = 0;
	f->through = 0;
}

static int
g_close(sqlite3_file *file)
{
	struct gfile *f = (struct gfile *)file;
	int rc = flush(f), closed = f->real->pMethods->xClose(f->real);

	if (f->owner != NULL)
		f->owner->log = NULL;
	if (f->log != NULL)
		f->log->owner = NULL;
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : closed;
}

static int
g_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
	struct gfile *f = (struct gfile *)file;
	int rc;

	if (f->len > 0 && off >= f->off && off + n <= f->off + f->len) {
		memcpy(buf, f->buf + (off - f->off), (size_t)n);
		return SQLITE_OK;
	}
	/* SQLite gives up a transaction on an I/O error of a read, not on a
	 * full disk (a statement's, rolled back alone) */
	if (f->len > 0 && off < f->off + f->len && off + n > f->off &&
	    (rc = flush(f)) != SQLITE_OK)
		return SQLITE_IOERR_READ;
	return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int
g_write(sqlite3_file *file, const void *buf, int n, sqlite3_int64 off)
{
	struct gfile *f = (struct gfile *)file;
	int ends = off == f->mark_end, mark, rc;

	f->mark_end = -1;
	f->headed = n == WAL_HEADER && off == 0;
#ifdef OFFRAMP_FAULTS
	if ((f->db || f->wal) &&
	    (rc = store_faults_write(f->wal, n, off)) != SQLITE_OK)
		return rc;
#endif
	if (!f->wal || f->owner == NULL)
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	/* a header: every frame from here on is written anew */
	if ((n == FRAME_HEADER || (n == WAL_HEADER && off == 0)) &&
	    off < f->off + f->len)
		f->len = off > f->off ? (int)(off - f->off) : 0;
	mark = n == FRAME_HEADER &&
	    memcmp((const unsigned char *)buf + 4, "\0\0\0\0", 4) != 0;
	if (mark)
		f->mark_end = off + n;
	if (f->len > 0 && off == f->off + f->len &&
	    n <= STORE_VFS_GATHER - f->len) {
		memcpy(f->buf + f->len, buf, (size_t)n);
		f->len += n;
		return ends ? flush(f) : SQLITE_OK;
	}
	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	if (mark || ends || f->through || n > STORE_VFS_GATHER)
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	if (f->buf == NULL && (f->buf = malloc(STORE_VFS_GATHER)) == NULL)
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	memcpy(f->buf, buf, (size_t)n);
	f->off = off;
	f->len = n;
	return SQLITE_OK;
}

static int
g_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct gfile *f = (struct gfile *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc :
	    f->real->pMethods->xTruncate(f->real, size);
}

static int
g_sync(sqlite3_file *file, int flags)
{
	struct gfile *f = (struct gfile *)file;
	int rc = flush(f);

	if (f->writing && !f->headed)
		f->through = 1;
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int
g_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct gfile *f = (struct gfile *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc :
	    f->real->pMethods->xFileSize(f->real, size);
}

static int
g_file_control(sqlite3_file *file, int op, void *arg)
{
	struct gfile *f = (struct gfile *)file;
	char **pragma = arg;
	int rc = flush(f);

	/* The exclusive locking mode takes no lock of the shared memory:
	 * the end of a transaction would go unseen (tx_end). */
	if (op == SQLITE_FCNTL_PRAGMA && sqlite3_stricmp(pragma[1],
	    "locking_mode") == 0 && pragma[2] != NULL &&
	    sqlite3_stricmp(pragma[2], "exclusive") == 0) {
		pragma[0] = sqlite3_mprintf("the store's VFS (" STORE_VFS
		    ") has no exclusive locking mode");
		return SQLITE_ERROR;
	}
	return rc != SQLITE_OK ? rc :
	    f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
g_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
	struct gfile *f = (struct gfile *)file;
	int rc = flush(f);

	*p = NULL;
	return rc != SQLITE_OK ? rc :
	    f->real->pMethods->xFetch(f->real, off, n, p);
}

/* The rest goes straight to the real file. */
static int
g_lock(sqlite3_file *file, int lock)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xLock(f->real, lock);
}

static int
g_unlock(sqlite3_file *file, int lock)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xUnlock(f->real, lock);
}

static int
g_check_reserved(sqlite3_file *file, int *out)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
g_sector_size(sqlite3_file *file)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
g_device_characteristics(sqlite3_file *file)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
g_shm_map(sqlite3_file *file, int region, int size, int extend,
    void volatile **p)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xShmMap(f->real, region, size, extend, p);
}

static int
g_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct gfile *f = (struct gfile *)file;
	int rc = f->real->pMethods->xShmLock(f->real, offset, n, flags);

	if (f->log != NULL && offset == WRITER_LOCK) {
		if (flags & SQLITE_SHM_UNLOCK)
			tx_end(f->log);
		else if (rc == SQLITE_OK)
			f->log->writing = 1;
	}
	return rc;
}

static void
g_shm_barrier(sqlite3_file *file)
{
	struct gfile *f = (struct gfile *)file;

	f->real->pMethods->xShmBarrier(f->real);
}

static int
g_shm_unmap(sqlite3_file *file, int del)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int
g_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct gfile *f = (struct gfile *)file;

	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods gather_io = {
	.iVersion = 3,
	.xClose = g_close,
	.xRead = g_read,
	.xWrite = g_write,
	.xTruncate = g_truncate,
	.xSync = g_sync,
	.xFileSize = g_file_size,
	.xLock = g_lock,
	.xUnlock = g_unlock,
	.xCheckReservedLock = g_check_reserved,
	.xFileControl = g_file_control,
	.xSectorSize = g_sector_size,
	.xDeviceCharacteristics = g_device_characteristics,
	.xShmMap = g_shm_map,
	.xShmLock = g_shm_lock,
	.xShmBarrier = g_shm_barrier,
	.xShmUnmap = g_shm_unmap,
	.xFetch = g_fetch,
	.xUnfetch = g_unfetch,
};

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out_flags)
{
	struct gfile *f = (struct gfile *)file;
	sqlite3_file *db;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	f->mark_end = -1;
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	/* SQLite closes a file whose pMethods is set, even after an error. */
	f->base.pMethods = f->real->pMethods != NULL ? &gather_io : NULL;
	if (rc == SQLITE_OK && f->wal && name != NULL &&
	    (db = sqlite3_database_file_object(name)) != NULL &&
	    db->pMethods == &gather_io) {
		f->owner = (struct gfile *)db;
		f->owner->log = f;
	} else if (rc == SQLITE_OK && f->wal) {
		log_warn("store: a -wal whose database is not on SQLite's VFS "
		    STORE_VFS ": its writes are not gathered");
	}
	return rc;
}

/* The VFS's other calls go straight to the real one. */
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
store_vfs_register(void)
{
	sqlite3_vfs *below;

	if (real_vfs != NULL)
		return 0;
	if ((below = sqlite3_vfs_find(NULL)) == NULL || below->iVersion < 2) {
		log_err("store: no default SQLite VFS to build on");
		return -1;
	}
	gather_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct gfile) + below->szOsFile,
		.mxPathname = below->mxPathname,
		.zName = STORE_VFS,
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
	real_vfs = below;
	if (sqlite3_vfs_register(&gather_vfs, 0) != SQLITE_OK) {
		real_vfs = NULL;
		log_err("store: cannot register SQLite's VFS " STORE_VFS);
		return -1;
	}
	return 0;
}
