/*
 * ocrypto.h: the crypto of protocol v1 that both ends must agree on: the
 * login signature and, until end-to-end sessions land, the interim
 * per-recipient crypto_box of messages (PROTOCOL.md, "Login" and
 * "Messages"). The server uses only the login verification; it never holds a
 * key that opens a message.
 */
#ifndef OFFRAMP_PROTO_OCRYPTO_H
#define OFFRAMP_PROTO_OCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define OFR_PK_BYTES		32	/* Ed25519 public key */
#define OFR_SK_BYTES		64	/* Ed25519 secret key (libsodium form) */
#define OFR_SIG_BYTES		64
#define OFR_CHALLENGE_BYTES	32
#define OFR_INVITE_BYTES	32	/* an invite token before encoding */
#define OFR_INVITE_STR_MAX	64	/* an encoded invite token */
#define OFR_LOGIN_CONTEXT	"offramp-login-v1"	/* 16 bytes, no NUL */
#define OFR_LOGIN_CONTEXT_BYTES	16
#define OFR_LOGIN_MSG_BYTES	(OFR_LOGIN_CONTEXT_BYTES + 3 * 32)
#define OFR_BOX_OVERHEAD	(24 + 16)	/* nonce + MAC */

/* Must be called once before any other function; 0 or OFR_E_CRYPTO. */
int ocrypto_init(void);

/* The signed login message: context || server_pk || challenge || user_pk. */
void ocrypto_login_message(uint8_t out[OFR_LOGIN_MSG_BYTES],
    const uint8_t server_pk[OFR_PK_BYTES],
    const uint8_t challenge[OFR_CHALLENGE_BYTES],
    const uint8_t user_pk[OFR_PK_BYTES]);

/* Signs the login message with user_sk (whose public half is user_pk). */
void ocrypto_login_sign(uint8_t sig[OFR_SIG_BYTES],
    const uint8_t user_sk[OFR_SK_BYTES],
    const uint8_t server_pk[OFR_PK_BYTES],
    const uint8_t challenge[OFR_CHALLENGE_BYTES]);

/* 0 if sig is user_pk's signature of the login message, else
 * OFR_E_BAD_SIGNATURE. */
int ocrypto_login_verify(const uint8_t sig[OFR_SIG_BYTES],
    const uint8_t server_pk[OFR_PK_BYTES],
    const uint8_t challenge[OFR_CHALLENGE_BYTES],
    const uint8_t user_pk[OFR_PK_BYTES]);

/*
 * Interim message encryption: crypto_box (X25519, XSalsa20-Poly1305)
 * between the X25519 forms of two Ed25519 identities. out (capacity
 * len + OFR_BOX_OVERHEAD) gets nonce || box. Returns 0 or OFR_E_CRYPTO.
 */
int ocrypto_box_seal(uint8_t *out, const uint8_t *pt, size_t len,
    const uint8_t my_sk[OFR_SK_BYTES], const uint8_t their_pk[OFR_PK_BYTES]);
/* Opens what ocrypto_box_seal made; pt (capacity len - OFR_BOX_OVERHEAD).
 * Returns 0, or OFR_E_CRYPTO when forged, damaged or from another key. */
int ocrypto_box_open(uint8_t *pt, const uint8_t *ct, size_t len,
    const uint8_t my_sk[OFR_SK_BYTES], const uint8_t their_pk[OFR_PK_BYTES]);

/* An invite token as text: base64url of OFR_INVITE_BYTES random bytes,
 * no padding, into out (capacity OFR_INVITE_STR_MAX). */
/* A fresh random invite token whose text (ocrypto_invite_encode) does not
 * begin with '-', which a command line would take for an option. */
void ocrypto_invite_new(uint8_t token[OFR_INVITE_BYTES]);

void ocrypto_invite_encode(char out[OFR_INVITE_STR_MAX],
    const uint8_t token[OFR_INVITE_BYTES]);
/* 0, or OFR_E_BAD_INVITE when s is not an encoded token. */
int ocrypto_invite_decode(uint8_t token[OFR_INVITE_BYTES], const char *s);

#endif
