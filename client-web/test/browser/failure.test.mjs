// Failures said in plain words, and nothing typed lost: an invite the
// server refuses (the form keeps what was typed), and a full disk on the
// server (its data directory is a small tmpfs that the test fills; the
// server then answers storage_full and stores nothing): the page says so,
// the text stays, and it is sent by itself once there is room.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('failure', { tmpfs: '48m' });
	if (!env.skip) await H.launch(env);
});
test.after(() => env && env.close && env.close());

test('a refused invite: the reason in plain words, the form keeps its fields', async (t) => {
	if (env.skip) return t.skip(env.skip);
	const page = await H.newPage(env);
	await page.goto(env.url);
	await page.getByRole('button', { name: 'I am a counsellor' }).click();
	await page.getByRole('textbox', { name: 'Invite', exact: true }).fill('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
	await page.getByLabel('Display name').fill('Noor');
	await page.getByLabel('Passphrase').fill('a good passphrase');
	await page.getByRole('button', { name: 'Join', exact: true }).click();
	await page.locator('#alert', { hasText: 'This invite is unknown, already used or expired' }).waitFor({ timeout: 20000 });
	assert.equal(await page.getByLabel('Display name').inputValue(), 'Noor');
	assert.equal(await page.getByRole('button', { name: 'Join', exact: true }).isEnabled(), true);
	await H.axe(page, 'join (refused)');
	await H.shot(page, '27-join-refused');
	await page.context().close();
});

test('a full disk on the server: said in plain words, the text kept, sent once there is room', async (t) => {
	if (env.skip) return t.skip(env.skip);
	const page = await H.newPage(env);
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await H.expectHeading(page, 'Talking with Sam');
	const box = page.getByLabel('Your message');
	await box.fill('before the disk is full');
	await box.press('Enter');
	assert.match(H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']), /before the disk is full/);

	// fill the server's disk
	const filler = path.join(env.data, 'filler');
	const fd = fs.openSync(filler, 'w');
	const mb = Buffer.alloc(1 << 20, 1);
	try {
		for (;;) fs.writeSync(fd, mb);
	} catch (e) {
		assert.equal(e.code, 'ENOSPC');
	}
	try {
		for (;;) fs.writeSync(fd, mb.subarray(0, 4096));
	} catch { /* full to the last page */ }
	fs.closeSync(fd);

	const text = 'written while the disk is full, a long message '.repeat(8);
	await box.fill(text);
	await box.press('Enter');
	const msg = page.locator('.log li.mine', { hasText: 'written while the disk is full' });
	await page.locator('#alert', { hasText: 'The server is out of room just now' })
		.waitFor({ timeout: 20000 });
	assert.doesNotMatch(await msg.getAttribute('data-state'), /^(sent|delivered)$/);
	assert.equal((await msg.locator('.text').innerText()).trim(), text.trim(), 'the text is kept');
	await H.axe(page, 'error (disk full)');
	await H.shot(page, '10-error-disk-full');

	// room again: it goes out by itself, once
	fs.rmSync(filler);
	await H.waitFor('the kept message to be sent', async () => /^(sent|delivered)$/.test(await msg.getAttribute('data-state')), 40000);
	assert.match(H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']), /written while the disk is full/);
	try {
		await H.waitFor('the error to go', async () => (await page.locator('#alert').innerText()) === '');
	} catch (e) {
		throw new Error(`${e.message}: "${await page.locator('#alert').innerText()}"`);
	}
	assert.equal(await msg.count(), 1);
	assert.equal(env.srv.exited, false, 'the server kept running');
	assert.deepEqual(page.foreign, []);
	await page.context().close();
});
