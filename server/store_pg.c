/*
 * store_pg.c: the store on PostgreSQL (libpq), the second backend of
 * store_int.h (struct db_backend): connecting to the database a
 * postgresql:// URL names, its schema and migrations (under a
 * schema_version table), and PostgreSQL's side of the helpers that the
 * noun files share, so that their statements run here unchanged.
 *
 * - A statement's text is the noun file's, with ?N rewritten to $N. It is
 *   prepared (PQprepare) at its first run, with the types of that run's
 *   bindings: int8, bytea or text, as db_bind_* bind them, which are the
 *   types SQLite gives the same values (it types values, not columns), so
 *   PostgreSQL compares and computes in the types SQLite does, and infers
 *   nothing narrower (int4 for "?4 - ?4 % 60" would overflow on an
 *   int64). A NULL has no type of its own: it runs under the type
 *   prepared, or PostgreSQL's inference from its context at the first
 *   prepare. A later run that binds a value of another type prepares the
 *   statement again (never in this schema's use, but sound).
 * - A run fetches every row of its result at once (the noun files'
 *   statements are bounded by LIMITs or by the schema); stepping walks
 *   them. Results are text: integers parsed, bytea decoded (hex).
 * - A statement that a constraint may refuse while the transaction goes
 *   on (db_exec_or(), db_insert() with a constraint) runs inside a
 *   savepoint of its own: a refusal aborts PostgreSQL's whole transaction,
 *   the savepoint's rollback undoes only the statement.
 * - Any other failure leaves the transaction aborted until a savepoint of
 *   the request or the call is rolled back to; a commit of an aborted
 *   transaction (which PostgreSQL turns into a rollback) is a lost one.
 * - Durability, as on SQLite (store_db.c, "Durability"): the loop's
 *   connection commits with synchronous_commit off, so its COMMIT returns
 *   once the commit record is in PostgreSQL's WAL buffers, visible at
 *   once but not yet on disk, and the loop never waits for the disk. The
 *   store thread makes commits durable (pg_sync), on a connection of its
 *   own with synchronous_commit on: a transaction that writes a WAL
 *   record (pg_logical_emit_message(true, 'offramp', ''), which any role
 *   may run, at any wal_level; a transaction id alone is not enough:
 *   PostgreSQL commits a transaction that wrote no WAL asynchronously)
 *   writes a commit record, and its COMMIT returns once the WAL up to
 *   that record is flushed (and replicated to synchronous standbys, when
 *   some are configured); the WAL is flushed in order, so every commit of
 *   the loop's that returned before is durable with it. One such
 *   transaction covers every commit made while the one before ran: the
 *   group commit. Its cost: one transaction id per sync, not per commit
 *   (their wraparound is autovacuum's, as for any write), a few dozen
 *   bytes of WAL (which a logical decoding plugin sees as a message of
 *   prefix "offramp", and may ignore), and three round trips (BEGIN, the
 *   SELECT, COMMIT).
 * - The same transaction checks that the loop's backend (its pid and
 *   start, read when the loop connects) still runs: a crash of
 *   PostgreSQL ends every backend, so a flush on a server restarted
 *   since would vouch for commits it does not hold. Commits made on an
 *   earlier connection of the loop are never vouched for. A sync that
 *   fails, on a connection made again at once, or finds the loop's
 *   backend gone, marks the commits not yet durable as possibly lost:
 *   their answers become the retryable unavailable and their pushes go
 *   (session.c), and nothing of them is released.
 * - A lost connection (PostgreSQL restarted or stopped, the network
 *   gone) fails the statement with OFR_E_UNAVAILABLE, and the turn's
 *   transaction with it (st->lost_seen: store_commit() answers
 *   OFR_E_UNAVAILABLE, a retryable code). A connection lost during
 *   COMMIT leaves the commit's outcome unknown: it is answered the same,
 *   never with success; a retry of msg.send is idempotent by its mid,
 *   and the loop reads its pool back from the store.
 * - Then the connection is made again by the next statement outside a
 *   transaction (the thread's by its next sync), after a backoff
 *   (PG_RETRY_MIN doubling to PG_RETRY_MAX);
 *   until then every statement fails at once with OFR_E_UNAVAILABLE. The
 *   loop's connect runs in a thread of its own (struct pg_dial), its
 *   statements answered unavailable at once meanwhile. A
 *   connect waits PG_CONNECT_TIMEOUT at most, and every command
 *   PG_DEADLINE_MS at most (a migration at start PG_MIGRATE_MS; await:
 *   sent without blocking, its result polled for), on a network gone
 *   and on a PostgreSQL that is there but stalled alike (its processes
 *   stopped, its disk hung, a lock held by something outside): past it
 *   the command is cancelled and the
 *   connection lost, as above. The loop is never held long. The
 *   statements are prepared again on the new connection (their names
 *   are the connection's).
 * - The store thread's sync is bounded the same: a sync past
 *   PG_DEADLINE_MS (a synchronous standby away: the primary's COMMIT
 *   waits for it), or whose COMMIT comes with a WARNING (a cancelled wait
 *   for the standbys: committed on the primary alone), has failed, its
 *   connection lost; its commits are answered unavailable, never ok.
 * - Each session asks PostgreSQL for TCP keepalives of its own
 *   (PG_SESSION_OPTIONS): a node whose network is gone loses its
 *   sessions, and their locks (cluster.c's jobs' lock), within some 15
 *   seconds, not the kernel's hours; one stalled inside a transaction
 *   (its process stopped) loses that session, and the transaction's
 *   locks, within PG_IDLE_TX_TIMEOUT; and a lock is waited for
 *   PG_WAIT_TIMEOUT at most, answered OFR_E_UNAVAILABLE past it.
 * - Several nodes may share the database (store_shared() is 1 here):
 *   an assignment locks its counsellor's profile row first (pg_lock,
 *   bounded by PG_LOCK_TIMEOUT; a lock timeout or a deadlock is
 *   OFR_E_UNAVAILABLE, retryable), and each node stores which
 *   counsellors it has there, under a random id of its own, in the
 *   unlogged nodes.presence with an expiry (casework.c reads it), and
 *   so the clients with a waiting case connected to it, in
 *   nodes.waiting.
 * This file must never log a password: a URL is logged through
 * store_url_safe() alone.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "log.h"
#include "metrics.h"
#include "proto/err.h"
#include "store_int.h"

/* The most parameters of a statement, and columns read decoded. */
#define PG_PARAMS_MAX	32
#define PG_COLS_MAX	64
/* PostgreSQL's type oids (pg_type.dat): what db_bind_* bind. */
#define OID_BYTEA	17
#define OID_INT8	20
#define OID_TEXT	25
/* Reconnecting: the first try's delay, and the most between two (usec);
 * the longest a connect may take (seconds, libpq's connect_timeout). */
#define PG_RETRY_MIN		100000
#define PG_RETRY_MAX		5000000
#define PG_CONNECT_TIMEOUT	"2"
/* The longest an assignment waits for another node's lock of its
 * counsellor (pg_lock), the loop held meanwhile. */
#define PG_LOCK_TIMEOUT		"2s"
/* The longest a command may take, from its send to its whole result
 * (milliseconds), on every connection of this file: the loop's statements
 * (bounded by LIMITs or by the schema, a lock wait by PG_LOCK_TIMEOUT or
 * PG_WAIT_TIMEOUT: another node's turn takes milliseconds), and the store
 * thread's sync (a flush of the WAL, and the synchronous standbys' reply).
 * Past it PostgreSQL is taken as stalled (its processes stopped, its disk
 * hung, a lock held by something outside, a synchronous standby away):
 * the command is cancelled and the connection lost (await). */
#define PG_DEADLINE_MS		5000
/* A migration's, and its commit's, at a start: one may rewrite a table
 * that holds every copy waiting (version 8 did: some 7 s for 200,000
 * copies of 1 KiB on a busy 2-core machine). */
#define PG_MIGRATE_MS		(30 * 60 * 1000)
/* The session's own settings, each connection's (pg_connect: the loop's,
 * the store thread's, cluster.c's), and the one place they are set: the
 * server's TCP keepalives and tcp_user_timeout end the session of a node
 * whose network is gone, and the locks it holds, within some 15 seconds
 * (PostgreSQL's defaults are the kernel's: hours); a backend running
 * a command checks every second that its client is still there, so that
 * a command given up at PG_DEADLINE_MS (its connection closed) ends soon
 * after, whatever its cancel became; a lock is waited for
 * PG_WAIT_TIMEOUT at most (55P03: OFR_E_UNAVAILABLE, retryable), below
 * PG_DEADLINE_MS, so that a node whose turn holds the deliveries lock and
 * stalls (its network cut, its process stopped) costs the others a
 * retryable answer, not their connection; and a session idle inside a
 * transaction for PG_IDLE_TX_TIMEOUT is ended by PostgreSQL, so that such
 * a node's locks are freed even while its TCP connection still answers
 * (a process stopped, a machine paused). The loop's turns and the
 * thread's syncs hold a transaction for milliseconds. */
#define PG_WAIT_TIMEOUT		"3000"
#define PG_IDLE_TX_TIMEOUT	"10000"
#define PG_SESSION_OPTIONS	"-c tcp_keepalives_idle=5 " \
	"-c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 " \
	"-c tcp_user_timeout=15000 -c client_connection_check_interval=1000 " \
	"-c lock_timeout=" PG_WAIT_TIMEOUT " " \
	"-c idle_in_transaction_session_timeout=" PG_IDLE_TX_TIMEOUT

/*
 * The migrations: pg_migrations[i] takes schema_version.version from i to
 * i + 1, in one transaction. Never edit one that has shipped; append.
 * Version 1 is the whole schema of SQLite's version 17 (store_db.c, where
 * the notes on each table are), in PostgreSQL's words: INTEGER is bigint,
 * BLOB bytea; an id the inserts do not give (and AUTOINCREMENT's) is an
 * identity, which never gives a number twice; WITHOUT ROWID is nothing;
 * the triggers are functions. A migration of SQLite's from 18 on comes
 * with one here that makes the same change.
 */
static const char *const pg_migrations[] = {
	/* 1: SQLite's schema version 17 */
	"CREATE TABLE programmes ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  name text NOT NULL,"
	"  created bigint NOT NULL,"
	"  signing_key bytea"
	"    CHECK (signing_key IS NULL OR length(signing_key) = 32),"
	"  description text NOT NULL DEFAULT '',"
	"  languages text NOT NULL DEFAULT ',',"
	"  topics text NOT NULL DEFAULT ',',"
	"  regions text NOT NULL DEFAULT ',',"
	"  formats bigint NOT NULL DEFAULT 0 CHECK (formats BETWEEN 0 AND 7),"
	"  intake_hash bytea"
	"    CHECK (intake_hash IS NULL OR length(intake_hash) = 32)"
	");"
	"CREATE TABLE accounts ("
	"  id bigint PRIMARY KEY,"
	"  key bytea NOT NULL UNIQUE CHECK (length(key) = 32),"
	"  role bigint NOT NULL CHECK (role BETWEEN 1 AND 3),"
	"  programme_id bigint REFERENCES programmes(id),"
	"  name text NOT NULL,"
	"  disabled bigint NOT NULL DEFAULT 0,"
	"  created bigint NOT NULL,"
	"  cert bytea,"
	"  seen bigint"
	");"
	"CREATE INDEX accounts_role ON accounts(role);"
	"CREATE TABLE counsellor_profiles ("
	"  account_id bigint PRIMARY KEY REFERENCES accounts(id),"
	"  languages text NOT NULL DEFAULT ',',"
	"  topics text NOT NULL DEFAULT ',',"
	"  capacity bigint NOT NULL DEFAULT 5,"
	"  last_assigned bigint,"
	"  presence bigint NOT NULL DEFAULT 2"
	"    CHECK (presence BETWEEN 0 AND 2),"
	"  gender text,"
	"  age_band bigint NOT NULL DEFAULT 0"
	"    CHECK (age_band BETWEEN 0 AND 4),"
	"  background bigint NOT NULL DEFAULT 0"
	"    CHECK (background BETWEEN 0 AND 2),"
	"  formats bigint NOT NULL DEFAULT 1 CHECK (formats BETWEEN 0 AND 7),"
	"  region text,"
	"  hours bytea CHECK (hours IS NULL OR length(hours) = 21)"
	");"
	"CREATE TABLE invites ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  programme_id bigint NOT NULL REFERENCES programmes(id),"
	"  role bigint NOT NULL CHECK (role IN (2, 3)),"
	"  expires bigint NOT NULL,"
	"  created_by bigint REFERENCES accounts(id),"
	"  used_at bigint,"
	"  created bigint NOT NULL"
	");"
	"CREATE INDEX invites_pending ON invites(programme_id, expires)"
	"  WHERE used_at IS NULL;"
	"CREATE TABLE cases ("
	"  id bigint PRIMARY KEY CHECK (id BETWEEN 1 AND 9007199254740991),"
	"  client_id bigint NOT NULL REFERENCES accounts(id),"
	"  counsellor_id bigint REFERENCES accounts(id),"
	"  status bigint NOT NULL CHECK (status BETWEEN 1 AND 4),"
	"  language text NOT NULL,"
	"  topic text,"
	"  created bigint NOT NULL,"
	"  updated bigint NOT NULL,"
	"  queued bigint NOT NULL UNIQUE,"
	"  urgency bigint NOT NULL DEFAULT 1 CHECK (urgency BETWEEN 0 AND 2),"
	"  programme_id bigint REFERENCES programmes(id),"
	"  pref_gender text,"
	"  pref_age bigint NOT NULL DEFAULT 0,"
	"  pref_background bigint NOT NULL DEFAULT 0,"
	"  pref_format bigint NOT NULL DEFAULT 0,"
	"  pref_region text,"
	"  asked bigint NOT NULL DEFAULT 0,"
	"  met bigint NOT NULL DEFAULT 0,"
	"  first_response bigint,"
	"  left_counsellor bigint REFERENCES accounts(id),"
	"  feedback bigint NOT NULL DEFAULT 0 CHECK (feedback IN (0, 1)),"
	"  members bigint NOT NULL DEFAULT 0,"
	"  referred_external bigint NOT NULL DEFAULT 0"
	"    CHECK (referred_external IN (0, 1))"
	");"
	"CREATE UNIQUE INDEX cases_one_open ON cases(client_id)"
	"  WHERE status IN (1, 2, 4);"
	"CREATE INDEX cases_counsellor ON cases(counsellor_id, status);"
	"CREATE INDEX cases_queue ON cases(urgency DESC, queued)"
	"  WHERE status = 1;"
	"CREATE INDEX cases_closed ON cases(updated) WHERE status = 3;"
	"CREATE TABLE case_participants ("
	"  case_id bigint NOT NULL REFERENCES cases(id),"
	"  account_id bigint NOT NULL REFERENCES accounts(id),"
	"  role bigint NOT NULL,"
	"  joined bigint NOT NULL,"
	"  kind bigint NOT NULL DEFAULT 0 CHECK (kind BETWEEN 0 AND 3),"
	"  since bigint NOT NULL DEFAULT 0,"
	"  seen bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (case_id, account_id)"
	");"
	"CREATE INDEX case_participants_account"
	"  ON case_participants(account_id);"
	"CREATE TABLE signed_prekeys ("
	"  account_id bigint PRIMARY KEY REFERENCES accounts(id),"
	"  spk_id bigint NOT NULL,"
	"  spk bytea NOT NULL CHECK (length(spk) = 32),"
	"  sig bytea NOT NULL CHECK (length(sig) = 64),"
	"  updated bigint NOT NULL"
	");"
	"CREATE TABLE one_time_prekeys ("
	"  account_id bigint NOT NULL REFERENCES accounts(id),"
	"  otk_id bigint NOT NULL,"
	"  pk bytea NOT NULL CHECK (length(pk) = 32),"
	"  ord bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (account_id, otk_id)"
	");"
	"CREATE TABLE case_notes ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  case_id bigint NOT NULL REFERENCES cases(id),"
	"  author_id bigint NOT NULL REFERENCES accounts(id),"
	"  ct bytea NOT NULL,"
	"  created bigint NOT NULL"
	");"
	"CREATE INDEX case_notes_author ON case_notes(case_id, author_id, id);"
	"CREATE TABLE programme_rotations ("
	"  programme_id bigint NOT NULL REFERENCES programmes(id),"
	"  seq bigint NOT NULL,"
	"  new_key bytea NOT NULL CHECK (length(new_key) = 32),"
	"  statement bytea NOT NULL,"
	"  PRIMARY KEY (programme_id, seq)"
	");"
	"CREATE TABLE programme_revocations ("
	"  programme_id bigint PRIMARY KEY REFERENCES programmes(id),"
	"  issued bigint NOT NULL,"
	"  list bytea NOT NULL"
	");"
	"CREATE TABLE programme_partners ("
	"  programme_id bigint NOT NULL REFERENCES programmes(id),"
	"  partner_id bigint NOT NULL REFERENCES programmes(id),"
	"  statement bytea NOT NULL,"
	"  PRIMARY KEY (partner_id, programme_id)"
	");"
	"CREATE TABLE audit ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  programme_id bigint NOT NULL REFERENCES programmes(id),"
	"  actor_id bigint,"
	"  action text NOT NULL,"
	"  target_id bigint,"
	"  detail text NOT NULL DEFAULT '',"
	"  created bigint NOT NULL"
	");"
	"CREATE INDEX audit_programme ON audit(programme_id, id);"
	"CREATE INDEX audit_target ON audit(target_id);"
	"CREATE FUNCTION audit_no_update() RETURNS trigger LANGUAGE plpgsql"
	"  AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  FOR EACH ROW EXECUTE FUNCTION audit_no_update();"
	"CREATE FUNCTION audit_trim_only() RETURNS trigger LANGUAGE plpgsql"
	"  AS $$ BEGIN"
	"  IF OLD.id != (SELECT min(id) FROM audit)"
	"    OR OLD.id = (SELECT max(id) FROM audit) THEN"
	"    RAISE EXCEPTION 'the audit log is append-only: it is trimmed"
	" from its oldest entry, never to nothing';"
	"  END IF;"
	"  RETURN OLD; END $$;"
	"CREATE TRIGGER audit_trim_only BEFORE DELETE ON audit"
	"  FOR EACH ROW EXECUTE FUNCTION audit_trim_only();"
	"CREATE TABLE feedback ("
	"  programme_id bigint NOT NULL REFERENCES programmes(id),"
	"  week bigint NOT NULL CHECK (week % 604800 = 345600),"
	"  id bytea NOT NULL CHECK (length(id) = 16),"
	"  helpful bigint CHECK (helpful IN (0, 1)),"
	"  recommend bigint CHECK (recommend IN (0, 1)),"
	"  sealed bytea,"
	"  PRIMARY KEY (programme_id, week, id)"
	");"
	"CREATE TABLE sent ("
	"  sender_id bigint NOT NULL REFERENCES accounts(id),"
	"  mid bytea NOT NULL CHECK (length(mid) = 16),"
	"  created bigint NOT NULL,"
	"  PRIMARY KEY (sender_id, mid)"
	");"
	"CREATE INDEX sent_created ON sent(created);"
	"CREATE TABLE partnerships ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  proposer_id bigint NOT NULL REFERENCES programmes(id),"
	"  partner_id bigint NOT NULL REFERENCES programmes(id),"
	"  status bigint NOT NULL CHECK (status IN (0, 1, 2)),"
	"  proposer_statement bytea NOT NULL"
	"    CHECK (length(proposer_statement) = 129),"
	"  partner_statement bytea"
	"    CHECK (partner_statement IS NULL OR"
	"    length(partner_statement) = 129),"
	"  created bigint NOT NULL,"
	"  ended bigint,"
	"  ended_by bigint REFERENCES programmes(id),"
	"  CHECK (proposer_id != partner_id)"
	");"
	"CREATE UNIQUE INDEX partnerships_open ON partnerships("
	"  least(proposer_id, partner_id), greatest(proposer_id, partner_id))"
	"  WHERE status < 2;"
	"CREATE INDEX partnerships_proposer ON partnerships(proposer_id);"
	"CREATE INDEX partnerships_partner ON partnerships(partner_id);"
	"CREATE TABLE external_partners ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  programme_id bigint NOT NULL REFERENCES programmes(id),"
	"  name text NOT NULL,"
	"  regions text NOT NULL,"
	"  formats bigint NOT NULL CHECK (formats BETWEEN 0 AND 7),"
	"  topics text NOT NULL,"
	"  contact text NOT NULL"
	");"
	"CREATE INDEX external_partners_programme"
	"  ON external_partners(programme_id, id);"
	"CREATE TABLE case_members ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  case_id bigint NOT NULL REFERENCES cases(id),"
	"  account_id bigint NOT NULL REFERENCES accounts(id),"
	"  kind bigint NOT NULL CHECK (kind BETWEEN 0 AND 3),"
	"  joined_at bigint NOT NULL,"
	"  left_at bigint,"
	"  why bigint CHECK (why IS NULL OR why BETWEEN 1 AND 5)"
	");"
	"CREATE INDEX case_members_case ON case_members(case_id, left_at);"
	"CREATE INDEX case_members_account ON case_members(account_id);"
	"CREATE TABLE referrals ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  case_id bigint NOT NULL REFERENCES cases(id),"
	"  from_programme bigint NOT NULL REFERENCES programmes(id),"
	"  to_programme bigint NOT NULL REFERENCES programmes(id),"
	"  receiver_id bigint,"
	"  status bigint NOT NULL CHECK (status BETWEEN 0 AND 5),"
	"  proposed bigint NOT NULL,"
	"  answered bigint,"
	"  completed bigint,"
	"  digest bytea CHECK (digest IS NULL OR length(digest) = 32),"
	"  summary_sent bigint NOT NULL DEFAULT 0,"
	"  CHECK (from_programme != to_programme)"
	");"
	"CREATE UNIQUE INDEX referrals_open ON referrals(case_id)"
	"  WHERE status < 2;"
	"CREATE INDEX referrals_from ON referrals(from_programme, proposed);"
	"CREATE INDEX referrals_to ON referrals(to_programme, proposed);"
	"CREATE INDEX referrals_waiting ON referrals(proposed)"
	"  WHERE status = 1 AND receiver_id IS NULL;"
	"CREATE TABLE messages ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  case_id bigint NOT NULL REFERENCES cases(id),"
	"  sender_id bigint NOT NULL REFERENCES accounts(id),"
	"  mid bytea NOT NULL CHECK (length(mid) = 16),"
	"  created bigint NOT NULL"
	");"
	"CREATE INDEX messages_created ON messages(created);"
	"CREATE INDEX messages_case ON messages(case_id);"
	"CREATE TABLE deliveries ("
	"  seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  message_id bigint NOT NULL REFERENCES messages(id),"
	"  recipient_id bigint NOT NULL REFERENCES accounts(id),"
	"  ct bytea NOT NULL"
	");"
	"CREATE INDEX deliveries_recipient ON deliveries(recipient_id, seq);"
	"CREATE INDEX deliveries_message ON deliveries(message_id);"
	"CREATE FUNCTION messages_last_copy() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  IF NOT EXISTS (SELECT 1 FROM deliveries d"
	"    WHERE d.message_id = OLD.message_id) THEN"
	"    DELETE FROM messages WHERE id = OLD.message_id;"
	"  END IF;"
	"  RETURN NULL; END $$;"
	"CREATE TRIGGER messages_last_copy AFTER DELETE ON deliveries"
	"  FOR EACH ROW EXECUTE FUNCTION messages_last_copy();",
	/* 2: SQLite's 18: a member may leave because the partnership of
	 * the two programmes ended (why 6) */
	"ALTER TABLE case_members DROP CONSTRAINT case_members_why_check;"
	"ALTER TABLE case_members ADD CONSTRAINT case_members_why_check"
	"  CHECK (why IS NULL OR why BETWEEN 1 AND 6);",
	/* 3: several nodes (PostgreSQL's alone: SQLite has one node): the
	 * counsellors each node has there (casework.c), a row per
	 * counsellor and node until its expiry (seconds, the database's
	 * clock), which its node moves on while it runs. A node's id is
	 * random, made at its start; nothing of a client, no address. In
	 * a schema of its own, apart from the data (public): it is the
	 * nodes' state of the moment, not a record, and unlogged (no
	 * write-ahead log, no sync for it; a crash of the cluster empties
	 * it, and the nodes fill it again within a period). No foreign
	 * key: an erased account never waits for a row that expires. */
	"CREATE SCHEMA nodes;"
	"CREATE UNLOGGED TABLE nodes.presence ("
	"  account_id bigint NOT NULL,"
	"  node bigint NOT NULL,"
	"  expires bigint NOT NULL,"
	"  PRIMARY KEY (account_id, node)"
	");"
	"CREATE INDEX presence_node ON nodes.presence(node);",
	/* 4: the clients with a waiting case that each node has a
	 * connection of (casework.c: a waiting case outlives its client's
	 * last connection to any node by keep-waiting), a row per client
	 * and node until its expiry, as nodes.presence's: the account's id
	 * alone, nothing else of it, no address. */
	"CREATE UNLOGGED TABLE nodes.waiting ("
	"  account_id bigint NOT NULL,"
	"  node bigint NOT NULL,"
	"  expires bigint NOT NULL,"
	"  PRIMARY KEY (account_id, node)"
	");"
	"CREATE INDEX waiting_node ON nodes.waiting(node);",
	/* 5: SQLite's 19: the accepted referrals of a partner counsellor,
	 * which hold places in its caseload */
	"CREATE INDEX referrals_receiver ON referrals(receiver_id)"
	"  WHERE status = 1;",
	/* 6: SQLite's 20: the largest id of an account deleted, so that
	 * no id is given again */
	"CREATE TABLE account_ids (last bigint NOT NULL);"
	"INSERT INTO account_ids SELECT greatest("
	"  coalesce((SELECT max(id) FROM accounts), 0),"
	"  coalesce((SELECT max(target_id) FROM audit), 0));"
	"CREATE FUNCTION accounts_last() RETURNS trigger LANGUAGE plpgsql"
	"  AS $$ BEGIN"
	"  UPDATE account_ids SET last = OLD.id WHERE last < OLD.id;"
	"  RETURN NULL; END $$;"
	"CREATE TRIGGER accounts_last AFTER DELETE ON accounts"
	"  FOR EACH ROW EXECUTE FUNCTION accounts_last();",
	/* 7: its own: the order of case events across the nodes
	 * (store_case_event) */
	"CREATE SEQUENCE case_events;",
	/* 8: SQLite's 21: a copy carries its message's ids; messages and
	 * its trigger go (the seq's identity stays with its table). Every
	 * lock it needs taken first, at once: its steps would otherwise
	 * raise them one by one (a foreign key dropped locks the table it
	 * named), against the order an older server's send takes them */
	"LOCK TABLE deliveries, messages, cases, accounts"
	"  IN ACCESS EXCLUSIVE MODE;"
	"DROP TRIGGER messages_last_copy ON deliveries;"
	"DROP FUNCTION messages_last_copy();"
	"ALTER TABLE deliveries ADD COLUMN case_id bigint REFERENCES cases(id),"
	"  ADD COLUMN sender_id bigint REFERENCES accounts(id),"
	"  ADD COLUMN mid bytea CHECK (length(mid) = 16),"
	"  ADD COLUMN created bigint;"
	"UPDATE deliveries d SET case_id = m.case_id, sender_id = m.sender_id,"
	"  mid = m.mid, created = m.created FROM messages m"
	"  WHERE m.id = d.message_id;"
	"ALTER TABLE deliveries ALTER COLUMN case_id SET NOT NULL,"
	"  ALTER COLUMN sender_id SET NOT NULL,"
	"  ALTER COLUMN mid SET NOT NULL,"
	"  ALTER COLUMN created SET NOT NULL,"
	"  DROP COLUMN message_id;"
	"DROP TABLE messages;"
	"CREATE INDEX deliveries_created ON deliveries(created);"
	"CREATE INDEX deliveries_case ON deliveries(case_id);"
	"CREATE INDEX deliveries_sender ON deliveries(sender_id, mid);",
	/*
	 * 8 -> 9: no planner statistics of the columns that name a person
	 * or hold what one wrote. ANALYZE (autovacuum's too) keeps sample
	 * values of each column in pg_statistic: keys, pseudonyms, mids and
	 * ciphertexts that stayed readable there after their rows were
	 * deleted (an erased client's key and name, PRIVACY.md). A target
	 * of 0 collects none from now on; the column's type set again (the
	 * same: no rewrite) drops what was collected. The lookups by these
	 * columns go through unique indexes and need none. Its locks at
	 * once, first (as 8's).
	 */
	"LOCK TABLE accounts, deliveries, sent, case_notes, feedback,"
	"  signed_prekeys, one_time_prekeys, invites, referrals, cases"
	"  IN ACCESS EXCLUSIVE MODE;"
	"ALTER TABLE accounts"
	"  ALTER COLUMN key SET STATISTICS 0, ALTER COLUMN key TYPE bytea,"
	"  ALTER COLUMN name SET STATISTICS 0, ALTER COLUMN name TYPE text,"
	"  ALTER COLUMN cert SET STATISTICS 0, ALTER COLUMN cert TYPE bytea;"
	"ALTER TABLE deliveries"
	"  ALTER COLUMN mid SET STATISTICS 0, ALTER COLUMN mid TYPE bytea,"
	"  ALTER COLUMN ct SET STATISTICS 0, ALTER COLUMN ct TYPE bytea;"
	"ALTER TABLE sent"
	"  ALTER COLUMN mid SET STATISTICS 0, ALTER COLUMN mid TYPE bytea;"
	"ALTER TABLE case_notes"
	"  ALTER COLUMN ct SET STATISTICS 0, ALTER COLUMN ct TYPE bytea;"
	"ALTER TABLE feedback"
	"  ALTER COLUMN id SET STATISTICS 0, ALTER COLUMN id TYPE bytea,"
	"  ALTER COLUMN sealed SET STATISTICS 0,"
	"  ALTER COLUMN sealed TYPE bytea;"
	"ALTER TABLE signed_prekeys"
	"  ALTER COLUMN spk SET STATISTICS 0, ALTER COLUMN spk TYPE bytea,"
	"  ALTER COLUMN sig SET STATISTICS 0, ALTER COLUMN sig TYPE bytea;"
	"ALTER TABLE one_time_prekeys"
	"  ALTER COLUMN pk SET STATISTICS 0, ALTER COLUMN pk TYPE bytea;"
	"ALTER TABLE invites"
	"  ALTER COLUMN hash SET STATISTICS 0, ALTER COLUMN hash TYPE bytea;"
	"ALTER TABLE referrals"
	"  ALTER COLUMN digest SET STATISTICS 0,"
	"  ALTER COLUMN digest TYPE bytea;"
	"ALTER TABLE cases"
	"  ALTER COLUMN pref_gender SET STATISTICS 0,"
	"  ALTER COLUMN pref_gender TYPE text,"
	"  ALTER COLUMN pref_region SET STATISTICS 0,"
	"  ALTER COLUMN pref_region TYPE text;",
};
#define PG_SCHEMA_VERSION	((int)nitems(pg_migrations))

/* This file's statements: store_db.c's, in PostgreSQL's words. */
static const char *const pg_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN",
	/* a loop turn's reads share no transaction here (store_db.c's
	 * read_begin is SQLite's): never run, prepared like the rest */
	[S_READ_BEGIN] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_MARK] = "SAVEPOINT request",
	[S_MARK_RELEASE] = "RELEASE request",
	[S_MARK_UNDO] = "ROLLBACK TO request",
	[S_CALL] = "SAVEPOINT call",
	[S_CALL_RELEASE] = "RELEASE call",
	[S_CALL_UNDO] = "ROLLBACK TO call",
	/* store_size(): the database's bytes, as pages of one byte */
	[S_PAGE_COUNT] = "SELECT pg_database_size(current_database())",
	[S_PAGE_SIZE] = "SELECT 1",
};

/* The connection, and what the last statement left to read. */
struct pg_store {
	PGconn *conn;
	char *url;		/* to connect again (holds the password) */
	/* The store thread's own connection (pg_sync), and its backoff. */
	PGconn *sync_conn;
	int64_t sync_retry_at;
	int64_t sync_backoff;
	int sync_warned;	/* a WARNING came on it (notice) */
	/* Under st->sync_mu: the loop's connection, as pg_sync checks it
	 * (its backend's pid and start, µs since the epoch), and the first
	 * commit made on it. */
	int loop_pid;
	int64_t loop_start;
	int64_t loop_from;
	char safe[512];		/* the URL to log: no password */
	int down;		/* the connection is lost */
	int64_t retry_at;	/* the next try to connect (mono_us) */
	int64_t backoff;	/* the wait after that one, if it fails */
	int64_t changes;	/* db_changes() */
	char sqlstate[6];	/* of the last failure */
	char err[512];		/* its message, for db_fail() */
	int64_t node;		/* this node's id (random, > 0): its rows
				 * of nodes.presence */
	struct pg_dial *dial;	/* a connect of the loop's under way */
};

struct pg_stmt {
	struct db_stmt head;
	struct pg_store *pg;
	int id;
	char *text;		/* ?N rewritten to $N */
	int nparams;		/* the greatest N in it */
	char name[32];		/* prepared under it; "" before */
	unsigned gen;		/* prepares made, for the next name */
	Oid types[PG_PARAMS_MAX];	/* as prepared */
	Oid bound[PG_PARAMS_MAX];	/* this run's (0: NULL) */
	const char *values[PG_PARAMS_MAX];
	int lengths[PG_PARAMS_MAX];
	int formats[PG_PARAMS_MAX];
	char nums[PG_PARAMS_MAX][24];
	int nbound;		/* the greatest index bound, 0: none */
	PGresult *res;		/* a run's rows; NULL when not running */
	int row;		/* the current one */
	unsigned char *dec[PG_COLS_MAX];	/* bytea decoded, this row */
	size_t dec_len[PG_COLS_MAX];
};

static struct pg_stmt *
pgs(struct db_stmt *s)
{
	return (struct pg_stmt *)(void *)s;
}

static void *
cancel_run(void *arg)
{
	char why[256];

	(void)PQcancel(arg, why, sizeof(why));
	PQfreeCancel(arg);
	return NULL;
}

/* Asks PostgreSQL to cancel what conn runs, from a thread of its own and
 * never waited for: the cancel is a connection to the postmaster, which
 * may be stalled too (libpq 15's PQcancel waits for it without end). */
static void
cancel(PGconn *conn)
{
	PGcancel *c = PQgetCancel(conn);
	pthread_attr_t attr;
	pthread_t t;
	int made = 0;

	if (c == NULL)
		return;
	if (pthread_attr_init(&attr) == 0) {
		made = pthread_attr_setdetachstate(&attr,
		    PTHREAD_CREATE_DETACHED) == 0 &&
		    pthread_create(&t, &attr, cancel_run, c) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!made)
		PQfreeCancel(c);
}

/*
 * The result of the command just sent on *conn (sent: what the PQsend*
 * call returned; the connection is non-blocking, pg_connect), waited for
 * ms at most: PQexec's result (the first failure, else the last result).
 * NULL when nothing was sent or the connection failed (the failure in
 * PQerrorMessage), or past the deadline: then the command is cancelled
 * and the connection closed, *conn NULL (libpq takes a NULL connection as
 * a bad one: the caller finds the connection lost).
 */
static PGresult *
await_for(PGconn **conn, int sent, int ms)
{
	int64_t deadline = mono_us() + (int64_t)ms * 1000;
	PGresult *res = NULL, *r;

	if (!sent)
		return NULL;
	for (;;) {
		int flush = PQflush(*conn);
		struct pollfd p = { .fd = PQsocket(*conn), .events = POLLIN };
		int64_t left = deadline - mono_us();

		if (flush < 0)
			break;
		if (flush == 0 && !PQisBusy(*conn)) {
			if ((r = PQgetResult(*conn)) == NULL)
				return res;
			if (res != NULL &&
			    PQresultStatus(res) == PGRES_FATAL_ERROR) {
				PQclear(r);
			} else {
				PQclear(res);
				res = r;
			}
			continue;
		}
		if (left <= 0) {
			log_warn("store: PostgreSQL gave no answer within %d ms: "
			    "the command is cancelled, the connection closed",
			    ms);
			cancel(*conn);
			PQfinish(*conn);
			*conn = NULL;
			break;
		}
		if (flush > 0)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)((left + 999) / 1000)) < 0 &&
		    errno != EINTR)
			break;
		if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 &&
		    !PQconsumeInput(*conn))
			break;
	}
	PQclear(res);
	return NULL;
}

/* await_for(), PG_DEADLINE_MS: every command's but a migration's. */
static PGresult *
await(PGconn **conn, int sent)
{
	return await_for(conn, sent, PG_DEADLINE_MS);
}

/* Notes what res says of a failure, for db_fail(). */
static void
note_failure(struct pg_store *pg, const PGresult *res)
{
	const char *state = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";

	if (msg == NULL || msg[0] == '\0')
		msg = pg->conn != NULL ? PQerrorMessage(pg->conn) :
		    "no answer in time: the connection is closed";
	/* A failure of libpq's own, without the server's word (no SQLSTATE:
	 * "server closed the connection unexpectedly", before libpq has
	 * marked the connection bad), is taken as the connection's: class
	 * 08, connection_exception. */
	snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s",
	    state != NULL ? state : "08000");
	snprintf(pg->err, sizeof(pg->err), "%s", msg);
	pg->err[strcspn(pg->err, "\n")] = '\0';
}

/* Runs text, with no parameters (its rows, if any, unread), waited for
 * ms at most: 0, or -1 (noted). */
static int
run_for(struct pg_store *pg, const char *text, int ms)
{
	PGresult *res = await_for(&pg->conn, PQsendQuery(pg->conn, text), ms);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		note_failure(pg, res);
	PQclear(res);
	return ok ? 0 : -1;
}

/* run_for(), PG_DEADLINE_MS. */
static int
run(struct pg_store *pg, const char *text)
{
	return run_for(pg, text, PG_DEADLINE_MS);
}

static int reconnect(struct store *st);
static void dial_put(struct pg_dial *d);
static int dial(const char *url, const char *safe, const char *commit,
    int *warned, int loud, PGconn **out);
static void failure(PGconn *conn, const PGresult *res, char *why,
    size_t cap);
static int run_on(PGconn **conn, const char *text, char *why, size_t cap);

/* 1 when the last failure, or the connection's state, says the
 * connection is gone: closed (CONNECTION_BAD), a connection exception
 * (class 08), or the server shutting down (57P01..57P03). */
static int
gone(const struct pg_store *pg)
{
	return PQstatus(pg->conn) == CONNECTION_BAD ||
	    strncmp(pg->sqlstate, "08", 2) == 0 ||
	    strncmp(pg->sqlstate, "57P0", 4) == 0;
}

/* Notes that the connection is lost, with the turn's transaction if one
 * is open: it must not commit, and its answers are unavailable. The
 * first try to connect again is at the next statement. */
static void
lose(struct store *st)
{
	struct pg_store *pg = st->pg;

	if (st->tx) {
		st->broken = 1;
		st->lost_seen = 1;
	}
	if (pg->down)
		return;
	log_warn("store: the connection to PostgreSQL at %s is lost: "
	    "requests are answered unavailable until it is made again",
	    pg->safe);
	pg->down = 1;
	pg->backoff = PG_RETRY_MIN;
	pg->retry_at = mono_us();
}

/* 0 when a statement may run: the connection is up, or made again now.
 * Else OFR_E_UNAVAILABLE at once: within the transaction the connection
 * took with it, or before the backoff's time, or when the try fails. */
static int
ready(struct store *st)
{
	struct pg_store *pg = st->pg;

	if (!pg->down && PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	lose(st);
	if (st->tx || mono_us() < pg->retry_at)
		return OFR_E_UNAVAILABLE;
	return reconnect(st) == 0 ? 0 : OFR_E_UNAVAILABLE;
}

static void
drop_decoded(struct pg_stmt *ps)
{
	for (int i = 0; i < PG_COLS_MAX; i++) {
		PQfreemem(ps->dec[i]);
		ps->dec[i] = NULL;
	}
}

static void
pg_done(struct db_stmt *s)
{
	struct pg_stmt *ps = pgs(s);

	drop_decoded(ps);
	PQclear(ps->res);
	ps->res = NULL;
	for (int i = 0; i < PG_PARAMS_MAX; i++) {
		ps->values[i] = NULL;
		ps->bound[i] = 0;
	}
	ps->nbound = 0;
}

static int
pg_fail(struct store *st, struct db_stmt *s, const char *what)
{
	struct pg_store *pg = st->pg;
	int rc;

	if (s != NULL)
		db_done(s);
	log_err("store: %s: %s", what, pg->err[0] != '\0' ? pg->err :
	    PQerrorMessage(pg->conn));
	pg->err[0] = '\0';
	if (gone(pg)) {
		lose(st);
		rc = OFR_E_UNAVAILABLE;
	} else {
		if (st->tx && (PQstatus(pg->conn) != CONNECTION_OK ||
		    PQtransactionStatus(pg->conn) == PQTRANS_IDLE))
			st->broken = 1;	/* the transaction is gone */
		/* 53100: disk_full; 55P03 lock_not_available (past
		 * PG_LOCK_TIMEOUT), 40P01 deadlock_detected: another node
		 * held what this request needed, try again */
		if (strcmp(pg->sqlstate, "53100") == 0)
			rc = OFR_E_STORAGE_FULL;
		else if (strcmp(pg->sqlstate, "55P03") == 0 ||
		    strcmp(pg->sqlstate, "40P01") == 0)
			rc = OFR_E_UNAVAILABLE;
		else
			rc = OFR_E_INTERNAL;
	}
	pg->sqlstate[0] = '\0';	/* a later bind's failure is not this */
	return rc;
}

/* Slot i (1-based) of s, or NULL when out of range. */
static struct pg_stmt *
slot(struct db_stmt *s, int i)
{
	struct pg_stmt *ps = pgs(s);

	if (i < 1 || i > PG_PARAMS_MAX)
		return NULL;
	if (i > ps->nbound)
		ps->nbound = i;
	return ps;
}

static int
pg_bind_text(struct db_stmt *s, int i, const char *t, size_t n)
{
	struct pg_stmt *ps = slot(s, i);

	if (ps == NULL || n > INT_MAX)
		return -1;
	ps->values[i - 1] = t;	/* NUL-terminated: db_bind_text's */
	ps->lengths[i - 1] = (int)n;
	ps->formats[i - 1] = 0;
	ps->bound[i - 1] = OID_TEXT;
	return DB_OK;
}

static int
pg_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	struct pg_stmt *ps = slot(s, i);

	if (ps == NULL || n > INT_MAX)
		return -1;
	ps->values[i - 1] = n > 0 ? p : "";	/* NULL would bind NULL */
	ps->lengths[i - 1] = (int)n;
	ps->formats[i - 1] = 1;
	ps->bound[i - 1] = OID_BYTEA;
	return DB_OK;
}

static int
pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	struct pg_stmt *ps = slot(s, i);

	if (ps == NULL)
		return -1;
	snprintf(ps->nums[i - 1], sizeof(ps->nums[i - 1]), "%" PRId64, v);
	ps->values[i - 1] = ps->nums[i - 1];
	ps->lengths[i - 1] = 0;
	ps->formats[i - 1] = 0;
	ps->bound[i - 1] = OID_INT8;
	return DB_OK;
}

static int
pg_bind_null(struct db_stmt *s, int i)
{
	struct pg_stmt *ps = slot(s, i);

	if (ps == NULL)
		return -1;
	ps->values[i - 1] = NULL;
	ps->bound[i - 1] = 0;
	return DB_OK;
}

/* Prepares s again when this run binds a value of a type it was not
 * prepared with (or it never was): 0, or -1 (noted). */
static int
prepare(struct pg_stmt *ps, int n)
{
	PGresult *res;
	int again = ps->name[0] == '\0';
	char text[64];

	for (int i = 0; i < n && !again; i++)
		again = ps->bound[i] != 0 && ps->bound[i] != ps->types[i];
	if (!again)
		return 0;
	if (ps->name[0] != '\0') {
		snprintf(text, sizeof(text), "DEALLOCATE %s", ps->name);
		if (run(ps->pg, text) != 0)
			return -1;
		ps->name[0] = '\0';
	}
	snprintf(ps->name, sizeof(ps->name), "s%d_%u", ps->id, ps->gen++);
	for (int i = 0; i < PG_PARAMS_MAX; i++)
		ps->types[i] = i < n ? ps->bound[i] : 0;
	res = await(&ps->pg->conn, PQsendPrepare(ps->pg->conn, ps->name,
	    ps->text, n, ps->types));
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		note_failure(ps->pg, res);
		PQclear(res);
		ps->name[0] = '\0';
		return -1;
	}
	PQclear(res);
	return 0;
}

/* 1 when the failure noted is a refusal by constraint c. */
static int
refused_by(const struct pg_store *pg, enum db_constraint c)
{
	switch (c) {
	case DB_UNIQUE:
		return strcmp(pg->sqlstate, "23505") == 0;
	case DB_FOREIGN_KEY:
		return strcmp(pg->sqlstate, "23503") == 0;
	case DB_NONE:
		break;
	}
	return 0;
}

/* Runs s with its bindings: 0 with its rows in s->res, or -1 (noted). */
static int
execute(struct pg_stmt *ps)
{
	struct pg_store *pg = ps->pg;
	int n = ps->nbound > ps->nparams ? ps->nbound : ps->nparams;
	const char *status;
	ExecStatusType rs;

	if (prepare(ps, n) != 0)
		return -1;
	ps->res = await(&pg->conn, PQsendQueryPrepared(pg->conn, ps->name, n,
	    ps->values, ps->lengths, ps->formats, 0));
	rs = PQresultStatus(ps->res);
	if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
		note_failure(pg, ps->res);
		PQclear(ps->res);
		ps->res = NULL;
		return -1;
	}
	status = PQcmdStatus(ps->res);
	if (strncmp(status, "INSERT", 6) == 0 ||
	    strncmp(status, "UPDATE", 6) == 0 ||
	    strncmp(status, "DELETE", 6) == 0)
		pg->changes = strtoll(PQcmdTuples(ps->res), NULL, 10);
	ps->row = -1;
	return 0;
}

static int
pg_step(struct store *st, struct db_stmt *s, enum db_constraint c, int code,
    const char *what)
{
	struct pg_stmt *ps = pgs(s);
	struct pg_store *pg = st->pg;
	int sp = 0, rc;

	if (ps->res == NULL && (rc = ready(st)) != 0) {
		db_done(s);
		return rc;
	}
	if (ps->res == NULL) {
		db_read_seen(st);
		/* a refusal must leave the transaction going: a savepoint */
		sp = c != DB_NONE &&
		    PQtransactionStatus(pg->conn) == PQTRANS_INTRANS;
		if (sp && run(pg, "SAVEPOINT db_or") != 0)
			return db_fail(st, s, what);
		rc = execute(ps);
		if (rc != 0 && sp) {
			char state[6], err[sizeof(pg->err)];

			memcpy(state, pg->sqlstate, sizeof(state));
			memcpy(err, pg->err, sizeof(err));
			if (run(pg, "ROLLBACK TO db_or") != 0 ||
			    run(pg, "RELEASE db_or") != 0)
				return db_fail(st, s, what);
			memcpy(pg->sqlstate, state, sizeof(state));
			memcpy(pg->err, err, sizeof(err));
		} else if (sp && run(pg, "RELEASE db_or") != 0) {
			return db_fail(st, s, what);
		}
		if (rc != 0) {
			if (refused_by(pg, c)) {
				pg->err[0] = '\0';
				db_done(s);
				return code;
			}
			return db_fail(st, s, what);
		}
	}
	drop_decoded(ps);
	if (++ps->row < PQntuples(ps->res))
		return 1;
	db_done(s);
	return 0;
}

static int
pg_busy(struct db_stmt *s)
{
	return pgs(s)->res != NULL;
}

static int64_t
pg_changes(struct store *st)
{
	return st->pg->changes;
}

/* Column i of the current row, or NULL when out of range or NULL. */
static const char *
value(struct pg_stmt *ps, int i)
{
	if (ps->res == NULL || ps->row < 0 || ps->row >= PQntuples(ps->res) ||
	    i < 0 || i >= PQnfields(ps->res) ||
	    PQgetisnull(ps->res, ps->row, i))
		return NULL;
	return PQgetvalue(ps->res, ps->row, i);
}

static int64_t
pg_col_int64(struct db_stmt *s, int i)
{
	const char *v = value(pgs(s), i);

	if (v == NULL)
		return 0;
	if (strcmp(v, "t") == 0)	/* a boolean: SQLite's 1 and 0 */
		return 1;
	return strtoll(v, NULL, 10);
}

static int
pg_col_is_null(struct db_stmt *s, int i)
{
	return value(pgs(s), i) == NULL;
}

/* Decodes bytea column i of the current row (once a row). */
static const unsigned char *
decoded(struct pg_stmt *ps, int i, size_t *len)
{
	const char *v = value(ps, i);

	*len = 0;
	if (v == NULL || i >= PG_COLS_MAX)
		return NULL;
	if (ps->dec[i] == NULL)
		ps->dec[i] = PQunescapeBytea((const unsigned char *)v,
		    &ps->dec_len[i]);
	*len = ps->dec[i] != NULL ? ps->dec_len[i] : 0;
	return ps->dec[i];
}

static const void *
pg_col_data(struct db_stmt *s, int i)
{
	struct pg_stmt *ps = pgs(s);
	const unsigned char *p;
	size_t len;

	if (value(ps, i) == NULL)
		return NULL;
	if (PQftype(ps->res, i) != OID_BYTEA)
		return value(ps, i);
	p = decoded(ps, i, &len);
	return len > 0 ? p : NULL;	/* SQLite's NULL for an empty blob */
}

static int
pg_col_bytes(struct db_stmt *s, int i)
{
	struct pg_stmt *ps = pgs(s);
	size_t len;

	if (value(ps, i) == NULL)
		return 0;
	if (PQftype(ps->res, i) != OID_BYTEA)
		return PQgetlength(ps->res, ps->row, i);
	(void)decoded(ps, i, &len);
	return len > INT_MAX ? INT_MAX : (int)len;
}

/* A transaction is open on a working connection (a lost one took its
 * transaction with it: nothing to roll back). */
static int
pg_in_tx(struct store *st)
{
	PGTransactionStatusType ts;

	if (st->pg == NULL || st->pg->conn == NULL || st->pg->down ||
	    PQstatus(st->pg->conn) != CONNECTION_OK)
		return 0;
	ts = PQtransactionStatus(st->pg->conn);
	return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR ||
	    ts == PQTRANS_ACTIVE;
}

/*
 * PostgreSQL's commit(): COMMIT returns once the commit record is in
 * PostgreSQL's WAL buffers (synchronous_commit off), not on its disk: the
 * store thread makes it durable (pg_sync), as it syncs SQLite's -wal; or
 * it is waited for here when nobody is told of it (store_on_durable).
 */
static int
pg_commit(struct store *st)
{
	struct pg_store *pg = st->pg;
	PGresult *res;
	int64_t start = mono_us();
	int ok, waits;

	if (pg->down || PQstatus(pg->conn) != CONNECTION_OK) {
		lose(st);
		log_err("store: commit: the connection to PostgreSQL was lost; "
		    "nothing of the transaction is kept");
		return db_commit_lost(st);
	}
	if (PQtransactionStatus(pg->conn) != PQTRANS_INTRANS) {
		/* aborted: COMMIT would roll back and say "ROLLBACK" */
		log_err("store: commit: the transaction was aborted by a "
		    "failed statement; nothing of it is kept");
		return db_commit_lost(st);
	}
	res = await(&pg->conn, PQsendQuery(pg->conn, "COMMIT"));
	ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok) {
		note_failure(pg, res);
		log_err("store: commit: %s", pg->err[0] != '\0' ? pg->err :
		    PQcmdStatus(res));
	}
	PQclear(res);
	if (!ok && gone(pg)) {
		/* Made or not, nobody can tell: never answered as made. */
		log_err("store: commit: the connection to PostgreSQL was lost "
		    "during COMMIT: whether it was made is unknown; its "
		    "requests are answered unavailable");
		lose(st);
	}
	pg->sqlstate[0] = '\0';
	if (!ok)
		return db_commit_lost(st);
	metrics_commit(mono_us() - start, 1);
	st->tx = 0;
	st->full_seen = 0;
	st->lost_seen = 0;
	st->commits++;
	pthread_mutex_lock(&st->sync_mu);
	waits = st->on_durable == NULL;
	pthread_mutex_unlock(&st->sync_mu);
	if (waits)
		return store_sync(st);
	db_sync_ask(st);
	return 0;
}

/* One try of pg_sync() on pg->sync_conn: 0 with *alive, or -1 with why
 * (cap bytes). */
static int
sync_once(struct pg_store *pg, const char *const values[2], int *alive,
    char *why, size_t cap)
{
	PGresult *res;
	int ok;

	if (run_on(&pg->sync_conn, "BEGIN", why, cap) != 0)
		return -1;
	res = await(&pg->sync_conn, PQsendQueryParams(pg->sync_conn,
	    "SELECT pg_logical_emit_message(true, 'offramp', ''), coalesce(("
	    "SELECT (extract(epoch FROM backend_start) * 1000000)::bigint "
	    "FROM pg_stat_get_activity($1::int)) = $2::bigint, false)", 2,
	    NULL, values, NULL, NULL, 0));
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok)
		*alive = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	else
		failure(pg->sync_conn, res, why, cap);
	PQclear(res);
	if (!ok)
		return -1;
	pg->sync_warned = 0;
	res = await(&pg->sync_conn, PQsendQuery(pg->sync_conn, "COMMIT"));
	ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok) {
		failure(pg->sync_conn, res, why, cap);
	} else if (pg->sync_warned) {
		/* Committed here but not on the synchronous standbys (a
		 * cancelled wait for them says so by a WARNING, and
		 * COMMIT): not durable as configured. The connection
		 * counts as lost: no retry on a new one, which would wait
		 * for them as long. */
		snprintf(why, cap, "COMMIT came with a warning: the wait for "
		    "the synchronous standbys was cancelled");
		PQfinish(pg->sync_conn);
		pg->sync_conn = NULL;
		ok = 0;
	}
	PQclear(res);
	return ok ? 0 : -1;
}

/*
 * PostgreSQL's sync(), on the store thread's own connection: a transaction
 * that writes a WAL record (a transactional logical message, which takes a
 * transaction id), so that its COMMIT writes a commit record and,
 * synchronous_commit on, returns once the WAL up to that record is flushed
 * (and, with synchronous standbys, replicated there). A transaction id
 * alone would not do: a transaction that wrote no WAL before its commit
 * record commits asynchronously whatever synchronous_commit says
 * (RecordTransactionCommit). The WAL is flushed in order: every commit
 * record written before it is durable too, those of the loop's COMMITs that
 * returned before this call among them. The same transaction checks that
 * the loop's backend still runs, with the start it had: a crash of
 * PostgreSQL ends every backend, so the server this flush ran on is the one
 * that holds those commits (not one restarted since without them). That
 * check, not this connection's age, is what vouches: a try that fails on a
 * connection made earlier (PostgreSQL restarted since, say) is made again
 * at once on a new one. Commits made on an earlier connection of the loop
 * are never vouched for. The connection is made again with the loop's
 * backoff; its statements touch nothing of the loop's. 0, or
 * OFR_E_UNAVAILABLE (logged).
 */
static int
pg_sync(struct store *st)
{
	struct pg_store *pg = st->pg;
	char pid[16], start[24], why[512];
	const char *const values[2] = { pid, start };
	int64_t from, durable;
	int fresh = 0, alive = 0, stalled;

	pthread_mutex_lock(&st->sync_mu);
	snprintf(pid, sizeof(pid), "%d", pg->loop_pid);
	snprintf(start, sizeof(start), "%" PRId64, pg->loop_start);
	from = pg->loop_from;
	durable = st->durable;
	pthread_mutex_unlock(&st->sync_mu);
	if (from > durable + 1) {
		log_warn("store: commits %lld to %lld were made on a "
		    "connection to PostgreSQL that is lost: they may be lost, "
		    "and are answered unavailable", (long long)durable + 1,
		    (long long)from - 1);
		return OFR_E_UNAVAILABLE;
	}
	for (;;) {
		int64_t now = mono_us();

		if (PQstatus(pg->sync_conn) != CONNECTION_OK) {
			if (now < pg->sync_retry_at)
				return OFR_E_UNAVAILABLE;
			if (pg->sync_conn != NULL)
				PQfinish(pg->sync_conn);
			pg->sync_conn = NULL;
			fresh = 1;
			if (dial(pg->url, pg->safe, "on", &pg->sync_warned,
			    0, &pg->sync_conn) != 0) {
				pg->sync_retry_at = now + pg->sync_backoff;
				pg->sync_backoff =
				    pg->sync_backoff >= PG_RETRY_MAX / 2 ?
				    PG_RETRY_MAX : pg->sync_backoff * 2;
				log_warn("store: cannot connect to PostgreSQL "
				    "at %s to make the commits durable: those "
				    "not yet durable may be lost, and are "
				    "answered unavailable", pg->safe);
				return OFR_E_UNAVAILABLE;
			}
			pg->sync_backoff = PG_RETRY_MIN;
		}
		why[0] = '\0';
		if (sync_once(pg, values, &alive, why, sizeof(why)) == 0)
			break;
		/* closed by sync_once: stalled (PG_DEADLINE_MS) or warned */
		stalled = pg->sync_conn == NULL;
		PQfinish(pg->sync_conn);
		pg->sync_conn = NULL;
		pg->sync_retry_at = now;
		if (fresh || stalled) {
			log_warn("store: cannot make the commits durable on "
			    "PostgreSQL at %s (%s): those not yet durable may "
			    "be lost, and are answered unavailable", pg->safe,
			    why[0] != '\0' ? why : "the connection is lost");
			return OFR_E_UNAVAILABLE;
		}
		log_debug("store: the store thread's connection to "
		    "PostgreSQL failed (%s): trying a new one", why);
	}
	if (!alive) {
		log_warn("store: the loop's connection to PostgreSQL at %s "
		    "is gone: its commits not yet durable may be lost, and "
		    "are answered unavailable", pg->safe);
		return OFR_E_UNAVAILABLE;
	}
	return 0;
}

static void
stmt_free(struct db_stmt *s)
{
	struct pg_stmt *ps = pgs(s);

	if (s == NULL)
		return;
	drop_decoded(ps);
	PQclear(ps->res);
	free(ps->text);
	free(ps);
}

static void
pg_close(struct store *st)
{
	struct pg_store *pg = st->pg;

	for (int i = 0; i < S_COUNT; i++) {
		stmt_free(st->s[i]);
		st->s[i] = NULL;
	}
	stmt_free(st->probe);
	st->probe = NULL;
	if (pg == NULL)
		return;
	db_sync_stop(st);
	if (pg->dial != NULL)
		dial_put(pg->dial);
	if (pg->sync_conn != NULL)
		PQfinish(pg->sync_conn);
	if (pg->conn != NULL) {
		if (pg_in_tx(st))
			(void)run(pg, "ROLLBACK");
		PQfinish(pg->conn);
	}
	if (pg->url != NULL) {
		sodium_memzero(pg->url, strlen(pg->url));
		free(pg->url);
	}
	free(pg);
	st->pg = NULL;
}

static int
pg_full(struct store *st)
{
	(void)st;
	return 0;	/* PostgreSQL's own disk: its errors say (53100) */
}

/*
 * Several nodes on one database (store.h, from store_shared() on). The
 * hooks' statements are this file's own, not a noun file's, and run with
 * their parameters as text (PQexecParams, types from their context or
 * cast): they run at an assignment and once a presence period, not per
 * message, so they are not prepared.
 */

/* Runs text with the integers v[0..n-1] (n at most 2) as $1..$n and,
 * when arr is not NULL, arr as $n+1; its rows into *out when out is not
 * NULL (the caller clears them). 0, or pg_fail()'s code. */
static int
hook_run(struct store *st, const char *text, const int64_t *v, int n,
    const char *arr, PGresult **out, const char *what)
{
	struct pg_store *pg = st->pg;
	char nums[2][24];
	const char *values[3];
	ExecStatusType rs;
	PGresult *res;
	int rc, np = 0;

	if (out != NULL)
		*out = NULL;
	if (n < 0 || n > 2)
		return OFR_E_INTERNAL;
	if ((rc = ready(st)) != 0)
		return rc;
	for (; np < n; np++) {
		snprintf(nums[np], sizeof(nums[np]), "%" PRId64, v[np]);
		values[np] = nums[np];
	}
	if (arr != NULL)
		values[np++] = arr;
	db_read_seen(st);
	res = await(&pg->conn, PQsendQueryParams(pg->conn, text, np, NULL,
	    values, NULL, NULL, 0));
	rs = PQresultStatus(res);
	if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
		note_failure(pg, res);
		PQclear(res);
		return pg_fail(st, NULL, what);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

/*
 * A row, locked by sql (FOR NO KEY UPDATE of the row whose id is $1) as
 * an UPDATE of it locks it, until the transaction ends: another node's
 * change of it waits for this commit, and what is read after this is
 * committed (pg_lock: a counsellor's profile, which an assignment updates
 * anyway; pg_case_lock: a case; pg_account_lock: an account). The wait is bounded (lock_timeout, for the rest of the
 * transaction); past it, or at a deadlock (which PostgreSQL breaks within
 * its deadlock_timeout), pg_fail() answers OFR_E_UNAVAILABLE, and the
 * request's savepoint undoes the request alone. Within a request the
 * order is a programme's row, then accounts', cases', counsellors' and
 * the deliveries lock; but a turn's transaction keeps the locks of its
 * earlier requests, so a turn that sent (deliveries) or closed (a case,
 * a counsellor) and then certifies (a programme) can meet another node's
 * revocation that holds the programme and waits for that counsellor or
 * for deliveries: a deadlock, broken so, one request of the two
 * retryable, as between counsellors' and cases' rows.
 */
static int
row_lock(struct store *st, const char *sql, int64_t id, const char *what)
{
	int rc;

	if ((rc = hook_run(st, "SET LOCAL lock_timeout = '" PG_LOCK_TIMEOUT
	    "'", NULL, 0, NULL, NULL, "lock timeout")) != 0)
		return rc;
	return hook_run(st, sql, &id, 1, NULL, NULL, what);
}

static int
pg_lock(struct store *st, int64_t counsellor)
{
	return row_lock(st, "SELECT 1 FROM counsellor_profiles"
	    " WHERE account_id = $1 FOR NO KEY UPDATE", counsellor,
	    "lock counsellor");
}

/* A case's row, locked as pg_lock locks a counsellor's, and bounded
 * alike: another node's change of the case waits for this commit, and
 * the case read after this is the committed one. */
static int
pg_case_lock(struct store *st, int64_t id)
{
	return row_lock(st, "SELECT 1 FROM cases WHERE id = $1"
	    " FOR NO KEY UPDATE", id, "lock case");
}

/* An account's row, locked alike: admins of one programme that disable
 * each other at two nodes at once (admin.c). */
static int
pg_account_lock(struct store *st, int64_t id)
{
	return row_lock(st, "SELECT 1 FROM accounts WHERE id = $1"
	    " FOR NO KEY UPDATE", id, "lock account");
}

/* A programme's row, locked alike: a certification at one node and a
 * revocation or a rotation at another (keys.c). */
static int
pg_programme_lock(struct store *st, int64_t id)
{
	return row_lock(st, "SELECT 1 FROM programmes WHERE id = $1"
	    " FOR NO KEY UPDATE", id, "lock programme");
}

static int
pg_case_event(struct store *st, int64_t *v)
{
	PGresult *res;
	int rc;

	if ((rc = hook_run(st, "SELECT nextval('case_events')", NULL, 0, NULL,
	    &res, "case event")) != 0)
		return rc;
	*v = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return *v > 0 ? 0 : OFR_E_INTERNAL;
}

/* The seconds of the database's clock, in SQL. */
#define PG_EPOCH	"floor(extract(epoch FROM clock_timestamp()))::bigint"

/* ids[0..n-1] as a PostgreSQL array's text ({1,2,3}), malloc'd (the
 * caller frees it); NULL when out of memory. */
static char *
id_array(const int64_t *ids, size_t n)
{
	size_t cap = n * 21 + 3, len = 0;
	char *arr;

	if ((arr = malloc(cap)) == NULL)
		return NULL;
	arr[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(arr + len, cap - len, "%s%" PRId64,
		    i > 0 ? "," : "", ids[i]);
	arr[len++] = '}';
	arr[len] = '\0';
	return arr;
}

/* This node's rows of nodes.presence become ids, each until expiry
 * seconds from now; the expired rows of any node go. */
static int
pg_presence_publish(struct store *st, const int64_t *ids, size_t n,
    int expiry)
{
	int64_t v[2] = { st->pg->node, expiry };
	char *arr;
	int rc;

	if ((arr = id_array(ids, n)) == NULL)
		return OFR_E_NOMEM;
	if ((rc = hook_run(st, "DELETE FROM nodes.presence WHERE node = $1"
	    " AND NOT (account_id = ANY ($2::bigint[]))", v, 1, arr, NULL,
	    "presence publish")) == 0 &&
	    (rc = hook_run(st, "INSERT INTO nodes.presence"
	    " (account_id, node, expires) SELECT DISTINCT"
	    " unnest($3::bigint[]), $1::bigint, " PG_EPOCH " + $2::bigint"
	    " ON CONFLICT (account_id, node)"
	    " DO UPDATE SET expires = excluded.expires", v, 2, arr, NULL,
	    "presence publish")) == 0)
		rc = hook_run(st, "DELETE FROM nodes.presence WHERE expires < "
		    PG_EPOCH, NULL, 0, NULL, NULL, "presence expire");
	free(arr);
	return rc;
}

/* The counsellors other nodes have there, not expired. */
static int
pg_presence_each(struct store *st, int (*fn)(void *arg, int64_t id),
    void *arg)
{
	int64_t v[2] = { st->pg->node, STORE_PRESENCE_MAX };
	PGresult *res;
	int rc;

	if ((rc = hook_run(st, "SELECT DISTINCT account_id FROM nodes.presence"
	    " WHERE node <> $1 AND expires >= " PG_EPOCH
	    " ORDER BY account_id LIMIT $2", v, 2, NULL, &res,
	    "presence each")) != 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = fn(arg, strtoll(PQgetvalue(res, i, 0), NULL, 10));
	PQclear(res);
	return rc;
}

/* This node's rows of nodes.waiting become those of ids (clients
 * connected here) that have a waiting case, each until expiry seconds
 * from now; the expired rows of any node go. */
static int
pg_waiting_publish(struct store *st, const int64_t *ids, size_t n,
    int expiry)
{
	int64_t v[2] = { st->pg->node, expiry };
	char *arr;
	int rc;

	if ((arr = id_array(ids, n)) == NULL)
		return OFR_E_NOMEM;
	if ((rc = hook_run(st, "DELETE FROM nodes.waiting WHERE node = $1",
	    v, 1, NULL, NULL, "waiting publish")) == 0 &&
	    (rc = hook_run(st, "INSERT INTO nodes.waiting"
	    " (account_id, node, expires) SELECT DISTINCT c.client_id,"
	    " $1::bigint, " PG_EPOCH " + $2::bigint FROM cases c"
	    " WHERE c.status = 1 AND c.client_id = ANY ($3::bigint[])",
	    v, 2, arr, NULL, "waiting publish")) == 0)
		rc = hook_run(st, "DELETE FROM nodes.waiting WHERE expires < "
		    PG_EPOCH, NULL, 0, NULL, NULL, "waiting expire");
	free(arr);
	return rc;
}

/* 1 in *yes when another node has account in nodes.waiting, not
 * expired. */
static int
pg_waiting_elsewhere(struct store *st, int64_t account, int *yes)
{
	int64_t v[2] = { st->pg->node, account };
	PGresult *res;
	int rc;

	if ((rc = hook_run(st, "SELECT 1 FROM nodes.waiting WHERE node <> $1"
	    " AND account_id = $2 AND expires >= " PG_EPOCH " LIMIT 1", v, 2,
	    NULL, &res, "waiting elsewhere")) != 0)
		return rc;
	*yes = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

/* Of ids[0..n-1], those of no account or of a disabled one, each to
 * fn. */
static int
pg_accounts_barred(struct store *st, const int64_t *ids, size_t n,
    int (*fn)(void *arg, int64_t id), void *arg)
{
	PGresult *res;
	char *arr;
	int rc;

	if ((arr = id_array(ids, n)) == NULL)
		return OFR_E_NOMEM;
	rc = hook_run(st, "SELECT DISTINCT u.id FROM unnest($1::bigint[])"
	    " AS u(id) LEFT JOIN accounts a ON a.id = u.id"
	    " WHERE a.id IS NULL OR a.disabled <> 0", NULL, 0, arr, &res,
	    "accounts barred");
	free(arr);
	if (rc != 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = fn(arg, strtoll(PQgetvalue(res, i, 0), NULL, 10));
	PQclear(res);
	return rc;
}

/* Tries the transaction-level advisory lock (STORE_LOCK_CLASS, key):
 * *got 1 when taken (until the transaction ends), 0 when another
 * session holds it. */
static int
pg_try_lock(struct store *st, int key, int *got)
{
	int64_t v[2] = { STORE_LOCK_CLASS, key };
	PGresult *res;
	int rc;

	*got = 0;
	if ((rc = hook_run(st, "SELECT pg_try_advisory_xact_lock($1::int4,"
	    " $2::int4)", v, 2, NULL, &res, "try lock")) != 0)
		return rc;
	*got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

static const struct db_backend pg_backend = {
	.name = "postgresql",
	.done = pg_done,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_int64 = pg_bind_int64,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.busy = pg_busy,
	.changes = pg_changes,
	.col_int64 = pg_col_int64,
	.col_is_null = pg_col_is_null,
	.col_data = pg_col_data,
	.col_bytes = pg_col_bytes,
	.fail = pg_fail,
	.in_tx = pg_in_tx,
	.commit = pg_commit,
	.close = pg_close,
	.full = pg_full,
	.sync = pg_sync,
	.shared = 1,
	.lock = pg_lock,
	.case_lock = pg_case_lock,
	.account_lock = pg_account_lock,
	.programme_lock = pg_programme_lock,
	.case_event = pg_case_event,
	.presence_publish = pg_presence_publish,
	.presence_each = pg_presence_each,
	.waiting_publish = pg_waiting_publish,
	.waiting_elsewhere = pg_waiting_elsewhere,
	.accounts_barred = pg_accounts_barred,
	.try_lock = pg_try_lock,
};

/*
 * A statement of text: ?N becomes $N outside quoted strings and
 * identifiers, and the greatest N is its parameter count. NULL when out
 * of memory or a parameter is past PG_PARAMS_MAX.
 */
static struct db_stmt *
stmt_new(struct pg_store *pg, int id, const char *text)
{
	struct pg_stmt *ps = calloc(1, sizeof(*ps));
	size_t n = strlen(text);
	char quote = 0;

	if (ps == NULL || (ps->text = malloc(n + 1)) == NULL) {
		free(ps);
		return NULL;
	}
	ps->head.be = &pg_backend;
	ps->pg = pg;
	ps->id = id;
	for (size_t i = 0; i <= n; i++) {
		char ch = text[i];

		if (quote != 0) {
			if (ch == quote)
				quote = 0;
		} else if (ch == '\'' || ch == '"') {
			quote = ch;
		} else if (ch == '?' && isdigit((unsigned char)text[i + 1])) {
			int v = atoi(text + i + 1);

			if (v < 1 || v > PG_PARAMS_MAX) {
				stmt_free(&ps->head);
				return NULL;
			}
			if (v > ps->nparams)
				ps->nparams = v;
			ch = '$';
		}
		ps->text[i] = ch;
	}
	return &ps->head;
}

/* One row, one integer column, of text: 0, 1 when no row, or -1. */
static int
query_int(struct pg_store *pg, const char *text, int64_t *v)
{
	PGresult *res = await(&pg->conn, PQsendQuery(pg->conn, text));
	int rc = 1;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		note_failure(pg, res);
		rc = -1;
	} else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
		*v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

/* Takes the migrations' advisory lock for the transaction; while another
 * node holds it, waits PG_MIGRATE_MS at most (no statement_timeout of
 * the database's or role's cuts the wait, nor the session's
 * lock_timeout). */
static int
migration_lock(struct pg_store *pg)
{
	int64_t got = 0;

	if (query_int(pg, "SELECT pg_try_advisory_xact_lock(7361646)::int",
	    &got) != 0)
		return -1;
	if (got == 1)
		return 0;
	log_info("store: another node holds the schema's lock (it starts or "
	    "migrates): waiting for it, %d minutes at most",
	    PG_MIGRATE_MS / 60000);
	if (run(pg, "SET LOCAL statement_timeout = 0") != 0 ||
	    run(pg, "SET LOCAL lock_timeout = 0") != 0 ||
	    run_for(pg, "SELECT pg_advisory_xact_lock(7361646)",
	    PG_MIGRATE_MS) != 0)
		return -1;
	log_info("store: the schema's lock is free again");
	return 0;
}

/* Brings the schema to PG_SCHEMA_VERSION, each migration a transaction
 * of its own under an advisory lock. A node that finds the lock taken
 * (another node migrating, or starting) says so in its log and waits for
 * it as long as a migration may take (PG_MIGRATE_MS), then reads the
 * version again: the other's migrations are done, or it goes on with the
 * next itself. */
static int
migrate(struct pg_store *pg, int create)
{
	char text[96];
	int64_t version = 0;
	int rc;

	rc = query_int(pg, "SELECT CASE WHEN to_regclass('schema_version')"
	    " IS NULL THEN NULL ELSE 1 END", &version);
	if (rc < 0)
		goto fail;
	if (rc == 1 && !create) {
		log_err("store: the database holds no offramp schema");
		return OFR_E_NOT_FOUND;
	}
	for (;;) {
		if (run(pg, "BEGIN") != 0 ||
		    run(pg, "SET LOCAL synchronous_commit = on") != 0 ||
		    migration_lock(pg) != 0 ||
		    run(pg, "CREATE TABLE IF NOT EXISTS schema_version ("
		    "  version bigint NOT NULL)") != 0)
			goto fail;
		if ((rc = query_int(pg, "SELECT version FROM schema_version",
		    &version)) < 0)
			goto fail;
		if (rc == 1) {
			version = 0;
			if (run(pg, "INSERT INTO schema_version VALUES (0)") !=
			    0)
				goto fail;
		}
		if (version < 0 || version > PG_SCHEMA_VERSION) {
			log_err("store: schema version %lld is not one this "
			    "server knows (newest %d)", (long long)version,
			    PG_SCHEMA_VERSION);
			(void)run(pg, "ROLLBACK");
			return OFR_E_INTERNAL;
		}
		if (version == PG_SCHEMA_VERSION)
			return run(pg, "COMMIT") == 0 ? 0 : OFR_E_INTERNAL;
		snprintf(text, sizeof(text), "UPDATE schema_version SET "
		    "version = %lld", (long long)version + 1);
		/* A migration may take minutes (PG_MIGRATE_MS): no
		 * statement_timeout of the database's or role's cuts it,
		 * and it waits a minute for a lock (a pg_dump's) */
		log_info("store: migrating the schema to version %lld",
		    (long long)version + 1);
		if (run(pg, "SET LOCAL statement_timeout = 0") != 0 ||
		    run(pg, "SET LOCAL lock_timeout = '60s'") != 0 ||
		    run_for(pg, pg_migrations[version], PG_MIGRATE_MS) != 0 ||
		    run(pg, text) != 0 ||
		    run_for(pg, "COMMIT", PG_MIGRATE_MS) != 0)
			goto fail;
		log_info("store: schema migrated to version %lld",
		    (long long)version + 1);
	}
fail:
	log_err("store: migration: %s", pg->err);
	(void)run(pg, "ROLLBACK");
	return OFR_E_INTERNAL;
}

/* 1 when the cluster syncs its commits (fsync on). */
static int
fsync_on(PGconn **conn)
{
	PGresult *res = await(conn, PQsendQuery(*conn, "SHOW fsync"));
	int on = PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "on") == 0;

	PQclear(res);
	return on;
}

/* Notices (NOTICE, WARNING) go to the log, at debug; a WARNING sets
 * *arg when arg is not NULL. */
static void
notice(void *arg, const PGresult *res)
{
	const char *msg = PQresultErrorMessage(res);
	const char *sev = PQresultErrorField(res,
	    PG_DIAG_SEVERITY_NONLOCALIZED);

	log_debug("store: postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
	if (arg != NULL && sev != NULL && strcmp(sev, "WARNING") == 0)
		*(int *)arg = 1;
}

/* Writes why (cap bytes) the command that gave res failed on conn. */
static void
failure(PGconn *conn, const PGresult *res, char *why, size_t cap)
{
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";

	if (msg == NULL || msg[0] == '\0')
		msg = conn != NULL ? PQerrorMessage(conn) :
		    "no answer in time: the connection is closed";
	snprintf(why, cap, "%.*s", (int)strcspn(msg, "\n"), msg);
}

/* Runs text on conn, with no parameters and no rows to read: 0, or -1
 * with why (cap bytes) its failure. The store thread's run(). */
static int
run_on(PGconn **conn, const char *text, char *why, size_t cap)
{
	PGresult *res = await(conn, PQsendQuery(*conn, text));
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		failure(*conn, res, why, cap);
	PQclear(res);
	return ok ? 0 : -1;
}

/*
 * A connection to url (store_int.h): a connect waits PG_CONNECT_TIMEOUT at
 * most (the URL cannot make it longer); TCP keepalives and
 * tcp_user_timeout end it within some 15 seconds when its network is
 * gone, on this side, and on PostgreSQL's (PG_SESSION_OPTIONS, which
 * replace any options of the URL).
 */
struct pg_conn *
pg_connect(const char *url, const char *app)
{
	static const char *const keys[] = {
		"dbname", "connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"options", "application_name", NULL
	};
	const char *values[] = {
		url, PG_CONNECT_TIMEOUT, "1", "5", "2", "3", "15000",
		PG_SESSION_OPTIONS, app, NULL
	};

	return PQconnectdbParams(keys, values, 1);
}

/*
 * Why conn could not connect to url, into buf (cap bytes): the first line
 * of libpq's message, which names the host, the port, the user or the
 * database, never the password, once the URL parses (pg_open checks that
 * first: libpq's parse errors quote the URL or its token verbatim); were
 * the URL's password in it all the same, a fixed text instead.
 */
const char *
pg_conn_why(PGconn *conn, const char *url, char *buf, size_t cap)
{
	const char *msg = conn != NULL ? PQerrorMessage(conn) :
	    "out of memory";
	PQconninfoOption *opts = PQconninfoParse(url, NULL), *o;
	int quoted = opts == NULL;

	snprintf(buf, cap, "%.*s", (int)strcspn(msg, "\n"), msg);
	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0' && strstr(msg, o->val) != NULL)
			quoted = 1;
	PQconninfoFree(opts);
	if (quoted)
		snprintf(buf, cap, "libpq's message withheld: it could quote "
		    "the URL's password");
	return buf;
}

/*
 * Connects to url (pg_connect; safe is it to log) and sets the session
 * up, with synchronous_commit as commit says ("on" or "off"), non-blocking
 * (its commands wait in await(), PG_DEADLINE_MS at most), its WARNINGs
 * setting *warned when warned is not NULL; *out is the new connection,
 * working or not (NULL: out of memory). 0, OFR_E_IO (unreachable),
 * OFR_E_NOMEM or OFR_E_INTERNAL; logged when loud, else at debug. Any
 * thread's: the store thread's connection, and the loop's made again
 * (dial_run).
 */
static int
dial(const char *url, const char *safe, const char *commit, int *warned,
    int loud, PGconn **out)
{
	int level = loud ? LOG_ERR : LOG_DEBUG;
	char set[48], why[512];
	PGconn *conn;

	if ((*out = conn = pg_connect(url, NULL)) == NULL) {
		log_msg(level, "store: cannot connect to PostgreSQL: out of "
		    "memory");
		return OFR_E_NOMEM;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		log_msg(level, "store: cannot connect to PostgreSQL at %s: %s",
		    safe, pg_conn_why(conn, url, why, sizeof(why)));
		return OFR_E_IO;
	}
	(void)PQsetNoticeReceiver(conn, notice, warned);
	if (PQsetnonblocking(conn, 1) != 0) {
		log_msg(level, "store: %s: cannot make the connection "
		    "non-blocking", safe);
		return OFR_E_INTERNAL;
	}
	/* The loop's commits return at once; the store thread's once they
	 * are on PostgreSQL's disk, and with them every commit before
	 * (pg_sync). fsync is the cluster's, and without it nothing is. */
	snprintf(set, sizeof(set), "SET synchronous_commit = %s", commit);
	if (run_on(out, set, why, sizeof(why)) != 0 ||
	    run_on(out, "SET client_min_messages = warning", why,
	    sizeof(why)) != 0) {
		log_msg(level, "store: %s: %s", safe, why);
		return OFR_E_INTERNAL;
	}
	/* an answer leaves after its commit is on disk: never on a cluster
	 * that does not sync */
	if (!fsync_on(out)) {
		log_err("store: %s: the cluster runs with fsync off (or cannot "
		    "say): a commit would not be durable; refusing it",
		    safe);
		return OFR_E_INTERNAL;
	}
	return 0;
}

/* Takes conn, dialled (dial()'s code rc), as the loop's connection
 * (pg->conn; the old one closed), and notes it for pg_sync: its backend,
 * and that the commits before the next one were made on another. 0, rc,
 * or OFR_E_INTERNAL. */
static int
adopt(struct store *st, PGconn *conn, int rc, int loud)
{
	struct pg_store *pg = st->pg;
	PGresult *res;
	int ok;

	if (pg->conn != NULL)
		PQfinish(pg->conn);
	pg->conn = conn;
	if (rc != 0)
		return rc;
	res = await(&pg->conn, PQsendQuery(conn, "SELECT pg_backend_pid(), "
	    "(extract(epoch FROM backend_start) * 1000000)::bigint FROM "
	    "pg_stat_get_activity(pg_backend_pid())"));
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1);
	if (!ok) {
		note_failure(pg, res);
		log_msg(loud ? LOG_ERR : LOG_DEBUG, "store: %s: cannot read "
		    "the connection's backend: %s", pg->safe, pg->err);
		PQclear(res);
		return OFR_E_INTERNAL;
	}
	pthread_mutex_lock(&st->sync_mu);
	pg->loop_pid = atoi(PQgetvalue(res, 0, 0));
	pg->loop_start = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	pg->loop_from = st->commits + 1;
	pthread_mutex_unlock(&st->sync_mu);
	PQclear(res);
	return 0;
}

/*
 * A connect of the loop's made again, run off the loop (reconnect): a
 * PostgreSQL that is stalled, or a network that drops packets, holds a
 * thread of its own for PG_CONNECT_TIMEOUT and the session's set-up, not
 * the loop, which answers unavailable meanwhile. The loop and the thread
 * share it, under mu; the last of them frees it (refs), so a store
 * closed meanwhile leaves the thread nothing of its own to touch.
 */
struct pg_dial {
	pthread_mutex_t mu;
	int refs;
	int done;		/* the thread is through: rc, conn */
	int rc;
	PGconn *conn;
	char *url;		/* a copy (holds the password) */
	char safe[512];
};

static void
dial_put(struct pg_dial *d)
{
	int last;

	pthread_mutex_lock(&d->mu);
	last = --d->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (!last)
		return;
	if (d->conn != NULL)
		PQfinish(d->conn);
	sodium_memzero(d->url, strlen(d->url));
	free(d->url);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

static void *
dial_run(void *arg)
{
	struct pg_dial *d = arg;
	PGconn *conn = NULL;
	int rc = dial(d->url, d->safe, "off", NULL, 0, &conn);

	pthread_mutex_lock(&d->mu);
	d->rc = rc;
	d->conn = conn;
	d->done = 1;
	pthread_mutex_unlock(&d->mu);
	dial_put(d);
	return NULL;
}

/* Starts a connect of the loop's (dial_run) as pg->dial: 0, or
 * OFR_E_NOMEM or OFR_E_INTERNAL (no thread). */
static int
dial_start(struct pg_store *pg)
{
	struct pg_dial *d;
	pthread_attr_t attr;
	pthread_t t;
	int made = 0;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return OFR_E_NOMEM;
	if ((d->url = strdup(pg->url)) == NULL) {
		free(d);
		return OFR_E_NOMEM;
	}
	memcpy(d->safe, pg->safe, sizeof(d->safe));
	d->refs = 2;
	(void)pthread_mutex_init(&d->mu, NULL);
	if (pthread_attr_init(&attr) == 0) {
		made = pthread_attr_setdetachstate(&attr,
		    PTHREAD_CREATE_DETACHED) == 0 &&
		    pthread_create(&t, &attr, dial_run, d) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!made) {
		d->refs = 1;
		dial_put(d);
		log_err("store: cannot start a thread to connect to "
		    "PostgreSQL again");
		return OFR_E_INTERNAL;
	}
	pg->dial = d;
	return 0;
}

/* Connects the loop's connection, and waits for it (at start). */
static int
connect_once(struct store *st, int loud)
{
	struct pg_store *pg = st->pg;
	PGconn *conn = NULL;
	int rc = dial(pg->url, pg->safe, "off", NULL, loud, &conn);

	return adopt(st, conn, rc, loud);
}

/* Forgets that s was prepared: its name was the old connection's. */
static void
forget(struct db_stmt *s)
{
	struct pg_stmt *ps = pgs(s);

	if (s == NULL)
		return;
	ps->name[0] = '\0';
	memset(ps->types, 0, sizeof(ps->types));
}

/* Connects again after a loss (no transaction of ours open), off the
 * loop (struct pg_dial): the first call starts the connect, and each
 * call until it is through is answered OFR_E_UNAVAILABLE at once. Then 0,
 * with every statement to be prepared again at its next run; else the
 * next try is set after the backoff, which doubles up to PG_RETRY_MAX. */
static int
reconnect(struct store *st)
{
	struct pg_store *pg = st->pg;
	struct pg_dial *d = pg->dial;
	PGconn *conn;
	int rc, done;

	if (d == NULL) {
		rc = dial_start(pg);
		if (rc == 0)
			return OFR_E_UNAVAILABLE;
		conn = NULL;
	} else {
		pthread_mutex_lock(&d->mu);
		done = d->done;
		conn = d->conn;
		rc = d->rc;
		if (done)
			d->conn = NULL;
		pthread_mutex_unlock(&d->mu);
		if (!done)
			return OFR_E_UNAVAILABLE;
		pg->dial = NULL;
		dial_put(d);
		rc = adopt(st, conn, rc, 0);
	}
	if (rc != 0) {
		pg->retry_at = mono_us() + pg->backoff;
		pg->backoff = pg->backoff >= PG_RETRY_MAX / 2 ? PG_RETRY_MAX :
		    pg->backoff * 2;
		return rc;
	}
	for (int i = 0; i < S_COUNT; i++)
		forget(st->s[i]);
	forget(st->probe);
	pg->down = 0;
	pg->sqlstate[0] = '\0';
	st->reconnected = 1;
	log_info("store: connected to PostgreSQL at %s again", pg->safe);
	return 0;
}

/* Runs sql with its text parameters inside the transaction, for
 * store_notify() and store_lock(): begun first when begin (as a write
 * begins it), else nothing is run outside one. 0 (nothing run) for a
 * SQLite store; else 0 or the store's error. */
static int
call_in_tx(struct store *st, int begin, const char *what, const char *sql,
    int n, const char *const *values)
{
	PGresult *res;
	int rc, ok;

	if (st->pg == NULL || (!begin && !st->tx))
		return 0;
	if ((rc = db_write_begin(st)) != 0 || (rc = ready(st)) != 0)
		return rc;
	res = await(&st->pg->conn, PQsendQueryParams(st->pg->conn, sql, n,
	    NULL, values, NULL, NULL, 0));
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		note_failure(st->pg, res);
	PQclear(res);
	return ok ? 0 : pg_fail(st, NULL, what);
}

int
store_notify(struct store *st, const char *channel, const char *payload)
{
	const char *values[2] = { channel, payload };

	if (strlen(payload) > STORE_NOTIFY_MAX)
		return OFR_E_INTERNAL;
	return call_in_tx(st, 0, "notify", "SELECT pg_notify($1, $2)", 2,
	    values);
}

int
store_lock(struct store *st, int key)
{
	char k1[16], k2[16];
	const char *values[2] = { k1, k2 };

	snprintf(k1, sizeof(k1), "%d", STORE_LOCK_CLASS);
	snprintf(k2, sizeof(k2), "%d", key);
	return call_in_tx(st, 1, "advisory lock",
	    "SELECT pg_advisory_xact_lock($1::int4, $2::int4)", 2, values);
}

int
pg_open(struct store *st, const char *url, int create)
{
	PQconninfoOption *opts;
	struct pg_store *pg;
	int rc;

	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return OFR_E_NOMEM;
	st->pg = pg;
	st->be = &pg_backend;
	store_url_safe(url, pg->safe, sizeof(pg->safe));
	randombytes_buf(&pg->node, sizeof(pg->node));
	pg->node = (pg->node & INT64_MAX) | 1;	/* > 0 */
	if ((pg->url = strdup(url)) == NULL)
		return OFR_E_NOMEM;
	/* libpq's parse errors quote the URL, or the token, verbatim: the
	 * password with them. None of their text is logged. */
	if ((opts = PQconninfoParse(url, NULL)) == NULL) {
		log_err("store: %s is not a PostgreSQL URL that libpq can "
		    "read (a bracket, a percent-encoding or an option amiss)",
		    pg->safe);
		return OFR_E_IO;
	}
	PQconninfoFree(opts);
	if ((rc = connect_once(st, 1)) != 0)
		return rc;
	if ((rc = migrate(pg, create)) != 0)
		return rc;
	for (int i = 0; i < S_COUNT; i++) {
		const char *text = db_sql_of(pg_sql, i);

		if (text == NULL || (st->s[i] = stmt_new(pg, i, text)) ==
		    NULL) {
			log_err("store: cannot make statement %d", i);
			return OFR_E_INTERNAL;
		}
	}
	/* store_probe()'s write: the schema version, rewritten unchanged */
	if ((st->probe = stmt_new(pg, S_COUNT, "UPDATE schema_version SET "
	    "version = version")) == NULL)
		return OFR_E_NOMEM;
	log_info("store: PostgreSQL at %s (%s)", pg->safe,
	    PQparameterStatus(pg->conn, "server_version"));
	pg->sync_backoff = PG_RETRY_MIN;
	return db_sync_start(st);
}
