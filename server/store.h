/*
 * store.h: the server's durable state. The store_*.c files, split by noun
 * behind store_int.h, hold every SQL statement of the server; nothing else
 * opens the database. One connection, one writer.
 *
 * Transactions: the first write after a commit opens a transaction
 * (BEGIN IMMEDIATE); store_commit() ends it (WAL, synchronous=NORMAL: the
 * commit is written to the -wal, not synced). A store thread makes commits
 * durable: it fdatasyncs the -wal, one sync covering every commit made
 * while the one before ran (group commit); a checkpoint thread runs
 * SQLite's checkpoints, and the loop a RESTART of its own between turns
 * once the -wal is long (store_db.c, "Durability"). Until
 * store_on_durable() is called every store_commit() waits for its sync;
 * after, the caller (the event loop) numbers its commits
 * (store_commit_seq) and sends nothing that depends on commit n before
 * store_durable() reaches n. Reads see the open transaction.
 *
 * All functions return 0 or a negative code of proto/err.h: OFR_E_NOT_FOUND
 * for a missing row where said, OFR_E_INTERNAL for any SQLite failure (after
 * logging it). Output structs are caller-allocated.
 */
#ifndef OFFRAMP_STORE_H
#define OFFRAMP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define STORE_CASES_MAX		100	/* cases in one list */

struct store;

/*
 * Opens (creating when missing) the directory dir with mode 0700 and the
 * database dir/offramp.db with mode 0600, checks it (PRAGMA quick_check:
 * O(size)), sets WAL and synchronous=NORMAL, migrates the schema to the
 * newest PRAGMA user_version, prepares every statement, and makes the
 * spare file dir/offramp.spare (room kept for acks on a full disk; kept
 * when it is there whole, else made only with 32 MiB free, else the store
 * starts full: store_full). With create 0 a missing
 * database, or one with no schema yet, is refused (OFR_E_NOT_FOUND) and
 * none is made. *out is owned by the caller: store_close() it. Returns 0,
 * OFR_E_IO (directory or file), OFR_E_NOT_FOUND, OFR_E_BAD_FIELD (the
 * integrity check fails) or OFR_E_INTERNAL.
 */
int store_open(struct store **out, const char *dir, int create);
/* store_open(), or with url not NULL, the PostgreSQL database it names
 * (a postgresql:// URL; dir still holds the server's other files): its
 * schema made when create, else it must hold offramp's (OFR_E_NOT_FOUND).
 * OFR_E_IO when it cannot be reached (logged, the URL without its
 * password); OFR_E_USAGE for another URL, or a build without PostgreSQL
 * (OFFRAMP_POSTGRES). */
int store_open_url(struct store **out, const char *dir, const char *url,
    int create);
/* url with its password left out ("***" for the user info's password and
 * any password= parameter), into buf of cap bytes (cut to fit): what may
 * be logged or printed of a store's URL. Returns buf. */
const char *store_url_safe(const char *url, char *buf, size_t cap);
/* 1 while the disk is full: SQLite said so, or less room is left than
 * the spare file holds; the spare is then given up, and made again once
 * there is room for it twice over and for a whole -wal, 32 MiB (tried
 * here and after each commit: a statvfs). msg.send refuses with
 * OFR_E_STORAGE_FULL meanwhile. */
int store_full(struct store *st);
/* That room, in MiB, for what tells of it (/healthz). */
#define STORE_FULL_ROOM_MIB	32

/*
 * Several nodes on one PostgreSQL database (cluster.c). Advisory locks
 * of offramp are of PostgreSQL's two-key kind, under STORE_LOCK_CLASS
 * (the one-key kind, which migrations take, is a space of its own), one
 * second key per use.
 */
#define STORE_LOCK_CLASS	0x6f6672	/* "ofr" */
#define STORE_LOCK_DELIVERIES	1	/* the turn's copies: store_lock() */
#define STORE_LOCK_JOBS		2	/* the periodic jobs (cluster.c, on
					 * its own connection, session-long) */
#define STORE_LOCK_REMATCH	3	/* a rematch of the whole queue: the
					 * rematch job's, or one of a node
					 * that saw counsellors anew
					 * (store_try_lock) */
#define STORE_LOCK_JOB		16	/* + a job's index (jobs.h): a run
					 * of that job (store_try_lock) */
#define STORE_NOTIFY_MAX	7999	/* NOTIFY's payload, bytes: under
					 * PostgreSQL's 8000 */
#ifdef OFFRAMP_POSTGRES
/* Inside the open transaction, PostgreSQL's NOTIFY of payload (text of
 * at most STORE_NOTIFY_MAX bytes) on channel: every listener gets it
 * when the transaction commits, and none unless it does. 0 at once for
 * a SQLite store or with no transaction open (nothing was written);
 * else 0 or the store's error (OFR_E_UNAVAILABLE, OFR_E_INTERNAL: the
 * transaction is then aborted, and its commit fails). */
int store_notify(struct store *st, const char *channel,
    const char *payload);
/* Begins the turn's transaction as a write does (inside the request's
 * mark), and waits for the transaction-level advisory lock
 * (STORE_LOCK_CLASS, key), held until the commit or rollback: the turns
 * that take it commit one at a time on every node. 0 at once for a
 * SQLite store (one node); else 0 or the store's error. */
int store_lock(struct store *st, int key);
#endif
/* Rolls back an open transaction, finalizes statements, closes. NULL is
 * harmless. */
/*
 * A consistent copy of the database of data directory dir, taken while a
 * server may run there, into the new file to (0600, synced; an existing
 * file is never replaced: OFR_E_USAGE). OFR_E_BAD_FIELD when the database
 * fails its integrity check; OFR_E_IO (a full disk) or OFR_E_INTERNAL with
 * nothing left at to. The live database is only read.
 */
int store_backup(const char *dir, const char *to);
/* Installs backup file from, after checking it, as the database of data
 * directory dir (made 0700), which must hold none (OFR_E_USAGE). Codes as
 * store_backup. */
int store_restore(const char *from, const char *dir);
void store_close(struct store *st);

/* Commits the open transaction, if any, and asks the store thread to sync
 * it; before store_on_durable() it also waits for that sync. 0, or after
 * rolling it back OFR_E_STORAGE_FULL (SQLite said the disk is full),
 * OFR_E_UNAVAILABLE (PostgreSQL's connection was lost: when during the
 * COMMIT, the commit may have been made) or OFR_E_INTERNAL; OFR_E_IO
 * when the sync it waited for failed. Each
 * commit's time, or its failure, is counted (metrics.h). */
int store_commit(struct store *st);
/* The number of the newest commit made (0: none since store_open). What
 * was read after commit n may depend on it: it waits for n's sync. */
int64_t store_commit_seq(const struct store *st);
/* *seq: the newest commit known to be on disk. 0, or OFR_E_IO when a sync
 * of the -wal failed: the commits after *seq are visible but may not be on
 * disk, and never will be known to be; the caller must stop. Or
 * OFR_E_UNAVAILABLE, once, when PostgreSQL's sync could not be made: the
 * commits after *seq may be lost, and nothing that waits for them may
 * leave (their answers become that error); every commit made until now
 * counts as durable from this call on (the next one says so). */
int store_durable(struct store *st, int64_t *seq);
/* From now on store_commit() does not wait for its sync: the store thread
 * calls wake() (from its own thread, under its lock: it must not block)
 * after each sync, and the caller reads store_durable(). NULL: commits wait
 * again, and once this returns wake is called no more. */
void store_on_durable(struct store *st, void (*wake)(void));
/* Waits until every commit made is on disk. 0, OFR_E_IO or
 * OFR_E_UNAVAILABLE (store_durable's). */
int store_sync(struct store *st);
/*
 * Asks for a TRUNCATE checkpoint: the -wal copied into the database and
 * emptied, so that what deletes zeroed (secure_delete) is gone from the
 * -wal too. The checkpoint thread runs it on a connection of its own: a
 * passive checkpoint, then the TRUNCATE if that copied every frame; it
 * waits 20 ms at most for a gap in the loop's writes, and one put off (a
 * reader's older snapshot, no gap; logged at debug) is tried again 50 ms
 * later, then after twice as long each time, a second apart at most. It
 * runs at most one a second (a second ask within it is put off to its
 * end). A commit that deleted message copies asks for one by itself.
 */
void store_checkpoint(struct store *st);
/* Rolls back the open transaction, if any. */
void store_rollback(struct store *st);
/*
 * The loop calls it before it waits for the network, after the turn's
 * commit: it ends the read transaction that the turn's reads outside its
 * write transaction share (store_db.c, read_begin), so that nothing is
 * held while the loop waits. From its first call on, reads share one.
 */
void store_turn_end(struct store *st);
/* 1 while a transaction is open. */
int store_in_tx(const struct store *st);
/*
 * Whether the store can still commit: a tiny write (the schema version,
 * rewritten unchanged) committed as store_commit() does.
 * Call it between turns: OFR_E_USAGE while a transaction is open. 0, or
 * OFR_E_INTERNAL (logged) when it cannot, e.g. on a full disk or a
 * read-only file system.
 */
int store_probe(struct store *st);
/* The database's size (page count times page size) and its write-ahead
 * log file's, in bytes. */
int store_size(struct store *st, int64_t *db_bytes, int64_t *wal_bytes);
/*
 * One request's writes, all or nothing, inside the turn's transaction:
 * store_mark() before the request; store_unmark(st, 1) keeps its writes,
 * store_unmark(st, 0) undoes them (a savepoint, opened with the request's
 * first write).
 */
void store_mark(struct store *st);
void store_unmark(struct store *st, int keep);

/* Programmes. */
int store_programme_create(struct store *st, const char *name, int64_t now,
    int64_t *id);
/* The programme with the lowest id; OFR_E_NOT_FOUND when none. */
int store_programme_first(struct store *st, int64_t *id);

/* Accounts. */
/* OFR_E_NOT_FOUND when no account has this key / id. */
int store_account_by_key(struct store *st, const uint8_t key[OFR_PK_BYTES],
    struct account *out);
/* store_account_by_key(), and in *seen the last login recorded of a
 * client (its creation when none), for store_account_seen_since(). */
int store_account_login(struct store *st, const uint8_t key[OFR_PK_BYTES],
    struct account *out, int64_t *seen);
int store_account_by_id(struct store *st, int64_t id, struct account *out);
/* Inserts a with a->id ignored and set on return. OFR_E_FORBIDDEN when the
 * key has an account already. */
int store_account_create(struct store *st, struct account *a);
/* Number of admins (disabled or not) of all programmes. */
int store_admin_count(struct store *st, int64_t *n);

/* Counsellor profiles: created with defaults (no languages, no topics,
 * capacity 5, presence online, format chat, nothing else stated) by
 * store_account_create() for counsellors. */
int store_profile_get(struct store *st, int64_t account, struct profile *out);
int store_profile_set(struct store *st, int64_t account,
    const struct profile *p);
/* Sets the display name of an account. */
int store_account_set_name(struct store *st, int64_t account,
    const char *name);

/* Invites. Only the BLAKE2b-256 hash of a token is stored. created_by 0
 * marks the bootstrap invite. */
int store_invite_create(struct store *st, const uint8_t hash[32],
    int64_t programme, int role, int64_t expires, int64_t created_by,
    int64_t now);
/* Takes (marks used) the invite with this hash if unused and
 * expires > now, giving its programme and role; else OFR_E_BAD_INVITE. */
int store_invite_take(struct store *st, const uint8_t hash[32], int64_t now,
    int64_t *programme, int *role);
/* Unused, unexpired invites of a programme. */
int store_invite_pending(struct store *st, int64_t programme, int64_t now,
    int64_t *n);
/* Deletes every unused bootstrap invite (created_by 0). */
int store_invite_drop_bootstrap(struct store *st);
/* Deletes the unused invites admin created. */
int store_invite_drop_of(struct store *st, int64_t admin);

/* Cases. */
/* Creates a waiting case of client with a fresh random id and the client as
 * its only participant; fills *out. */
int store_case_create(struct store *st, int64_t client, const char *language,
    const char *topic, int64_t now, struct case_info *out);
/* OFR_E_NOT_FOUND when no case has this id. */
int store_case_get(struct store *st, int64_t id, struct case_info *out);
/* The client's open (waiting, active or paused) case; OFR_E_NOT_FOUND
 * when none. */
int store_case_open_of_client(struct store *st, int64_t client,
    struct case_info *out);
/* Calls fn for each case that account participates in, its open cases
 * first (a closed one is status 3, CASE_CLOSED), each newest first, at
 * most STORE_CASES_MAX; fn returning non-zero stops and is returned.
 * *more (when not NULL): 1 if it has more than STORE_CASES_MAX. */
int store_case_each_of(struct store *st, int64_t account,
    int (*fn)(void *arg, const struct case_info *c), void *arg, int *more);
/* Makes counsellor the counsellor and a participant of a waiting case,
 * status active; records now as the counsellor's last assignment. */
int store_case_assign(struct store *st, int64_t case_id, int64_t counsellor,
    int64_t now);
int store_case_close(struct store *st, int64_t case_id, int64_t now);
/* The participants of a case, in the order they joined; *n set. */
int store_case_participants(struct store *st, int64_t case_id,
    struct participant *out, size_t max, size_t *n);
/* The participants of a case as the relay needs them (any order), and
 * the case's status (enum case_status) in *status: *n and *status 0 for
 * a case that does not exist. OFR_E_LIMIT past max, as above. */
int store_case_peers(struct store *st, int64_t case_id, struct peer *out,
    size_t max, size_t *n, int *status);
/* The participants who have left the case (enum member_why, times), the
 * latest first, at most max. */
int store_case_former(struct store *st, int64_t case_id,
    struct participant *out, size_t max, size_t *n);
/* Membership (PROTOCOL.md, "Co-counselling"): a colleague joins the case
 * as kind at a new membership version (*version), which it and inviter
 * have seen; a participant leaves it for why (enum member_why); a
 * participant's client confirms it has shown the membership up to
 * version. */
int store_member_add(struct store *st, int64_t case_id, int64_t inviter,
    int64_t account, int kind, int64_t now, int64_t *version);
int store_member_drop(struct store *st, int64_t case_id, int64_t account,
    int why, int64_t now);
int store_case_seen(struct store *st, int64_t case_id, int64_t account,
    int64_t version);
/* The stays in the case's history (present and former participants). */
int store_case_stays(struct store *st, int64_t case_id, int64_t *n);
/* Why account last left the case (enum member_why); 0 when it never
 * did. */
int store_member_last_why(struct store *st, int64_t case_id,
    int64_t account, int *why);
/* The counsellors of programme (0: any) whose last stay in the case ended because
 * the client asked for another counsellor (LEFT_REASSIGNED: the one it
 * left, and the colleagues that left with it) or a participant removed
 * them (LEFT_REMOVED), at most max: those store_member_last_why() tells
 * case.assign to refuse. */
int store_case_sent_away(struct store *st, int64_t case_id,
    int64_t programme, int64_t *ids, size_t max, size_t *n);
/* The colleagues (kind not MEMBER_OWN) in a case, at most max; the cases
 * account is a colleague in, at most max. */
int store_case_colleagues(struct store *st, int64_t case_id, int64_t *ids,
    size_t max, size_t *n);
int store_colleague_cases(struct store *st, int64_t account, int64_t *ids,
    size_t max, size_t *n);
/* 1 in *yes when account participates in the case. */
int store_case_has_participant(struct store *st, int64_t case_id,
    int64_t account, int *yes);
/* Waiting cases in queue order (urgency high first, then time of
 * request), at most max ids. */
int store_case_waiting(struct store *st, int64_t *ids, size_t max,
    size_t *n);
/* The place of a waiting case in that order (1: next); 0 when the case
 * does not wait. */
int store_case_queue_position(struct store *st, int64_t case_id,
    int64_t *pos);

/*
 * Stores message mid of sender in case_id with one copy per recipient
 * (ct[i] of ct_len[i] bytes for recipients[i]). When sender has sent this
 * mid before, stores nothing and sets *dup to 1. Else, when seqs is not
 * NULL, seqs[i] is copy i's seq (n of them, caller-allocated).
 */
int store_message_insert(struct store *st, int64_t case_id, int64_t sender,
    const uint8_t mid[OFR_MID_BYTES], int64_t now, const int64_t *recipients,
    const uint8_t *const *ct, const size_t *ct_len, size_t n, int *dup,
    int64_t *seqs);
/* 1 in *yes when sender has sent mid before (its record is kept a day
 * after its copies are gone). */
int store_message_seen(struct store *st, int64_t sender,
    const uint8_t mid[OFR_MID_BYTES], int *yes);
/* Calls fn for recipient's copies with seq > after, in seq order, at most
 * max of them; fn returning non-zero stops and is returned. */
int store_deliveries_each(struct store *st, int64_t recipient, int64_t after,
    size_t max, int (*fn)(void *arg, const struct delivery *d), void *arg);
/* Deletes recipient's copy seq; *deleted is 1 when there was one. */
int store_delivery_ack(struct store *st, int64_t recipient, int64_t seq,
    int *deleted);
/* The copies stored for recipient, not yet acked, and their bytes (bytes
 * NULL: the copies alone, counted in an index without reading a row). */
int store_recipient_queue(struct store *st, int64_t recipient,
    int64_t *copies, int64_t *bytes);
/* How many of recipient's copies up to seq are still stored: of those
 * pushed to a connection, the ones not acked yet. */
int store_deliveries_upto(struct store *st, int64_t recipient, int64_t seq,
    int64_t *n);
/* The message of recipient's copy seq (its sender, case and mid, and
 * whether the sender is still in the case), read before
 * store_delivery_ack() deletes it. OFR_E_NOT_FOUND when recipient
 * has no copy seq. */
int store_delivery_source(struct store *st, int64_t recipient, int64_t seq,
    struct copy_source *out);
/* Programmes' signing keys and counsellors' certificates. */
/* OFR_E_NOT_FOUND when no programme has this id. */
int store_programme_get(struct store *st, int64_t id, struct programme *out);
/* Sets the signing public key once; OFR_E_FORBIDDEN when already set. */
int store_programme_set_key(struct store *st, int64_t id,
    const uint8_t key[OFR_PK_BYTES]);
/*
 * Rotates programme id's signing key from old_key (which must be the
 * current one: else OFR_E_BAD_SIGNATURE) to new_key and appends the
 * rotation statement (len bytes, checked by the caller). OFR_E_BAD_FIELD
 * when the programme had new_key before, OFR_E_LIMIT after
 * STORE_ROTATIONS_MAX rotations.
 */
#define STORE_ROTATIONS_MAX	16
int store_programme_rotate(struct store *st, int64_t id,
    const uint8_t old_key[OFR_PK_BYTES], const uint8_t new_key[OFR_PK_BYTES],
    const uint8_t *statement, size_t len);
/* Calls fn with each rotation statement of programme id, oldest first, at
 * most max. */
int store_rotation_each(struct store *st, int64_t id, size_t max,
    int (*fn)(void *arg, int64_t unused, const uint8_t *p, size_t n),
    void *arg);
/* The certified counsellors of programme (only the one with key, when
 * key is not NULL), in the order of their ids: at most max of them into
 * ids, *n set. */
int store_cert_holders(struct store *st, int64_t programme,
    const uint8_t *key, int64_t *ids, size_t max, size_t *n);
/* Drops counsellor's certificate (nothing when it has none). */
int store_cert_drop(struct store *st, int64_t counsellor);
/* The stored revocation list of programme into buf (capacity cap), *len
 * and *issued; OFR_E_NOT_FOUND when none. */
int store_revocation_get(struct store *st, int64_t programme, int64_t *issued,
    uint8_t *buf, size_t cap, size_t *len);
/* Stores programme's revocation list (checked by the caller) when issued
 * is later than the stored one's; else OFR_E_BAD_FIELD. */
int store_revocation_set(struct store *st, int64_t programme, int64_t issued,
    const uint8_t *list, size_t len);
/* Stores (replaces) programme's partner statement for partner. */
int store_partner_set(struct store *st, int64_t programme, int64_t partner,
    const uint8_t *statement, size_t len);
/* Calls fn with each partner statement for partner (and its signer's
 * programme id), at most max. */
int store_partner_each(struct store *st, int64_t partner, size_t max,
    int (*fn)(void *arg, int64_t programme, const uint8_t *p, size_t n),
    void *arg);

/*
 * Partnerships (PROTOCOL.md, "Partnerships"); statements are checked by
 * the caller. At most STORE_PARTNERSHIPS_MAX proposed or active ones per
 * programme.
 */
#define STORE_PARTNERSHIPS_MAX	100
/* Records proposer's proposal to partner with its statement for partner's
 * key: 0 and *id; OFR_E_BAD_FIELD when they are the same programme,
 * OFR_E_BAD_STATE when the pair has a proposed or active partnership
 * already (whoever proposed it), OFR_E_LIMIT at the bound. The bound
 * holds across nodes once the caller holds both programmes' locks
 * (store_programme_lock_pair). */
int store_partnership_propose(struct store *st, int64_t proposer,
    int64_t partner, const uint8_t statement[PARTNER_BYTES], int64_t now,
    int64_t *id);
/* OFR_E_NOT_FOUND when no partnership has this id. */
int store_partnership_get(struct store *st, int64_t id,
    struct partnership *out);
/* Makes proposal p active with the partner's statement for the
 * proposer's key; both statements are then served (programme_partners).
 * OFR_E_BAD_STATE (nothing written) when p is no longer a proposal. */
int store_partnership_accept(struct store *st, const struct partnership *p,
    const uint8_t statement[PARTNER_BYTES]);
/* Ends p (a proposal or an active one) as programme by at now: no
 * statement between the two programmes is served any more, either way
 * (one-sided ones of programme.partner too); the record of an earlier
 * end of the pair goes. OFR_E_BAD_STATE when p has ended already. */
int store_partnership_end(struct store *st, const struct partnership *p,
    int64_t by, int64_t now);
/* Calls fn for each partnership programme is part of, newest first, at
 * most max. */
int store_partnership_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct partnership *p), void *arg);
/* Calls fn for each programme in an active partnership with programme,
 * by id, at most max. fn may not walk partners again. */
int store_partner_programme_each(struct store *st, int64_t programme,
    size_t max, int (*fn)(void *arg, const struct programme *p), void *arg);

/* External partners of e->programme (at most MODEL_EXTERNALS_MAX): adds e
 * when e->id is 0 (and sets it), else replaces the one with e->id.
 * OFR_E_BAD_FIELD (nothing written) when a field is out of bounds (name
 * empty or over OFR_NAME_MAX, contact over MODEL_CONTACT_MAX, a list not
 * ",tok,...,", formats not 0..7), OFR_E_LIMIT at the bound,
 * OFR_E_NOT_FOUND when e->id is not one of the programme's. */
int store_external_set(struct store *st, struct external_partner *e);
/* OFR_E_NOT_FOUND when programme has no external partner id. */
int store_external_get(struct store *st, int64_t programme, int64_t id,
    struct external_partner *out);
int store_external_remove(struct store *st, int64_t programme, int64_t id);
/* Calls fn for each external partner of programme, by id, at most max. */
int store_external_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct external_partner *e), void *arg);
/* Stores (replaces) an account's certificate; the caller has checked it. */
int store_account_set_cert(struct store *st, int64_t account,
    const uint8_t cert[CERT_BYTES]);
/* The account's certificate; *has 0 when it has none. */
int store_account_cert(struct store *st, int64_t account,
    uint8_t cert[CERT_BYTES], int *has);
/* Calls fn for up to max enabled counsellors of programme with no
 * certificate, oldest first; fn returning non-zero stops and is returned. */
int store_uncertified_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES], const char *name),
    void *arg);

/* Prekeys: public halves only. */
/* Sets (replaces) the account's signed prekey. */
int store_spk_set(struct store *st, int64_t account, uint32_t id,
    const uint8_t spk[32], const uint8_t sig[OFR_SIG_BYTES], int64_t now);
/* OFR_E_NOT_FOUND when the account has none. */
int store_spk_get(struct store *st, int64_t account, uint32_t *id,
    uint8_t spk[32], uint8_t sig[OFR_SIG_BYTES]);
/* Adds a one-time prekey; OFR_E_BAD_FIELD when the id is taken. */
int store_otk_add(struct store *st, int64_t account, uint32_t id,
    const uint8_t pk[32]);
int store_otk_count(struct store *st, int64_t account, int64_t *n);
/* Takes (deletes) the oldest one-time prekey (the first uploaded of those
 * left); OFR_E_NOT_FOUND when none. */
int store_otk_take(struct store *st, int64_t account, uint32_t *id,
    uint8_t pk[32]);
/* 1 in *yes when accounts a and b participate in a common case. */
int store_share_case(struct store *st, int64_t a, int64_t b, int *yes);

/* Deletes message records (kept for dedup, no content) that have no copy
 * left and are older than before. */
int store_messages_purge(struct store *st, int64_t before);

/* Intake, queue, caseloads and the admin tools (schema migration 3). */

/* Stores a case's intake (urgency, programme, preferences) after
 * store_case_create(). */
int store_case_set_prefs(struct store *st, int64_t case_id,
    const struct case_prefs *p);
/* Records which preferences the chosen counsellor meets. */
int store_case_set_match(struct store *st, int64_t case_id, unsigned asked,
    unsigned met);
/* Sets the status of a case (any to any; the handlers check the rules). */
int store_case_set_status(struct store *st, int64_t case_id, int status,
    int64_t now);
/* Takes the counsellor out of a case: it leaves the participants, the
 * case waits again (asked/met cleared), and the case remembers it as the
 * counsellor left (case_info.left). */
int store_case_unassign(struct store *st, int64_t case_id, int why,
    int64_t now);
/* The open cases (waiting, active, paused) of a counsellor, at most max. */
int store_case_open_of_counsellor(struct store *st, int64_t counsellor,
    int64_t *ids, size_t max, size_t *n);
/* Messages of case_id still waiting for recipient. */
int store_case_unread(struct store *st, int64_t case_id, int64_t recipient,
    int64_t *n);

/* Counsellors. OFR_E_NOT_FOUND when id is not a counsellor. */
int store_counsellor_get(struct store *st, int64_t id, struct counsellor *out);
/* Calls fn for each counsellor of programme (0: of all), oldest account
 * first, at most max; fn returning non-zero stops and is returned. */
int store_counsellor_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const struct counsellor *c), void *arg);
int store_account_set_disabled(struct store *st, int64_t account,
    int disabled);

/*
 * Several server nodes on one database (PostgreSQL). SQLite has one
 * writer, this process: there store_shared() is 0, the lock is nothing
 * and no presence is stored.
 */
/* 1 when other server processes may write this store too: the pool in
 * memory may then be stale, and an assignment must lock its counsellor
 * first (store_counsellor_lock). */
int store_shared(const struct store *st);
/* 1, once, when the database's connection was made again since the last
 * call (PostgreSQL's): reads failed meanwhile, and whatever they were for
 * (a push to a connected recipient) is to be done again. */
int store_reconnected(struct store *st);
/* Locks counsellor id until the end of the transaction (opening it), so
 * that its caseload read after this is the store's and stays so: another
 * node's lock of it waits until this commit. 0 (nothing on SQLite), or
 * OFR_E_UNAVAILABLE when the wait ran past its bound or met a deadlock
 * (retryable: nothing of the request is kept), or another negative code. */
int store_counsellor_lock(struct store *st, int64_t id);
/* Locks case id as store_counsellor_lock locks a counsellor: a request
 * that changes a case reads it after this, so that it never decides on a
 * case another node has changed meanwhile (a pause over a close, an
 * invite by a counsellor just moved out). 0 (nothing on SQLite), or as
 * store_counsellor_lock. */
int store_case_lock(struct store *st, int64_t id);
/* Locks account id's row as store_case_lock locks a case's. */
int store_account_lock(struct store *st, int64_t id);
/* Locks programme id's row alike: a request that reads its key or its
 * revocation list to decide (a certification, a revocation, a rotation,
 * a partnership) reads them after this, so that another node's change
 * of either is decided on before or after it, never beside it. */
int store_programme_lock(struct store *st, int64_t id);
/* Locks programmes a and b alike, the lower id first: a partnership's
 * proposal, its acceptance, its end and a referral's proposal along it
 * read the partnership (or the programmes' partnerships, counted) and the
 * programmes' keys after this. */
int store_programme_lock_pair(struct store *st, int64_t a, int64_t b);
/* A number for an event of a case, greater than every one given before
 * it on any node (PostgreSQL: the sequence case_events; SQLite, one node:
 * a count in memory). Taken once the change is written, the case's row
 * this transaction's: another node's change of the case, which waits for
 * this commit, gets a greater one, so that a node can tell an older
 * event's push that came late from a newer one (nodes.c). 0 or a
 * negative code. */
int store_case_event(struct store *st, int64_t *v);
/* This node's counsellors that are there, ids[0..n-1] (at most
 * STORE_PRESENCE_MAX), stored as this node's presence until expiry
 * seconds from now by the database's clock; those this node stored
 * before and not among them are taken out. 0 or a negative code. */
#define STORE_PRESENCE_MAX	65536
int store_presence_publish(struct store *st, const int64_t *ids, size_t n,
    int expiry);
/* Calls fn for each counsellor another node has stored as there and not
 * expired (at most STORE_PRESENCE_MAX, no id twice), after deleting the
 * expired; fn returning non-zero stops and is returned. */
int store_presence_each(struct store *st,
    int (*fn)(void *arg, int64_t id), void *arg);
/* Of ids[0..n-1] (at most STORE_PRESENCE_MAX), the clients connected
 * to this node, those with a waiting case are stored as this node's
 * until expiry seconds from now by the database's clock (nothing else of
 * them); those this node stored before and not among them are taken out.
 * 0 (nothing on SQLite) or a negative code. */
int store_waiting_publish(struct store *st, const int64_t *ids, size_t n,
    int expiry);
/* 1 in *yes when another node has stored account as connected with a
 * waiting case, not expired (store_waiting_publish), else 0 (always on
 * SQLite). 0 or a negative code. */
int store_waiting_elsewhere(struct store *st, int64_t account, int *yes);
/* Of ids[0..n-1] (at most STORE_PRESENCE_MAX: the accounts connected to
 * this node), calls fn for each that is disabled or gone (another node
 * disabled or erased it), in one read; fn returning non-zero stops and
 * is returned. Nothing on SQLite (one node: its own drops are seen at
 * once). */
int store_accounts_barred(struct store *st, const int64_t *ids, size_t n,
    int (*fn)(void *arg, int64_t id), void *arg);
/* Begins the transaction as a write does and tries the
 * transaction-level advisory lock (STORE_LOCK_CLASS, key), held until
 * the commit or rollback: *got 1 when this node has it, 0 when another
 * holds it (its work runs there now: skip it). 0 with *got 1 at once on
 * SQLite (one node); else 0 or the store's error. */
int store_try_lock(struct store *st, int key, int *got);

/* Programmes' public profiles. */
int store_programme_set_profile(struct store *st, const struct programme *p);
/* Every programme by id, at most max. */
int store_programme_each(struct store *st, size_t max,
    int (*fn)(void *arg, const struct programme *p), void *arg);

/* Notes: ciphertext only, given back to their author only; at most
 * STORE_NOTES_MAX of one author in a case (then OFR_E_LIMIT). */
#define STORE_NOTES_MAX		1000
int store_note_add(struct store *st, int64_t case_id, int64_t author,
    const uint8_t *ct, size_t len, int64_t now, int64_t *id);
/* author's notes of case_id after note id after (0: from the first),
 * oldest first, at most STORE_CASES_MAX + 1 (a page, and one more to
 * tell whether more wait). */
int store_note_each(struct store *st, int64_t case_id, int64_t author,
    int64_t after, int (*fn)(void *arg, const struct note *n), void *arg);
/* Deletes at most max notes whose author is no longer their case's
 * counsellor (handed over, moved, reassigned, disabled) and has been in
 * the case at no time since `before`: none can read them. */
int store_notes_stranded_drop(struct store *st, int64_t before, size_t max,
    size_t *n);

/* The audit log: append-only (the database refuses updates, and deletes
 * but of the oldest entry: store_audit_trim). */
int store_audit_add(struct store *st, int64_t programme, int64_t actor,
    const char *action, int64_t target, const char *detail, int64_t now);
/* Entries of programme with id < before (0: any), newest first, at most
 * limit. */
int store_audit_each(struct store *st, int64_t programme, int64_t before,
    size_t limit, int (*fn)(void *arg, const struct audit_entry *e),
    void *arg);

/*
 * Retention (PRIVACY.md, "Retention"): each call deletes at most max
 * (at most STORE_RETAIN_BATCH) of what is past its time, all or nothing,
 * and sets *n to how many it deleted; call again while *n == max.
 */
#define STORE_RETAIN_BATCH	500
/* Records a client's login at now (other roles: nothing), unless the
 * login recorded is less than grain seconds old: then nothing is written,
 * so that a returning login commits nothing and its answer waits for no
 * sync. */
int store_account_seen(struct store *st, int64_t account, int64_t now,
    int grain);
/* The same for a client whose last login recorded is at (read by
 * store_account_login()), without reading it again. */
int store_account_seen_since(struct store *st, int64_t account, int64_t at,
    int64_t now, int grain);
/* Deletes client accounts with no login since before that nothing names
 * (no case, message or copy), with their prekeys; their ids into gone
 * (room for max). */
int store_clients_idle_drop(struct store *st, int64_t before, size_t max,
    int64_t *gone, size_t *n);
/* Ids of cases closed before before (a closed case's updated is when it
 * closed), oldest first, at most max. */
int store_cases_closed_before(struct store *st, int64_t before,
    int64_t *ids, size_t max, size_t *n);
/* Deletes case case_id and everything of it: its messages and their
 * copies, its notes, its participants. Only through casework, which
 * keeps the pool in step. */
int store_case_drop(struct store *st, int64_t case_id);
/* Ids of the cases account is the client or the counsellor of (open or
 * closed), by id, at most max. */
int store_cases_of(struct store *st, int64_t account, int64_t *ids,
    size_t max, size_t *n);
/* Erasure (PRIVACY.md, "Erasure"): deletes a client's or a counsellor's
 * account with its prekeys and profile, and what it left in cases of
 * others: the copies for it, its messages with their copies, its notes,
 * its participation, and cases' memory that it left one. Its own cases
 * must be gone first (store_case_drop, through casework). OFR_E_NOT_FOUND
 * when there is no such account, OFR_E_FORBIDDEN for an admin's. */
int store_account_drop(struct store *st, int64_t account);
/* Deletes the copies of messages sent before before, never acked. */
int store_copies_expire(struct store *st, int64_t before, size_t max,
    size_t *n);
/* Deletes invites used, or expired, before before. */
int store_invites_drop(struct store *st, int64_t before, size_t max,
    size_t *n);
/* Deletes the oldest audit entries while they were written before
 * before, but never the newest: the log is trimmed from its head only
 * (the schema refuses any other delete). */
int store_audit_trim(struct store *st, int64_t before, size_t max,
    size_t *n);

/* Pool figures. Waiting cases that chose programme or no programme. */
int store_queue_count(struct store *st, int64_t programme, int64_t *n);
/* Calls fn for each programme that waiting cases chose (0: none chosen),
 * in programme order, with how many wait and the time (seconds) since
 * which the one waiting longest has waited. */
int store_queue_each(struct store *st,
    int (*fn)(void *arg, int64_t programme, int64_t waiting, int64_t since),
    void *arg);
/* Marks a case as referred to an external partner (PROTOCOL.md,
 * case.referred); once is enough, again changes nothing. */
int store_case_referred(struct store *st, int64_t case_id);
/* How many of programme's cases (by their counsellor's programme) created
 * since were referred externally, into *n. */
int store_referred_count(struct store *st, int64_t programme, int64_t since,
    int64_t *n);
/* Seconds from request to first counsellor message, for programme's cases
 * (by their counsellor's programme) created since, ascending, at most max
 * values into secs. */
int store_first_responses(struct store *st, int64_t programme, int64_t since,
    int64_t *secs, size_t max, size_t *n);

/*
 * Referrals (store_referrals.c; PROTOCOL.md, "Referrals"). A write whose
 * row is not in the status it needs changes nothing and returns
 * OFR_E_BAD_STATE.
 */
/* Records a proposal of case_id from programme from to programme to:
 * *id; OFR_E_BAD_STATE when the case has a proposed or accepted one. */
int store_referral_propose(struct store *st, int64_t case_id, int64_t from,
    int64_t to, int64_t now, int64_t *id);
/* The case's proposed or accepted referral; OFR_E_NOT_FOUND when none. */
int store_referral_open(struct store *st, int64_t case_id,
    struct referral *out);
/* The case's newest referral, whatever its status; OFR_E_NOT_FOUND. */
int store_referral_last(struct store *st, int64_t case_id,
    struct referral *out);
/* How many referrals case_id had, whatever their status: *n. */
int store_referrals_of_case(struct store *st, int64_t case_id, int64_t *n);
/* A proposed referral to status REFERRAL_ACCEPTED or REFERRAL_DECLINED. */
int store_referral_answer(struct store *st, int64_t id, int status,
    int64_t now);
/* An open referral ends: withdrawn, cancelled or completed at now. */
int store_referral_end(struct store *st, int64_t id, int status,
    int64_t now);
/* The accepted referral's partner counsellor, while it has none;
 * OFR_E_BAD_STATE when it is no longer accepted or has one (with several
 * nodes: another node chose it first). */
int store_referral_receiver(struct store *st, int64_t id, int64_t receiver);
/* Accepted referral id's partner counsellor, receiver, is no longer
 * chosen, and its summary not sent (the digest the client approved
 * stays): it waits again at the partner's intake. */
int store_referral_release(struct store *st, int64_t id, int64_t receiver);
/* The cases of accepted referrals to programme (0: to any) with no
 * partner counsellor yet, of an active or paused case led by a
 * counsellor of the proposing programme (those of others wait for
 * nobody), the oldest first (by time proposed, then id), those after
 * the referral whose time proposed and id are after[0] and after[1] (0
 * and 0: from the first), at most max; with keys, each one's time
 * proposed and id there too (a later call's after). */
int store_referrals_waiting(struct store *st, int64_t programme,
    const int64_t after[2], int64_t *ids, int64_t (*keys)[2], size_t max,
    size_t *n);
/* The cases of the open referrals between programmes a and b, either way
 * round, in the order of the case ids (the order their rows are locked
 * in), at most max. */
int store_referrals_of_pair(struct store *st, int64_t a, int64_t b,
    int64_t *ids, size_t max, size_t *n);
/* Erasure of counsellor account: no referral names it any more; an
 * accepted one waits at the partner's intake again, its summary not sent
 * (store_referral_release). */
int store_referrals_forget(struct store *st, int64_t account);
/* The client approved the summary of this digest (again, until it is
 * sent: the newest approval holds). */
int store_referral_approve(struct store *st, int64_t id,
    const uint8_t digest[REFERRAL_DIGEST_BYTES]);
/* The approved summary went to the partner's counsellor (once). */
int store_referral_summary_sent(struct store *st, int64_t id);
/* programme's referrals proposed since, as proposer (receiver 0) or as
 * receiver (1): the counts, and the median time to handover (-1 under 5
 * completed). Exact: the caller hides small counts. */
int store_referral_figures(struct store *st, int64_t programme, int receiver,
    int64_t since, struct referral_figures *out);
/* The handover (store_cases.c): case_id's counsellor leaves it (why
 * LEFT_REFERRAL), receiver, a participant, becomes its counsellor, and
 * the case is programme's; one membership version up.
 * OFR_E_BAD_STATE when the case is not active or paused, or receiver
 * is not a colleague in it. */
int store_case_handover(struct store *st, int64_t case_id, int64_t receiver,
    int64_t programme, int64_t now);

/* Anonymous feedback (store_feedback.c; PRIVACY.md, "Feedback"). */
#define STORE_FEEDBACK_SEALED_MAX	(8 * (32 + 1072))
struct feedback_row {
	int64_t week;		/* Unix time of its Monday, 00:00 UTC */
	int helpful;		/* 1 yes, 0 no, -1 not said */
	int recommend;		/* as helpful */
	uint8_t sealed[STORE_FEEDBACK_SEALED_MAX];	/* (admin key ||
							 * sealed box) each */
	size_t sealed_len;	/* 0: no text */
};
/* The start (Monday 00:00 UTC, Unix time) of the week t is in. */
int64_t store_week_of(int64_t t);
/* In one call: marks closed case_id as given feedback, and adds a row
 * with no link to it (programme, the week of now, a random id, the
 * ratings, -1: not said, the sealed text, sealed_len 0: none). 0;
 * OFR_E_LIMIT when the case is not closed or was given feedback already
 * (nothing changed); OFR_E_INTERNAL. */
int store_feedback_add(struct store *st, int64_t case_id, int64_t programme,
    int64_t now, int helpful, int recommend, const uint8_t *sealed,
    size_t sealed_len);
/* Feedback of programme of the weeks before week `before` (a Monday),
 * newest week first, at most max rows; fn returning non-zero stops the
 * walk and is returned. */
int store_feedback_each(struct store *st, int64_t programme, int64_t before,
    size_t max, int (*fn)(void *arg, const struct feedback_row *r), void *arg);
/* Deletes at most max rows of weeks that ended before `before`. */
int store_feedback_drop(struct store *st, int64_t before, size_t max,
    size_t *n);
/* The keys and certificates of programme's admins that have one and are
 * not disabled, at most max. */
int store_admin_certs_each(struct store *st, int64_t programme, size_t max,
    int (*fn)(void *arg, const uint8_t key[OFR_PK_BYTES],
    const uint8_t cert[CERT_BYTES]), void *arg);

#endif
