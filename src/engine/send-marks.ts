import type { TaskRecord } from '../model/records.js';
import type { Clock } from '../platform/clock.js';
import { GroupCommit } from '../stores/group-commit.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import type { Verdict } from './deliver.js';

/** Writes of one key marked ahead of its lane at most. */
const AHEAD = 16;

/** Verdicts after which a write is no longer queued under its key (delivered or dead-lettered). */
const SETTLED = new Set<Verdict['kind']>(['delivered', 'permanent', 'damaged']);

export interface SendMarkDeps {
  readonly store: Pick<QnoxLocalStore, 'updateTask' | 'updateTasks' | 'dueTasks'>;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly maxDelayMs: number;
}

/**
 * Invariant 2: before each request leaves, the write is durably marked as
 * possibly delivered (`sentAt`, and `inFlightAt` until its answer is stored),
 * so a crash, `dispose()` or a dropped connection mid-request can never let it
 * be serialPasses, cancelled or edited under its old key. A write marked by
 * another sender (a closed tab, a crashed process) may still be in that
 * sender's hands: its key waits out that request's window before it is repeated.
 */
export class SendMarks {
  /** Writes this engine marked: their in-flight window is its own. */
  readonly #mine = new Set<string>();
  /** Marks written ahead for writes a lane read ahead and has not sent yet. */
  readonly #ahead = new Map<string, AheadMark>();

  /** Marks asked for in the same tick (the first write of each lane) share one commit. */
  readonly #commits: GroupCommit<readonly TaskRecord[], undefined> | undefined;

  constructor(private readonly deps: SendMarkDeps) {
    const { store } = deps;
    this.#commits = store.updateTasks
      ? new GroupCommit(
          async (batches) => {
            await store.updateTasks!(batches.flat());
            return batches.map(() => undefined);
          },
          0,
          0,
          deps.clock,
        )
      : undefined;
  }

  /**
   * The marked task, or `undefined` when another sender's window is still open
   * (the key is rescheduled). A task marked ahead (see {@link markAhead}) costs
   * no commit here, only the wait for that batch's commit.
   */
  async mark(task: TaskRecord): Promise<TaskRecord | undefined> {
    const pre = this.#ahead.get(task.id);
    if (pre) {
      this.#ahead.delete(task.id);
      await pre.commit;
      return pre.marked;
    }
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
    const marked = markOf(task, now);
    await (this.#commits ? this.#commits.add([marked]) : store.updateTask(marked));
    this.#mine.add(task.id);
    return marked;
  }

  /**
   * Starts marking, in the background, the next writes a lane will send (up to
   * {@link AHEAD} of a key at a time), while its current write is on the wire:
   * the lane then finds them marked, and marks cost it no wait. Marks asked for
   * while a commit runs share the next one. A mark written ahead says no more
   * than "may have been sent", which only makes the engine more careful;
   * {@link release} takes it back when the lane stops before sending the write.
   * Only for stores with `updateTasks` (one commit per batch).
   */
  markAhead(next: readonly TaskRecord[]): void {
    const commits = this.#commits;
    const key = next[0]?.orderingKey;
    if (!commits || key === undefined) return;
    let room = AHEAD;
    for (const pre of this.#ahead.values()) if (pre.before.orderingKey === key) room--;
    // Topped up by half a window at a time: fewer, larger commits.
    if (room < AHEAD / 2) return;
    const now = this.deps.clock.now();
    const batch = next
      .filter((t) => !this.#ahead.has(t.id) && (t.inFlightAt === undefined || this.#mine.has(t.id)))
      .slice(0, room);
    if (batch.length === 0) return;
    const commit = commits.add(batch.map((t) => markOf(t, now)));
    commit.catch(() => {
      // The lane marks these one by one instead (and meets the store's error there).
      for (const t of batch) if (this.#ahead.get(t.id)?.commit === commit) this.#ahead.delete(t.id);
    });
    for (const before of batch) {
      this.#ahead.set(before.id, { commit, before, marked: markOf(before, now) });
      this.#mine.add(before.id);
    }
  }

  /** `task` as it was queued, when its only new mark is one written ahead (it was not sent). */
  asQueued(task: TaskRecord): TaskRecord {
    return this.#ahead.get(task.id)?.before ?? task;
  }

  /**
   * Takes back marks written ahead (all of `orderingKey`'s, or the one of `id`)
   * for writes that were never sent: they may coalesce or be cancelled again.
   * Best effort: a mark left behind (a crash, a closed store) only makes a later
   * sender wait out one in-flight window for that key.
   */
  async release(match: { readonly orderingKey?: string; readonly id?: string }): Promise<void> {
    const back: AheadMark[] = [];
    for (const [id, pre] of this.#ahead)
      if (id === match.id || pre.before.orderingKey === match.orderingKey) {
        back.push(pre);
        this.#ahead.delete(id);
      }
    if (back.length === 0) return;
    await Promise.allSettled(back.map((pre) => pre.commit));
    // Marks are written ahead only through `#commits`, so it is there.
    await this.#commits?.add(back.map((pre) => pre.before)).catch(() => {});
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

interface AheadMark {
  readonly commit: Promise<void>;
  /** The write as read, before its mark. */
  readonly before: TaskRecord;
  readonly marked: TaskRecord;
}

function markOf(task: TaskRecord, now: number): TaskRecord {
  return { ...task, sentAt: task.sentAt ?? now, inFlightAt: now };
}
