import type { TaskRecord } from '../outbox/records.js';
import type { Clock } from '../platform/clock.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import type { Verdict } from './deliver.js';

/** Verdicts after which a write is no longer queued under its key (delivered or dead-lettered). */
const SETTLED = new Set<Verdict['kind']>(['delivered', 'permanent', 'damaged']);

export interface SendMarkDeps {
  readonly store: Pick<QnoxLocalStore, 'updateTask' | 'dueTasks'>;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly maxDelayMs: number;
}

/**
 * Invariant 2: before each request leaves, the write is durably marked as
 * possibly delivered (`sentAt`, and `inFlightAt` until its answer is stored),
 * so a crash, `dispose()` or a dropped connection mid-request can never let it
 * be coalesced, cancelled or edited under its old key. A write marked by
 * another sender (a closed tab, a crashed process) may still be in that
 * sender's hands: its key waits out that request's window before it is repeated.
 */
export class SendMarks {
  /** Writes this engine marked: their in-flight window is its own. */
  readonly #mine = new Set<string>();

  constructor(private readonly deps: SendMarkDeps) {}

  /** The marked task, or `undefined` when another sender's window is still open (the key is rescheduled). */
  async mark(task: TaskRecord): Promise<TaskRecord | undefined> {
    const { store, clock } = this.deps;
    const now = clock.now();
    if (task.inFlightAt !== undefined && !this.#mine.has(task.id)) {
      // Never beyond maxDelayMs: a due time further ahead would read as a clock jump.
      const window = Math.min(task.timeoutMs ?? this.deps.timeoutMs, this.deps.maxDelayMs);
      const until = Math.min(task.inFlightAt, now) + window;
      if (until > now) {
        // Not ours to repeat yet: the key waits (status `backoff`) and the scheduler brings it back.
        await store.updateTask({ ...task, nextAttemptAt: until });
        return undefined;
      }
    }
    const marked = { ...task, sentAt: task.sentAt ?? now, inFlightAt: now };
    await store.updateTask(marked);
    this.#mine.add(task.id);
    return marked;
  }

  /** Forgets a write once its outcome took it off the queue. */
  settled(id: string, verdict: Verdict): void {
    if (SETTLED.has(verdict.kind)) this.#mine.delete(id);
  }

  /**
   * A due time further ahead than any delay the engine sets (`maxDelayMs`) means
   * the wall clock went back since it was stored: such heads are made due now
   * (a rare repair, up to 64 a pass). True when any was.
   */
  async mendSkew(nextDue: number, now: number): Promise<boolean> {
    const horizon = now + this.deps.maxDelayMs;
    if (nextDue <= horizon) return false;
    const heads = await this.deps.store.dueTasks({ now: Number.MAX_SAFE_INTEGER, limit: 64 });
    for (const task of heads)
      if (task.nextAttemptAt > horizon)
        await this.deps.store.updateTask({ ...task, nextAttemptAt: now });
    return true;
  }
}
