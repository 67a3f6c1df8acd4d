// main.js: the page's entry. It loads libsodium, picks the language, makes
// the one store and the controller, mounts the views and the quick exit.
// A link's fragment "#programme=N" fills in a programme's number.
// Build-time settings (__OFFRAMP_PINS__, __OFFRAMP_EXIT_URL__) come from
// build.mjs.

import sodium from 'libsodium-wrappers-sumo';
import { createCore } from './core.js';
import { createStore } from './app/store.js';
import { createController, programmeOfFragment } from './app/controller.js';
import { installEscapeExit } from './app/exit.js';
import { vaultMayExist } from './app/storage.js';
import { pickLanguage, setLanguage } from './i18n/index.js';
import { mountShell } from './ui/shell.js';

/* global __OFFRAMP_PINS__, __OFFRAMP_EXIT_URL__ */
const PINS = typeof __OFFRAMP_PINS__ !== 'undefined' ? __OFFRAMP_PINS__ : [];
const EXIT_URL = typeof __OFFRAMP_EXIT_URL__ !== 'undefined' ? __OFFRAMP_EXIT_URL__ : 'https://www.bbc.com/weather';

async function main() {
	const store = createStore();
	const lang = setLanguage(pickLanguage(navigator.languages || [navigator.language]));
	// a programme's link (#programme=N, on its flyer): the number is filled
	// in, and the fragment leaves the address bar and the device's history
	const programme = programmeOfFragment(location.hash);
	if (location.hash) history.replaceState(null, '', location.pathname + location.search);
	store.update((s) => {
		s.lang = lang;
		if (programme) s.wishes.programme = programme;
	});
	let intents = null;
	// quick exit works from the first moment, even before libsodium is ready
	installEscapeExit({ url: EXIT_URL, wipe: () => intents && intents._wipe && intents._wipe() });
	await sodium.ready;
	intents = createController({
		store,
		createCore,
		sodium,
		config: {
			url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`,
			WebSocket,
			pins: PINS,
			exitUrl: EXIT_URL,
		},
	});
	mountShell(document.getElementById('app'), store, intents);
	vaultMayExist().then((v) => store.update((s) => { s.vaultExists = v; }), () => {});
}

main();
