import type { ConflictStrategy } from '../model/conflict-types.js';
import { type AuthError, isQnoxError, StorageError } from '../model/errors.js';
import type { TaskRecord } from '../model/records.js';
import { deadLetterCount, nextDueAt } from '../stores/store-access.js';
import { deliver } from './deliver.js';
import type { EngineDeps, SyncReport } from './engine-deps.js';
import { KickTimer } from './kick-timer.js';
import { ReadAhead } from './read-ahead.js';
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

  constructor(private readonly deps: EngineDeps) {
    this.#verdicts = new VerdictHandler({ ...deps, pause: (error) => this.#pause(error) });
    this.#marks = new SendMarks({ ...deps, maxDelayMs: deps.retry.maxDelayMs });
    this.#timer = new KickTimer(deps.clock, () => this.kick());
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

  /** Starts a drain without waiting for it; failures surface on the status stream. */
  /** Checks a write's own conflict strategy against who resolves conflicts (ConfigError if unsupported). */
  checkConflict(option: string, strategy: ConflictStrategy): void {
    this.#verdicts.checkConflict(option, strategy);
  }

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
      if (this.deps.store.acquireDrainLock && !(await this.deps.store.acquireDrainLock())) {
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
            this.#runLane(task).finally(() => inflight.delete(key)),
          );
        }
      }
      if (inflight.size === 0) return;
      await Promise.race(inflight.values());
    }
  }

  /**
   * Delivers `first`, then keeps its ordering key's lane busy. The lane reads
   * its key ahead in batches, so the next write goes out as soon as the
   * previous one is acknowledged, while that one's removal and cache upkeep
   * commit behind it. Safe because a crash before a removal commits only
   * replays that write under its idempotency key, after which order holds.
   */
  async #runLane(first: TaskRecord): Promise<void> {
    const ahead = new ReadAhead(
      this.#verdicts.pipelines ? this.deps.store : undefined,
      first,
      () => ++this.#epoch,
    );
    let task = first;
    let bookkeeping: Promise<void> = Promise.resolve();
    let previousAck: Promise<unknown> = Promise.resolve();
    this.#inFlight.add(task.id);
    try {
      for (;;) {
        ahead.fill();
        // A precondition follows the previous write's answer (its new ETag): wait for it in full.
        if (task.headers['if-match'] !== undefined) await previousAck;
        const marked = await this.#marks.mark(task);
        if (!marked || this.#disposed || !this.#holdsLock()) break;
        task = marked;
        const current = task;
        let onDelivered!: () => void;
        const delivered = new Promise<boolean>((resolve) => {
          onDelivered = () => resolve(true);
        });
        const verdict = deliver(
          this.deps.transport,
          this.deps.beforeSend(current),
          this.deps.timeoutMs,
          () => this.deps.clock.now(),
          // At a 2xx the write took effect, whatever happens to its body: it is delivered
          // (its data `null` if the body is lost), never sent again, on every store alike.
          // Only a conflict detector, which reads the body, needs it whole.
          this.#verdicts.pipelines ? onDelivered : undefined,
        );
        // A pipelined lane moves on at the server's 2xx status: the write took
        // effect, and its answer's body is read while the next write goes out.
        const early = ahead.active && (await Promise.race([delivered, verdict.then(() => false)]));
        let removed: Promise<void> | undefined;
        if (early) {
          this.#markAhead(ahead);
          removed = this.deps.store.removeTask(current.id);
          removed.catch(() => {});
        }
        const acked = verdict.then((v) =>
          this.#verdicts.acknowledge(current, v, ahead.active, removed),
        );
        acked.catch(() => {});
        previousAck = acked.catch(() => {});
        // A write stays "in flight" until its outcome is stored: until then it still
        // looks queued and untried, and nothing (coalescing, cancelling) may touch it.
        bookkeeping = bookkeeping
          .then(async () => {
            const outcome = await verdict;
            await this.#verdicts.apply(current, outcome, await acked);
            this.#marks.settled(current.id, outcome);
          })
          .finally(() => {
            if (current !== task) this.#inFlight.delete(current.id);
          });
        const next = early || (await verdict).kind === 'delivered' ? await ahead.take() : undefined;
        if (!next || !this.#mayChain(next.task, next.epoch)) break;
        this.#inFlight.add(next.task.id);
        task = next.task;
      }
      // The lane ran dry: removals the store holds back for a batch need not wait.
      this.deps.store.flush?.();
      await bookkeeping;
    } catch (error) {
      await bookkeeping.catch(() => {});
      this.#stopped = true;
      this.#storageFault(error);
    } finally {
      this.#inFlight.delete(task.id);
      await this.#marks.release({ orderingKey: first.orderingKey });
    }
  }

  /** Marks the writes read ahead that the lane would send next, in the background. */
  #markAhead(ahead: ReadAhead): void {
    this.#marks.markAhead(
      ahead
        .peek()
        .filter((next) => this.#mayChain(next.task, next.epoch))
        .map((next) => next.task),
    );
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
    return this.deps.store.holdsDrainLock?.() !== false;
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
