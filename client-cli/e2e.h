/*
 * e2e.h: the CLI's end-to-end sessions (e2e.c): the account's prekeys on
 * the server, and a session per peer to seal and open messages.
 */
#ifndef OFFRAMP_CLI_E2E_H
#define OFFRAMP_CLI_E2E_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/ocrypto.h"

struct cli;

/*
 * What follows a login: a ping as a barrier, so that the prekeys.low push
 * the server sends after login.ok has arrived; when it came, or the signed
 * prekey is due for rotation, new prekeys are made, saved, and uploaded.
 * 0, or an error code (OFR_E_IO: the store could not be saved) with *what
 * the request that failed and *resp (caller owns) its error frame when
 * there is one. Prints nothing.
 */
int e2e_after_login(struct cli *cli, json_t **resp, const char **what);
/* Answers a prekeys.low push received later: uploads more one-time
 * prekeys. 0 or an error code (printed). */
int e2e_replenish(struct cli *cli, json_t *push);
/*
 * Encrypts text for participant p (an object of a case) with the session
 * for its key, starting one over its prekeys when there is none (after
 * trust_check_cert for a counsellor), and appends {"to","ct"} to copies.
 * Marks the store dirty. 0 or an error code (printed).
 */
int e2e_seal(struct cli *cli, json_t *p, const char *text, size_t len,
    json_t *copies);
/*
 * Decrypts message msg (msglen bytes) from key from: with an existing
 * session of that peer, or as the responder of a new one (X3DH fields,
 * the prekey secrets named there; the one-time secret is deleted, and the
 * first message remembered against replays). 0 with *text (malloc'd,
 * NUL-terminated; wipe and free) and *len, the store marked dirty; or
 * OFR_E_CRYPTO when it does not decrypt (a replay included), OFR_E_NOMEM.
 * Prints nothing.
 */
int e2e_open(struct cli *cli, const uint8_t from[OFR_PK_BYTES],
    const uint8_t *msg, size_t msglen, char **text, size_t *len);

#endif
