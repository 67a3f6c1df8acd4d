// Programme keys built into the bundle (OFFRAMP_PIN_PROGRAMMES) reach the
// core as configured pins: with the programme's real key the conversation
// works; with another key built in, the page refuses the counsellor (its
// certificate is not signed by the pinned key): nothing is sent to it and
// what it sends is shown as not accepted.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('pins');
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

test('another key built in: the counsellor is refused, nothing is sent to it', async () => {
	const dir = path.join(env.dir, 'dist-wrong');
	H.buildInto(dir, { OFFRAMP_PIN_PROGRAMMES: `1:${Buffer.alloc(32, 3).toString('base64')}` });
	await H.serveBuild(env, dir);
	const page = await H.newPage(env);
	const mine = await converse(page);
	await H.waitFor('the message to wait, refused', async () => /not confirmed by a programme/.test(await mine.locator('.meta').innerText()), 20000);
	assert.doesNotMatch(await mine.getAttribute('data-state'), /^(sent|delivered)$/);
	const r = H.cli(env, 'couns', ['recv', '--count', '1', '--wait', '3']);
	assert.doesNotMatch(r.out, /hello with pins/);
	await H.axe(page, 'conversation (counsellor refused)');
	await H.shot(page, '13-counsellor-refused');
	await page.context().close();
});
