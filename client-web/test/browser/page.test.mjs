// The page as served: response headers (CSP and the rest), nothing fetched
// from another origin, the start screen's accessibility at 360 px, the
// languages (en, de, ar right to left), and quick exit by button and by
// Escape pressed three times (the neutral site is answered by page.route:
// no real outside request is made).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as H from './harness.mjs';

let env;
test.before(async () => {
	env = await H.setupPool('page', { counsellor: false });
	await H.launch(env);
});
test.after(() => env && env.close());

test('the server sends the page with a strict CSP, no-store, no referrer, nosniff', async () => {
	for (const f of ['', 'index.html', 'app.js', 'app.css', 'sodium.js']) {
		const res = await fetch(env.url + f);
		assert.equal(res.status, 200, f);
		const csp = res.headers.get('content-security-policy') || '';
		assert.match(csp, /default-src 'self'/, f);
		assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/, f);
		assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, f);
		assert.match(csp, /connect-src 'self'/, f);
		assert.match(csp, /frame-ancestors 'none'/, f);
		assert.equal(res.headers.get('referrer-policy'), 'no-referrer', f);
		assert.equal(res.headers.get('x-content-type-options'), 'nosniff', f);
		assert.match(res.headers.get('cache-control') || '', /no-store/, f);
		assert.equal(res.headers.get('set-cookie'), null, f);
		await res.arrayBuffer();
	}
	const js = await fetch(`${env.url}app.js`);
	assert.match(js.headers.get('content-type'), /javascript/);
	await js.arrayBuffer();
});

test('the start screen: no foreign request, no console error, accessible at 360 px', async () => {
	const page = await H.newPage(env);
	const res = await page.goto(env.url);
	assert.equal(res.status(), 200);
	await page.getByRole('button', { name: 'Start a conversation' }).waitFor();
	// every optional wish defaults to "no preference", the mode to leave no trace
	for (const sel of ['topic', 'background', 'gender', 'age_band', 'format'])
		assert.equal(await page.locator(`select[name="${sel}"]`).inputValue(), '', sel);
	assert.equal(await page.locator('input[name="keep"][value="trace"]').isChecked(), true);
	assert.equal(await page.getByLabel('Passphrase', { exact: true }).isVisible(), false);
	assert.equal(await page.getByLabel('Type it again').isVisible(), false);
	await page.getByText('Wishes for your counsellor (optional)').click();
	await H.axe(page, 'start');
	await H.shot(page, '01-start');
	await page.getByLabel('Keep on this device').check();
	assert.equal(await page.getByLabel('Passphrase', { exact: true }).isVisible(), true);
	assert.equal(await page.getByLabel('Type it again').isVisible(), true);
	await H.axe(page, 'start (keep on device)');
	// landmarks, labels, a visible focus
	assert.equal(await page.locator('header').count(), 1);
	assert.equal(await page.locator('main').count(), 1);
	await page.keyboard.press('Tab');
	await page.keyboard.press('Tab');
	const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
	assert.notEqual(outline, 'none', 'the focused element shows its focus');
	// the other screens of the start: recovery code, counsellor join
	await page.getByRole('button', { name: 'I have a recovery code' }).click();
	await page.getByRole('heading', { name: 'Continue with a recovery code' }).waitFor();
	assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus moves to the new screen');
	await H.axe(page, 'restore');
	await H.shot(page, '02-restore');
	await page.getByRole('button', { name: 'Back' }).click();
	await page.getByRole('button', { name: 'I am a counsellor' }).click();
	await page.getByRole('heading', { name: 'Counsellor: join with an invite' }).waitFor();
	await H.axe(page, 'join');
	await H.shot(page, '20-counsellor-join');
	assert.deepEqual(page.foreign, [], 'no request to another origin');
	assert.deepEqual(page.errors, [], 'no error in the console');
	await page.context().close();
});

test('the language follows the browser, can be changed, and Arabic is right to left', async () => {
	const page = await H.newPage(env, { locale: 'de-DE' });
	await page.goto(env.url);
	await page.getByRole('button', { name: 'Gespräch beginnen' }).waitFor();
	assert.equal(await page.getAttribute('html', 'lang'), 'de');
	assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
	await H.axe(page, 'start (de)');
	await H.shot(page, '03-start-de');
	await page.getByLabel('Sprache dieser Seite').selectOption('ar');
	await page.getByRole('button', { name: 'ابدأ محادثة' }).waitFor();
	assert.equal(await page.getAttribute('html', 'lang'), 'ar');
	assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
	assert.equal(await page.title(), 'محادثة');
	// the layout mirrors: the quick exit button sits on the left in rtl
	const box = await page.locator('#quick-exit').boundingBox();
	assert.ok(box.x < 100, `quick exit on the left in rtl (x=${box.x})`);
	await H.axe(page, 'start (ar)');
	await H.shot(page, '04-start-ar');
	await page.getByLabel('لغة هذه الصفحة').selectOption('en');
	await page.getByRole('button', { name: 'Start a conversation' }).waitFor();
	assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
	assert.deepEqual(page.foreign, []);
	await page.context().close();
});

test('quick exit: the button and Escape ×3 replace the page with the neutral site', async () => {
	const page = await H.newPage(env, { allowExit: true });
	await page.goto(env.url);
	await page.getByRole('button', { name: /Quick exit/ }).waitFor();
	const before = await page.evaluate(() => history.length);
	await page.getByRole('button', { name: /Quick exit/ }).click();
	await page.waitForURL(`${H.EXIT_URL}**`, { timeout: 10000 });
	assert.equal(page.url(), H.EXIT_URL);
	assert.equal(await page.evaluate(() => history.length), before, 'location.replace: the page is not left in the back history');
	assert.deepEqual(page.exits, [H.EXIT_URL]);

	await page.goto(env.url);
	await page.getByRole('button', { name: 'Start a conversation' }).waitFor();
	// the skip link takes the user to the content without a history
	// entry (Back from the neutral site came back to this page)
	const entries = await page.evaluate(() => history.length);
	await page.keyboard.press('Tab');
	await page.keyboard.press('Enter');
	assert.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'the skip link: the content has the focus');
	assert.equal(await page.evaluate(() => history.length), entries, 'the skip link: no history entry');
	assert.equal(new URL(page.url()).hash, '', 'and no fragment in the address');
	await page.locator('select[name="topic"]').focus().catch(() => {});
	await page.keyboard.press('Escape');
	await page.keyboard.press('Escape');
	assert.equal(new URL(page.url()).origin, new URL(env.url).origin, 'two presses do nothing');
	await page.keyboard.press('Escape');
	await page.waitForURL(`${H.EXIT_URL}**`, { timeout: 10000 });
	assert.deepEqual(page.foreign, [], 'nothing but the neutral site, which the user navigated to');
	await page.context().close();
});
