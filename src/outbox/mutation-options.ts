import type { ConflictStrategy } from '../model/conflict-types.js';

/** Per-call options of `post`, `put`, `patch` and `delete`. */
export interface MutationOptions {
  /**
   * Writes with the same key are delivered in enqueue order, one at a time.
   * @default the resource path (or the client's `defaultOrderingKey`)
   * @example 'orders'
   */
  orderingKey?: string;
  /**
   * Use your own idempotency key (e.g. one the server handed out). It is sent on every attempt.
   * @default a random UUID minted at enqueue
   */
  idempotencyKey?: string;
  /** Extra request headers, persisted with the write (never put tokens here). @default {} */
  headers?: Record<string, string>;
  /** Timeout of each attempt. @default the client's `timeoutMs` */
  timeoutMs?: number;
  /**
   * Precondition of a PUT/PATCH/DELETE. By default the cached GET's `ETag` goes out as
   * `If-Match` (or `Last-Modified` as `If-Unmodified-Since`); `false` sends none; a string is sent as is.
   * @default the cached validator, if any
   * @example false
   */
  ifMatch?: false | string;
  /**
   * Conflict strategy of this write. Without the `conflicts()` plug-in only
   * `'park'` is accepted (anything else is a `ConfigError`). A function lives
   * in memory only: after a restart the plug-in's `strategy` applies.
   * @default the `conflicts()` plug-in's `strategy` (`'park'` without it)
   * @example 'server-wins'
   */
  conflict?: ConflictStrategy;
  /**
   * Updates the cached GET of the same URL at enqueue so an offline UI shows the change;
   * rolled back if the write is dead-lettered or loses to `server-wins`.
   * @default none
   * @example (item) => ({ ...(item as object), done: true })
   */
  optimistic?: (current: unknown) => unknown;
  /**
   * Coalesce this write with the queued one before it; needs the
   * `coalescing()` plug-in (`qnox-offline-sync/coalescing`), else `true` is a
   * `ConfigError`.
   * @default the plug-in's `always` (`false`)
   * @example true
   */
  coalesce?: boolean;
  /**
   * DELETE only: the id of the queued write that created this resource locally
   * (e.g. the `post` handle's `id`). While that write was never sent, it is
   * dropped together with every never-sent write queued for this URL, their
   * `result`s reject with a `CancelledError`, and the DELETE resolves at once
   * with a local 204 (`fromCache: true`) without going out. If any of them may
   * have reached the server, the DELETE is queued as usual. Needs the
   * `cancelCreate()` plug-in (`qnox-offline-sync/cancel-create`), else a `ConfigError`.
   * @default none
   * @example created.id
   */
  cancels?: string;
}
