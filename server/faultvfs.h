/*
 * faultvfs.h: fault injection in the store (tests only). Compiled in only
 * with the CMake option OFFRAMP_FAULTS (never in a release build): without
 * it neither this header's functions nor faultvfs.c are in the binary.
 */
#ifndef OFFRAMP_FAULTVFS_H
#define OFFRAMP_FAULTVFS_H

#ifdef OFFRAMP_FAULTS

/* The name of the VFS store_open() gives SQLite for the database. */
#define FAULTVFS_NAME	"offramp-faults"
/* The control file, in the data directory (faultvfs.c says what it
 * holds). */
#define FAULTVFS_FILE	"offramp.faults"

/* What --help says of it. */
#define FAULTVFS_HELP \
	"This build injects faults in the store (OFFRAMP_FAULTS): " \
	"DIR/" FAULTVFS_FILE " holds one line,\n" \
	"\"write N [K]\" (-wal writes N..N+K-1 from now fail, SQLITE_IOERR_WRITE), " \
	"\"commit N [K]\" (the WAL syncs of\n" \
	"commits N..N+K-1 fail, SQLITE_IOERR_FSYNC) or \"full\" (every " \
	"write fails with SQLITE_FULL);\n" \
	"it is read again whenever it changes; removed or empty, no fault.\n"

/*
 * Registers (once; again just moves the control file) the VFS
 * FAULTVFS_NAME, a shim over SQLite's default VFS that reads its faults
 * from dir/FAULTVFS_FILE. 0, or -1 (logged) when it cannot.
 */
int faultvfs_register(const char *dir);

#endif
#endif
