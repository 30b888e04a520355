import { CacheReader } from '../cache/cache-reader.js';
import { CacheWrites } from '../cache/cache-writes.js';
import type { ConflictStrategy } from '../conflict/conflict-types.js';
import { coalesced } from '../engine/coalesced.js';
import { linkContexts } from '../engine/context-link.js';
import { Settlements } from '../engine/settlements.js';
import { SyncEngine, type SyncReport } from '../engine/sync-engine.js';
import { type DrainedOptions, untilDrained } from '../engine/until-drained.js';
import { AuthGate } from '../http/auth.js';
import { Reachability } from '../http/reachability.js';
import { Transport } from '../http/transport.js';
import { resolveUrl } from '../http/url.js';
import { CancelledError, storeCall } from '../model/errors.js';
import type { SyncEvent } from '../model/events.js';
import type { DeadLetterRecord, MutationMethod, TaskRecord } from '../model/records.js';
import { type MutationHandle, OutboxWriter, type RetryEdit } from '../outbox/outbox-writer.js';
import type { ChangeChannel } from '../platform/broadcast.js';
import { defaultConnectivity } from '../platform/connectivity.js';
import { Emitter, type EventStream, type LiveValue, readOnly } from '../status/subscribable.js';
import { StatusController, type SyncStatus } from '../status/sync-status.js';
import { browserDefaultStore, type DefaultStoreLoader } from '../stores/default-store.js';
import type { ClearOptions, QnoxLocalStore } from '../stores/local-store.js';
import type { GetOptions, MutationOptions, QnoxResponse, QnoxSyncOptions } from './options.js';
import { withPlugins } from './plugins.js';
import { checkGetOptions, type ResolvedOptions, resolveOptions } from './resolve-options.js';

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
  readonly #events: Emitter<SyncEvent>;

  readonly #store: QnoxLocalStore;
  readonly #options: ResolvedOptions;
  readonly #engine: SyncEngine;
  readonly #reader: CacheReader;
  readonly #writer: OutboxWriter;
  readonly #transport: Transport;
  readonly #reachability: Reachability;
  readonly #status: StatusController;
  readonly #settlements = new Settlements();
  #disposed = false;
  #channel: ChangeChannel | undefined;
  /**
   * Re-reads the counts and kicks the drain, one pass at a time: a drain
   * elsewhere sends a message per write and each pass reads the store, so
   * messages that arrive during a pass share the one after it.
   */
  readonly #refreshSoon = coalesced(() => this.#engine.refresh().then(() => this.#engine.kick()));

  protected constructor(input: QnoxSyncOptions, options: ResolvedOptions, store: QnoxLocalStore) {
    this.#options = options;
    const { clock, timeoutMs, ttlMs } = options;
    const onListenerError = (error: unknown) =>
      queueMicrotask(() => {
        throw error;
      });
    this.#store = store;
    this.#status = new StatusController(onListenerError);
    this.onSyncStatus = readOnly(this.#status.stream);
    const events = new Emitter<SyncEvent>(onListenerError);
    this.#events = events;
    this.events = readOnly(events);
    const transport = new Transport({
      fetch: options.fetch,
      clock,
      auth: new AuthGate(input),
      allowedOrigins: options.allowed,
    });
    this.#transport = transport;
    let wasOnline = true;
    this.#reachability = new Reachability({
      monitor: input.connectivity ?? defaultConnectivity(),
      clock,
      probe: () => transport.reach(options.probeUrl, timeoutMs),
      probeDelayMs: options.retry.baseDelayMs,
      probeMaxDelayMs: Math.min(options.retry.maxDelayMs, 30_000),
      onChange: ({ online, checking }) => {
        this.#status.update({ online, checking });
        if (online === wasOnline) return;
        wasOnline = online;
        if (online) events.emit({ type: 'online' });
        if (online) this.#engine.kick();
      },
    });
    const cacheWrites = new CacheWrites({
      store,
      clock,
      scope: options.scope,
      ttlMs,
      invalidate: options.invalidates,
      collections: options.collections,
      onChanged: (url) => events.emit({ type: 'cache-updated', url, remote: false }),
    });
    const perCallConflict = new Map<string, ConflictStrategy>();
    this.#engine = new SyncEngine({
      ...options,
      store,
      transport,
      status: this.#status,
      events,
      reachability: this.#reachability,
      settlements: this.#settlements,
      random: input.random ?? Math.random,
      autoSync: input.autoSync ?? true,
      // A detector may turn a delivered write into a conflict and re-send it: keep strict lanes then.
      pipeline: options.conflictDetector === undefined,
      perCallConflict,
      newId: () => crypto.randomUUID(),
      ...withPlugins(
        {
          beforeSend: (task) => cacheWrites.followIfMatch(task),
          onAcknowledged: (task, response) => cacheWrites.noteAcknowledged(task, response),
          onDelivered: (task, response) => {
            perCallConflict.delete(task.id);
            return cacheWrites.onDelivered(task, response);
          },
          onAbandoned: (task, current) => {
            perCallConflict.delete(task.id);
            return cacheWrites.onAbandoned(task, current);
          },
        },
        options.plugins,
        (error) => events.emit({ type: 'callback-error', error }),
      ),
    });
    this.#reader = new CacheReader({
      store,
      transport,
      clock,
      events,
      reachability: this.#reachability,
      scope: options.scope,
      ttlMs,
      timeoutMs,
      strategy: options.strategy,
    });
    this.#writer = new OutboxWriter({
      store,
      engine: this.#engine,
      settlements: this.#settlements,
      status: this.#status,
      events,
      cacheWrites,
      options,
      defaultOrderingKey: input.defaultOrderingKey ?? 'path',
      perCallConflict,
      onQueued: () => this.#channel?.post({ t: 'changed' }),
    });
    wasOnline = this.#reachability.online;
    this.#status.update({ online: wasOnline });
    if (store.shareKey)
      this.#channel = linkContexts(`qnox:${store.shareKey}`, {
        settlements: this.#settlements,
        events,
        refresh: () => this.#refreshSoon(),
      });
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
    const resolved = resolveOptions(options);
    const sync = new this(options, resolved, options.store ?? (await loadDefault()));
    sync.#store.onQuarantine?.((report) =>
      sync.#events.emit({
        type: 'quarantined',
        reason: report.reason,
        ...(report.id ? { id: report.id } : {}),
      }),
    );
    await storeCall('open the store', () => sync.#store.init());
    await storeCall('read the backlog', () => sync.#engine.refresh());
    sync.#engine.kick();
    return sync;
  }

  /** Reads through the cache by strategy (default `networkFirst`). */
  get<T = unknown>(path: string, options: GetOptions = {}): Promise<QnoxResponse<T>> {
    return this.#call(() => {
      const checked = checkGetOptions(options);
      const url = resolveUrl(this.#options.base, path, this.#options.allowed);
      return this.#reader.get<T>(url, checked);
    });
  }

  /** The absolute URL a path resolves to (joined to `baseUrl`, origin-checked), as writes and events carry it. */
  url(path: string): string {
    return resolveUrl(this.#options.base, path, this.#options.allowed);
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
      if (!this.#reachability.online) await this.#reachability.recheck();
      return this.#engine.sync();
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
        { clock: this.#options.clock, status: this.onSyncStatus, sync: () => this.sync() },
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
    return this.#call(() => this.#reachability.recheck());
  }

  /** Lifts an `authRequired` pause (after the user signed in again) and drains. */
  resume(): void {
    this.#engine.resume();
  }

  /** Queued writes, not counting dead letters; an index count, not a scan. */
  pendingCount(): Promise<number> {
    return this.#call(() => this.#store.pendingCount());
  }

  /** Queued writes in delivery order (at most `limit`), for display. */
  pendingTasks(limit = 100): Promise<TaskRecord[]> {
    return this.#call(() => this.#store.listTasks(limit));
  }

  /** Writes the engine gave up on, with reason, attempts and last response. */
  deadLetters(): Promise<DeadLetterRecord[]> {
    return this.#call(() => this.#store.deadLetters());
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
    return this.#call(() => this.#writer.retryDeadLetter(id, edit));
  }

  /** Drops a dead letter for good. */
  async discardDeadLetter(id: string): Promise<void> {
    await this.#call(() => this.#store.removeDeadLetter(id));
    this.#settlements.reject(id, new CancelledError(`Write ${id} was discarded`));
    await this.#engine.refresh();
  }

  /**
   * Wipes the cache and, with `outbox: true`, every queued write and dead letter
   * (their `result` promises reject with a `CancelledError`). For logout and user switch.
   */
  async clear(options: Partial<ClearOptions> = {}): Promise<void> {
    const resolved = { cache: options.cache ?? true, outbox: options.outbox ?? false };
    await this.#call(() => this.#store.clear(resolved));
    if (resolved.outbox) {
      // Reads that started before the wipe must not send what it removed.
      this.#engine.forgetReadAhead();
      this.#settlements.rejectAll(new CancelledError('Outbox cleared'));
    }
    await this.#engine.refresh();
  }

  /** Deletes cache entries older than TTL + `maxStaleMs`; returns how many. */
  purgeExpiredCache(): Promise<number> {
    return this.#call(() =>
      this.#store.purgeExpiredCache(this.#options.clock.now(), this.#options.maxStaleMs),
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
    this.#transport.close();
    await this.#engine.dispose();
    this.#reachability.dispose();
    this.#channel?.close();
    this.#settlements.rejectAll(
      new CancelledError('Client disposed before the write settled; it stays queued'),
    );
    await this.#store.close();
  }

  #mutate(
    method: MutationMethod,
    path: string,
    data: unknown,
    options: MutationOptions,
  ): Promise<MutationHandle> {
    return this.#call(() => this.#writer.write(method, path, data, options ?? {}));
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
