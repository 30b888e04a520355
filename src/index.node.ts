// The root entry as Node resolves it (export condition "node"): same API, SQLite as the default store.

export { QnoxSync } from './client/node-client.js';
export * from './index.js';
export { type SchedulerOptions, startScheduler } from './node-scheduler.js';
export { SqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.js';
