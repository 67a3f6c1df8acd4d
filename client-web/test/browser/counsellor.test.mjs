// A counsellor in the browser: redeems an invite (keys made in the page),
// is certified by the admin (CLI), sees a new case arrive live with an
// unread badge, reads and replies (the CLI client decrypts it), adds an
// encrypted note, pauses, resumes, closes and reopens, goes away, and
// takes a waiting case from the queue.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('counsellor', { counsellor: false });
	await H.launch(env);
});
test.after(() => env && env.close());

test('the inbox: redeem, a live case, reply, note, pause/resume/close/reopen, queue and take', async () => {
	const page = await H.newPage(env);
	await H.webJoin(page, env);
	assert.match(H.certify(env, 'Rae'), /certified: Rae/);
	assert.match(await page.locator('.presence').innerText(), /Online/);
	await H.axe(page, 'inbox (empty)');
	await H.shot(page, '21-inbox-empty');

	// a client asks (CLI) and writes; the case comes in live, with a badge
	H.cliOk(env, 'c1', ['keygen', '--kdf', 'min']);
	const req = H.cliOk(env, 'c1', ['request', '--language', 'en', '--topic', 'leaving']);
	const caseId = H.field(req, 'case');
	assert.equal(H.field(req, 'counsellor'), 'Rae');
	await page.locator('#notice', { hasText: /^New case: / }).waitFor({ timeout: 20000 });
	const item = page.locator(`#caselist button[data-case="${caseId}"]`);
	await item.waitFor();
	assert.match(await item.innerText(), /new/);
	H.cliOk(env, 'c1', ['send', caseId, 'hi from client one']);
	await page.locator(`#caselist button[data-case="${caseId}"] [data-unread="1"]`).waitFor({ timeout: 20000 });
	assert.match(await page.locator('#announce').innerText(), /New message from/);
	await H.axe(page, 'inbox (new case)');
	await H.shot(page, '22-inbox-new-case');

	// open, read, reply
	await item.click();
	await page.locator('.log li:not(.mine)', { hasText: 'hi from client one' }).waitFor();
	await H.waitFor('the unread badge to go', async () =>
		(await page.locator(`#caselist button[data-case="${caseId}"] [data-unread]`).count()) === 0);
	// at 360 px the case's pane alone, under the page's h1 (it was hidden
	// with the list: a page without an h1)
	assert.ok(await page.getByRole('heading', { level: 1, name: 'Inbox' }).isVisible(), 'the h1 with a case open');
	assert.ok(!(await page.locator('#caselist').isVisible()), 'the list of cases gives way to the case');
	await page.evaluate(() => window.scrollTo(0, 0));
	await H.shot(page, '22b-inbox-case-top');
	await page.getByLabel('Your reply').fill('hello, I am Rae');
	await page.getByLabel('Your reply').press('Enter');
	assert.match(H.cliOk(env, 'c1', ['recv', '--count', '1', '--wait', '20']), /hello, I am Rae/);
	await H.waitFor('the reply to be marked sent', async () =>
		/^(sent|delivered)$/.test(await page.locator('.log li.mine', { hasText: 'hello, I am Rae' }).getAttribute('data-state')));

	// an encrypted note
	await page.getByText('Notes', { exact: true }).click();
	await page.getByLabel('New note').fill('wants to talk about family');
	await page.getByRole('button', { name: 'Add note' }).click();
	await page.locator('#notes li', { hasText: 'wants to talk about family' }).waitFor({ timeout: 20000 });
	await H.axe(page, 'case');
	await H.shot(page, '23-inbox-case');

	// pause, resume, close, reopen, by the keyboard: the focus stays on
	// the case's actions (it fell to the page's body when the button
	// pressed gave way to another)
	const badge = page.locator('.case-pane .status-line .badge');
	const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.tagName);
	for (const [button, status, then] of [['Pause', 'Paused', 'act-resume'], ['Resume', 'Active', 'act-pause'],
		['End the conversation', 'Closed', 'act-reopen'], ['Reopen', 'Active', 'act-pause']]) {
		await page.locator('#case-actions').getByRole('button', { name: button, exact: true }).press('Enter');
		await H.waitFor(`status ${status} after ${button}`, async () => (await badge.innerText()) === status);
		await H.waitFor(`the focus on ${then} after ${button}`, async () => (await focused()) === then, 5000);
	}
	assert.match(H.cliOk(env, 'c1', ['cases']), new RegExp(`${caseId} active`));

	// away: new cases wait in the queue; take one from it. Back to the
	// list by the keyboard: the focus on the case left, in the list
	await page.getByRole('button', { name: 'Back to the list' }).press('Enter');
	await H.waitFor('the focus on the case in the list', async () =>
		(await page.evaluate(() => document.activeElement.dataset.case || '')) === caseId, 5000);
	await page.getByRole('button', { name: 'Set away' }).click();
	await page.getByText('Away: no new cases').waitFor();
	H.cliOk(env, 'c2', ['keygen', '--kdf', 'min']);
	const req2 = H.cliOk(env, 'c2', ['request', '--language', 'en', '--urgency', 'high']);
	assert.equal(H.field(req2, 'status'), 'waiting');
	const case2 = H.field(req2, 'case');
	await page.getByRole('button', { name: 'Refresh' }).click();
	const queued = page.locator(`#queue li[data-queue="${case2}"]`);
	await queued.waitFor({ timeout: 20000 });
	assert.match(await queued.innerText(), /urgent/);
	await H.axe(page, 'inbox (queue)');
	await H.shot(page, '24-inbox-queue');
	// one the queue still shows, ended meanwhile: said as such (before,
	// "not found, or not yours"), and the focus stays in the queue
	H.cliOk(env, 'c3', ['keygen', '--kdf', 'min']);
	const case3 = H.field(H.cliOk(env, 'c3', ['request', '--language', 'en']), 'case');
	await page.getByRole('button', { name: 'Refresh' }).click();
	const gone = page.locator(`#queue li[data-queue="${case3}"]`);
	await gone.waitFor({ timeout: 20000 });
	H.cliOk(env, 'c3', ['close', case3]);
	await gone.getByRole('button', { name: 'Take' }).press('Enter');
	await page.locator('#alert', { hasText: 'Someone else has taken this conversation already, or it has ended.' }).waitFor({ timeout: 20000 });
	await H.waitFor('the ended one to leave the queue', async () => (await gone.count()) === 0);
	assert.notEqual(await page.evaluate(() => document.activeElement.tagName), 'BODY', 'the focus is not lost');
	await queued.getByRole('button', { name: 'Take' }).click();
	await H.waitFor('the taken case to open', async () =>
		(await page.locator('#case-h').innerText()) !== '' && (await page.locator('.case-pane .status-line .badge').innerText()) === 'Active');
	assert.match(H.cliOk(env, 'c2', ['cases']), new RegExp(`${case2} active`));
	H.cliOk(env, 'c2', ['send', case2, 'thank you for taking this']);
	await page.locator('.log li:not(.mine)', { hasText: 'thank you for taking this' }).waitFor({ timeout: 20000 });
	await page.getByRole('button', { name: 'Back to the list' }).click();
	await page.getByRole('button', { name: 'Set online' }).click();
	await page.getByText('Online: you get new cases').waitFor();
	assert.equal(await page.locator('#caselist button[data-case]').count(), 2);

	// a wide screen shows list and case side by side
	await page.setViewportSize({ width: 1280, height: 800 });
	await page.locator(`#caselist button[data-case="${caseId}"]`).click();
	await page.locator('.log li.mine', { hasText: 'hello, I am Rae' }).waitFor();
	assert.ok(await page.locator('#caselist').isVisible());
	await H.axe(page, 'inbox (wide)');
	await page.screenshot({ path: `${H.SHOTS}/25-inbox-wide-1280.png` });
	assert.deepEqual(page.foreign, []);
	assert.deepEqual(page.errors, [], 'no console error (the key field\'s pattern was no valid expression)');
	await page.context().close();
});
