// core.js: the headless offramp client that the page drives. It owns the
// account's identity, its end-to-end sessions (e2e.js), the connection
// (conn.js), and what it knows of its cases and their messages; it knows
// no DOM and no storage. The page calls its methods (intents) and listens
// to its events; it keeps the exported state wherever its mode says (in
// memory only, a recovery code, or sealed in IndexedDB by storage.js).
//
// What it must never do: send plaintext to the server, drop a message it
// could not decrypt without telling (event "undecryptable"), send to a
// case whose participant's key changed until verify(), start a session
// with a counsellor whose certificate the pinned programme key does not
// sign, or lose a text the user typed (the outbox keeps it until the
// server has acknowledged it).
//
// Errors: every method that fails rejects with an OfframpError whose
// .code is a stable string: the server's error code (PROTOCOL.md: e.g.
// "case_open", "forbidden", "bad_field" with .field) or a local one of
// proto/err.h ("crypto", "timeout", "connection", "usage", "limit").
//
// Keys, signatures and message ids are base64 strings (RFC 4648, padded),
// as on the wire. Times are integer seconds since the epoch.
//
// Usage:
//   import { createCore } from './core.js';
//   const core = await createCore({ url, WebSocket, state, pins });
//   core.on('message', ({ caseId, message }) => ...);
//   await core.login();                      // or core.redeem(invite, name)
//   const c = await core.requestCase({ language: 'en' });
//   core.send(c.id, 'hello');                // queued until a counsellor comes

/**
 * @typedef {object} CoreOptions
 * @property {string} url  the server's WebSocket URL (wss://host/ or ws:// on loopback)
 * @property {Function} WebSocket  a WebSocket constructor (the browser's, or ws's in node)
 * @property {Uint8Array|string} [state]  a state made by exportState() or
 *   exportRecovery(); without it a new identity (a new key pair) is made
 * @property {Array<[number, string]>} [pins]  configured programme keys
 *   [[programmeId, base64Key], ...] (the bundle's built-in pins); they win
 *   over keys pinned on first use, and a programme pinned here never falls
 *   back to the server's word
 * @property {string} [serverKey]  the server's identity (base64); when given,
 *   a challenge from another key is refused (code "crypto")
 * @property {number} [timeoutMs=10000]  how long a request waits for its answer
 * @property {{minMs?: number, maxMs?: number}} [reconnect]  backoff of
 *   reconnects, doubling from minMs (500) up to maxMs (30000), with jitter
 * @property {() => number} [now]  the clock in seconds (tests)
 */

/**
 * @typedef {object} Account
 * @property {string} key  this identity (base64 Ed25519 public key)
 * @property {'client'|'counsellor'|'admin'} role
 * @property {string} name  the pseudonym (clients) or display name
 * @property {number|null} programme
 */

/**
 * @typedef {object} Participant
 * @property {string} key
 * @property {'client'|'counsellor'} role
 * @property {string} name
 * @property {number} [programme]  counsellors
 * @property {boolean} me  this identity
 * @property {boolean} certified  counsellors: the certificate verifies now
 *   under the pinned programme key (false until checked; clients: false)
 * @property {boolean} changed  its key differs from the one first seen (or
 *   last verified) for its role in this case: sending is blocked
 * @property {boolean} verified  verify() accepted this very key
 */

/**
 * @typedef {object} Case
 * @property {number} id
 * @property {'waiting'|'active'|'paused'|'closed'} status
 * @property {string} language
 * @property {string|null} topic
 * @property {'low'|'normal'|'high'} urgency
 * @property {number} created
 * @property {number} updated
 * @property {{asked: string[], met: string[]|null, unmet: string[]|null}|null} preferences
 * @property {Participant[]} participants  now; a copy
 * @property {number} unread  counsellors: what the server still holds for
 *   us (case.list), plus what arrived since and was not markRead()
 * @property {boolean} blocked  a participant's key changed: nothing is sent
 *   until verify()
 */

/**
 * @typedef {object} Message
 * @property {string} mid  the message id (base64 of 16 bytes)
 * @property {number} caseId
 * @property {string} from  the sender's key
 * @property {string} name  the sender's name at that time
 * @property {boolean} mine
 * @property {string|null} text  null when it could not be read (see state)
 * @property {number} ts  server time for received ones; local time of
 *   typing for ours (until the server's ack, then unchanged)
 * @property {'queued'|'sending'|'sent'|'failed'|'received'|'undecryptable'|'refused'} state
 *   ours: queued (in the outbox: the case waits for a counsellor, a key
 *   changed, or we are offline), sending (in flight), sent (the server has
 *   committed it to disk: msg.send.ok), failed (the server refused it for
 *   good: see error); theirs: received, undecryptable (it did not decrypt),
 *   refused (not accepted: key changed, uncertified, not a participant,
 *   replayed first message; see reason). The protocol carries no delivery
 *   or read receipts, so "sent" is the last state an own message reaches.
 * @property {string} [reason]  why: "key_changed", "uncertified",
 *   "stranger", "replay", "crypto", or a server error code
 */

/**
 * @typedef {object} Safety
 * @property {string} key
 * @property {string} name
 * @property {string} role
 * @property {string} number  60 digits in 12 groups of 5 (CRYPTO.md)
 * @property {boolean} verified
 * @property {boolean} changed
 */

/**
 * Events (core.on(name, fn); fn gets one object):
 * - "connection"   {state: 'connecting'|'online'|'reconnecting'|'offline', attempt, delayMs}
 * - "account"      {account}: after login or redeem
 * - "case"         {case, previous}: a case appeared or changed (status,
 *                  counsellor, participants); previous is the Case before, or null
 * - "newcase"      {case}: counsellors: a case was assigned to us (matched or taken)
 * - "message"      {caseId, message}: a message arrived (any state of theirs)
 * - "message-state" {caseId, message}: one of ours changed state
 * - "undecryptable" {caseId, message}: a message that did not decrypt or was
 *                  refused (also given as "message"): shown, reported, never dropped
 * - "keychange"    {caseId, participant}: a participant's key differs from the one
 *                  first seen; sending in that case waits for verify()
 * - "error"        {code, field?, request?}: a failure not tied to a call the
 *                  page is awaiting (a background send, a prekey upload, a push)
 * - "state"        {}: the exportable state changed (persist it if the mode keeps it)
 * @typedef {string} CoreEvent
 */

import { OfframpError } from './proto/err.js';

export { OfframpError };

/**
 * Makes a core: loads libsodium, then the identity from options.state, or
 * makes a new key pair. Does not connect: call login() or redeem().
 * @param {CoreOptions} options
 * @returns {Promise<Core>}
 * @throws {OfframpError} "usage" for a bad option, "bad_field" for a state
 *   that does not parse
 */
export async function createCore(options) {
	return Core.create(options);
}

const todo = () => {
	throw new OfframpError('usage', 'not implemented yet');
};

/** The client. Make one with createCore(). */
export class Core {
	/** @param {CoreOptions} options @returns {Promise<Core>} */
	static async create(options) { return todo(options); }

	// --- identity and state ---

	/** This identity's public key (base64). @type {string} */
	get key() { return todo(); }
	/** The account after login/redeem, else null. @type {Account|null} */
	get account() { return todo(); }
	/** The connection's state: 'offline'|'connecting'|'online'|'reconnecting'. @type {string} */
	get connection() { return todo(); }

	/**
	 * The whole state: identity, prekey secrets, sessions, pins, keys seen
	 * per case and their verification, the outbox, and (unless
	 * {history: false}) the messages kept per case. It holds secrets: the
	 * page keeps it in memory or seals it (storage.js).
	 * @param {{as?: 'bytes'|'json', history?: boolean}} [opts]
	 * @returns {Uint8Array|string} UTF-8 JSON bytes (default), or the JSON text
	 */
	exportState(opts) { return todo(opts); }

	/**
	 * The smallest state that restores this account: the identity seed and
	 * the programme keys pinned on first use (at most a few hundred bytes,
	 * for a recovery code). Sessions are not in it: after a restore from it,
	 * new sessions are started; messages still in flight to old sessions
	 * arrive as "undecryptable".
	 * @returns {Uint8Array}
	 */
	exportRecovery() { return todo(); }

	/**
	 * Subscribes fn to event name (see CoreEvent).
	 * @param {string} name @param {(ev: object) => void} fn
	 * @returns {() => void} unsubscribe
	 */
	on(name, fn) { return todo(name, fn); }

	// --- connection ---

	/**
	 * Connects and logs in (challenge signed with the server key and the
	 * context, PROTOCOL.md), then uploads prekeys when the server asks,
	 * fetches the cases and takes the undelivered messages. A new key logs
	 * in as a new anonymous client. Reconnects by itself after that, until
	 * logout(). Safe to call again while connected (resolves at once).
	 * @param {{role?: 'client'|'counsellor'|'admin'}} [opts] role: the
	 *   account's (default: the one in the state, else 'client')
	 * @returns {Promise<Account>}
	 * @throws {OfframpError} e.g. "wrong_role", "account_disabled",
	 *   "unknown_key", "timeout", "connection"
	 */
	async login(opts) { return todo(opts); }

	/**
	 * Redeems an invite: a counsellor (or admin) account for this identity,
	 * with keys made here; logs in, uploads a signed prekey and one-time
	 * prekeys, and sets the profile when one is given (counsellors).
	 * @param {string} invite  the token (base64url)
	 * @param {string} name  the display name (1..64 bytes)
	 * @param {object} [profile]  profile.set fields (PROTOCOL.md), capacity excepted
	 * @returns {Promise<Account>}
	 * @throws {OfframpError} "bad_invite", "forbidden", "bad_field"...
	 */
	async redeem(invite, name, profile) { return todo(invite, name, profile); }

	/** Closes the connection and stops reconnecting; state stays. */
	logout() { return todo(); }

	// --- cases (both roles) ---

	/**
	 * The cases known now (client: its own; counsellor: assigned), newest
	 * first; copies.
	 * @returns {Case[]}
	 */
	cases() { return todo(); }
	/** One case, or null. @param {number} id @returns {Case|null} */
	caseOf(id) { return todo(id); }
	/**
	 * Asks the server for the cases again (case.list) and checks their keys.
	 * @returns {Promise<Case[]>}
	 */
	async refreshCases() { return todo(); }
	/**
	 * The messages of a case, oldest first (ours and theirs, every state);
	 * copies. At most 1000 are kept per case (the oldest go).
	 * @param {number} id @returns {Message[]}
	 */
	messages(id) { return todo(id); }
	/** Marks a case's messages read (resets unread). @param {number} id */
	markRead(id) { return todo(id); }

	/**
	 * Sends text in a case: encrypted once per other participant (X3DH and
	 * the Double Ratchet, e2e.js). Returns at once with the message in
	 * state "queued"; it goes out when the case has a counsellor and no
	 * changed key, and is re-sent with the same mid across reconnects until
	 * the server acknowledges it ("message-state" events follow).
	 * @param {number} id @param {string} text  1..16127 bytes of UTF-8
	 * @returns {Message}
	 * @throws {OfframpError} "usage" (empty, too long), "not_found",
	 *   "case_closed", "limit" (the outbox is full: 100 per case)
	 */
	send(id, text) { return todo(id, text); }

	/**
	 * Closes a case (both roles). @param {number} id @returns {Promise<Case>}
	 */
	async closeCase(id) { return todo(id); }

	/**
	 * The safety numbers of the other participants of a case.
	 * @param {number} id @returns {Safety[]}
	 */
	safety(id) { return todo(id); }

	/**
	 * Accepts the current key of the other participants of a case (or only
	 * of the one with key), after the user compared safety numbers: a
	 * blocked case can send again, and refused messages left on the server
	 * come again at the next login.
	 * @param {number} id @param {string} [key]
	 * @returns {Safety[]} what was verified
	 * @throws {OfframpError} "not_found"
	 */
	verify(id, key) { return todo(id, key); }

	/** Every programme's public profile. @returns {Promise<object[]>} */
	async programmes() { return todo(); }

	// --- clients ---

	/**
	 * Opens a case (case.request). Only language is required. While it
	 * waits, the case's status is "waiting" and created tells since when:
	 * the protocol tells a client no queue position.
	 * @param {{language: string, topic?: string, programme?: number,
	 *   gender?: string, age_band?: string, background?: 'peer'|'professional',
	 *   format?: 'chat'|'in-person'|'phone-video', region?: string,
	 *   urgency?: 'low'|'normal'|'high'}} intake
	 * @returns {Promise<Case>}
	 * @throws {OfframpError} "case_open", "bad_field" (with field)
	 */
	async requestCase(intake) { return todo(intake); }

	/**
	 * Asks for another counsellor; the next one is new, not a changed key
	 * (its certificate is still checked). @param {number} id
	 * @returns {Promise<Case>}
	 */
	async reassign(id) { return todo(id); }

	// --- counsellors ---

	/**
	 * The waiting cases this counsellor could take, in queue order, each
	 * with waiting (seconds). @returns {Promise<object[]>}
	 */
	async queue() { return todo(); }
	/** Takes a waiting case. @param {number} id @returns {Promise<Case>} */
	async take(id) { return todo(id); }
	/** @param {number} id @returns {Promise<Case>} */
	async pause(id) { return todo(id); }
	/** @param {number} id @returns {Promise<Case>} */
	async resume(id) { return todo(id); }
	/** @param {number} id @returns {Promise<Case>} */
	async reopen(id) { return todo(id); }
	/**
	 * Sets presence: 'online' (takes new cases) or 'away'.
	 * @param {'online'|'away'|'offline'} presence @returns {Promise<object>} the profile
	 */
	async setPresence(presence) { return todo(presence); }
	/** profile.set with any profile fields but capacity. @returns {Promise<object>} */
	async setProfile(profile) { return todo(profile); }
	/**
	 * Adds a case note, encrypted to this identity only (as the CLI's).
	 * @param {number} id @param {string} text
	 * @returns {Promise<number>} the note's id
	 */
	async addNote(id, text) { return todo(id, text); }
	/**
	 * The notes of a case, decrypted; a note that does not open has text
	 * null. @param {number} id
	 * @returns {Promise<Array<{id: number, ts: number, text: string|null}>>}
	 */
	async notes(id) { return todo(id); }

	/**
	 * Any request of the protocol not covered above (admin tools):
	 * resolves with the answer frame. @param {object} frame  with type
	 * @returns {Promise<object>}
	 */
	async request(frame) { return todo(frame); }
}
