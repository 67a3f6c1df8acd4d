// The counsellor's tools in the browser: in the open case a web counsellor
// proposes a meeting, proposes the counselling agreement, loads the
// programme's external partners (partner.directory) and sends a referral
// card; a CLI client reads each (decrypted, in its own words), and the
// server keeps only that the case was referred.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env, rae, first;	// rae: the web counsellor's page; first: the CLI client's case
test.before(async () => {
	env = await H.setupPool('tools', { counsellor: false });
	await H.launch(env);
});
test.after(() => env && env.close());

test('the tools: a meeting, the agreement and a referral card reach a CLI client', async () => {
	const ext = H.cliOk(env, 'admin', ['external', 'add', 'Exit Nord', '--contact', 'phone +49 40 0000 0000']);
	assert.match(ext, /^external \d+ Exit Nord /);
	const page = rae = await H.newPage(env);
	await H.webJoin(page, env, { languages: 'en, de' });
	assert.match(H.certify(env, 'Rae'), /certified: Rae/);
	H.cliOk(env, 'c1', ['keygen', '--kdf', 'min']);
	const caseId = H.field(H.cliOk(env, 'c1', ['request', '--language', 'en', '--topic', 'leaving']), 'case');
	first = caseId;
	const item = page.locator(`#caselist button[data-case="${caseId}"]`);
	await item.waitFor({ timeout: 20000 });
	await item.click();

	// a meeting
	await page.getByText('Meeting, agreement, referral', { exact: true }).click();
	await page.getByLabel('When').fill('2030-05-04T15:30');
	await page.getByLabel('Place', { exact: true }).fill('Café Nordstern');
	await page.getByLabel('How to recognise each other (optional)').fill('green umbrella');
	await page.getByRole('button', { name: 'Propose the meeting' }).click();
	const meeting = H.cliOk(env, 'c1', ['recv', '--count', '1', '--wait', '20']);
	assert.match(meeting, /\[meeting \d+ proposed: 2030-05-04 \d\d:30 UTC; place: Café Nordstern; recognise: green umbrella\]/);

	// the agreement
	await page.getByLabel('Objectives').fill('leave the group safely');
	await page.getByLabel('Formats').fill('chat');
	await page.getByLabel('How often').fill('weekly');
	await page.getByLabel('In a crisis').fill('call 112');
	await page.getByRole('button', { name: 'Send the agreement' }).click();
	assert.match(H.cliOk(env, 'c1', ['recv', '--count', '1', '--wait', '20']),
		/\[agreement version 1 proposed: objectives: leave the group safely; formats: chat; how often: weekly; in a crisis: call 112\]/);

	// a referral card to the external partner of the directory
	await page.locator('#tool-referral select option', { hasText: 'Exit Nord' }).waitFor({ state: 'attached', timeout: 20000 });
	await page.getByLabel('What to expect').fill('a first talk, anonymous');
	await page.getByLabel('What to say').fill('I come from offramp');
	await H.axe(page, 'case (tools)');
	await H.shot(page, '27-inbox-tools');
	await page.getByRole('button', { name: 'Send the referral card' }).click();
	await page.locator('#notice', { hasText: /only that the case was referred/ }).waitFor({ timeout: 20000 });
	assert.match(H.cliOk(env, 'c1', ['recv', '--count', '1', '--wait', '20']),
		/\[referral to Exit Nord; contact: phone \+49 40 0000 0000; what to expect: a first talk, anonymous; what to say: I come from offramp\]/);
	assert.match(H.cliOk(env, 'admin', ['stats']), /^referred-external: fewer than 5$/m);
});

test('a web client reads a referral card in its language (de)', async () => {
	// the web counsellor of the first test refers a web client whose page speaks German
	const page = await H.newPage(env, { locale: 'de-DE' });
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Gespräch beginnen' }).click();
	await page.locator('.people li[data-role="counsellor"]').waitFor({ timeout: 30000 });
	await rae.getByRole('button', { name: 'Back to the list' }).click();
	const item = rae.locator(`#caselist button:not([data-case="${first}"])`).first();
	await item.waitFor({ timeout: 30000 });
	await item.click();
	await rae.locator('#tool-referral select option', { hasText: 'Exit Nord' }).waitFor({ state: 'attached', timeout: 20000 });
	await rae.getByLabel('What to say').fill('Ich komme von offramp');
	await rae.getByRole('button', { name: 'Send the referral card' }).click();
	const card = page.locator('.log li:not(.mine)', { hasText: 'Weitervermittlung an Exit Nord' });
	await card.waitFor({ timeout: 30000 });
	const text = await card.locator('.text').innerText();
	assert.match(text, /So erreichst du sie: phone \+49 40 0000 0000/);
	assert.match(text, /Was du sagen kannst: Ich komme von offramp/);
	await H.axe(page, 'conversation (referral card, de)');
	await H.shot(page, '28-client-referral-de');
});
