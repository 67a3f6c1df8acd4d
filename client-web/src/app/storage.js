// storage.js: the one module of the page that writes to the device, and only
// in "Keep on this device" mode. It seals what the page keeps (the core's
// exported state, the history, a few settings) under a key derived from the
// user's passphrase with Argon2id (crypto_pwhash) and encrypts it with
// XChaCha20-Poly1305-IETF; IndexedDB holds only the sealed bytes. In "Leave
// no trace" mode nothing here is called: no database is opened or created.
//
// A sealed vault (bytes):
//   0  4  magic "OFRV"
//   4  1  version = 1
//   5  4  Argon2id opslimit (u32, big-endian)
//   9  4  Argon2id memlimit in KiB (u32, big-endian)
//  13 16  salt
//  29 24  nonce (random, fresh at every seal)
//  53 ..  ciphertext with its 16-byte tag; the 53 header bytes are its AD
// The sealing functions work on bytes and take libsodium as an argument, so
// that node --test checks them without a browser.

export const VAULT_MAGIC = [0x4f, 0x46, 0x52, 0x56]; // "OFRV"
export const VAULT_VERSION = 1;
export const VAULT_HEADER_BYTES = 53;
export const VAULT_KEY_BYTES = 32;
export const PASSPHRASE_MIN = 8;

const SALT_OFF = 13;
const NONCE_OFF = 29;

/* The Argon2id cost for the browser: libsodium's "interactive" (64 MiB). */
export function defaultKdf(sodium) {
	return {
		ops: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
		memKiB: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024,
	};
}

/* The 32-byte key of passphrase and salt; the caller wipes it (wipeKey). */
export function deriveKey(sodium, passphrase, salt, kdf) {
	if (typeof passphrase !== 'string' || passphrase.length === 0)
		throw new Error('empty passphrase');
	if (salt.length !== sodium.crypto_pwhash_SALTBYTES) throw new Error('bad salt');
	return sodium.crypto_pwhash(VAULT_KEY_BYTES, sodium.from_string(passphrase.normalize('NFC')),
		salt, kdf.ops, kdf.memKiB * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13);
}

/* A new vault key: fresh salt, the key, and the cost used. */
export function newVaultKey(sodium, passphrase, kdf = defaultKdf(sodium)) {
	const salt = sodium.randombytes_buf(sodium.crypto_pwhash_SALTBYTES);
	return { salt, kdf, key: deriveKey(sodium, passphrase, salt, kdf) };
}

function u32be(buf, off, v) {
	buf[off] = v >>> 24; buf[off + 1] = (v >>> 16) & 255;
	buf[off + 2] = (v >>> 8) & 255; buf[off + 3] = v & 255;
}
const readU32 = (b, off) => ((b[off] << 24) >>> 0) + (b[off + 1] << 16) + (b[off + 2] << 8) + b[off + 3];

/* Reads a vault's header (throws on a record that is not a vault). */
export function vaultHeader(sodium, rec) {
	if (!(rec instanceof Uint8Array) || rec.length < VAULT_HEADER_BYTES + 16)
		throw new Error('not a vault');
	for (let i = 0; i < 4; i++) if (rec[i] !== VAULT_MAGIC[i]) throw new Error('not a vault');
	if (rec[4] !== VAULT_VERSION) throw new Error('unknown vault version');
	const kdf = { ops: readU32(rec, 5), memKiB: readU32(rec, 9) };
	if (kdf.ops < sodium.crypto_pwhash_OPSLIMIT_MIN || kdf.ops > 64 ||
	    kdf.memKiB * 1024 < sodium.crypto_pwhash_MEMLIMIT_MIN || kdf.memKiB > 1024 * 1024)
		throw new Error('vault cost out of bounds');
	return { kdf, salt: rec.slice(SALT_OFF, SALT_OFF + 16) };
}

/* Seals plain (bytes) under vk = {key, salt, kdf}: a new vault record. */
export function seal(sodium, vk, plain) {
	const out = new Uint8Array(VAULT_HEADER_BYTES + plain.length + 16);
	out.set(VAULT_MAGIC, 0);
	out[4] = VAULT_VERSION;
	u32be(out, 5, vk.kdf.ops);
	u32be(out, 9, vk.kdf.memKiB);
	out.set(vk.salt, SALT_OFF);
	const nonce = sodium.randombytes_buf(24);
	out.set(nonce, NONCE_OFF);
	const ad = out.subarray(0, VAULT_HEADER_BYTES);
	const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, vk.key);
	out.set(ct, VAULT_HEADER_BYTES);
	return out;
}

/*
 * Opens a vault record with a passphrase: {plain, vk} (vk to seal again), or
 * throws Error('wrong passphrase') when it does not authenticate (a wrong
 * passphrase and damaged bytes look the same).
 */
export function unseal(sodium, rec, passphrase) {
	const { kdf, salt } = vaultHeader(sodium, rec);
	const key = deriveKey(sodium, passphrase, salt, kdf);
	const vk = { key, salt, kdf };
	try {
		return { plain: openWith(sodium, vk, rec), vk };
	} catch (e) {
		wipeKey(sodium, vk);
		throw e;
	}
}

/* Opens a vault record with a key already derived. */
export function openWith(sodium, vk, rec) {
	vaultHeader(sodium, rec);
	const ad = rec.subarray(0, VAULT_HEADER_BYTES);
	const nonce = rec.subarray(NONCE_OFF, NONCE_OFF + 24);
	try {
		return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null,
			rec.subarray(VAULT_HEADER_BYTES), ad, nonce, vk.key);
	} catch {
		throw new Error('wrong passphrase');
	}
}

export function wipeKey(sodium, vk) {
	if (vk && vk.key) sodium.memzero(vk.key);
}

/* ------------------------------------------------------------ IndexedDB */

const DB_NAME = 'offramp';
const STORE = 'vault';
const RECORD = 'v1';

function req(r) {
	return new Promise((resolve, reject) => {
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error || new Error('indexeddb'));
	});
}

/* The database, made when create is true; else null when there is none,
 * and none is made: the upgrade that would make it is aborted, which
 * leaves no database behind (a trace on a shared device that the page
 * was used). */
function openDb(idb, create = true) {
	return new Promise((resolve, reject) => {
		const r = idb.open(DB_NAME, 1);
		let absent = false;
		r.onupgradeneeded = () => {
			if (create) {
				r.result.createObjectStore(STORE);
				return;
			}
			absent = true;
			r.transaction.abort();
		};
		r.onsuccess = () => resolve(r.result);
		r.onerror = (ev) => {
			if (!absent) {
				reject(r.error || new Error('indexeddb'));
				return;
			}
			ev?.preventDefault?.();
			resolve(null);
		};
	});
}

/*
 * Whether a vault may exist, without creating anything: true or false when
 * the browser can list its databases, null when it cannot tell.
 */
export async function vaultMayExist(idb = globalThis.indexedDB) {
	if (!idb) return false;
	if (typeof idb.databases !== 'function') return null;
	const dbs = await idb.databases();
	return dbs.some((d) => d.name === DB_NAME);
}

/* The sealed record, or null; makes no database where there is none. */
export async function vaultRead(idb = globalThis.indexedDB) {
	const db = await openDb(idb, false);
	if (!db) return null;
	try {
		const tx = db.transaction(STORE, 'readonly');
		const v = await req(tx.objectStore(STORE).get(RECORD));
		return v instanceof Uint8Array ? v : v ? new Uint8Array(v) : null;
	} finally {
		db.close();
	}
}

export async function vaultWrite(rec, idb = globalThis.indexedDB) {
	const db = await openDb(idb);
	try {
		const tx = db.transaction(STORE, 'readwrite');
		tx.objectStore(STORE).put(rec, RECORD);
		await new Promise((resolve, reject) => {
			tx.oncomplete = resolve;
			tx.onerror = tx.onabort = () => reject(tx.error || new Error('indexeddb write'));
		});
	} finally {
		db.close();
	}
}

/* Deletes the whole database: nothing of the page is left on the device. */
export function vaultErase(idb = globalThis.indexedDB) {
	if (!idb) return Promise.resolve();
	return req(idb.deleteDatabase(DB_NAME)).then(() => undefined);
}
