// A dropped connection: the server is killed (SIGKILL) and started again
// on the same port. The counsellor's page says so in plain words, keeps
// what was typed (sent or not), reconnects by itself, sends what waited,
// and receives what came meanwhile: nothing is lost. A client who
// presses Start meanwhile is told the server cannot be reached yet, and
// its conversation starts by itself once it can.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('reconnect', { counsellor: false });
	await H.launch(env);
});
test.after(() => env && env.close());

test('server killed and restarted: the page reconnects and loses nothing', async () => {
	const page = await H.newPage(env);
	await H.webJoin(page, env, { name: 'Kim' });
	assert.match(H.certify(env, 'Kim'), /certified: Kim/);
	H.cliOk(env, 'c1', ['keygen', '--kdf', 'min']);
	const caseId = H.field(H.cliOk(env, 'c1', ['request', '--language', 'en']), 'case');
	await page.locator(`#caselist button[data-case="${caseId}"]`).click();
	H.cliOk(env, 'c1', ['send', caseId, 'before the kill']);
	await page.locator('.log li', { hasText: 'before the kill' }).waitFor({ timeout: 20000 });

	// a client's start screen, loaded before
	const client = await H.newPage(env);
	await client.goto(env.url);
	await client.getByRole('button', { name: 'Start a conversation' }).waitFor();

	await H.stopServer(env.srv, 'SIGKILL');
	const conn = page.locator('.conn');
	await H.waitFor('the page to say the connection is lost', async () =>
		/Connection lost/.test(await conn.innerText()), 20000);
	await page.getByLabel('Your reply').fill('typed while the server was down');
	await page.getByLabel('Your reply').press('Enter');
	const queued = page.locator('.log li.mine', { hasText: 'typed while the server was down' });
	await queued.waitFor();
	assert.doesNotMatch(await queued.getAttribute('data-state'), /^(sent|delivered)$/);
	await page.getByLabel('Your reply').fill('a draft not sent yet');
	await H.axe(page, 'reconnecting');
	await H.shot(page, '26-reconnecting');

	// a client presses Start while the server is away: said as it is
	// (before, "Connection lost" of a connection it never had), and it
	// goes on by itself once the server answers
	await client.getByRole('button', { name: 'Start a conversation' }).click();
	await H.waitFor('the client\'s page to say the server cannot be reached yet', async () =>
		/^The server cannot be reached yet\. Trying again/.test(await client.locator('.conn').innerText()), 20000);

	await H.restartServer(env);
	await H.waitFor('the page to reconnect', async () => (await conn.innerText()) === '', 40000);
	await client.getByRole('heading', { name: /^(Waiting for a counsellor|Talking with )/ }).waitFor({ timeout: 40000 });
	assert.equal(await client.locator('.conn').innerText(), '');
	await client.context().close();
	await H.waitFor('the waiting reply to be sent', async () => /^(sent|delivered)$/.test(await queued.getAttribute('data-state')), 20000);
	assert.match(H.cliOk(env, 'c1', ['recv', '--count', '1', '--wait', '20']), /typed while the server was down/);
	H.cliOk(env, 'c1', ['send', caseId, 'after the restart']);
	await page.locator('.log li', { hasText: 'after the restart' }).waitFor({ timeout: 20000 });
	assert.equal(await page.getByLabel('Your reply').inputValue(), 'a draft not sent yet', 'the draft is kept');
	assert.equal(await page.locator('.log li', { hasText: 'before the kill' }).count(), 1, 'nothing twice');
	assert.equal(await queued.count(), 1);
	assert.match(await page.locator('.presence').innerText(), /Online/);
	assert.deepEqual(page.foreign, []);
	await page.context().close();
});
