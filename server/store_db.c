/*
 * store_db.c: the store's database, one SQLite file at <dir>/offramp.db:
 * opening and closing it, the schema and its migrations (in order, under
 * PRAGMA user_version), every statement prepared once in store_open() from
 * the noun files' tables and finalized in store_close(), the transactions
 * (store_commit, store_rollback, store_mark, store_unmark), and the helpers
 * of store_int.h that the noun files share (through the backend's table,
 * struct db_backend: SQLite's here, PostgreSQL's in store_pg.c, which
 * store_open_url() picks by the URL): binding with explicit lengths,
 * stepping, reading rows, the one re-entrancy guard, and the store thread
 * that makes commits durable ("Durability" below). Writes are grouped:
 * the first write after a commit opens a transaction, store_commit() ends
 * it, one fdatasync of the thread covers every commit made while the one
 * before ran, and every call that writes more than one row does so
 * all or nothing (a savepoint). This file must never edit a migration that
 * has shipped, never give a table a column for a network address, and
 * never let a failed call leave half its writes behind or let a lost
 * transaction pass for a committed one. Deleted means gone from disk:
 * secure_delete zeroes what a delete frees, and a commit that deleted
 * message copies (or an account, a case; or wrote feedback, which its
 * commit alone links to its case) is followed, within a second, by a
 * TRUNCATE checkpoint (store_checkpoint), which never runs inside a
 * transaction and is put off while a reader holds an older snapshot
 * (tried again from 50 ms later on: a second after the reader ends at
 * most).
 */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store_faults.h"
#include "store_vfs.h"
#include "log.h"
#include "metrics.h"
#include "proto/err.h"
#include "store_int.h"

#define DB_NAME		"offramp.db"
/*
 * The spare file: SPARE_BYTES of disk held at <dir>/offramp.spare while
 * there is room, and given up (deleted) the moment SQLite says the disk is
 * full, or before a commit when less room than it holds is left (one
 * statvfs), so that acks, which delete copies, can still commit (a delete
 * writes to the -wal too: secure_delete zeroes each freed page, up to
 * ~4.5 MiB for one msg.ack of 256 copies of 16 KiB). From then on the
 * store is full (store_full): msg.send is refused with storage_full, so
 * that the room goes to acks, until the spare can be made again after a
 * commit.
 */
#define SPARE_NAME	"offramp.spare"
#define SPARE_BYTES	(8 * 1024 * 1024)
#define BUSY_MS		5000
/* What a deleted copy leaves on disk (README, "Deleted means gone"): the
 * -wal is emptied by a TRUNCATE checkpoint after a commit that deleted
 * copies, at most one every SCRUB_GAP_US (each one costs syncs, and the
 * loop's connection reads every page it needs again after it), and every
 * 30 s (jobs.c); between, a passive checkpoint runs each time it has
 * grown by WAL_AUTO_PAGES pages (2 MiB of 4 KiB pages), and it is cut
 * back to WAL_LIMIT_BYTES whenever it is reset. A passive checkpoint
 * resets nothing under a steady load (the loop's next commit comes
 * before the checkpoint has copied the last: "Durability"), so the loop
 * itself starts a -wal of WAL_BOUND_PAGES over (wal_restart): 12 MiB of
 * pages, so that with the frames of a turn of a light load (a burst of
 * messages from one client) it stays within WAL_LIMIT_BYTES. Each
 * RESTART waits for the disk (three syncs): at 4 MiB the loop made
 * four times as many (README, "Benchmarks"). While the disk is full
 * the bound is WAL_FULL_PAGES, 3 MiB: a -wal cut by a TRUNCATE grows
 * again into new blocks, and those come out of the room the spare gave
 * back (SPARE_BYTES). The checkpoint thread runs the other kinds
 * (CKPT_*). */
#define WAL_LIMIT_BYTES	16777216	/* 16 MiB */
#define WAL_AUTO_PAGES	512
#define WAL_BOUND_PAGES	(WAL_LIMIT_BYTES / 4096 * 3 / 4)
#define WAL_FULL_PAGES	(3 * 1024 * 1024 / 4096)
/* The room the spare is made (again) in, at start and after a full disk:
 * for it twice over (else the next write would fill it at once, and the
 * next ack find no room) and for a whole -wal (the room counted may be
 * that of a -wal a TRUNCATE just cut, which grows back to
 * WAL_LIMIT_BYTES once the disk is not full: without it, the spare came
 * back and went again about once a second). */
#define SPARE_ROOM	(2 * (uint64_t)SPARE_BYTES + WAL_LIMIT_BYTES)
_Static_assert(SPARE_ROOM == (uint64_t)STORE_FULL_ROOM_MIB << 20,
    "store.h says the room the spare comes back in");
_Static_assert(WAL_FULL_PAGES < WAL_BOUND_PAGES &&
    WAL_FULL_PAGES * 4096 < SPARE_BYTES / 2, "the full disk's bound is the "
    "smaller, and leaves half the spare's room to a turn's frames");
#define SCRUB_GAP_US	1000000		/* 1 s */
#define TRUNCATE_RETRY_US 50000		/* 50 ms */
/* A connection that finds the database locked waits in naps of BUSY_NAP_US
 * (SQLite's own busy timeout sleeps 1, 2, 5, 10 ms and on: a loop that
 * waits for a checkpoint of a millisecond would sleep up to ten): the
 * loop's for BUSY_MS at most, the checkpoint thread's for CKPT_WAIT_US,
 * enough to find the gap between two of the loop's turns. */
#define BUSY_NAP_US	100
#define CKPT_WAIT_US	20000		/* 20 ms */
/* The VFS of the database's connections (store_vfs.c). */
#define DB_VFS		STORE_VFS
#define CKPT_PASSIVE	1
#define CKPT_TRUNCATE	2

static int sync_start(struct store *st, const char *path);
static int busy_nap(void *arg, int count);
static void wal_restart(struct store *st);
static void wal_started_over(struct store *st);
static void cond_init_monotonic(pthread_cond_t *cv);
static int lite_sync(struct store *st);
#define STR(x)		STR_(x)
#define STR_(x)		#x

/*
 * Migrations, in order: migrations[i] takes PRAGMA user_version from i to
 * i + 1, in one transaction. Never edit one that has shipped; append.
 *
 * Notes on version 1:
 * - No table has a column for a network address, and none may get one.
 * - invites.used_at is NULL until the invite is taken, then the time it
 *   was taken. The account it becomes does not exist yet at that moment
 *   (it is created next, in the same request's savepoint), so no account
 *   id is recorded: a magic "-1" would be a lie the schema cannot check.
 * - invites.created_by is NULL for the bootstrap invite (the API's 0), so
 *   that every other value can be a real foreign key.
 * - cases_one_open makes "one open case per client" a fact of the schema.
 * - Indexes are those the store's statements use, and no more: each one
 *   costs every insert (EXPLAIN QUERY PLAN shows which one serves which).
 * - messages hold no content, only (sender, mid) for dedup; the copies in
 *   deliveries are deleted as their recipients ack them (since version
 *   11 the dedup record is sent's, and a message goes with its last
 *   copy). AUTOINCREMENT
 *   keeps a seq from ever being reused after a delete.
 * - A case is open while waiting (1), active (2) or paused (4); every
 *   statement that means "open" says status IN (1, 2, 4), the very words
 *   of cases_one_open, so that the planner can use that index.
 *
 * Notes on version 3:
 * - counsellor_profiles.available (1/0) becomes presence (2 online /
 *   1 away) and is dropped. Enumerations are match.h's; NULL text is "not
 *   stated", hours NULL is "any time".
 * - cases keep the client's intake (urgency, chosen programme, stated
 *   preferences), what the chosen counsellor met, and the time of the
 *   counsellor's first message (for pool figures: no content).
 * - The queue is read in (urgency DESC, queued) order: cases_queue
 *   replaces cases_waiting.
 * - case_notes hold ciphertext only, which the server cannot read.
 * - audit is append-only in the database itself: triggers abort every
 *   UPDATE and DELETE, whoever sends them. AUTOINCREMENT: ids only grow.
 */
static const char *const migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE programmes ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  key BLOB NOT NULL UNIQUE CHECK (length(key) = 32),"
	"  role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),"
	"  programme_id INTEGER REFERENCES programmes(id),"
	"  name TEXT NOT NULL,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX accounts_role ON accounts(role);"
	"CREATE TABLE counsellor_profiles ("
	"  account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
	"  languages TEXT NOT NULL DEFAULT ',',"
	"  topics TEXT NOT NULL DEFAULT ',',"
	"  capacity INTEGER NOT NULL DEFAULT 5,"
	"  available INTEGER NOT NULL DEFAULT 1,"
	"  last_assigned INTEGER"
	");"
	"CREATE TABLE invites ("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  role INTEGER NOT NULL CHECK (role IN (2, 3)),"
	"  expires INTEGER NOT NULL,"
	"  created_by INTEGER REFERENCES accounts(id),"
	"  used_at INTEGER,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX invites_pending ON invites(programme_id, expires)"
	"  WHERE used_at IS NULL;"
	"CREATE TABLE cases ("
	"  id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 9007199254740991),"
	"  client_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  counsellor_id INTEGER REFERENCES accounts(id),"
	"  status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),"
	"  language TEXT NOT NULL,"
	"  topic TEXT,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  queued INTEGER NOT NULL UNIQUE"	/* order of arrival */
	");"
	"CREATE UNIQUE INDEX cases_one_open ON cases(client_id)"
	"  WHERE status IN (1, 2, 4);"
	"CREATE INDEX cases_counsellor ON cases(counsellor_id, status);"
	"CREATE INDEX cases_waiting ON cases(queued) WHERE status = 1;"
	"CREATE TABLE case_participants ("
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  role INTEGER NOT NULL,"
	"  joined INTEGER NOT NULL,"
	"  PRIMARY KEY (case_id, account_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX case_participants_account"
	"  ON case_participants(account_id);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  sender_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  mid BLOB NOT NULL CHECK (length(mid) = 16),"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (sender_id, mid)"
	");"
	"CREATE INDEX messages_created ON messages(created);"
	"CREATE TABLE deliveries ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  recipient_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  ct BLOB NOT NULL"
	");"
	"CREATE INDEX deliveries_recipient ON deliveries(recipient_id, seq);"
	"CREATE INDEX deliveries_message ON deliveries(message_id);",

	/*
	 * 2: end-to-end sessions. Public prekeys (the secrets never leave the
	 * clients), the public half of each programme's signing key, and the
	 * certificate of each counsellor's key.
	 */
	"ALTER TABLE programmes ADD COLUMN signing_key BLOB"
	"  CHECK (signing_key IS NULL OR length(signing_key) = 32);"
	"ALTER TABLE accounts ADD COLUMN cert BLOB;"
	"CREATE TABLE signed_prekeys ("
	"  account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
	"  spk_id INTEGER NOT NULL,"
	"  spk BLOB NOT NULL CHECK (length(spk) = 32),"
	"  sig BLOB NOT NULL CHECK (length(sig) = 64),"
	"  updated INTEGER NOT NULL"
	");"
	"CREATE TABLE one_time_prekeys ("
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  otk_id INTEGER NOT NULL,"
	"  pk BLOB NOT NULL CHECK (length(pk) = 32),"
	"  PRIMARY KEY (account_id, otk_id)"
	") WITHOUT ROWID;",

	/* 3: profiles, intake, queue order, caseloads, notes, audit. */
	"ALTER TABLE counsellor_profiles ADD COLUMN presence INTEGER NOT NULL"
	"  DEFAULT 2 CHECK (presence BETWEEN 0 AND 2);"
	"UPDATE counsellor_profiles"
	"  SET presence = CASE WHEN available = 1 THEN 2 ELSE 1 END;"
	"ALTER TABLE counsellor_profiles DROP COLUMN available;"
	"ALTER TABLE counsellor_profiles ADD COLUMN gender TEXT;"
	"ALTER TABLE counsellor_profiles ADD COLUMN age_band INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (age_band BETWEEN 0 AND 4);"
	"ALTER TABLE counsellor_profiles ADD COLUMN background INTEGER"
	"  NOT NULL DEFAULT 0 CHECK (background BETWEEN 0 AND 2);"
	"ALTER TABLE counsellor_profiles ADD COLUMN formats INTEGER NOT NULL"
	"  DEFAULT 1 CHECK (formats BETWEEN 0 AND 7);"
	"ALTER TABLE counsellor_profiles ADD COLUMN region TEXT;"
	"ALTER TABLE counsellor_profiles ADD COLUMN hours BLOB"
	"  CHECK (hours IS NULL OR length(hours) = 21);"
	"ALTER TABLE programmes ADD COLUMN description TEXT NOT NULL"
	"  DEFAULT '';"
	"ALTER TABLE programmes ADD COLUMN languages TEXT NOT NULL"
	"  DEFAULT ',';"
	"ALTER TABLE programmes ADD COLUMN topics TEXT NOT NULL DEFAULT ',';"
	"ALTER TABLE programmes ADD COLUMN regions TEXT NOT NULL DEFAULT ',';"
	"ALTER TABLE programmes ADD COLUMN formats INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (formats BETWEEN 0 AND 7);"
	"ALTER TABLE cases ADD COLUMN urgency INTEGER NOT NULL DEFAULT 1"
	"  CHECK (urgency BETWEEN 0 AND 2);"
	/* the programme the client chose; NULL: any */
	"ALTER TABLE cases ADD COLUMN programme_id INTEGER"
	"  REFERENCES programmes(id);"
	"ALTER TABLE cases ADD COLUMN pref_gender TEXT;"
	"ALTER TABLE cases ADD COLUMN pref_age INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN pref_background INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN pref_format INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN pref_region TEXT;"
	"ALTER TABLE cases ADD COLUMN asked INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN met INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN first_response INTEGER;"
	/* The counsellor a client asked to leave: never matched back. */
	"ALTER TABLE cases ADD COLUMN left_counsellor INTEGER"
	"  REFERENCES accounts(id);"
	"DROP INDEX cases_waiting;"
	"CREATE INDEX cases_queue ON cases(urgency DESC, queued)"
	"  WHERE status = 1;"
	"CREATE TABLE case_notes ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  author_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  ct BLOB NOT NULL,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX case_notes_author ON case_notes(case_id, author_id, id);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  actor_id INTEGER REFERENCES accounts(id),"
	"  action TEXT NOT NULL,"
	"  target_id INTEGER REFERENCES accounts(id),"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX audit_programme ON audit(programme_id, id);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",

	/*
	 * 4: what a programme's signing key signs besides certificates
	 * (CRYPTO.md, "Programme keys"): its rotations in order, its newest
	 * revocation list, and the partner statements it made. Signed bytes
	 * only: the server checks them and serves them; clients check again.
	 */
	"CREATE TABLE programme_rotations ("
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  seq INTEGER NOT NULL,"
	"  new_key BLOB NOT NULL CHECK (length(new_key) = 32),"
	"  statement BLOB NOT NULL,"
	"  PRIMARY KEY (programme_id, seq)"
	") WITHOUT ROWID;"
	"CREATE TABLE programme_revocations ("
	"  programme_id INTEGER PRIMARY KEY REFERENCES programmes(id),"
	"  issued INTEGER NOT NULL,"
	"  list BLOB NOT NULL"
	");"
	"CREATE TABLE programme_partners ("
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  partner_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  statement BLOB NOT NULL,"
	"  PRIMARY KEY (partner_id, programme_id)"
	") WITHOUT ROWID;",

	/*
	 * 5: retention (PRIVACY.md, "Retention"). accounts.seen is a
	 * client's last login (NULL: none since its creation): an idle
	 * client is one with no case and no login for a while. The indexes
	 * are those of the retention job's statements (closed cases by the
	 * time they closed, a case's messages). The audit log stays
	 * append-only but is trimmed from its oldest entry: a delete of any
	 * other entry, or of the newest, is refused, so what is kept is
	 * always the newest entries, without a gap, and never nothing (a
	 * plain DELETE FROM audit fails as a whole).
	 */
	"ALTER TABLE accounts ADD COLUMN seen INTEGER;"
	"CREATE INDEX cases_closed ON cases(updated) WHERE status = 3;"
	"CREATE INDEX messages_case ON messages(case_id);"
	"DROP TRIGGER audit_no_delete;"
	"CREATE TRIGGER audit_trim_only BEFORE DELETE ON audit"
	"  WHEN OLD.id != (SELECT min(id) FROM audit)"
	"  OR OLD.id = (SELECT max(id) FROM audit)"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: it is"
	" trimmed from its oldest entry, never to nothing'); END;",

	/*
	 * 6: what is not needed is not kept (PRIVACY.md, "What the server
	 * stores"). A case's intake (urgency, stated preferences) is needed
	 * while it is open: the queue's order, and matching again on
	 * case.reassign or when its counsellor is disabled. Closing a case
	 * clears it (S_CASE_CLOSE); so here, for the cases closed already.
	 */
	"UPDATE cases SET urgency = 1, pref_gender = NULL, pref_age = 0,"
	"  pref_background = 0, pref_format = 0, pref_region = NULL"
	"  WHERE status = 3;",

	/*
	 * 7: one-time prekey ids are random (chosen by the clients), so
	 * they cannot give out the order of upload: ord does, for this
	 * account's keys on the server (1 + the greatest of them; the keys
	 * there before keep their ids' order). Keys are given out oldest
	 * first, before the clients forget their secrets.
	 */
	"ALTER TABLE one_time_prekeys ADD COLUMN ord INTEGER NOT NULL"
	"  DEFAULT 0;"
	"UPDATE one_time_prekeys SET ord = otk_id;",

	/*
	 * 8: times no rule reads to the second are kept no closer than
	 * needed (PRIVACY.md): a note's time to the minute (its author is
	 * shown it), the creation of a programme or an invite and the
	 * upload of a signed prekey to the day (nothing reads them).
	 */
	"UPDATE case_notes SET created = created - created % 60;"
	"UPDATE programmes SET created = created - created % 86400;"
	"UPDATE invites SET created = created - created % 86400;"
	"UPDATE signed_prekeys SET updated = updated - updated % 86400;",

	/*
	 * 9: erasure (PRIVACY.md, "Erasure"). A deleted counsellor's
	 * account row goes, but the audit log, which may not change, names
	 * it as actor or target: audit.actor_id and target_id become plain
	 * numbers, no longer foreign keys (an entry keeps the number of an
	 * account that may be gone). The table is rebuilt with its rows, its
	 * index and its trigger; dropping it fires no trigger. audit_target
	 * lets a new account's id pass every number the log names, so that
	 * a gone counsellor's number is never given to another account.
	 */
	"CREATE TABLE audit_new ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  actor_id INTEGER,"
	"  action TEXT NOT NULL,"
	"  target_id INTEGER,"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL"
	");"
	"INSERT INTO audit_new SELECT id, programme_id, actor_id, action,"
	"  target_id, detail, created FROM audit;"
	"DROP TABLE audit;"
	"ALTER TABLE audit_new RENAME TO audit;"
	"CREATE INDEX audit_programme ON audit(programme_id, id);"
	"CREATE INDEX audit_target ON audit(target_id);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_trim_only BEFORE DELETE ON audit"
	"  WHEN OLD.id != (SELECT min(id) FROM audit)"
	"  OR OLD.id = (SELECT max(id) FROM audit)"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: it is"
	" trimmed from its oldest entry, never to nothing'); END;",

	/*
	 * 10: anonymous feedback (PRIVACY.md, "Feedback"). cases.feedback
	 * is 1 once the case's client gave feedback: it goes with the case.
	 * A feedback row names no case and no account, and keeps its time
	 * only as its week (the Unix time of its Monday, 00:00 UTC; the
	 * CHECK holds it to a Monday). Its id is random and the table has
	 * no rowid: rows are kept, and read, in the order of (programme,
	 * week, random id), never in the order they came. sealed is the
	 * text sealed to each admin, (admin key || sealed box) per admin,
	 * or NULL without text.
	 */
	"ALTER TABLE cases ADD COLUMN feedback INTEGER NOT NULL DEFAULT 0"
	"  CHECK (feedback IN (0, 1));"
	"CREATE TABLE feedback ("
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  week INTEGER NOT NULL CHECK (week % 604800 = 345600),"
	"  id BLOB NOT NULL CHECK (length(id) = 16),"
	"  helpful INTEGER CHECK (helpful IN (0, 1)),"
	"  recommend INTEGER CHECK (recommend IN (0, 1)),"
	"  sealed BLOB,"
	"  PRIMARY KEY (programme_id, week, id)"
	") WITHOUT ROWID;",

	/*
	 * 11: the record of a send (sent: sender, mid, time) for the dedup
	 * of a retried send, apart from the message (messages: its case, for
	 * its copies), so that dedup keeps no link to a case (PRIVACY.md).
	 * A message now goes with its last copy (the trigger), whoever
	 * deletes that copy: an ack, expiry, a case or an account deleted;
	 * its record of the send stays a day (the purge job). Existing
	 * records move over, and messages with no copy left go.
	 */
	"CREATE TABLE sent ("
	"  sender_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  mid BLOB NOT NULL CHECK (length(mid) = 16),"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (sender_id, mid)"
	") WITHOUT ROWID;"
	"CREATE INDEX sent_created ON sent(created);"
	"INSERT INTO sent SELECT sender_id, mid, created FROM messages;"
	"DELETE FROM messages WHERE NOT EXISTS"
	"  (SELECT 1 FROM deliveries d WHERE d.message_id = messages.id);"
	"CREATE TRIGGER messages_last_copy AFTER DELETE ON deliveries"
	"  WHEN NOT EXISTS (SELECT 1 FROM deliveries d"
	"  WHERE d.message_id = OLD.message_id)"
	"  BEGIN DELETE FROM messages WHERE id = OLD.message_id; END;",

	/*
	 * 12: a programme's intake code (PROTOCOL.md, "Intake codes"),
	 * kept as its keyed BLAKE2b hash (intake.c), never in the clear;
	 * NULL: the programme asks for none.
	 */
	"ALTER TABLE programmes ADD COLUMN intake_hash BLOB"
	"  CHECK (intake_hash IS NULL OR length(intake_hash) = 32);",

	/*
	 * 13: partnerships between programmes (PROTOCOL.md,
	 * "Partnerships"). A proposal keeps the proposer's signed partner
	 * statement; acceptance adds the partner's, and both go to
	 * programme_partners, which is what programme.get serves. At most one
	 * proposed or active partnership per pair of programmes, whichever
	 * proposed (partnerships_open). An ended one keeps when and by whom
	 * (the newest of a pair only). External partners are a programme's
	 * directory entries for partners not on this server: no client data.
	 */
	"CREATE TABLE partnerships ("
	"  id INTEGER PRIMARY KEY,"
	"  proposer_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  partner_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  status INTEGER NOT NULL CHECK (status IN (0, 1, 2)),"
	"  proposer_statement BLOB NOT NULL"
	"    CHECK (length(proposer_statement) = 129),"
	"  partner_statement BLOB"
	"    CHECK (partner_statement IS NULL OR"
	"    length(partner_statement) = 129),"
	"  created INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  ended_by INTEGER REFERENCES programmes(id),"
	"  CHECK (proposer_id != partner_id)"
	");"
	"CREATE UNIQUE INDEX partnerships_open ON partnerships("
	"  min(proposer_id, partner_id), max(proposer_id, partner_id))"
	"  WHERE status < 2;"
	"CREATE INDEX partnerships_proposer ON partnerships(proposer_id);"
	"CREATE INDEX partnerships_partner ON partnerships(partner_id);"
	"CREATE TABLE external_partners ("
	"  id INTEGER PRIMARY KEY,"
	"  programme_id INTEGER NOT NULL REFERENCES programmes(id),"
	"  name TEXT NOT NULL,"
	"  regions TEXT NOT NULL,"
	"  formats INTEGER NOT NULL CHECK (formats BETWEEN 0 AND 7),"
	"  topics TEXT NOT NULL,"
	"  contact TEXT NOT NULL"
	");"
	"CREATE INDEX external_partners_programme"
	"  ON external_partners(programme_id, id);",

	/*
	 * 14: a case's membership (PROTOCOL.md, "Co-counselling").
	 * cases.members is the membership version, one up per join or
	 * leave. A participant's kind (0: the client or the assigned
	 * counsellor; 1 supervisor, 2 co-counsellor, 3 language helper),
	 * since (the version it joined at: 0 for the case's own) and seen
	 * (the version its client confirmed it has shown): a participant
	 * whose since is above another's seen is still joining, and
	 * nothing may be sent to it. case_members is the history, one row
	 * per stay (times, and why it ended: member_why), so that a message
	 * of a participant who has left is still checked by its recipients;
	 * it goes with its case, or with its account. Those in cases now
	 * are its first rows.
	 */
	"ALTER TABLE cases ADD COLUMN members INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE case_participants ADD COLUMN kind INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (kind BETWEEN 0 AND 3);"
	"ALTER TABLE case_participants ADD COLUMN since INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE case_participants ADD COLUMN seen INTEGER NOT NULL"
	"  DEFAULT 0;"
	"CREATE TABLE case_members ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
	"  joined_at INTEGER NOT NULL,"
	"  left_at INTEGER,"
	"  why INTEGER CHECK (why IS NULL OR why BETWEEN 1 AND 5)"
	");"
	"CREATE INDEX case_members_case ON case_members(case_id, left_at);"
	"CREATE INDEX case_members_account ON case_members(account_id);"
	"INSERT INTO case_members(case_id, account_id, kind, joined_at)"
	"  SELECT p.case_id, p.account_id, 0, c.created"
	"  FROM case_participants p JOIN cases c ON c.id = p.case_id;",

	/*
	 * 15: referrals to a partner programme (PROTOCOL.md, "Referrals").
	 * One row per proposal: the case, the two programmes, the partner's
	 * counsellor once chosen, the status (enum referral_status), its
	 * times, and the BLAKE2b-256 digest of the handover summary the
	 * client approved (the summary itself is only ever ciphertext).
	 * No reason, no offer: those go to the client encrypted. At most
	 * one proposed or accepted referral per case (referrals_open). The
	 * rows go with their case.
	 */
	"CREATE TABLE referrals ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  from_programme INTEGER NOT NULL REFERENCES programmes(id),"
	"  to_programme INTEGER NOT NULL REFERENCES programmes(id),"
	"  receiver_id INTEGER,"
	"  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 5),"
	"  proposed INTEGER NOT NULL,"
	"  answered INTEGER,"
	"  completed INTEGER,"
	"  digest BLOB CHECK (digest IS NULL OR length(digest) = 32),"
	"  summary_sent INTEGER NOT NULL DEFAULT 0,"
	"  CHECK (from_programme != to_programme)"
	");"
	"CREATE UNIQUE INDEX referrals_open ON referrals(case_id)"
	"  WHERE status < 2;"
	"CREATE INDEX referrals_from ON referrals(from_programme, proposed);"
	"CREATE INDEX referrals_to ON referrals(to_programme, proposed);"
	"CREATE INDEX referrals_waiting ON referrals(proposed)"
	"  WHERE status = 1 AND receiver_id IS NULL;",

	/*
	 * 16: a case its counsellor referred to an external partner
	 * (PROTOCOL.md, `case.referred`): only that it was, for the
	 * programme's figures; to whom is in the encrypted card alone.
	 */
	"ALTER TABLE cases ADD COLUMN referred_external INTEGER NOT NULL"
	"  DEFAULT 0 CHECK (referred_external IN (0, 1));",

	/*
	 * 17: fewer pages written per message (issue 16; bench_pages
	 * counts them). messages loses UNIQUE (sender_id, mid): sent's key
	 * already makes a retried send a dup before its message is
	 * inserted (store_message_insert), and that index put each random
	 * mid on a random page, on insert and again on the last copy's
	 * delete. SQLite cannot drop a table's constraint, so both tables
	 * are made again (deliveries first, which refers to messages), rows,
	 * indexes, trigger and the seq counter carried over: AUTOINCREMENT
	 * stays, for a seq is never reused, not even after a restart, while
	 * a client may still ack it or hold a cursor past it.
	 */
	"CREATE TABLE messages_17 ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  sender_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  mid BLOB NOT NULL CHECK (length(mid) = 16),"
	"  created INTEGER NOT NULL"
	");"
	"INSERT INTO messages_17 SELECT id, case_id, sender_id, mid, created"
	"  FROM messages;"
	"CREATE TABLE deliveries_17 ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  message_id INTEGER NOT NULL REFERENCES messages_17(id),"
	"  recipient_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  ct BLOB NOT NULL"
	");"
	"INSERT INTO deliveries_17 SELECT seq, message_id, recipient_id, ct"
	"  FROM deliveries;"
	"INSERT INTO sqlite_sequence(name, seq) SELECT 'deliveries_17', seq"
	"  FROM sqlite_sequence WHERE name = 'deliveries'"
	"  AND NOT EXISTS (SELECT 1 FROM sqlite_sequence"
	"  WHERE name = 'deliveries_17');"
	"UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq"
	"  FROM sqlite_sequence WHERE name = 'deliveries'))"
	"  WHERE name = 'deliveries_17';"
	"DROP TABLE deliveries;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_17 RENAME TO messages;"
	"ALTER TABLE deliveries_17 RENAME TO deliveries;"
	"CREATE INDEX messages_created ON messages(created);"
	"CREATE INDEX messages_case ON messages(case_id);"
	"CREATE INDEX deliveries_recipient ON deliveries(recipient_id, seq);"
	"CREATE INDEX deliveries_message ON deliveries(message_id);"
	"CREATE TRIGGER messages_last_copy AFTER DELETE ON deliveries"
	"  WHEN NOT EXISTS (SELECT 1 FROM deliveries d"
	"  WHERE d.message_id = OLD.message_id)"
	"  BEGIN DELETE FROM messages WHERE id = OLD.message_id; END;",

	/*
	 * 18: a participant's stay may end because the partnership of its
	 * referral ended (member_why LEFT_PARTNERSHIP, 6). SQLite cannot
	 * change a CHECK: case_members is made again, rows and indexes
	 * carried over.
	 */
	"CREATE TABLE case_members_18 ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
	"  joined_at INTEGER NOT NULL,"
	"  left_at INTEGER,"
	"  why INTEGER CHECK (why IS NULL OR why BETWEEN 1 AND 6)"
	");"
	"INSERT INTO case_members_18 SELECT id, case_id, account_id, kind,"
	"  joined_at, left_at, why FROM case_members;"
	"DROP TABLE case_members;"
	"ALTER TABLE case_members_18 RENAME TO case_members;"
	"CREATE INDEX case_members_case ON case_members(case_id, left_at);"
	"CREATE INDEX case_members_account ON case_members(account_id);",

	/*
	 * 19: an accepted referral holds a place in its partner
	 * counsellor's caseload from the join on (store_accounts.c,
	 * COUNSELLOR_OPEN): its referrals, found by this index.
	 */
	"CREATE INDEX referrals_receiver ON referrals(receiver_id)"
	"  WHERE status = 1;",

	/*
	 * 20: an account's id is never given again, not even the id of one
	 * deleted while it was the newest (a client erased, or deleted by
	 * retention): the largest id of an account deleted, kept by a
	 * trigger of the delete (a new login writes nothing more), and a new
	 * id is past it and past every id in use (store_accounts.c,
	 * S_ACCOUNT_INSERT). Whatever still knew the old account (a
	 * connection, another node) never acts for a new one.
	 */
	"CREATE TABLE account_ids (last INTEGER NOT NULL);"
	"INSERT INTO account_ids SELECT max("
	"  coalesce((SELECT max(id) FROM accounts), 0),"
	"  coalesce((SELECT max(target_id) FROM audit), 0));"
	"CREATE TRIGGER accounts_last AFTER DELETE ON accounts BEGIN"
	"  UPDATE account_ids SET last = OLD.id WHERE last < OLD.id;"
	"END;",

	/*
	 * 21: a copy carries its message's ids (issue 16: fewer B-trees
	 * written per message). messages kept a message's case, sender,
	 * mid and time once for all its copies, in three B-trees of its
	 * own (the table, by time, by case), a fourth in deliveries (by
	 * message) and a trigger that read it at every ack; most messages
	 * have one copy. Now each copy holds them, and goes whole on its
	 * ack. Indexes: by recipient (delivery), time (keep-unacked), case
	 * (a case deleted; its foreign key) and sender and mid (an account
	 * deleted, its foreign key: messages had none, and an account's
	 * delete read the whole table; the purge's look for a copy of a
	 * record's message). The seq counter carried
	 * over as in 17. A copy whose message row is missing (only in a
	 * store edited with foreign keys off) was never delivered (the
	 * reads joined messages) and is not carried.
	 */
	"CREATE TABLE deliveries_21 ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  recipient_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  sender_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  mid BLOB NOT NULL CHECK (length(mid) = 16),"
	"  created INTEGER NOT NULL,"
	"  ct BLOB NOT NULL"
	");"
	"INSERT INTO deliveries_21 SELECT d.seq, d.recipient_id, m.case_id,"
	"  m.sender_id, m.mid, m.created, d.ct"
	"  FROM deliveries d JOIN messages m ON m.id = d.message_id;"
	"INSERT INTO sqlite_sequence(name, seq) SELECT 'deliveries_21', seq"
	"  FROM sqlite_sequence WHERE name = 'deliveries'"
	"  AND NOT EXISTS (SELECT 1 FROM sqlite_sequence"
	"  WHERE name = 'deliveries_21');"
	"UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq"
	"  FROM sqlite_sequence WHERE name = 'deliveries'))"
	"  WHERE name = 'deliveries_21';"
	"DROP TABLE deliveries;"
	"DROP TABLE messages;"
	"ALTER TABLE deliveries_21 RENAME TO deliveries;"
	"CREATE INDEX deliveries_recipient ON deliveries(recipient_id, seq);"
	"CREATE INDEX deliveries_created ON deliveries(created);"
	"CREATE INDEX deliveries_case ON deliveries(case_id);"
	"CREATE INDEX deliveries_sender ON deliveries(sender_id, mid);",
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(*migrations)))

/* This file's statements: the transaction, and its savepoints. */
static const char *const db_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	/* The reads of a turn outside its writes (read_begin). */
	[S_READ_BEGIN] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* One request (store_mark) and one call, nested inside it. */
	[S_MARK] = "SAVEPOINT request",
	[S_MARK_RELEASE] = "RELEASE request",
	[S_MARK_UNDO] = "ROLLBACK TO request",
	[S_CALL] = "SAVEPOINT call",
	[S_CALL_RELEASE] = "RELEASE call",
	[S_CALL_UNDO] = "ROLLBACK TO call",
	/* The database's size (store_size). */
	[S_PAGE_COUNT] = "PRAGMA page_count",
	[S_PAGE_SIZE] = "PRAGMA page_size",
};

/*
 * The statements of every file, by id: each noun file holds the SQL of its
 * own statements in a table indexed by enum stmt_id (store_int.h), and
 * this list is where the tables are registered.
 */
static const char *const *const sql_tables[] = {
	db_sql,		/* the backend's own: store_pg.c has its own */
	store_accounts_sql,
	store_invites_sql,
	store_cases_sql,
	store_messages_sql,
	store_keys_sql,
	store_programmes_sql,
	store_audit_sql,
	store_feedback_sql,
	store_referrals_sql,
};

const char *
db_sql_of(const char *const *own, int id)
{
	const char *text = own[id];

	for (size_t t = 1; t < nitems(sql_tables); t++) {
		if (sql_tables[t][id] == NULL)
			continue;
		if (text != NULL)
			return NULL;
		text = sql_tables[t][id];
	}
	return text;
}

/* Makes the spare file (SPARE_BYTES, allocated and synced): 0, or -1
 * with none left behind (no room). */
static int
spare_make(struct store *st)
{
	int fd = open(st->spare, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);

	if (fd < 0)
		return -1;
	if (posix_fallocate(fd, 0, SPARE_BYTES) == 0 && fsync(fd) == 0) {
		close(fd);
		return 0;
	}
	close(fd);
	(void)unlink(st->spare);
	return -1;
}

/* The disk is full: the spare goes, its room is for acks (SPARE_NAME),
 * and the loop starts the -wal over at WAL_FULL_PAGES. */
static void
spare_give_up(struct store *st)
{
	if (st->full)
		return;
	st->full = 1;
	if (st->wal_bound > WAL_FULL_PAGES)
		st->wal_bound = WAL_FULL_PAGES;
	if (unlink(st->spare) != 0 && errno != ENOENT)
		log_warn("store: cannot remove %s: %s", st->spare,
		    strerror(errno));
	log_warn("store: the disk is full: %s is given up so that acks can "
	    "free room; msg.send is refused (storage_full) until %d MiB are "
	    "free again", st->spare, (int)(SPARE_ROOM >> 20));
}

/* The bytes free on the data directory's file system (UINT64_MAX when
 * unknown). */
static uint64_t
room(const struct store *st)
{
	struct statvfs vfs;

	if (statvfs(st->dir, &vfs) != 0)
		return UINT64_MAX;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize;
}

/* Before a write can fail: with less room than the spare holds, the disk
 * is as good as full, and the spare goes now. */
static void
spare_check(struct store *st)
{
	if (!st->full && room(st) < SPARE_BYTES)
		spare_give_up(st);
}

/* 1 when the spare file is there with all its SPARE_BYTES allocated (not
 * short, not sparse, not a link). */
static int
spare_whole(const struct store *st)
{
	struct stat sb;

	return lstat(st->spare, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size >= SPARE_BYTES &&
	    (uint64_t)sb.st_blocks * 512 >= (uint64_t)SPARE_BYTES;
}

/* After a commit: while full, makes the spare again once the disk has
 * SPARE_ROOM free. */
static void
spare_retry(struct store *st)
{
	if (!st->full || room(st) < SPARE_ROOM || spare_make(st) != 0)
		return;
	st->full = 0;
	log_info("store: room on the disk again: %s is back, msg.send is "
	    "taken again", st->spare);
}

/* lite_full() looks at the disk at most once in ROOM_CHECK_US while
 * there is room (every send would cost a statvfs), at every call while
 * there is none; spare_check() before each commit looks every time. */
#define ROOM_CHECK_US	10000

static int
lite_full(struct store *st)
{
	int64_t now = mono_us();

	if (!st->full && st->room_at != 0 && now - st->room_at < ROOM_CHECK_US)
		return 0;
	spare_check(st);
	spare_retry(st);	/* one statvfs while there is no room */
	st->room_at = st->full ? 0 : now;
	return st->full;
}

/*
 * SQLite's side of the helpers (struct db_backend): a struct db_stmt is
 * the head of a lite_stmt, and lite() is the one place that says so.
 */

struct lite_stmt {
	struct db_stmt head;
	sqlite3_stmt *s;
};

static sqlite3_stmt *
lite(struct db_stmt *s)
{
	return s != NULL ? ((struct lite_stmt *)(void *)s)->s : NULL;
}

static void
lite_done(struct db_stmt *s)
{
	sqlite3_reset(lite(s));
	sqlite3_clear_bindings(lite(s));
}

static int
lite_fail(struct store *st, struct db_stmt *s, const char *what)
{
	int full = (sqlite3_errcode(st->db) & 0xff) == SQLITE_FULL;

	if (s != NULL)
		db_done(s);
	log_err("store: %s: %s", what, sqlite3_errmsg(st->db));
	if (st->tx && sqlite3_get_autocommit(st->db))
		st->broken = 1;
	if (!full)
		return OFR_E_INTERNAL;
	st->full_seen = 1;
	spare_give_up(st);
	return OFR_E_STORAGE_FULL;
}

static int
lite_bind_text(struct db_stmt *s, int i, const char *t, size_t n)
{
	if (n > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(lite(s), i, t, (int)n, SQLITE_STATIC);
}

static int
lite_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	if (n > INT_MAX)
		return SQLITE_TOOBIG;
	if (n == 0)	/* a NULL pointer would bind NULL */
		return sqlite3_bind_zeroblob(lite(s), i, 0);
	return sqlite3_bind_blob(lite(s), i, p, (int)n, SQLITE_STATIC);
}

static int
lite_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(lite(s), i, v);
}

static int
lite_bind_null(struct db_stmt *s, int i)
{
	return sqlite3_bind_null(lite(s), i);
}

/* The extended result code of a refusal by constraint c; 0 for none. */
static int
constraint_code(enum db_constraint c)
{
	switch (c) {
	case DB_UNIQUE:
		return SQLITE_CONSTRAINT_UNIQUE;
	case DB_FOREIGN_KEY:
		return SQLITE_CONSTRAINT_FOREIGNKEY;
	case DB_NONE:
		break;
	}
	return 0;
}

static int
lite_step(struct store *st, struct db_stmt *s, enum db_constraint c, int code,
    const char *what)
{
	int ext = constraint_code(c);
	int rc = sqlite3_step(lite(s));

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		db_done(s);
		return 0;
	}
	if (rc == SQLITE_CONSTRAINT && ext != 0 &&
	    sqlite3_extended_errcode(st->db) == ext) {
		db_done(s);
		return code;
	}
	return db_fail(st, s, what);
}

static int
lite_busy(struct db_stmt *s)
{
	return sqlite3_stmt_busy(lite(s));
}

static int64_t
lite_changes(struct store *st)
{
	return sqlite3_changes64(st->db);
}

static int64_t
lite_col_int64(struct db_stmt *s, int i)
{
	return sqlite3_column_int64(lite(s), i);
}

static int
lite_col_is_null(struct db_stmt *s, int i)
{
	return sqlite3_column_type(lite(s), i) == SQLITE_NULL;
}

static const void *
lite_col_data(struct db_stmt *s, int i)
{
	return sqlite3_column_blob(lite(s), i);
}

static int
lite_col_bytes(struct db_stmt *s, int i)
{
	return sqlite3_column_bytes(lite(s), i);
}

static int
lite_in_tx(struct store *st)
{
	return st->db != NULL && !sqlite3_get_autocommit(st->db);
}

static int lite_commit(struct store *st);
static void lite_close(struct store *st);

static const struct db_backend lite_backend = {
	.name = "sqlite",
	.done = lite_done,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.bind_int64 = lite_bind_int64,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.busy = lite_busy,
	.changes = lite_changes,
	.col_int64 = lite_col_int64,
	.col_is_null = lite_col_is_null,
	.col_data = lite_col_data,
	.col_bytes = lite_col_bytes,
	.fail = lite_fail,
	.in_tx = lite_in_tx,
	.commit = lite_commit,
	.close = lite_close,
	.full = lite_full,
	.sync = lite_sync,
};

/* A new statement of SQLite's around s (NULL: out of memory, s
 * finalized). */
static struct db_stmt *
lite_wrap(sqlite3_stmt *s)
{
	struct lite_stmt *ls = malloc(sizeof(*ls));

	if (ls == NULL) {
		sqlite3_finalize(s);
		return NULL;
	}
	ls->head.be = &lite_backend;
	ls->s = s;
	return &ls->head;
}

static void
lite_free(struct db_stmt *s)
{
	sqlite3_finalize(lite(s));
	free(s);
}

/* The helpers of store_int.h (their contracts are there), through the
 * statement's backend. */

void
db_done(struct db_stmt *s)
{
	s->be->done(s);
}

int
db_fail(struct store *st, struct db_stmt *s, const char *what)
{
	return st->be->fail(st, s, what);
}

int
db_bind_text(struct db_stmt *s, int i, const char *t)
{
	return s->be->bind_text(s, i, t, strlen(t));
}

int
db_bind_text_or_null(struct db_stmt *s, int i, const char *t)
{
	return t[0] != '\0' ? db_bind_text(s, i, t) : db_bind_null(s, i);
}

int
db_bind_ref(struct db_stmt *s, int i, int64_t id)
{
	return id != 0 ? db_bind_int64(s, i, id) : db_bind_null(s, i);
}

int
db_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	return s->be->bind_blob(s, i, p, n);
}

int
db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	return s->be->bind_int64(s, i, v);
}

int
db_bind_int(struct db_stmt *s, int i, int v)
{
	return s->be->bind_int64(s, i, v);
}

int
db_bind_null(struct db_stmt *s, int i)
{
	return s->be->bind_null(s, i);
}

int64_t
db_limit(size_t max)
{
	return max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* Steps s once: 1 with a row, 0 at its end (s reset), code when
 * constraint c refused it (s reset), or db_fail()'s code. */
static int
step_or(struct store *st, struct db_stmt *s, enum db_constraint c, int code,
    const char *what)
{
	return s->be->step(st, s, c, code, what);
}

int
db_exec(struct store *st, struct db_stmt *s, const char *what)
{
	return db_exec_or(st, s, DB_NONE, 0, what);
}

int
db_exec_one(struct store *st, struct db_stmt *s, int none_code,
    const char *what)
{
	int rc;

	if ((rc = db_exec(st, s, what)) != 0)
		return rc;
	return db_changes(st) == 1 ? 0 : none_code;
}

int
db_exec_or(struct store *st, struct db_stmt *s, enum db_constraint c,
    int code, const char *what)
{
	int rc = step_or(st, s, c, code, what);

	return rc == 1 ? db_fail(st, s, what) : rc;
}

int
db_insert(struct store *st, struct db_stmt *s, enum db_constraint c,
    int code, int64_t *id, const char *what)
{
	int rc;

	*id = 0;
	if ((rc = step_or(st, s, c, code, what)) != 1)
		return rc;
	*id = db_col_int64(s, 0);
	return db_exec(st, s, what);	/* one row: run on to the end */
}

int64_t
db_changes(struct store *st)
{
	return st->be->changes(st);
}

int
db_row(struct store *st, struct db_stmt *s, const char *what)
{
	return step_or(st, s, DB_NONE, 0, what);
}

int
db_col_text(struct db_stmt *s, int i, char *buf, size_t cap)
{
	const void *p = db_col_data(s, i);
	size_t n = (size_t)db_col_bytes(s, i);

	if (cap == 0 || n >= cap)
		return -1;
	if (p != NULL)
		memcpy(buf, p, n);
	else
		n = 0;
	buf[n] = '\0';
	return 0;
}

int
db_col_blob(struct db_stmt *s, int i, uint8_t *buf, size_t n)
{
	const void *p = db_col_data(s, i);

	if (p == NULL || (size_t)db_col_bytes(s, i) != n)
		return -1;
	memcpy(buf, p, n);
	return 0;
}

int64_t
db_col_int64(struct db_stmt *s, int i)
{
	return s->be->col_int64(s, i);
}

int
db_col_int(struct db_stmt *s, int i)
{
	return (int)s->be->col_int64(s, i);
}

int
db_col_is_null(struct db_stmt *s, int i)
{
	return s->be->col_is_null(s, i);
}

const void *
db_col_data(struct db_stmt *s, int i)
{
	return s->be->col_data(s, i);
}

int
db_col_bytes(struct db_stmt *s, int i)
{
	return s->be->col_bytes(s, i);
}

/* A row of the database that breaks the schema's promises. */
static int
corrupt(struct store *st, struct db_stmt *s, const char *what)
{
	db_done(s);
	log_err("store: %s: a stored row has a field of the wrong size", what);
	(void)st;
	return OFR_E_INTERNAL;
}

/* Binds params[0..n-1] to ?1..?n of s: DB_OK or the backend's error. */
static int
bind_params(struct db_stmt *s, const int64_t *params, size_t n)
{
	int rc = DB_OK;

	for (size_t i = 0; i < n && rc == DB_OK; i++)
		rc = db_bind_int64(s, (int)i + 1, params[i]);
	return rc;
}

/*
 * The reads of a loop turn (from store_turn_end() to the next) that come
 * before its first write, or after its commit (the pumps), share one read
 * transaction: each read outside a transaction would take and drop
 * SQLite's read lock of the -wal (two fcntl() each). It begins with the
 * turn's first read (a deferred BEGIN: the read takes the lock) and ends
 * before the turn's first write (read_end: the write's BEGIN IMMEDIATE
 * takes the write lock, waiting for the checkpoint thread's TRUNCATE as
 * before, which a deferred upgrade would not) or at store_turn_end(),
 * before the loop waits: while it waits it holds no lock, and a
 * TRUNCATE checkpoint can run. Only the loop writes the database, so the
 * turn's reads see what a read of their own would. Before the first
 * store_turn_end() (start-up, tools, the unit tests), each read is a
 * transaction of its own.
 */
static int
read_begin(struct store *st)
{
	if (st->be != &lite_backend || st->tx || !st->turns)
		return 0;	/* PostgreSQL: a read of its own takes no lock */
	if (st->rtx && !sqlite3_get_autocommit(st->db))
		return 0;
	st->rtx = 0;
	if (db_exec(st, st->s[S_READ_BEGIN], "begin read") != 0)
		return OFR_E_INTERNAL;
	st->rtx = 1;
	return 0;
}

/* Ends the turn's read transaction, if one is open. */
static void
read_end(struct store *st)
{
	if (st->be != &lite_backend || !st->rtx)
		return;
	st->rtx = 0;
	if (!sqlite3_get_autocommit(st->db) &&
	    db_exec(st, st->s[S_COMMIT], "end read") != 0 &&
	    !sqlite3_get_autocommit(st->db))
		(void)db_exec(st, st->s[S_ROLLBACK], "end read");
}

void
store_turn_end(struct store *st)
{
	st->turns = 1;
	read_end(st);
	if (st->ckpt_started && !st->tx && st->wal_frames >= st->wal_bound)
		wal_restart(st);
	if (st->commits > st->asked)
		db_sync_ask(st);	/* the turn's reads (db_read_seen) */
}

/* The -wal was started over (by a checkpoint of either kind): its counts
 * for the next passive checkpoint and the loop's RESTART begin again. */
static void
wal_started_over(struct store *st)
{
	st->wal_asked = 0;
	st->wal_bound = st->full ? WAL_FULL_PAGES : WAL_BOUND_PAGES;
}

/*
 * The loop's own RESTART checkpoint, between two turns, of a -wal of
 * st->wal_bound frames ("Durability": under a steady load the checkpoint
 * thread's passive checkpoints never end with the -wal started over, and
 * its TRUNCATE finds no gap in the loop's writes). It copies what those
 * left (the frames written since the last one, asked for at each
 * WAL_AUTO_PAGES of growth: a quarter of the bound or more), syncs the
 * -wal and the database, and the next commit writes the -wal from its
 * start again, cut back to WAL_LIMIT_BYTES, and syncs its new header (as
 * SQLite does at the first commit after any reset, the thread's TRUNCATE
 * too). It waits for no lock: while the thread's checkpoint runs, or a
 * reader (a backup) holds an old snapshot, it is tried after the next
 * turn (a snapshot held for long lets the -wal grow until it ends); after
 * another failure (logged), once the -wal has grown by WAL_AUTO_PAGES
 * more. It does wait for the disk: with that header's sync, the one
 * place the loop syncs (a few ms, some ten times a second under a
 * saturating load: README, "Benchmarks").
 */
static void
wal_restart(struct store *st)
{
	int64_t limit = st->busy.limit_us;
	int rc, failed, frames = -1, copied = -1;

	/* nothing copied from a -wal whose sync failed (the server stops) */
	pthread_mutex_lock(&st->sync_mu);
	failed = st->sync_errno != 0;
	pthread_mutex_unlock(&st->sync_mu);
	if (failed)
		return;
	st->busy.limit_us = 0;
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_RESTART,
	    &frames, &copied);
	st->busy.limit_us = limit;
	if (rc == SQLITE_OK) {
		wal_started_over(st);
		st->wal_frames = 0;
	} else if (rc != SQLITE_BUSY) {
		log_warn("store: checkpoint of a -wal of %d frames: %s",
		    st->wal_frames, sqlite3_errmsg(st->db));
		st->wal_bound = st->wal_frames + WAL_AUTO_PAGES;
	}
}

int
db_get_row(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    db_reader *read, void *out, const char *what)
{
	struct db_stmt *s = st->s[id];
	int rc;

	if ((rc = read_begin(st)) != 0)
		return rc;
	if (bind_params(s, params, n) != DB_OK)
		return db_fail(st, s, what);
	if ((rc = db_row(st, s, what)) <= 0)
		return rc == 0 ? OFR_E_NOT_FOUND : rc;
	if (read != NULL && read(s, out) != 0)
		return corrupt(st, s, what);
	db_done(s);
	return 0;
}

int
db_int64_col(struct db_stmt *s, void *out)
{
	*(int64_t *)out = db_col_int64(s, 0);
	return 0;
}

int
db_count(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int64_t *count, const char *what)
{
	int rc = db_get_row(st, id, params, n, db_int64_col, count, what);

	return rc == OFR_E_NOT_FOUND ? db_fail(st, NULL, what) : rc;
}

int
db_exists(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int *yes, const char *what)
{
	int rc = db_get_row(st, id, params, n, NULL, NULL, what);

	if (rc != 0 && rc != OFR_E_NOT_FOUND)
		return rc;
	*yes = rc == 0;
	return 0;
}

int
db_each_row(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    db_visitor *visit, void *ctx, const char *what)
{
	struct db_stmt *s = st->s[id];
	int rc = 0, step = 0;

	if (s->be->busy(s)) {
		log_err("store: %s: called from its own callback", what);
		return OFR_E_INTERNAL;
	}
	if ((rc = read_begin(st)) != 0)
		return rc;
	if (bind_params(s, params, n) != DB_OK)
		return db_fail(st, s, what);
	while (rc == 0 && (step = step_or(st, s, DB_NONE, 0, what)) == 1)
		if (visit(s, ctx, &rc) != 0)
			return corrupt(st, s, what);
	if (step < 0)
		return step;	/* failed, and reset */
	db_done(s);
	return rc;
}

int
db_write(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int64_t *changed, const char *what)
{
	struct db_stmt *s = st->s[id];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (bind_params(s, params, n) != DB_OK)
		return db_fail(st, s, what);
	if ((rc = db_exec(st, s, what)) != 0)
		return rc;
	if (changed != NULL)
		*changed = db_changes(st);
	return 0;
}

/* Where db_ints() puts the integers. */
struct int_list {
	int64_t *v;
	size_t max;
	size_t *n;
};

static int
int_list_add(struct db_stmt *s, void *ctx, int *rc)
{
	struct int_list *l = ctx;

	if (*l->n < l->max)
		l->v[(*l->n)++] = db_col_int64(s, 0);
	*rc = *l->n == l->max;	/* full: step no further */
	return 0;
}

int
db_ints(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int64_t *v, size_t max, size_t *count, const char *what)
{
	struct int_list l = { v, max, count };
	int rc;

	*count = 0;
	rc = db_each_row(st, id, params, n, int_list_add, &l, what);
	return rc > 0 ? 0 : rc;
}

int
db_token_or_empty(const char *t, size_t cap)
{
	size_t n = strnlen(t, cap);

	return n < cap && (n == 0 || frame_is_token(t));
}

int
db_list_ok(const char *s, size_t cap)
{
	char tok[OFR_TOKEN_MAX + 1];
	size_t len = strnlen(s, cap), i = 1, start;

	if (len == cap || len == 0 || s[0] != ',' || s[len - 1] != ',')
		return 0;
	while (i < len) {
		start = i;
		while (i < len && s[i] != ',')
			i++;
		if (i - start == 0 || i - start > OFR_TOKEN_MAX)
			return 0;
		memcpy(tok, s + start, i - start);
		tok[i - start] = '\0';
		if (!frame_is_token(tok))
			return 0;
		i++;
	}
	return 1;
}

int
db_drop_batch(struct store *st, enum stmt_id id, int64_t before,
    size_t max, int (*drop)(struct store *st, int64_t id), int64_t *gone,
    size_t *n, const char *what)
{
	int64_t ids[STORE_RETAIN_BATCH], key[2];
	int rc;

	*n = 0;
	if (max > STORE_RETAIN_BATCH)
		max = STORE_RETAIN_BATCH;
	key[0] = before;
	key[1] = db_limit(max);
	if ((rc = db_ints(st, id, key, nitems(key), ids, max, n, what)) != 0 ||
	    *n == 0)
		return rc;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	for (size_t i = 0; i < *n && rc == 0; i++)
		rc = drop(st, ids[i]);
	if ((rc = db_call_end(st, rc)) != 0)
		*n = 0;
	else if (gone != NULL)
		memcpy(gone, ids, *n * sizeof(*ids));
	return rc;
}

int
db_write_begin(struct store *st)
{
	int rc;

	if (st->broken) {
		log_err("store: the transaction was lost; commit or roll back");
		return st->lost_seen ? OFR_E_UNAVAILABLE : OFR_E_INTERNAL;
	}
	if (!st->tx) {
		read_end(st);
		if ((rc = db_exec(st, st->s[S_BEGIN], "begin")) != 0)
			return rc == OFR_E_UNAVAILABLE ? rc : OFR_E_INTERNAL;
		st->tx = 1;
	}
	if (st->marked && !st->mark_open) {
		if ((rc = db_exec(st, st->s[S_MARK], "mark")) != 0)
			return rc == OFR_E_UNAVAILABLE ? rc : OFR_E_INTERNAL;
		st->mark_open = 1;
	}
	return 0;
}

int
db_call_begin(struct store *st)
{
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return db_exec(st, st->s[S_CALL], "savepoint");
}

int
db_call_end(struct store *st, int rc)
{
	if (rc == 0) {
		if ((rc = db_exec(st, st->s[S_CALL_RELEASE], "release")) == 0)
			return 0;
		/* A connection lost at the release (PostgreSQL stalled or
		 * gone: the call's writes go with the transaction) is the
		 * retryable unavailable, as in db_write_begin(). */
		if (rc != OFR_E_UNAVAILABLE)
			rc = OFR_E_INTERNAL;
	}
	if (st->broken)
		return rc;
	if (db_exec(st, st->s[S_CALL_UNDO], "undo") != 0 ||
	    db_exec(st, st->s[S_CALL_RELEASE], "release") != 0)
		st->broken = 1;	/* half a call may be in: never commit */
	return rc;
}

static int
make_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) != 0) {
		if (errno != EEXIST) {
			log_err("store: cannot create %s: %s", dir,
			    strerror(errno));
			return OFR_E_IO;
		}
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			log_err("store: %s is not a directory", dir);
			return OFR_E_IO;
		}
	}
	if (chmod(dir, 0700) != 0) {
		log_err("store: cannot chmod %s: %s", dir, strerror(errno));
		return OFR_E_IO;
	}
	return 0;
}

static int
make_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		log_err("store: cannot open %s: %s", path, strerror(errno));
		return OFR_E_IO;
	}
	if (fchmod(fd, 0600) != 0) {
		log_err("store: cannot chmod %s: %s", path, strerror(errno));
		close(fd);
		return OFR_E_IO;
	}
	close(fd);
	return 0;
}

/* Runs a one-off statement at open; 0 or OFR_E_INTERNAL. */
static int
open_exec(struct store *st, const char *text)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, text, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("store: open: %s", msg != NULL ? msg :
		    sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return OFR_E_INTERNAL;
	}
	return 0;
}

/* The integer, or text when text is not NULL, of a one-row pragma. */
static int
pragma(struct store *st, const char *text, int64_t *v, char *buf,
    size_t cap)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK) {
		log_err("store: %s: %s", text, sqlite3_errmsg(st->db));
		return OFR_E_INTERNAL;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		log_err("store: %s: %s", text, sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return OFR_E_INTERNAL;
	}
	if (v != NULL)
		*v = sqlite3_column_int64(s, 0);
	if (buf != NULL) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(buf, cap, "%s", t != NULL ? (const char *)t : "");
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * PRAGMA quick_check of the database open on db (file path): 0 when it
 * says "ok"; else its first finding is logged and OFR_E_BAD_FIELD. It
 * reads every page: O(size), about a second per GB on an SSD.
 */
static int
quick_check(sqlite3 *db, const char *path)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *ok = NULL;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		ok = sqlite3_column_text(s, 0);
	if (ok == NULL || strcmp((const char *)ok, "ok") != 0) {
		log_err("store: %s fails its integrity check (PRAGMA "
		    "quick_check): %s", path, ok != NULL ? (const char *)ok :
		    sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return OFR_E_BAD_FIELD;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
migrate(struct store *st)
{
	char text[64];
	int64_t version;

	if (pragma(st, "PRAGMA user_version", &version, NULL, 0) != 0)
		return OFR_E_INTERNAL;
	if (version < 0 || version > SCHEMA_VERSION) {
		log_err("store: schema version %lld is not one this server "
		    "knows (newest %d)", (long long)version, SCHEMA_VERSION);
		return OFR_E_INTERNAL;
	}
	for (int v = (int)version; v < SCHEMA_VERSION; v++) {
		snprintf(text, sizeof(text), "PRAGMA user_version = %d", v + 1);
		if (open_exec(st, "BEGIN IMMEDIATE") != 0)
			return OFR_E_INTERNAL;
		if (open_exec(st, migrations[v]) != 0 ||
		    open_exec(st, text) != 0 || open_exec(st, "COMMIT") != 0) {
			if (!sqlite3_get_autocommit(st->db))
				open_exec(st, "ROLLBACK");
			log_err("store: migration to version %d failed", v + 1);
			return OFR_E_INTERNAL;
		}
		log_info("store: schema migrated to version %d", v + 1);
	}
	return 0;
}

/* After each commit of the loop's connection: the -wal's length. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	if (frames < st->wal_frames)
		wal_started_over(st);
	st->wal_frames = frames;
	return SQLITE_OK;
}

static int
open_db(struct store *st, const char *path, int create)
{
	char mode[16], probe[64];
	sqlite3_stmt *s;
	int64_t fk, secure, limit, autockpt, version;
	int rc;

	if (store_vfs_register() != 0)
		return OFR_E_INTERNAL;
#ifdef OFFRAMP_FAULTS
	/* A test build: the database's writes may fail (store_faults.c). */
	if (store_faults_register(st->dir) != 0)
		return OFR_E_INTERNAL;
#endif
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, DB_VFS) != SQLITE_OK) {
		log_err("store: cannot open the database: %s",
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		return OFR_E_INTERNAL;
	}
	st->busy.limit_us = (int64_t)BUSY_MS * 1000;
	wal_started_over(st);
	sqlite3_busy_handler(st->db, busy_nap, &st->busy);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* A damaged database is refused here, not found out by a request. */
	if ((rc = quick_check(st->db, path)) != 0)
		return rc;
	if (pragma(st, "PRAGMA journal_mode = WAL", NULL, mode,
	    sizeof(mode)) != 0)
		return OFR_E_INTERNAL;
	if (strcmp(mode, "wal") != 0) {
		log_err("store: the database cannot use WAL (mode %s)", mode);
		return OFR_E_INTERNAL;
	}
	/* synchronous NORMAL: a commit writes the -wal and does not sync
	 * it; the store thread does ("Durability"). Checkpoints still sync
	 * the -wal before and the database after. temp_store MEMORY: a
	 * request's savepoint keeps the pages it changes in memory, not in
	 * a temporary file (two writes of each page a request touches,
	 * ciphertext among them, on a disk). cache_size: up to 32 MiB of
	 * pages kept (with SQLite's default, 2 MiB, the relay's statements
	 * read pages from the files). */
	if (open_exec(st, "PRAGMA synchronous = NORMAL") != 0 ||
	    open_exec(st, "PRAGMA temp_store = MEMORY") != 0 ||
	    open_exec(st, "PRAGMA cache_size = -32768") != 0 ||
	    open_exec(st, "PRAGMA foreign_keys = ON") != 0 ||
	    pragma(st, "PRAGMA foreign_keys", &fk, NULL, 0) != 0)
		return OFR_E_INTERNAL;
	if (fk != 1) {
		log_err("store: foreign keys cannot be enforced");
		return OFR_E_INTERNAL;
	}
	/* Deleted means gone: freed bytes zeroed, the -wal kept short. */
	if (pragma(st, "PRAGMA secure_delete = ON", &secure, NULL, 0) != 0 ||
	    pragma(st, "PRAGMA journal_size_limit = " STR(WAL_LIMIT_BYTES),
	    &limit, NULL, 0) != 0 ||
	    pragma(st, "PRAGMA wal_autocheckpoint = 0", &autockpt, NULL,
	    0) != 0)
		return OFR_E_INTERNAL;
	if (secure != 1 || limit != WAL_LIMIT_BYTES || autockpt != 0) {
		log_err("store: deleted data cannot be overwritten "
		    "(secure_delete %lld, journal_size_limit %lld, "
		    "wal_autocheckpoint %lld)", (long long)secure,
		    (long long)limit, (long long)autockpt);
		return OFR_E_INTERNAL;
	}
	/* The loop's connection checkpoints only to start a long -wal over
	 * (wal_restart); the checkpoint thread runs the others. This hook
	 * tells both how long the -wal has grown. */
	sqlite3_wal_hook(st->db, wal_hook, st);
	if (pragma(st, "PRAGMA user_version", &version, NULL, 0) != 0)
		return OFR_E_INTERNAL;
	if (version == 0 && !create) {
		log_err("store: %s holds no offramp database", path);
		return OFR_E_NOT_FOUND;
	}
	if (migrate(st) != 0)
		return OFR_E_INTERNAL;
	for (int i = 0; i < S_COUNT; i++) {
		const char *text = db_sql_of(db_sql, i);

		if (text == NULL || sqlite3_prepare_v3(st->db, text, -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			log_err("store: cannot prepare statement %d: %s", i,
			    sqlite3_errmsg(st->db));
			return OFR_E_INTERNAL;
		}
		if ((st->s[i] = lite_wrap(s)) == NULL)
			return OFR_E_NOMEM;
	}
	/* store_probe()'s write: the schema version, rewritten unchanged
	 * (a pragma takes no parameter: its text is made here, once). */
	snprintf(probe, sizeof(probe), "PRAGMA user_version = %d",
	    SCHEMA_VERSION);
	if (sqlite3_prepare_v3(st->db, probe, -1, SQLITE_PREPARE_PERSISTENT,
	    &s, NULL) != SQLITE_OK) {
		log_err("store: cannot prepare the probe: %s",
		    sqlite3_errmsg(st->db));
		return OFR_E_INTERNAL;
	}
	if ((st->probe = lite_wrap(s)) == NULL)
		return OFR_E_NOMEM;
	return 0;
}

#ifndef OFFRAMP_POSTGRES
int
pg_open(struct store *st, const char *url, int create)
{
	(void)st;
	(void)url;
	(void)create;
	log_err("store: this server is built without PostgreSQL (cmake "
	    "-DOFFRAMP_POSTGRES=ON): a postgresql:// store cannot be opened");
	return OFR_E_USAGE;
}
#endif

const char *
store_url_safe(const char *url, char *buf, size_t cap)
{
	const char *p = strstr(url, "://"), *at, *colon;

	if (cap == 0)
		return "";
	buf[0] = '\0';
	if (p == NULL) {
		snprintf(buf, cap, "(not a URL)");
		return buf;
	}
	p += 3;
	at = strpbrk(p, "@/?");
	colon = strchr(p, ':');
	if (at != NULL && *at == '@' && colon != NULL && colon < at)
		snprintf(buf, cap, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(buf, cap, "%s", url);	/* cut to fit */
	/* every "password=..." up to the next '&'; cut when "***" does not
	 * fit */
	for (char *v = buf; (v = strstr(v, "password=")) != NULL; v += 3) {
		char *end = strchr(v += 9, '&');
		size_t tail = end != NULL ? strlen(end) : 0;

		if ((size_t)(v - buf) + 3 + tail >= cap) {
			*v = '\0';
			break;
		}
		memmove(v + 3, end != NULL ? end : v + strlen(v), tail + 1);
		memcpy(v, "***", 3);
	}
	return buf;
}

/* 1 when url names a PostgreSQL database. */
static int
is_pg_url(const char *url)
{
	return strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0;
}

int
store_open(struct store **out, const char *dir, int create)
{
	return store_open_url(out, dir, NULL, create);
}

int
store_open_url(struct store **out, const char *dir, const char *url,
    int create)
{
	char path[PATH_MAX];
	struct store *st;
	mode_t old;
	int n, rc;

	*out = NULL;
	if (sodium_init() < 0)
		return OFR_E_INTERNAL;
	if (url != NULL && !is_pg_url(url)) {
		log_err("store: the store is not a postgresql:// URL (nothing "
		    "of it is logged: it could hold a password)");
		return OFR_E_USAGE;
	}
	/* Nothing reads SQLite's memory statistics: none kept, a global
	 * lock less per allocation. It works only before SQLite starts
	 * (the first store_open), and changes nothing after. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	n = snprintf(path, sizeof(path), "%s/%s", dir, DB_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_err("store: the data directory's path is too long");
		return OFR_E_IO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return OFR_E_NOMEM;
	st->wal_fd = -1;
	pthread_mutex_init(&st->sync_mu, NULL);
	pthread_cond_init(&st->sync_cv, NULL);
	cond_init_monotonic(&st->ckpt_cv);
	pthread_cond_init(&st->done_cv, NULL);
	st->be = &lite_backend;
	if (url != NULL) {
		if ((rc = pg_open(st, url, create)) != 0) {
			store_close(st);
			return rc;
		}
		*out = st;
		return 0;
	}
	if ((size_t)snprintf(st->wal, sizeof(st->wal), "%s-wal", path) >=
	    sizeof(st->wal) || (size_t)snprintf(st->spare, sizeof(st->spare),
	    "%s/%s", dir, SPARE_NAME) >= sizeof(st->spare) ||
	    (size_t)snprintf(st->dir, sizeof(st->dir), "%s", dir) >=
	    sizeof(st->dir)) {
		log_err("store: the data directory's path is too long");
		free(st);
		return OFR_E_IO;
	}
	/* The -wal and -shm files SQLite makes must be ours alone too. */
	old = umask(077);
	if ((rc = make_dir(dir)) == 0 && !create && access(path, F_OK) != 0) {
		log_err("store: %s is missing", path);
		rc = OFR_E_NOT_FOUND;
	}
	if (rc == 0 && (rc = make_file(path)) == 0 &&
	    (rc = open_db(st, path, create)) == 0)
		rc = sync_start(st, path);
	/* a whole spare still there is kept; a new one (or the rest of a
	 * short one) needs SPARE_ROOM */
	if (rc == 0 && ((!spare_whole(st) && room(st) < SPARE_ROOM) ||
	    spare_make(st) != 0)) {
		log_warn("store: no room for %s (%d MiB, made with %d MiB "
		    "free)", st->spare, SPARE_BYTES >> 20,
		    (int)(SPARE_ROOM >> 20));
		spare_give_up(st);
	}
	umask(old);
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* SQLite's close(): rolls back, stops the thread, finalizes, closes. */
static void
lite_close(struct store *st)
{
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	db_sync_stop(st);
	for (int i = 0; i < S_COUNT; i++)
		if (st->s[i] != NULL)
			lite_free(st->s[i]);
	if (st->probe != NULL)
		lite_free(st->probe);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_err("store: close: %s", sqlite3_errmsg(st->db));
}

int
store_full(struct store *st)
{
	return st->be->full(st);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->be->close(st);
	pthread_cond_destroy(&st->done_cv);
	pthread_cond_destroy(&st->ckpt_cv);
	pthread_cond_destroy(&st->sync_cv);
	pthread_mutex_destroy(&st->sync_mu);
	free(st);
}

static void
rollback_all(struct store *st)
{
	if (st->be->in_tx(st))
		db_exec(st, st->s[S_ROLLBACK], "rollback");
	st->tx = 0;
	st->rtx = 0;
	st->broken = 0;
	st->mark_open = 0;
	st->full_seen = 0;
	st->lost_seen = 0;
}

int
db_commit_lost(struct store *st)
{
	int rc = st->full_seen ? OFR_E_STORAGE_FULL :
	    st->lost_seen ? OFR_E_UNAVAILABLE : OFR_E_INTERNAL;

	metrics_commit(0, 0);
	rollback_all(st);
	return rc;
}

/*
 * After a COMMIT that failed on an I/O error. Frames of it may be in the
 * -wal, and should the commit frame be among them (a failure after it was
 * written), SQLite rolled the transaction back and no reader sees it, and
 * the next commit writes over it, but should the server stop before that,
 * WAL recovery at the next open would bring back a transaction whose
 * requests were all answered with an error. So a commit is made at once
 * (the probe's write, page 1 unchanged), over the first of those frames,
 * which breaks their checksum chain. When that fails too, the frames stay
 * until the next commit that succeeds; nothing is acknowledged meanwhile.
 * Outside any transaction only.
 */
static void
wal_overwrite(struct store *st)
{
	if (db_exec(st, st->s[S_BEGIN], "begin") == 0 &&
	    db_exec(st, st->probe, "probe") == 0 &&
	    db_exec(st, st->s[S_COMMIT], "commit") == 0) {
		log_info("store: a commit was made over the failed one's "
		    "frames in the -wal");
		return;
	}
	if (!sqlite3_get_autocommit(st->db))
		db_exec(st, st->s[S_ROLLBACK], "rollback");
	log_warn("store: the failed commit's frames stay in the -wal until "
	    "a commit succeeds");
}

/*
 * Durability. The loop's connection commits without waiting for the disk
 * (SQLite's synchronous=NORMAL: the commit's frames are written to the
 * -wal and not synced; PostgreSQL's synchronous_commit off, store_pg.c),
 * so the loop never waits for it (but for a checkpoint: its own RESTART
 * under a steady load, wal_restart, and the thread's TRUNCATE, below).
 * The store thread makes them durable
 * through the backend's sync() step: here it fdatasyncs the -wal through
 * a descriptor of its own (fsync acts on the file, whichever descriptor
 * names it), and every commit made before that sync began is then on
 * disk. Commits are numbered (st->commits); the thread takes the newest
 * number asked for (st->want), syncs, publishes it (st->durable) and
 * calls st->on_durable, which wakes the loop; the loop releases what each
 * commit up to it held (session.c). One sync covers every commit made
 * while the one before ran: the group commit. This thread, its numbers
 * and its wake are both backends'. The checkpoints are SQLite's alone,
 * and a thread's of their own (ckpt_main), so that a sync never waits
 * behind a checkpoint's copying and its two syncs.
 *
 * A sync that cannot be made now (PostgreSQL's, its connection lost)
 * sets st->sync_lost: the thread syncs nothing more until the loop has
 * read it (store_durable), which counts every commit made so far as
 * settled and tells the loop once that those after the last durable one
 * may be lost; the loop answers what waited for them with an error.
 *
 * SQLite's cases:
 * - A checkpoint (the checkpoint thread's, on its own connection ckpt_db)
 *   syncs the -wal before it copies and the database after, as SQLite
 *   does under any synchronous but OFF; what it copied is durable in the
 *   database before a TRUNCATE cuts the -wal, so a commit whose frames
 *   the cut took away is durable when the store thread's next sync, which
 *   finds the -wal shorter, is done.
 * - A reset of the -wal (the loop's next write after a whole checkpoint)
 *   rewrites the same file from its start: the same inode, still ours.
 * - The -wal is never replaced while a connection holds it open: SQLite
 *   opens it once per connection, and ours were open before the thread's
 *   descriptor (store_open); were the file unlinked, SQLite would go on
 *   writing the unlinked inode, which our descriptor names too.
 * - A failed fdatasync: the commits since the last sync are visible but
 *   may not be on disk (Linux may drop the dirty pages and report the
 *   error once). Nothing they held may be released, and no later sync can
 *   vouch for them: st->sync_errno stays, store_durable() fails, and the
 *   server stops (session.c), as PostgreSQL does.
 * - A full disk fails the commit's write: store_commit() rolls back as
 *   before, and nothing of it is held for the thread.
 * - The loop's answers to reads of a later turn, and its pushes, wait for
 *   the newest commit made when they were queued (store_commit_seq).
 * PostgreSQL's (a shared store) besides: what the loop reads may be
 * another node's commit, visible at once and not durable yet (that node
 * killed before its sync, the retry of its msg.send on this one; its
 * copy pushed from here), or one of this node's whose sync failed
 * (lost_read settled it as lost, not as durable). So a statement of the
 * loop's that runs after a sync was asked for counts as a commit of its
 * own (db_read_seen: st->commits + 1, asked for at the turn's end at
 * last), and what depends on it waits for a sync that began after it:
 * that sync's flush covers all the WAL written before it, every
 * session's. Reads coalesce as commits do: one sync covers every one
 * made while the one before ran. SQLite's reads see only this loop's
 * commits, numbered already.
 * Deleted copies: a commit that deleted some asks for a TRUNCATE
 * checkpoint (st->scrub). The checkpoint thread runs a passive checkpoint
 * first, which takes no lock the loop's writes need (it holds SQLite's
 * checkpoint lock, so the loop's own RESTART, below, is put off to the
 * next turn), then the TRUNCATE, which needs the writer's lock: the loop
 * holds it from a turn's first write to its commit, so the thread waits
 * for the gap between two turns in naps (CKPT_WAIT_US at most; then it is
 * tried again TRUNCATE_RETRY_US later, and twice as long after each
 * failure), and the loop's next write waits in naps while the TRUNCATE
 * copies what the passive one left, syncs and cuts the -wal (a few
 * milliseconds, at times tens; BUSY_NAP_US). One
 * TRUNCATE covers the deleting commits of SCRUB_GAP_US: under load one a
 * second, not one a commit.
 * The -wal's length: a passive checkpoint resets it only when it copied
 * the last frame before the loop's next turn began to read, which under a
 * steady load it never does; the -wal then grew by tens of MiB a second
 * (every commit writes each page it changed again: 500 MiB in the 8 s of
 * test_loop_timers' load), a passive checkpoint ran after every commit,
 * and the TRUNCATEs that found a gap cut hundreds of MiB with the loop
 * waiting. So the loop starts a -wal of WAL_BOUND_PAGES over itself,
 * between two turns (wal_restart: it copies what was written since the
 * last passive one), and a passive checkpoint is asked for each
 * WAL_AUTO_PAGES it grows.
 */

/* SQLite's busy handler for a connection of ours (arg: its struct
 * busy_wait): naps of BUSY_NAP_US until limit_us have passed since the
 * wait began. 1: try again; 0: give up (SQLITE_BUSY). */
static int
busy_nap(void *arg, int count)
{
	struct busy_wait *w = arg;
	struct timespec nap = { 0, BUSY_NAP_US * 1000L };
	int64_t now = mono_us();

	if (w->limit_us == 0)
		return 0;
	if (count == 0)
		w->since = now;
	else if (now - w->since >= w->limit_us)
		return 0;
	nanosleep(&nap, NULL);
	return 1;
}

/* A condition variable whose timed waits count on the monotonic clock. */
static void
cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

/* Waits on cv (under mu) until signalled, or until the monotonic time
 * until (µs; 0: no deadline). */
static void
cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until)
{
	struct timespec ts;

	if (until == 0) {
		pthread_cond_wait(cv, mu);
		return;
	}
	ts.tv_sec = (time_t)(until / 1000000);
	ts.tv_nsec = (long)(until % 1000000) * 1000;
	(void)pthread_cond_timedwait(cv, mu, &ts);
}

/*
 * The thread's checkpoint of kind what (CKPT_*). 0 when done; when a
 * TRUNCATE was asked for and could not be done (try again later), 1 for
 * a lock, 2 for another error. A TRUNCATE is tried only after a passive
 * checkpoint that copied every frame: when it could not, a reader holds
 * a snapshot older than the newest commit (a backup), and the TRUNCATE
 * would hold the writer's lock, and so the loop's writes, while it
 * waited CKPT_WAIT_US for that reader. (A reader of the newest commit,
 * say a shell left open on an idle server, still makes it hold them that
 * long at each try.) loud: an error of the TRUNCATE's other than a lock
 * is a warning (the first of a run of retries), else logged at debug.
 */
static int
ckpt_run(struct store *st, int what, int loud)
{
	int rc, frames = -1, copied = -1;

	rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
		log_warn("store: checkpoint: %s", sqlite3_errmsg(st->ckpt_db));
	if (!(what & CKPT_TRUNCATE))
		return 0;
	if (rc != SQLITE_OK || copied < frames) {
		log_debug("store: checkpoint: a reader holds the WAL, or "
		    "another checkpoint runs (%d of %d frames copied); trying "
		    "again later", copied, frames);
		return 1;
	}
	rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, &frames, &copied);
	if (rc == SQLITE_OK) {
		log_debug("store: checkpoint: the WAL is empty");
		return 0;
	}
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		log_debug("store: checkpoint: a reader holds the WAL, or a "
		    "write (%d of %d frames copied); trying again later",
		    copied, frames);
	else if (loud)
		log_warn("store: checkpoint: %s (tried again later)",
		    sqlite3_errmsg(st->ckpt_db));
	else
		log_debug("store: checkpoint: %s", sqlite3_errmsg(st->ckpt_db));
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? 1 : 2;
}

/* SQLite's sync(): fdatasync of the -wal, unless a test build's fault
 * says it fails (store_faults.c, "commit N"). 0, or OFR_E_IO (errno). */
static int
lite_sync(struct store *st)
{
#ifdef OFFRAMP_FAULTS
	if (store_faults_sync_fails()) {
		errno = EIO;
		return OFR_E_IO;
	}
#endif
	return fdatasync(st->wal_fd) == 0 ? 0 : OFR_E_IO;
}

/*
 * The store thread: it syncs, and nothing else. A sync asked for while it
 * ran is made next (one for all of them).
 */
static void *
sync_main(void *arg)
{
	struct store *st = arg;

	pthread_mutex_lock(&st->sync_mu);
	for (;;) {
		int64_t target;
		int rc, err;

		while (!st->stopping && (st->sync_errno != 0 || st->sync_lost ||
		    st->want <= st->durable))
			pthread_cond_wait(&st->sync_cv, &st->sync_mu);
		if (st->sync_errno != 0 || st->sync_lost ||
		    st->want <= st->durable)
			break;	/* stopping, and nothing is left to sync */
		target = st->want;
		pthread_mutex_unlock(&st->sync_mu);
		errno = 0;
		rc = st->be->sync(st);
		err = errno;
		pthread_mutex_lock(&st->sync_mu);
		if (rc == OFR_E_UNAVAILABLE) {
			st->sync_lost = 1;	/* logged by sync() */
		} else if (rc != 0) {
			st->sync_errno = err != 0 ? err : EIO;
			log_err("store: cannot sync the WAL: %s",
			    strerror(st->sync_errno));
		} else {
			st->durable = target;
		}
		pthread_cond_broadcast(&st->done_cv);
		/* under the lock: once store_on_durable(st, NULL) returns,
		 * wake is called no more */
		if (st->on_durable != NULL)
			st->on_durable();
	}
	pthread_mutex_unlock(&st->sync_mu);
	return NULL;
}

/*
 * The checkpoint thread (SQLite's): the checkpoints asked for, a passive
 * one at once, a TRUNCATE once SCRUB_GAP_US have passed since the last
 * one (owed meanwhile: the thread wakes for it at scrub_at). A TRUNCATE
 * that could not be done (no gap in the loop's writes within CKPT_WAIT_US,
 * the loop's RESTART running, a reader's old snapshot) stays owed and is
 * tried again on its own after TRUNCATE_RETRY_US, then after twice as
 * long each time, SCRUB_GAP_US apart at most. When it stops, the TRUNCATE
 * owed is tried once. After a failed sync (the server stops) none at
 * all.
 */
static void *
ckpt_main(void *arg)
{
	struct store *st = arg;
	int owed = 0, warned = 0;
	int64_t scrub_at = 0, retry_us = 0;

	pthread_mutex_lock(&st->sync_mu);
	for (;;) {
		int64_t now;
		int what, rc;

		while (!st->stopping && st->ckpt_want == 0 &&
		    !(owed && st->sync_errno == 0 && mono_us() >= scrub_at))
			cond_wait_until(&st->ckpt_cv, &st->sync_mu,
			    owed && st->sync_errno == 0 ? scrub_at : 0);
		if (st->ckpt_want & CKPT_TRUNCATE)
			owed = 1;
		what = st->ckpt_want & CKPT_PASSIVE;
		now = mono_us();
		if (owed && (now >= scrub_at || st->stopping))
			what |= CKPT_TRUNCATE;
		st->ckpt_want = 0;
		if (what != 0 && st->sync_errno == 0) {
			pthread_mutex_unlock(&st->sync_mu);
			rc = ckpt_run(st, what, !warned);
			pthread_mutex_lock(&st->sync_mu);
			if (!(what & CKPT_TRUNCATE))
				continue;
			if (rc == 2)
				warned = 1;
			if (rc == 0 || st->stopping) {
				owed = 0;
				warned = 0;
				retry_us = 0;
				scrub_at = now + SCRUB_GAP_US;
			} else {
				retry_us = retry_us == 0 ? TRUNCATE_RETRY_US :
				    retry_us * 2;
				if (retry_us > SCRUB_GAP_US)
					retry_us = SCRUB_GAP_US;
				scrub_at = mono_us() + retry_us;
			}
			continue;
		}
		if (st->stopping)
			break;
	}
	pthread_mutex_unlock(&st->sync_mu);
	return NULL;
}

int
db_sync_start(struct store *st)
{
	if (pthread_create(&st->sync_thread, NULL, sync_main, st) != 0) {
		log_err("store: cannot start the store thread");
		return OFR_E_INTERNAL;
	}
	st->sync_started = 1;
	return 0;
}

/* Opens the store thread's descriptor and the checkpoint thread's
 * connection, and starts both. 0, or OFR_E_INTERNAL (logged). */
static int
sync_start(struct store *st, const char *path)
{
	if (!sqlite3_threadsafe()) {
		log_err("store: SQLite is built without threads");
		return OFR_E_INTERNAL;
	}
	st->wal_fd = open(st->wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (st->wal_fd < 0) {
		log_err("store: cannot open %s: %s", st->wal, strerror(errno));
		return OFR_E_INTERNAL;
	}
	if (sqlite3_open_v2(path, &st->ckpt_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, DB_VFS) != SQLITE_OK ||
	    sqlite3_exec(st->ckpt_db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		log_err("store: cannot open the checkpoint connection: %s",
		    st->ckpt_db != NULL ? sqlite3_errmsg(st->ckpt_db) :
		    "out of memory");
		return OFR_E_INTERNAL;
	}
	st->ckpt_busy.limit_us = CKPT_WAIT_US;
	sqlite3_busy_handler(st->ckpt_db, busy_nap, &st->ckpt_busy);
	if (db_sync_start(st) != 0)
		return OFR_E_INTERNAL;
	if (pthread_create(&st->ckpt_thread, NULL, ckpt_main, st) != 0) {
		log_err("store: cannot start the checkpoint thread");
		return OFR_E_INTERNAL;
	}
	st->ckpt_started = 1;
	return 0;
}

void
db_sync_stop(struct store *st)
{
	if (st->sync_started) {
		(void)store_sync(st);
		pthread_mutex_lock(&st->sync_mu);
		st->stopping = 1;
		pthread_cond_signal(&st->sync_cv);
		pthread_cond_signal(&st->ckpt_cv);
		pthread_mutex_unlock(&st->sync_mu);
		pthread_join(st->sync_thread, NULL);
		st->sync_started = 0;
		if (st->ckpt_started)
			pthread_join(st->ckpt_thread, NULL);
		st->ckpt_started = 0;
	}
	if (st->ckpt_db != NULL && sqlite3_close(st->ckpt_db) != SQLITE_OK)
		log_err("store: close: %s", sqlite3_errmsg(st->ckpt_db));
	st->ckpt_db = NULL;
	if (st->wal_fd >= 0)
		close(st->wal_fd);
	st->wal_fd = -1;
}

void
db_sync_ask(struct store *st)
{
	int what = st->scrub ? CKPT_TRUNCATE : 0;

	if (!st->sync_started)
		return;
	/* A passive checkpoint for each WAL_AUTO_PAGES the -wal grew since
	 * the last one asked for: not one a commit while it is long (under
	 * a steady load no passive checkpoint empties it; see above), and
	 * none in its first WAL_AUTO_PAGES past the bound, where the loop's
	 * RESTART would find it running (then, a reader's snapshot holding
	 * the RESTART off, they copy what they can again) */
	if (st->wal_frames - st->wal_asked >= WAL_AUTO_PAGES &&
	    (st->wal_frames < st->wal_bound ||
	    st->wal_frames - st->wal_bound >= WAL_AUTO_PAGES)) {
		what |= CKPT_PASSIVE;
		st->wal_asked = st->wal_frames;
	}
	if (!st->ckpt_started)
		what = 0;	/* PostgreSQL's: no checkpoint of ours */
	st->scrub = 0;
	st->asked = st->commits;
	pthread_mutex_lock(&st->sync_mu);
	if (st->want < st->commits)
		st->want = st->commits;
	if (what != 0) {
		st->ckpt_want |= what;
		pthread_cond_signal(&st->ckpt_cv);
	}
	pthread_cond_signal(&st->sync_cv);
	pthread_mutex_unlock(&st->sync_mu);
}

int64_t
store_commit_seq(const struct store *st)
{
	return st->commits;
}

void
db_read_seen(struct store *st)
{
	if (st->sync_started && st->commits <= st->asked)
		st->commits++;	/* asked for at the turn's end at last */
}

/* Under sync_mu: a lost sync read by the loop, once. Every commit made
 * so far is settled (the loop fails what waited for those after
 * *seq), and the thread may sync again. */
static int
lost_read(struct store *st)
{
	if (!st->sync_lost)
		return 0;
	st->sync_lost = 0;
	if (st->want < st->commits)
		st->want = st->commits;
	st->durable = st->asked = st->commits;
	return 1;
}

int
store_durable(struct store *st, int64_t *seq)
{
	int err, lost;

	pthread_mutex_lock(&st->sync_mu);
	*seq = st->durable;
	err = st->sync_errno;
	lost = err == 0 && lost_read(st);
	pthread_mutex_unlock(&st->sync_mu);
	return err != 0 ? OFR_E_IO : lost ? OFR_E_UNAVAILABLE : 0;
}

void
store_on_durable(struct store *st, void (*wake)(void))
{
	pthread_mutex_lock(&st->sync_mu);
	st->on_durable = wake;
	pthread_mutex_unlock(&st->sync_mu);
}

int
store_sync(struct store *st)
{
	int err, lost;

	if (!st->sync_started)
		return 0;
	db_sync_ask(st);
	pthread_mutex_lock(&st->sync_mu);
	while (st->sync_errno == 0 && !st->sync_lost &&
	    st->durable < st->commits)
		pthread_cond_wait(&st->done_cv, &st->sync_mu);
	err = st->sync_errno;
	lost = err == 0 && lost_read(st);
	pthread_mutex_unlock(&st->sync_mu);
	return err != 0 ? OFR_E_IO : lost ? OFR_E_UNAVAILABLE : 0;
}

int
store_commit(struct store *st)
{
	if (!st->tx) {
		if (st->scrub)
			db_sync_ask(st);
		return 0;
	}
	if (st->broken) {
		log_err("store: commit: the transaction was lost; nothing of "
		    "it is kept");
		return db_commit_lost(st);
	}
	if (st->mark_open) {
		/* A request still in flight: its writes go with this commit. */
		if (db_exec(st, st->s[S_MARK_RELEASE], "release mark") != 0)
			return db_commit_lost(st);
		st->mark_open = 0;
	}
	return st->be->commit(st);
}

/* SQLite's commit(): the -wal's sync is the store thread's, or waited
 * for here when nobody is told of it (store_on_durable). */
static int
lite_commit(struct store *st)
{
	int64_t start;
	int waits;

	spare_check(st);
	start = mono_us();
	if (db_exec(st, st->s[S_COMMIT], "commit") != 0) {
		int io = (sqlite3_errcode(st->db) & 0xff) == SQLITE_IOERR;
		int rc = db_commit_lost(st);

		if (io)
			wal_overwrite(st);
		return rc;
	}
	metrics_commit(mono_us() - start, 1);
	st->tx = 0;
	st->full_seen = 0;
	st->commits++;
	pthread_mutex_lock(&st->sync_mu);
	waits = st->on_durable == NULL;
	pthread_mutex_unlock(&st->sync_mu);
	spare_retry(st);
	if (waits)
		return store_sync(st);
	db_sync_ask(st);
	return 0;
}

void
store_checkpoint(struct store *st)
{
	st->scrub = 1;
	if (!st->tx)
		db_sync_ask(st);
}

void
store_rollback(struct store *st)
{
	rollback_all(st);
}

int
store_in_tx(const struct store *st)
{
	return st->tx;
}

void
store_mark(struct store *st)
{
	if (st->mark_open)	/* an unmatched mark: keep what it did */
		store_unmark(st, 1);
	st->marked = 1;
}

void
store_unmark(struct store *st, int keep)
{
	st->marked = 0;
	if (!st->mark_open)
		return;		/* the request wrote nothing */
	st->mark_open = 0;
	if (st->broken)
		return;
	if (!keep && db_exec(st, st->s[S_MARK_UNDO], "undo mark") != 0) {
		st->broken = 1;
		return;
	}
	if (db_exec(st, st->s[S_MARK_RELEASE], "release mark") != 0)
		st->broken = 1;
}

int
store_probe(struct store *st)
{
	int rc;

	if (st->tx)
		return OFR_E_USAGE;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if ((rc = db_exec(st, st->probe, "probe")) != 0) {
		rollback_all(st);
		return rc;
	}
	return store_commit(st);
}

int
store_size(struct store *st, int64_t *db_bytes, int64_t *wal_bytes)
{
	int64_t pages, page_size;
	struct stat sb;
	int rc;

	*db_bytes = *wal_bytes = 0;
	if ((rc = db_get_row(st, S_PAGE_COUNT, NULL, 0, db_int64_col, &pages,
	    __func__)) != 0 ||
	    (rc = db_get_row(st, S_PAGE_SIZE, NULL, 0, db_int64_col,
	    &page_size, __func__)) != 0)
		return rc == OFR_E_NOT_FOUND ? OFR_E_INTERNAL : rc;
	*db_bytes = pages * page_size;
	if (stat(st->wal, &sb) == 0)
		*wal_bytes = (int64_t)sb.st_size;
	return 0;
}

/* --- backups --- */

/* Copies the database open on db, as one consistent snapshot, into a new
 * file at to (0600, synced). 0, or an error code (logged) with nothing
 * left at to. */
static int
snapshot_into(sqlite3 *db, const char *to)
{
	sqlite3_stmt *s = NULL;
	mode_t old;
	int rc, fd;

	old = umask(077);
	rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_DONE)
		rc = SQLITE_OK;
	umask(old);
	if (rc != SQLITE_OK) {
		log_err("store: cannot write %s: %s", to, sqlite3_errmsg(db));
		sqlite3_finalize(s);
		(void)unlink(to);
		return (rc & 0xff) == SQLITE_FULL ? OFR_E_IO : OFR_E_INTERNAL;
	}
	sqlite3_finalize(s);
	if ((fd = open(to, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
		log_err("store: cannot sync %s: %s", to, strerror(errno));
		if (fd >= 0)
			close(fd);
		(void)unlink(to);
		return OFR_E_IO;
	}
	close(fd);
	return 0;
}

/* Opens the database file path (read-write: a WAL database needs it to
 * read; nothing is written) and checks it: quick_check ok, a schema
 * version this server knows. */
static int
open_checked(const char *path, sqlite3 **db)
{
	sqlite3_stmt *s = NULL;
	int version = -1;

	*db = NULL;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_err("store: cannot open %s: %s", path, *db != NULL ?
		    sqlite3_errmsg(*db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(*db, 5000);
	if (quick_check(*db, path) != 0)
		goto bad;
	if (sqlite3_prepare_v2(*db, "PRAGMA user_version", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (version < 1 || version > SCHEMA_VERSION) {
		log_err("store: %s is not an offramp database this server "
		    "knows (schema version %d)", path, version);
		goto bad;
	}
	return 0;
bad:
	sqlite3_finalize(s);
	sqlite3_close(*db);
	*db = NULL;
	return OFR_E_BAD_FIELD;
}

/* Checks the database file src and copies it into the new file dst. */
static int
copy_checked(const char *src, const char *dst)
{
	sqlite3 *db;
	int rc;

	if ((rc = open_checked(src, &db)) != 0)
		return rc;
	rc = snapshot_into(db, dst);
	sqlite3_close(db);
	return rc;
}

/* dir/offramp.db into path (PATH_MAX): 0 or OFR_E_IO. */
static int
db_path(const char *dir, char path[PATH_MAX])
{
	return (size_t)snprintf(path, PATH_MAX, "%s/%s", dir, DB_NAME) >=
	    PATH_MAX ? OFR_E_IO : 0;
}

int
store_backup(const char *dir, const char *to)
{
	char path[PATH_MAX];

	if (db_path(dir, path) != 0)
		return OFR_E_IO;
	if (access(to, F_OK) == 0) {
		log_err("store: %s exists; a backup never replaces a file", to);
		return OFR_E_USAGE;
	}
	return copy_checked(path, to);
}

int
store_restore(const char *from, const char *dir)
{
	char path[PATH_MAX];
	int rc;

	if (db_path(dir, path) != 0)
		return OFR_E_IO;
	if ((rc = make_dir(dir)) != 0)
		return rc;
	if (access(path, F_OK) == 0) {
		log_err("store: %s exists; a restore goes into a data "
		    "directory without a database", path);
		return OFR_E_USAGE;
	}
	return copy_checked(from, path);
}
