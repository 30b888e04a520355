import { type Clock, systemClock, type TimerHandle } from '../platform/clock.js';

/**
 * Gathers calls into batches, one batch in flight at a time: calls made while a
 * batch commits go together in the next one. Each call settles with its batch.
 *
 * With `lingerMs`, a batch that starts within `streamMs` of the previous one (a
 * stream of calls, such as a drain's removals) waits up to `lingerMs` for more
 * calls first: fewer, larger transactions while busy, no added wait for a call
 * after a lull. `flush()` ends a wait early (the stream is over).
 */
export class GroupCommit<I, O> {
  #waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #busy = false;
  #timer: TimerHandle | undefined;
  #lastFlush = Number.NEGATIVE_INFINITY;
  /** When the waiting batch got its first call. */
  #openedAt = 0;
  /** `flush()` came while a batch committed: the calls waiting behind it go next without lingering. */
  #hurry = false;

  constructor(
    private readonly commit: (items: I[]) => Promise<O[]>,
    private readonly lingerMs = 0,
    private readonly streamMs = lingerMs * 4,
    /** Time and the linger timer (a `ManualClock` in tests). */
    private readonly clock: Clock = systemClock,
  ) {}

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) this.#openedAt = this.clock.now();
      this.#waiting.push({ item, resolve, reject });
      if (this.#busy) return;
      this.#busy = true;
      this.#next();
    });
  }

  /** Commits the waiting batch: at once after a lull, else once it has lingered. */
  #next(): void {
    const now = this.clock.now();
    if (this.#hurry || now - this.#lastFlush >= this.streamMs) {
      this.#hurry = false;
      queueMicrotask(() => void this.#flush());
      return;
    }
    const wait = Math.max(0, this.#openedAt + this.lingerMs - now);
    this.#timer = this.clock.setTimeout(() => void this.#flush(), wait);
  }

  /** Commits what waits now, or right after the batch that is committing; no-op when idle. */
  flush(): void {
    if (this.#timer !== undefined) void this.#flush();
    else if (this.#busy) this.#hurry = true;
  }

  async #flush(): Promise<void> {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastFlush = this.clock.now();
    const batch = this.#waiting;
    this.#waiting = [];
    try {
      const out = await this.commit(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(out[i]!);
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
    // Calls made meanwhile linger from when the first of them came.
    if (this.#waiting.length > 0) this.#next();
    else this.#busy = this.#hurry = false;
  }
}
