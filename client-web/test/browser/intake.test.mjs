// A programme's own door in the page, against the real server: a flyer's
// link (#programme=N) fills in the programme's number and leaves the
// address bar; the intake code the programme asks for is asked, a wrong
// one refused, the right one (in any case) opens the case in that
// programme's queue. A waiting request whose client stays away leaves the
// queue (the server's keep-waiting, 3 s here), and the page, back with its
// recovery code, says that the request has ended, not just "closed".
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('intake', { serverArgs: ['--keep-waiting', '3s', '--rematch-period', '1'] });
	await H.launch(env);
});
test.after(() => env && env.close());

const shared = {};

test('a flyer: the link fills in the programme, its code is asked and checked', async () => {
	H.cliOk(env, 'couns', ['profile', '--presence', 'away']);	// so that the case waits
	const prog = H.field(H.cliOk(env, 'admin', ['programme-set', '--intake-code', 'Flyer-42']), 'programme');
	assert.match(prog, /^[0-9]+$/);
	const page = await H.newPage(env);
	await page.goto(`${env.url}#programme=${prog}`);
	const start = page.getByRole('button', { name: 'Start a conversation' });
	await start.waitFor();
	assert.equal(page.url(), env.url, 'the fragment left the address bar');
	assert.notEqual(await page.locator('#flyer').getAttribute('open'), null, 'the flyer part is open');
	const number = page.getByRole('textbox', { name: 'Programme number' });
	assert.equal(await number.inputValue(), prog);
	await H.axe(page, 'start with a flyer');
	await page.locator('#flyer').scrollIntoViewIfNeeded();
	await H.shot(page, '30-start-flyer');

	const alert = page.locator('#alert');
	await start.click();
	await H.waitFor('the code to be asked for', async () =>
		/asks for its intake code/.test(await alert.innerText()), 30000);
	const code = page.getByRole('textbox', { name: 'Code' });
	await code.fill('Flyer-43');
	await start.click();
	await H.waitFor('a wrong code to be refused', async () =>
		/intake code is not right/.test(await alert.innerText()), 30000);
	await code.fill('no code');
	await start.click();
	await H.waitFor('a code out of form to be refused in the page', async () =>
		/intake code is not right/.test(await alert.innerText()) && !(await start.isDisabled()));
	await number.fill('12x');
	await start.click();
	await H.waitFor('a programme number out of form to be refused', async () =>
		/digits only/.test(await alert.innerText()));
	await number.fill(prog);
	await code.fill('FLYER-42');
	await start.click();
	await H.expectHeading(page, 'Waiting for a counsellor');
	assert.equal(H.cliOk(env, 'couns', ['queue']).trim().split('\n').length, 1, 'the case is in the programme\'s queue');

	await page.getByRole('button', { name: 'Show my recovery code' }).click();
	shared.code = (await page.locator('#recovery-code').innerText()).trim();
	assert.deepEqual(page.foreign, [], 'no third-party origin');
	await page.context().close();
});

test('a request left waiting ends, and the page says so when the client comes back', async () => {
	assert.ok(shared.code, 'the first test gave a recovery code');
	await H.waitFor('the waiting case to leave the queue once its client is gone', () =>
		H.cliOk(env, 'couns', ['queue']).trim() === '', 30000);
	const page = await H.newPage(env);
	await page.goto(env.url);
	await page.getByRole('button', { name: 'I have a recovery code' }).click();
	await page.getByRole('textbox', { name: 'Recovery code' }).fill(shared.code);
	await page.getByRole('button', { name: 'Continue' }).click();
	await H.expectHeading(page, 'Your request has ended');
	assert.match(await page.locator('#expired').innerText(), /left the queue/);
	assert.ok(await page.getByRole('button', { name: 'Start a new conversation' }).isVisible());
	await H.axe(page, 'an expired request');
	await H.shot(page, '31-request-expired');
	assert.deepEqual(page.foreign, [], 'no third-party origin');
});
