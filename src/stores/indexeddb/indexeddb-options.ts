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
   * Time and timers of the store's own upkeep (how long removals linger to
   * be committed together, quarantine times); pass the client's `ManualClock` in tests.
   * @default systemClock
   * @example new ManualClock()
   */
  clock?: Clock;
}
