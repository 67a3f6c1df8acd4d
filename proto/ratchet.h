/*
 * ratchet.h: the Double Ratchet (Signal's "The Double Ratchet Algorithm",
 * Perrin & Marlinspike) of offramp's end-to-end sessions, its message wire
 * format and its saved-state format (CRYPTO.md, "Ratchet", "Wire format",
 * "Session state").
 *
 * - DH ratchet on X25519; KDF_RK: HKDF-SHA256(salt = rk, ikm = dh_out,
 *   info RATCHET_RK_INFO) -> 64 bytes = new rk || chain key.
 * - KDF_CK: message key = HMAC-SHA256(ck, 0x01), next ck = HMAC(ck, 0x02).
 * - Message key -> HKDF(salt none, ikm = mk, info RATCHET_MSG_INFO) -> 32
 *   bytes = XChaCha20-Poly1305-IETF key. The 24-byte nonce is random
 *   (csprng_buf) per message and sent right after the header (and X3DH
 *   fields): a reloaded older state that re-uses a message key still never
 *   re-uses a key/nonce pair.
 * - Associated data of the AEAD: the X3DH AD (64) || the header bytes (with
 *   the X3DH fields). The nonce is not in it: the AEAD authenticates it.
 * - Plaintexts are padded (pad.h) so that every message, first or later,
 *   is RATCHET_MSG_SHORT or RATCHET_MSG_MAX bytes.
 * - Out of order: up to RATCHET_MAX_SKIP skipped keys per chain step and
 *   RATCHET_SKIPPED_MAX stored in all; past them OFR_E_LIMIT. A skipped
 *   key is deleted once the session has made more than
 *   RATCHET_SKIPPED_STEPS receiving DH ratchet steps since it was stored
 *   (by ratchet_decrypt), or when it is RATCHET_SKIPPED_TTL seconds old
 *   (by ratchet_expire: the library has no clock; the caller gives the
 *   time to ratchet_decrypt, ratchet_expire and ratchet_state_load).
 * - A message that fails leaves the state as it was; a message key is
 *   deleted once used, so a replayed message fails.
 *
 * struct ratchet is opaque, in sodium_malloc'd memory; one session each.
 * Not thread-safe: one thread per session at a time.
 */
#ifndef OFFRAMP_PROTO_RATCHET_H
#define OFFRAMP_PROTO_RATCHET_H

#include <stddef.h>
#include <stdint.h>

#include "proto/pad.h"
#include "proto/x3dh.h"

#define RATCHET_VERSION		2	/* 1 (derived nonces) is retired */
#define RATCHET_RK_INFO		"offramp-ratchet-v1"	/* 18 bytes */
#define RATCHET_RK_INFO_BYTES	18
#define RATCHET_MSG_INFO	"offramp-msg-v1"	/* 14 bytes */
#define RATCHET_MSG_INFO_BYTES	14
#define RATCHET_KEY_BYTES	32	/* root, chain and message keys */
#define RATCHET_FLAG_INIT	0x01	/* X3DH fields follow the header */
#define RATCHET_FLAG_OPK	0x02	/* ...and a one-time prekey was used */
#define RATCHET_HDR_BYTES	(1 + 1 + X3DH_KEY_BYTES + 4 + 4)	/* 42 */
#define RATCHET_INIT_BYTES	(OFR_PK_BYTES + X3DH_KEY_BYTES + 4 + 4) /* 72 */
#define RATCHET_NONCE_BYTES	24	/* after the header and X3DH fields */
#define RATCHET_TAG_BYTES	16
/* 42 + 72 + 24 + 16 = 154: a first message's */
#define RATCHET_OVERHEAD_MAX	(RATCHET_HDR_BYTES + RATCHET_INIT_BYTES + \
				 RATCHET_NONCE_BYTES + RATCHET_TAG_BYTES)
/* 42 + 24 + 16 = 82: a later message's */
#define RATCHET_OVERHEAD_MIN	(RATCHET_HDR_BYTES + RATCHET_NONCE_BYTES + \
				 RATCHET_TAG_BYTES)
/* Every message is one of two sizes (pad.h): 1024, or 16282, under
 * PROTOCOL.md's 16384-byte copy limit. */
#define RATCHET_MSG_SHORT	PAD_WIRE_SHORT
#define RATCHET_MSG_MAX		PAD_WIRE_LONG
/* 16282 - 82 = 16200: a decrypt buffer that always fits */
#define RATCHET_PT_MAX		(RATCHET_MSG_MAX - RATCHET_OVERHEAD_MIN)
#if RATCHET_OVERHEAD_MAX != PAD_OVERHEAD_MAX
#error "pad.h's largest overhead is not a first message's"
#endif
#if RATCHET_MSG_MAX - RATCHET_OVERHEAD_MAX - 1 != PAD_PLAINTEXT_MAX
#error "the longest plaintext does not fit a first message"
#endif
#define RATCHET_MAX_SKIP	1000	/* skipped keys per chain step */
#define RATCHET_SKIPPED_MAX	2000	/* skipped keys stored in all */
#define RATCHET_SKIPPED_STEPS	5	/* DH steps a skipped key outlives */
#define RATCHET_SKIPPED_TTL	(7 * 86400)	/* seconds a skipped key lives */
#define RATCHET_STATE_VERSION	2	/* 1 still loads */
/* dh, N, step, time stored, message key */
#define RATCHET_SKIPPED_ENTRY_BYTES	(X3DH_KEY_BYTES + 4 + 4 + 8 + \
					 RATCHET_KEY_BYTES)	/* 80 */
#define RATCHET_STATE_FIXED_BYTES	350
#define RATCHET_SKIPPED_V1_ENTRY_BYTES	(X3DH_KEY_BYTES + 4 + RATCHET_KEY_BYTES)
#define RATCHET_STATE_V1_FIXED_BYTES	346
#define RATCHET_STATE_MAX_BYTES	(RATCHET_STATE_FIXED_BYTES + \
				 RATCHET_SKIPPED_MAX * RATCHET_SKIPPED_ENTRY_BYTES)

struct ratchet;

/* A parsed message: pointers into the buffer given to ratchet_msg_parse. */
struct ratchet_msg {
	uint8_t		 flags;
	uint8_t		 dh[X3DH_KEY_BYTES];	/* sender's ratchet public */
	uint32_t	 pn;			/* previous sending chain length */
	uint32_t	 n;			/* number in the sending chain */
	int		 has_init;
	struct x3dh_init init;			/* when has_init */
	size_t		 hdr_len;		/* 42, or 114 with init */
	/* The nonce (RATCHET_NONCE_BYTES) is at msg + hdr_len == ct - 24. */
	const uint8_t	*ct;			/* ciphertext || tag */
	size_t		 ct_len;
};

/* A zeroed session in sodium_malloc'd memory; NULL when out of memory.
 * Owned by the caller: free with ratchet_free. */
struct ratchet *ratchet_new(void);
/* Wipes and frees r; ratchet_free(NULL) is harmless. */
void ratchet_free(struct ratchet *r);

/*
 * Initiator (after x3dh_initiate): sk and ad from X3DH, the responder's
 * signed prekey public (its first ratchet key), and the X3DH fields that
 * its messages carry until it has decrypted a reply. Generates the first
 * ratchet pair (csprng_buf). 0 or OFR_E_CRYPTO.
 */
int ratchet_init_initiator(struct ratchet *r, const uint8_t sk[X3DH_SK_BYTES],
    const uint8_t ad[X3DH_AD_BYTES], const uint8_t their_spk[X3DH_KEY_BYTES],
    const struct x3dh_init *init);

/*
 * Responder (after x3dh_respond on a first message's fields): sk, ad, the
 * fields it came from (kept, see ratchet_x3dh_init) and the signed prekey
 * pair named by init->spk_id, which is its first ratchet pair. It can send
 * only after decrypting a message. 0 or OFR_E_CRYPTO (spk_pk not spk_sk's).
 */
int ratchet_init_responder(struct ratchet *r, const uint8_t sk[X3DH_SK_BYTES],
    const uint8_t ad[X3DH_AD_BYTES], const struct x3dh_init *init,
    const uint8_t spk_pk[X3DH_KEY_BYTES], const uint8_t spk_sk[X3DH_KEY_BYTES]);

/* The X3DH fields this session began with (to match further first
 * messages of the same initiator to it). */
void ratchet_x3dh_init(const struct ratchet *r, struct x3dh_init *init);

/* 1 while the initiator still sends the X3DH fields, else 0. */
int ratchet_sends_init(const struct ratchet *r);

/* Skipped message keys stored now. */
size_t ratchet_skipped_count(const struct ratchet *r);

/* Receiving DH ratchet steps the session has made (mod 2^32). */
uint32_t ratchet_steps(const struct ratchet *r);

/*
 * Deletes the skipped keys stored RATCHET_SKIPPED_TTL seconds or more
 * before now (Unix seconds, the caller's clock); a key stored "after" now
 * (the clock went back) is treated as stored now. Run it before
 * decrypting and after loading. Returns how many were deleted.
 */
size_t ratchet_expire(struct ratchet *r, int64_t now);

/*
 * 1 when msg (well formed) belongs to a receiving chain r knows and its
 * message key is used already (received before, or deleted): a replay or
 * a repeated counter, which ratchet_decrypt refuses; 0 otherwise (a
 * message ratchet_decrypt might open, or one of an unknown chain).
 */
int ratchet_msg_used(const struct ratchet *r, const uint8_t *msg,
    size_t len);

/* The size of the message ratchet_encrypt would make of a len-byte
 * plaintext now (RATCHET_MSG_SHORT or RATCHET_MSG_MAX, with or without
 * the X3DH fields), or 0 when len is over PAD_PLAINTEXT_MAX. */
size_t ratchet_encrypt_size(const struct ratchet *r, size_t len);

/*
 * Encrypts pt (len bytes) as the next message into out (capacity cap),
 * *out_len its size; the message's nonce comes from csprng_buf. 0;
 * OFR_E_TOO_BIG when len is over PAD_PLAINTEXT_MAX; OFR_E_USAGE when cap
 * is short or the session cannot send yet (a responder before its first
 * decrypt); OFR_E_LIMIT when the sending chain is exhausted. On error r is
 * unchanged.
 */
int ratchet_encrypt(struct ratchet *r, uint8_t *out, size_t cap,
    size_t *out_len, const uint8_t *pt, size_t len);

/*
 * Decrypts msg (len bytes) into pt (capacity cap; RATCHET_PT_MAX always
 * fits), *pt_len the plaintext length. Skipped keys it stores are stamped
 * with now (Unix seconds) and the current step; after a DH ratchet step
 * the keys stored more than RATCHET_SKIPPED_STEPS steps ago go. 0; OFR_E_CRYPTO when the message is
 * malformed, forged, damaged, replayed or not for this session;
 * OFR_E_LIMIT when it would need more skipped keys than allowed;
 * OFR_E_USAGE when cap is short. On error r is unchanged and pt wiped.
 */
int ratchet_decrypt(struct ratchet *r, uint8_t *pt, size_t cap,
    size_t *pt_len, const uint8_t *msg, size_t len, int64_t now);

/* Parses the wire format without decrypting (e.g. to read the X3DH fields
 * of a first message). 0, or OFR_E_BAD_FIELD when msg is malformed (or of
 * another version than RATCHET_VERSION). */
int ratchet_msg_parse(struct ratchet_msg *m, const uint8_t *msg, size_t len);

/* The size of r's saved state. */
size_t ratchet_state_size(const struct ratchet *r);
/* Saves r (secrets included: the caller encrypts it at rest) into out
 * (capacity cap), *len its size. 0 or OFR_E_USAGE when cap is short. */
int ratchet_state_save(const struct ratchet *r, uint8_t *out, size_t cap,
    size_t *len);
/* Replaces r with a saved state (version 2, or 1 whose skipped keys count
 * as stored at now and at the current step). 0, or OFR_E_BAD_FIELD when
 * buf is not exactly a valid state (r then unchanged). */
int ratchet_state_load(struct ratchet *r, const uint8_t *buf, size_t len,
    int64_t now);

#endif
