/** How `get` uses the cache. */
export type CacheStrategy =
  | 'networkFirst'
  | 'cacheFirst'
  | 'staleWhileRevalidate'
  | 'cacheOnly'
  | 'networkOnly';

/** Per-call options of `get`. */
export interface GetOptions {
  /**
   * The seed's flag: `true` is `strategy: 'cacheFirst'`.
   * @default false
   */
  cacheFirst?: boolean;
  /**
   * How to use the cache for this call.
   * @default the client's `cacheStrategy` ('networkFirst')
   */
  strategy?: CacheStrategy;
  /**
   * How long this response stays fresh.
   * @default the client's `cacheTtlMs`
   */
  ttlMs?: number;
  /** Extra request headers. @default {} */
  headers?: Record<string, string>;
  /** Timeout of this request. @default the client's `timeoutMs` */
  timeoutMs?: number;
}
