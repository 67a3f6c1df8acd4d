// controller.js: the page's intents. Views call these; they drive the core
// (core.js: identity, connection, end-to-end crypto, cases, messages) and
// the storage (storage.js, only in "Keep on this device" mode), and write
// what the views show into the store. Nothing else changes the state.
//
// Failures become state.error = {key, vars}: a catalogue key that says in
// plain words what happened. What the user typed is never thrown away here:
// a composer clears itself only when send() returned true.

import { encodeRecovery, decodeRecovery } from './recovery.js';
import * as storage from './storage.js';
import { quickExit } from './exit.js';
import { HISTORY_DAYS, feedbackOpen } from './store.js';
import { setLanguage, t } from '../i18n/index.js';

const TOKEN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const PROGRAMME_NUMBER = /^[1-9][0-9]{0,15}$/;
const INTAKE_CODE = /^[A-Za-z0-9-]{1,64}$/;	// as the server takes it (PROTOCOL.md, "Intake codes")
const KNOWN_ERRORS = new Set(['bad_json', 'too_big', 'bad_field', 'not_logged_in', 'bad_signature',
	'unknown_key', 'bad_invite', 'wrong_role', 'forbidden', 'not_found', 'case_open', 'case_closed',
	'case_waiting', 'rate_limited', 'account_disabled', 'limit', 'internal', 'bad_state', 'storage_full',
	'recipient_full', 'unavailable', 'not_told', 'crypto', 'intake_code_required', 'bad_intake_code', 'pow_required',
	'timeout', 'connection', 'passphrase', 'usage', 'io']);

/* Errors that are over once the connection works again. */
const TRANSIENT = new Set(['err_server_failed', 'err_refused_often', 'err_connection', 'err_timeout',
	'err_internal', 'err_rate_limited', 'err_storage_full', 'err_recipient_full', 'err_unavailable']);

/* Reasons of the core's refusals that say more than their code. */
const KNOWN_REASONS = new Set(['server_key_changed', 'safety_mismatch', 'wrong_programme', 'revoked', 'not_approved',
	'referral_unchecked', 'referral_changed']);

/* The catalogue key for an error (an OfframpError, or anything thrown). */
export function errorKey(e) {
	const code = e && typeof e.code === 'string' ? e.code : '';
	if (e && KNOWN_REASONS.has(e.reason)) return `err_${e.reason}`;
	// case.request names a programme this server does not have
	if (code === 'bad_field' && e.field === 'programme') return 'err_programme_unknown';
	return KNOWN_ERRORS.has(code) ? `err_${code}` : 'err_generic';
}

/* The intake of case.request from the start screen's wishes. */
export function intakeOf(wishes, uiLang) {
	const intake = { language: wishes.language || uiLang };
	for (const k of ['topic', 'gender', 'age_band', 'background', 'format', 'urgency']) {
		if (wishes[k]) intake[k] = wishes[k];
	}
	const region = (wishes.region || '').trim().toLowerCase().replace(/\s+/g, '-');
	if (region) {
		if (!TOKEN.test(region)) throw Object.assign(new Error('region'), { code: 'err_region' });
		intake.region = region;
	}
	// a direct request: the programme's number, and its code when it asks for one
	const programme = String(wishes.programme || '').trim();
	const code = String(wishes.intake_code || '').trim();
	if (programme) {
		if (!PROGRAMME_NUMBER.test(programme) || !Number.isSafeInteger(Number(programme)))
			throw Object.assign(new Error('programme'), { code: 'err_programme_number' });
		intake.programme = Number(programme);
	}
	if (code) {
		if (!programme) throw Object.assign(new Error('intake_code'), { code: 'err_code_without_programme' });
		if (!INTAKE_CODE.test(code)) throw Object.assign(new Error('intake_code'), { code: 'err_bad_intake_code' });
		intake.intake_code = code;
	}
	return intake;
}

/* The programme number of a link's fragment ("#programme=12"), or null.
 * The fragment never reaches the server; the page drops it from the
 * address bar (main.js), so the device's history does not keep it. */
export function programmeOfFragment(hash) {
	const m = /^#programme=([1-9][0-9]{0,15})$/.exec(typeof hash === 'string' ? hash : '');
	return m && Number.isSafeInteger(Number(m[1])) ? m[1] : null;
}

/*
 * The WebSocket constructor given to the core, watched: the core does not
 * pass on why the server closed, and the page wants to say it. 1011: the
 * server failed to commit (e.g. a full disk) and kept nothing of that turn;
 * 1008: it refused what we sent too often.
 */
export function watchedSocket(WS, onClose) {
	return class extends WS {
		constructor(url, protocols) {
			super(url, protocols);
			this.addEventListener('close', (ev) => onClose(ev.code));
		}
	};
}

/**
 * @param {object} o
 * @param {object} o.store  store.js
 * @param {Function} o.createCore  core.js's createCore
 * @param {object} o.sodium  libsodium (ready)
 * @param {object} o.config  {url, WebSocket, pins, exitUrl, kdf?, idb?, win?}
 */
export function createController({ store, createCore, sodium, config }) {
	const win = config.win || globalThis.window;
	const idb = config.idb || globalThis.indexedDB;
	let core = null;
	let unsubs = [];
	let vk = null;		// the vault key (device mode), in memory while the page lives
	let role = 'client';
	let saveTimer = null;
	let idleTimer = null;
	let queueTimer = null;
	let calmTimer = null;
	const WS = watchedSocket(config.WebSocket, (code) => {
		// no core: the page let go of it (an erased account's connection,
		// which the server closes with 1008 after account.delete.ok)
		if (core && (code === 1011 || code === 1008)) {
			clearTimeout(calmTimer);
			set((s) => { s.error = { key: code === 1011 ? 'err_server_failed' : 'err_refused_often' }; });
		}
	});
	const S = () => store.state;
	const set = (fn) => store.update(fn);

	function fail(e, vars) {
		const key = typeof e === 'string' ? e : errorKey(e);
		if (typeof e !== 'string' && key === 'err_generic' && e) console.error(e);
		set((s) => {
			s.error = { key, vars };
			s.busy = false;
		});
	}
	const clearError = () => set((s) => { s.error = null; });
	const clearServerError = () => {
		const e = S().error;
		if (e && TRANSIENT.has(e.key)) clearError();
	};

	/* ------------------------------------------------- core -> state */

	function syncCases() {
		if (!core) return;
		const list = core.cases();
		set((s) => {
			const next = {};
			for (const c of list) {
				const old = s.cases[c.id];
				next[c.id] = {
					case: c,
					messages: old ? old.messages : core.messages(c.id),
					notes: old ? old.notes : null,
					safety: safeSafety(c.id),
				};
			}
			s.cases = next;
			s.order = list.map((c) => c.id);
			if (s.current !== null && !next[s.current] && s.me && s.me.role === 'client') s.current = null;
			if (s.me && s.me.role === 'client' && s.current === null) {
				const open = list.find((c) => c.status !== 'closed') || list[0];
				if (open) s.current = open.id;
			}
		});
		referralProgrammes(list);
		if (role === 'client') for (const c of list) if (feedbackOpen(c)) intents.checkFeedback(c.id);
	}

	/* fn once a task at most, however many of the server's events ask
	 * for it in that task: a slice of a listing (core.js, LISTED_SLICE
	 * cases a task) is one sync of the view and one queue.list, not one
	 * a case. */
	function coalesced(fn) {
		let queued = false;
		return () => {
			if (queued) return;
			queued = true;
			setTimeout(() => {
				queued = false;
				fn();
			}, 0);
		};
	}
	const casesSoon = coalesced(syncCases);
	const queueSoon = coalesced(() => refreshQueue());

	/* The public profiles of the programmes of the cases' referrals
	 * (programme.list), asked for once per programme missing. */
	function referralProgrammes(list) {
		askProgrammes(list.flatMap((c) => (c.referral ? [c.referral.partner, c.referral.from] : [])));
	}

	/* The public profiles of programmes ids into state.programmes
	 * (programme.list), asked for once per programme missing. */
	const profilesAsked = new Set();
	/* Cases whose feedback reach is being asked (intents.checkFeedback). */
	const reachAsked = new Set();
	function askProgrammes(ids) {
		const want = ids.filter((id) => Number.isSafeInteger(id) && !S().programmes?.[id] && !profilesAsked.has(id));
		if (!want.length) return;
		for (const id of want) profilesAsked.add(id);
		core.programmes().then((all) => {
			set((s) => { for (const p of all) if (p && Number.isSafeInteger(p.id)) (s.programmes ||= {})[p.id] = p; });
		}).catch(() => { for (const id of want) profilesAsked.delete(id); });
	}

	function safeSafety(id) {
		try {
			return core.safety(id);
		} catch {
			return [];
		}
	}

	function syncMessages(id) {
		if (!core) return;
		const msgs = core.messages(id);
		const c = core.caseOf(id);
		set((s) => {
			if (!s.cases[id] && c) s.cases[id] = { case: c, messages: [], notes: null, safety: safeSafety(id) };
			if (!s.cases[id]) return;
			s.cases[id].messages = msgs;
			if (c) s.cases[id].case = c;
		});
	}

	function wire() {
		const on = (name, fn) => unsubs.push(core.on(name, fn));
		on('connection', ({ state }) => {
			set((s) => { s.conn = state; });
			// the server's failure is over once a connection stays up a while
			clearTimeout(calmTimer);
			if (state === 'online') calmTimer = setTimeout(clearServerError, 4000);
			if (state === 'online') {
				syncCases();
				if (role === 'counsellor') {
					refreshQueue();
					// the server learns again what the page shows: a presence
					// sent while the connection was going down was lost
					const p = S().presence;
					if (p === 'online' || p === 'away') core.setPresence(p).catch(() => {});
				}
			}
		});
		on('case', ({ case: c, previous }) => {
			casesSoon();
			if (role === 'client' && previous && previous.status === 'waiting' && c.status === 'closed') {
				if (!S().closedHere.includes(c.id)) set((s) => { s.lastAnnounce = t('expired_title'); });
			} else if (role === 'client' && previous && previous.status === 'waiting' && c.status !== 'waiting') {
				const who = c.participants.find((p) => p.role === 'counsellor');
				set((s) => { s.lastAnnounce = t('announce_joined', { name: who ? who.name : '' }); });
			} else if (role === 'client' && previous && previous.status !== 'closed' && c.status === 'closed') {
				// ended by the counsellor (or by the user elsewhere): said, not
				// only shown in the heading
				if (!S().closedHere.includes(c.id)) set((s) => { s.lastAnnounce = t('conv_closed_title'); });
			} else if (role === 'client' && previous && previous.status !== 'waiting' && c.status === 'waiting') {
				set((s) => { s.lastAnnounce = t('conv_waiting_title'); });
			} else if (role === 'client' && previous && previous.status !== 'paused' && c.status === 'paused') {
				// paused by the counsellor: said, and what it means
				set((s) => { s.lastAnnounce = t('announce_paused'); });
			} else if (role === 'client' && previous && (previous.status === 'paused' || previous.status === 'closed') &&
				c.status === 'active') {
				// going on again (the live region held "ended" or "paused")
				set((s) => { s.lastAnnounce = t('announce_active'); });
			}
			// a referral's every step is said as what it is
			const r = c.referral;
			if (role === 'client' && r && previous && previous.referral?.status !== r.status) {
				const partner = S().programmes?.[r.partner]?.name || t('referral_programme_n', { id: r.partner });
				set((s) => { s.lastAnnounce = t(`referral_h_${r.status}`, { partner }); });
			}
			if (role === 'counsellor') queueSoon();
		});
		on('newcase', ({ case: c }) => {
			casesSoon();
			const client = c.participants.find((p) => p.role === 'client');
			set((s) => {
				if (!s.newCases.includes(c.id)) s.newCases.push(c.id);
				s.notice = { key: 'notice_new_case', vars: { name: client ? client.name : '' } };
			});
		});
		on('message', ({ caseId, message }) => {
			syncMessages(caseId);
			if (role === 'counsellor' && S().current === caseId && S().screen === 'inbox') core.markRead(caseId);
			if (role === 'counsellor' && S().current !== caseId && !message.mine) {
				set((s) => { s.lastAnnounce = t('announce_message_in', { name: message.name }); });
			}
			casesSoon();
		});
		on('message-state', ({ caseId, message }) => {
			syncMessages(caseId);
			if (message && (message.state === 'sent' || message.state === 'delivered')) clearServerError();
		});
		// a programme key nobody gave this device: the user is asked (shell)
		on('untrusted-programme', () => syncUntrusted());
		on('programme-rotated', ({ name }) => {
			set((s) => { s.notice = name ? { key: 'notice_programme_rotated', vars: { name } } : { key: 'notice_programme_rotated_unnamed' }; });
		});
		on('keychange', ({ caseId }) => {
			casesSoon();
			set((s) => { s.notice = { key: 'notice_keychange' }; s.current = s.current ?? caseId; });
		});
		// background failures: a dropped connection is said by the connection
		// line, and must not hide why the server dropped it
		on('error', (e) => {
			if (e.code === 'connection' || e.code === 'timeout' || e.reason === 'untrusted_programme') return;
			fail(e);
		});
		on('state', () => scheduleSave());
	}

	function syncUntrusted() {
		const list = core ? core.untrustedProgrammes().filter((p) => !S().trustLater.includes(p.key)) : [];
		set((s) => { s.untrusted = list; });
	}

	async function makeCore(state) {
		if (core) return core;
		core = await createCore({ url: config.url, WebSocket: WS, pins: config.pins, state, beforeAck: keepNow, beforeSend: keepNow });
		wire();
		return core;
	}

	/* ------------------------------------------------------ device vault */

	function vaultPlain() {
		const s = S();
		const json = JSON.stringify({
			v: 1,
			app: { role, lang: s.lang, idleMinutes: s.idleMinutes, historyDays: s.historyDays },
			core: core.exportState({ as: 'json' }),
		});
		return sodium.from_string(json);
	}

	/* Drops the messages older than the setting historyDays (device mode),
	 * from the core and from what the views show. */
	function expireHistory() {
		const days = S().historyDays;
		if (!core || !days) return;
		const gone = core.expireHistory(Math.floor(Date.now() / 1000) - days * 86400);
		if (gone) for (const c of core.cases()) syncMessages(c.id);
	}

	/* Writes the sealed state now, in "keep on this device" mode, without
	 * the history past historyDays; throws when it cannot. The core awaits
	 * it before each ack (beforeAck) and before each message leaves
	 * (beforeSend). */
	async function keepNow() {
		if (!vk || !core || S().mode !== 'device') return;
		expireHistory();
		clearTimeout(saveTimer);
		saveTimer = null;
		await storage.vaultWrite(storage.seal(sodium, vk, vaultPlain()), idb);
		set((s) => { s.saves += 1; });
	}

	async function saveNow() {
		saveTimer = null;
		try {
			await keepNow();
		} catch (e) {
			fail('err_save');
		}
	}

	function scheduleSave() {
		if (!vk || saveTimer) return;
		saveTimer = setTimeout(saveNow, 300);
	}

	/* ------------------------------------------------------------ intents */

	const intents = {
		setLanguage(lang) {
			const l = setLanguage(lang);
			set((s) => { s.lang = l; });
			scheduleSave();
		},
		setWish(k, v) {
			set((s) => { s.wishes[k] = v; });
		},
		setMode(m) {
			set((s) => { s.mode = m === 'device' ? 'device' : 'trace'; });
		},
		go(screen) {
			set((s) => {
				s.screen = screen;
				s.error = null;
				s.notice = null;
			});
		},
		dismiss: clearError,

		/* The one button: account, case, conversation. */
		async startClient({ passphrase = '', again = passphrase } = {}) {
			const s = S();
			if (s.busy) return;
			let intake;
			try {
				intake = intakeOf(s.wishes, s.lang);
			} catch (e) {
				return fail(e.code);
			}
			if (s.mode === 'device' && passphrase.length < storage.PASSPHRASE_MIN)
				return fail('err_passphrase_short', { n: storage.PASSPHRASE_MIN });
			if (s.mode === 'device' && passphrase !== again) return fail('err_passphrase_mismatch');
			// never overwrite what the device keeps: open it, or delete it first
			if (s.mode === 'device' && await storage.vaultMayExist(idb).catch(() => null) !== false)
				if (await storage.vaultRead(idb).catch(() => null)) return fail('err_vault_exists');
			set((st) => { st.busy = true; st.error = null; st.t0 = Date.now(); });
			try {
				if (s.mode === 'device') vk = storage.newVaultKey(sodium, passphrase, config.kdf);
				await makeCore(undefined);
				role = 'client';
				const account = await core.login({ role: 'client' });
				set((st) => { st.me = account; });
				await openClientCase(intake);
				if (vk) await saveNow();
			} catch (e) {
				fail(e);
			}
		},

		/* Leave no trace, next visit: the recovery code (text or file). */
		async restore(text) {
			if (S().busy) return;
			let bytes;
			try {
				bytes = decodeRecovery(sodium, extractCode(text));
			} catch {
				return fail('err_bad_code');
			}
			set((st) => { st.busy = true; st.error = null; st.mode = 'trace'; });
			try {
				await makeCore(bytes);
				const account = await core.login();
				role = account.role;
				set((st) => { st.me = account; });
				if (role === 'counsellor') await enterInbox();
				else {
					await openClientCase(null);
					// an empty conversation is not a lost one: this mode
					// kept nothing of it on any device
					set((st) => { st.notice = { key: 'notice_restored' }; });
				}
			} catch (e) {
				fail(e);
			}
		},

		/* Keep on this device, next visit: the passphrase. */
		async unlock(passphrase) {
			if (S().busy) return;
			set((st) => { st.busy = true; st.error = null; });
			try {
				const rec = await storage.vaultRead(idb);
				if (!rec) {
					set((st) => { st.vaultExists = false; });
					return fail('err_no_vault');
				}
				let opened;
				try {
					opened = storage.unseal(sodium, rec, passphrase);
				} catch {
					return fail('err_passphrase');
				}
				vk = opened.vk;
				const saved = JSON.parse(sodium.to_string(opened.plain));
				sodium.memzero(opened.plain);
				set((st) => {
					st.mode = 'device';
					if (saved.app && typeof saved.app.idleMinutes === 'number') st.idleMinutes = saved.app.idleMinutes;
					if (saved.app && HISTORY_DAYS.includes(saved.app.historyDays)) st.historyDays = saved.app.historyDays;
				});
				if (saved.app && saved.app.lang) intents.setLanguage(saved.app.lang);
				await makeCore(saved.core);
				expireHistory();	// gone from the device at the next seal
				const account = await core.login();
				role = account.role;
				set((st) => { st.me = account; });
				if (role === 'counsellor') await enterInbox();
				else await openClientCase(null);
			} catch (e) {
				fail(e);
			}
		},

		/* Forget what this device keeps (the unlock screen offers it). */
		async eraseDevice() {
			try {
				await storage.vaultErase(idb);
				set((st) => { st.vaultExists = false; st.screen = 'start'; st.notice = { key: 'notice_erased' }; });
			} catch (e) {
				fail('err_save');
			}
		},

		/*
		 * A client deletes its account: the server first (account.delete:
		 * its cases, messages, keys; the counsellor hears the case closed,
		 * not why), then everything here: memory, and the vault in "keep
		 * on this device" mode. Back to the start with a notice. When the
		 * server does not confirm (offline, refused, no answer), nothing
		 * here changes and the error says so. The view asks first.
		 */
		async eraseAccount() {
			const s = S();
			if (s.busy || !core || role !== 'client') return;
			set((st) => { st.busy = true; st.error = null; st.notice = null; });
			try {
				await core.deleteAccount();
			} catch (e) {
				const key = e && (e.code === 'connection' || e.code === 'timeout') ? 'err_erase_offline'
					: e && e.code === 'rate_limited' ? 'err_rate_limited' : 'err_erase_refused';
				return fail(key);
			}
			const device = s.mode === 'device', lang = s.lang;
			wipe();
			let left = false;
			if (device) {
				try {
					await storage.vaultErase(idb);
				} catch {
					left = true;
				}
			}
			set((st) => {
				st.lang = lang;
				st.vaultExists = device && !left ? false : st.vaultExists;
				st.notice = { key: 'notice_account_erased' };
				if (left) st.error = { key: 'err_erase_device_left' };
			});
		},

		/*
		 * Anonymous feedback on the client's closed case id (the view's
		 * form): fb {helpful, recommend: true|false|null, text}. Sent once;
		 * the server's "limit" means it was given before: said so, and
		 * the form goes as after a send. With no admin key the page can
		 * trust, the ratings go and the text does not, and the page says
		 * so. Otherwise what was entered stays, with the error.
		 */
		async sendFeedback(id, fb) {
			if (S().busy || !core || role !== 'client') return;
			const text = typeof fb.text === 'string' && fb.text.trim() ? fb.text : null;
			const given = { helpful: fb.helpful ?? null, recommend: fb.recommend ?? null, text };
			if (given.helpful === null && given.recommend === null && text === null) return fail('err_feedback_empty');
			set((st) => { st.busy = true; st.error = null; st.notice = null; });
			let said;
			try {
				const r = await core.sendFeedback(id, given);
				said = r.text === 'not_sent' ? 'feedback_sent_no_text' : 'feedback_sent';
			} catch (e) {
				const code = e && e.code;
				if (code !== 'limit') {
					return fail(code === 'connection' || code === 'timeout' ? 'err_feedback_offline'
						: e.reason === 'no_admin' ? 'err_feedback_no_admin'
							: code === 'usage' ? 'err_feedback_text'
								: code === 'rate_limited' ? 'err_rate_limited' : 'err_feedback_refused');
				}
				said = 'feedback_already';
			}
			set((st) => {
				st.busy = false;
				delete st.feedbackDrafts[id];
				st.feedbackSaid = { id, key: said };
			});
			syncCases();
		},
		/* Whether the feedback text of closed case id could go (asked
		 * when its form opens, and again, if it could not, when the text
		 * field is entered: again true): 'no' when no admin of the
		 * programme has a key this page can trust, so that the form says
		 * so before anything is written. No answer (offline) leaves it
		 * not known, asked again at the next sync (a connection back);
		 * another failure leaves it 'unknown', not asked again; the form
		 * stays as it is meanwhile, and the send says what became of the
		 * text. */
		async checkFeedback(id, again = false) {
			const was = S().feedbackReach[id];
			if (!core || role !== 'client' || (was && !(again && was === 'no')) || reachAsked.has(id)) return;
			const asked = core;
			reachAsked.add(id);
			let reach;
			try {
				reach = (await asked.feedbackReach(id)) > 0 ? 'yes' : 'no';
			} catch (e) {
				// no answer (offline): asked again; a refusal: not (the
				// form stays as it is, the send says what became of the text)
				reach = was || (e && (e.code === 'connection' || e.code === 'timeout') ? null : 'unknown');
			}
			reachAsked.delete(id);
			if (asked !== core) return;	// another account since
			set((st) => {
				if (reach) st.feedbackReach[id] = reach;
				else delete st.feedbackReach[id];
			});
		},
		/* No thanks: the form goes for that case, nothing is sent. */
		skipFeedback(id) {
			if (!core) return;
			core.dismissFeedback(id);
			set((st) => {
				delete st.feedbackDrafts[id];
				if (st.error && st.error.key.startsWith('err_feedback')) st.error = null;
			});
			syncCases();
		},
		/* What the form holds so far (kept while the page lives: a new
		 * language mounts the view again). */
		feedbackDraft(id, fb) {
			set((st) => { st.feedbackDrafts[id] = { helpful: fb.helpful ?? null, recommend: fb.recommend ?? null, text: fb.text || '' }; });
		},

		setHistoryDays(n) {
			if (!HISTORY_DAYS.includes(n)) return;
			set((s) => { s.historyDays = n; });
			scheduleSave();
		},

		/* A counsellor redeems an invite; the keys are made here. */
		async join({ invite, name, languages, topics, passphrase }) {
			if (S().busy) return;
			const list = (v) => String(v || '').split(/[\s,]+/).map((x) => x.toLowerCase()).filter(Boolean);
			const profile = { languages: list(languages), topics: list(topics) };
			if (!invite.trim() || !name.trim()) return fail('err_join_fields');
			if ([...profile.languages, ...profile.topics].some((x) => !TOKEN.test(x))) return fail('err_tokens');
			if (!profile.languages.length) delete profile.languages;
			if (!profile.topics.length) delete profile.topics;
			if (passphrase.length < storage.PASSPHRASE_MIN) return fail('err_passphrase_short', { n: storage.PASSPHRASE_MIN });
			if (await storage.vaultMayExist(idb).catch(() => null) !== false)
				if (await storage.vaultRead(idb).catch(() => null)) return fail('err_vault_exists');
			set((st) => { st.busy = true; st.error = null; st.mode = 'device'; });
			try {
				vk = storage.newVaultKey(sodium, passphrase, config.kdf);
				await makeCore(undefined);
				role = 'counsellor';
				const account = await core.redeem(invite.trim(), name.trim(), profile);
				set((st) => { st.me = account; });
				await saveNow();
				await enterInbox();
			} catch (e) {
				if (!core || !core.account) { vk = null; }
				fail(e);
			}
		},

		draft(id, text) {
			set((s) => { s.drafts[id] = text; });
		},

		/* Accepts or declines the meeting, or accepts the agreement, of
		 * message mid of key from. */
		answer(id, from, mid, action) {
			try {
				core.answer(id, from, mid, action);
			} catch (e) {
				fail(e);
				return;
			}
			syncMessages(id);
		},

		/* Proposes a meeting or the agreement, or sends a referral card
		 * (core.propose); true when it is in the outbox. */
		propose(id, item) {
			return queueSend(id, () => core.propose(id, item));
		},

		/* The external partners of the counsellor's programme
		 * (partner.directory), or null when it could not be read. */
		async externalPartners() {
			try {
				const r = await core.request({ type: 'partner.directory' });
				return r.external || [];
			} catch (e) {
				fail(e);
				return null;
			}
		},

		/* Refers case id to an external partner: the card, then
		 * case.referred (core.refer); true when both went through. */
		async refer(id, card) {
			const p = core.refer(id, card);
			syncMessages(id);
			const r = await act(() => p);
			syncMessages(id);
			if (r) set((s) => { s.notice = { key: 'tool_referred' }; });
			return !!r;
		},

		/* The counsellor's referral to a partner programme (referral.js). */
		async partners() {
			try {
				return await core.partners();
			} catch (e) {
				fail(e);
				return null;
			}
		},
		async referralPropose(id, partner, why) {
			const r = await act(() => core.referralPropose(id, partner, why));
			syncMessages(id);
			return !!r;
		},
		referralDraft(id, text) {
			return queueSend(id, () => core.referralDraft(id, text));
		},
		referralSummary(id, text) {
			return queueSend(id, () => core.referralSummary(id, text));
		},
		referralComplete: (id) => act(() => core.referralComplete(id)),

		/* Returns true when the text is in the outbox (the composer may clear). */
		send(id, text) {
			if (!text.trim()) return false;
			try {
				core.send(id, text);
			} catch (e) {
				fail(e);
				return false;
			}
			set((s) => {
				s.drafts[id] = '';
				s.error = null;
			});
			syncMessages(id);
			return true;
		},

		showRecovery() {
			try {
				const code = encodeRecovery(sodium, core.exportRecovery());
				set((s) => { s.recovery = code; });
			} catch (e) {
				fail(e);
			}
		},
		hideRecovery() {
			set((s) => { s.recovery = null; });
		},

		/* The user compared number (the one shown) for key: only that is verified. */
		verify(id, key, number) {
			try {
				core.verify(id, key, number);
			} catch (e) {
				syncCases();
				return fail(e);
			}
			syncCases();
		},

		/* The user compared the fingerprint of an offered programme key and said yes. */
		async trustProgramme(key) {
			const p = S().untrusted.find((x) => x.key === key);
			if (!p) return;
			try {
				await core.trustProgramme(key, p.name, p.id);
			} catch (e) {
				fail(e);
			}
			syncUntrusted();
			syncCases();
		},
		/* Not now: not asked again while the page lives; nothing is sent to them. */
		trustLater(key) {
			set((s) => { if (!s.trustLater.includes(key)) s.trustLater.push(key); });
			syncUntrusted();
		},

		async closeCase(id) {
			// a closed request without a counsellor that this page did not
			// close has expired (PROTOCOL.md, "Waiting cases"); said before
			// the server's push of the close can arrive
			set((s) => { if (!s.closedHere.includes(id)) s.closedHere.push(id); });
			await act(() => core.closeCase(id));
		},
		async reassign(id) {
			await act(() => core.reassign(id));
		},
		/* The user saw who joins (members: the version shown): the server may let them read. */
		async confirmMembers(id, members, keys) {
			await act(() => core.confirmMembers(id, members, keys));
		},
		async removeColleague(id, key) {
			await act(() => core.removeColleague(id, key));
		},
		/* The counsellor brings a colleague in (case.invite); true when listed. */
		async inviteColleague(id, key, as) {
			const why = { bad_field: 'err_colleague_key', not_found: 'err_colleague_unknown', bad_state: 'err_colleague_state' };
			try {
				await core.inviteColleague(id, key, as);
				clearError();
				return true;
			} catch (e) {
				fail(why[e?.code] || e);
				return false;
			} finally {
				syncCases();
			}
		},
		/* The client's yes or no to a proposed referral (a yes to the
		 * partner the card showed). */
		async referralAnswer(id, accept, partner) {
			set((s) => { s.busy = true; });
			await act(() => core.referralAnswer(id, accept, partner));
			set((s) => { s.busy = false; });
		},
		/* The client withdraws its yes (the counsellor cancels its proposal). */
		async referralWithdraw(id) {
			await act(() => core.referralWithdraw(id));
		},
		/* The client's request for changes to the summary draft, to the
		 * counsellor who wrote it (key) alone: true when queued. */
		askChanges(id, key, text) {
			if (!text.trim()) return false;
			return queueSend(id, () => core.send(id, text, { to: key }));
		},
		/* The client approves the summary draft it read (text, as shown). */
		async approveSummary(id, text) {
			await act(() => core.referralApprove(id, text));
		},
		/* The client's case is closed: a new request with the same wishes. */
		async newRequest() {
			let intake;
			try {
				intake = intakeOf(S().wishes, S().lang);
			} catch (e) {
				return fail(e.code);
			}
			set((s) => { s.current = null; });
			try {
				await openClientCase(intake, true);
			} catch (e) {
				fail(e);
			}
		},

		/* counsellors */
		openCase(id) {
			set((s) => {
				s.current = id;
				s.newCases = s.newCases.filter((x) => x !== id);
				if (s.notice && s.notice.key === 'notice_new_case') s.notice = null;
			});
			try {
				core.markRead(id);
			} catch { /* not known yet */ }
			syncCases();
			syncMessages(id);
			loadNotes(id);
		},
		closeView() {
			set((s) => { s.current = null; });
		},
		async take(id) {
			// one the queue still showed but another counsellor took, or its
			// client ended meanwhile: said as such, not as "not yours"
			// (bad_state is also a case already this counsellor's, a second
			// press or tab: opened then)
			const mine = () => core.cases().find((x) => x.id === id && x.status !== 'closed' &&
				x.participants.some((p) => p.me && p.as === 'counsellor'));
			const c = await act(() => core.take(id).catch((e) => {
				if (e && e.code === 'bad_state' && mine()) return mine();
				throw (e && (e.code === 'not_found' || e.code === 'bad_state')) ? 'err_taken' : e;
			}));
			if (c) intents.openCase(c.id);
			refreshQueue();
		},
		pause: (id) => act(() => core.pause(id)),
		resume: (id) => act(() => core.resume(id)),
		reopen: (id) => act(() => core.reopen(id)),
		refreshQueue: () => refreshQueue(),
		async addNote(id, text) {
			if (!text.trim()) return false;
			try {
				await core.addNote(id, text);
			} catch (e) {
				fail(e);
				return false;
			}
			await loadNotes(id);
			return true;
		},
		setIdleMinutes(n) {
			set((s) => { s.idleMinutes = n; });
			activity();
			scheduleSave();
		},
		async setPresence(p) {
			const r = await act(() => core.setPresence(p));
			if (r) set((s) => { s.presence = p; });
		},

		quickExit() {
			quickExit({ url: config.exitUrl, win, wipe: () => wipe() });
		},
	};

	/* Queues what fn puts in case id's outbox (a text to one participant
	 * alone, a meeting, the agreement, a card): true when queued. */
	function queueSend(id, fn) {
		try {
			fn();
		} catch (e) {
			fail(e);
			return false;
		}
		clearError();
		syncMessages(id);
		return true;
	}

	async function act(fn) {
		try {
			const r = await fn();
			clearError();
			syncCases();
			return r || true;
		} catch (e) {
			fail(e);
			syncCases();
			return null;
		}
	}

	async function openClientCase(intake, fresh = false) {
		let cases = core.cases();
		let open = fresh ? null : cases.find((c) => c.status !== 'closed');
		if (!open && !cases.length && !intake) {
			// restored account with no case left: back to the start, logged in
			await core.refreshCases();
			cases = core.cases();
			open = cases.find((c) => c.status !== 'closed');
		}
		if (!open && intake) {
			try {
				open = await core.requestCase(intake);
			} catch (e) {
				if (e.code !== 'case_open') throw e;
				await core.refreshCases();
				open = core.cases().find((c) => c.status !== 'closed');
				if (!open) throw e;
			}
		}
		if (!open) open = cases[0] || null;
		if (!open) {
			set((s) => { s.busy = false; s.screen = 'start'; });
			return;
		}
		syncCases();
		set((s) => {
			s.current = open.id;
			s.busy = false;
			s.screen = 'conversation';
			s.error = null;
			s.notice = null;
			if (s.t0) s.startMs = Date.now() - s.t0;
		});
		syncMessages(open.id);
	}

	async function enterInbox() {
		await core.refreshCases().catch(() => {});
		syncCases();
		set((s) => {
			s.busy = false;
			s.screen = 'inbox';
			s.error = null;
			s.notice = null;
			s.presence = 'online';
		});
		await core.setPresence('online').catch((e) => fail(e));
		refreshQueue();
		startIdleWatch();
		if (!queueTimer) queueTimer = setInterval(refreshQueue, 20000);
	}

	async function refreshQueue() {
		if (!core || role !== 'counsellor' || core.connection !== 'online') return;
		try {
			const q = await core.queue();
			set((s) => { s.queue = q; });
			// a referral from a partner programme is shown with its name
			askProgrammes(q.map((x) => x.referred_by));
		} catch { /* shown when it matters: a take that fails */ }
	}

	async function loadNotes(id) {
		// notes are the case's own counsellor's: a colleague has none to ask for
		const c = S().cases[id]?.case;
		if (c && c.participants.find((p) => p.me)?.as !== 'counsellor') return;
		try {
			const notes = await core.notes(id);
			set((s) => { if (s.cases[id]) s.cases[id].notes = notes; });
		} catch (e) {
			fail(e);
		}
	}

	/* "away" after idleMinutes without input; "online" again at the next input */
	function activity() {
		if (role !== 'counsellor' || !core) return;
		clearTimeout(idleTimer);
		idleTimer = setTimeout(goAway, S().idleMinutes * 60000);
		if (S().presence === 'away' && S().autoAway) {
			set((s) => { s.presence = 'online'; s.autoAway = false; });
			core.setPresence('online').catch(() => {});
		}
	}
	function goAway() {
		if (S().presence !== 'online') return;
		set((s) => { s.presence = 'away'; s.autoAway = true; });
		core.setPresence('away').catch(() => {});
	}
	function startIdleWatch() {
		for (const ev of ['pointerdown', 'keydown', 'focus', 'wheel', 'touchstart'])
			win.addEventListener(ev, activity, { passive: true, capture: true });
		// best effort: a closed tab takes no new cases (the server cannot tell)
		win.addEventListener('pagehide', () => {
			if (core && core.connection === 'online') core.setPresence('offline').catch(() => {});
		});
		activity();
	}

	/* Quick exit: in leave-no-trace mode nothing may stay in memory. */
	function wipe() {
		clearTimeout(saveTimer);
		clearTimeout(idleTimer);
		clearTimeout(calmTimer);
		clearInterval(queueTimer);
		for (const u of unsubs) {
			try { u(); } catch { /* gone */ }
		}
		unsubs = [];
		try {
			if (core) core.logout();
		} catch { /* leaving */ }
		core = null;
		storage.wipeKey(sodium, vk);
		vk = null;
		store.reset();
	}

	/* for tests and the build's timing line */
	intents._core = () => core;
	intents._wipe = wipe;
	return intents;
}

/* A recovery code from text or a recovery file's content. */
export function extractCode(text) {
	const lines = String(text).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
	const code = lines.find((l) => /^[0-9A-Za-z]{4}(-[0-9A-Za-z]{1,4})+$/.test(l));
	return code || String(text).trim();
}
