import type { ConflictStrategy } from '../model/conflict-types.js';
import { type AuthError, isQnoxError, StorageError } from '../model/errors.js';
import type { TaskRecord } from '../model/records.js';
import { deadLetterCount, nextDueAt } from '../stores/store-access.js';
import type { EngineDeps, SyncReport } from './engine-deps.js';
import { KickTimer } from './kick-timer.js';
import { type EngineAccess, runLane } from './lane.js';
import { SendMarks } from './send-marks.js';
import { VerdictHandler } from './verdicts.js';

export type { EngineDeps, SyncReport } from './engine-deps.js';

/** How often a client whose store is drained by another context (a tab, a process) looks again. */
const LOCK_RETRY_MS = 1_000;

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
  readonly #timer: KickTimer;
  readonly #verdicts: VerdictHandler;
  readonly #marks: SendMarks;
  readonly #inFlight = new Set<string>();
  /** Task ids changed outside the drain (coalescing): Infinity while held, else the epoch of the change. */
  readonly #touched = new Map<string, number>();
  #epoch = 0;
  /** Epoch of the last outbox wipe: tasks read before it are not sent. */
  #cleared = 0;
  /** What lanes and a plug-in's drain may use of this engine. */
  readonly #access: EngineAccess;

  constructor(private readonly deps: EngineDeps) {
    this.#verdicts = new VerdictHandler({ ...deps, pause: (error) => this.#pause(error) });
    this.#marks = new SendMarks({ ...deps, maxDelayMs: deps.retry.maxDelayMs });
    this.#timer = new KickTimer(deps.clock, () => this.kick());
    const engine = this;
    this.#access = {
      deps,
      verdicts: this.#verdicts,
      marks: this.#marks,
      inFlight: this.#inFlight,
      get disposed() {
        return engine.#disposed;
      },
      epoch: () => ++this.#epoch,
      canSend: () => this.#canSend(),
      holdsLock: () => this.#holdsLock(),
      mayChain: (next, epoch) => this.#mayChain(next, epoch),
      stop: (error) => {
        this.#stopped = true;
        this.#storageFault(error);
      },
    };
  }

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

  /**
   * Runs `change` on a queued task unless it is being sent; the drain leaves the
   * task alone meanwhile and re-reads it afterwards. Resolves `undefined` when refused.
   */
  async hold<R>(id: string, change: () => Promise<R>): Promise<R | undefined> {
    if (this.#inFlight.has(id) || this.#touched.get(id) === Number.POSITIVE_INFINITY)
      return undefined;
    this.#touched.set(id, Number.POSITIVE_INFINITY);
    try {
      // A mark written ahead for a write its lane will now skip: it was never sent.
      await this.#marks.release({ id });
      return await change();
    } finally {
      this.#touched.set(id, ++this.#epoch);
      this.kick();
    }
  }

  /**
   * `task` as queued, when the only mark it carries was written ahead by a lane
   * that has not sent it: a change under {@link hold} takes that mark back.
   */
  asQueued<T extends TaskRecord | undefined>(task: T): T {
    return (task && this.#marks.asQueued(task)) as T;
  }

  /** Checks a write's own conflict strategy against who resolves conflicts (ConfigError if unsupported). */
  checkConflict(option: string, strategy: ConflictStrategy): void {
    this.#verdicts.checkConflict(option, strategy);
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

  /** After the outbox was wiped: drop whatever the lanes read ahead. */
  forgetReadAhead(): void {
    this.#cleared = ++this.#epoch;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#timer.clear();
    await this.#running?.catch(() => {});
  }

  /**
   * Re-reads the counts the status shows, and schedules the next due write.
   * Resolves true when a write is due now (one a pass could not reach, such as
   * the key's next write after a damaged head was quarantined, or writes whose
   * due time lay beyond a clock jump).
   */
  async refresh(): Promise<boolean> {
    const { store, clock, status } = this.deps;
    const [pending, deadLetters, nextDue] = await Promise.all([
      store.pendingCount(),
      deadLetterCount(store),
      nextDueAt(store),
    ]);
    const now = clock.now();
    const mended = nextDue !== undefined && (await this.#marks.mendSkew(nextDue, now));
    const due = mended ? now : nextDue;
    status.update({
      pending,
      deadLetters,
      nextRetryAt: due !== undefined && due > now ? due : null,
    });
    this.#schedule(due);
    return due !== undefined && due <= now;
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
    const counts = { delivered: 0, retried: 0, deadLettered: 0 };
    this.#verdicts.counts = counts;
    this.#stopped = false;
    this.deps.status.update({ draining: true, storageFault: false });
    try {
      this.#served = this.#requested;
      if (this.deps.drainLock && !(await this.deps.drainLock.acquire())) {
        // Another process drains this store; look again later rather than send twice.
        this.#lockTimer();
        return { ...counts };
      }
      // A few more passes while writes are due now, never an unbounded loop (it would
      // run on microtasks alone and starve the event loop).
      for (let extra = 0; ; ) {
        this.#served = this.#requested;
        await this.#loop();
        const dueNow = await this.refresh();
        if (!this.#canSend()) break;
        if (this.#served !== this.#requested) continue;
        if (!dueNow || extra++ >= 3) break;
      }
    } catch (error) {
      this.#storageFault(error);
    } finally {
      this.deps.status.update({ draining: false });
    }
    return { ...counts };
  }

  async #loop(): Promise<void> {
    // A plug-in that sends another way (batching) goes first; the lanes send what it leaves.
    const { drain } = this.deps;
    if (drain && (await drain.pass(this.#access))) return;
    const inflight = new Map<string, Promise<void>>();
    for (;;) {
      const free = this.deps.concurrency - inflight.size;
      if (free > 0 && this.#canSend() && this.#holdsLock() && !this.#disposed) {
        const epoch = ++this.#epoch;
        const due = await this.deps.store.dueTasks({
          now: this.deps.clock.now(),
          limit: free + inflight.size,
        });
        for (const task of due) {
          if (inflight.size >= this.deps.concurrency) break;
          if (inflight.has(task.orderingKey)) continue;
          const touched = this.#touched.get(task.id);
          // Read before a concurrent change finished: skip; the change's kick brings it back.
          if (touched !== undefined && touched >= epoch) continue;
          this.#touched.delete(task.id);
          const key = task.orderingKey;
          inflight.set(
            key,
            runLane(task, this.#access).finally(() => inflight.delete(key)),
          );
        }
      }
      if (inflight.size === 0) return;
      await Promise.race(inflight.values());
    }
  }

  #mayChain(next: TaskRecord, epoch: number): boolean {
    const touched = this.#touched.get(next.id);
    return (
      this.#canSend() &&
      this.#holdsLock() &&
      !this.#disposed &&
      this.#cleared < epoch &&
      next.nextAttemptAt <= this.deps.clock.now() &&
      (touched === undefined || touched < epoch) &&
      !this.#inFlight.has(next.id)
    );
  }

  /** Another context may have taken over since this drain began. */
  #holdsLock(): boolean {
    return this.deps.drainLock?.held !== false;
  }

  #pause(error: AuthError): void {
    if (this.#paused) return;
    this.#paused = true;
    this.deps.status.update({ authRequired: true, lastError: error });
    this.deps.events.emit({ type: 'auth-required', error });
  }

  #schedule(nextDue: number | undefined): void {
    this.#timer.clear();
    // Offline or paused, reconnect or resume() kicks the drain; a timer would only spin.
    if (nextDue !== undefined && !this.#disposed && this.#canSend()) this.#timer.at(nextDue);
  }

  #lockTimer(): void {
    this.#timer.clear();
    const retryAt = this.deps.clock.now() + LOCK_RETRY_MS;
    // Writes wait on another drainer, not on nothing: the status says when this client looks again.
    this.deps.status.update({ nextRetryAt: retryAt });
    if (!this.#disposed && this.deps.autoSync) this.#timer.at(retryAt);
  }

  #storageFault(error: unknown): void {
    const wrapped = isQnoxError(error)
      ? error
      : new StorageError('Store operation failed', { cause: error });
    this.deps.status.update({ storageFault: true, lastError: wrapped });
    this.deps.events.emit({ type: 'storage-error', error: wrapped });
  }
}
