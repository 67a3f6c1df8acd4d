/*
 * trust.h: whom the CLI trusts (trust.c): the programme keys given out
 * of band (trust anchors) and what they sign, counsellors' certificates,
 * the programme asked for per case, the keys first seen per case, the
 * server's key, and the checks of a message's sender before it is opened.
 */
#ifndef OFFRAMP_CLI_TRUST_H
#define OFFRAMP_CLI_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/cert.h"
#include "proto/ocrypto.h"

struct cli;

/* Why a message is refused before it is opened (trust_check_message). */
enum trust_refusal {
	TRUST_OK = 0,		/* none: open it */
	TRUST_STRANGER,		/* the sender is not in the case */
	TRUST_CHANGED,		/* the sender's key changed */
	TRUST_UNCERTIFIED,	/* a counsellor's first message, its key not
				 * certified by a trusted programme key, or
				 * of another programme than asked for */
	TRUST_BAD_LIST,		/* the server lists someone in the case the
				 * protocol does not allow
				 * (cases_participants_ok) */
};

/*
 * Checks the keys of the other participants of case kase against those
 * the store saw first (recording new ones, marking the store dirty):
 * prints "warning: the key of NAME in case ID changed" for each that
 * differs. 0, or OFR_E_CRYPTO when one did.
 */
int trust_check_case(struct cli *cli, json_t *kase);
/* Forgets the keys recorded for role in case case_id: the user asked for
 * a new counsellor there (reassign), so the next one is first seen, not a
 * changed key. (Its certificate is still checked before any session.) */
void trust_forget_role(struct cli *cli, int64_t case_id, int role);
/*
 * Checks counsellor key's certificate cert_b64 (NULL: none) in programme
 * (a JSON integer): it must be valid now under a trusted programme key
 * (an anchor; the rotations the server lists from one, followed; a
 * partner an anchor vouches for), which is not a revocation list's
 * (kept per anchor). A key the server names that is none of these is
 * shown and asked about on a terminal, else refused. name names the
 * counsellor in the refusal. 0, OFR_E_CRYPTO (printed), or the error
 * code (printed) of what kept it from being checked.
 */
int trust_check_cert(struct cli *cli, const char *name,
    const uint8_t key[OFR_PK_BYTES], const char *cert_b64,
    json_t *programme);
/* Adds key as a trust anchor named name (enum ks_anchor_how how), saved
 * at once; a known key gets the name. 0 or an error code (printed). */
/* 0 when cert_b64 is an admin certificate (CRYPTO.md, "Feedback") of key
 * for programme, valid now, signed by a live trust anchor (rotations
 * followed; partners are not enough) that has not revoked key; else
 * OFR_E_CRYPTO, or the code of a failed request (printed). */
int trust_admin_cert(struct cli *cli, const uint8_t key[OFR_PK_BYTES],
    const char *cert_b64, int64_t programme);
int trust_anchor_add(struct cli *cli, const uint8_t key[OFR_PK_BYTES],
    const char *name, int how);
/* The newest revocation list of programme's key pk kept on this device
 * (signed by the admin here, or seen and checked), verified: 0 and *r
 * (its keys point into the key file's copy), or OFR_E_NOT_FOUND. */
int trust_revocations(struct cli *cli, const uint8_t pk[OFR_PK_BYTES],
    int64_t programme, struct revocation *r);
/* Keeps list (len bytes), a revocation list of programme under pk, as
 * pk's when newer than the one kept (pk trusted here from then on: an
 * admin's own programme key), and saves. 0 or an error code (printed). */
int trust_revocations_keep(struct cli *cli, const uint8_t pk[OFR_PK_BYTES],
    int64_t programme, const uint8_t *list, size_t len);
/* Pins the server's key (of the connection's challenge) at the first
 * login; a changed one is refused unless accept. 0 or OFR_E_CRYPTO
 * (printed). */
int trust_server_key(struct cli *cli, int accept);
/* Remembers that the client asked for programme in case case_id (its
 * request, or a referral it accepts): a counsellor of a programme it did
 * not ask for there is refused. A yes kept already and not used by a
 * handover is not kept twice. 0, or OFR_E_IO when the key file could not
 * be saved (printed; kept in memory, saved again at the command's end). */
int trust_asked(struct cli *cli, int64_t case_id, int64_t programme);
/* The programme of a request whose answer named no case (none, or
 * case_open): the first case then checked that has no programme asked of
 * its own is held to it. 0, or as trust_asked. */
int trust_asked_pending(struct cli *cli, int64_t programme);
/* The user's name for the programme key the last certificate that
 * trust_check_cert (or trust_check_counsellor) accepted rests on, and
 * *partner: 1 when that key vouched for the certificate's programme key
 * by a partner statement, 0 when it signed the certificate itself. "" when
 * none was accepted. */
const char *trust_vouched(int *partner);
/* 1 when the client asked for some programme in case case_id. */
int trust_asked_any(struct cli *cli, int64_t case_id);
/* Takes back every yes of case case_id that no handover used (a
 * referral's yes withdrawn: its partner's counsellors are refused there
 * again, unless asked for before), whatever partner the server names;
 * never the programme the case began at. 0, or OFR_E_IO when the key file
 * could not be saved (printed). */
int trust_unasked(struct cli *cli, int64_t case_id);
/* trust_check_cert of a counsellor participant object (key, cert,
 * programme), as it returns. */
int trust_check_counsellor(struct cli *cli, json_t *participant);
/* Records the keys of kase's participants (trust_check_case) and checks
 * every counsellor's certificate: 0 or an error code (printed). */
int trust_check_counsellors(struct cli *cli, json_t *kase);
/* The case's counsellor (not a colleague, nor a partner's counsellor of
 * a referral) holds: no key of kase changed (trust_check_case), and it is
 * of a programme asked for there, its certificate holding for it. 0 and
 * *programme its programme (0: none in the case), or an error code
 * (printed). */
int trust_check_lead(struct cli *cli, json_t *kase, int64_t *programme);
/* Refuses to send in case kase when a participant's key changed: 0 or
 * OFR_E_CRYPTO (printed, with what to do). */
int trust_before_send(struct cli *cli, json_t *kase);
/*
 * The checks before a message from key from in case kase (may be NULL) is
 * opened: the case's participant list one the protocol allows; its
 * sender in the case, with the key first seen (or last verified); a
 * counsellor's key certified, and not revoked, at every message. 0 with
 * *refusal (TRUST_OK: open it), or the error code (printed) of what kept
 * the certificate from being checked at all (a bad --programme-key, no
 * answer, the connection gone).
 */
int trust_check_message(struct cli *cli, json_t *kase,
    const uint8_t from[OFR_PK_BYTES], enum trust_refusal *refusal);

#endif
