// Programme keys built into the bundle (OFFRAMP_PIN_PROGRAMMES) are the
// page's trust anchors: with the programme's real key the conversation
// works; with another key built in, or none, the page trusts nothing by
// itself: it shows the programme's fingerprint and asks; until the user
// says yes, nothing is sent to the counsellor.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sodium from 'libsodium-wrappers-sumo';
import * as H from './harness.mjs';
import { keyFingerprint } from '../../src/proto/safety.js';
import { b64Decode } from '../../src/proto/frame.js';

let env;
test.before(async () => {
	await sodium.ready;
	env = await H.setupPool('pins', { pinned: false });
	await H.launch(env);
});
test.after(() => env && env.close());

async function converse(page) {
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await H.expectHeading(page, 'Talking with Sam');
	await page.getByLabel('Your message').fill('hello with pins');
	await page.getByLabel('Your message').press('Enter');
	return page.locator('.log li.mine', { hasText: 'hello with pins' });
}

test('the right key built in: the conversation works', async () => {
	const dir = path.join(env.dir, 'dist-right');
	assert.match(H.buildInto(dir, { OFFRAMP_PIN_PROGRAMMES: `1:${env.programmeKey}` }), /programme pins built in: 1/);
	await H.serveBuild(env, dir);
	const page = await H.newPage(env);
	const mine = await converse(page);
	await H.waitFor('the message to be sent', async () => /^(sent|delivered)$/.test(await mine.getAttribute('data-state')), 20000);
	const got = H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']);
	assert.match(got, /hello with pins/);
	H.cliOk(env, 'couns', ['close', got.split('\t')[0].trim()]);
	await page.context().close();
});

test('another key built in: the page asks before it trusts the server\'s; "Not now" sends nothing', async () => {
	const dir = path.join(env.dir, 'dist-wrong');
	H.buildInto(dir, { OFFRAMP_PIN_PROGRAMMES: `1:${Buffer.alloc(32, 3).toString('base64')}` });
	await H.serveBuild(env, dir);
	const page = await H.newPage(env);
	const mine = await converse(page);
	await page.getByRole('heading', { name: 'Is this the programme you chose?' }).waitFor({ timeout: 20000 });
	await H.waitFor('the message to wait', async () => /programme is not one this device trusts yet/.test(await mine.locator('.meta').innerText()), 20000);
	assert.doesNotMatch(await mine.getAttribute('data-state'), /^(sent|delivered)$/);
	assert.match(await page.locator('.people').innerText(), /programme not trusted yet/);
	await page.getByRole('button', { name: 'Not now' }).click();
	await page.getByRole('heading', { name: 'Is this the programme you chose?' }).waitFor({ state: 'hidden' });
	const r = H.cli(env, 'couns', ['recv', '--count', '1', '--wait', '3']);
	assert.doesNotMatch(r.out, /hello with pins/);
	assert.doesNotMatch(await mine.getAttribute('data-state'), /^(sent|delivered)$/);
	await H.axe(page, 'conversation (programme not trusted)');
	await H.shot(page, '13-counsellor-refused');
	await page.context().close();
});

test('no key built in: the programme\'s fingerprint is shown; "Trust" sends, and the question is not asked again', async () => {
	await H.serveBuild(env, H.DIST);
	const page = await H.newPage(env);
	const mine = await converse(page);
	const prompt = page.locator('section.trust');
	await page.getByRole('heading', { name: 'Is this the programme you chose?' }).waitFor({ timeout: 20000 });
	const fp = keyFingerprint(b64Decode(env.programmeKey, 32, 32));
	assert.equal((await prompt.locator('.fingerprint').innerText()).replace(/\s+/g, ' ').trim(), fp, 'the fingerprint of the real key');
	await H.axe(page, 'programme key question');
	const look = async (name) => {	// the message typed above took the eye to the composer
		await prompt.evaluate((el) => el.scrollIntoView({ block: 'start' }));
		await H.shot(page, name);
	};
	await look('14-trust-programme');
	for (const [lang, name] of [['ar', '14-trust-programme-ar'], ['de', '14-trust-programme-de']]) {
		await page.locator('#ui-lang').selectOption(lang);
		await prompt.locator('h2').waitFor();
		await look(name);
	}
	await page.locator('#ui-lang').selectOption('en');
	assert.doesNotMatch(await mine.getAttribute('data-state'), /^(sent|delivered)$/, 'nothing sent before the answer');
	await page.getByRole('button', { name: 'Trust this programme' }).click();
	await H.waitFor('the message to be sent', async () => /^(sent|delivered)$/.test(await mine.getAttribute('data-state')), 20000);
	assert.match(H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']), /hello with pins/);
	assert.equal(await prompt.isHidden(), true);
	assert.match(await page.locator('.people').innerText(), /confirmed by their programme/);
	await H.shot(page, '15-programme-trusted');
	await page.context().close();
});
