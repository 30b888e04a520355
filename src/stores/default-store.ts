import { ConfigError } from '../model/errors.js';
import { IndexedDbStore } from './indexeddb/indexeddb-store.js';
import type { QnoxLocalStore } from './local-store.js';

let factory: (() => QnoxLocalStore) | undefined;

/** Set by the Node entry point so `QnoxSync.create` defaults to SQLite there. */
export function setDefaultStore(create: () => QnoxLocalStore): void {
  factory = create;
}

/**
 * The store used when `QnoxSync.create` gets none: SQLite under Node (through
 * the package's `node` export condition), IndexedDB wherever `indexedDB`
 * exists (pages, workers, service workers). Elsewhere there is no durable
 * default, and a silent in-memory one would lose writes on restart: a
 * {@link ConfigError} asks for a store.
 */
export function defaultStore(): QnoxLocalStore {
  if (factory) return factory();
  if ((globalThis as { indexedDB?: unknown }).indexedDB) return new IndexedDbStore();
  throw new ConfigError(
    'store',
    'no durable store here (no IndexedDB, not the Node entry); pass one, e.g. new MemoryStore() for tests',
  );
}
