// types.js: the shapes core.js takes and gives, as JSDoc (no code):
// CoreOptions, Account, Participant, Case, Message, Safety, CoreEvent.
// The page (app/, ui/) and the tests rely on exactly these fields.

/**
 * @typedef {object} CoreOptions
 * @property {string} url  the server's WebSocket URL (wss://host/ or ws:// on loopback)
 * @property {Function} WebSocket  a WebSocket constructor (the browser's, or ws's in node)
 * @property {Uint8Array|string} [state]  a state made by exportState() or
 *   exportRecovery(); without it a new identity (a new key pair) is made
 * @property {Array<[number, string]>} [pins]  the programme keys built into
 *   the bundle, [[programmeId, base64Key], ...]: trust anchors, with the
 *   keys the user accepted (trustProgramme); the id is a hint for people,
 *   what a key certifies is what its certificates say
 * @property {string} [serverKey]  the server's identity (base64); when given,
 *   a challenge from another key is refused; without it the key of the
 *   first login is remembered in the state and held to the same way (code
 *   "crypto", reason "server_key_changed", event "error")
 * @property {number} [timeoutMs=10000]  how long a request waits for its answer
 * @property {number} [heartbeatMs=25000]  a ping after this long without a
 *   frame, to find a dead connection (0: none)
 * @property {{minMs?: number, maxMs?: number}} [reconnect]  backoff of
 *   reconnects, doubling from minMs (500) up to maxMs (30000), with jitter
 * @property {() => Promise<void>} [beforeAck]  keeps the state (the page's
 *   sealed store); awaited before every msg.ack, so that the server never
 *   deletes a copy the device has not kept; when it throws, nothing is acked
 * @property {() => Promise<void>} [beforeSend]  keeps the state, as
 *   beforeAck; awaited before every msg.send (and referral.summary, and a
 *   report) leaves, so that the ratchet step and the running number that
 *   sealed it are kept before the peer can have them: a device closed at
 *   once never seals another message with them; when it throws, nothing
 *   is sent and the message waits
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
 *   under a trusted programme key (false until checked; clients: false)
 * @property {string|null} refused  counsellors: why not certified, when
 *   checked: "uncertified", "untrusted_programme", "wrong_programme",
 *   "revoked", "no_programme_key"; else null
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
 * @property {number} unread  messages received since the last markRead()
 * @property {boolean} blocked  a participant's key changed: nothing is sent
 *   until verify()
 * @property {number|null} waitingSince  while waiting: since when
 * @property {number|null} queuePosition  clients, while waiting: the
 *   case's place in the queue as the server last told it (1: next;
 *   PROTOCOL.md "queue_position"), else null
 * @property {number} outbox  own messages not yet acknowledged by the server
 * @property {'sent'|'dismissed'|null} feedback  a client's anonymous feedback
 *   on the case (sendFeedback, dismissFeedback), or null: not yet
 * @property {Referral|null} referral  its newest referral (referral.js)
 */

/**
 * @typedef {object} Referral
 * @property {number} from  the proposing programme
 * @property {number} partner  the partner programme
 * @property {'proposed'|'accepted'|'declined'|'withdrawn'|'cancelled'|'completed'} status
 * @property {string|null} approved  the digest of the summary the client approved
 * @property {boolean} summarySent
 * @property {boolean} accepted  this user said yes to this partner in the case
 * @property {{key: string, name: string, programme: number, joining: boolean,
 *   certified: boolean, refused: string|null}|null} counsellor  the partner's
 *   counsellor in the case; certified: under the partner's key, which a
 *   trusted programme vouched for
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
 * @property {'queued'|'sending'|'sent'|'delivered'|'failed'|'received'|'undecryptable'|'refused'|'report'} state
 *   ours: queued (in the outbox: the case waits for a counsellor, a key
 *   changed, or we are offline), sending (in flight), sent (the server has
 *   committed it to disk: msg.send.ok), delivered (every other participant
 *   of the case has acknowledged its copy: msg.delivered receipts), failed
 *   (the server refused it for good: see error); theirs: received,
 *   undecryptable (it did not decrypt), refused (not accepted: key changed,
 *   uncertified, not a participant, replayed first message; see reason),
 *   report (the sender could not read count of our messages, for reason;
 *   a new secure session has started: CRYPTO.md, "Undecryptable messages").
 *   There are no read receipts; a receipt sent while we were offline is
 *   lost, so a message may stay "sent" though it was delivered.
 * @property {string[]} [deliveredTo]  ours: the keys of the participants
 *   whose receipt came (one "message-state" event each)
 * @property {string} [reason]  why: for ours, what it waits for
 *   ("case_waiting": no counsellor yet; "key_changed": verify() first;
 *   "uncertified", "untrusted_programme", "wrong_programme", "revoked": the
 *   counsellor's certificate was refused, see Participant.refused) or why
 *   it failed (a server error code); for theirs, "key_changed" (left on
 *   the server until verify()), those of a refused certificate
 *   ("untrusted_programme": left on the server until trustProgramme()),
 *   "stranger" (not a participant), "replay" (a first message answered
 *   before, or a key used already), "crypto" (does not decrypt), "limit"
 *   (too many skipped), "no_session" (no session for it), "format" (it
 *   decrypted, but its content has an unknown format); for a report, why
 *   the peer could not read ours ("limit", "no_session", "crypto",
 *   "other")
 * @property {number} [count]  a report: how many of ours the peer could not read
 * @property {boolean} [reset]  undecryptable: the sessions with the sender
 *   were dropped, a new one starts and the sender is told (a report); false
 *   when that happened already in this page load
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
 * - "case"         {case, previous}: a case appeared or changed (status,
 *                  counsellor, participants, feedback); previous is the Case before, or null
 * - "newcase"      {case}: counsellors: a case was assigned to us (matched or taken)
 * - "message"      {caseId, message}: a message arrived (any state of theirs)
 * - "message-state" {caseId, message, to?}: one of ours changed state, or
 *                  a receipt came from the participant whose key is to
 *                  (message.deliveredTo; state "delivered" once all have)
 * - "undecryptable" {caseId, message}: a message that did not decrypt or was
 *                  refused, or a report that the peer could not read ours
 *                  (state "report"; also given as "message"): shown, reported,
 *                  never dropped
 * - "keychange"    {caseId, participant}: a participant's key differs from the one
 *                  first seen; sending in that case waits for verify()
 * - "untrusted-programme" {caseId, programme: {id, name, key, fingerprint}}:
 *                  a counsellor is certified by a programme key that is no
 *                  anchor: the page shows the fingerprint and asks the user
 *                  (trustProgramme), never trusts it by itself
 * - "programme-rotated" {name, programme, from, to, fingerprint}: a trusted
 *                  programme replaced its key; the new one is trusted now
 * - "account"      {account}: after each login (reconnects too)
 * - "error"        {code, field?, reason?, request?}: a failure not tied to a call the
 *                  page is awaiting (a background send, a prekey upload, a push)
 * - "state"        {}: the exportable state changed (persist it if the mode
 *                  keeps it); emitted synchronously before anything that depends
 *                  on the change leaves (a sealed message, an ack, a prekey upload)
 * @typedef {string} CoreEvent
 */

export {};
