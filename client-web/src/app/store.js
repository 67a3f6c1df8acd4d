// store.js: the page's state, in one place. Views read it and never change
// it; intents (controller.js) change it through update(), which tells the
// subscribers once per task, however many updates the task made.

/* "Keep on this device": the choices of how long messages are kept, in
 * days (0: as long as the vault). Older ones go when the vault is sealed
 * or opened (controller.js). */
export const HISTORY_DAYS = [0, 7, 30, 90];	// each has its catalogue key history_keep_N

/* Whether closed case c (core's view of it) has its feedback form open:
 * it had a counsellor, and its feedback was neither sent nor declined. */
export const feedbackOpen = (c) => c.status === 'closed' && !c.feedback &&
	c.participants.some((p) => p.role === 'counsellor');

export function initialState() {
	return {
		screen: 'start',	// start | restore | unlock | conversation | join | inbox
		lang: 'en',
		mode: 'trace',		// trace (leave no trace) | device (keep on this device)
		busy: false,		// a long step runs (login, key derivation)
		conn: 'offline',	// offline | connecting | online | reconnecting
		error: null,		// { key, vars } of the catalogue: what went wrong, in plain words
		notice: null,		// { key, vars }: something to tell, not an error
		vaultExists: null,	// true | false | null (cannot tell without touching the device)
		me: null,		// { key, role, name }
		cases: {},		// id -> { case, messages: [], unread, notes: [], safety }
		order: [],		// case ids, newest activity first
		current: null,		// the open case id
		queue: [],		// counsellor: waiting cases it could take
		newCases: [],		// counsellor: ids of cases that arrived and were not opened yet
		presence: 'online',	// counsellor: online | away
		idleMinutes: 10,	// counsellor: away after this long without input
		historyDays: 0,		// device mode: messages older than this many days are
					// dropped when the vault is sealed or opened; 0: kept
		drafts: {},		// case id (or "new") -> text typed and not yet sent
		feedbackDrafts: {},	// case id -> {helpful, recommend, text}: the feedback form, not yet sent
		feedbackSaid: null,	// {id, key}: what became of the feedback just sent (said in its place)
		feedbackReach: {},	// case id -> 'yes' | 'no' | 'unknown' (none: not asked, or no answer): whether its feedback text could go (checkFeedback)
		recovery: null,		// "Leave no trace": the recovery code, when shown
		wishes: {},		// the client's choices on the start screen
		programmes: {},		// programme id -> public profile (programme.list), for a referral
		closedHere: [],		// case ids this page closed (a waiting one that closed otherwise expired)
		lastAnnounce: '',	// text for the live region
		saves: 0,		// device mode: vault writes done (shown as main[data-saves])
		untrusted: [],		// programme keys offered and not trusted: [{id, name, key, fingerprint}]
		trustLater: [],		// keys the user said "not now" to (while the page lives)
	};
}

export function createStore(state = initialState()) {
	const subs = new Set();
	let pending = false;
	const notify = () => {
		pending = false;
		for (const fn of subs) fn(state);
	};
	return {
		get state() {
			return state;
		},
		/* fn(state) changes the state in place; subscribers run once, soon. */
		update(fn) {
			fn(state);
			if (!pending) {
				pending = true;
				queueMicrotask(notify);
			}
		},
		subscribe(fn) {
			subs.add(fn);
			return () => subs.delete(fn);
		},
		/* Forgets everything (quick exit in leave-no-trace mode). */
		reset() {
			for (const k of Object.keys(state)) delete state[k];
			Object.assign(state, initialState());
		},
	};
}
