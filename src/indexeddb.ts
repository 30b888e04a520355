export { IndexedDbStore, type IndexedDbStoreOptions } from './stores/indexeddb/indexeddb-store.js';
