import type { CollectionSpec } from '../cache/collections.js';
import type { CacheStrategy } from '../cache/get-options.js';
import type { RetryPolicy } from '../engine/backoff.js';
import type { FetchLike } from '../http/transport.js';
import type { QnoxPlugin } from '../outbox/plugin-interface.js';
import type { Clock } from '../platform/clock.js';
import type { ConnectivityMonitor } from '../platform/connectivity.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import type { OptionGroups } from './option-groups.js';

export type { CacheStrategy, GetOptions } from '../cache/get-options.js';
export type { QnoxResponse } from '../model/responses.js';
export type { MutationOptions } from '../outbox/mutation-options.js';

/**
 * The flat option names: `baseUrl`, `store`, `fetch`, `retry`, `plugins`,
 * `allowedOrigins` and the seed's `authTokenProvider` / `refreshToken`, plus
 * the earlier flat names of what now lives in a group (deprecated; each still
 * works, and the group's name wins when both are given).
 */
export interface FlatOptions {
  /**
   * Absolute http(s) URL every relative path is joined to. Its origin is the
   * only one requests may go to, unless listed in `allowedOrigins`.
   * @example 'https://api.example.com/v1'
   */
  baseUrl: string;
  /**
   * Where the outbox and the cache live.
   * @default `SqliteStore` at `./.qnox/sync.db` in Node, `IndexedDbStore` where `indexedDB` exists;
   * elsewhere required (a `ConfigError` rather than a store that forgets writes on restart)
   * @example new MemoryStore()
   */
  store?: QnoxLocalStore;
  /**
   * Called before every request; the token goes out as `Authorization: Bearer <token>`
   * and is never written to the store. Return nothing to send no header.
   * @default none
   * @example async () => session.accessToken
   */
  authTokenProvider?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Called once on a 401, shared by every request that got one meanwhile.
   * Return `true` to resend with a fresh token; `false` (or a throw) pauses
   * delivery in `authRequired` until `resume()`. Nothing is dropped.
   * @default none (a 401 pauses delivery)
   * @example async () => (await session.refresh()).ok
   */
  refreshToken?: () => boolean | Promise<boolean>;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   * @example fetch
   */
  fetch?: FetchLike;
  /**
   * Retry policy for network errors, timeouts and 408/425/429/500/502/503/504.
   * @default { baseDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 10 }
   * @example { baseDelayMs: 500, maxAttempts: 20 }
   */
  retry?: Partial<RetryPolicy>;
  /**
   * How many ordering keys deliver in parallel. Writes sharing a key always go one at a time.
   * @default 4
   * @example 1 // strictly one write at a time, across keys too
   * @deprecated use `delivery.concurrency`
   */
  concurrency?: number;
  /**
   * Per-request timeout; a write that times out is retried with the same `Idempotency-Key`.
   * @default 30000
   * @example 10_000
   * @deprecated use `delivery.timeoutMs`
   */
  timeoutMs?: number;
  /**
   * Default time a cached GET stays fresh.
   * @default 300000 (5 minutes)
   * @example 60_000
   * @deprecated use `cache.ttlMs`
   */
  cacheTtlMs?: number;
  /**
   * How long past its TTL a cached GET is still kept to answer offline reads.
   * `purgeExpiredCache` deletes entries older than that.
   * @default 604800000 (7 days)
   * @example 86_400_000
   * @deprecated use `cache.maxStaleMs`
   */
  maxStaleMs?: number;
  /**
   * Default strategy of `get`.
   * @default 'networkFirst'
   * @example 'staleWhileRevalidate'
   * @deprecated use `cache.strategy`
   */
  cacheStrategy?: CacheStrategy;
  /**
   * Part of every cache key, so two users of one device never read each other's
   * responses. A function is called on every read and write.
   * @default '' (one shared scope)
   * @example () => currentUser.id
   * @deprecated use `cache.scope`
   */
  cacheScope?: string | (() => string);
  /**
   * Other origins absolute URLs may target. Everything else is refused with an `OriginError`.
   * @default [] (only `baseUrl`'s origin)
   * @example ['https://uploads.example.com']
   */
  allowedOrigins?: readonly string[];
  /**
   * Ordering key for writes that name none. `'path'` uses the resource path
   * (`/orders/7`); any other string puts every write in that one queue.
   * @default 'path'
   * @example 'global' // one strict FIFO for everything
   * @deprecated use `delivery.orderingKey`
   */
  defaultOrderingKey?: 'path' | (string & {});
  /**
   * Drain automatically: on create, on every new write, on reconnect and when a retry is due.
   * With `false` only `sync()` sends.
   * @default true
   * @example false
   * @deprecated use `delivery.autoSync`
   */
  autoSync?: boolean;
  /**
   * URL probed (with `HEAD`) after a network failure to tell "offline" from "this request failed".
   * Any HTTP answer counts as reachable.
   * @default baseUrl
   * @example 'https://api.example.com/health'
   * @deprecated use `platform.probeUrl`
   */
  probeUrl?: string;
  /**
   * Network status from the platform.
   * @default `navigator.onLine` and `online`/`offline` events where present, else always online
   * @example manualConnectivity(true)
   * @deprecated use `platform.connectivity`
   */
  connectivity?: ConnectivityMonitor;
  /**
   * Source of time and timers. Replace it in tests to run hours of backoff instantly.
   * @default systemClock
   * @example new ManualClock() // from 'qnox-offline-sync/testing'
   * @deprecated use `platform.clock`
   */
  clock?: Clock;
  /**
   * Cached GETs an acknowledged write makes stale, besides its own URL (which is
   * updated from the response when it carries an ETag and a body).
   * @default the collection: a write to `/items/7` makes `/items` stale
   * @example (url) => [url.replace(/\/\d+$/, ''), `${new URL(url).origin}/dashboard`]
   * @deprecated use `cache.invalidates`
   */
  invalidates?: (url: string) => string[];
  /**
   * Collections whose cached answer lists members reachable at `${path}/${id}`.
   * A write to a member that was never fetched itself takes its validator
   * (`If-Match`) and conflict `base` from its row in the cached list, and an
   * `optimistic` update of the member shows in the list too (a result of
   * `undefined` removes the row). Without a validator, the write overwrites
   * whatever the server has (last writer wins).
   * @default none
   * @example [collection({ path: '/items', etag: 'version' })]
   * @deprecated use `cache.collections`
   */
  collections?: readonly CollectionSpec[];
  /**
   * Plug-ins: hooks called before each send, on acknowledgement, after
   * delivery and after a write is given up on (see {@link QnoxPlugin}).
   * @default []
   * @example [{ name: 'trace', beforeSend: (w) => ({ ...w.headers, 'x-trace-id': w.id }) }]
   */
  plugins?: readonly QnoxPlugin[];
  /**
   * Source of randomness for backoff jitter, in [0, 1).
   * @default Math.random
   * @example () => 0.5
   * @deprecated use `platform.random`
   */
  random?: () => number;
}

/** Options of `QnoxSync.create`. Only `baseUrl` is required. */
export interface QnoxSyncOptions extends FlatOptions, OptionGroups {}
