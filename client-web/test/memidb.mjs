// memidb.mjs: an IndexedDB in memory, as much of it as src/app/storage.js
// uses (open with an upgrade, which may be aborted, one object store, get and put in a
// transaction, deleteDatabase), for the node tests of "Keep on this
// device". Each put completes a turn later, as a browser's does; `puts`
// counts the completed ones and `record(db, store, key)` reads what is
// stored now.

export function memIdb() {
	const dbs = new Map();	// name -> Map(store -> Map(key -> value))
	const later = (fn) => setTimeout(fn, 0);
	const request = () => ({ onsuccess: null, onerror: null, onupgradeneeded: null, result: undefined });
	const idb = {
		dbs,
		puts: 0,
		record(name, store, key) {
			return dbs.get(name)?.get(store)?.get(key);
		},
		async databases() {
			return [...dbs.keys()].map((name) => ({ name }));
		},
		open(name) {
			const r = request();
			let aborted = false;
			r.transaction = { abort() { aborted = true; } };
			later(() => {
				const fresh = !dbs.has(name);
				if (fresh) dbs.set(name, new Map());
				const stores = dbs.get(name);
				r.result = {
					objectStoreNames: { contains: (s) => stores.has(s) },
					createObjectStore(s) { stores.set(s, new Map()); },
					close() {},
					transaction(s) {
						const tx = { oncomplete: null, onerror: null, onabort: null, error: null };
						tx.objectStore = () => ({
							get(k) {
								const g = request();
								later(() => {
									g.result = stores.get(s).get(k);
									g.onsuccess?.();
								});
								return g;
							},
							put(v, k) {
								later(() => {
									stores.get(s).set(k, v.slice());
									idb.puts++;
									tx.oncomplete?.();
								});
							},
						});
						return tx;
					},
				};
				if (fresh) r.onupgradeneeded?.();
				if (aborted) {	// a new database's upgrade aborted: none is left
					dbs.delete(name);
					r.error = new Error('AbortError');
					r.onerror?.({ preventDefault() {} });
					return;
				}
				r.onsuccess?.();
			});
			return r;
		},
		deleteDatabase(name) {
			const r = request();
			later(() => {
				dbs.delete(name);
				r.onsuccess?.();
			});
			return r;
		},
	};
	return idb;
}
