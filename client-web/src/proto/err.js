// err.js: mirror of proto/err.h and err.c: the one table of error codes.
// JavaScript has no negative ints to return, so functions throw an
// OfframpError whose .code is the stable name (err_str) of a code; the
// names of wire codes are the strings the server sends in error frames.

export const ERR = Object.freeze({
	OK: 'ok',
	BAD_JSON: 'bad_json',
	TOO_BIG: 'too_big',
	BAD_VERSION: 'bad_version',
	UNKNOWN_TYPE: 'unknown_type',
	BAD_FIELD: 'bad_field',
	NOT_LOGGED_IN: 'not_logged_in',
	ALREADY_LOGGED_IN: 'already_logged_in',
	BAD_SIGNATURE: 'bad_signature',
	UNKNOWN_KEY: 'unknown_key',
	BAD_INVITE: 'bad_invite',
	WRONG_ROLE: 'wrong_role',
	FORBIDDEN: 'forbidden',
	NOT_FOUND: 'not_found',
	CASE_OPEN: 'case_open',
	CASE_CLOSED: 'case_closed',
	CASE_WAITING: 'case_waiting',
	BAD_RECIPIENTS: 'bad_recipients',
	RATE_LIMITED: 'rate_limited',
	DISABLED: 'account_disabled',
	LIMIT: 'limit',
	INTERNAL: 'internal',
	BAD_STATE: 'bad_state',
	STORAGE_FULL: 'storage_full',
	RECIPIENT_FULL: 'recipient_full',
	UNAVAILABLE: 'unavailable',
	NOT_TOLD: 'not_told',
	POW_REQUIRED: 'pow_required',
	INTAKE_CODE_REQUIRED: 'intake_code_required',
	BAD_INTAKE_CODE: 'bad_intake_code',
	// local errors: never on the wire
	NOMEM: 'no_memory',
	IO: 'io',
	CRYPTO: 'crypto',
	TIMEOUT: 'timeout',
	CONN: 'connection',
	PASSPHRASE: 'passphrase',
	USAGE: 'usage',
});

const NAMES = new Set(Object.values(ERR));

/** An error with a stable code (ERR), and for bad_field the field. */
export class OfframpError extends Error {
	/**
	 * @param {string} code  a name of ERR (others become "internal", as err_from_str)
	 * @param {string} [detail]  for people and logs; never shown as the code
	 * @param {string} [field]  the field of a bad_field
	 */
	constructor(code, detail, field) {
		const c = NAMES.has(code) ? code : ERR.INTERNAL;
		super(detail ? `${c}: ${detail}` : c);
		this.name = 'OfframpError';
		this.code = c;
		if (field !== undefined) this.field = field;
	}
}

/** Throws OfframpError(code, detail) unless cond holds. */
export function check(cond, code, detail) {
	if (!cond) throw new OfframpError(code, detail);
}
