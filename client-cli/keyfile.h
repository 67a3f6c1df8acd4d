/*
 * keyfile.h: the CLI's identity key file. It holds the Ed25519 seed of the
 * account and the hint of its role (client, counsellor, admin), sealed with
 * crypto_secretbox under a key that Argon2id derives from a passphrase. The
 * secret halves live in sodium_malloc'd memory only; nothing here talks to
 * the network.
 *
 * File layout (113 bytes, integers little-endian):
 *   magic "OFRKEY" (6) | version 1 (1) | kdf 1 = Argon2id13 (1) |
 *   salt (16) | opslimit (8) | memlimit (8) | nonce (24) |
 *   secretbox (16 MAC + 33: role byte || Ed25519 seed)
 * The box key is BLAKE2b, keyed with the Argon2id output, of the 40 header
 * bytes before the nonce: every header bit is authenticated.
 */
#ifndef OFFRAMP_CLI_KEYFILE_H
#define OFFRAMP_CLI_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ocrypto.h"

#define KEYFILE_BYTES		113
#define KEYFILE_PASS_MAX	1024	/* bytes of a passphrase */

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

struct keyfile;

/* The kdf level named s ("interactive", "moderate", "min"), or -1. */
int keyfile_kdf_parse(const char *s);
/* The role named s ("client", ...), or -1. */
int keyfile_role_parse(const char *s);
/* The name of a role; "client" for an unknown one. */
const char *keyfile_role_name(int role);

/*
 * Makes a new identity with role hint client, seals it under pass and
 * writes it to path (mode 0600, via a temporary file, fsync and link;
 * missing parent directories are created with mode 0700). Refuses to
 * replace an existing file: OFR_E_IO with errno EEXIST. Returns 0 with
 * *out set (free with keyfile_free), or OFR_E_IO (errno set), OFR_E_NOMEM,
 * OFR_E_USAGE (bad kdf level or passphrase length).
 */
int keyfile_create(struct keyfile **out, const char *path, const char *pass,
    size_t passlen, int kdf);

/*
 * Reads and opens the key file at path with pass. Returns 0 with *out set,
 * OFR_E_PASSPHRASE when the passphrase is wrong or the file is damaged
 * (every length and cost read from it is bounded first), OFR_E_IO (errno
 * set) when it cannot be read, OFR_E_NOMEM.
 */
int keyfile_load(struct keyfile **out, const char *path, const char *pass,
    size_t passlen);

/*
 * Sets the role hint and rewrites the file at path, sealed again under the
 * key derived at create or load time (same passphrase, salt and cost; a
 * fresh nonce), replacing it atomically. Returns 0, OFR_E_USAGE for an
 * unknown role, OFR_E_IO (errno set).
 */
int keyfile_set_role(struct keyfile *k, const char *path, int role);

int keyfile_role(const struct keyfile *k);
/* The Ed25519 public key (OFR_PK_BYTES), owned by k. */
const uint8_t *keyfile_pk(const struct keyfile *k);
/* The Ed25519 secret key, libsodium form (OFR_SK_BYTES), owned by k. */
const uint8_t *keyfile_sk(const struct keyfile *k);

/* Wipes and frees k; keyfile_free(NULL) is harmless. */
void keyfile_free(struct keyfile *k);

#endif
