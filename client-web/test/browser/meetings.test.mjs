// Meetings and the counselling agreement in the browser (CRYPTO.md, kinds
// meeting and agreement), from the client's side, against a counsellor
// of the real CLI: the web client accepts one meeting Sam proposes and
// declines another, proposes one that Sam reads, moves the accepted one
// to another time and place, then calls it off; accepts a meeting Sam
// moved; revises the agreement Sam proposed, and Sam reads the revision
// and accepts it. Every step is an encrypted message the CLI reads in its
// own words.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env, page, id;
test.before(async () => {
	env = await H.setupPool('meetings');
	await H.launch(env);
	page = await H.newPage(env);
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Start a conversation' }).click();
	await page.locator('.people li[data-role="counsellor"]', { hasText: 'Sam' }).waitFor({ timeout: 30000 });
	id = H.cliOk(env, 'couns', ['cases']).split('\n').find((l) => / active /.test(l)).split(' ')[0];
});
test.after(() => env && env.close());

/* Sam's next received message matching re (recv prints and acks it). */
async function samReads(re) {
	let seen = '';
	await H.waitFor(`Sam to read ${re}`, () => {
		seen += H.cli(env, 'couns', ['recv', '--count', '1', '--wait', '5']).out;
		return re.test(seen);
	}, 40000);
	return seen.match(re);
}

const meeting = (n) => page.locator(`#meetings li[data-meeting="${n}"]`);
const status = (n, s) => page.locator(`#meetings li[data-meeting="${n}"][data-status="${s}"]`).waitFor({ timeout: 30000 });

test('meetings: accept, decline, propose, another time, call off', async () => {
	const first = H.field(H.cliOk(env, 'couns', ['meeting', 'propose', id, '2030-05-04 15:30', 'Café Nordstern', 'green umbrella']), 'meeting');
	await status(first, 'propose');
	assert.match(await meeting(first).innerText(), /Café Nordstern[\s\S]*green umbrella[\s\S]*Proposed by Sam\./);
	await meeting(first).getByRole('button', { name: 'Accept' }).click();
	await status(first, 'accept');
	assert.match(await meeting(first).innerText(), /You accepted it\./);
	await samReads(new RegExp(`\\[meeting ${first} accepted: 2030-05-04 15:30 UTC\\]`));

	const second = H.field(H.cliOk(env, 'couns', ['meeting', 'propose', id, '2030-05-11 09:00', 'Town hall']), 'meeting');
	await status(second, 'propose');
	await meeting(second).getByRole('button', { name: 'Decline' }).click();
	await status(second, 'decline');
	await samReads(new RegExp(`\\[meeting ${second} declined: 2030-05-11 09:00 UTC\\]`));

	// the client proposes one
	await page.getByLabel('When', { exact: true }).fill('2030-06-01T10:00');
	await page.getByLabel('Place', { exact: true }).fill('City library');
	await page.getByLabel('How to recognise each other (optional)').fill('a red scarf');
	await page.getByRole('button', { name: 'Propose the meeting' }).click();
	await page.locator('#meet-status', { hasText: 'Your proposal is sent, encrypted.' }).waitFor({ timeout: 20000 });
	const [, mine] = await samReads(/\[meeting (\d+) proposed: 2030-06-01 \d\d:00 UTC; place: City library; recognise: a red scarf\]/);
	await status(mine, 'propose');
	assert.match(await meeting(mine).innerText(), /You proposed it\./);

	// Sam moves it, the client accepts the new time
	H.cliOk(env, 'couns', ['meeting', 'reschedule', id, mine, '2030-06-02 11:00', 'City library, front door']);
	await status(mine, 'reschedule');
	assert.match(await meeting(mine).innerText(), /City library, front door[\s\S]*Moved by Sam\./);
	await meeting(mine).getByRole('button', { name: 'Accept' }).click();
	await samReads(new RegExp(`\\[meeting ${mine} accepted: 2030-06-02 11:00 UTC\\]`));

	// the client moves the first one, then calls it off
	await meeting(first).getByRole('button', { name: 'Another time or place' }).click();
	assert.equal(await page.getByLabel('New place').inputValue(), 'Café Nordstern');
	await page.getByLabel('New time').fill('2030-05-05T16:00');
	await page.getByLabel('New place').fill('Café Nordstern, garden');
	await page.getByRole('button', { name: 'Send the new time' }).click();
	await status(first, 'reschedule');
	await samReads(new RegExp(`\\[meeting ${first} rescheduled: 2030-05-05 \\d\\d:00 UTC; place: Café Nordstern, garden; recognise: green umbrella\\]`));
	await H.axe(page, 'conversation (meetings)');
	await meeting(first).scrollIntoViewIfNeeded();
	await page.evaluate(() => {
		document.getElementById('meetings-card').scrollIntoView({ block: 'start' });
		window.scrollBy(0, -document.querySelector('header').getBoundingClientRect().height - 8);
	});
	await H.shot(page, '34-client-meetings');
	await meeting(first).getByRole('button', { name: 'Call off the meeting' }).click();
	await status(first, 'cancel');
	assert.equal(await meeting(first).getByRole('button').count(), 0, 'nothing left to do with it');
	await samReads(new RegExp(`\\[meeting ${first} cancelled: 2030-05-05 \\d\\d:00 UTC\\]`));
	const list = H.cliOk(env, 'couns', ['meetings', id]);
	assert.match(list, new RegExp(`^${first}\\t2030-05-05 \\d\\d:00 UTC\\tcancelled by `, 'm'));
	assert.match(list, new RegExp(`^${mine}\\t2030-06-02 11:00 UTC\\taccepted by `, 'm'));
	assert.deepEqual(page.errors, []);
});

test('the agreement: Sam proposes, the client revises, Sam accepts the revision', async () => {
	H.cliOk(env, 'couns', ['agreement', 'propose', id, 'leave the group safely', 'chat', 'weekly', 'call 112']);
	await page.locator('#agreement-accept').waitFor({ timeout: 30000 });
	assert.match(await page.locator('#agreement').innerText(), /version 1[\s\S]*leave the group safely[\s\S]*Sam proposed this version/);
	// the form starts from the version proposed
	assert.equal(await page.getByLabel('Objectives').inputValue(), 'leave the group safely');
	await page.getByLabel('How often').fill('twice a week');
	await page.getByRole('button', { name: 'Send the agreement' }).click();
	await page.locator('#agreement-state', { hasText: 'You proposed this version.' }).waitFor({ timeout: 20000 });
	await samReads(/\[agreement version 2 revised: objectives: leave the group safely; formats: chat; how often: twice a week; in a crisis: call 112\]/);
	H.cliOk(env, 'couns', ['agreement', 'accept', id]);
	await page.locator('#agreement-state[data-accepted="true"]', { hasText: 'In force: Sam accepted it.' }).waitFor({ timeout: 30000 });
	assert.match(H.cliOk(env, 'couns', ['agreement', 'show', id]), /twice a week/);
	assert.deepEqual(page.errors, []);
	assert.deepEqual(page.foreign, []);
});
