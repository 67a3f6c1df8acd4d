/*
 * feedback.h: the free text of anonymous feedback (CRYPTO.md,
 * "Feedback"), sealed to each admin of a programme with libsodium's
 * sealed box (crypto_box_seal: an ephemeral X25519 key, so the sender is
 * anonymous and cannot open it again) under the X25519 form of the
 * admin's Ed25519 identity key. The plaintext is always
 * FEEDBACK_PLAIN_BYTES: the UTF-8 text, then zero bytes, so a sealed text
 * does not give away the length of what was written.
 */
#ifndef OFFRAMP_PROTO_FEEDBACK_H
#define OFFRAMP_PROTO_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "proto/ocrypto.h"

#define FEEDBACK_TEXT_MAX	1000	/* bytes of UTF-8, no NUL */
#define FEEDBACK_PLAIN_BYTES	1024
#define FEEDBACK_SEAL_OVERHEAD	48	/* crypto_box_SEALBYTES */
#define FEEDBACK_SEALED_BYTES	(FEEDBACK_PLAIN_BYTES + FEEDBACK_SEAL_OVERHEAD)
#define FEEDBACK_ADMINS_MAX	8	/* sealed copies in one feedback */

/* Seals text (len bytes, 1..FEEDBACK_TEXT_MAX, no NUL) to the admin's
 * Ed25519 identity key into out. 0, OFR_E_USAGE for a bad length or a NUL,
 * or OFR_E_CRYPTO for a key with no X25519 form. */
int feedback_seal(uint8_t out[FEEDBACK_SEALED_BYTES],
    const uint8_t admin_pk[OFR_PK_BYTES], const char *text, size_t len);

/* Opens a sealed text with the admin's Ed25519 identity secret key into
 * text (FEEDBACK_TEXT_MAX + 1 bytes, NUL-terminated). 0, or OFR_E_CRYPTO
 * when it does not open or is not a padded text. */
int feedback_open(char text[FEEDBACK_TEXT_MAX + 1],
    const uint8_t sealed[FEEDBACK_SEALED_BYTES],
    const uint8_t admin_sk[OFR_SK_BYTES]);

#endif
