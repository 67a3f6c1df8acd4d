/*
 * store_vfs.h: the SQLite VFS of the database's connections (store_vfs.c),
 * SQLite's default one with the frames of a commit gathered into few
 * writes to the -wal.
 */
#ifndef OFFRAMP_STORE_VFS_H
#define OFFRAMP_STORE_VFS_H

/* Its name, for sqlite3_open_v2(). */
#define STORE_VFS		"offramp"
/* The most it gathers for one write: less than the 128 KiB that SQLite's
 * unix VFS writes in one call at most (its seekAndWriteFd). */
#define STORE_VFS_GATHER	126976	/* 31 pages of 4 KiB */

/*
 * Registers STORE_VFS over the VFS that is SQLite's default when it is
 * first called (later calls do nothing). Not the default itself. Called
 * by store_open(), from one thread, before any connection of the store
 * opens (it is not synchronised). 0, or -1 (logged) when it cannot.
 */
int store_vfs_register(void);

#endif
