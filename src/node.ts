export { type SchedulerOptions, startScheduler } from './node-scheduler.js';
export type { SqliteDatabase, SqliteStatement } from './stores/sqlite/driver.js';
export { openDatabase } from './stores/sqlite/driver.js';
export { SqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.js';
