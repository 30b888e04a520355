import type { CollectionSpec } from '../cache/collections.js';
import type { CacheStrategy } from '../cache/get-options.js';
import type { Clock } from '../platform/clock.js';
import type { ConnectivityMonitor } from '../platform/connectivity.js';

/** `auth`: the bearer token and how to refresh it. */
export interface AuthOptions {
  /**
   * Called before every request; the token goes out as `Authorization: Bearer <token>`
   * and is never written to the store. Return nothing to send no header.
   * (The seed's name `authTokenProvider` works too.)
   * @default none
   * @example async () => session.accessToken
   */
  token?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Called once on a 401, shared by every request that got one meanwhile.
   * `true` resends with a fresh token; `false` (or a throw) pauses delivery in
   * `authRequired` until `resume()`. Nothing is dropped. (The seed's name
   * `refreshToken` works too.)
   * @default none (a 401 pauses delivery)
   * @example async () => (await session.refresh()).ok
   */
  refresh?: () => boolean | Promise<boolean>;
}

/** `cache`: how GETs are answered and kept. */
export interface CacheOptions {
  /**
   * How long a cached GET is fresh, in ms.
   * @default 300_000 (5 min)
   * @example 60_000
   */
  ttlMs?: number;
  /**
   * How long past its TTL an entry may still be served when the network fails, in ms.
   * @default 604_800_000 (7 days)
   * @example 86_400_000
   */
  maxStaleMs?: number;
  /**
   * How `get` uses the cache, unless a call says otherwise.
   * @default 'networkFirst'
   * @example 'staleWhileRevalidate'
   */
  strategy?: CacheStrategy;
  /**
   * Partitions cache entries (e.g. per user), so one user never reads another's.
   * @default ''
   * @example () => currentUser.id
   */
  scope?: string | (() => string);
  /**
   * Cached GETs an acknowledged write makes stale, besides its own URL.
   * @default the collection: a write to `/items/7` makes `/items` stale
   * @example (url) => [`${new URL(url).origin}/dashboard`]
   */
  invalidates?: (url: string) => string[];
  /**
   * Collections whose cached answer lists members reachable at `${path}/${id}`
   * (validators and optimistic rows of members, see README "Conflicts").
   * @default none
   * @example [collection({ path: '/items', etag: 'version' })]
   */
  collections?: readonly CollectionSpec[];
}

/** `delivery`: how the outbox goes out. */
export interface DeliveryOptions {
  /**
   * How many ordering keys deliver in parallel; writes sharing a key always go one at a time.
   * @default 4
   * @example 1
   */
  concurrency?: number;
  /**
   * Per-request timeout in ms (also per call); in (0, 2^31 - 1].
   * @default 30_000
   * @example 10_000
   */
  timeoutMs?: number;
  /**
   * Ordering key of writes that name none: `'path'` (the resource path) or one fixed key.
   * @default 'path'
   * @example 'global'
   */
  orderingKey?: 'path' | (string & {});
  /**
   * Drain on create, on each write, on reconnect and when a retry is due; `false`: only `sync()` sends.
   * @default true
   * @example false
   */
  autoSync?: boolean;
}

/** `platform`: the seams tests and unusual hosts replace. */
export interface PlatformOptions {
  /**
   * Time and timers.
   * @default systemClock
   * @example new ManualClock() (from `qnox-offline-sync/testing`)
   */
  clock?: Clock;
  /**
   * Online/offline signal.
   * @default `navigator.onLine` and its events where present, else always online
   * @example manualConnectivity(true)
   */
  connectivity?: ConnectivityMonitor;
  /**
   * Source of jitter for backoff.
   * @default Math.random
   * @example () => 0.5
   */
  random?: () => number;
  /**
   * URL probed (HEAD) to learn whether the server is reachable.
   * @default baseUrl
   * @example 'https://api.example.com/health'
   */
  probeUrl?: string;
}

/** Each group's fields and the flat option name each one resolves to. */
export const GROUPS = {
  auth: { token: 'authTokenProvider', refresh: 'refreshToken' },
  cache: {
    ttlMs: 'cacheTtlMs',
    maxStaleMs: 'maxStaleMs',
    strategy: 'cacheStrategy',
    scope: 'cacheScope',
    invalidates: 'invalidates',
    collections: 'collections',
  },
  delivery: {
    concurrency: 'concurrency',
    timeoutMs: 'timeoutMs',
    orderingKey: 'defaultOrderingKey',
    autoSync: 'autoSync',
  },
  platform: {
    clock: 'clock',
    connectivity: 'connectivity',
    random: 'random',
    probeUrl: 'probeUrl',
  },
} as const satisfies {
  auth: Record<keyof AuthOptions, string>;
  cache: Record<keyof CacheOptions, string>;
  delivery: Record<keyof DeliveryOptions, string>;
  platform: Record<keyof PlatformOptions, string>;
};

/** The option groups of `QnoxSync.create`. */
export interface OptionGroups {
  /** The bearer token and its refresh. */
  auth?: AuthOptions;
  /** How GETs are answered and kept. */
  cache?: CacheOptions;
  /** How the outbox goes out. */
  delivery?: DeliveryOptions;
  /** Clock, connectivity, jitter, probe URL. */
  platform?: PlatformOptions;
}
