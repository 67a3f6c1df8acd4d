// A referral in the browser (PROTOCOL.md, "Referrals"): programmes A
// (Ada, Sam) and B "Second Path" (Bea, Lou) are partners; a web client of
// A, whose page has A's key built in and asked for A, is proposed a
// referral to B by Sam (the real CLI). It reads the reason, the offer and
// B's profile, says yes; Lou joins and is shown as B's counsellor endorsed
// by A (his certificate checked under B's key, taken through A's partner
// statement), not refused as "another programme"; the three talk; the
// client asks Sam alone for changes to the summary draft (Lou never gets
// the request), then approves the draft it read, which goes to Lou alone;
// after the handover Lou is its counsellor, not a changed key. Another
// client declines, and nothing moves; Sam cancels a proposal; a third
// client (in German) withdraws its yes, and Lou leaves again. A web
// counsellor of A does the counsellor's side for a CLI client: proposes
// a partner of the directory, shows the draft to the client alone, sends
// only the approved text to Lou alone, and hands over. A web counsellor
// of B sees a referral waiting in B's queue marked with A's name.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as H from './harness.mjs';

let env, sign, partnership;
const A_NAME = 'First Step';

test.before(async () => {
	env = await H.setupPool('referral');
	H.cliOk(env, 'admin', ['programme-set', '--name', A_NAME]);
	// programme B, made on the same data directory while the server is down
	await H.stopServer(env.srv);
	const made = spawnSync(H.SERVER_BIN, ['--data', env.data, '--new-programme', 'Second Path'], { encoding: 'utf8' });
	const token = /admin invite token: *(\S+)/.exec(`${made.stdout}${made.stderr}`)?.[1];
	assert.ok(token, `programme B made: ${made.stderr}`);
	await H.restartServer(env);
	sign = (who) => ['--signing-key', path.join(env.ids, `${who}.pkey`), '--signing-passphrase-file', path.join(env.ids, 'admin.ppass')];
	H.cliOk(env, 'admin2', ['keygen', '--kdf', 'min']);
	assert.equal(H.field(H.cliOk(env, 'admin2', ['redeem', token, '--name', 'Bea']), 'role'), 'admin');
	const bKey = H.field(H.cliOk(env, 'admin2', ['programme-key', 'new', '--out', path.join(env.ids, 'admin2.pkey'),
		'--kdf', 'min', '--new-passphrase-file', path.join(env.ids, 'admin.ppass')]), 'programme-key');
	const inv = H.cliOk(env, 'admin2', ['invite', '--role', 'counsellor']).trim().split('\n').pop();
	H.cliOk(env, 'lou', ['keygen', '--kdf', 'min']);
	H.cliOk(env, 'lou', ['redeem', inv, '--name', 'Lou', '--languages', 'en', '--topics', 'leaving']);
	assert.match(H.cliOk(env, 'admin2', ['certify', ...sign('admin2'), 'Lou']), /certified: Lou/);
	H.cliOk(env, 'admin2', ['programme-set', '--description', 'Family counselling, Berlin', '--languages', 'en,de',
		'--formats', 'chat,in-person', '--regions', 'berlin', '--topics', 'leaving,family']);
	partnership = H.field(H.cliOk(env, 'admin', ['partnership', 'propose', ...sign('admin'), '2', bKey]), 'partnership');
	assert.equal(H.field(H.cliOk(env, 'admin2', ['partnership', 'accept', ...sign('admin2'), partnership, env.programmeKey]), 'status'), 'active');
	await H.counsellorUp(env, 'lou');
	await H.launch(env);
});
test.after(() => env && env.close());

/* The ids of Sam's active cases. */
const samsActive = () => H.cliOk(env, 'couns', ['cases']).split('\n').filter((l) => / active /.test(l)).map((l) => l.split(' ')[0]);

/* A web client of programme A with a case that Sam has; resolves [page,
 * case id]: the one Sam did not have before (the list is newest first,
 * but cases made within a second stand in the order of their random
 * ids, and an earlier test's may still be active). */
async function clientOfA() {
	const before = new Set(samsActive());
	const page = await H.newPage(env);
	await page.goto(`${env.url}#programme=1`);
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await page.locator('.people li[data-role="counsellor"]', { hasText: 'Sam' }).waitFor({ timeout: 30000 });
	const ids = samsActive().filter((id) => !before.has(id));
	assert.equal(ids.length, 1, 'one new case of Sam\'s');
	return [page, ids[0]];
}

const state = (page, status) => page.locator(`#ref-state[data-status="${status}"]`).waitFor({ timeout: 30000 });
const read = (page, text) => page.locator('.log li:not(.mine)', { hasText: text }).waitFor({ timeout: 30000 });
const recv = (who, text) => H.waitFor(`${who} to read "${text}"`,
	() => H.cli(env, who, ['recv', '--count', '1', '--wait', '5']).out.includes(text), 40000);

test('accepted: the proposal with the partner\'s profile, three-party talk, the approved summary, the handover', async () => {
	const [page, id] = await clientOfA();
	H.cliOk(env, 'couns', ['referral', 'propose', id, '2', '--reason', 'your family questions', '--offer', 'family counselling in Berlin']);
	await state(page, 'proposed');
	const card = page.locator('#referral');
	assert.equal(await page.locator('#ref-reason').innerText(), 'your family questions');
	assert.equal(await page.locator('#ref-offer').innerText(), 'family counselling in Berlin');
	await page.locator('#ref-profile', { hasText: 'berlin' }).waitFor({ timeout: 20000 });
	assert.match(await card.innerText(), /A referral to Second Path is proposed/);
	assert.match(await page.locator('#ref-profile').innerText(), /Family counselling, Berlin[\s\S]*chat, in person/);
	await H.axe(page, 'conversation (referral proposed)');
	// the card's top below the page's sticky header
	await page.evaluate(() => {
		document.getElementById('referral').scrollIntoView({ block: 'start' });
		window.scrollBy(0, -document.querySelector('header').getBoundingClientRect().height - 8);
	});
	await H.shot(page, '32-client-referral-proposal');

	await page.locator('#ref-accept').click();
	await state(page, 'accepted');
	// Lou joins; the page shows him as what he is, then the client confirms it saw him
	const lou = page.locator('#ref-counsellor[data-certified="true"]');
	await lou.waitFor({ timeout: 60000 });
	assert.equal(await lou.innerText(),
		`Lou: new counsellor from partner programme Second Path, certified by Second Path, Second Path endorsed by ${A_NAME}`);
	assert.equal(await page.locator('.people li[data-state="joining"]', { hasText: 'counsellor of the partner programme' }).count(), 1);
	await page.getByRole('button', { name: 'I have seen who joins' }).click();
	H.cliOk(env, 'couns', ['members', id]);
	await page.locator('.people li[data-state="joined"]', { hasText: 'Lou' }).waitFor({ timeout: 30000 });

	// three ways
	H.cliOk(env, 'couns', ['send', id, 'Sam to both']);
	await read(page, 'Sam to both');
	await recv('lou', 'Sam to both');
	H.cliOk(env, 'lou', ['send', id, 'Lou to both']);
	await read(page, 'Lou to both');
	await page.getByRole('textbox', { name: 'Your message' }).fill('client to both');
	await page.getByRole('button', { name: 'Send', exact: true }).click();
	await recv('couns', 'client to both');
	await recv('lou', 'client to both');

	// the summary: the draft to the client alone, approved, then to Lou alone
	const summary = 'wants to leave, family pressure, prefers chat';
	H.cliOk(env, 'couns', ['referral', 'draft', id, summary]);
	await page.locator('#ref-draft', { hasText: summary }).waitFor({ timeout: 30000 });
	await page.evaluate(() => {
		document.getElementById('referral').scrollIntoView({ block: 'start' });
		window.scrollBy(0, -document.querySelector('header').getBoundingClientRect().height - 8);
	});
	await H.shot(page, '33-client-referral-summary');
	assert.equal(H.cli(env, 'couns', ['referral', 'summary', id, summary]).code, 1, 'nothing goes before the approval');
	// asking for changes: a message to Sam alone, never to Lou
	await page.locator('#ref-changes').click();
	const ask = page.getByRole('textbox', { name: 'What should Sam change? Only Sam reads this, not Lou.' });
	assert.equal(await ask.inputValue(), 'About the summary, please change: ');
	await ask.fill('About the summary, please change: say less about my family');
	await page.getByRole('button', { name: 'Send to Sam alone' }).click();
	await page.locator('#ref-changes-state', { hasText: 'Your request for changes went to Sam alone. Lou does not see it.' }).waitFor({ timeout: 20000 });
	await page.locator('.log li.mine', { hasText: 'say less about my family' }).locator('.alone', { hasText: 'to Sam alone' })
		.waitFor({ timeout: 20000 });
	await recv('couns', 'say less about my family');
	H.cliOk(env, 'couns', ['send', id, 'changes noted']);	// Lou's copy of the request would come before this
	await recv('lou', 'changes noted');
	assert.doesNotMatch(H.cliOk(env, 'lou', ['history', id]), /say less about my family/, 'the request is Sam\'s alone');
	const revised = 'wants to leave, prefers chat';
	H.cliOk(env, 'couns', ['referral', 'draft', id, revised]);
	await page.locator('#ref-draft', { hasText: revised }).waitFor({ timeout: 30000 });
	await page.locator('#ref-approve').click();
	await page.locator('#ref-summary-state', { hasText: 'You approved this summary. Only Lou will receive it.' }).waitFor({ timeout: 30000 });
	H.cliOk(env, 'couns', ['referral', 'summary', id, revised]);
	await recv('lou', revised);

	// the handover: Sam leaves, visibly; Lou is the counsellor, no changed key
	H.cliOk(env, 'couns', ['referral', 'complete', id]);
	await state(page, 'completed');
	assert.match(await page.locator('#ref-state').innerText(), /Lou of Second Path is your counsellor now, and Sam has left/);
	await page.locator('.people li[data-state="left"][data-reason="referral"]', { hasText: 'Sam' }).waitFor({ timeout: 20000 });
	assert.equal(await lou.count(), 1, 'still shown as the partner\'s, endorsed by A');
	assert.equal(await page.locator('.people', { hasText: 'key changed' }).count(), 0);
	H.cliOk(env, 'lou', ['send', id, 'Lou, now your counsellor']);
	await read(page, 'Lou, now your counsellor');
	assert.equal(await page.locator('.log li.bad').count(), 0, 'nothing refused');
	await page.getByRole('textbox', { name: 'Your message' }).fill('thank you, Lou');
	await page.getByRole('button', { name: 'Send', exact: true }).click();
	await recv('lou', 'thank you, Lou');
	assert.deepEqual(page.errors, []);
	assert.deepEqual(page.foreign, []);
});

test('declined: nothing moves', async () => {
	const [page, id] = await clientOfA();
	H.cliOk(env, 'couns', ['referral', 'propose', id, '2']);
	await state(page, 'proposed');
	await page.locator('#ref-decline').click();
	await state(page, 'declined');
	assert.match(await page.locator('#ref-state').innerText(), /Nothing changed: your conversation continues with Sam/);
	assert.match(H.cliOk(env, 'couns', ['members', id]), /^member Sam \(counsellor\) in the case$/m);
	assert.equal(await page.locator('.people li').count(), 2, 'the client and Sam');
	// proposed again, and cancelled by Sam
	H.cliOk(env, 'couns', ['referral', 'propose', id, '2']);
	await state(page, 'proposed');
	H.cliOk(env, 'couns', ['referral', 'withdraw', id]);
	await state(page, 'cancelled');
	// nobody of B had joined: the case does not say why, and the card does not guess
	assert.match(await page.locator('#ref-state').innerText(), /^The referral was called off\. Nothing was handed over/);
	assert.equal(await page.locator('#ref-accept').count(), 0, 'nothing left to answer');
	assert.deepEqual(page.errors, []);
});

test('withdrawn after the yes: the partner\'s counsellor leaves again (de)', async () => {
	const [page, id] = await clientOfA();
	await page.getByLabel('Language of this page').selectOption('de');
	H.cliOk(env, 'couns', ['referral', 'propose', id, '2']);
	await state(page, 'proposed');
	await page.getByRole('button', { name: 'Ja, vermittelt mich weiter' }).click();
	await page.locator('#ref-counsellor[data-certified="true"]', { hasText: 'Lou: neue Berater*in vom Partnerprogramm Second Path' })
		.waitFor({ timeout: 60000 });
	await page.getByRole('button', { name: 'Mein Ja zurückziehen' }).click();
	await state(page, 'withdrawn');
	await page.locator('.people li[data-state="left"][data-reason="removed"]', { hasText: 'Lou' }).waitFor({ timeout: 20000 });
	assert.match(await page.locator('#ref-h').innerText(), /Du hast deine Zustimmung zu Second Path zurückgezogen/);
	assert.deepEqual(page.errors, []);
});

test('a web counsellor of the partner sees the waiting referral in its queue, with the proposing programme', async () => {
	// nobody of B to match now: Lou and Kim away, so the referral waits in B's queue
	H.cliOk(env, 'lou', ['profile', '--presence', 'away']);
	try {
		await partnerQueue();
	} finally {
		H.cliOk(env, 'lou', ['profile', '--presence', 'online']);	// Lou is back for what follows
	}
});

async function partnerQueue() {
	const page = await H.newPage(env);
	await H.webJoin(page, env, { name: 'Kim', invite: H.cliOk(env, 'admin2', ['invite', '--role', 'counsellor']).trim().split('\n').pop() });
	assert.match(H.cliOk(env, 'admin2', ['certify', ...sign('admin2'), 'Kim']), /certified: Kim/);
	await page.getByRole('button', { name: 'Set away' }).click();
	await page.getByRole('button', { name: 'Set online' }).waitFor({ timeout: 20000 });
	H.cliOk(env, 'c8', ['keygen', '--kdf', 'min']);
	const id = H.field(H.cliOk(env, 'c8', ['request', '--language', 'en', '--topic', 'leaving', '--programme', '1']), 'case');
	H.cliOk(env, 'couns', ['referral', 'propose', id, '2']);
	H.cliOk(env, 'c8', ['referral', 'accept', id]);
	const entry = page.locator(`#queue li[data-queue="${id}"][data-referred-by="1"]`);
	const refreshed = async (state) => {
		await page.getByRole('button', { name: 'Refresh' }).click();
		return entry.waitFor({ state, timeout: 1000 }).then(() => true, () => false);
	};
	await H.waitFor('the referral in Kim\'s queue', () => refreshed('attached'), 30000);
	await entry.filter({ hasText: `referred by partner programme ${A_NAME}` }).waitFor({ timeout: 20000 });
	await H.axe(page, 'inbox (a referral in the queue)');
	// Kim takes it: he joins as the referral's counsellor, a colleague in
	// Sam's case, which he neither pauses nor closes (case.close: forbidden)
	await entry.getByRole('button', { name: 'Take' }).click();
	// the case taken is open: its people are shown, Sam among them
	await page.locator('.people li[data-role="counsellor"]', { hasText: 'Sam' }).waitFor({ timeout: 20000 });
	// nor an error: it asks for no notes, which are its counsellor's alone
	assert.equal((await page.locator('#alert').innerText()).trim(), '', 'no error on opening the case');
	await H.shot(page, '35-counsellor-referral-colleague');
	assert.equal(await page.locator('#act-pause, #act-resume, #act-close_case, #act-reopen').count(), 0,
		'a colleague in the case has none of its counsellor\'s actions');
	H.cliOk(env, 'c8', ['referral', 'withdraw', id]);
	assert.deepEqual(page.errors, []);
	await page.context().close();
}

test('the web counsellor: proposes a partner of the directory, shows the draft, sends the approved summary alone, hands over', async () => {
	H.cliOk(env, 'couns', ['profile', '--presence', 'away']);	// so that the case is Rae's
	const page = await H.newPage(env);
	await H.webJoin(page, env, { name: 'Rae' });
	assert.match(H.certify(env, 'Rae'), /certified: Rae/);
	H.cliOk(env, 'c9', ['keygen', '--kdf', 'min']);
	const out = H.cliOk(env, 'c9', ['request', '--language', 'en', '--topic', 'leaving', '--programme', '1']);
	assert.equal(H.field(out, 'counsellor'), 'Rae');
	const id = H.field(out, 'case');
	const item = page.locator(`#caselist button[data-case="${id}"]`);
	await item.waitFor({ timeout: 20000 });
	await item.click();
	await page.getByText('Meeting, agreement, referral', { exact: true }).click();
	await page.locator('#tool-ref-partner option', { hasText: 'Second Path' }).waitFor({ state: 'attached', timeout: 20000 });
	await page.getByLabel('Why (for the client alone, encrypted)').fill('family questions');
	await page.getByLabel('What they offer (for the client alone, encrypted)').fill('counselling in Berlin');
	await page.locator('#tool-ref-propose').click();
	await page.locator('#tool-ref-state', { hasText: 'Proposed to Second Path' }).waitFor({ timeout: 20000 });
	assert.match(H.cliOk(env, 'c9', ['recv', '--count', '1', '--wait', '20']),
		/Referral proposed to programme 2\. Reason: family questions What they offer: counselling in Berlin/);
	assert.match(H.cliOk(env, 'c9', ['referral', 'accept', id]),
		/^counsellor: Lou: new counsellor from partner programme Second Path, certified by Second Path, Second Path endorsed by /m);
	// Rae sees Lou joining, and says she saw him
	await page.getByRole('button', { name: 'I have seen who joins' }).click();
	H.cliOk(env, 'c9', ['members', id]);
	await page.locator('#tool-ref-state', { hasText: 'Lou of Second Path is in the case' }).waitFor({ timeout: 30000 });

	const summary = 'wants to leave, from the web';
	await page.getByLabel('Handover summary').fill(summary);
	await page.locator('#tool-ref-draft').click();
	assert.match(H.cliOk(env, 'c9', ['recv', '--count', '1', '--wait', '20']), /wants to leave, from the web/);
	assert.doesNotMatch(H.cli(env, 'lou', ['recv', '--wait', '3']).out, /from the web/, 'the draft is the client\'s alone');
	// not approved: the page sends nothing
	await page.locator('#tool-ref-send').click();
	await page.locator('#alert', { hasText: 'The client has not approved this text, so nothing was sent' }).waitFor({ timeout: 20000 });
	H.cliOk(env, 'c9', ['referral', 'approve', id, summary]);
	await page.locator('#tool-ref-state', { hasText: 'The client approved a summary' }).waitFor({ timeout: 30000 });
	await page.locator('#tool-ref-send').click();
	await recv('lou', summary);
	await page.locator('#tool-ref-state', { hasText: 'The summary went to Lou' }).waitFor({ timeout: 30000 });
	await H.axe(page, 'case (partner referral)');
	await page.locator('#tool-ref-complete').click();
	await H.waitFor('the handover', () => /^former Rae \(counsellor\) left: the case was referred/m.test(H.cliOk(env, 'c9', ['members', id])), 30000);
	assert.match(H.cliOk(env, 'c9', ['members', id]), /^member Lou \(counsellor\) in the case$/m);
	assert.deepEqual(page.errors, []);
});

// the last: A and B are partners no more after it
test('the partnership ends: the referral is cancelled, and the card says so', async () => {
	// the case is Sam's again, not Rae's
	H.cliOk(env, 'admin', ['counsellor-update', 'Rae', '--presence', 'away']);
	H.cliOk(env, 'couns', ['profile', '--presence', 'online']);
	const [page, id] = await clientOfA();
	H.cliOk(env, 'couns', ['referral', 'propose', id, '2']);
	await state(page, 'proposed');
	await page.locator('#ref-accept').click();
	await page.locator('#ref-counsellor[data-certified="true"]').waitFor({ timeout: 60000 });
	assert.equal(H.field(H.cliOk(env, 'admin2', ['partnership', 'end', partnership]), 'status'), 'ended');
	await state(page, 'cancelled');
	assert.match(await page.locator('#ref-state').innerText(),
		new RegExp(`^The partnership between ${A_NAME} and Second Path ended, so the referral was cancelled`));
	await page.locator('.people li[data-state="left"][data-reason="partnership"]', { hasText: 'Lou' }).waitFor({ timeout: 30000 });
	assert.deepEqual(page.errors, []);
});
