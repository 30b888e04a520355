import type { QnoxError } from './errors.js';
import type { DeadLetterReason, TaskRecord } from './records.js';

/** A task as events describe it: no body, so listeners cannot leak payloads by accident. */
export interface TaskSummary {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly method: string;
  readonly url: string;
  readonly orderingKey: string;
  readonly attempts: number;
}

export function summarize(task: TaskRecord): TaskSummary {
  return {
    id: task.id,
    idempotencyKey: task.idempotencyKey,
    method: task.method,
    url: task.url,
    orderingKey: task.orderingKey,
    attempts: task.attempts,
  };
}

/** Everything that happens, in order, on `sync.events`. */
export type SyncEvent =
  | { readonly type: 'queued'; readonly task: TaskSummary }
  /** A queued write dropped before it was ever sent (a DELETE cancelled the create it belonged to). */
  | { readonly type: 'cancelled'; readonly task: TaskSummary }
  | { readonly type: 'sent'; readonly task: TaskSummary; readonly status: number }
  | {
      readonly type: 'retry-scheduled';
      readonly task: TaskSummary;
      readonly error: QnoxError;
      readonly delayMs: number;
      readonly nextAttemptAt: number;
    }
  | {
      readonly type: 'dead-lettered';
      readonly task: TaskSummary;
      readonly reason: DeadLetterReason;
      readonly error: QnoxError;
    }
  | {
      readonly type: 'conflict';
      readonly task: TaskSummary;
      readonly status: number;
      /** `park`, `server-wins`, `client-wins`, `merge`, `custom-body`, or `gave-up` after too many rounds. */
      readonly outcome: string;
      readonly local: unknown;
      readonly server: unknown;
    }
  | { readonly type: 'auth-required'; readonly error: QnoxError }
  | { readonly type: 'auth-resumed' }
  | { readonly type: 'online' }
  | { readonly type: 'offline'; readonly error?: QnoxError }
  | { readonly type: 'cache-hit'; readonly url: string; readonly stale: boolean }
  | { readonly type: 'cache-miss'; readonly url: string }
  /**
   * A cached answer for `url` was written: a GET's answer (also a background
   * revalidation), read-your-writes, an optimistic layer or its removal. With
   * `remote`, another context on the same store (a tab, the service worker) wrote it.
   */
  | { readonly type: 'cache-updated'; readonly url: string; readonly remote: boolean }
  /** Another context on the same store delivered (`ok`) or dead-lettered a write to `url`. */
  | { readonly type: 'settled-elsewhere'; readonly url: string; readonly ok: boolean }
  /**
   * Said once per client: `no-validators` when a write goes out over a cached
   * representation that carried no `ETag` or `Last-Modified` (the write can
   * only overwrite; cross-origin, the API may not expose them).
   */
  | {
      readonly type: 'warning';
      /** `batch-unsupported`: the batch URL answered 404, 405 or 501; writes go singly (the `batching()` plug-in). */
      readonly code: 'no-validators' | 'batch-unsupported';
      readonly url: string;
      readonly message: string;
    }
  /**
   * A `deltaSync()` pull of `url` (the collection) ended: `applied` changes
   * (`deleted` of them deletions) over `pages` pages (a 304 is none), up to `cursor`.
   */
  | {
      readonly type: 'pulled';
      readonly url: string;
      readonly applied: number;
      readonly deleted: number;
      readonly pages: number;
      readonly cursor: string | null;
    }
  /** A pull the plug-in started by itself (reconnect, interval, visibility, own writes) failed; it tries again at the next one. */
  | { readonly type: 'pull-failed'; readonly url: string; readonly error: QnoxError }
  /** The `batching()` plug-in sent `size` writes in one request to `url`, answered `status` (0: no answer). */
  | {
      readonly type: 'batch-sent';
      readonly url: string;
      readonly size: number;
      readonly status: number;
    }
  | { readonly type: 'storage-error'; readonly error: QnoxError }
  /** An app callback threw where no call could carry the error (cache upkeep after a delivery, a conflict detector). */
  | { readonly type: 'callback-error'; readonly error: QnoxError & { readonly callback: string } }
  | { readonly type: 'quarantined'; readonly id?: string; readonly reason: string };
