import { ConfigError } from '../model/errors.js';
import type { QnoxLocalStore } from './local-store.js';

/** How `QnoxSync.create` gets a store when it is passed none. */
export type DefaultStoreLoader = () => Promise<QnoxLocalStore>;

/**
 * The default of the root entry: IndexedDB wherever `indexedDB` exists (pages,
 * workers, service workers), loaded on demand, so an app that passes its own
 * store never loads it (a bundler splits it into its own chunk). Elsewhere
 * there is no durable default, and a silent in-memory one would lose writes on
 * restart: a {@link ConfigError} asks for a store. The Node entry has its own
 * loader (SQLite), chosen by the package's `node` export condition, with no
 * import side effect for a bundler to drop.
 */
export const browserDefaultStore: DefaultStoreLoader = async () => {
  if (!(globalThis as { indexedDB?: unknown }).indexedDB)
    throw new ConfigError(
      'store',
      'no durable store here (no IndexedDB, not the Node entry); pass one, e.g. new MemoryStore() for tests',
    );
  const { IndexedDbStore } = await import('./indexeddb/indexeddb-store.js');
  return new IndexedDbStore();
};
