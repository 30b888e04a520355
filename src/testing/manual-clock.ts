import type { Clock, TimerHandle } from '../platform/clock.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when told to. Pass it as `clock` to
 * `QnoxSync.create` and call {@link ManualClock.advance} to fire timers.
 *
 * @example
 * const clock = new ManualClock();
 * const sync = await QnoxSync.create({ baseUrl, store, clock });
 * clock.advance(60_000); // every retry due within the next minute fires
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: Timer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, delayMs), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the earliest pending timer fires, or `undefined` when none is set. */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.#timers) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = target;
  }

  /** Jumps to the next pending timer and fires it; returns false when none is set. */
  advanceToNextTimer(): boolean {
    const next = this.nextTimerAt();
    if (next === undefined) return false;
    this.advance(Math.max(0, next - this.#now));
    return true;
  }
}
