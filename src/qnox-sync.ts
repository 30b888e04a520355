import { CacheReader } from './cache/cache-reader.js';
import { DEFAULT_RETRY, type RetryPolicy } from './engine/backoff.js';
import { Reachability } from './engine/reachability.js';
import { Settlements } from './engine/settlements.js';
import { SyncEngine, type SyncReport } from './engine/sync-engine.js';
import { CancelledError, ConfigError, isQnoxError, StorageError } from './errors.js';
import { AuthGate } from './http/auth.js';
import { encodeBody } from './http/body.js';
import { type FetchLike, Transport } from './http/transport.js';
import { parseBaseUrl, resolveUrl } from './http/url.js';
import type {
  CacheStrategy,
  GetOptions,
  MutationOptions,
  QnoxResponse,
  QnoxSyncOptions,
} from './options.js';
import { buildTask } from './outbox/build-task.js';
import type { DeadLetterRecord, MutationMethod, TaskRecord } from './outbox/records.js';
import { systemClock } from './platform/clock.js';
import { defaultConnectivity } from './platform/connectivity.js';
import { type SyncEvent, summarize } from './status/events.js';
import { Emitter, type ValueStream } from './status/subscribable.js';
import { StatusController, type SyncStatus } from './status/sync-status.js';
import { defaultStore } from './stores/default-store.js';
import type { ClearOptions, QnoxLocalStore } from './stores/local-store.js';

/** What `post/put/patch/delete` resolve with, once the write is durably queued. */
export interface MutationHandle {
  readonly id: string;
  readonly idempotencyKey: string;
  /** Settles with the server's answer, or rejects with a typed error if the write is dead-lettered or cancelled. */
  readonly result: Promise<QnoxResponse>;
}

const STRATEGIES = new Set<CacheStrategy>([
  'networkFirst',
  'cacheFirst',
  'staleWhileRevalidate',
  'cacheOnly',
  'networkOnly',
]);

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
  /** Current status, subscribable and async-iterable. */
  readonly onSyncStatus: ValueStream<SyncStatus>;
  /** Everything that happens: queued, sent, retry-scheduled, dead-lettered, conflict, auth-required, cache-hit… */
  readonly events: Emitter<SyncEvent>;

  readonly #store: QnoxLocalStore;
  readonly #base: URL;
  readonly #allowed: ReadonlySet<string>;
  readonly #engine: SyncEngine;
  readonly #reader: CacheReader;
  readonly #transport: Transport;
  readonly #reachability: Reachability;
  readonly #status: StatusController;
  readonly #settlements = new Settlements();
  readonly #options: QnoxSyncOptions;
  readonly #scope: () => string;
  #disposed = false;

  private constructor(options: QnoxSyncOptions) {
    this.#options = options;
    this.#base = parseBaseUrl(options.baseUrl);
    const retry = validateRetry(options.retry);
    const concurrency = positiveInt('concurrency', options.concurrency ?? 4);
    const timeoutMs = positive('timeoutMs', options.timeoutMs ?? 30_000);
    const ttlMs = nonNegative('cacheTtlMs', options.cacheTtlMs ?? 300_000);
    nonNegative('maxStaleMs', options.maxStaleMs ?? 0);
    const strategy = options.cacheStrategy ?? 'networkFirst';
    if (!STRATEGIES.has(strategy))
      throw new ConfigError('cacheStrategy', `unknown strategy "${String(strategy)}"`);
    const fetchImpl = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (typeof fetchImpl !== 'function')
      throw new ConfigError('fetch', 'no fetch available; pass one');
    this.#allowed = allowedOrigins(this.#base, options.allowedOrigins ?? []);
    const probeUrl = resolveUrl(this.#base, options.probeUrl ?? this.#base.href, this.#allowed);
    const scope = options.cacheScope ?? '';
    this.#scope = typeof scope === 'function' ? scope : () => scope;

    const clock = options.clock ?? systemClock;
    const onListenerError = (error: unknown) =>
      queueMicrotask(() => {
        throw error;
      });
    this.#store = options.store ?? defaultStore();
    this.#status = new StatusController(onListenerError);
    this.onSyncStatus = this.#status.stream;
    this.events = new Emitter<SyncEvent>(onListenerError);
    this.#transport = new Transport({
      fetch: (input, init) => fetchImpl(input, init),
      clock,
      auth: new AuthGate(options),
      allowedOrigins: this.#allowed,
    });
    let wasOnline = true;
    this.#reachability = new Reachability({
      monitor: options.connectivity ?? defaultConnectivity(),
      clock,
      probe: () => this.#transport.reach(probeUrl, timeoutMs),
      probeDelayMs: retry.baseDelayMs,
      probeMaxDelayMs: Math.min(retry.maxDelayMs, 30_000),
      onChange: ({ online, checking }) => {
        this.#status.update({ online, checking });
        if (online !== wasOnline) {
          wasOnline = online;
          if (online) this.events.emit({ type: 'online' });
          if (online) this.#engine.kick();
        }
      },
    });
    this.#engine = new SyncEngine({
      store: this.#store,
      transport: this.#transport,
      clock,
      status: this.#status,
      events: this.events,
      reachability: this.#reachability,
      settlements: this.#settlements,
      retry,
      concurrency,
      timeoutMs,
      random: options.random ?? Math.random,
      autoSync: options.autoSync ?? true,
      onDelivered: async () => {},
    });
    this.#reader = new CacheReader({
      store: this.#store,
      transport: this.#transport,
      clock,
      events: this.events,
      reachability: this.#reachability,
      scope: this.#scope,
      ttlMs,
      timeoutMs,
      strategy,
    });
    wasOnline = this.#reachability.online;
    this.#status.update({ online: wasOnline });
  }

  /** Validates options, opens the store, reads the backlog's counts and starts draining it. */
  static async create(options: QnoxSyncOptions): Promise<QnoxSync> {
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'an options object is required');
    const sync = new QnoxSync(options);
    sync.#store.onQuarantine?.((report) =>
      sync.events.emit({
        type: 'quarantined',
        reason: report.reason,
        ...(report.id ? { id: report.id } : {}),
      }),
    );
    await storage('open the store', () => sync.#store.init());
    await storage('read the backlog', () => sync.#engine.refresh());
    sync.#engine.kick();
    return sync;
  }

  /** Reads through the cache by strategy (default `networkFirst`). */
  get<T = unknown>(path: string, options: GetOptions = {}): Promise<QnoxResponse<T>> {
    this.#assertOpen();
    if (options.strategy !== undefined && !STRATEGIES.has(options.strategy)) {
      return Promise.reject(
        new ConfigError('strategy', `unknown strategy "${String(options.strategy)}"`),
      );
    }
    try {
      return this.#reader.get<T>(resolveUrl(this.#base, path, this.#allowed), options);
    } catch (error) {
      return Promise.reject(error);
    }
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
    this.#assertOpen();
    return this.#engine.sync();
  }

  /** Lifts an `authRequired` pause (after the user signed in again) and drains. */
  resume(): void {
    this.#engine.resume();
  }

  /** Queued writes, not counting dead letters; an index count, not a scan. */
  pendingCount(): Promise<number> {
    return this.#store.pendingCount();
  }

  /** Queued writes in delivery order (at most `limit`), for display. */
  pendingTasks(limit = 100): Promise<TaskRecord[]> {
    return this.#store.listTasks(limit);
  }

  /** Writes the engine gave up on, with reason, attempts and last response. */
  deadLetters(): Promise<DeadLetterRecord[]> {
    return this.#store.deadLetters();
  }

  /**
   * Puts a dead letter back at the end of its ordering key. Unedited, it keeps
   * its idempotency key (the server may have acted on an earlier attempt);
   * with a new `data` it is a new write and gets a new key.
   */
  async retryDeadLetter(id: string, edit?: { data: unknown }): Promise<MutationHandle> {
    this.#assertOpen();
    const dead = (await this.#store.deadLetters()).find((d) => d.task.id === id);
    if (!dead) throw new ConfigError('id', `no dead letter with id ${id}`);
    if (dead.reason === 'quarantined')
      throw new StorageError(`Write ${id} is quarantined: its record cannot be read`);
    const { seq: _seq, lastError: _lastError, body: oldBody, ...rest } = dead.task;
    const body = edit ? encodeBody(edit.data) : oldBody;
    // Enqueue before removing: a crash in between leaves a duplicate entry with the same key, never a lost write.
    const task = await this.#store.enqueue({
      ...rest,
      ...(body ? { body } : {}),
      idempotencyKey: edit ? crypto.randomUUID() : dead.task.idempotencyKey,
      attempts: 0,
      nextAttemptAt: this.#clockNow(),
    });
    await this.#store.removeDeadLetter(id);
    return this.#afterEnqueue(task);
  }

  /** Drops a dead letter for good. */
  async discardDeadLetter(id: string): Promise<void> {
    await this.#store.removeDeadLetter(id);
    this.#settlements.reject(id, new CancelledError(`Write ${id} was discarded`));
    await this.#engine.refresh();
  }

  /**
   * Wipes the cache and, with `outbox: true`, every queued write and dead letter
   * (their `result` promises reject with a `CancelledError`). For logout and user switch.
   */
  async clear(options: Partial<ClearOptions> = {}): Promise<void> {
    const resolved = { cache: options.cache ?? true, outbox: options.outbox ?? false };
    await this.#store.clear(resolved);
    if (resolved.outbox) this.#settlements.rejectAll(new CancelledError('Outbox cleared'));
    await this.#engine.refresh();
  }

  /** Deletes cache entries older than TTL + `maxStaleMs`; returns how many. */
  purgeExpiredCache(): Promise<number> {
    return this.#store.purgeExpiredCache(this.#clockNow(), this.#options.maxStaleMs ?? 604_800_000);
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
    this.#settlements.rejectAll(
      new CancelledError('Client disposed before the write settled; it stays queued'),
    );
    await this.#store.close();
  }

  async #mutate(
    method: MutationMethod,
    path: string,
    data: unknown,
    options: MutationOptions,
  ): Promise<MutationHandle> {
    this.#assertOpen();
    const url = resolveUrl(this.#base, path, this.#allowed);
    const record = buildTask(method, url, data, options, {
      now: this.#clockNow(),
      defaultOrderingKey: this.#options.defaultOrderingKey ?? 'path',
      newId: () => crypto.randomUUID(),
    });
    const task = await storage('queue the write', () => this.#store.enqueue(record));
    return this.#afterEnqueue(task);
  }

  #afterEnqueue(task: TaskRecord): MutationHandle {
    const result = this.#settlements.create(task.id);
    this.#status.update({ pending: this.#status.facts.pending + 1 });
    this.events.emit({ type: 'queued', task: summarize(task) });
    this.#engine.kick();
    return { id: task.id, idempotencyKey: task.idempotencyKey, result };
  }

  #clockNow(): number {
    return (this.#options.clock ?? systemClock).now();
  }

  #assertOpen(): void {
    if (this.#disposed) throw new CancelledError('Client disposed');
  }
}

async function storage<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isQnoxError(error)) throw error;
    throw new StorageError(`Could not ${what}`, { cause: error });
  }
}

function validateRetry(retry: Partial<RetryPolicy> | undefined): RetryPolicy {
  const merged = { ...DEFAULT_RETRY, ...retry };
  nonNegative('retry.baseDelayMs', merged.baseDelayMs);
  nonNegative('retry.maxDelayMs', merged.maxDelayMs);
  positiveInt('retry.maxAttempts', merged.maxAttempts);
  if (merged.maxDelayMs < merged.baseDelayMs) {
    throw new ConfigError('retry.maxDelayMs', 'must not be smaller than retry.baseDelayMs');
  }
  return merged;
}

function allowedOrigins(base: URL, extra: readonly string[]): ReadonlySet<string> {
  const set = new Set([base.origin]);
  for (const origin of extra) {
    try {
      set.add(new URL(origin).origin);
    } catch {
      throw new ConfigError('allowedOrigins', `"${origin}" is not an absolute URL`);
    }
  }
  return set;
}

function nonNegative(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(option, `must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function positive(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(option, `must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function positiveInt(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(option, `must be an integer >= 1, got ${String(value)}`);
  return value;
}
