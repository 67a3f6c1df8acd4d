/*
 * store_int.h: the store's private header, for the store_*.c files and
 * nothing else. It defines struct store, the ids of the prepared statements
 * (each noun file holds the SQL of its own statements in a table indexed by
 * these ids; store_db.c prepares them all in store_open() and finalizes
 * them in store_close()), and declares the helpers of store_db.c that the
 * noun files share: one way to bind, to step, to read one row or every row
 * (with the one re-entrancy guard), and to open the transaction of a
 * write. The noun files reach the database through these helpers
 * alone: a statement is a struct db_stmt, the head of its backend's own
 * (struct db_backend: SQLite's in store_db.c, PostgreSQL's in
 * store_pg.c), and neither this header nor the noun files include
 * sqlite3.h or libpq-fe.h; store_db.c, store_pg.c, store_vfs.c and
 * store_faults.c do.
 *
 * SQL that a second backend must give its own text for. The noun files'
 * statements are in the subset SQLite 3.40 and PostgreSQL 15 share
 * (?N parameters aside, which a PostgreSQL layer rewrites to $N): each
 * prepares on PostgreSQL 15, on the schema with bigint for INTEGER and
 * bytea for BLOB, once its parameters' types are given. What is left is
 * store_db.c's:
 *   S_BEGIN	BEGIN IMMEDIATE takes SQLite's write lock at once.
 *   S_PAGE_COUNT, S_PAGE_SIZE	PRAGMAs (store_size: the file's size).
 *   the probe and the schema version	PRAGMA user_version.
 * and what a layer must do for the noun files' text to mean the same:
 *   - Give each parameter its type at prepare (int8, bytea, text, as
 *     db_bind_* bind it). PostgreSQL infers one from its context, and
 *     wrongly here: int4, too narrow for an int64, for a time rounded
 *     as "?4 - ?4 % 60" (S_NOTE_INSERT, S_INVITE_INSERT,
 *     S_PROGRAMME_INSERT, S_SPK_SET) and for an id in "?N = 0 OR .."
 *     (S_COUNSELLOR_EACH's ?1, S_REFERRALS_WAITING's ?2); text for ?2 of
 *     "CASE ?2 WHEN 0" (S_REFERRAL_COUNTS, S_REFERRAL_DURATIONS). A
 *     statement uses each of its parameters. A parameter first
 *     bound NULL has no type to give: S_CERT_HOLDERS names "key = ?3"
 *     before "?3 IS NULL", so that PostgreSQL takes bytea from the
 *     column (in the other order it cannot prepare it).
 *   - Run a statement that a constraint may refuse while the
 *     transaction goes on (db_exec_or(), db_insert() with a
 *     constraint: S_CASE_INSERT, S_CASE_SET_PREFS, S_CASE_SET_STATUS,
 *     S_REFERRAL_INSERT) inside a savepoint of its own: a refused
 *     statement aborts PostgreSQL's whole transaction.
 *   - Keep db_each_row()'s re-entrancy guard (sqlite3_stmt_busy()
 *     here) and db_changes() (sqlite3_changes64()) of its own.
 */
#ifndef OFFRAMP_STORE_INT_H
#define OFFRAMP_STORE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mono.h"
#include "store.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum stmt_id {
	/* store_db.c: transactions and savepoints */
	S_BEGIN,
	S_READ_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_MARK,
	S_MARK_RELEASE,
	S_MARK_UNDO,
	S_CALL,
	S_CALL_RELEASE,
	S_CALL_UNDO,
	S_PAGE_COUNT,
	S_PAGE_SIZE,
	/* store_accounts.c */
	S_ACCOUNT_BY_KEY,
	S_ACCOUNT_BY_ID,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_SET_NAME,
	S_ACCOUNT_SET_DISABLED,
	S_ADMIN_COUNT,
	S_CERT_SET,
	S_CERT_GET,
	S_PROFILE_INSERT,
	S_PROFILE_GET,
	S_PROFILE_SET,
	S_COUNSELLOR_GET,
	S_COUNSELLOR_EACH,
	S_UNCERTIFIED,
	S_ACCOUNT_SEEN,
	S_ACCOUNT_SEEN_AT,
	S_CLIENTS_IDLE,
	S_SPK_DROP,
	S_OTK_DROP,
	S_SENT_DROP,
	S_ACCOUNT_DROP,
	S_PROFILE_DROP,
	S_SCRUB_COPIES_TO,
	S_SCRUB_COPIES_FROM,
	S_SCRUB_NOTES,
	S_SCRUB_PARTICIPANT,
	S_SCRUB_LEFT,
	S_SCRUB_MEMBERS,
	/* store_invites.c */
	S_INVITE_INSERT,
	S_INVITE_TAKE,
	S_INVITE_PENDING,
	S_INVITE_DROP_BOOTSTRAP,
	S_INVITE_DROP_OF,
	S_INVITES_DONE,
	S_INVITE_DROP,
	/* store_cases.c */
	S_CASE_INSERT,
	S_CASE_GET,
	S_CASE_OPEN_OF_CLIENT,
	S_CASE_EACH_OF,
	S_CASE_ASSIGN,
	S_PROFILE_ASSIGNED,
	S_CASE_CLOSE,
	S_CASE_WAITING,
	S_CASE_SET_PREFS,
	S_CASE_SET_MATCH,
	S_CASE_SET_STATUS,
	S_CASE_UNASSIGN,
	S_CASE_OPEN_OF_COUNSELLOR,
	S_CASE_UNREAD,
	S_PARTICIPANT_INSERT,
	S_PARTICIPANTS,
	S_PEERS,
	S_PARTICIPANT_HAS,
	S_PARTICIPANT_DROP_COUNSELLOR,
	S_SHARE_CASE,
	S_NOTE_INSERT,
	S_NOTES,
	S_NOTE_COUNT,
	S_NOTES_STRANDED,
	S_QUEUE_COUNT,
	S_FIRST_RESPONSES,
	S_CASE_REFERRED,
	S_REFERRED_COUNT,
	S_CASE_QUEUE_POSITION,
	S_QUEUE_BY_PROGRAMME,
	S_CASES_CLOSED_BEFORE,
	S_CASES_OF,
	S_CASE_DROP_DELIVERIES,
	S_CASE_DROP_NOTES,
	S_CASE_DROP_PARTICIPANTS,
	S_CASE_DROP_MEMBERS,
	S_MEMBERS_BUMP,
	S_MEMBER_INSERT,
	S_MEMBER_LEAVE,
	S_MEMBER_LEAVE_COUNSELLOR,
	S_PARTICIPANT_DROP,
	S_PARTICIPANT_SEEN,
	S_FORMER,
	S_COLLEAGUES,
	S_COLLEAGUE_CASES,
	S_MEMBER_LAST_WHY,
	S_MEMBERS_SENT_AWAY,
	S_MEMBERS_COUNT,
	S_CASE_DROP,
	/* store_messages.c */
	S_DELIVERY_INSERT,
	S_CASE_TOUCH,
	S_MESSAGE_SEEN,
	S_SENT_INSERT,
	S_DELIVERIES,
	S_DELIVERY_ACK,
	S_RECIPIENT_QUEUE,
	S_RECIPIENT_COPIES,
	S_DELIVERIES_UPTO,
	S_DELIVERY_SOURCE,
	S_MESSAGES_PURGE,
	S_COPIES_EXPIRE,
	/* store_keys.c */
	S_SPK_SET,
	S_SPK_GET,
	S_OTK_ADD,
	S_OTK_COUNT,
	S_OTK_FIRST,
	S_OTK_DELETE,
	/* store_programmes.c */
	S_PROGRAMME_INSERT,
	S_PROGRAMME_FIRST,
	S_PROGRAMME_GET,
	S_PROGRAMME_SET_KEY,
	S_PROGRAMME_SET_PROFILE,
	S_PROGRAMME_EACH,
	S_PROGRAMME_ROTATE_KEY,
	S_ROTATION_COUNT,
	S_ROTATION_INSERT,
	S_ROTATION_HAD_KEY,
	S_ROTATION_EACH,
	S_CERT_HOLDERS,
	S_CERT_DROP,
	S_REVOCATION_GET,
	S_REVOCATION_SET,
	S_PARTNER_SET,
	S_PARTNER_EACH,
	S_PARTNER_DROP,
	S_PARTNERSHIP_OPEN_PAIR,
	S_PARTNERSHIP_OPEN_COUNT,
	S_PARTNERSHIP_INSERT,
	S_PARTNERSHIP_GET,
	S_PARTNERSHIP_ACCEPT,
	S_PARTNERSHIP_END,
	S_PARTNERSHIP_TRIM,
	S_PARTNERSHIP_EACH,
	S_PARTNER_PROGRAMMES,
	S_EXTERNAL_INSERT,
	S_EXTERNAL_UPDATE,
	S_EXTERNAL_DELETE,
	S_EXTERNAL_COUNT,
	S_EXTERNAL_GET,
	S_EXTERNAL_EACH,
	/* store_audit.c */
	S_AUDIT_INSERT,
	S_AUDIT,
	S_AUDIT_TRIM,
	/* store_feedback.c */
	S_CASE_FEEDBACK_MARK,
	S_FEEDBACK_INSERT,
	S_FEEDBACK_EACH,
	S_FEEDBACK_DROP,
	S_ADMIN_CERTS,
	/* store_referrals.c */
	S_REFERRAL_INSERT,
	S_REFERRAL_OPEN,
	S_REFERRAL_LAST,
	S_REFERRALS_OF_CASE,
	S_REFERRAL_ANSWER,
	S_REFERRAL_END,
	S_REFERRAL_RECEIVER,
	S_REFERRAL_APPROVE,
	S_REFERRAL_SUMMARY_SENT,
	S_REFERRAL_COUNTS,
	S_REFERRAL_DURATIONS,
	S_REFERRALS_WAITING,
	S_REFERRALS_OF_PAIR,
	S_REFERRALS_FORGET,
	S_REFERRAL_RELEASE,
	/* store_cases.c: the handover of a referral */
	S_CASE_DROP_REFERRALS,
	S_CASE_HANDOVER,
	S_PARTICIPANT_OWN,
	S_COUNT
};

/* Each noun file's statements: its SQL at its ids, NULL elsewhere. */
extern const char *const store_accounts_sql[S_COUNT];
extern const char *const store_invites_sql[S_COUNT];
extern const char *const store_cases_sql[S_COUNT];
extern const char *const store_messages_sql[S_COUNT];
extern const char *const store_keys_sql[S_COUNT];
extern const char *const store_programmes_sql[S_COUNT];
extern const char *const store_audit_sql[S_COUNT];
extern const char *const store_feedback_sql[S_COUNT];
extern const char *const store_referrals_sql[S_COUNT];

/* The kinds of constraint that db_exec_or() and db_insert() tell apart. */
enum db_constraint {
	DB_NONE,		/* none: every refusal is a failure */
	DB_UNIQUE,		/* a UNIQUE constraint or index */
	DB_FOREIGN_KEY
};

struct db_backend;

/* A prepared statement: each backend's begins with this (store_db.c's
 * SQLite statement, store_pg.c's PostgreSQL one); the rest is its own. */
struct db_stmt {
	const struct db_backend *be;
};
struct sqlite3;		/* SQLite's connection, for store_db.c */
struct pg_store;	/* PostgreSQL's connection, for store_pg.c */

/*
 * A backend: what the helpers below ask of the database. store_db.c holds
 * SQLite's table and the helpers themselves, which reach the database
 * through it alone; store_pg.c holds PostgreSQL's. step() runs s once:
 * 1 with a row, 0 at its end (s reset), code when a constraint of kind c
 * refused it (s reset, nothing changed, the transaction goes on), or
 * fail()'s code. fail() is db_fail()'s contract. in_tx(): the database
 * has a transaction of ours open. commit() runs the COMMIT of an open
 * transaction and what goes with it: 0, or db_commit_lost()'s code.
 * close() closes what open gave (the statements too); full() is
 * store_full()'s. sync() is the store thread's step ("Durability" in
 * store_db.c), called from that thread alone: it makes durable every
 * commit whose store_commit() returned before the call. 0; OFR_E_IO when
 * that can never be known (errno set: the server stops); or
 * OFR_E_UNAVAILABLE when it is not known now: the commits not yet
 * durable may be lost, and their frames become errors (store_durable),
 * and a later call may succeed.
 */
struct db_backend {
	const char *name;
	void (*done)(struct db_stmt *s);
	int (*bind_text)(struct db_stmt *s, int i, const char *t, size_t n);
	int (*bind_blob)(struct db_stmt *s, int i, const void *p, size_t n);
	int (*bind_int64)(struct db_stmt *s, int i, int64_t v);
	int (*bind_null)(struct db_stmt *s, int i);
	int (*step)(struct store *st, struct db_stmt *s, enum db_constraint c,
	    int code, const char *what);
	int (*busy)(struct db_stmt *s);
	int64_t (*changes)(struct store *st);
	int64_t (*col_int64)(struct db_stmt *s, int i);
	int (*col_is_null)(struct db_stmt *s, int i);
	const void *(*col_data)(struct db_stmt *s, int i);
	int (*col_bytes)(struct db_stmt *s, int i);
	int (*fail)(struct store *st, struct db_stmt *s, const char *what);
	int (*in_tx)(struct store *st);
	int (*commit)(struct store *st);
	void (*close)(struct store *st);
	int (*full)(struct store *st);
	int (*sync)(struct store *st);
	/* Several nodes on one database (store.h, store_shared() and
	 * after): PostgreSQL's alone. SQLite has one writer: shared 0, the
	 * hooks NULL (nothing to lock, no presence stored). lock() and
	 * presence_publish() run inside the transaction db_write_begin()
	 * opened; their SQL is the backend's own, not a noun file's. */
	int shared;
	int (*lock)(struct store *st, int64_t counsellor);
	int (*case_lock)(struct store *st, int64_t id);
	int (*account_lock)(struct store *st, int64_t id);
	int (*programme_lock)(struct store *st, int64_t id);
	int (*case_event)(struct store *st, int64_t *v);
	int (*presence_publish)(struct store *st, const int64_t *ids,
	    size_t n, int expiry);
	int (*presence_each)(struct store *st,
	    int (*fn)(void *arg, int64_t id), void *arg);
	int (*waiting_publish)(struct store *st, const int64_t *ids,
	    size_t n, int expiry);
	int (*waiting_elsewhere)(struct store *st, int64_t account,
	    int *yes);
	int (*accounts_barred)(struct store *st, const int64_t *ids,
	    size_t n, int (*fn)(void *arg, int64_t id), void *arg);
	int (*try_lock)(struct store *st, int key, int *got);
};

/* The SQL of statement id, from the backend's own table (its
 * transactions and the rest of store_db.c's list above) or the noun
 * files': NULL unless exactly one has it. */
const char *db_sql_of(const char *const *own, int id);
/* A commit that cannot be: counted, rolled back; OFR_E_STORAGE_FULL when
 * the disk filled up during the transaction, OFR_E_UNAVAILABLE when the
 * database's connection was lost during it, else OFR_E_INTERNAL. */
int db_commit_lost(struct store *st);
/* store_pg.c: opens the PostgreSQL database at url (a postgresql:// or
 * postgres:// URL) into st: connects, migrates (creating the schema when
 * create), and prepares. 0, OFR_E_NOT_FOUND (no schema and not create),
 * OFR_E_IO (unreachable: logged with the URL, its password left out) or
 * OFR_E_INTERNAL. Without OFFRAMP_POSTGRES, store_db.c's refuses. */
int pg_open(struct store *st, const char *url, int create);
/* store_pg.c: a new connection to the PostgreSQL database at url, as
 * every connection of a node is made (the store's, cluster.c's): bounded
 * connect, keepalives and tcp_user_timeout on both sides (the server's
 * for the session: PostgreSQL ends a gone node's session, and its locks,
 * within some 15 seconds), application_name app when not NULL. libpq's
 * PGconn (PQstatus says whether it works), or NULL (out of memory). */
struct pg_conn *pg_connect(const char *url, const char *app);
/* Why conn (pg_connect's, NULL: out of memory) could not connect to url,
 * in buf (cap bytes): the first line of libpq's message, or a fixed text
 * when it could quote the URL's password; never logged otherwise. */
const char *pg_conn_why(struct pg_conn *conn, const char *url, char *buf,
    size_t cap);
/* Starts the store thread of st, its backend ready for sync(): 0, or
 * OFR_E_INTERNAL (logged). */
int db_sync_start(struct store *st);
/* Asks the store thread for the sync of every commit made (and the
 * checkpoint thread for SQLite's checkpoints due); returns at once. */
void db_sync_ask(struct store *st);
/* A statement of the loop's is about to run on a shared store: what it
 * reads may be another node's commit, not durable yet (store_db.c,
 * "Durability"). */
void db_read_seen(struct store *st);
/* Syncs what is left and stops the thread db_sync_start() started (if it
 * did); closes what SQLite's thread had. */
void db_sync_stop(struct store *st);

/* A connection's wait for a lock another holds (store_db.c, busy_nap). */
struct busy_wait {
	int64_t since;		/* when the wait began (µs, monotonic) */
	int64_t limit_us;	/* how long it may last */
};

struct store {
	const struct db_backend *be;
	struct sqlite3 *db;
	struct pg_store *pg;
	struct db_stmt *s[S_COUNT];
	int tx;			/* a transaction of ours is open */
	int turns;		/* store_turn_end() ends the loop's turns */
	int rtx;		/* the turn's read transaction is open */
	int broken;		/* SQLite dropped it, or an undo failed */
	int marked;		/* inside store_mark() .. store_unmark() */
	int mark_open;		/* the request's savepoint is open */
	struct db_stmt *probe;	/* store_probe()'s write */
	char wal[PATH_MAX];	/* the write-ahead log file */
	int scrub;		/* copies, an account or a case were
				 * deleted, feedback written: a TRUNCATE
				 * checkpoint is due after the commit
				 * (store_checkpoint) */
	int wal_frames;		/* the -wal's frames after the last commit */
	int wal_asked;		/* its frames when a passive checkpoint was
				 * last asked for */
	int wal_bound;		/* its frames when the loop starts it over
				 * (wal_restart) */
	int64_t commits;	/* commits made (store_commit_seq), and on
				 * PostgreSQL reads (db_read_seen) */
	int64_t asked;		/* the newest commit asked a sync for (the
				 * loop's own copy of want) */
	struct busy_wait busy;	/* the loop's connection's (busy_nap) */
	/* The store thread (store_db.c, "Durability"): it alone makes
	 * commits durable (be->sync); SQLite's checkpoints are the
	 * checkpoint thread's. The fields below sync_mu are under it. */
	pthread_t sync_thread;
	int sync_started;
	pthread_t ckpt_thread;
	int ckpt_started;
	int wal_fd;		/* the store thread's own descriptor of the
				 * -wal */
	struct sqlite3 *ckpt_db; /* the checkpoint thread's connection */
	struct busy_wait ckpt_busy; /* its busy_nap's */
	void (*on_durable)(void); /* called by the thread after each sync */
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;	/* the store thread waits for work on it */
	pthread_cond_t ckpt_cv;	/* the checkpoint thread, on it */
	pthread_cond_t done_cv;	/* store_sync() waits on it */
	int64_t want;		/* the newest commit to make durable */
	int64_t durable;	/* the newest commit known to be on disk */
	int ckpt_want;		/* CKPT_PASSIVE | CKPT_TRUNCATE */
	int sync_errno;		/* a sync failed: nothing later is durable */
	int sync_lost;		/* a sync could not be made: the commits
				 * after durable may be lost (store_durable
				 * tells the loop, once) */
	int stopping;
	int full_seen;		/* SQLITE_FULL since the transaction began */
	int lost_seen;		/* the database's connection was lost since
				 * the transaction began (PostgreSQL's) */
	int reconnected;	/* made again since store_reconnected()
				 * last said so (PostgreSQL's) */
	int full;		/* the disk filled up: the spare is given up
				 * and not made again yet (store_full) */
	int64_t room_at;	/* when store_full() last found room (µs,
				 * monotonic) */
	char dir[PATH_MAX];	/* the data directory */
	char spare[PATH_MAX];	/* the spare file (store_db.c) */
};

/*
 * Every helper that takes what names the failure with it in the log (the
 * callers pass __func__), and returns 0 or a negative code of proto/err.h.
 */

/* Resets s and drops its bindings, which point into the caller's memory. */
void db_done(struct db_stmt *s);
/*
 * Logs a failure of what, resets s (when not NULL) and notes whether
 * SQLite rolled back the whole transaction on its own (it does on some
 * I/O, full-disk and out-of-memory errors): then the writes of this turn
 * are gone and store_commit() must not report success. OFR_E_STORAGE_FULL
 * when SQLite says the disk is full (SQLITE_FULL), else OFR_E_INTERNAL.
 */
int db_fail(struct store *st, struct db_stmt *s, const char *what);

/* What the db_bind_* return when they bound (else the backend's error,
 * which db_fail() logs). */
#define DB_OK	0

/* Binds with explicit lengths; DB_OK or the backend's error. The text and
 * blob are not copied: they must outlive the step (db_done() drops them). */
int db_bind_text(struct db_stmt *s, int i, const char *t);
/* Binds text t, or NULL when t is "". */
int db_bind_text_or_null(struct db_stmt *s, int i, const char *t);
/* Binds a row id, or NULL when it is 0 (none). */
int db_bind_ref(struct db_stmt *s, int i, int64_t id);
/* Binds n bytes at p (n 0: an empty blob, never NULL). */
int db_bind_blob(struct db_stmt *s, int i, const void *p, size_t n);
/* Binds an integer, or NULL. */
int db_bind_int64(struct db_stmt *s, int i, int64_t v);
int db_bind_int(struct db_stmt *s, int i, int v);
int db_bind_null(struct db_stmt *s, int i);
/* A row count as an SQL LIMIT. */
int64_t db_limit(size_t max);

/* Runs s to its end and resets it: a row is an error here. */
int db_exec(struct store *st, struct db_stmt *s, const char *what);
/* db_exec() of a statement that must change exactly one row: 0 when it
 * did, none_code when it changed none (or more). */
int db_exec_one(struct store *st, struct db_stmt *s, int none_code,
    const char *what);
/*
 * Like db_exec(), but when a constraint of kind c refuses the statement,
 * returns code: the statement changed nothing, and the transaction goes
 * on.
 */
int db_exec_or(struct store *st, struct db_stmt *s, enum db_constraint c,
    int code, const char *what);
/*
 * Runs s, an INSERT .. RETURNING id: *id is the id of the row it
 * inserted, or 0 when it inserted none (ON CONFLICT DO NOTHING); when a
 * constraint of kind c refuses it, returns code as db_exec_or() does.
 */
int db_insert(struct store *st, struct db_stmt *s, enum db_constraint c,
    int code, int64_t *id, const char *what);
/* The rows changed by the last INSERT, UPDATE or DELETE that ran. */
int64_t db_changes(struct store *st);
/* Steps a statement that gives at most one row: 1 with a row (the caller
 * reads it, then calls db_done()), 0 without (reset already), or
 * OFR_E_INTERNAL. db_get_row() is the way to read one row; this is for
 * a write that returns one. */
int db_row(struct store *st, struct db_stmt *s, const char *what);

/* Copies text column i into buf (capacity cap); -1 when it does not fit. */
int db_col_text(struct db_stmt *s, int i, char *buf, size_t cap);
/* Copies blob column i into buf; -1 unless it is exactly n bytes. */
int db_col_blob(struct db_stmt *s, int i, uint8_t *buf, size_t n);
/* Column i of the current row as it is. db_col_data() points into the
 * statement until its next step or db_done(), NULL for NULL or an empty
 * blob; call it before db_col_bytes(), its length. */
int64_t db_col_int64(struct db_stmt *s, int i);
int db_col_int(struct db_stmt *s, int i);
int db_col_is_null(struct db_stmt *s, int i);
const void *db_col_data(struct db_stmt *s, int i);
int db_col_bytes(struct db_stmt *s, int i);

/* Reads the current row of s into out; -1 when a field breaks the
 * schema's promises. */
typedef int db_reader(struct db_stmt *s, void *out);
/* Reads column 0 into an int64_t. */
int db_int64_col(struct db_stmt *s, void *out);
/*
 * The one get-row helper: binds params to ?1..?n of statement id (the
 * caller may have bound other parameters), steps it once and reads the row
 * into out with read (NULL: only whether there is one); the statement is
 * reset in every case. Returns 0, OFR_E_NOT_FOUND when there is no row,
 * or OFR_E_INTERNAL on a failure of the database or a row that breaks
 * the schema's promises.
 */
int db_get_row(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, db_reader *read, void *out, const char *what);
/* The count(*) of statement id bound to params; no row is a failure. */
int db_count(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, int64_t *count, const char *what);
/* 1 in *yes when statement id bound to params gives a row, else 0. */
int db_exists(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, int *yes, const char *what);

/* Reads the current row of s and hands it on as ctx says; setting *rc
 * non-zero stops the walk. -1 when a field breaks the schema's promises. */
typedef int db_visitor(struct db_stmt *s, void *ctx, int *rc);
/*
 * The one each-row helper, and the store's one re-entrancy guard: when
 * statement id is being stepped already (the caller is a callback of a
 * walk of the same statement, which must not be restarted under it),
 * logs and returns OFR_E_INTERNAL. Else binds params to ?1..?n, calls
 * visit for each row until it sets *rc, and resets the statement.
 * Returns 0 at the end of the rows, the *rc that stopped the walk, or
 * OFR_E_INTERNAL on a failure of the database or a row that breaks the
 * schema's promises.
 */
int db_each_row(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, db_visitor *visit, void *ctx, const char *what);
/* Column 0 of the rows of statement id bound to params, at most max of
 * them into v; *count set. */
int db_ints(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, int64_t *v, size_t max, size_t *count, const char *what);

/* Retention's one shape: the ids statement id selects (bound to before
 * and a limit of max, at most STORE_RETAIN_BATCH) each go through drop,
 * all or none; *n is how many went, and their ids are in gone (when not
 * NULL: room for max). */
int db_drop_batch(struct store *st, enum stmt_id id, int64_t before,
    size_t max, int (*drop)(struct store *st, int64_t id), int64_t *gone,
    size_t *n, const char *what);

/* The one way to run a write of statement id bound to params (?1..?n),
 * after db_write_begin(): *changed (when not NULL) is the rows it
 * changed. */
int db_write(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, int64_t *changed, const char *what);

/* 1 when t (in a buffer of cap bytes) is "" or a token. */
int db_token_or_empty(const char *t, size_t cap);
/* 1 when s (in a buffer of cap bytes) is "," or ",tok,...," of valid
 * tokens: the form frame_token_list() gives and the matching relies on. */
int db_list_ok(const char *s, size_t cap);

/*
 * Every write calls this first: it opens the turn's transaction when none
 * is open (ending the turn's read transaction, if one is), and the
 * request's savepoint when store_mark() asked for one.
 */
int db_write_begin(struct store *st);
/* Opens the savepoint of a call that writes more than one row (after
 * db_write_begin()). */
int db_call_begin(struct store *st);
/* Ends what db_call_begin() opened: keeps the call's writes when rc is 0,
 * undoes them otherwise. Returns rc, or OFR_E_INTERNAL. */
int db_call_end(struct store *st, int rc);

#endif
