/*
 * store.c: the server's durable state, one SQLite database at
 * <dir>/offramp.db. Every SQL statement of the server lives here; nothing
 * else opens the database. Statements are prepared once in store_open(),
 * bound with explicit lengths, reset after each use and finalized in
 * store_close(). Writes are grouped: the first write after a commit opens a
 * transaction, store_commit() ends it with one fsync, and every call that
 * writes more than one row does so all or nothing (a savepoint). This file
 * must never store or log a network address, never keep message content (a
 * copy's ciphertext is opaque bytes, deleted on ack; a message row keeps
 * only ids, for dedup), and never let a failed call leave half its writes
 * behind or let a lost transaction pass for a committed one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "log.h"
#include "proto/err.h"
#include "store.h"

#define DB_NAME		"offramp.db"
#define BUSY_MS		5000
#define CASE_ID_MASK	((UINT64_C(1) << 53) - 1)
#define CASE_ID_TRIES	8
#define PROFILE_CAPACITY	5	/* the default of a new counsellor */
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

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
 * - Indexes are those the statements below use, and no more: each one
 *   costs every insert (EXPLAIN QUERY PLAN shows which one serves which).
 * - messages hold no content, only (sender, mid) for dedup; the copies in
 *   deliveries are deleted as their recipients ack them. AUTOINCREMENT
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
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(*migrations)))

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_MARK,
	S_MARK_RELEASE,
	S_MARK_UNDO,
	S_CALL,
	S_CALL_RELEASE,
	S_CALL_UNDO,
	S_PROGRAMME_INSERT,
	S_PROGRAMME_FIRST,
	S_ACCOUNT_BY_KEY,
	S_ACCOUNT_BY_ID,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_SET_NAME,
	S_ADMIN_COUNT,
	S_PROFILE_INSERT,
	S_PROFILE_GET,
	S_PROFILE_SET,
	S_PROFILE_ASSIGNED,
	S_INVITE_INSERT,
	S_INVITE_TAKE,
	S_INVITE_PENDING,
	S_INVITE_DROP_BOOTSTRAP,
	S_CASE_INSERT,
	S_CASE_GET,
	S_CASE_OPEN_OF_CLIENT,
	S_CASE_EACH_OF,
	S_CASE_ASSIGN,
	S_CASE_CLOSE,
	S_CASE_WAITING,
	S_CASE_SET_PREFS,
	S_CASE_SET_MATCH,
	S_CASE_SET_STATUS,
	S_CASE_UNASSIGN,
	S_CASE_OPEN_OF_COUNSELLOR,
	S_CASE_UNREAD,
	S_CASE_TOUCH,
	S_PARTICIPANT_INSERT,
	S_PARTICIPANTS,
	S_PARTICIPANT_HAS,
	S_PARTICIPANT_DROP_COUNSELLOR,
	S_MESSAGE_INSERT,
	S_DELIVERY_INSERT,
	S_DELIVERIES,
	S_DELIVERY_ACK,
	S_MESSAGES_PURGE,
	S_PROGRAMME_GET,
	S_PROGRAMME_SET_KEY,
	S_CERT_SET,
	S_CERT_GET,
	S_UNCERTIFIED,
	S_SPK_SET,
	S_SPK_GET,
	S_OTK_ADD,
	S_OTK_COUNT,
	S_OTK_FIRST,
	S_OTK_DELETE,
	S_SHARE_CASE,
	S_MESSAGE_SEEN,
	S_COUNSELLOR_GET,
	S_COUNSELLOR_EACH,
	S_ACCOUNT_SET_DISABLED,
	S_PROGRAMME_SET_PROFILE,
	S_PROGRAMME_EACH,
	S_NOTE_INSERT,
	S_NOTES,
	S_AUDIT_INSERT,
	S_AUDIT,
	S_QUEUE_COUNT,
	S_FIRST_RESPONSES,
	S_COUNT
};

/* Column lists, in the order the *_cols() readers below take them. */
#define ACCOUNT_COLS	"a.id, a.key, a.role, " \
			"coalesce(a.programme_id, 0), a.name, a.disabled, " \
			"a.created"
#define ACCOUNT_NCOLS	7
#define PROFILE_COLS	"p.languages, p.topics, p.capacity, p.presence, " \
			"coalesce(p.gender, ''), p.age_band, p.background, " \
			"p.formats, coalesce(p.region, ''), p.hours"
#define PROFILE_NCOLS	10
#define CASE_COLS	"c.id, c.status, c.language, coalesce(c.topic, ''), " \
			"c.client_id, coalesce(c.counsellor_id, 0), " \
			"c.created, c.updated, c.urgency, " \
			"coalesce(c.programme_id, 0), " \
			"coalesce(c.pref_gender, ''), c.pref_age, " \
			"c.pref_background, c.pref_format, " \
			"coalesce(c.pref_region, ''), c.asked, c.met, " \
			"coalesce(c.first_response, 0), " \
			"coalesce(c.left_counsellor, 0)"
#define PROGRAMME_COLS	"id, name, signing_key, description, " \
			"languages, topics, regions, formats"
/* A counsellor: account, profile, then certified, open, last_assigned. */
#define COUNSELLOR_COLS	ACCOUNT_COLS ", " PROFILE_COLS ", " \
			"a.cert IS NOT NULL, "
#define COUNSELLOR_FROM	" FROM accounts a JOIN counsellor_profiles p" \
			" ON p.account_id = a.id"

static const char *const sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* One request (store_mark) and one call, nested inside it. */
	[S_MARK] = "SAVEPOINT request",
	[S_MARK_RELEASE] = "RELEASE request",
	[S_MARK_UNDO] = "ROLLBACK TO request",
	[S_CALL] = "SAVEPOINT call",
	[S_CALL_RELEASE] = "RELEASE call",
	[S_CALL_UNDO] = "ROLLBACK TO call",

	[S_PROGRAMME_INSERT] =
	    "INSERT INTO programmes(name, created) VALUES (?1, ?2)",
	[S_PROGRAMME_FIRST] =
	    "SELECT id FROM programmes ORDER BY id LIMIT 1",

	[S_ACCOUNT_BY_KEY] =
	    "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.key = ?1",
	[S_ACCOUNT_BY_ID] =
	    "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = ?1",
	[S_ACCOUNT_INSERT] =
	    "INSERT INTO accounts(key, role, programme_id, name, disabled,"
	    " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT(key) DO NOTHING",
	[S_ACCOUNT_SET_NAME] =
	    "UPDATE accounts SET name = ?2 WHERE id = ?1",
	[S_ADMIN_COUNT] =
	    "SELECT count(*) FROM accounts WHERE role = 3",

	[S_PROFILE_INSERT] =
	    "INSERT INTO counsellor_profiles(account_id, capacity, presence,"
	    " formats) VALUES (?1, ?2, ?3, ?4)",
	[S_PROFILE_GET] =
	    "SELECT " PROFILE_COLS
	    " FROM counsellor_profiles p WHERE p.account_id = ?1",
	[S_PROFILE_SET] =
	    "UPDATE counsellor_profiles SET languages = ?2, topics = ?3,"
	    " capacity = ?4, presence = ?5, gender = ?6, age_band = ?7,"
	    " background = ?8, formats = ?9, region = ?10, hours = ?11"
	    " WHERE account_id = ?1",
	[S_PROFILE_ASSIGNED] =
	    "UPDATE counsellor_profiles SET last_assigned = ?2"
	    " WHERE account_id = ?1",

	[S_INVITE_INSERT] =
	    "INSERT INTO invites(hash, programme_id, role, expires,"
	    " created_by, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* One statement: the check and the take cannot be split. */
	[S_INVITE_TAKE] =
	    "UPDATE invites SET used_at = ?2"
	    " WHERE hash = ?1 AND used_at IS NULL AND expires > ?2"
	    " RETURNING programme_id, role",
	[S_INVITE_PENDING] =
	    "SELECT count(*) FROM invites"
	    " WHERE programme_id = ?1 AND used_at IS NULL AND expires > ?2",
	[S_INVITE_DROP_BOOTSTRAP] =
	    "DELETE FROM invites WHERE created_by IS NULL AND used_at IS NULL",

	/* A taken id inserts nothing and is retried with another. */
	[S_CASE_INSERT] =
	    "INSERT INTO cases(id, client_id, counsellor_id, status, language,"
	    " topic, created, updated, queued) VALUES (?1, ?2, NULL, 1, ?3, ?4,"
	    " ?5, ?5, (SELECT coalesce(max(queued), 0) + 1 FROM cases))"
	    " ON CONFLICT(id) DO NOTHING",
	[S_CASE_GET] =
	    "SELECT " CASE_COLS " FROM cases c WHERE c.id = ?1",
	[S_CASE_OPEN_OF_CLIENT] =
	    "SELECT " CASE_COLS " FROM cases c"
	    " WHERE c.client_id = ?1 AND c.status IN (1, 2, 4)",
	/* Same second: the later id first, for a stable order. */
	[S_CASE_EACH_OF] =
	    "SELECT " CASE_COLS " FROM case_participants p"
	    " JOIN cases c ON c.id = p.case_id WHERE p.account_id = ?1"
	    " ORDER BY c.created DESC, c.id DESC LIMIT ?2",
	[S_CASE_ASSIGN] =
	    "UPDATE cases SET counsellor_id = ?2, status = 2, updated = ?3"
	    " WHERE id = ?1 AND status = 1",
	[S_CASE_CLOSE] =
	    "UPDATE cases SET status = 3, updated = ?2"
	    " WHERE id = ?1 AND status != 3",
	/* cases_queue gives this order without a sort. */
	[S_CASE_WAITING] =
	    "SELECT id FROM cases WHERE status = 1"
	    " ORDER BY urgency DESC, queued LIMIT ?1",
	[S_CASE_SET_PREFS] =
	    "UPDATE cases SET urgency = ?2, programme_id = ?3,"
	    " pref_gender = ?4, pref_age = ?5, pref_background = ?6,"
	    " pref_format = ?7, pref_region = ?8 WHERE id = ?1",
	[S_CASE_SET_MATCH] =
	    "UPDATE cases SET asked = ?2, met = ?3 WHERE id = ?1",
	[S_CASE_SET_STATUS] =
	    "UPDATE cases SET status = ?2, updated = ?3 WHERE id = ?1",
	/* Only an open case with a counsellor: a closed one stays closed. */
	[S_CASE_UNASSIGN] =
	    "UPDATE cases SET left_counsellor = counsellor_id,"
	    " counsellor_id = NULL, status = 1, asked = 0,"
	    " met = 0, updated = ?2 WHERE id = ?1"
	    " AND counsellor_id IS NOT NULL AND status IN (1, 2, 4)",
	[S_CASE_OPEN_OF_COUNSELLOR] =
	    "SELECT id FROM cases WHERE counsellor_id = ?1"
	    " AND status IN (1, 2, 4) ORDER BY queued LIMIT ?2",
	[S_CASE_UNREAD] =
	    "SELECT count(*) FROM deliveries d"
	    " JOIN messages m ON m.id = d.message_id"
	    " WHERE d.recipient_id = ?2 AND m.case_id = ?1",
	/* A message: the case changed; the counsellor's first answers. */
	[S_CASE_TOUCH] =
	    "UPDATE cases SET updated = ?2, first_response = CASE"
	    " WHEN first_response IS NULL AND counsellor_id = ?3 THEN ?2"
	    " ELSE first_response END WHERE id = ?1",

	/* The participant's role is its account's; joined counts up. */
	[S_PARTICIPANT_INSERT] =
	    "INSERT INTO case_participants(case_id, account_id, role, joined)"
	    " SELECT ?1, a.id, a.role, (SELECT coalesce(max(joined), 0) + 1"
	    "  FROM case_participants WHERE case_id = ?1)"
	    " FROM accounts a WHERE a.id = ?2",
	[S_PARTICIPANTS] =
	    "SELECT p.account_id, a.key, p.role, a.name,"
	    " coalesce(a.programme_id, 0), a.cert"
	    " FROM case_participants p JOIN accounts a ON a.id = p.account_id"
	    " WHERE p.case_id = ?1 ORDER BY p.joined",
	[S_PARTICIPANT_HAS] =
	    "SELECT 1 FROM case_participants"
	    " WHERE case_id = ?1 AND account_id = ?2",
	/* Before S_CASE_UNASSIGN, which forgets who the counsellor was. */
	[S_PARTICIPANT_DROP_COUNSELLOR] =
	    "DELETE FROM case_participants WHERE case_id = ?1 AND account_id ="
	    " (SELECT counsellor_id FROM cases WHERE id = ?1"
	    "  AND status IN (1, 2, 4))",

	[S_MESSAGE_INSERT] =
	    "INSERT INTO messages(case_id, sender_id, mid, created)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(sender_id, mid) DO NOTHING",
	[S_DELIVERY_INSERT] =
	    "INSERT INTO deliveries(message_id, recipient_id, ct)"
	    " VALUES (?1, ?2, ?3)",
	[S_DELIVERIES] =
	    "SELECT d.seq, m.case_id, m.mid, a.key, m.created, d.ct"
	    " FROM deliveries d JOIN messages m ON m.id = d.message_id"
	    " JOIN accounts a ON a.id = m.sender_id"
	    " WHERE d.recipient_id = ?1 AND d.seq > ?2"
	    " ORDER BY d.seq LIMIT ?3",
	[S_DELIVERY_ACK] =
	    "DELETE FROM deliveries WHERE seq = ?1 AND recipient_id = ?2",
	[S_PROGRAMME_GET] =
	    "SELECT " PROGRAMME_COLS " FROM programmes WHERE id = ?1",
	[S_PROGRAMME_SET_KEY] =
	    "UPDATE programmes SET signing_key = ?2"
	    " WHERE id = ?1 AND signing_key IS NULL",
	[S_CERT_SET] =
	    "UPDATE accounts SET cert = ?2 WHERE id = ?1",
	[S_CERT_GET] =
	    "SELECT cert FROM accounts WHERE id = ?1",
	[S_UNCERTIFIED] =
	    "SELECT key, name FROM accounts WHERE role = 2"
	    " AND programme_id = ?1 AND cert IS NULL AND disabled = 0"
	    " ORDER BY id LIMIT ?2",
	[S_SPK_SET] =
	    "INSERT INTO signed_prekeys(account_id, spk_id, spk, sig, updated)"
	    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(account_id) DO UPDATE"
	    " SET spk_id = ?2, spk = ?3, sig = ?4, updated = ?5",
	[S_SPK_GET] =
	    "SELECT spk_id, spk, sig FROM signed_prekeys WHERE account_id = ?1",
	[S_OTK_ADD] =
	    "INSERT INTO one_time_prekeys(account_id, otk_id, pk)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_OTK_COUNT] =
	    "SELECT count(*) FROM one_time_prekeys WHERE account_id = ?1",
	[S_OTK_FIRST] =
	    "SELECT otk_id, pk FROM one_time_prekeys WHERE account_id = ?1"
	    " ORDER BY otk_id LIMIT 1",
	[S_OTK_DELETE] =
	    "DELETE FROM one_time_prekeys WHERE account_id = ?1 AND otk_id = ?2",
	[S_MESSAGE_SEEN] =
	    "SELECT 1 FROM messages WHERE sender_id = ?1 AND mid = ?2",
	[S_SHARE_CASE] =
	    "SELECT 1 FROM case_participants a JOIN case_participants b"
	    " ON b.case_id = a.case_id WHERE a.account_id = ?1"
	    " AND b.account_id = ?2 LIMIT 1",

	/*
	 * Counsellors, with their open cases counted by a subquery per row
	 * (three seeks in cases_counsellor). Measured for the start-up load
	 * of 10k counsellors: about 20 ms, as fast as a LEFT JOIN on a
	 * GROUP BY of cases; with 1M closed cases 31 ms, while the GROUP BY
	 * scans all of cases_counsellor and takes 97 ms.
	 */
	[S_COUNSELLOR_GET] =
	    "SELECT " COUNSELLOR_COLS
	    " (SELECT count(*) FROM cases c WHERE c.counsellor_id = a.id"
	    "  AND c.status IN (1, 2, 4)), coalesce(p.last_assigned, 0)"
	    COUNSELLOR_FROM " WHERE a.id = ?1 AND a.role = 2",
	[S_COUNSELLOR_EACH] =
	    "SELECT " COUNSELLOR_COLS
	    " (SELECT count(*) FROM cases c WHERE c.counsellor_id = a.id"
	    "  AND c.status IN (1, 2, 4)), coalesce(p.last_assigned, 0)"
	    COUNSELLOR_FROM " WHERE a.role = 2"
	    " AND (?1 = 0 OR a.programme_id = ?1) ORDER BY a.id LIMIT ?2",
	[S_ACCOUNT_SET_DISABLED] =
	    "UPDATE accounts SET disabled = ?2 WHERE id = ?1",

	[S_PROGRAMME_SET_PROFILE] =
	    "UPDATE programmes SET name = ?2, description = ?3,"
	    " languages = ?4, topics = ?5, regions = ?6, formats = ?7"
	    " WHERE id = ?1",
	[S_PROGRAMME_EACH] =
	    "SELECT " PROGRAMME_COLS " FROM programmes ORDER BY id LIMIT ?1",

	[S_NOTE_INSERT] =
	    "INSERT INTO case_notes(case_id, author_id, ct, created)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_NOTES] =
	    "SELECT id, created, ct FROM case_notes"
	    " WHERE case_id = ?1 AND author_id = ?2 ORDER BY id LIMIT ?3",

	[S_AUDIT_INSERT] =
	    "INSERT INTO audit(programme_id, actor_id, action, target_id,"
	    " detail, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_AUDIT] =
	    "SELECT u.id, u.created, coalesce(u.actor_id, 0),"
	    " coalesce(a.name, ''), u.action, coalesce(u.target_id, 0),"
	    " coalesce(t.name, ''), u.detail FROM audit u"
	    " LEFT JOIN accounts a ON a.id = u.actor_id"
	    " LEFT JOIN accounts t ON t.id = u.target_id"
	    " WHERE u.programme_id = ?1 AND u.id < ?2"
	    " ORDER BY u.id DESC LIMIT ?3",

	[S_QUEUE_COUNT] =
	    "SELECT count(*) FROM cases WHERE status = 1"
	    " AND (programme_id IS NULL OR programme_id = ?1)",
	[S_FIRST_RESPONSES] =
	    "SELECT c.first_response - c.created FROM cases c"
	    " JOIN accounts a ON a.id = c.counsellor_id"
	    " WHERE a.programme_id = ?1 AND c.created >= ?2"
	    " AND c.first_response IS NOT NULL ORDER BY 1 LIMIT ?3",

	[S_MESSAGES_PURGE] =
	    "DELETE FROM messages WHERE created < ?1 AND NOT EXISTS"
	    " (SELECT 1 FROM deliveries d WHERE d.message_id = messages.id)",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *s[S_COUNT];
	int tx;			/* a transaction of ours is open */
	int broken;		/* SQLite dropped it, or an undo failed */
	int marked;		/* inside store_mark() .. store_unmark() */
	int mark_open;		/* the request's savepoint is open */
};

/* Resets s and drops its bindings, which point into the caller's memory. */
static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/*
 * Logs a failure of what, resets s (when not NULL) and notes whether
 * SQLite rolled back the whole transaction on its own (it does on some
 * I/O, full-disk and out-of-memory errors): then the writes of this turn
 * are gone and store_commit() must not report success.
 */
static int
fail(struct store *st, sqlite3_stmt *s, const char *what)
{
	if (s != NULL)
		done(s);
	log_err("store: %s: %s", what, sqlite3_errmsg(st->db));
	if (st->tx && sqlite3_get_autocommit(st->db))
		st->broken = 1;
	return OFR_E_INTERNAL;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *t)
{
	size_t n = strlen(t);

	if (n > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(s, i, t, (int)n, SQLITE_STATIC);
}

/* Binds text t, or NULL when t is "". */
static int
bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	return t[0] != '\0' ? bind_text(s, i, t) : sqlite3_bind_null(s, i);
}

/* Binds a row id, or NULL when it is 0 (none). */
static int
bind_ref(sqlite3_stmt *s, int i, int64_t id)
{
	return id != 0 ? sqlite3_bind_int64(s, i, id) : sqlite3_bind_null(s, i);
}

static int
bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
	if (n > INT_MAX)
		return SQLITE_TOOBIG;
	if (n == 0)	/* a NULL pointer would bind NULL */
		return sqlite3_bind_zeroblob(s, i, 0);
	return sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC);
}

/* A row count as an SQL LIMIT. */
static int64_t
limit_of(size_t max)
{
	return max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* Runs s to its end, ignoring nothing: a row is an error here. */
static int
exec(struct store *st, sqlite3_stmt *s, const char *what)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		return fail(st, s, what);
	done(s);
	return 0;
}

/*
 * Like exec(), but when a constraint of kind ext (an extended result code,
 * e.g. SQLITE_CONSTRAINT_UNIQUE) refuses the statement, returns code: the
 * statement changed nothing, and the transaction goes on.
 */
static int
exec_or(struct store *st, sqlite3_stmt *s, int ext, int code,
    const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE) {
		done(s);
		return 0;
	}
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == ext) {
		done(s);
		return code;
	}
	return fail(st, s, what);
}

/* Steps a query that gives at most one row: 1 with a row (the caller reads
 * it, then calls done()), 0 without (reset already), or OFR_E_INTERNAL. */
static int
row(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		done(s);
		return 0;
	}
	return fail(st, s, what);
}

/* Copies text column i into buf (capacity cap); -1 when it does not fit. */
static int
col_text(sqlite3_stmt *s, int i, char *buf, size_t cap)
{
	const unsigned char *p = sqlite3_column_text(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);

	if (cap == 0 || n >= cap)
		return -1;
	if (p != NULL)
		memcpy(buf, p, n);
	else
		n = 0;
	buf[n] = '\0';
	return 0;
}

/* Copies blob column i into buf; -1 unless it is exactly n bytes. */
static int
col_blob(sqlite3_stmt *s, int i, uint8_t *buf, size_t n)
{
	const void *p = sqlite3_column_blob(s, i);

	if (p == NULL || (size_t)sqlite3_column_bytes(s, i) != n)
		return -1;
	memcpy(buf, p, n);
	return 0;
}

/* A row of the database that breaks the schema's promises. */
static int
corrupt(struct store *st, sqlite3_stmt *s, const char *what)
{
	done(s);
	log_err("store: %s: a stored row has a field of the wrong size", what);
	(void)st;
	return OFR_E_INTERNAL;
}

/* Reads the current row of s into out; -1 when a field breaks the
 * schema's promises. */
typedef int row_reader(sqlite3_stmt *s, void *out);

/* Binds params[0..n-1] to ?1..?n of s: SQLITE_OK or SQLite's error. */
static int
bind_params(sqlite3_stmt *s, const int64_t *params, size_t n)
{
	int rc = SQLITE_OK;

	for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_int64(s, (int)i + 1, params[i]);
	return rc;
}

/*
 * The one get-row body: binds params to ?1..?n of statement id (the caller
 * may have bound other parameters), steps it once and reads the row into
 * out with read (NULL: only whether there is one); s is reset in every
 * case. Returns 0, OFR_E_NOT_FOUND when there is no row, or
 * OFR_E_INTERNAL (logged as what) on an SQLite failure or a row that
 * breaks the schema's promises.
 */
static int
get_row(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    row_reader *read, void *out, const char *what)
{
	sqlite3_stmt *s = st->s[id];
	int rc;

	if (bind_params(s, params, n) != SQLITE_OK)
		return fail(st, s, what);
	if ((rc = row(st, s, what)) <= 0)
		return rc == 0 ? OFR_E_NOT_FOUND : rc;
	if (read != NULL && read(s, out) != 0)
		return corrupt(st, s, what);
	done(s);
	return 0;
}

/* Reads column 0 into an int64_t. */
static int
int64_col(sqlite3_stmt *s, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(s, 0);
	return 0;
}

/* The count(*) of statement id bound to params; no row is a failure. */
static int
count_of(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int64_t *count, const char *what)
{
	int rc = get_row(st, id, params, n, int64_col, count, what);

	return rc == OFR_E_NOT_FOUND ? fail(st, NULL, what) : rc;
}

/* 1 in *yes when statement id bound to params gives a row, else 0. */
static int
exists(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int *yes, const char *what)
{
	int rc = get_row(st, id, params, n, NULL, NULL, what);

	if (rc != 0 && rc != OFR_E_NOT_FOUND)
		return rc;
	*yes = rc == 0;
	return 0;
}

/* Reads the current row of s and hands it on as ctx says; setting *rc
 * non-zero stops the walk. -1 when a field breaks the schema's promises. */
typedef int row_visitor(sqlite3_stmt *s, void *ctx, int *rc);

/*
 * The one each-row body, and the store's one re-entrancy guard: when
 * statement id is being stepped already (the caller is a callback of a
 * walk of the same statement, which must not be restarted under it),
 * logs and returns OFR_E_INTERNAL. Else binds params to ?1..?n, calls
 * visit for each row until it sets *rc, and resets the statement.
 * Returns 0 at the end of the rows, the *rc that stopped the walk, or
 * OFR_E_INTERNAL (logged as what) on an SQLite failure or a row that
 * breaks the schema's promises.
 */
static int
each_row(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    row_visitor *visit, void *ctx, const char *what)
{
	sqlite3_stmt *s = st->s[id];
	int rc = 0, step = SQLITE_DONE;

	if (sqlite3_stmt_busy(s)) {
		log_err("store: %s: called from its own callback", what);
		return OFR_E_INTERNAL;
	}
	if (bind_params(s, params, n) != SQLITE_OK)
		return fail(st, s, what);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
		if (visit(s, ctx, &rc) != 0)
			return corrupt(st, s, what);
	if (rc == 0 && step != SQLITE_DONE)
		return fail(st, s, what);
	done(s);
	return rc;
}

/* Where ints_of() puts the integers. */
struct int_list {
	int64_t *v;
	size_t max;
	size_t *n;
};

static int
int_add(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct int_list *l = ctx;

	if (*l->n < l->max)
		l->v[(*l->n)++] = sqlite3_column_int64(s, 0);
	*rc = *l->n == l->max;	/* full: step no further */
	return 0;
}

/* Column 0 of the rows of statement id bound to params, at most max of
 * them into v; *count set. */
static int
ints_of(struct store *st, enum stmt_id id, const int64_t *params, size_t n,
    int64_t *v, size_t max, size_t *count, const char *what)
{
	struct int_list l = { v, max, count };
	int rc;

	*count = 0;
	rc = each_row(st, id, params, n, int_add, &l, what);
	return rc > 0 ? 0 : rc;
}

/* 1 when s (in a buffer of cap bytes) is "," or ",tok,...," of valid
 * tokens: the form frame_token_list() gives and the matching relies on. */
static int
list_ok(const char *s, size_t cap)
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

/*
 * Every write calls this first: it opens the turn's transaction when none
 * is open, and the request's savepoint when store_mark() asked for one.
 */
static int
write_begin(struct store *st)
{
	if (st->broken) {
		log_err("store: the transaction was lost; commit or roll back");
		return OFR_E_INTERNAL;
	}
	if (!st->tx) {
		if (exec(st, st->s[S_BEGIN], "begin") != 0)
			return OFR_E_INTERNAL;
		st->tx = 1;
	}
	if (st->marked && !st->mark_open) {
		if (exec(st, st->s[S_MARK], "mark") != 0)
			return OFR_E_INTERNAL;
		st->mark_open = 1;
	}
	return 0;
}

/* Opens the savepoint of a call that writes more than one row. */
static int
call_begin(struct store *st)
{
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	return exec(st, st->s[S_CALL], "savepoint");
}

/* Ends what call_begin() opened: keeps the call's writes when rc is 0,
 * undoes them otherwise. Returns rc, or OFR_E_INTERNAL. */
static int
call_end(struct store *st, int rc)
{
	if (rc == 0) {
		if (exec(st, st->s[S_CALL_RELEASE], "release") == 0)
			return 0;
		rc = OFR_E_INTERNAL;
	}
	if (st->broken)
		return rc;
	if (exec(st, st->s[S_CALL_UNDO], "undo") != 0 ||
	    exec(st, st->s[S_CALL_RELEASE], "release") != 0)
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
	if (buf != NULL && col_text(s, 0, buf, cap) != 0)
		buf[0] = '\0';
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

static int
open_db(struct store *st, const char *path)
{
	char mode[16];
	int64_t fk;

	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		log_err("store: cannot open the database: %s",
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		return OFR_E_INTERNAL;
	}
	sqlite3_busy_timeout(st->db, BUSY_MS);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (pragma(st, "PRAGMA journal_mode = WAL", NULL, mode,
	    sizeof(mode)) != 0)
		return OFR_E_INTERNAL;
	if (strcmp(mode, "wal") != 0) {
		log_err("store: the database cannot use WAL (mode %s)", mode);
		return OFR_E_INTERNAL;
	}
	if (open_exec(st, "PRAGMA synchronous = FULL") != 0 ||
	    open_exec(st, "PRAGMA foreign_keys = ON") != 0 ||
	    pragma(st, "PRAGMA foreign_keys", &fk, NULL, 0) != 0)
		return OFR_E_INTERNAL;
	if (fk != 1) {
		log_err("store: foreign keys cannot be enforced");
		return OFR_E_INTERNAL;
	}
	if (migrate(st) != 0)
		return OFR_E_INTERNAL;
	for (int i = 0; i < S_COUNT; i++) {
		if (sql[i] == NULL || sqlite3_prepare_v3(st->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->s[i], NULL) != SQLITE_OK) {
			log_err("store: cannot prepare statement %d: %s", i,
			    sqlite3_errmsg(st->db));
			return OFR_E_INTERNAL;
		}
	}
	return 0;
}

int
store_open(struct store **out, const char *dir)
{
	char path[PATH_MAX];
	struct store *st;
	mode_t old;
	int n, rc;

	*out = NULL;
	if (sodium_init() < 0)
		return OFR_E_INTERNAL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, DB_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_err("store: the data directory's path is too long");
		return OFR_E_IO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return OFR_E_NOMEM;
	/* The -wal and -shm files SQLite makes must be ours alone too. */
	old = umask(077);
	if ((rc = make_dir(dir)) == 0 && (rc = make_file(path)) == 0)
		rc = open_db(st, path);
	umask(old);
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->s[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_err("store: close: %s", sqlite3_errmsg(st->db));
	free(st);
}

static void
rollback_all(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		exec(st, st->s[S_ROLLBACK], "rollback");
	st->tx = 0;
	st->broken = 0;
	st->mark_open = 0;
}

int
store_commit(struct store *st)
{
	if (!st->tx)
		return 0;
	if (st->broken) {
		log_err("store: commit: the transaction was lost; nothing of "
		    "it is kept");
		rollback_all(st);
		return OFR_E_INTERNAL;
	}
	if (st->mark_open) {
		/* A request still in flight: its writes go with this commit. */
		if (exec(st, st->s[S_MARK_RELEASE], "release mark") != 0) {
			rollback_all(st);
			return OFR_E_INTERNAL;
		}
		st->mark_open = 0;
	}
	if (exec(st, st->s[S_COMMIT], "commit") != 0) {
		rollback_all(st);
		return OFR_E_INTERNAL;
	}
	st->tx = 0;
	return 0;
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
	if (!keep && exec(st, st->s[S_MARK_UNDO], "undo mark") != 0) {
		st->broken = 1;
		return;
	}
	if (exec(st, st->s[S_MARK_RELEASE], "release mark") != 0)
		st->broken = 1;
}

/* Programmes. */

int
store_programme_create(struct store *st, const char *name, int64_t now,
    int64_t *id)
{
	sqlite3_stmt *s = st->s[S_PROGRAMME_INSERT];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (bind_text(s, 1, name) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_programme_first(struct store *st, int64_t *id)
{
	return get_row(st, S_PROGRAMME_FIRST, NULL, 0, int64_col, id,
	    __func__);
}

/* Accounts. */

/* Reads ACCOUNT_COLS into a struct account. */
static int
account_cols(sqlite3_stmt *s, void *row)
{
	struct account *out = row;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	if (col_blob(s, 1, out->key, OFR_PK_BYTES) != 0 ||
	    col_text(s, 4, out->name, sizeof(out->name)) != 0)
		return -1;
	out->role = sqlite3_column_int(s, 2);
	out->programme = sqlite3_column_int64(s, 3);
	out->disabled = sqlite3_column_int(s, 5);
	out->created = sqlite3_column_int64(s, 6);
	return 0;
}

int
store_account_by_key(struct store *st, const uint8_t key[OFR_PK_BYTES],
    struct account *out)
{
	sqlite3_stmt *s = st->s[S_ACCOUNT_BY_KEY];

	if (bind_blob(s, 1, key, OFR_PK_BYTES) != SQLITE_OK)
		return fail(st, s, __func__);
	return get_row(st, S_ACCOUNT_BY_KEY, NULL, 0, account_cols, out,
	    __func__);
}

int
store_account_by_id(struct store *st, int64_t id, struct account *out)
{
	return get_row(st, S_ACCOUNT_BY_ID, &id, 1, account_cols, out,
	    __func__);
}

int
store_account_create(struct store *st, struct account *a)
{
	sqlite3_stmt *s = st->s[S_ACCOUNT_INSERT];
	size_t namelen = strnlen(a->name, sizeof(a->name));
	int rc;

	if (namelen == sizeof(a->name) || a->role < ROLE_CLIENT ||
	    a->role > ROLE_ADMIN)
		return OFR_E_BAD_FIELD;
	if ((rc = call_begin(st)) != 0)
		return rc;
	if (bind_blob(s, 1, a->key, OFR_PK_BYTES) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, a->role) != SQLITE_OK ||
	    bind_ref(s, 3, a->programme) != SQLITE_OK ||
	    bind_text(s, 4, a->name) != SQLITE_OK ||
	    sqlite3_bind_int(s, 5, a->disabled != 0) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, a->created) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	if ((rc = exec(st, s, __func__)) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0) {
		rc = OFR_E_FORBIDDEN;	/* the key has an account */
		goto out;
	}
	a->id = sqlite3_last_insert_rowid(st->db);
	if (a->role == ROLE_COUNSELLOR) {
		s = st->s[S_PROFILE_INSERT];
		if (sqlite3_bind_int64(s, 1, a->id) != SQLITE_OK ||
		    sqlite3_bind_int(s, 2, PROFILE_CAPACITY) != SQLITE_OK ||
		    sqlite3_bind_int(s, 3, PRESENCE_ONLINE) != SQLITE_OK ||
		    sqlite3_bind_int(s, 4, FORMAT_CHAT) != SQLITE_OK) {
			rc = fail(st, s, __func__);
			goto out;
		}
		rc = exec(st, s, __func__);
	}
out:
	return call_end(st, rc);
}

int
store_account_set_name(struct store *st, int64_t account, const char *name)
{
	sqlite3_stmt *s = st->s[S_ACCOUNT_SET_NAME];
	int rc;

	if (strnlen(name, OFR_NAME_MAX + 1) > OFR_NAME_MAX)
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, account) != SQLITE_OK ||
	    bind_text(s, 2, name) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

int
store_admin_count(struct store *st, int64_t *n)
{
	return count_of(st, S_ADMIN_COUNT, NULL, 0, n, __func__);
}

/* Counsellor profiles. */

/* Reads PROFILE_COLS from column i on; -1 when a field breaks the
 * schema's promises. */
static int
profile_cols(sqlite3_stmt *s, int i, struct profile *out)
{
	memset(out, 0, sizeof(*out));
	if (col_text(s, i, out->languages, sizeof(out->languages)) != 0 ||
	    col_text(s, i + 1, out->topics, sizeof(out->topics)) != 0 ||
	    col_text(s, i + 4, out->gender, sizeof(out->gender)) != 0 ||
	    col_text(s, i + 8, out->region, sizeof(out->region)) != 0)
		return -1;
	out->capacity = sqlite3_column_int(s, i + 2);
	out->presence = sqlite3_column_int(s, i + 3);
	out->age_band = sqlite3_column_int(s, i + 5);
	out->background = sqlite3_column_int(s, i + 6);
	out->formats = sqlite3_column_int(s, i + 7);
	if (sqlite3_column_type(s, i + 9) != SQLITE_NULL &&
	    col_blob(s, i + 9, out->hours, MODEL_HOURS_BYTES) != 0)
		return -1;
	return 0;
}

/* Reads a row of S_PROFILE_GET into a struct profile. */
static int
profile_row(sqlite3_stmt *s, void *out)
{
	return profile_cols(s, 0, out);
}

/* OFR_E_NOT_FOUND when the account has no profile (not a counsellor). */
int
store_profile_get(struct store *st, int64_t account, struct profile *out)
{
	return get_row(st, S_PROFILE_GET, &account, 1, profile_row, out,
	    __func__);
}

/* 1 when t (in a buffer of cap bytes) is "" or a token. */
static int
token_or_empty(const char *t, size_t cap)
{
	size_t n = strnlen(t, cap);

	return n < cap && (n == 0 || frame_is_token(t));
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* OFR_E_BAD_FIELD (nothing written) when a list is not ",tok,...,", gender
 * or region is neither "" nor a token, or a number is out of its range
 * (capacity >= 0, presence 0..2, age_band 0..4, background 0..2, formats
 * 0..7); OFR_E_NOT_FOUND when the account has no profile. Hours all zero
 * are stored as "any time". */
int
store_profile_set(struct store *st, int64_t account, const struct profile *p)
{
	sqlite3_stmt *s = st->s[S_PROFILE_SET];
	int rc, hours;

	if (!list_ok(p->languages, sizeof(p->languages)) ||
	    !list_ok(p->topics, sizeof(p->topics)) || p->capacity < 0 ||
	    p->presence < PRESENCE_OFFLINE || p->presence > PRESENCE_ONLINE ||
	    !token_or_empty(p->gender, sizeof(p->gender)) ||
	    p->age_band < 0 || p->age_band > 4 ||
	    p->background < BACKGROUND_NONE ||
	    p->background > BACKGROUND_PROFESSIONAL ||
	    p->formats < 0 || p->formats > (FORMAT_CHAT | FORMAT_IN_PERSON |
	    FORMAT_PHONE_VIDEO) ||
	    !token_or_empty(p->region, sizeof(p->region)))
		return OFR_E_BAD_FIELD;
	hours = !all_zero(p->hours, sizeof(p->hours));
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, account) != SQLITE_OK ||
	    bind_text(s, 2, p->languages) != SQLITE_OK ||
	    bind_text(s, 3, p->topics) != SQLITE_OK ||
	    sqlite3_bind_int(s, 4, p->capacity) != SQLITE_OK ||
	    sqlite3_bind_int(s, 5, p->presence) != SQLITE_OK ||
	    bind_text_or_null(s, 6, p->gender) != SQLITE_OK ||
	    sqlite3_bind_int(s, 7, p->age_band) != SQLITE_OK ||
	    sqlite3_bind_int(s, 8, p->background) != SQLITE_OK ||
	    sqlite3_bind_int(s, 9, p->formats) != SQLITE_OK ||
	    bind_text_or_null(s, 10, p->region) != SQLITE_OK ||
	    (hours ? bind_blob(s, 11, p->hours, sizeof(p->hours)) :
	    sqlite3_bind_null(s, 11)) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* Invites. */

int
store_invite_create(struct store *st, const uint8_t hash[32],
    int64_t programme, int role, int64_t expires, int64_t created_by,
    int64_t now)
{
	sqlite3_stmt *s = st->s[S_INVITE_INSERT];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (bind_blob(s, 1, hash, 32) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, programme) != SQLITE_OK ||
	    sqlite3_bind_int(s, 3, role) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, expires) != SQLITE_OK ||
	    bind_ref(s, 5, created_by) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, now) != SQLITE_OK)
		return fail(st, s, __func__);
	return exec(st, s, __func__);
}

int
store_invite_take(struct store *st, const uint8_t hash[32], int64_t now,
    int64_t *programme, int *role)
{
	sqlite3_stmt *s = st->s[S_INVITE_TAKE];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (bind_blob(s, 1, hash, 32) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = row(st, s, __func__)) <= 0)
		return rc == 0 ? OFR_E_BAD_INVITE : rc;
	*programme = sqlite3_column_int64(s, 0);
	*role = sqlite3_column_int(s, 1);
	/* hash is UNIQUE: one row. Run to the end so the update completes. */
	if (sqlite3_step(s) != SQLITE_DONE)
		return fail(st, s, __func__);
	done(s);
	return 0;
}

int
store_invite_pending(struct store *st, int64_t programme, int64_t now,
    int64_t *n)
{
	const int64_t key[] = { programme, now };

	return count_of(st, S_INVITE_PENDING, key, nitems(key), n, __func__);
}

int
store_invite_drop_bootstrap(struct store *st)
{
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	return exec(st, st->s[S_INVITE_DROP_BOOTSTRAP], __func__);
}

/* Cases. */

/* Reads CASE_COLS into a struct case_info. */
static int
case_cols(sqlite3_stmt *s, void *row)
{
	struct case_info *out = row;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	out->status = sqlite3_column_int(s, 1);
	if (col_text(s, 2, out->language, sizeof(out->language)) != 0 ||
	    col_text(s, 3, out->topic, sizeof(out->topic)) != 0)
		return -1;
	out->client = sqlite3_column_int64(s, 4);
	out->counsellor = sqlite3_column_int64(s, 5);
	out->created = sqlite3_column_int64(s, 6);
	out->updated = sqlite3_column_int64(s, 7);
	out->prefs.urgency = sqlite3_column_int(s, 8);
	out->prefs.programme = sqlite3_column_int64(s, 9);
	if (col_text(s, 10, out->prefs.gender,
	    sizeof(out->prefs.gender)) != 0 ||
	    col_text(s, 14, out->prefs.region,
	    sizeof(out->prefs.region)) != 0)
		return -1;
	out->prefs.age_band = sqlite3_column_int(s, 11);
	out->prefs.background = sqlite3_column_int(s, 12);
	out->prefs.format = sqlite3_column_int(s, 13);
	out->asked = (unsigned)sqlite3_column_int(s, 15);
	out->met = (unsigned)sqlite3_column_int(s, 16);
	out->first_response = sqlite3_column_int64(s, 17);
	out->left = sqlite3_column_int64(s, 18);
	return 0;
}

/* Adds account to the case, after those already in it. */
static int
participant_add(struct store *st, int64_t case_id, int64_t account,
    const char *what)
{
	sqlite3_stmt *s = st->s[S_PARTICIPANT_INSERT];
	int rc;

	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, account) != SQLITE_OK)
		return fail(st, s, what);
	if ((rc = exec(st, s, what)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* A random case id in 1..2^53-1. */
static int64_t
random_case_id(void)
{
	uint64_t u;

	do {
		randombytes_buf(&u, sizeof(u));
		u &= CASE_ID_MASK;
	} while (u == 0);
	return (int64_t)u;
}

/*
 * Beyond store.h: OFR_E_BAD_FIELD when language or topic is not a token,
 * OFR_E_CASE_OPEN when the client has an open case already (the schema
 * allows one), OFR_E_INTERNAL (and nothing written) when no client has
 * this id. The intake is the default: urgency normal, nothing else.
 */
int
store_case_create(struct store *st, int64_t client, const char *language,
    const char *topic, int64_t now, struct case_info *out)
{
	sqlite3_stmt *s = st->s[S_CASE_INSERT];
	int64_t id = 0;
	int rc, tries;

	if (topic == NULL)
		topic = "";
	if (!frame_is_token(language) ||
	    (topic[0] != '\0' && !frame_is_token(topic)))
		return OFR_E_BAD_FIELD;
	if ((rc = call_begin(st)) != 0)
		return rc;
	for (tries = 0; tries < CASE_ID_TRIES; tries++) {
		id = random_case_id();
		if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 2, client) != SQLITE_OK ||
		    bind_text(s, 3, language) != SQLITE_OK ||
		    bind_text_or_null(s, 4, topic) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 5, now) != SQLITE_OK) {
			rc = fail(st, s, __func__);
			goto out;
		}
		if ((rc = exec_or(st, s, SQLITE_CONSTRAINT_UNIQUE,
		    OFR_E_CASE_OPEN, __func__)) != 0)	/* cases_one_open */
			goto out;
		if (sqlite3_changes(st->db) == 1)
			break;
	}
	if (tries == CASE_ID_TRIES) {
		log_err("store: %s: no free case id in %d tries", __func__,
		    CASE_ID_TRIES);
		rc = OFR_E_INTERNAL;
		goto out;
	}
	if ((rc = participant_add(st, id, client, __func__)) != 0)
		goto out;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->status = CASE_WAITING;
	memcpy(out->language, language, strlen(language) + 1);
	memcpy(out->topic, topic, strlen(topic) + 1);
	out->client = client;
	out->created = out->updated = now;
	out->prefs.urgency = 1;
out:
	return call_end(st, rc);
}

int
store_case_get(struct store *st, int64_t id, struct case_info *out)
{
	return get_row(st, S_CASE_GET, &id, 1, case_cols, out, __func__);
}

int
store_case_open_of_client(struct store *st, int64_t client,
    struct case_info *out)
{
	return get_row(st, S_CASE_OPEN_OF_CLIENT, &client, 1, case_cols, out,
	    __func__);
}

/* The cases store_case_each_of() reads before it calls back. */
struct case_list {
	struct case_info *cases;
	size_t n;
};

static int
case_add(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct case_list *l = ctx;

	if (case_cols(s, &l->cases[l->n]) != 0)
		return -1;
	*rc = ++l->n == STORE_CASES_MAX;	/* full: step no further */
	return 0;
}

/* The cases are read in full before fn sees the first, so fn may call any
 * store function. */
int
store_case_each_of(struct store *st, int64_t account,
    int (*fn)(void *arg, const struct case_info *c), void *arg)
{
	const int64_t key[] = { account, STORE_CASES_MAX };
	struct case_list l = { NULL, 0 };
	int rc;

	if ((l.cases = calloc(STORE_CASES_MAX, sizeof(*l.cases))) == NULL)
		return OFR_E_NOMEM;
	rc = each_row(st, S_CASE_EACH_OF, key, nitems(key), case_add, &l,
	    __func__);
	if (rc > 0)
		rc = 0;
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = fn(arg, &l.cases[i]);
	free(l.cases);
	return rc;
}

/* OFR_E_NOT_FOUND when there is no waiting case case_id, or counsellor
 * has no counsellor profile. */
int
store_case_assign(struct store *st, int64_t case_id, int64_t counsellor,
    int64_t now)
{
	sqlite3_stmt *s = st->s[S_CASE_ASSIGN];
	int rc;

	if ((rc = call_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, counsellor) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, now) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	if ((rc = exec(st, s, __func__)) != 0)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		rc = OFR_E_NOT_FOUND;
		goto out;
	}
	s = st->s[S_PROFILE_ASSIGNED];
	if (sqlite3_bind_int64(s, 1, counsellor) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	if ((rc = exec(st, s, __func__)) != 0)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		rc = OFR_E_NOT_FOUND;
		goto out;
	}
	rc = participant_add(st, case_id, counsellor, __func__);
out:
	return call_end(st, rc);
}

/* OFR_E_NOT_FOUND when no case has this id, OFR_E_CASE_CLOSED when it is
 * closed already (then nothing changes). */
int
store_case_close(struct store *st, int64_t case_id, int64_t now)
{
	sqlite3_stmt *s = st->s[S_CASE_CLOSE];
	struct case_info c;
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	if (sqlite3_changes(st->db) == 1)
		return 0;
	if ((rc = store_case_get(st, case_id, &c)) != 0)
		return rc;
	return OFR_E_CASE_CLOSED;
}

/* Where store_case_participants() puts the participants. */
struct participant_list {
	struct participant *out;
	size_t max;
	size_t *n;
};

static int
participant_add_row(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct participant_list *l = ctx;
	struct participant *p;

	if (*l->n == l->max) {
		log_err("store: case has more than %zu participants", l->max);
		*rc = OFR_E_LIMIT;
		return 0;
	}
	p = &l->out[*l->n];
	memset(p, 0, sizeof(*p));
	p->account = sqlite3_column_int64(s, 0);
	if (col_blob(s, 1, p->key, OFR_PK_BYTES) != 0 ||
	    col_text(s, 3, p->name, sizeof(p->name)) != 0)
		return -1;
	p->role = sqlite3_column_int(s, 2);
	p->programme = sqlite3_column_int64(s, 4);
	if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
		if (col_blob(s, 5, p->cert, CERT_BYTES) != 0)
			return -1;
		p->has_cert = 1;
	}
	(*l->n)++;
	return 0;
}

/* OFR_E_LIMIT when the case has more than max participants: then out holds
 * the first max and *n is max. A case that does not exist has none. */
int
store_case_participants(struct store *st, int64_t case_id,
    struct participant *out, size_t max, size_t *n)
{
	struct participant_list l = { out, max, n };

	*n = 0;
	return each_row(st, S_PARTICIPANTS, &case_id, 1, participant_add_row,
	    &l, __func__);
}

int
store_case_has_participant(struct store *st, int64_t case_id,
    int64_t account, int *yes)
{
	const int64_t key[] = { case_id, account };

	return exists(st, S_PARTICIPANT_HAS, key, nitems(key), yes, __func__);
}

int
store_case_waiting(struct store *st, int64_t *ids, size_t max, size_t *n)
{
	const int64_t key[] = { limit_of(max) };

	return ints_of(st, S_CASE_WAITING, key, nitems(key), ids, max, n,
	    __func__);
}

/* Messages. */

/* OFR_E_BAD_FIELD (nothing written) when a copy is over OFR_CT_MAX bytes.
 * A stored message also sets the case's updated to now, and its
 * first_response to now when the sender is the case's counsellor and it has
 * none yet. */
int
store_message_insert(struct store *st, int64_t case_id, int64_t sender,
    const uint8_t mid[OFR_MID_BYTES], int64_t now, const int64_t *recipients,
    const uint8_t *const *ct, const size_t *ct_len, size_t n, int *dup)
{
	sqlite3_stmt *s = st->s[S_MESSAGE_INSERT];
	int64_t message;
	int rc;

	*dup = 0;
	for (size_t i = 0; i < n; i++)
		if (ct_len[i] > OFR_CT_MAX)
			return OFR_E_BAD_FIELD;
	if ((rc = call_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, sender) != SQLITE_OK ||
	    bind_blob(s, 3, mid, OFR_MID_BYTES) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, now) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	if ((rc = exec(st, s, __func__)) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0) {
		*dup = 1;	/* sent before: its copies are stored */
		goto out;
	}
	message = sqlite3_last_insert_rowid(st->db);
	s = st->s[S_DELIVERY_INSERT];
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (sqlite3_bind_int64(s, 1, message) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 2, recipients[i]) != SQLITE_OK ||
		    bind_blob(s, 3, ct[i], ct_len[i]) != SQLITE_OK)
			rc = fail(st, s, __func__);
		else
			rc = exec(st, s, __func__);
	}
	if (rc != 0)
		goto out;
	s = st->s[S_CASE_TOUCH];
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, sender) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	rc = exec(st, s, __func__);
out:
	return call_end(st, rc);
}

/* store_deliveries_each()'s callback. */
struct delivery_fn {
	int (*fn)(void *arg, const struct delivery *d);
	void *arg;
};

static int
delivery_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	static const uint8_t empty[1];
	struct delivery_fn *f = ctx;
	struct delivery d;

	memset(&d, 0, sizeof(d));
	d.seq = sqlite3_column_int64(s, 0);
	d.case_id = sqlite3_column_int64(s, 1);
	d.mid = sqlite3_column_blob(s, 2);
	if (d.mid == NULL || sqlite3_column_bytes(s, 2) != OFR_MID_BYTES)
		return -1;
	d.from_key = sqlite3_column_blob(s, 3);
	if (d.from_key == NULL || sqlite3_column_bytes(s, 3) != OFR_PK_BYTES)
		return -1;
	d.ts = sqlite3_column_int64(s, 4);
	d.ct = sqlite3_column_blob(s, 5);
	d.ct_len = (size_t)sqlite3_column_bytes(s, 5);
	if (d.ct == NULL)
		d.ct = empty;
	*rc = f->fn(f->arg, &d);
	return 0;
}

/* fn may call other store functions, but not store_deliveries_each(). */
int
store_deliveries_each(struct store *st, int64_t recipient, int64_t after,
    size_t max, int (*fn)(void *arg, const struct delivery *d), void *arg)
{
	const int64_t key[] = { recipient, after, limit_of(max) };
	struct delivery_fn f = { fn, arg };

	return each_row(st, S_DELIVERIES, key, nitems(key), delivery_visit, &f,
	    __func__);
}

int
store_delivery_ack(struct store *st, int64_t recipient, int64_t seq,
    int *deleted)
{
	sqlite3_stmt *s = st->s[S_DELIVERY_ACK];
	int rc;

	*deleted = 0;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, seq) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, recipient) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	*deleted = sqlite3_changes(st->db) == 1;
	return 0;
}

int
store_messages_purge(struct store *st, int64_t before)
{
	sqlite3_stmt *s = st->s[S_MESSAGES_PURGE];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, before) != SQLITE_OK)
		return fail(st, s, __func__);
	return exec(st, s, __func__);
}

/* Programmes' signing keys and counsellors' certificates. */

/* Reads PROGRAMME_COLS into a struct programme. */
static int
programme_cols(sqlite3_stmt *s, void *row)
{
	struct programme *out = row;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	if (col_text(s, 1, out->name, sizeof(out->name)) != 0 ||
	    col_text(s, 3, out->description, sizeof(out->description)) != 0 ||
	    col_text(s, 4, out->languages, sizeof(out->languages)) != 0 ||
	    col_text(s, 5, out->topics, sizeof(out->topics)) != 0 ||
	    col_text(s, 6, out->regions, sizeof(out->regions)) != 0)
		return -1;
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		if (col_blob(s, 2, out->key, OFR_PK_BYTES) != 0)
			return -1;
		out->has_key = 1;
	}
	out->formats = sqlite3_column_int(s, 7);
	return 0;
}

int
store_programme_get(struct store *st, int64_t id, struct programme *out)
{
	return get_row(st, S_PROGRAMME_GET, &id, 1, programme_cols, out,
	    __func__);
}

/* OFR_E_FORBIDDEN when the programme has a key already (or is unknown). */
int
store_programme_set_key(struct store *st, int64_t id,
    const uint8_t key[OFR_PK_BYTES])
{
	sqlite3_stmt *s = st->s[S_PROGRAMME_SET_KEY];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    bind_blob(s, 2, key, OFR_PK_BYTES) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_FORBIDDEN;
}

int
store_account_set_cert(struct store *st, int64_t account,
    const uint8_t cert[CERT_BYTES])
{
	sqlite3_stmt *s = st->s[S_CERT_SET];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, account) != SQLITE_OK ||
	    bind_blob(s, 2, cert, CERT_BYTES) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* Where store_account_cert() puts a row of S_CERT_GET. */
struct cert_out {
	uint8_t *cert;
	int *has;
};

static int
cert_cols(sqlite3_stmt *s, void *row)
{
	struct cert_out *out = row;

	if (sqlite3_column_type(s, 0) == SQLITE_NULL)
		return 0;
	if (col_blob(s, 0, out->cert, CERT_BYTES) != 0)
		return -1;
	*out->has = 1;
	return 0;
}

int
store_account_cert(struct store *st, int64_t account,
    uint8_t cert[CERT_BYTES], int *has)
{
	struct cert_out out = { cert, has };

	*has = 0;
	return get_row(st, S_CERT_GET, &account, 1, cert_cols, &out, __func__);
}

/* store_uncertified_each()'s callback. */
struct uncertified_fn {
	int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES],
	    const char *name);
	void *arg;
};

static int
uncertified_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct uncertified_fn *f = ctx;
	uint8_t key[OFR_PK_BYTES];
	char name[OFR_NAME_MAX + 1];

	if (col_blob(s, 0, key, OFR_PK_BYTES) != 0 ||
	    col_text(s, 1, name, sizeof(name)) != 0)
		return -1;
	*rc = f->fn(f->arg, key, name);
	return 0;
}

/* fn may call other store functions, but not store_uncertified_each(). */
int
store_uncertified_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES], const char *name),
    void *arg)
{
	const int64_t key[] = { programme, limit_of(max) };
	struct uncertified_fn f = { fn, arg };

	return each_row(st, S_UNCERTIFIED, key, nitems(key), uncertified_visit,
	    &f, __func__);
}

/* Prekeys. */

int
store_spk_set(struct store *st, int64_t account, uint32_t id,
    const uint8_t spk[32], const uint8_t sig[OFR_SIG_BYTES], int64_t now)
{
	sqlite3_stmt *s = st->s[S_SPK_SET];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, id) != SQLITE_OK ||
	    bind_blob(s, 3, spk, 32) != SQLITE_OK ||
	    bind_blob(s, 4, sig, OFR_SIG_BYTES) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, now) != SQLITE_OK)
		return fail(st, s, __func__);
	return exec(st, s, __func__);
}

/* Where store_spk_get() puts a row of S_SPK_GET. */
struct spk_out {
	uint32_t *id;
	uint8_t *spk;
	uint8_t *sig;
};

static int
spk_cols(sqlite3_stmt *s, void *row)
{
	struct spk_out *out = row;

	*out->id = (uint32_t)sqlite3_column_int64(s, 0);
	if (col_blob(s, 1, out->spk, 32) != 0 ||
	    col_blob(s, 2, out->sig, OFR_SIG_BYTES) != 0)
		return -1;
	return 0;
}

int
store_spk_get(struct store *st, int64_t account, uint32_t *id,
    uint8_t spk[32], uint8_t sig[OFR_SIG_BYTES])
{
	struct spk_out out = { id, spk, sig };

	return get_row(st, S_SPK_GET, &account, 1, spk_cols, &out, __func__);
}

/* OFR_E_BAD_FIELD when the account has this id already. */
int
store_otk_add(struct store *st, int64_t account, uint32_t id,
    const uint8_t pk[32])
{
	sqlite3_stmt *s = st->s[S_OTK_ADD];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, id) != SQLITE_OK ||
	    bind_blob(s, 3, pk, 32) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_BAD_FIELD;
}

int
store_otk_count(struct store *st, int64_t account, int64_t *n)
{
	return count_of(st, S_OTK_COUNT, &account, 1, n, __func__);
}

/* Where store_otk_take() puts a row of S_OTK_FIRST. */
struct otk_out {
	uint32_t *id;
	uint8_t *pk;
};

static int
otk_cols(sqlite3_stmt *s, void *row)
{
	struct otk_out *out = row;

	*out->id = (uint32_t)sqlite3_column_int64(s, 0);
	return col_blob(s, 1, out->pk, 32);
}

/* Deletes and gives the account's lowest one-time prekey. */
int
store_otk_take(struct store *st, int64_t account, uint32_t *id,
    uint8_t pk[32])
{
	sqlite3_stmt *d = st->s[S_OTK_DELETE];
	struct otk_out out = { id, pk };
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if ((rc = get_row(st, S_OTK_FIRST, &account, 1, otk_cols, &out,
	    __func__)) != 0)
		return rc;
	if (sqlite3_bind_int64(d, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int64(d, 2, *id) != SQLITE_OK)
		return fail(st, d, __func__);
	return exec(st, d, __func__);
}

int
store_share_case(struct store *st, int64_t a, int64_t b, int *yes)
{
	const int64_t key[] = { a, b };

	return exists(st, S_SHARE_CASE, key, nitems(key), yes, __func__);
}

/* Issue 4: profiles, intake, queue, caseloads, admin tools. */

/* OFR_E_BAD_FIELD (nothing written) when a field is out of its range
 * (urgency 0..2, programme >= 0, gender and region "" or a token, age band
 * 0..4, background 0..2, format 0 or one format bit); OFR_E_NOT_FOUND when
 * no case has this id or no programme has p->programme. */
int
store_case_set_prefs(struct store *st, int64_t case_id,
    const struct case_prefs *p)
{
	sqlite3_stmt *s = st->s[S_CASE_SET_PREFS];
	int rc;

	if (p->urgency < 0 || p->urgency > 2 || p->programme < 0 ||
	    !token_or_empty(p->gender, sizeof(p->gender)) ||
	    p->age_band < 0 || p->age_band > 4 ||
	    p->background < BACKGROUND_NONE ||
	    p->background > BACKGROUND_PROFESSIONAL ||
	    (p->format != 0 && p->format != FORMAT_CHAT &&
	    p->format != FORMAT_IN_PERSON &&
	    p->format != FORMAT_PHONE_VIDEO) ||
	    !token_or_empty(p->region, sizeof(p->region)))
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, p->urgency) != SQLITE_OK ||
	    bind_ref(s, 3, p->programme) != SQLITE_OK ||
	    bind_text_or_null(s, 4, p->gender) != SQLITE_OK ||
	    sqlite3_bind_int(s, 5, p->age_band) != SQLITE_OK ||
	    sqlite3_bind_int(s, 6, p->background) != SQLITE_OK ||
	    sqlite3_bind_int(s, 7, p->format) != SQLITE_OK ||
	    bind_text_or_null(s, 8, p->region) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec_or(st, s, SQLITE_CONSTRAINT_FOREIGNKEY,
	    OFR_E_NOT_FOUND, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

#define PREF_ALL	(PREF_GENDER | PREF_AGE | PREF_BACKGROUND | \
			PREF_FORMAT | PREF_REGION)

/* OFR_E_BAD_FIELD when a bit is not a PREF_ bit or met is not a part of
 * asked; OFR_E_NOT_FOUND when no case has this id. */
int
store_case_set_match(struct store *st, int64_t case_id, unsigned asked,
    unsigned met)
{
	sqlite3_stmt *s = st->s[S_CASE_SET_MATCH];
	int rc;

	if ((asked & ~(unsigned)PREF_ALL) != 0 || (met & ~asked) != 0)
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, (int)asked) != SQLITE_OK ||
	    sqlite3_bind_int(s, 3, (int)met) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* Sets updated to now too. OFR_E_BAD_FIELD when status is not a case
 * status; OFR_E_NOT_FOUND when no case has this id; OFR_E_CASE_OPEN (and
 * nothing changes) when the case would open while its client has another
 * open case. */
int
store_case_set_status(struct store *st, int64_t case_id, int status,
    int64_t now)
{
	sqlite3_stmt *s = st->s[S_CASE_SET_STATUS];
	int rc;

	if (status < CASE_WAITING || status > CASE_PAUSED)
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, status) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, now) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec_or(st, s, SQLITE_CONSTRAINT_UNIQUE, OFR_E_CASE_OPEN,
	    __func__)) != 0)	/* cases_one_open */
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* All or nothing: the counsellor leaves the participants, the case has no
 * counsellor, waits (keeping its place in the queue), asked and met are
 * cleared, updated is now. OFR_E_NOT_FOUND (nothing changes) when no open
 * case with a counsellor has this id. */
int
store_case_unassign(struct store *st, int64_t case_id, int64_t now)
{
	sqlite3_stmt *s = st->s[S_PARTICIPANT_DROP_COUNSELLOR];
	int rc;

	if ((rc = call_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	if ((rc = exec(st, s, __func__)) != 0)
		goto out;
	s = st->s[S_CASE_UNASSIGN];
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now) != SQLITE_OK) {
		rc = fail(st, s, __func__);
		goto out;
	}
	if ((rc = exec(st, s, __func__)) != 0)
		goto out;
	if (sqlite3_changes(st->db) != 1)
		rc = OFR_E_NOT_FOUND;
out:
	return call_end(st, rc);
}

/* In order of arrival. */
int
store_case_open_of_counsellor(struct store *st, int64_t counsellor,
    int64_t *ids, size_t max, size_t *n)
{
	const int64_t key[] = { counsellor, limit_of(max) };

	return ints_of(st, S_CASE_OPEN_OF_COUNSELLOR, key, nitems(key), ids,
	    max, n, __func__);
}

int
store_case_unread(struct store *st, int64_t case_id, int64_t recipient,
    int64_t *n)
{
	const int64_t key[] = { case_id, recipient };

	return count_of(st, S_CASE_UNREAD, key, nitems(key), n, __func__);
}

/* Counsellors. */

/* Reads COUNSELLOR_COLS and the two after them into a struct
 * counsellor. */
static int
counsellor_cols(sqlite3_stmt *s, void *row)
{
	struct counsellor *out = row;
	int i = ACCOUNT_NCOLS + PROFILE_NCOLS;

	memset(out, 0, sizeof(*out));
	if (account_cols(s, &out->acct) != 0 ||
	    profile_cols(s, ACCOUNT_NCOLS, &out->prof) != 0)
		return -1;
	out->certified = sqlite3_column_int(s, i);
	out->open = sqlite3_column_int(s, i + 1);
	out->last_assigned = sqlite3_column_int64(s, i + 2);
	return 0;
}

int
store_counsellor_get(struct store *st, int64_t id, struct counsellor *out)
{
	return get_row(st, S_COUNSELLOR_GET, &id, 1, counsellor_cols, out,
	    __func__);
}

/* store_counsellor_each()'s callback. */
struct counsellor_fn {
	int (*fn)(void *arg, const struct counsellor *c);
	void *arg;
};

static int
counsellor_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct counsellor_fn *f = ctx;
	struct counsellor c;

	if (counsellor_cols(s, &c) != 0)
		return -1;
	*rc = f->fn(f->arg, &c);
	return 0;
}

/* fn may call other store functions, but not store_counsellor_each(). */
int
store_counsellor_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct counsellor *c), void *arg)
{
	const int64_t key[] = { programme, limit_of(max) };
	struct counsellor_fn f = { fn, arg };

	return each_row(st, S_COUNSELLOR_EACH, key, nitems(key),
	    counsellor_visit, &f, __func__);
}

/* OFR_E_NOT_FOUND when no account has this id. */
int
store_account_set_disabled(struct store *st, int64_t account, int disabled)
{
	sqlite3_stmt *s = st->s[S_ACCOUNT_SET_DISABLED];
	int rc;

	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, account) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, disabled != 0) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* Programmes' public profiles. */

/* Sets every field of p's public profile but id and key. OFR_E_BAD_FIELD
 * (nothing written) when name is over OFR_NAME_MAX bytes, description over
 * MODEL_DESCRIPTION_MAX, a list is not ",tok,...," or formats is not
 * 0..7; OFR_E_NOT_FOUND when no programme has p->id. */
int
store_programme_set_profile(struct store *st, const struct programme *p)
{
	sqlite3_stmt *s = st->s[S_PROGRAMME_SET_PROFILE];
	int rc;

	if (strnlen(p->name, sizeof(p->name)) == sizeof(p->name) ||
	    strnlen(p->description, sizeof(p->description)) ==
	    sizeof(p->description) ||
	    !list_ok(p->languages, sizeof(p->languages)) ||
	    !list_ok(p->topics, sizeof(p->topics)) ||
	    !list_ok(p->regions, sizeof(p->regions)) ||
	    p->formats < 0 || p->formats > (FORMAT_CHAT | FORMAT_IN_PERSON |
	    FORMAT_PHONE_VIDEO))
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, p->id) != SQLITE_OK ||
	    bind_text(s, 2, p->name) != SQLITE_OK ||
	    bind_text(s, 3, p->description) != SQLITE_OK ||
	    bind_text(s, 4, p->languages) != SQLITE_OK ||
	    bind_text(s, 5, p->topics) != SQLITE_OK ||
	    bind_text(s, 6, p->regions) != SQLITE_OK ||
	    sqlite3_bind_int(s, 7, p->formats) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	return sqlite3_changes(st->db) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* store_programme_each()'s callback. */
struct programme_fn {
	int (*fn)(void *arg, const struct programme *p);
	void *arg;
};

static int
programme_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct programme_fn *f = ctx;
	struct programme p;

	if (programme_cols(s, &p) != 0)
		return -1;
	*rc = f->fn(f->arg, &p);
	return 0;
}

/* fn may call other store functions, but not store_programme_each(). */
int
store_programme_each(struct store *st, size_t max,
    int (*fn)(void *arg, const struct programme *p), void *arg)
{
	const int64_t key[] = { limit_of(max) };
	struct programme_fn f = { fn, arg };

	return each_row(st, S_PROGRAMME_EACH, key, nitems(key),
	    programme_visit, &f, __func__);
}

/* Notes. */

/* OFR_E_BAD_FIELD when the note is over OFR_CT_MAX bytes. The caller has
 * checked that author is the case's counsellor. */
int
store_note_add(struct store *st, int64_t case_id, int64_t author,
    const uint8_t *ct, size_t len, int64_t now, int64_t *id)
{
	sqlite3_stmt *s = st->s[S_NOTE_INSERT];
	int rc;

	if (len > OFR_CT_MAX)
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, case_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, author) != SQLITE_OK ||
	    bind_blob(s, 3, ct, len) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, now) != SQLITE_OK)
		return fail(st, s, __func__);
	if ((rc = exec(st, s, __func__)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* store_note_each()'s callback. */
struct note_fn {
	int (*fn)(void *arg, const struct note *n);
	void *arg;
};

static int
note_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	static const uint8_t empty[1];
	struct note_fn *f = ctx;
	struct note n;

	memset(&n, 0, sizeof(n));
	n.id = sqlite3_column_int64(s, 0);
	n.ts = sqlite3_column_int64(s, 1);
	n.ct = sqlite3_column_blob(s, 2);
	n.ct_len = (size_t)sqlite3_column_bytes(s, 2);
	if (n.ct == NULL)
		n.ct = empty;
	*rc = f->fn(f->arg, &n);
	return 0;
}

/* fn may call other store functions, but not store_note_each(). */
int
store_note_each(struct store *st, int64_t case_id, int64_t author,
    int (*fn)(void *arg, const struct note *n), void *arg)
{
	const int64_t key[] = { case_id, author, STORE_CASES_MAX };
	struct note_fn f = { fn, arg };

	return each_row(st, S_NOTES, key, nitems(key), note_visit, &f,
	    __func__);
}

/* The audit log. */

/* actor and target 0: none; detail NULL: "". OFR_E_BAD_FIELD when action
 * is empty or over OFR_TYPE_MAX bytes, or detail does not fit an
 * audit_entry's. */
int
store_audit_add(struct store *st, int64_t programme, int64_t actor,
    const char *action, int64_t target, const char *detail, int64_t now)
{
	sqlite3_stmt *s = st->s[S_AUDIT_INSERT];
	struct audit_entry e;
	size_t n = strnlen(action, OFR_TYPE_MAX + 1);
	int rc;

	if (detail == NULL)
		detail = "";
	if (n == 0 || n > OFR_TYPE_MAX ||
	    strnlen(detail, sizeof(e.detail)) == sizeof(e.detail))
		return OFR_E_BAD_FIELD;
	if ((rc = write_begin(st)) != 0)
		return rc;
	if (sqlite3_bind_int64(s, 1, programme) != SQLITE_OK ||
	    bind_ref(s, 2, actor) != SQLITE_OK ||
	    bind_text(s, 3, action) != SQLITE_OK ||
	    bind_ref(s, 4, target) != SQLITE_OK ||

	    bind_text(s, 5, detail) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, now) != SQLITE_OK)
		return fail(st, s, __func__);
	return exec(st, s, __func__);
}

/* store_audit_each()'s callback. */
struct audit_fn {
	int (*fn)(void *arg, const struct audit_entry *e);
	void *arg;
};

static int
audit_visit(sqlite3_stmt *s, void *ctx, int *rc)
{
	struct audit_fn *f = ctx;
	struct audit_entry e;

	memset(&e, 0, sizeof(e));
	e.id = sqlite3_column_int64(s, 0);
	e.ts = sqlite3_column_int64(s, 1);
	e.actor = sqlite3_column_int64(s, 2);
	e.target = sqlite3_column_int64(s, 5);
	if (col_text(s, 3, e.actor_name, sizeof(e.actor_name)) != 0 ||
	    col_text(s, 4, e.action, sizeof(e.action)) != 0 ||
	    col_text(s, 6, e.target_name, sizeof(e.target_name)) != 0 ||
	    col_text(s, 7, e.detail, sizeof(e.detail)) != 0)
		return -1;
	*rc = f->fn(f->arg, &e);
	return 0;
}

/* fn may call other store functions, but not store_audit_each(). */
int
store_audit_each(struct store *st, int64_t programme, int64_t before,
    size_t limit, int (*fn)(void *arg, const struct audit_entry *e),
    void *arg)
{
	const int64_t key[] = { programme, before > 0 ? before : INT64_MAX,
	    limit_of(limit) };
	struct audit_fn f = { fn, arg };

	return each_row(st, S_AUDIT, key, nitems(key), audit_visit, &f,
	    __func__);
}

/* Pool figures. */

int
store_queue_count(struct store *st, int64_t programme, int64_t *n)
{
	return count_of(st, S_QUEUE_COUNT, &programme, 1, n, __func__);
}

int
store_first_responses(struct store *st, int64_t programme, int64_t since,
    int64_t *secs, size_t max, size_t *n)
{
	const int64_t key[] = { programme, since, limit_of(max) };

	return ints_of(st, S_FIRST_RESPONSES, key, nitems(key), secs, max, n,
	    __func__);
}

int
store_message_seen(struct store *st, int64_t sender,
    const uint8_t mid[OFR_MID_BYTES], int *yes)
{
	sqlite3_stmt *s = st->s[S_MESSAGE_SEEN];

	if (sqlite3_bind_int64(s, 1, sender) != SQLITE_OK ||
	    bind_blob(s, 2, mid, OFR_MID_BYTES) != SQLITE_OK)
		return fail(st, s, __func__);
	return exists(st, S_MESSAGE_SEEN, NULL, 0, yes, __func__);
}

