// The intents without a browser: a fake core (the API of core.js, in
// memory) and the real store. What the views would show is read from the
// one state object.
import test from 'node:test';
import assert from 'node:assert/strict';
import sodium from 'libsodium-wrappers-sumo';
import { createStore } from '../src/app/store.js';
import { createController, intakeOf, programmeOfFragment } from '../src/app/controller.js';
import { decodeRecovery } from '../src/app/recovery.js';

await sodium.ready;
const tick = () => new Promise((r) => setTimeout(r, 0));

class FakeCore {
	constructor(opts) {
		this.opts = opts;
		this.handlers = {};
		this.list = [];
		this.msgs = {};
		this.loggedOut = false;
		this.connection = 'offline';
	}
	on(name, fn) {
		(this.handlers[name] ||= []).push(fn);
		return () => {};
	}
	emit(name, ev) {
		for (const fn of this.handlers[name] || []) fn(ev);
	}
	get account() { return this.acct || null; }
	async login() {
		this.connection = 'online';
		this.emit('connection', { state: 'online' });
		this.acct = { key: 'K', role: 'client', name: 'quiet-heron-42', programme: null };
		return this.acct;
	}
	cases() { return this.list.map((c) => ({ ...c })); }
	caseOf(id) { return this.list.find((c) => c.id === id) || null; }
	async refreshCases() { return this.cases(); }
	messages(id) { return (this.msgs[id] || []).map((m) => ({ ...m })); }
	markRead() {}
	safety() { return []; }
	async requestCase(intake) {
		this.intake = intake;
		const c = { id: 7, status: 'waiting', language: intake.language, topic: null, urgency: 'normal', created: 1, updated: 1,
			participants: [{ key: 'K', role: 'client', name: 'quiet-heron-42', me: true }], blocked: false };
		this.list.push(c);
		return { ...c };
	}
	send(id, text) {
		if (text === 'boom') throw Object.assign(new Error('case_closed'), { code: 'case_closed' });
		const m = { mid: `m${text}`, caseId: id, from: 'K', name: 'quiet-heron-42', mine: true, text, ts: 2, state: 'queued' };
		(this.msgs[id] ||= []).push(m);
		return m;
	}
	async referralAnswer(id, accept, partner) {
		this.answered = [id, accept, partner];
		if (accept && this.referralFails) throw Object.assign(new Error('crypto'), { code: 'crypto', reason: this.referralFails });
		return this.caseOf(id);
	}
	exportRecovery() { return Uint8Array.from([1, 2, 3, 4, 5]); }
	untrustedProgrammes() { return (this.offered || []).filter((p) => !(this.trusted || []).includes(p.key)); }
	async trustProgramme(key, name, id) { (this.trusted ||= []).push(key); this.trustedAs = [key, name, id]; }
	verify(id, key, number) { this.verified = [id, key, number]; return []; }
	logout() { this.loggedOut = true; }
	async sendFeedback(id, fb) {
		this.feedbackGiven = fb;
		if (this.feedbackFails) throw Object.assign(new Error(this.feedbackFails), { code: this.feedbackFails, reason: this.feedbackReason });
		return { text: this.feedbackText || 'sealed' };
	}
	dismissFeedback(id) { this.dismissed = id; }
	async feedbackReach(id) {
		this.reachAsked = (this.reachAsked || 0) + 1;
		if (this.reachFails) throw Object.assign(new Error(this.reachFails), { code: this.reachFails });
		return this.admins ?? 1;
	}
	async deleteAccount() {
		if (this.deleteFails) throw Object.assign(new Error(this.deleteFails), { code: this.deleteFails });
		this.deleted = true;
		this.logout();
	}
}

function setup() {
	const store = createStore();
	let core;
	const replaced = [];
	const win = { location: { replace: (u) => replaced.push(u) }, document: { body: {}, title: 'x' },
		addEventListener() {}, removeEventListener() {} };
	const intents = createController({
		store, sodium,
		createCore: async (o) => (core = new FakeCore(o)),
		config: { url: 'ws://x/', WebSocket: class {}, pins: [[1, 'AA']], exitUrl: 'https://neutral.example/', win, idb: null },
	});
	return { store, intents, replaced, core: () => core };
}

test('one intent from the start screen to a waiting conversation, with the wishes as intake', async () => {
	const { store, intents, core } = setup();
	intents.setWish('topic', 'family');
	intents.setWish('gender', '');
	await intents.startClient();
	const s = store.state;
	assert.equal(s.screen, 'conversation');
	assert.equal(s.current, 7);
	assert.equal(s.cases[7].case.status, 'waiting');
	assert.deepEqual(core().intake, { language: 'en', topic: 'family' });
	assert.deepEqual(core().opts.pins, [[1, 'AA']], 'the built-in pins reach the core');
	assert.equal(s.error, null);
});

test('typing while waiting: the text goes to the outbox; a refused send keeps it and says why', async () => {
	const { store, intents } = setup();
	await intents.startClient();
	intents.draft(7, 'hello');
	assert.equal(intents.send(7, 'hello'), true);
	assert.equal(store.state.drafts[7], '');
	assert.equal(store.state.cases[7].messages[0].state, 'queued');
	intents.draft(7, 'boom');
	assert.equal(intents.send(7, 'boom'), false, 'the composer keeps the text');
	assert.equal(store.state.drafts[7], 'boom');
	assert.deepEqual(store.state.error, { key: 'err_case_closed', vars: undefined });
});

test('a yes the page could not check is not sent: the page says why and is not left busy; a no goes', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	core().referralFails = 'referral_unchecked';
	await intents.referralAnswer(7, true);
	assert.deepEqual(store.state.error, { key: 'err_referral_unchecked', vars: undefined });
	assert.equal(store.state.busy, false);
	await intents.referralAnswer(7, false);
	assert.deepEqual(core().answered, [7, false, undefined]);
	core().referralFails = null;
	await intents.referralAnswer(7, true, 2);
	assert.deepEqual(core().answered, [7, true, 2], 'the partner the card showed goes to the core');
	assert.equal(store.state.error, null);
});

test('the recovery code carries the core recovery bytes', async () => {
	const { store, intents } = setup();
	await intents.startClient();
	intents.showRecovery();
	assert.deepEqual([...decodeRecovery(sodium, store.state.recovery)], [1, 2, 3, 4, 5]);
});

test('quick exit in leave-no-trace mode: the core is let go, the state forgotten, the page replaced', async () => {
	const { store, intents, replaced, core } = setup();
	await intents.startClient();
	intents.send(7, 'secret text');
	const c = core();
	intents.quickExit();
	assert.deepEqual(replaced, ['https://neutral.example/']);
	assert.equal(c.loggedOut, true);
	assert.deepEqual(store.state.cases, {});
	assert.equal(store.state.me, null);
	assert.ok(!JSON.stringify(store.state).includes('secret text'));
	await tick();
});

test('deleting the account: nothing changes while the server does not confirm; then everything is forgotten', async () => {
	const { store, intents, core } = setup();
	intents.setLanguage('de');
	await intents.startClient();
	intents.send(7, 'secret text');
	const c = core();
	for (const [code, key] of [['connection', 'err_erase_offline'], ['timeout', 'err_erase_offline'], ['forbidden', 'err_erase_refused']]) {
		c.deleteFails = code;
		await intents.eraseAccount();
		assert.equal(store.state.error.key, key, code);
		assert.equal(store.state.screen, 'conversation');
		assert.equal(store.state.busy, false);
		assert.equal(c.loggedOut, false);
		assert.ok(JSON.stringify(store.state).includes('secret text'));
	}
	c.deleteFails = null;
	await intents.eraseAccount();
	assert.equal(c.deleted, true);
	assert.equal(c.loggedOut, true);
	assert.equal(store.state.screen, 'start');
	assert.equal(store.state.notice.key, 'notice_account_erased');
	assert.equal(store.state.error, null);
	assert.equal(store.state.me, null);
	assert.equal(store.state.lang, 'de');
	assert.ok(!JSON.stringify(store.state).includes('secret text'));
	assert.equal(intents._core(), null);
	intents.setLanguage('en');
	await tick();
});

test('feedback: nothing given is not sent; an error keeps the form\'s draft; sent, "limit" and "No thanks" end it', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	const c = core();
	await intents.sendFeedback(7, { helpful: null, recommend: null, text: '  ' });
	assert.equal(store.state.error.key, 'err_feedback_empty');
	assert.equal(c.feedbackGiven, undefined, 'nothing asked of the core');
	intents.feedbackDraft(7, { helpful: true, recommend: null, text: 'kind words' });
	for (const [code, reason, key] of [['connection', undefined, 'err_feedback_offline'], ['crypto', 'no_admin', 'err_feedback_no_admin'],
		['bad_state', undefined, 'err_feedback_refused']]) {
		c.feedbackFails = code;
		c.feedbackReason = reason;
		await intents.sendFeedback(7, { helpful: true, recommend: null, text: 'kind words' });
		assert.equal(store.state.error.key, key, code);
		assert.equal(store.state.busy, false);
		assert.equal(store.state.feedbackDrafts[7].text, 'kind words', 'what was typed stays');
	}
	c.feedbackFails = null;
	c.feedbackText = 'not_sent';
	await intents.sendFeedback(7, { helpful: true, recommend: false, text: 'kind words' });
	assert.deepEqual(c.feedbackGiven, { helpful: true, recommend: false, text: 'kind words' });
	assert.deepEqual(store.state.feedbackSaid, { id: 7, key: 'feedback_sent_no_text' });
	assert.equal(store.state.feedbackDrafts[7], undefined);
	c.feedbackFails = 'limit';
	await intents.sendFeedback(7, { helpful: false });
	assert.deepEqual(store.state.feedbackSaid, { id: 7, key: 'feedback_already' });
	assert.equal(store.state.error, null);
	intents.skipFeedback(8);
	assert.equal(c.dismissed, 8);
});

test('feedback: whether a text could go is asked once the form opens, and again on entering the text when it could not', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	const c = core();
	c.admins = 0;
	c.list[0].status = 'closed';
	c.list[0].participants.push({ key: 'S', role: 'counsellor', name: 'Sam' });
	c.emit('connection', { state: 'online' });	// the cases synced: the form is open
	await tick();
	assert.equal(store.state.feedbackReach[7], 'no', 'no admin key the page can trust');
	assert.equal(c.reachAsked, 1);
	c.emit('connection', { state: 'online' });
	await tick();
	assert.equal(c.reachAsked, 1, 'a "no" is not asked again at each sync');
	c.reachFails = 'connection';
	await intents.checkFeedback(7, true);
	assert.equal(store.state.feedbackReach[7], 'no', 'no answer: the "no" stays said');
	delete store.state.feedbackReach[7];
	c.emit('connection', { state: 'online' });
	await tick();
	assert.equal(store.state.feedbackReach[7], undefined, 'no answer, nothing known before: nothing said');
	c.reachFails = null;
	c.emit('connection', { state: 'online' });	// back: asked again
	await tick();
	assert.equal(store.state.feedbackReach[7], 'no');
	c.admins = 2;
	await intents.checkFeedback(7, true);
	assert.equal(store.state.feedbackReach[7], 'yes', 'asked again on entering the text: now it could go');
	const asked = c.reachAsked;
	await intents.checkFeedback(7, true);
	c.emit('connection', { state: 'online' });
	await tick();
	assert.equal(c.reachAsked, asked, 'a "yes" is not asked again');
	// a refusal (not a lost connection): not known, and not asked again
	// at every sync
	delete store.state.feedbackReach[7];
	c.reachFails = 'rate_limited';
	c.emit('connection', { state: 'online' });
	await tick();
	assert.equal(store.state.feedbackReach[7], 'unknown');
	c.emit('connection', { state: 'online' });
	await tick();
	assert.equal(c.reachAsked, asked + 1);
});

test('a bad region or a short passphrase is refused before anything is made', async () => {
	const { store, intents, core } = setup();
	intents.setWish('region', 'Köln!');
	await intents.startClient();
	assert.equal(store.state.error.key, 'err_region');
	intents.setWish('region', '');
	intents.setMode('device');
	await intents.startClient({ passphrase: 'short' });
	assert.equal(store.state.error.key, 'err_passphrase_short');
	assert.equal(core(), undefined, 'no core, no key made');
});

test('a programme number and intake code from the start screen: checked, then in the intake', async () => {
	assert.deepEqual(intakeOf({ programme: ' 12 ', intake_code: ' Flyer-42 ' }, 'de'),
		{ language: 'de', programme: 12, intake_code: 'Flyer-42' });
	assert.deepEqual(intakeOf({ programme: '12' }, 'en'), { language: 'en', programme: 12 }, 'a programme asking no code');
	const bad = (w) => { try { intakeOf(w, 'en'); } catch (e) { return e.code; } return null; };
	assert.equal(bad({ programme: '1x' }), 'err_programme_number');
	assert.equal(bad({ programme: '012' }), 'err_programme_number');
	assert.equal(bad({ programme: '99999999999999999' }), 'err_programme_number', 'beyond 2^53');
	assert.equal(bad({ intake_code: 'Flyer-42' }), 'err_code_without_programme');
	assert.equal(bad({ programme: '3', intake_code: 'no spaces' }), 'err_bad_intake_code');
	assert.equal(bad({ programme: '3', intake_code: 'x'.repeat(65) }), 'err_bad_intake_code');

	const { store, intents, core } = setup();
	intents.setWish('intake_code', 'Flyer-42');
	await intents.startClient();
	assert.equal(store.state.error.key, 'err_code_without_programme');
	assert.equal(core(), undefined, 'refused before any key is made');
	intents.setWish('programme', '3');
	await intents.startClient();
	assert.deepEqual(core().intake, { language: 'en', programme: 3, intake_code: 'Flyer-42' });
});

test('an active conversation that the counsellor ends, or leaves: said to the screen reader', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	const c = core();
	c.list[0].status = 'closed';
	c.emit('case', { case: { ...c.list[0] }, previous: { status: 'active' } });
	await tick();
	assert.equal(store.state.lastAnnounce, 'This conversation has ended');
	c.list[0].status = 'waiting';
	c.emit('case', { case: { ...c.list[0] }, previous: { status: 'active' } });
	await tick();
	assert.equal(store.state.lastAnnounce, 'Waiting for a counsellor', 'back in the queue (its counsellor left)');
});

test('a link fragment gives a programme number, nothing else', () => {
	assert.equal(programmeOfFragment('#programme=12'), '12');
	for (const h of ['', '#', '#programme=', '#programme=0', '#programme=12&code=x', '#code=x', '#programme=1e3', null])
		assert.equal(programmeOfFragment(h), null, String(h));
});

test('a waiting request that closes: expired, unless this page closed it', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	const c = core();
	c.list[0].status = 'closed';
	c.emit('case', { case: { ...c.list[0] }, previous: { status: 'waiting' } });
	await tick();
	assert.equal(store.state.lastAnnounce, 'Your request has ended', 'the screen reader hears it');
	assert.deepEqual(store.state.closedHere, []);
	c.closeCase = async () => {};
	await intents.closeCase(7);
	assert.deepEqual(store.state.closedHere, [7], 'closed here: not expired');
});

test('a programme key offered: asked about, "Not now" hides it, "Trust" passes what was shown to the core', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	const p = { id: 3, name: 'Exit North', key: 'PK', fingerprint: '1a2b 3c4d 5e6f 7a8b 9c0d' };
	core().offered = [p];
	core().emit('untrusted-programme', { caseId: 7, programme: p });
	await tick();
	assert.deepEqual(store.state.untrusted, [p]);
	intents.trustLater('PK');
	assert.deepEqual(store.state.untrusted, [], 'not asked again while the page lives');
	assert.equal(core().trusted, undefined, 'nothing trusted by "Not now"');
	store.update((s) => { s.trustLater = []; });
	core().emit('untrusted-programme', { caseId: 7, programme: p });
	await intents.trustProgramme('PK');
	assert.deepEqual(core().trustedAs, ['PK', 'Exit North', 3]);
	assert.deepEqual(store.state.untrusted, []);
	// a rotation is told; background refusals of an untrusted key are not errors (the question is)
	core().emit('programme-rotated', { name: 'Exit North', programme: 3, from: 'A', to: 'B', fingerprint: 'x' });
	assert.deepEqual(store.state.notice, { key: 'notice_programme_rotated', vars: { name: 'Exit North' } });
	core().emit('error', { code: 'crypto', reason: 'untrusted_programme', request: 'msg.send' });
	assert.equal(store.state.error, null);
	// the server's key changed: said in plain words
	core().emit('error', { code: 'crypto', reason: 'server_key_changed', request: 'login' });
	assert.equal(store.state.error.key, 'err_server_key_changed');
	// verify passes the number that was shown
	intents.verify(7, 'CK', '12345 67890');
	assert.deepEqual(core().verified, [7, 'CK', '12345 67890']);
});

test('case events in one task (a slice of a listing, at most 4 from the real core; 100 here) sync the view once, after them', async () => {
	const { store, intents, core } = setup();
	await intents.startClient();
	const c = core();
	await tick();
	let built = 0;
	const cases = c.cases.bind(c);
	c.cases = () => { built++; return cases(); };
	for (let i = 0; i < 100; i++) {
		const k = { ...c.list[0], id: 100 + i, status: 'closed' };
		c.list.push(k);
		c.emit('case', { case: { ...k }, previous: null });
	}
	assert.equal(built, 0, 'nothing built while the events come');
	await tick();
	assert.equal(built, 1, 'one view of them all');
	assert.equal(store.state.order.length, 101, 'every case in it');
});
