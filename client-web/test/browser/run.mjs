// run.mjs FILE...: the browser test files named, one after the other, in
// this one process and one Chromium (harness.mjs's launch): each file a
// suite of its own, its before and after hooks its own. tests/CMakeLists.txt
// runs the browser tests in groups of files so (node --test starts a
// process, node:test's and playwright-core's load, and a Chromium for each
// file: some 2.4 CPU s). One at a time: a file's synchronous CLI calls
// (spawnSync, up to 20 s for a recv) would hold another file's waits.
// Exits non-zero when a test failed.
import { describe, after } from 'node:test';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as H from './harness.mjs';

H.keepBrowser();
for (const f of process.argv.slice(2))
	describe(path.basename(f), async () => {
		await import(pathToFileURL(path.resolve(f)).href);
	});
after(() => H.closeBrowser());
