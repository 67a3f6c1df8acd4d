/*
 * err.h: the one table of error codes of offramp. Functions of the server,
 * the CLI and the protocol library return 0 or one of these negative codes;
 * err_str() gives the stable string that goes on the wire in error frames
 * (PROTOCOL.md, "Error codes"). Codes are never renumbered or renamed.
 */
#ifndef OFFRAMP_PROTO_ERR_H
#define OFFRAMP_PROTO_ERR_H

enum ofr_err {
	OFR_OK = 0,
	/* wire errors: sent to peers in error frames */
	OFR_E_BAD_JSON = -1,		/* not a JSON object, or not UTF-8 text */
	OFR_E_TOO_BIG = -2,		/* frame over the size limit */
	OFR_E_BAD_VERSION = -3,		/* "v" missing or not 1 */
	OFR_E_UNKNOWN_TYPE = -4,	/* "type" not a request type */
	OFR_E_BAD_FIELD = -5,		/* a field missing, mistyped or out of bounds */
	OFR_E_NOT_LOGGED_IN = -6,	/* request needs a login first */
	OFR_E_ALREADY_LOGGED_IN = -7,	/* login on a logged-in connection */
	OFR_E_BAD_SIGNATURE = -8,	/* login signature does not verify */
	OFR_E_UNKNOWN_KEY = -9,		/* key has no account and cannot get one */
	OFR_E_BAD_INVITE = -10,		/* invite unknown, used or expired */
	OFR_E_WRONG_ROLE = -11,		/* login role differs from the account's */
	OFR_E_FORBIDDEN = -12,		/* role or programme may not do this */
	OFR_E_NOT_FOUND = -13,		/* no such object visible to the caller */
	OFR_E_CASE_OPEN = -14,		/* the client already has an open case */
	OFR_E_CASE_CLOSED = -15,	/* the case is closed */
	OFR_E_CASE_WAITING = -16,	/* the case has no counsellor yet */
	OFR_E_BAD_RECIPIENTS = -17,	/* copies do not match the participants */
	OFR_E_RATE_LIMITED = -18,	/* too many frames in too short a time */
	OFR_E_DISABLED = -19,		/* the account is disabled */
	OFR_E_LIMIT = -20,		/* a count limit of the server is reached */
	OFR_E_INTERNAL = -21,		/* the server failed; nothing changed */
	OFR_E_BAD_STATE = -22,		/* the case's status does not allow it */
	OFR_E_STORAGE_FULL = -23,	/* the disk is full; nothing changed */
	OFR_E_RECIPIENT_FULL = -24,	/* a recipient's stored queue is full */
	OFR_E_UNAVAILABLE = -25,	/* the store is out of reach for now */
	/* co-counselling (numbered apart, as intake's) */
	OFR_E_NOT_TOLD = -35,		/* a participant others were not told of */
	/* intake (numbered apart, so that other additions do not collide) */
	OFR_E_POW_REQUIRED = -30,	/* no proof of work, or not enough */
	OFR_E_INTAKE_CODE_REQUIRED = -31, /* the programme asks for its code */
	OFR_E_BAD_INTAKE_CODE = -32,	/* not the programme's intake code */
	/* local errors: never on the wire */
	OFR_E_NOMEM = -40,
	OFR_E_IO = -41,
	OFR_E_CRYPTO = -42,		/* a seal/open/verify failed */
	OFR_E_TIMEOUT = -43,
	OFR_E_CONN = -44,		/* connection failed or closed */
	OFR_E_PASSPHRASE = -45,		/* wrong passphrase or damaged key file */
	OFR_E_USAGE = -46,
};

/* The stable name of an error code ("bad_json"); "unknown" for others. */
const char *err_str(int err);

/* The code of a stable name, or OFR_E_INTERNAL when the name is unknown. */
int err_from_str(const char *name);

#endif
