/*
 * keyfile.h: the CLI's local store (the "key file"). One file holds
 * everything the CLI keeps: the Ed25519 identity and the hint of its role,
 * its prekey secrets, its end-to-end sessions, trusted programme keys, the
 * keys seen per case, the message history and, for an admin, the
 * programme's signing key. All of it is sealed with crypto_secretbox under
 * a key that Argon2id derives from a passphrase once per process; the
 * secrets live in sodium_malloc'd memory. Nothing here talks to the
 * network, and nothing is ever written in the clear.
 *
 * File layout (integers of the header little-endian):
 *   magic "OFRKEY" (6) | version (1) | kdf 1 = Argon2id13 (1) |
 *   salt (16) | opslimit (8) | memlimit (8) | nonce (24) |
 *   secretbox (16 MAC + plaintext)
 * The box key is BLAKE2b, keyed with the Argon2id output, of the 40 header
 * bytes before the nonce: every header bit is authenticated, the MAC
 * covers the rest, so any flipped bit or cut byte is refused.
 * Version 1 (113 bytes): plaintext = role byte || Ed25519 seed.
 * Version 2: plaintext = role || seed || records, each
 *   type (1) || length (u32 big-endian) || payload; see keyfile_state.c.
 * Version 3: as version 2, with one more record type (the first
 *   messages answered, SEEN).
 * Version 4: and the trust anchors, the server's key, the programmes
 *   asked for (ANCHOR, SERVER, ASKED).
 * Version 5: and how long the history is kept (KEEP).
 * Version 6 (written now): and the running numbers of the plaintext
 *   envelope (BIND) and the meetings and agreements of cases (ITEM);
 *   versions 1 to 5 still load.
 * A fresh random nonce is used at every save; saves go through a
 * temporary file in the same directory (mode 0600), fsync and rename.
 */
#ifndef OFFRAMP_CLI_KEYFILE_H
#define OFFRAMP_CLI_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/cert.h"
#include "proto/limits.h"
#include "proto/ocrypto.h"
#include "proto/x3dh.h"

#define KEYFILE_BYTES		113	/* a version 1 file */
#define KEYFILE_V2_MIN		113	/* a version 2 file with no records */
#define KEYFILE_MAX		(64 * 1024 * 1024)	/* bytes of a file */
#define KEYFILE_PASS_MAX	1024	/* bytes of a passphrase */

#define KS_SPK_KEEP		3	/* the current signed prekey + 2 old */
#define KS_OPK_MAX		1000	/* one-time prekey secrets kept */
#define KS_SESSIONS_MAX		256	/* sessions in all */
#define KS_SESSIONS_PEER	4	/* sessions per peer */
#define KS_PINS_MAX		64	/* programme keys pinned on first use by
					 * earlier versions: kept, not trusted */
#define KS_ANCHORS_MAX		32	/* programme keys given out of band */
#define KS_ASKED_MAX		256	/* programmes asked for, per case */
#define KS_SHOWN_MAX		256	/* colleagues' keys confirmed, in all
					 * (the oldest goes) */
#define KS_HISTORY_CASE		1000	/* messages kept per case */
/* bytes of history (texts and names) kept in all: half a file, so that
 * peers who send long messages in several cases cannot take the file
 * past KEYFILE_MAX, where no save would go (the oldest go first) */
#define KS_HISTORY_BYTES	(KEYFILE_MAX / 2)
#define KS_SEEN_MAX		4096	/* first messages remembered in all */
#define KS_SEEN_PEER		64	/* ...and per peer */
#define KS_KEEP_DAYS_MAX	3650	/* history-keep: at most ten years */
#define KS_BINDS_MAX		4096	/* running numbers kept in all */
#define KS_ITEMS_CASE		200	/* meeting and agreement messages
					 * kept per case */
/* bytes of them kept in all (the oldest go first): with the history's,
 * the file stays under KEYFILE_MAX whatever peers send */
#define KS_ITEMS_BYTES		(KEYFILE_MAX / 4)

enum key_role {
	KEY_ROLE_CLIENT = 0,
	KEY_ROLE_COUNSELLOR = 1,
	KEY_ROLE_ADMIN = 2,
};

enum key_kdf {
	KEY_KDF_INTERACTIVE = 0,	/* the default */
	KEY_KDF_MODERATE = 1,
	KEY_KDF_MIN = 2,		/* for tests only: no real protection */
};

struct ratchet;

struct ks_spk {
	uint32_t id;
	int64_t created;
	uint8_t pk[X3DH_KEY_BYTES];
	uint8_t sk[X3DH_KEY_BYTES];
};

struct ks_opk {
	uint32_t id;
	uint8_t sk[X3DH_KEY_BYTES];
};

struct ks_session {
	uint8_t peer[OFR_PK_BYTES];
	uint64_t used;			/* larger: more recently successful */
	struct ratchet *r;		/* owned */
};

struct ks_pin {
	int64_t programme;
	uint8_t key[OFR_PK_BYTES];
};

/*
 * A trust anchor: a programme key given out of band (offramp trust add,
 * trust import, --programme-key) or accepted when the user was asked,
 * with the newest revocation list seen under it (CRYPTO.md, "Programme
 * keys"). A rotation replaces the key and keeps the name.
 */
enum ks_anchor_how {
	KS_ANCHOR_GIVEN = 1,
	KS_ANCHOR_ASKED = 2,
	KS_ANCHOR_RETIRED = 3,		/* its programme rotated away from
					 * it: never trusted again */
};

struct ks_anchor {
	uint8_t key[OFR_PK_BYTES];
	int64_t programme;		/* the programme whose key it is, for
					 * which alone it vouches; 0: not known
					 * yet (trust.c, anchor_vouches) */
	uint8_t how;			/* enum ks_anchor_how */
	char name[OFR_NAME_MAX + 1];
	size_t revoked_len;		/* 0: no list seen */
	uint8_t revoked[REVOCATION_BYTES_MAX];
};

/* The programme a client asked for in a case (case.request programme). */
struct ks_asked {
	int64_t case_id;
	int64_t programme;
};

/* A colleague's key in a case, as the user was shown it and confirmed it
 * (members) or brought it in (bring): nothing is sealed to a colleague's
 * key not among them (messages.c). */
struct ks_shown {
	int64_t case_id;
	uint8_t key[OFR_PK_BYTES];
};

/* A participant's key as first seen (or last verified) in a case. */
struct ks_contact {
	int64_t case_id;
	uint8_t role;			/* enum key_role */
	uint8_t verified;
	uint8_t key[OFR_PK_BYTES];
};

/*
 * A first message answered: the X3DH fields (spk_id, EKa) of a responder
 * session this store made, kept until the signed prekey spk_id is deleted,
 * so that a replay of that message cannot make a new session once the
 * session is gone (CRYPTO.md, "Replayed first messages").
 */
struct ks_seen {
	uint32_t spk_id;
	uint8_t ek[X3DH_KEY_BYTES];	/* the initiator's ephemeral public */
	uint8_t peer[OFR_PK_BYTES];	/* the initiator's identity */
};

struct ks_msg {
	int64_t case_id;
	int64_t ts;
	uint8_t sent;			/* 1: mine */
	char *name;			/* the sender's name; malloc'd */
	char *text;			/* malloc'd, NUL-terminated */
	size_t len;
};

/*
 * A sender's place in a case (CRYPTO.md, "Plaintext envelope"): the last
 * running number and time accepted from peer in case_id, or, with my own
 * key as peer, the last running number I sent there.
 */
struct ks_bind {
	int64_t case_id;
	uint8_t peer[OFR_PK_BYTES];
	uint32_t seq;
	int64_t time;
};

/*
 * A meeting or agreement message of a case, sent or received: body is
 * its envelope from the kind byte on (kind || body, envelope.h), so that
 * the current meetings and agreement can be read again from it.
 */
/* Who sent a kept meeting or agreement message (ks_item.sent): its side
 * of the case (meetings.c), known by its key when it arrived. */
enum ks_item_from {
	KS_ITEM_THEIRS = 0,		/* another's, kept before sides were:
					 * taken for the other side than mine */
	KS_ITEM_MINE = 1,
	KS_ITEM_CLIENT = 2,		/* the case's client */
	KS_ITEM_COUNSELLOR = 3,		/* its assigned counsellor (or one
					 * that was) */
	KS_ITEM_NO_SIDE = 4,		/* a colleague: counts for nothing */
};

struct ks_item {
	int64_t case_id;
	int64_t ts;			/* the sender's time */
	uint8_t sent;			/* enum ks_item_from */
	char *name;			/* the sender's name; malloc'd */
	uint8_t *body;			/* malloc'd */
	size_t len;
};

/*
 * The state kept with the identity. Secret parts (spk, opk, progsk) are
 * inside the sodium_malloc'd struct keyfile; sessions are sodium_malloc'd
 * by ratchet_new; contacts and history are malloc'd arrays, wiped when
 * freed. Callers change these fields directly, then keyfile_save.
 */
struct ks_state {
	uint32_t next_spk_id;		/* ids handed out so far */
	uint32_t next_opk_id;		/* kept in the file; unused: one-time
					 * prekey ids are random (e2e.c) */
	uint64_t use_counter;
	size_t n_spk;			/* spk[0] is the current one */
	struct ks_spk spk[KS_SPK_KEEP];
	size_t n_opk;
	struct ks_opk opk[KS_OPK_MAX];
	size_t n_sessions;
	struct ks_session sessions[KS_SESSIONS_MAX];
	size_t n_pins;
	struct ks_pin pins[KS_PINS_MAX];
	size_t n_anchors;
	struct ks_anchor anchors[KS_ANCHORS_MAX];
	int has_server_key;		/* the server's key at first login */
	uint8_t server_key[OFR_PK_BYTES];
	size_t n_asked;			/* oldest first */
	struct ks_asked asked[KS_ASKED_MAX];
	size_t n_shown;			/* oldest first */
	struct ks_shown shown[KS_SHOWN_MAX];
	int has_progsk;
	int64_t prog_id;
	uint8_t prog_sk[OFR_SK_BYTES];
	size_t n_contacts, cap_contacts;
	struct ks_contact *contacts;
	size_t n_msgs, cap_msgs;
	struct ks_msg *msgs;
	size_t n_seen, cap_seen;	/* oldest first */
	struct ks_seen *seen;		/* malloc'd */
	size_t n_binds, cap_binds;	/* oldest first */
	struct ks_bind *binds;		/* malloc'd */
	size_t n_items, cap_items;	/* oldest first */
	struct ks_item *items;		/* malloc'd */
	uint32_t keep_days;		/* history older than this many days
					 * goes (keyfile_history_expire); 0:
					 * kept until forgotten */
};

struct keyfile;

/* The kdf level named s ("interactive", "moderate", "min") into *kdf.
 * 0 or OFR_E_USAGE. */
int keyfile_kdf_parse(const char *s, int *kdf);
/* The role named s ("client", "counsellor", "admin") into *role. 0 or
 * OFR_E_BAD_FIELD. */
int keyfile_role_parse(const char *s, int *role);
/* The name of a role; "client" for an unknown one. */
const char *keyfile_role_name(int role);

/*
 * Makes a new identity with role hint client and an empty state, seals it
 * under pass and writes it to path (mode 0600, via a temporary file, fsync
 * and link; missing parent directories are created with mode 0700).
 * Refuses to replace an existing file: OFR_E_IO with errno EEXIST. Returns
 * 0 with *out set (free with keyfile_free), or OFR_E_IO (errno set),
 * OFR_E_NOMEM, OFR_E_USAGE (bad kdf level or passphrase length).
 */
int keyfile_create(struct keyfile **out, const char *path, const char *pass,
    size_t passlen, int kdf);

/*
 * Reads and opens the key file at path with pass (version 1, 2 or 3).
 * Returns 0 with *out set, OFR_E_PASSPHRASE when the passphrase is wrong
 * or the file is damaged (every length and cost read from it is bounded
 * first), OFR_E_IO (errno set) when it cannot be read, OFR_E_NOMEM.
 */
int keyfile_load(struct keyfile **out, const char *path, const char *pass,
    size_t passlen);

/*
 * Seals k with its state again under the key derived at create or load
 * time (same passphrase, salt and cost; a fresh nonce) and replaces the
 * file at path atomically; first drops the history past the state's
 * keep_days (keyfile_history_expire). 0, OFR_E_NOMEM, OFR_E_LIMIT (the
 * file would be over KEYFILE_MAX), OFR_E_IO (errno set).
 */
int keyfile_save(struct keyfile *k, const char *path);

/* Sets the role hint and saves (keyfile_save). OFR_E_USAGE for an
 * unknown role; on error the role is unchanged. */
int keyfile_set_role(struct keyfile *k, const char *path, int role);

/* The role hint (enum key_role). */
int keyfile_role(const struct keyfile *k);
/* The Ed25519 public key (OFR_PK_BYTES), owned by k. */
const uint8_t *keyfile_pk(const struct keyfile *k);
/* The Ed25519 secret key, libsodium form (OFR_SK_BYTES), owned by k. */
const uint8_t *keyfile_sk(const struct keyfile *k);
/* The state kept with the identity, owned by k. */
struct ks_state *keyfile_state(struct keyfile *k);

/* Appends the key of a participant of case_id with role, as first seen
 * (not verified). 0 or OFR_E_NOMEM. */
int keyfile_contact_add(struct keyfile *k, int64_t case_id, int role,
    const uint8_t key[OFR_PK_BYTES]);

/* Appends a history entry for case_id (copies name and text), dropping the
 * oldest of that case past KS_HISTORY_CASE, and the oldest of all past
 * KS_HISTORY_BYTES. 0 or OFR_E_NOMEM. */
int keyfile_history_add(struct keyfile *k, int64_t case_id, int64_t ts,
    int sent, const char *name, const char *text, size_t len);

/*
 * Removes, wiped, every history entry (and meeting or agreement
 * message) older than the state's keep_days
 * days before now (entries of exactly that age stay; nothing when
 * keep_days is 0). Returns how many went. keyfile_save calls it with the
 * time of the save, so an expired entry is never written again.
 */
size_t keyfile_history_expire(struct keyfile *k, int64_t now);

/* The last running number and time kept for peer in case_id into *seq
 * and *time; 0 and 0 when none is kept. */
void keyfile_bind_get(struct keyfile *k, int64_t case_id,
    const uint8_t peer[OFR_PK_BYTES], uint32_t *seq, int64_t *time);
/* Keeps seq and time for peer in case_id (the oldest other goes past
 * KS_BINDS_MAX). 0 or OFR_E_NOMEM. */
int keyfile_bind_set(struct keyfile *k, int64_t case_id,
    const uint8_t peer[OFR_PK_BYTES], uint32_t seq, int64_t time);

/* Appends a meeting or agreement message of case_id from sent (enum
 * ks_item_from; copies name and body: kind || body of its envelope),
 * dropping the oldest of that case past KS_ITEMS_CASE, and the oldest of
 * all past KS_ITEMS_BYTES. 0 or OFR_E_NOMEM. */
int keyfile_item_add(struct keyfile *k, int64_t case_id, int64_t ts,
    int sent, const char *name, const uint8_t *body, size_t len);

/* 1 when programme (> 0) was asked for in case_id: its first record (where
 * it began), a yes to a referral to it, or the mark of such a yes used; 0
 * when the case has records and none is it; -1 when it has none (no
 * programme asked). */
int keyfile_asked_for(const struct ks_state *s, int64_t case_id,
    int64_t programme);

/* Makes room for one ASKED record when s holds KS_ASKED_MAX: drops the
 * oldest that is not its case's first (a yes, which goes before its own
 * mark of use, or such a mark), or, all being firsts, the oldest. */
void keyfile_asked_room(struct ks_state *s);

/* What keyfile_forget_case() removed. */
struct ks_forgot {
	size_t messages, contacts, sessions;
};
/* The colleagues' keys confirmed for case_id are now keys[0..n-1]
 * (replace: 1) or have key[0] too (replace: 0); past KS_SHOWN_MAX in all,
 * the oldest go. keyfile_shown_has: 1 when key is one of case_id's. */
void keyfile_shown_set(struct keyfile *k, int64_t case_id,
    const uint8_t (*keys)[OFR_PK_BYTES], size_t n, int replace);
int keyfile_shown_has(struct keyfile *k, int64_t case_id,
    const uint8_t key[OFR_PK_BYTES]);
/* Drops case_id's confirmed keys for which keep(key, arg) is 0; returns
 * how many went. */
size_t keyfile_shown_keep(struct keyfile *k, int64_t case_id,
    int (*keep)(const uint8_t key[OFR_PK_BYTES], void *arg), void *arg);

/* Forgets case_id: its history, meetings and agreement, running
 * numbers, the keys seen in it, the programme asked
 * for it, and the sessions with its people (participants pinned,
 * colleagues confirmed, senders whose place is kept) met in no other
 * case (wiped). Call keyfile_save to make it last; *out says what went. */
void keyfile_forget_case(struct keyfile *k, int64_t case_id,
    struct ks_forgot *out);

/* The record of the first message with spk_id and ek, or NULL; owned by
 * k (valid until the next change of the records). */
const struct ks_seen *keyfile_seen_find(struct keyfile *k, uint32_t spk_id,
    const uint8_t ek[X3DH_KEY_BYTES]);
/*
 * Remembers the first message (spk_id, ek) of peer (nothing when already
 * there). Past KS_SEEN_PEER records of that peer its oldest goes, else
 * past KS_SEEN_MAX in all the oldest of all: a forgotten first message
 * could make a session again. 0 or OFR_E_NOMEM (nothing changed).
 */
int keyfile_seen_add(struct keyfile *k, uint32_t spk_id,
    const uint8_t ek[X3DH_KEY_BYTES], const uint8_t peer[OFR_PK_BYTES]);
/* Forgets the records of signed prekeys the state no longer holds (their
 * first messages cannot be answered any more). Returns how many went. */
size_t keyfile_seen_prune(struct keyfile *k);

/*
 * Takes an exclusive lock (flock) on "<path>.lock" (made with mode 0600,
 * empty), waiting up to timeout_ms. 0 with *fd, OFR_E_TIMEOUT when
 * another process holds it that long, OFR_E_IO (errno set).
 */
int keyfile_lock(const char *path, int timeout_ms, int *fd);
/* Releases a lock from keyfile_lock; fd < 0 is harmless. */
void keyfile_unlock(int fd);

/* Wipes and frees k; keyfile_free(NULL) is harmless. */
void keyfile_free(struct keyfile *k);

#endif
