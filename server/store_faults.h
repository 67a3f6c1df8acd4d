/*
 * store_faults.h: fault injection in the store (tests only). Compiled in
 * only with the CMake option OFFRAMP_FAULTS (never in a release build):
 * without it neither this header's functions nor store_faults.c are in
 * the binary.
 */
#ifndef OFFRAMP_STORE_FAULTS_H
#define OFFRAMP_STORE_FAULTS_H

#ifdef OFFRAMP_FAULTS

/* The control file, in the data directory (store_faults.c says what it
 * holds). */
#define STORE_FAULTS_FILE	"offramp.faults"

/* What --help says of it. */
#define STORE_FAULTS_HELP \
	"This build injects faults in the store (OFFRAMP_FAULTS): " \
	"DIR/" STORE_FAULTS_FILE " holds one line,\n" \
	"\"write N [K]\" (-wal writes N..N+K-1 from now fail, SQLITE_IOERR_WRITE), " \
	"\"commit N [K]\" (the store thread's\n" \
	"syncs N..N+K-1 of the -wal fail, EIO: the server stops) or \"full\" (every " \
	"write fails with SQLITE_FULL);\n" \
	"it is read again whenever it changes; removed or empty, no fault.\n"

/*
 * Reads the faults from dir/STORE_FAULTS_FILE from now on (again: moves
 * the control file). 0, or -1 (logged) when it cannot.
 */
int store_faults_register(const char *dir);
/* Whether SQLite's write of n bytes at off to the database (wal 0) or its
 * -wal (wal 1), about to be made, fails (a "write" or "full" fault;
 * counted): SQLITE_OK, or the error to give SQLite, nothing written. Any
 * thread (store_vfs.c). */
int store_faults_write(int wal, int n, long long off);
/* Whether a "full" fault is in force (logged when it is): the store's
 * VFS fails its own writes of what it gathered (store_vfs.c). */
int store_faults_full(void);
/* Whether the store thread's sync of the -wal, about to be made, fails (a
 * "commit" fault; counted). Any thread. */
int store_faults_sync_fails(void);

#endif
#endif
