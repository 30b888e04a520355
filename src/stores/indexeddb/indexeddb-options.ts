import type { Clock } from '../../platform/clock.js';

/** Options of {@link IndexedDbStore}. */
export interface IndexedDbStoreOptions {
  /**
   * Database name; one database per app (and per user, if you want hard separation).
   * @default 'qnox-offline-sync'
   * @example 'orders-app'
   */
  name?: string;
  /**
   * The IndexedDB factory.
   * @default globalThis.indexedDB, read when the store opens (so importing in Node never throws)
   * @example new IDBFactory() // from fake-indexeddb
   */
  indexedDB?: IDBFactory;
  /**
   * The `IDBKeyRange` of the same implementation as `indexedDB`.
   * @default globalThis.IDBKeyRange
   * @example IDBKeyRange // from fake-indexeddb
   */
  IDBKeyRange?: typeof IDBKeyRange;
  /**
   * Ask the browser to keep this origin's storage under pressure (`navigator.storage.persist()`).
   * @default true
   * @example false
   */
  persist?: boolean;
  /**
   * How many cache records (and known-absent keys) to keep in memory, so a hot
   * read costs no IndexedDB transaction. Other tabs and the service worker on
   * the same database tell this one of their changes over a BroadcastChannel;
   * where there is none, use 0 if several contexts write the cache.
   * @default 100
   * @example 0 // every read goes to IndexedDB
   */
  hotEntries?: number;
  /**
   * Time and timers of the store's own upkeep (the drain-lock election where
   * Web Locks are missing); pass the client's `ManualClock` in tests.
   * @default systemClock
   * @example new ManualClock()
   */
  clock?: Clock;
}
