/*
 * keyfile_int.h: what the two files of the key file module share, and
 * nothing else includes. keyfile.c owns the file: its header, the key
 * derived from the passphrase, the box, atomic saves and the lock.
 * keyfile_state.c owns the plaintext in the box: role, seed and the
 * records of the state (one table of their fields), and the state's
 * bounded lists.
 */
#ifndef OFFRAMP_CLI_KEYFILE_INT_H
#define OFFRAMP_CLI_KEYFILE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "keyfile.h"

#define VERSION_1	1
#define VERSION_2	2	/* records 1..8 */
#define VERSION_3	3	/* and SEEN */
#define VERSION_4	4	/* and ANCHOR, SERVER, ASKED */
#define VERSION_5	5	/* and KEEP */
#define VERSION_6	6	/* and BIND, ITEM */
#define VERSION_7	7	/* and SHOWN */
#define VERSION_8	8	/* ASKED: a yes a handover used, as -programme */
#define VERSION		9	/* and ANCHOR_ID */
#define SALT_BYTES	crypto_pwhash_SALTBYTES
#define KEY_BYTES	crypto_secretbox_KEYBYTES
#define SEED_BYTES	crypto_sign_SEEDBYTES
#define PLAIN_V1_BYTES	(1 + SEED_BYTES)	/* role, seed */

struct keyfile {
	uint8_t pw[KEY_BYTES];		/* Argon2id of the passphrase */
	uint8_t salt[SALT_BYTES];
	uint64_t ops, mem;
	uint8_t pk[OFR_PK_BYTES];
	uint8_t sk[OFR_SK_BYTES];
	int role;
	struct ks_state st;
};

/*
 * Writes the plaintext of k (role, seed, records) into buf, or only
 * counts it when buf is NULL; *len its length. 0 or OFR_E_NOMEM.
 */
int keyfile_plain_write(const struct keyfile *k, uint8_t *buf, size_t *len);

/*
 * Reads the plaintext plain (plen bytes) of a file of version into k:
 * role, identity and state. 0, OFR_E_PASSPHRASE when it does not parse
 * (every length is bounded first), OFR_E_NOMEM. On error k holds part of
 * it: free it.
 */
int keyfile_plain_read(struct keyfile *k, uint8_t version,
    const uint8_t *plain, size_t plen);

/* Frees and wipes what the state holds outside struct keyfile (sessions,
 * contacts, history, first messages); the arrays inside stay. */
void keyfile_state_clear(struct ks_state *s);

#endif
