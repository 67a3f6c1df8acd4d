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
/* Why a message did not open (e2e_open). The reportable ones have the
 * values of the report's reasons (proto/envelope.h). E2E_NEW_SESSION is
 * the one value on success: the message made a new session. */
enum e2e_why {
	E2E_LIMIT = 1,		/* too many skipped messages */
	E2E_NO_SESSION = 2,	/* no session for it, prekey secrets gone */
	E2E_CRYPTO = 3,		/* did not decrypt in the peer's sessions */
	E2E_REPLAY = 100,	/* a replay or a repeated counter: refused */
	E2E_MALFORMED = 101,	/* does not parse, or a foreign first message */
	E2E_NEW_SESSION = 200,	/* opened, as the responder of a new session */
};

/*
 * Encrypts the plaintext pt (an envelope) for participant p (an object of a case) with the session
 * for its key, starting one over its prekeys when there is none, and
 * appends {"to","ct"} to copies. The caller has checked a counsellor's
 * certificate (trust_check_counsellor: seal_envelope, before anything of
 * the send changes). Marks the store dirty. 0 or an error code (printed).
 */
int e2e_seal(struct cli *cli, json_t *p, const uint8_t *pt, size_t len,
    json_t *copies);
/*
 * Decrypts message msg (msglen bytes) from key from: with an existing
 * session of that peer, or as the responder of a new one (X3DH fields,
 * the prekey secrets named there; the one-time secret is deleted, and the
 * first message remembered against replays). 0 with *pt (malloc'd, one
 * NUL byte past *len; wipe and free) and *len, the store marked dirty,
 * *why E2E_NEW_SESSION when it made a new session; or
 * OFR_E_CRYPTO when it does not decrypt, with *why saying why;
 * OFR_E_NOMEM. Prints nothing. Skipped keys that expired are deleted
 * first (the store then marked dirty).
 */
int e2e_open(struct cli *cli, const uint8_t from[OFR_PK_BYTES],
    const uint8_t *msg, size_t msglen, uint8_t **pt, size_t *len,
    enum e2e_why *why);

/* Drops every session with peer (marks the store dirty): the next
 * message to it starts a new session. */
void e2e_reset(struct cli *cli, const uint8_t peer[OFR_PK_BYTES]);

/* Drops every session with peer but the most recently successful one. */
void e2e_keep_latest(struct cli *cli, const uint8_t peer[OFR_PK_BYTES]);

#endif
