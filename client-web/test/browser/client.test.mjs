// The client's path end to end against the real server and a CLI
// counsellor (Sam): one button to a waiting case, typing while waiting
// (sent encrypted once Sam comes), Sam's reply decrypted in the page, the
// safety number equal to the CLI's, an undecryptable message shown and not
// dropped, "leave no trace" writing nothing to the device, the recovery
// code, quick exit, and coming back with the code; after the close, the
// feedback form, read by the CLI admin. A client keeping its
// conversation on the device deletes its account from the page: the
// server forgets the case, the device its vault. On a phone, Enter
// starts a new line and the Send button sends.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('client');
	await H.launch(env);
});
test.after(() => env && env.close());

const digits = (s) => s.replace(/[^0-9]/g, '');

/* Nothing of the page on the device: no database, storage, cookie, worker. */
async function assertNoTrace(page) {
	const left = await page.evaluate(async () => ({
		idb: (await indexedDB.databases()).map((d) => d.name),
		local: localStorage.length,
		session: sessionStorage.length,
		cookie: document.cookie,
		workers: (await navigator.serviceWorker.getRegistrations()).length,
		caches: (await caches.keys()).length,
	}));
	assert.deepEqual(left, { idb: [], local: 0, session: 0, cookie: '', workers: 0, caches: 0 });
	assert.deepEqual(await page.context().cookies(), []);
}

test('a client: one button, typing while waiting, a reply, safety number, no trace, recovery', async () => {
	H.cliOk(env, 'couns', ['profile', '--presence', 'away']);	// so that the case waits
	const page = await H.newPage(env, { allowExit: true });
	const t0 = Date.now();
	await page.goto(env.url);
	const start = page.getByRole('button', { name: 'Start a conversation' });
	await start.waitFor();
	const t1 = Date.now();
	// a topic (Sam takes it): a constraint, said while waiting
	await page.getByText('Wishes for your counsellor (optional)').click();
	await page.locator('select[name="topic"]').selectOption('leaving');
	await start.click();
	await page.getByRole('heading', { name: 'Waiting for a counsellor' }).waitFor({ timeout: 20000 });
	assert.match(await page.locator('#waiting-topic').innerText(), /^You chose a topic: only counsellors who take it can answer/);
	const t2 = Date.now();
	console.log(`start→waiting: ${t2 - t0} ms from opening the page (${t2 - t1} ms from the button) to a logged-in, waiting case`);
	assert.ok(await page.getByText('You are in the queue').isVisible());
	assert.equal(await page.locator('#queue-position').innerText(), 'You are number 1 in the queue.', 'the queue place');
	assert.ok(await page.getByText('In an emergency').isVisible());
	const me = page.locator('.people li[data-role="client"]');
	assert.equal(await me.count(), 1, 'the participant list shows the client');

	// typing while waiting: kept, marked, sent once a counsellor comes
	const box = page.getByLabel('Your message');
	await box.fill('hello while waiting');
	await box.press('Enter');
	const mine = page.locator('.log li.mine', { hasText: 'hello while waiting' });
	await mine.waitFor();
	assert.equal(await mine.getAttribute('data-state'), 'queued');
	assert.match(await mine.locator('.meta').innerText(), /waiting to be sent/);
	await H.axe(page, 'waiting');
	await H.shot(page, '05-waiting');

	H.cliOk(env, 'couns', ['profile', '--presence', 'online']);
	await page.getByRole('heading', { name: 'Talking with Sam' }).waitFor({ timeout: 20000 });
	await H.waitFor('the queued message to be sent', async () => /^(sent|delivered)$/.test(await mine.getAttribute('data-state')));
	assert.match(await mine.locator('.meta').innerText(), /✓ sent|✓✓ delivered/);
	assert.match(await mine.locator('time').innerText(), /\d{1,2}:\d{2}/, 'a timestamp');
	const got = H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']);
	assert.match(got, /hello while waiting/);
	const caseId = got.split('\t')[0].trim();
	assert.match(caseId, /^\d+$/);
	// Sam's recv acked it: the receipt makes it "delivered", ticks not read out
	await H.waitFor('the message to be marked delivered', async () => (await mine.getAttribute('data-state')) === 'delivered');
	assert.match(await mine.locator('.meta').innerText(), /✓✓ delivered/);
	assert.equal(await mine.locator('.mark .ticks').getAttribute('aria-hidden'), 'true');

	// Sam answers from the CLI; the page decrypts it
	H.cliOk(env, 'couns', ['send', caseId, 'hello from Sam']);
	const reply = page.locator('.log li:not(.mine)', { hasText: 'hello from Sam' });
	await reply.waitFor({ timeout: 20000 });
	assert.match(await reply.locator('.who').innerText(), /Sam/);
	const people = await page.locator('.people').innerText();
	assert.match(people, /You/);
	assert.match(people, /Sam — counsellor/);

	// the safety number is the CLI's
	await page.getByText('Safety number', { exact: true }).click();
	const shown = await page.locator('.safety-digits').getAttribute('data-number');
	const cli = H.cliOk(env, 'couns', ['safety', caseId]);
	assert.equal(digits(shown).length, 60);
	const cliNumber = /((?:\d{5} ){11}\d{5}) (?:un)?verified/.exec(cli);
	assert.ok(cliNumber, cli);
	assert.equal(digits(shown), digits(cliNumber[1]), `page ${shown} vs CLI ${cli}`);
	assert.ok(await page.getByText(/proves that nobody, not even the server/).isVisible());

	// a message that does not decrypt is shown as such, not dropped
	const clientKey = await me.getAttribute('data-key');
	const junk = Buffer.alloc(200, 0x42).toString('base64');
	const mid = Buffer.alloc(16, 9).toString('base64');
	H.cliOk(env, 'couns', ['raw', '--login', '--count', '1', '--idle', '3'],
		`${JSON.stringify({ v: 1, type: 'msg.send', id: 1, case: Number(caseId), mid, copies: [{ to: clientKey, ct: junk }] })}\n`);
	const bad = page.locator('.log li.bad');
	await bad.waitFor({ timeout: 20000 });
	assert.match(await bad.innerText(), /could not be decrypted/);
	await H.axe(page, 'conversation');
	await H.shot(page, '06-conversation');

	// leave no trace: nothing written; the recovery code is offered
	await assertNoTrace(page);
	await page.getByRole('button', { name: 'Show my recovery code' }).click();
	const code = (await page.locator('#recovery-code').innerText()).trim();
	assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{1,4})+$/);
	assert.equal(await page.locator('#recovery-download').getAttribute('download'), 'recovery-code.txt');
	await H.axe(page, 'recovery code');
	await page.locator('#recovery-code').scrollIntoViewIfNeeded();
	await H.shot(page, '07-recovery-code');
	await assertNoTrace(page);

	// quick exit wipes and leaves
	await page.getByRole('button', { name: /Quick exit/ }).click();
	await page.waitForURL(`${H.EXIT_URL}**`, { timeout: 10000 });
	assert.deepEqual(page.foreign, [], 'no request to another origin');
	await page.context().close();
	shared.code = code;
	shared.caseId = caseId;
});

const shared = {};

test('later, on another device, the recovery code brings the conversation back', async () => {
	assert.ok(shared.code, 'the first test gave a recovery code');
	const { code, caseId } = shared;
	const again = await H.newPage(env);
	await again.goto(env.url);
	await again.getByRole('button', { name: 'I have a recovery code' }).click();
	await again.getByRole('textbox', { name: 'Recovery code' }).fill(code.toLowerCase().replace(/-/g, ' '));
	await again.getByRole('button', { name: 'Continue' }).click();
	await H.expectHeading(again, 'Talking with Sam');
	// said why the conversation looks empty (before: "No messages yet")
	assert.match(await again.locator('#notice').innerText(), /^You are back\. This mode keeps nothing on the device/);
	await again.getByLabel('Your message').fill('I am back');
	await again.getByLabel('Your message').press('Enter');
	await H.waitFor('the message after restore to be sent', async () =>
		/^(sent|delivered)$/.test(await again.locator('.log li.mine', { hasText: 'I am back' }).getAttribute('data-state')));
	assert.match(H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']), /I am back/);
	H.cliOk(env, 'couns', ['send', caseId, 'welcome back']);
	await again.locator('.log li:not(.mine)', { hasText: 'welcome back' }).waitFor({ timeout: 20000 });

	// compared out of band: marked verified
	await again.getByText('Safety number', { exact: true }).click();
	await again.getByRole('button', { name: 'We compared it: the numbers match' }).click();
	await again.getByText('You checked this number.').waitFor();

	// the language changes in the middle of a conversation; a draft stays
	await again.getByLabel('Your message').fill('a draft in progress');
	await again.getByLabel('Language of this page').selectOption('ar');
	// the Latin name isolated in the Arabic sentence (FSI .. PDI)
	await H.expectHeading(again, 'تتحدث مع \u2068Sam\u2069');
	assert.equal(await again.getAttribute('html', 'dir'), 'rtl');
	assert.equal(await again.getByLabel('رسالتك').inputValue(), 'a draft in progress');
	await H.axe(again, 'conversation (ar)');
	await H.shot(again, '12-conversation-ar');
	await again.getByLabel('لغة هذه الصفحة').selectOption('en');
	await H.expectHeading(again, 'Talking with Sam');

	// asking for another counsellor is asked again first (the one left
	// never comes back): one tap does nothing yet
	await again.getByRole('button', { name: 'Ask for another counsellor' }).click();
	const sure = again.getByRole('button', { name: 'Yes, someone else (this counsellor does not come back)' });
	await sure.waitFor();
	assert.equal(await again.evaluate(() => document.activeElement?.id), 'reassign-yes');
	await H.expectHeading(again, 'Talking with Sam');

	// the counsellor closes the case while the user types: said (the live
	// region too), and a new conversation offered; the focus goes to the
	// hint that says why the box is closed (before, to the page's body)
	await again.getByLabel('Your message').focus();
	H.cliOk(env, 'couns', ['close', caseId]);
	await H.expectHeading(again, 'This conversation has ended');
	assert.ok(await again.getByRole('button', { name: 'Start a new conversation' }).isVisible());
	assert.equal(await again.getByLabel('Your message').isDisabled(), true);
	assert.equal(await again.locator('#announce').innerText(), 'This conversation has ended');
	assert.equal(await again.evaluate(() => document.activeElement?.textContent), 'This conversation is closed.');
	await H.axe(again, 'closed');
	await H.shot(again, '11-closed');

	// the feedback form after the close. No admin has a key the page can
	// trust yet: said before anything is written (before, only after the
	// send, and the text was gone); the ratings could still go
	const fb = again.locator('#feedback');
	const noText = fb.locator('#fb-no-text');
	await noText.waitFor();
	assert.match(await noText.innerText(), /^A text cannot be sent here: this page could not check the key/);
	assert.match(await fb.getByLabel('Anything else you want to tell them?').getAttribute('aria-describedby'), /^fb-no-text /);
	await fb.scrollIntoViewIfNeeded();
	await H.shot(again, '13-feedback-no-text');
	// the admin's key certified: entering the text field asks again, and
	// the note goes; the text is sealed to the admin, read by the CLI
	H.cliOk(env, 'admin', ['programme-key', 'admin-cert', '--signing-key', path.join(env.ids, 'admin.pkey'),
		'--signing-passphrase-file', path.join(env.ids, 'admin.ppass')]);
	await fb.getByLabel('Anything else you want to tell them?').focus();
	await noText.waitFor({ state: 'hidden' });
	await fb.getByRole('group', { name: 'Was this helpful?' }).getByLabel('Yes').check();
	await fb.getByRole('group', { name: 'Would you recommend it?' }).getByLabel('No').check();
	const note = `thank you Sam ${Date.now()} — شكرا`;
	await fb.getByLabel('Anything else you want to tell them?').fill(note);
	assert.equal(await fb.locator('.counter').innerText(), `${1000 - Buffer.byteLength(note)} left`, 'the limit, in bytes');
	await fb.scrollIntoViewIfNeeded();
	await H.axe(again, 'feedback');
	await H.shot(again, '14-feedback');
	await again.getByLabel('Language of this page').selectOption('ar');
	assert.equal(await again.locator('#feedback textarea').inputValue(), note, 'the text survives a new language');
	await again.locator('#feedback').scrollIntoViewIfNeeded();
	await H.shot(again, '15-feedback-ar');
	await again.getByLabel('لغة هذه الصفحة').selectOption('en');
	// by the keyboard: the focus goes to the heading once it is sent (the
	// button, disabled while it was sent, had let it fall to the body)
	await fb.getByRole('button', { name: 'Send feedback' }).press('Enter');
	await again.getByText('Thank you. Your feedback was sent.').waitFor();
	await H.waitFor('the focus on the heading', async () =>
		(await again.evaluate(() => document.activeElement?.id)) === 'conv-h', 5000);
	assert.equal(await again.locator('#feedback fieldset').count(), 0, 'the form is gone');
	// one entry: the admin is shown none (its text is read by the CLI in
	// web/interop); the server holds the ratings and one sealed copy
	const read = H.cliOk(env, 'admin', ['feedback']);
	assert.match(read, /^totals: entries=fewer than 5 /, read);
	const row = execFileSync('sqlite3', ['-readonly', '-batch', '-noheader', path.join(env.data, 'offramp.db'),
		'SELECT helpful, recommend, length(sealed) FROM feedback'], { encoding: 'utf8' }).trim();
	assert.equal(row, '1|0|1104', 'helpful, not recommended, a text sealed to the one admin');
	await assertNoTrace(again);
	assert.deepEqual(again.foreign, []);
	assert.deepEqual(again.errors.filter((e) => !/WebSocket/.test(e)), []);
	await again.context().close();
});

test('a client deletes its account from the page: the case is gone on the server, the vault on the device', async () => {
	const page = await H.newPage(env);
	await page.goto(env.url);
	await page.getByLabel('Keep on this device').check();
	await page.getByLabel('Passphrase', { exact: true }).fill('erase me soon 1');
	await page.getByLabel('Type it again').fill('erase me soon 1');
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await H.expectHeading(page, 'Talking with Sam');
	const line = H.cliCases(env, 'couns').find((l) => / active /.test(l));
	assert.ok(line, 'Sam has the active case');
	const caseId = line.split(' ')[0];
	await H.waitFor('the vault to be written', async () => Number(await page.locator('main').getAttribute('data-saves')) > 0);
	assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), ['offramp']);
	// the history setting of "keep on this device" is there, off by default
	assert.equal(await page.getByLabel('Keep messages on this device').inputValue(), '0');

	await page.getByRole('button', { name: 'Delete my account…' }).click();
	await page.getByText('Delete everything for good?').waitFor();
	await H.axe(page, 'delete account: asked');
	await H.shot(page, '13-erase-ask');
	// "yes" is disabled for a moment after the question (a double tap);
	// click() waits until it is enabled
	await page.getByRole('button', { name: 'Yes, delete everything' }).click();
	await H.expectHeading(page, 'Talk to someone who understands');
	await page.getByText('Your account, your conversations and everything the server kept about you are deleted').waitFor();
	assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), [], 'no database left');
	assert.ok(!H.cliOk(env, 'couns', ['cases']).includes(caseId), 'the server deleted the case');
	assert.deepEqual(page.errors.filter((e) => !/WebSocket/.test(e)), []);
	await page.context().close();
});

test('on a phone: Enter starts a new line, the Send button sends; a pause is said', async () => {
	const page = await H.newPage(env, { touch: true });
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await page.getByRole('heading', { name: 'Talking with Sam' }).waitFor({ timeout: 20000 });
	assert.equal(await page.locator('.composer .hint').innerText(), 'Send sends it; Enter starts a new line.');
	assert.equal((await page.getByRole('button', { name: /Quick exit/ }).innerText()).trim(), 'Quick exit', 'no Esc on a phone');
	const box = page.getByLabel('Your message');
	await box.fill('line one');
	await box.press('Enter');
	await box.pressSequentially('line two');
	assert.equal(await box.inputValue(), 'line one\nline two', 'Enter made a new line');
	assert.equal(await page.locator('.log li.mine').count(), 0, 'Enter sent nothing');
	await page.getByRole('button', { name: 'Send', exact: true }).tap();
	const mine = page.locator('.log li.mine', { hasText: 'line two' });
	await mine.waitFor();
	assert.equal(await box.inputValue(), '', 'the box is empty once sent');
	const got = H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']);
	assert.match(got, /line one\s+line two/, 'Sam got both lines');
	// Sam pauses: said and explained to the client (it was a badge alone),
	// and said again when it goes on
	const caseId = got.split('\t')[0].trim();
	H.cliOk(env, 'couns', ['pause', caseId]);
	await H.waitFor('the pause announced', async () =>
		/^Your counsellor paused this conversation/.test(await page.locator('#announce').innerText()));
	assert.match(await page.locator('.composer .hint').innerText(), /^Paused by your counsellor: what you write is kept/);
	H.cliOk(env, 'couns', ['resume', caseId]);
	await H.waitFor('going on announced', async () => (await page.locator('#announce').innerText()) === 'The conversation goes on.');
	// the client ends it by the keyboard: the focus goes to the heading
	// that says so (it fell to the body with the button)
	await page.getByRole('button', { name: 'End the conversation' }).press('Enter');
	await page.getByRole('button', { name: 'Yes, end it now' }).press('Enter');
	await H.expectHeading(page, 'This conversation has ended');
	await H.waitFor('the focus on the heading', async () =>
		(await page.evaluate(() => document.activeElement?.id)) === 'conv-h', 5000);
	await page.context().close();
});
