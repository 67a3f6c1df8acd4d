// Co-counselling in the page (PROTOCOL.md, "Co-counselling"): a client in
// the page, its counsellor Sam and his colleague Kim through the real CLI.
// Sam brings Kim in; the page tells the client before anything it writes
// reaches Kim (what it wrote before it saw the notice Kim never reads,
// what it writes after she does); the client has Kim removed, and she is
// listed as former, with why; a message she sent while in the case still
// reads in the page after she left; Sam disabled by the admin shows as
// what it is. Then a web counsellor, Rae, brings Kim into a CLI client's
// case by her key, sees her joining, in the case once the client was
// told, and removes her.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env, kimKey;
test.before(async () => {
	env = await H.setupPool('cocounsel');
	await H.launch(env);
	// Kim speaks German only: the English case is never matched to her
	kimKey = H.field(H.cliOk(env, 'kim', ['keygen', '--kdf', 'min']), 'key');
	assert.match(kimKey, /^[A-Za-z0-9+/]{43}=$/);
	assert.equal(H.field(H.cliOk(env, 'kim', ['redeem', H.newInvite(env), '--name', 'Kim', '--languages', 'de',
		'--topics', 'leaving']), 'role'), 'counsellor');
	assert.match(H.certify(env, 'Kim'), /certified: Kim/);
});
test.after(() => env && env.close());

/*
 * Holds the server's msg pushes to the page while hold.on (a slow line
 * for messages only), so that a message can arrive after its sender left;
 * everything else passes at once.
 */
async function holdMessages(page) {
	const hold = { on: false, frames: [], ws: null };
	await page.routeWebSocket(/./, (ws) => {
		const server = ws.connectToServer();
		hold.ws = ws;
		ws.onMessage((m) => server.send(m));
		server.onMessage((m) => {
			if (hold.on && typeof m === 'string' && /^\{"v":1,"type":"msg",/.test(m)) hold.frames.push(m);
			else ws.send(m);
		});
	});
	hold.release = () => {
		hold.on = false;
		for (const m of hold.frames.splice(0)) hold.ws.send(m);
	};
	return hold;
}

async function say(page, text) {
	const box = page.getByLabel('Your message');
	await box.fill(text);
	await box.press('Enter');
	const mine = page.locator('.log li.mine', { hasText: text });
	await H.waitFor(`"${text}" to be sent`, async () => /^(sent|delivered)$/.test(await mine.getAttribute('data-state')), 30000);
}

test('a colleague joins, is removed at the client\'s request, and the counsellor is disabled', async () => {
	const page = await H.newPage(env);
	const hold = await holdMessages(page);
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await H.expectHeading(page, 'Talking with Sam', 30000);
	const caseId = H.cliCases(env, 'couns')[0].split(' ')[0];
	assert.match(caseId, /^\d+$/);

	// Sam brings Kim in: the page shows her joining, with the notice
	assert.match(H.cliOk(env, 'couns', ['bring', caseId, kimKey, '--as', 'supervisor']), /^member Kim \(supervisor\) joining/m);
	const kim = page.locator('.people li[data-role="counsellor"]', { hasText: 'Kim' });
	await kim.waitFor({ timeout: 30000 });
	assert.equal(await kim.getAttribute('data-state'), 'joining');
	assert.match(await kim.innerText(), /Kim — counsellor \(supervisor\) · joining: cannot read anything yet/);
	const notice = page.locator('.people p[role="status"]');
	assert.match(await notice.innerText(), /Someone new is joining this conversation\. They can read nothing until you have seen this\./);
	await H.axe(page, 'a colleague joining');
	await notice.scrollIntoViewIfNeeded();
	await H.shot(page, '32-client-colleague-joining');

	// before the client has seen the notice, nothing it writes reaches Kim
	const early = H.cli(env, 'kim', ['send', caseId, 'too early']);
	assert.equal(early.code, 1, 'Kim cannot write before the client was told');
	assert.match(early.err, /not_told/);
	await say(page, 'written before I saw the notice');
	assert.match(H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']), /written before I saw the notice/);

	// the client has seen it: Kim joins, and reads what comes after only
	await page.getByRole('button', { name: 'I have seen who joins' }).click();
	await H.waitFor('Kim to be in the case', async () => (await kim.getAttribute('data-state')) === 'joined');
	assert.equal(await notice.count(), 0, 'the notice is gone');
	assert.match(H.cliOk(env, 'couns', ['members', caseId]), /^member Kim \(supervisor\) in the case$/m);
	await say(page, 'written after I saw it');
	const kimGot = H.cliOk(env, 'kim', ['recv', '--count', '1', '--wait', '20']);
	assert.match(kimGot, /written after I saw it/);
	assert.doesNotMatch(kimGot, /before I saw/);
	assert.match(H.cliOk(env, 'couns', ['recv', '--count', '1', '--wait', '20']), /written after I saw it/);

	// Kim writes; her message is still on its way when the client has her
	// removed, and reads once it comes
	hold.on = true;
	H.cliOk(env, 'kim', ['send', caseId, 'Kim while in the case']);
	await H.waitFor('Kim\'s message to be on its way', () => hold.frames.length > 0, 20000);
	await kim.getByRole('button', { name: 'ask to remove' }).click();
	const gone = page.locator('.people .former li', { hasText: 'Kim' });
	await gone.waitFor({ timeout: 20000 });
	assert.equal(await gone.getAttribute('data-reason'), 'removed');
	assert.match(await gone.innerText(), /Kim \(supervisor\) — left: removed at a participant’s request/);
	assert.equal(await kim.count(), 0, 'Kim is no longer listed as in the case');
	hold.release();
	const hers = page.locator('.log li:not(.mine)', { hasText: 'Kim while in the case' });
	await hers.waitFor({ timeout: 20000 });
	assert.equal(await hers.getAttribute('data-state'), 'received');
	assert.equal(H.cli(env, 'kim', ['send', caseId, 'after I left']).code, 1, 'Kim cannot write any more');
	await H.axe(page, 'a colleague removed');

	// the admin disables Sam: the page says so, not just that he left
	H.cliOk(env, 'admin', ['disable', 'Sam']);
	const sam = page.locator('.people .former li', { hasText: 'Sam' });
	await sam.waitFor({ timeout: 20000 });
	assert.equal(await sam.getAttribute('data-reason'), 'disabled');
	assert.match(await sam.innerText(), /Sam — left: their programme disabled their account/);
	assert.ok(await hers.isVisible(), 'Kim\'s message is still there');
	assert.deepEqual(page.foreign, [], 'no third-party origin');
	assert.deepEqual(page.errors, [], 'no page errors');
	await page.context().close();
});

test('a web counsellor brings a colleague in, sees her joining, and removes her', async () => {
	// Sam is disabled since the first test: the next English case is Rae's
	const page = await H.newPage(env);
	await H.webJoin(page, env);
	assert.match(H.certify(env, 'Rae'), /certified: Rae/);
	H.cliOk(env, 'c2', ['keygen', '--kdf', 'min']);
	const out = H.cliOk(env, 'c2', ['request', '--language', 'en', '--topic', 'leaving']);
	assert.equal(H.field(out, 'counsellor'), 'Rae');
	const caseId = H.field(out, 'case');
	const item = page.locator(`#caselist button[data-case="${caseId}"]`);
	await item.waitFor({ timeout: 20000 });
	await item.click();

	await page.getByText('Bring in a colleague', { exact: true }).click();
	const own = (await page.locator('#own-key').innerText()).trim();
	assert.match(own, /^[A-Za-z0-9+/]{43}=$/, 'the page shows the counsellor its own key');
	assert.match(H.cliOk(env, 'c2', ['members', caseId]), new RegExp(`Rae \\(counsellor\\) in the case`));
	// a key out of form is refused in the page; then Kim's, as language helper
	const keyBox = page.getByLabel('Or their key');
	await keyBox.fill('not a key');
	await page.getByRole('button', { name: 'Bring them in' }).click();
	await H.waitFor('a bad key to be refused', async () => /not in the right form/.test(await page.locator('#alert').innerText()));
	await keyBox.fill(kimKey);
	await page.getByLabel('Joins as').selectOption('language-helper');
	await page.getByRole('button', { name: 'Bring them in' }).click();
	const kim = page.locator('.people li[data-role="counsellor"]', { hasText: 'Kim' });
	await kim.waitFor({ timeout: 20000 });
	assert.equal(await kim.getAttribute('data-state'), 'joining');
	assert.match(await kim.innerText(), /Kim — counsellor \(language helper\) · joining/);
	await page.locator('#members-panel p[role="status"]', { hasText: 'Listed as joining' }).waitFor();
	// Rae confirmed by inviting: she is told that the others are waited for, not asked
	assert.match(await page.locator('.people p[role="status"]').innerText(), /until everyone in this conversation has been told/);
	assert.equal(await page.getByRole('button', { name: 'I have seen who joins' }).count(), 0, 'nothing for the inviter to confirm');
	await H.axe(page, 'a counsellor brings a colleague in');
	await kim.scrollIntoViewIfNeeded();
	await H.shot(page, '33-inbox-colleague-joining');

	// the CLI client is told and confirms: Rae's page shows Kim in the case
	assert.match(H.cliOk(env, 'c2', ['members', caseId]), /^member Kim \(language-helper\) joining/m);
	await H.waitFor('Kim to be in the case in Rae\'s page', async () => (await kim.getAttribute('data-state')) === 'joined', 20000);
	// bringing her twice is refused, and says why
	await keyBox.fill(kimKey);
	await page.getByRole('button', { name: 'Bring them in' }).click();
	await H.waitFor('a second invitation to be refused', async () => /in this conversation already/.test(await page.locator('#alert').innerText()));

	// Rae removes her
	await kim.getByRole('button', { name: 'ask to remove' }).click();
	const gone = page.locator('.people .former li', { hasText: 'Kim' });
	await gone.waitFor({ timeout: 20000 });
	assert.equal(await gone.getAttribute('data-reason'), 'removed');
	assert.match(H.cliOk(env, 'c2', ['members', caseId]), /^former Kim \(language-helper\) left: removed/m);
	assert.deepEqual(page.foreign, [], 'no third-party origin');
});
