// `qnox-offline-sync/encryption`: encryption at rest, as a wrapper around any store.
export type { EncryptionKeyOptions } from './stores/encryption/cipher.js';
export { encryptedStore } from './stores/encryption/encrypted-store.js';
