import type { SyncReport } from '../engine/sync-engine.js';
import { type DrainedOptions, untilDrained } from '../engine/until-drained.js';
import { resolveUrl } from '../http/url.js';
import { CancelledError, storeCall } from '../model/errors.js';
import type { SyncEvent } from '../model/events.js';
import type { DeadLetterRecord, MutationMethod, TaskRecord } from '../model/records.js';
import type { MutationHandle, RetryEdit } from '../outbox/outbox-writer.js';
import { type EventStream, type LiveValue, readOnly } from '../status/subscribable.js';
import type { SyncStatus } from '../status/sync-status.js';
import { browserDefaultStore, type DefaultStoreLoader } from '../stores/default-store.js';
import type { ClearOptions, QnoxLocalStore, QuarantineReport } from '../stores/local-store.js';
import { assemble, type Parts } from './assemble.js';
import type {
  FlatOptions,
  GetOptions,
  MutationOptions,
  QnoxResponse,
  QnoxSyncOptions,
} from './options.js';
import {
  checkGetOptions,
  type ResolvedOptions,
  resolveOptions,
  ungroup,
} from './resolve-options.js';

export type { MutationHandle, RetryEdit } from '../outbox/outbox-writer.js';

/**
 * The offline-first client. Create it with {@link QnoxSync.create}.
 *
 * @example
 * const sync = await QnoxSync.create({ baseUrl: 'https://api.example.com' });
 * const orders = await sync.get('/orders', { cacheFirst: true });
 * const m = await sync.post('/orders', { sku: 'A1' }); // durably queued
 * await m.result; // the server's answer
 */
export class QnoxSync {
  /** Current status: `.value`, `.subscribe(fn)`, `for await` (read-only). */
  readonly onSyncStatus: LiveValue<SyncStatus>;
  /** Everything that happens (queued, sent, retry-scheduled, dead-lettered, conflict…): `.subscribe(fn)`, `for await` (read-only). */
  readonly events: EventStream<SyncEvent>;
  readonly #p: Parts;
  #disposed = false;
  /** What undoes each attached plug-in (delta sync), run at `dispose()`. */
  #detach: (() => void)[] = [];

  protected constructor(input: FlatOptions, options: ResolvedOptions, store: QnoxLocalStore) {
    this.#p = assemble(input, options, store);
    this.onSyncStatus = readOnly(this.#p.status.stream);
    this.events = readOnly(this.#p.events);
  }

  /**
   * Validates options, opens the store (without `store`, the platform's
   * default, loaded on demand), reads the backlog's counts and starts draining it.
   */
  static create(options: QnoxSyncOptions): Promise<QnoxSync> {
    return QnoxSync.open(options, browserDefaultStore);
  }

  /** `create` with the entry point's default store (the Node entry passes SQLite). */
  protected static async open(
    options: QnoxSyncOptions,
    loadDefault: DefaultStoreLoader,
  ): Promise<QnoxSync> {
    const flat = ungroup(options);
    const resolved = resolveOptions(flat);
    const sync = new this(flat, resolved, flat.store ?? (await loadDefault()));
    sync.#p.store.onQuarantine?.((report) =>
      sync.#p.events.emit({
        type: 'quarantined',
        reason: report.reason,
        ...(report.id ? { id: report.id } : {}),
      }),
    );
    await storeCall('open the store', () => sync.#p.store.init());
    await storeCall('read the backlog', () => sync.#p.engine.refresh());
    sync.#detach = sync.#p.attach();
    sync.#p.engine.kick();
    return sync;
  }

  /** Reads through the cache by strategy (default `networkFirst`). */
  get<T = unknown>(path: string, options: GetOptions = {}): Promise<QnoxResponse<T>> {
    return this.#call(() => {
      const checked = checkGetOptions(options);
      const url = resolveUrl(this.#p.options.base, path, this.#p.options.allowed);
      return this.#p.reader.get<T>(url, checked);
    });
  }

  /** The absolute URL a path resolves to (joined to `baseUrl`, origin-checked), as writes and events carry it. */
  url(path: string): string {
    return resolveUrl(this.#p.options.base, path, this.#p.options.allowed);
  }

  /** Queues a POST. Resolves once durably stored; `result` settles with the server's answer. */
  post(path: string, data?: unknown, options: MutationOptions = {}): Promise<MutationHandle> {
    return this.#mutate('POST', path, data, options);
  }

  /** Queues a PUT; see {@link QnoxSync.post}. */
  put(path: string, data?: unknown, options: MutationOptions = {}): Promise<MutationHandle> {
    return this.#mutate('PUT', path, data, options);
  }

  /** Queues a PATCH; see {@link QnoxSync.post}. */
  patch(path: string, data?: unknown, options: MutationOptions = {}): Promise<MutationHandle> {
    return this.#mutate('PATCH', path, data, options);
  }

  /** Queues a DELETE; see {@link QnoxSync.post}. */
  delete(path: string, options: MutationOptions = {}): Promise<MutationHandle> {
    return this.#mutate('DELETE', path, undefined, options);
  }

  /** Drains what is due now. Concurrent calls share one drain. */
  sync(): Promise<SyncReport> {
    return this.#call(async () => {
      // An explicit call looks again if the client believes it is offline (a missed `online` event).
      if (!this.#p.reachability.online) await this.#p.reachability.recheck();
      return this.#p.engine.sync();
    });
  }

  /**
   * Drains until nothing is queued (dead letters may remain), waiting out
   * retries and outages between passes; for a CLI or a job. Rejects with a
   * `TimeoutError` after `timeoutMs` or a `CancelledError` when `signal`
   * aborts; the writes stay queued either way.
   *
   * @example
   * await sync.post('/orders', order);
   * const { deadLetters } = await sync.drained({ timeoutMs: 60_000 });
   */
  drained(options: DrainedOptions = {}): Promise<{ deadLetters: number }> {
    return this.#call(() =>
      untilDrained(
        { clock: this.#p.options.clock, status: this.onSyncStatus, sync: () => this.sync() },
        options,
      ),
    );
  }

  /**
   * Checks connectivity now instead of waiting for the next backed-off probe
   * (the platform said the network is back, e.g. a Background Sync event);
   * resolves whether the server is reachable. A reachable server starts a drain.
   */
  checkConnectivity(): Promise<boolean> {
    return this.#call(() => this.#p.reachability.recheck());
  }

  /** Lifts an `authRequired` pause (after the user signed in again) and drains. */
  resume(): void {
    this.#p.engine.resume();
  }

  /** Queued writes, not counting dead letters; an index count, not a scan. */
  pendingCount(): Promise<number> {
    return this.#call(() => this.#p.store.pendingCount());
  }

  /** Queued writes in delivery order (at most `limit`), for display. */
  pendingTasks(limit = 100): Promise<TaskRecord[]> {
    return this.#call(() => this.#p.store.listTasks(limit));
  }

  /** Writes the engine gave up on, with reason, attempts and last response. */
  deadLetters(): Promise<DeadLetterRecord[]> {
    return this.#call(() => this.#p.store.deadLetters());
  }

  /**
   * Every queued write set aside because its record cannot be used, oldest
   * first, whichever layer found it: rows the store could not decode at all
   * (the store's quarantine area) and writes dead-lettered as `quarantined`
   * (damaged URL or headers, failed decryption; retryable once they read again).
   */
  quarantined(): Promise<QuarantineReport[]> {
    return this.#call(async () => {
      const { store } = this.#p;
      const dead = (await store.deadLetters()).filter((d) => d.reason === 'quarantined');
      return [
        ...((await store.quarantined?.()) ?? []),
        ...dead.map((d) => ({
          id: d.task.id,
          reason: d.task.lastError?.message ?? 'quarantined',
          at: d.failedAt,
          raw: d.task,
        })),
      ].sort((a, b) => a.at - b.at);
    });
  }

  /**
   * Puts a dead letter back at the end of its ordering key. Unedited, it keeps
   * its idempotency key (the server may have acted on an earlier attempt);
   * with new `data` it is a new write and gets a new key. With `conflict`, that
   * strategy resolves its next conflict: a parked conflict retried with
   * `{ conflict: 'client-wins' }` goes out over the server's current version.
   * @example await sync.retryDeadLetter(dead.task.id, { conflict: 'client-wins' })
   */
  retryDeadLetter(id: string, edit?: RetryEdit): Promise<MutationHandle> {
    return this.#call(() => this.#p.writer.retryDeadLetter(id, edit));
  }

  /** Drops a dead letter for good. */
  async discardDeadLetter(id: string): Promise<void> {
    await this.#call(() => this.#p.store.removeDeadLetter(id));
    this.#p.settlements.reject(id, new CancelledError(`Write ${id} was discarded`));
    await this.#p.engine.refresh();
  }

  /**
   * Wipes the cache and, with `outbox: true`, every queued write and dead letter
   * (their `result` promises reject with a `CancelledError`). For logout and user switch.
   */
  async clear(options: Partial<ClearOptions> = {}): Promise<void> {
    const resolved = { cache: options.cache ?? true, outbox: options.outbox ?? false };
    await this.#call(() => this.#p.store.clear(resolved));
    if (resolved.outbox) {
      // Reads that started before the wipe must not send what it removed.
      this.#p.engine.forgetReadAhead();
      this.#p.settlements.rejectAll(new CancelledError('Outbox cleared'));
    }
    await this.#p.engine.refresh();
  }

  /** Deletes cache entries older than TTL + `maxStaleMs`; returns how many. */
  purgeExpiredCache(): Promise<number> {
    return this.#call(() =>
      this.#p.store.purgeExpiredCache(this.#p.options.clock.now(), this.#p.options.maxStaleMs),
    );
  }

  /**
   * Stops timers, aborts requests in flight (their writes stay queued for next
   * time), waits for the drain to stop and closes the store. Pending `result`
   * promises reject with a `CancelledError`; the writes themselves are kept.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const detach of this.#detach) detach();
    this.#p.transport.close();
    await this.#p.engine.dispose();
    this.#p.lock?.close?.();
    this.#p.reachability.dispose();
    this.#p.channel()?.close();
    this.#p.settlements.rejectAll(
      new CancelledError('Client disposed before the write settled; it stays queued'),
    );
    await this.#p.store.close();
  }

  #mutate(
    method: MutationMethod,
    path: string,
    data: unknown,
    options: MutationOptions,
  ): Promise<MutationHandle> {
    return this.#call(() => this.#p.writer.write(method, path, data, options ?? {}));
  }

  /** Every public call fails the same way: a rejected promise with a typed error, never a synchronous throw. */
  #call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#disposed) return Promise.reject(new CancelledError('Client disposed'));
    try {
      return run();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
