import type { Reachability } from '../http/reachability.js';
import type { Transport, WireResponse } from '../http/transport.js';
import { bodyData } from '../model/body.js';
import type { ConflictStrategy } from '../model/conflict-types.js';
import {
  type AuthError,
  type CallbackError,
  ConflictError,
  isQnoxError,
  type QnoxError,
  StorageError,
} from '../model/errors.js';
import { type SyncEvent, summarize } from '../model/events.js';
import { type DeadLetterReason, RECORD_VERSION, type TaskRecord } from '../model/records.js';
import type { CurrentVersion, QnoxResponse } from '../model/responses.js';
import type { Clock } from '../platform/clock.js';
import { likelyCors } from '../platform/page-origin.js';
import type { Emitter } from '../status/subscribable.js';
import type { StatusController } from '../status/sync-status.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { backoffDelay, type RetryPolicy } from './backoff.js';
import type { ConflictPort, ConflictPortFactory } from './conflict-port.js';
import { toErrorResponse, type Verdict } from './deliver.js';
import type { WriteResults } from './write-results.js';

/** Counts of one drain. */
export interface DrainCounts {
  delivered: number;
  retried: number;
  deadLettered: number;
}

export interface VerdictDeps {
  readonly store: QnoxLocalStore;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly status: StatusController;
  readonly events: Emitter<SyncEvent>;
  readonly reachability: Reachability;
  readonly settlements: WriteResults;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly random: () => number;
  /** Who resolves conflicts: the core parks them, the `conflicts()` plug-in brings strategies. */
  readonly conflicts: ConflictPortFactory;
  readonly perCallConflict: Map<string, ConflictStrategy>;
  readonly newId: () => string;
  /** Pauses delivery in `authRequired`. */
  readonly pause: (error: AuthError) => void;
  /** The moment a write is acknowledged, before the next write of its key goes out. */
  readonly onAcknowledged: (task: TaskRecord, response: WireResponse) => void;
  /** After a write is acknowledged, before its `result` settles (read-your-writes). */
  readonly onDelivered: (task: TaskRecord, response: WireResponse) => Promise<void>;
  /** After a write is dropped for good (server-wins, dead letter): roll back what it showed. */
  readonly onAbandoned: (task: TaskRecord, current?: CurrentVersion) => Promise<void>;
}

/** Turns the verdict of one attempt into store updates, events and settled promises. */
export class VerdictHandler {
  readonly #conflicts: ConflictPort;

  constructor(private readonly deps: VerdictDeps) {
    this.#conflicts = deps.conflicts({
      transport: deps.transport,
      events: deps.events,
      timeoutMs: deps.timeoutMs,
      perCall: deps.perCallConflict,
      newId: deps.newId,
      update: (task) => deps.store.updateTask(task),
      park: (task, error) => this.deadLetter(task, 'conflict', error),
      serverWins: async (task, error, current) => {
        await deps.store.removeTask(task.id);
        this.#countDown();
        await this.#upkeep(() => deps.onAbandoned(task, current));
        deps.settlements.reject(task.id, error);
      },
    });
  }

  counts: DrainCounts = { delivered: 0, retried: 0, deadLettered: 0 };

  /**
   * Whether a key's next write may leave while the previous one's bookkeeping
   * commits: not when a conflict detector may turn a delivered write into a
   * conflict and re-send it.
   */
  get pipelines(): boolean {
    return this.#conflicts.detect === undefined;
  }

  checkConflict(option: string, strategy: ConflictStrategy): void {
    this.#conflicts.check(option, strategy);
  }

  /**
   * Tells of a delivered write at once (other tabs, the caller's result); in a
   * pipelined lane its removal starts now (or started at its 2xx status:
   * `removed`) and commits behind the next write. Pipelined lanes have no
   * conflict detector: an acknowledged write is done.
   */
  acknowledge(
    task: TaskRecord,
    verdict: Verdict,
    pipelined: boolean,
    removed: Promise<void> | undefined,
  ): EarlyAck | undefined {
    if (verdict.kind !== 'delivered') return undefined;
    this.deps.onAcknowledged(task, verdict.response);
    if (!pipelined) return undefined;
    const early = {
      removed: removed ?? this.deps.store.removeTask(task.id),
      result: toResult(verdict.response),
    };
    early.removed.catch(() => {});
    this.deps.settlements.acknowledged(task.id, early.result);
    return early;
  }

  /** `early`: what the caller already did on acknowledgment (started the removal, built the result). */
  async apply(task: TaskRecord, verdict: Verdict, early?: EarlyAck): Promise<void> {
    const { store, status, events, reachability } = this.deps;
    switch (verdict.kind) {
      case 'delivered': {
        const view = toErrorResponse(verdict.response);
        if (this.#detectsConflict(view)) return this.#conflict(task, new ConflictError(view));
        return this.#delivered(task, verdict.response, early);
      }
      case 'unreachable':
        if (await reachability.confirm())
          return this.retry(task, likelyCors(task.url, verdict.error));
        // The network failed, not the task: no attempt is charged, it goes first on reconnect.
        await store.updateTask({ ...answered(task), lastError: errorInfo(verdict.error) });
        status.update({ lastError: verdict.error });
        events.emit({ type: 'offline', error: verdict.error });
        return;
      case 'retry':
        return this.retry(task, verdict.error, verdict.retryAfterMs);
      case 'in-progress':
        // Uncharged, but never sooner than the first backoff: a server that keeps answering
        // "in progress" (with Retry-After: 0, say) must not be hammered.
        return this.retry(
          task,
          verdict.error,
          Math.max(verdict.retryAfterMs ?? 0, this.deps.retry.baseDelayMs),
          false,
        );
      case 'auth':
        return this.deps.pause(verdict.error);
      case 'conflict':
        return this.#conflict(task, verdict.error);
      case 'precondition': {
        const outcome = await this.#conflicts.requirePrecondition(task, verdict.error);
        if (outcome) return this.retry(task, outcome.retry);
        return;
      }
      case 'permanent':
        return this.deadLetter(task, 'rejected', verdict.error);
      case 'cancelled':
        return;
      case 'damaged':
        this.deps.events.emit({ type: 'quarantined', id: task.id, reason: verdict.error.message });
        return this.deadLetter(task, 'quarantined', verdict.error);
    }
  }

  /** `charge`: false when the attempt failed through no fault of the write (its key is still being processed). */
  async retry(
    task: TaskRecord,
    error: QnoxError,
    retryAfterMs?: number,
    charge = true,
  ): Promise<void> {
    const attempts = task.attempts + (charge ? 1 : 0);
    const failed: TaskRecord = { ...answered(task), attempts, lastError: errorInfo(error) };
    if (charge && attempts >= this.deps.retry.maxAttempts)
      return this.deadLetter(
        failed,
        error.code === 'redirect' ? 'redirected' : 'max-attempts',
        error,
      );
    // A server's Retry-After is honoured up to maxDelayMs: an absurd value must not park a write for years.
    const delayMs = Math.min(
      retryAfterMs ?? backoffDelay(Math.max(1, attempts), this.deps.retry, this.deps.random),
      this.deps.retry.maxDelayMs,
    );
    const nextAttemptAt = this.deps.clock.now() + delayMs;
    await this.deps.store.updateTask({ ...failed, nextAttemptAt });
    this.counts.retried++;
    this.deps.status.update({ lastError: error });
    this.deps.events.emit({
      type: 'retry-scheduled',
      task: summarize(failed),
      error,
      delayMs,
      nextAttemptAt,
    });
  }

  async deadLetter(task: TaskRecord, reason: DeadLetterReason, error: QnoxError): Promise<void> {
    const response =
      'response' in error ? (error.response as ReturnType<typeof toErrorResponse>) : undefined;
    await this.deps.store.addDeadLetter({
      v: RECORD_VERSION,
      task: { ...task, lastError: errorInfo(error) },
      reason,
      failedAt: this.deps.clock.now(),
      ...(response ? { lastResponse: { status: response.status, data: response.data } } : {}),
    });
    this.counts.deadLettered++;
    this.#countDown(1);
    this.deps.status.update({ lastError: error });
    await this.#upkeep(() => this.deps.onAbandoned(task));
    this.deps.events.emit({ type: 'dead-lettered', task: summarize(task), reason, error });
    this.deps.settlements.reject(task.id, error);
  }

  /** A throwing detector cannot turn a 2xx into a conflict: the write counts as delivered, the failure is reported. */
  #detectsConflict(view: ReturnType<typeof toErrorResponse>): boolean {
    try {
      return this.#conflicts.detect?.(view) === true;
    } catch (error) {
      this.#callbackFailed(error);
      return false;
    }
  }

  /** Cache upkeep and rollbacks run app callbacks; their failure must not keep a `result` from settling. */
  async #upkeep(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.#callbackFailed(error);
    }
  }

  #callbackFailed(error: unknown): void {
    const typed = isQnoxError(error)
      ? error
      : new StorageError('Cache upkeep failed', { cause: error });
    this.deps.events.emit(
      typed.code === 'callback'
        ? { type: 'callback-error', error: typed as CallbackError }
        : { type: 'storage-error', error: typed },
    );
  }

  async #conflict(task: TaskRecord, error: ConflictError): Promise<void> {
    const outcome = await this.#conflicts.handle(task, error);
    if (outcome) await this.retry(task, outcome.retry);
  }

  async #delivered(task: TaskRecord, response: WireResponse, early?: EarlyAck): Promise<void> {
    const { store, status, clock, events, settlements, reachability } = this.deps;
    await (early?.removed ?? store.removeTask(task.id));
    this.counts.delivered++;
    reachability.reportSuccess();
    this.#countDown();
    status.update({ lastSyncAt: clock.now(), lastError: null });
    await this.#upkeep(() => this.deps.onDelivered(task, response));
    events.emit({ type: 'sent', task: summarize(task), status: response.status });
    settlements.resolve(task.id, early?.result ?? toResult(response));
  }

  #countDown(deadLetters = 0): void {
    const { status } = this.deps;
    status.adjustPending(-1, { deadLetters: status.facts.deadLetters + deadLetters });
  }
}

/** A pipelined lane's work at acknowledgment, handed on so the bookkeeping does not redo it. */
export interface EarlyAck {
  readonly removed: Promise<void>;
  readonly result: QnoxResponse;
}

/** What a write's `result` resolves with once the server acknowledged it. */
export function toResult(response: WireResponse): QnoxResponse {
  return {
    status: response.status,
    data: bodyData(response.body),
    headers: response.headers,
    fromCache: false,
    stale: false,
    pendingWrites: false,
  };
}

/** The task once its request's fate is stored: no longer in anyone's hands (the mark `sentAt` stays). */
function answered(task: TaskRecord): TaskRecord {
  const { inFlightAt: _done, ...rest } = task;
  return rest;
}

function errorInfo(error: QnoxError): { code: string; message: string; status?: number } {
  const status = 'response' in error ? (error.response as { status: number }).status : undefined;
  return status === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, status };
}
