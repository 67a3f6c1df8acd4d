// index.js: the protocol library of the web client in one import, as
// proto/ is one static library for the server and the CLI.
export * from './err.js';
export * from './bytes.js';
export * from './csprng.js';
export * from './ocrypto.js';
export * from './frame.js';
export * from './hkdf.js';
export * from './pad.js';
export * from './envelope.js';
export * from './safety.js';
export * from './cert.js';
export * from './feedback.js';
export * from './x3dh.js';
export * from './ratchet.js';
export * from './pow.js';
