// The root entry as Node resolves it (export condition "node"): same API, SQLite as the default store.
import { setDefaultStore } from './stores/default-store.js';
import { SqliteStore } from './stores/sqlite/sqlite-store.js';

setDefaultStore(() => new SqliteStore());

export * from './index.js';
export { SqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.js';
