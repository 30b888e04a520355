import { ConfigError } from '../../model/errors.js';
import type { QnoxPlugin } from '../../outbox/plugin-interface.js';
import type { QnoxLocalStore } from '../../stores/local-store.js';
import { HotCache } from './hot-cache.js';

/** Options of {@link hotCache}. */
export interface HotCacheOptions {
  /**
   * How many cache records (and keys known to have none) to keep in memory.
   * @default 100
   * @example 500
   */
  entries?: number;
}

/**
 * The most recently read cache records kept in memory in front of any store,
 * as a plug-in: a hot read costs no store transaction (in Chromium about 0.05×
 * a bare IndexedDB `get`; `npm run bench`). Every cache write through the
 * client drops the key first and keeps the new record after. Other contexts on
 * the same store (tabs, the service worker: stores with a `channelName`) tell
 * each other of their cache writes over a BroadcastChannel, so a hot entry
 * another context replaced is not served. Do not use it where processes that do
 * not share a BroadcastChannel write one cache (several Node processes on one
 * SQLite file).
 *
 * @example
 * import { hotCache } from 'qnox-offline-sync/hot-cache';
 * const sync = await QnoxSync.create({ baseUrl, plugins: [hotCache({ entries: 200 })] });
 */
export function hotCache(options: HotCacheOptions = {}): QnoxPlugin {
  for (const key of Object.keys(options ?? {}))
    if (key !== 'entries')
      throw new ConfigError(`hotCache.${key}`, 'is not an option of hotCache()');
  const entries = options?.entries ?? 100;
  if (!Number.isInteger(entries) || entries < 1)
    throw new ConfigError('hotCache.entries', 'must be a whole number of at least 1');
  return { name: 'hotCache', ports: { store: (store) => withHotCache(store, entries) } };
}

/** `store` with `entries` cache records held in memory in front of it. */
export function withHotCache(store: QnoxLocalStore, entries: number): QnoxLocalStore {
  const hot = new HotCache(
    entries,
    store.channelName === undefined ? undefined : `qnox-cache:${store.channelName}`,
  );
  const own: Partial<QnoxLocalStore> = {
    getCache: (key) => hot.read(key, () => store.getCache(key)),
    putCache: (entry) => hot.write(entry.key, () => store.putCache(entry), entry),
    purgeExpiredCache: (now, keepStaleMs) =>
      hot.write(null, () => store.purgeExpiredCache(now, keepStaleMs)),
    clear: (options) => hot.write(null, () => store.clear(options)),
    close: () => {
      hot.close();
      return store.close();
    },
  };
  const { deleteCache, writeCache } = store;
  if (deleteCache) own.deleteCache = (key) => hot.write(key, () => deleteCache.call(store, key));
  if (writeCache)
    own.writeCache = (put, remove) => hot.write(null, () => writeCache.call(store, put, remove));
  const bound = new Map<PropertyKey, unknown>();
  // Every other member is the store's own, called on the store itself (its private fields).
  return new Proxy(store, {
    get(target, prop) {
      if (prop in own) return own[prop as keyof QnoxLocalStore];
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (!bound.has(prop)) bound.set(prop, value.bind(target));
      return bound.get(prop);
    },
  });
}
