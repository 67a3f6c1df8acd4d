// util.js: the small helpers the core and its requests share: text to
// bounded UTF-8 bytes, ids, usage errors, deep copies.

import { OfframpError, ERR } from './proto/err.js';

export const utf8 = new TextEncoder();
export const utf8d = new TextDecoder('utf-8', { fatal: true });

/** An OfframpError "usage" naming what is wrong. */
export const usage = (what) => new OfframpError(ERR.USAGE, what);

/** 1..2^53-1, as the protocol's ids. */
export const isId = (v) => Number.isSafeInteger(v) && v > 0;

/** A deep copy of a JSON value (undefined stays undefined). */
export function copy(o) {
	return o === undefined ? undefined : JSON.parse(JSON.stringify(o));
}

/** The UTF-8 bytes of a non-empty text of at most max bytes; else throws. */
export function textBytes(text, max) {
	if (typeof text !== 'string' || text.length === 0) throw usage('empty text');
	if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) throw usage('not UTF-8 text');
	const b = utf8.encode(text);
	if (b.length > max) throw new OfframpError(ERR.TOO_BIG, `at most ${max} bytes`);
	return b;
}
