import { IndexedDbStore } from './indexeddb/indexeddb-store.js';
import type { QnoxLocalStore } from './local-store.js';
import { MemoryStore } from './memory-store.js';

let factory: (() => QnoxLocalStore) | undefined;

/** Set by the Node entry point so `QnoxSync.create` defaults to SQLite there. */
export function setDefaultStore(create: () => QnoxLocalStore): void {
  factory = create;
}

/**
 * The store used when `QnoxSync.create` gets none: SQLite under Node (through
 * the package's `node` export condition), IndexedDB wherever `indexedDB`
 * exists (pages, workers, service workers), memory elsewhere.
 */
export function defaultStore(): QnoxLocalStore {
  if (factory) return factory();
  if ((globalThis as { indexedDB?: unknown }).indexedDB) return new IndexedDbStore();
  return new MemoryStore();
}
