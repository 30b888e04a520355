import { isQnoxError, type QnoxError, StorageError } from '../errors.js';
import { bodyData } from '../http/body.js';
import type { Transport, WireResponse } from '../http/transport.js';
import { type DeadLetterReason, RECORD_VERSION, type TaskRecord } from '../outbox/records.js';
import type { Clock, TimerHandle } from '../platform/clock.js';
import type { SyncEvent } from '../status/events.js';
import { summarize } from '../status/events.js';
import type { Emitter } from '../status/subscribable.js';
import type { StatusController } from '../status/sync-status.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { backoffDelay, type RetryPolicy } from './backoff.js';
import { deliver, type toErrorResponse, type Verdict } from './deliver.js';
import type { Reachability } from './reachability.js';
import type { Settlements } from './settlements.js';

/** How often a client whose store is drained by another process looks again. */
const LOCK_RETRY_MS = 5_000;

/** What one `sync()` did. */
export interface SyncReport {
  readonly delivered: number;
  readonly retried: number;
  readonly deadLettered: number;
}

export interface EngineDeps {
  readonly store: QnoxLocalStore;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly status: StatusController;
  readonly events: Emitter<SyncEvent>;
  readonly reachability: Reachability;
  readonly settlements: Settlements;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly random: () => number;
  /** When false, only explicit `sync()` calls drain. */
  readonly autoSync: boolean;
  /** Called after a write is acknowledged, before its `result` settles. */
  readonly onDelivered: (task: TaskRecord, response: WireResponse) => Promise<void>;
}

interface Tally {
  delivered: number;
  retried: number;
  deadLettered: number;
}

/**
 * The drain loop. One per client (single-flight); within it, the head of each
 * ordering key goes out, up to `concurrency` keys at once. A task leaves the
 * store only on a definitive answer.
 */
export class SyncEngine {
  #running: Promise<SyncReport> | undefined;
  /** Tickets: every `sync()` call takes one; a pass serves all taken before it started. */
  #requested = 0;
  #served = 0;
  #paused = false;
  #disposed = false;
  #stopped = false;
  #timer: TimerHandle | undefined;

  constructor(private readonly deps: EngineDeps) {}

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Drains what is due now; concurrent calls share one drain. A call made while
   * a drain runs resolves only after a pass that started after the call.
   */
  sync(): Promise<SyncReport> {
    const ticket = ++this.#requested;
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running.then((report) =>
      this.#served >= ticket || this.#disposed ? report : this.sync(),
    );
  }

  /** Starts a drain without waiting for it; failures surface on the status stream. */
  kick(): void {
    if (this.#disposed || !this.deps.autoSync || !this.#canSend()) return;
    void this.sync();
  }

  /** Lifts an `authRequired` pause and drains. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.deps.status.update({ authRequired: false });
    this.deps.events.emit({ type: 'auth-resumed' });
    this.kick();
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#clearTimer();
    await this.#running?.catch(() => {});
  }

  /** Re-reads the counts the status shows, and schedules the next due write. */
  async refresh(): Promise<void> {
    const { store, clock, status } = this.deps;
    const [pending, deadLetters, nextDue] = await Promise.all([
      store.pendingCount(),
      store.deadLetterCount(),
      store.nextDueAt(),
    ]);
    const now = clock.now();
    status.update({
      pending,
      deadLetters,
      nextRetryAt: nextDue !== undefined && nextDue > now ? nextDue : null,
    });
    this.#schedule(nextDue);
  }

  #canSend(): boolean {
    return (
      !this.#paused &&
      !this.#stopped &&
      this.deps.reachability.online &&
      !this.deps.reachability.checking
    );
  }

  async #run(): Promise<SyncReport> {
    const tally: Tally = { delivered: 0, retried: 0, deadLettered: 0 };
    this.#stopped = false;
    this.deps.status.update({ draining: true, storageFault: false });
    try {
      this.#served = this.#requested;
      if (this.deps.store.acquireDrainLock && !(await this.deps.store.acquireDrainLock())) {
        // Another process drains this store; look again later rather than send twice.
        this.#lockTimer();
        return { ...tally };
      }
      for (;;) {
        this.#served = this.#requested;
        await this.#loop(tally);
        await this.refresh();
        if (this.#served === this.#requested || !this.#canSend()) break;
      }
    } catch (error) {
      this.#storageFault(error);
    } finally {
      this.deps.status.update({ draining: false });
    }
    return { ...tally };
  }

  async #loop(tally: Tally): Promise<void> {
    const inflight = new Map<string, Promise<void>>();
    for (;;) {
      const free = this.deps.concurrency - inflight.size;
      if (free > 0 && this.#canSend() && !this.#disposed) {
        const due = await this.deps.store.dueTasks({
          now: this.deps.clock.now(),
          limit: free + inflight.size,
        });
        for (const task of due) {
          if (inflight.size >= this.deps.concurrency) break;
          if (inflight.has(task.orderingKey)) continue;
          const key = task.orderingKey;
          inflight.set(
            key,
            this.#attempt(task, tally).finally(() => inflight.delete(key)),
          );
        }
      }
      if (inflight.size === 0) return;
      await Promise.race(inflight.values());
    }
  }

  async #attempt(task: TaskRecord, tally: Tally): Promise<void> {
    try {
      const verdict = await deliver(this.deps.transport, task, this.deps.timeoutMs, () =>
        this.deps.clock.now(),
      );
      await this.#apply(task, verdict, tally);
    } catch (error) {
      this.#stopped = true;
      this.#storageFault(error);
    }
  }

  async #apply(task: TaskRecord, verdict: Verdict, tally: Tally): Promise<void> {
    const { store, clock, events, settlements, reachability, status } = this.deps;
    switch (verdict.kind) {
      case 'delivered': {
        await store.removeTask(task.id);
        tally.delivered++;
        reachability.reportSuccess();
        status.update({
          pending: Math.max(0, status.facts.pending - 1),
          lastSyncAt: clock.now(),
          lastError: null,
        });
        await this.deps.onDelivered(task, verdict.response);
        events.emit({ type: 'sent', task: summarize(task), status: verdict.response.status });
        settlements.resolve(task.id, {
          status: verdict.response.status,
          data: bodyData(verdict.response.body),
          headers: verdict.response.headers,
          fromCache: false,
          stale: false,
        });
        return;
      }
      case 'unreachable': {
        if (await reachability.confirm()) return this.#retry(task, verdict.error, undefined, tally);
        // The network failed, not the task: no attempt is charged, it goes first on reconnect.
        await store.updateTask({ ...task, lastError: errorInfo(verdict.error) });
        status.update({ lastError: verdict.error });
        events.emit({ type: 'offline', error: verdict.error });
        return;
      }
      case 'retry':
        return this.#retry(task, verdict.error, verdict.retryAfterMs, tally);
      case 'auth':
        if (!this.#paused) {
          this.#paused = true;
          status.update({ authRequired: true, lastError: verdict.error });
          events.emit({ type: 'auth-required', error: verdict.error });
        }
        return;
      case 'conflict':
        events.emit({
          type: 'conflict',
          task: summarize(task),
          status: verdict.error.response.status,
          outcome: 'dead-lettered',
        });
        return this.#deadLetter(task, 'conflict', verdict.error, tally);
      case 'permanent':
        return this.#deadLetter(task, 'rejected', verdict.error, tally);
      case 'cancelled':
        return;
    }
  }

  async #retry(
    task: TaskRecord,
    error: QnoxError,
    retryAfterMs: number | undefined,
    tally: Tally,
  ): Promise<void> {
    const attempts = task.attempts + 1;
    const failed: TaskRecord = { ...task, attempts, lastError: errorInfo(error) };
    if (attempts >= this.deps.retry.maxAttempts)
      return this.#deadLetter(failed, 'max-attempts', error, tally);
    const delayMs = retryAfterMs ?? backoffDelay(attempts, this.deps.retry, this.deps.random);
    const nextAttemptAt = this.deps.clock.now() + delayMs;
    await this.deps.store.updateTask({ ...failed, nextAttemptAt });
    tally.retried++;
    this.deps.status.update({ lastError: error });
    this.deps.events.emit({
      type: 'retry-scheduled',
      task: summarize(failed),
      error,
      delayMs,
      nextAttemptAt,
    });
  }

  async #deadLetter(
    task: TaskRecord,
    reason: DeadLetterReason,
    error: QnoxError,
    tally: Tally,
  ): Promise<void> {
    const response =
      'response' in error ? (error.response as ReturnType<typeof toErrorResponse>) : undefined;
    const record = {
      v: RECORD_VERSION,
      task: { ...task, lastError: errorInfo(error) },
      reason,
      failedAt: this.deps.clock.now(),
      ...(response ? { lastResponse: { status: response.status, data: response.data } } : {}),
    };
    await this.deps.store.addDeadLetter(record);
    tally.deadLettered++;
    const { status } = this.deps;
    status.update({
      pending: Math.max(0, status.facts.pending - 1),
      deadLetters: status.facts.deadLetters + 1,
      lastError: error,
    });
    this.deps.events.emit({ type: 'dead-lettered', task: summarize(task), reason, error });
    this.deps.settlements.reject(task.id, error);
  }

  #schedule(nextDue: number | undefined): void {
    this.#clearTimer();
    // Offline or paused, reconnect or resume() kicks the drain; a timer would only spin.
    if (nextDue === undefined || this.#disposed || !this.#canSend()) return;
    const delay = Math.max(0, nextDue - this.deps.clock.now());
    this.#timer = this.deps.clock.setTimeout(() => {
      this.#timer = undefined;
      this.kick();
    }, delay);
  }

  #lockTimer(): void {
    this.#clearTimer();
    if (this.#disposed || !this.deps.autoSync) return;
    this.#timer = this.deps.clock.setTimeout(() => {
      this.#timer = undefined;
      this.kick();
    }, LOCK_RETRY_MS);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #storageFault(error: unknown): void {
    const wrapped = isQnoxError(error)
      ? error
      : new StorageError('Store operation failed', { cause: error });
    this.deps.status.update({ storageFault: true, lastError: wrapped });
    this.deps.events.emit({ type: 'storage-error', error: wrapped });
  }
}

function errorInfo(error: QnoxError): { code: string; message: string; status?: number } {
  const status = 'response' in error ? (error.response as { status: number }).status : undefined;
  return status === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, status };
}
