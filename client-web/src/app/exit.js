// exit.js: quick exit. A button on every screen and Escape pressed three
// times (within 1.5 s) replace the page with a neutral site by
// location.replace: the user leaves, the page fetches nothing, and the
// page is not left behind in the tab's back history. Before leaving it
// calls wipe() (in "Leave no trace" mode: forget every key and message in
// memory) and empties the document. It must work even when wipe throws.

export const ESC_COUNT = 3;
export const ESC_WINDOW_MS = 1500;

/* Leaves now. */
export function quickExit({ url, wipe, win = globalThis.window }) {
	try {
		if (wipe) wipe();
	} catch {
		/* leaving matters more than wiping cleanly */
	}
	try {
		win.document.title = '';
		win.document.body.textContent = '';
	} catch {
		/* no document (tests) */
	}
	win.location.replace(url);
}

/*
 * Listens for Escape ×3 on win; returns a function that stops listening.
 * now() is injectable for tests.
 */
export function installEscapeExit({ url, wipe, win = globalThis.window, now = () => Date.now() }) {
	let presses = [];
	const onKey = (ev) => {
		if (ev.key !== 'Escape' || ev.repeat) return;
		const t = now();
		presses = presses.filter((p) => t - p < ESC_WINDOW_MS);
		presses.push(t);
		if (presses.length >= ESC_COUNT) {
			presses = [];
			quickExit({ url, wipe, win });
		}
	};
	win.addEventListener('keydown', onKey, true);
	return () => win.removeEventListener('keydown', onKey, true);
}
