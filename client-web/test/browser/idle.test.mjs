// Presence follows the counsellor: online while connected, "away" after the
// chosen idle time without input, online again at the next input. The
// page's clock is Playwright's fake clock, moved forward: no waiting.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('idle', { counsellor: false });
	await H.launch(env);
});
test.after(() => env && env.close());

const presence = (env) => (H.cliOk(env, 'admin', ['counsellors']).match(/presence=(\w+)/) || [])[1];

test('away after the idle time, online again at the next input', async () => {
	const page = await H.newPage(env);
	await page.clock.install();
	await H.webJoin(page, env, { name: 'Ida' });
	await page.getByText('Online: you get new cases').waitFor();
	assert.equal(presence(env), 'online');
	await page.getByLabel('Away after no activity for').selectOption('5');
	await page.clock.fastForward('04:00');
	assert.match(await page.locator('.presence').innerText(), /Online/, 'not yet');
	await page.clock.fastForward('01:30');
	await page.getByText('Away: no new cases').waitFor({ timeout: 10000 });
	await H.waitFor('the server to know Ida is away', () => presence(env) === 'away');
	await page.mouse.click(5, 300);
	await page.getByText('Online: you get new cases').waitFor({ timeout: 10000 });
	await H.waitFor('the server to know Ida is online', () => presence(env) === 'online');
	await page.context().close();
});
