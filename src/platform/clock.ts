import { ConfigError } from '../model/errors.js';

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Every timer the library sets goes through a clock, so tests can replace it
 * with a manual one and run a day of backoff in milliseconds.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The longest delay platform timers keep (2^31 - 1 ms, about 24.8 days): a
 * longer one overflows and fires at once, over and over.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay every platform timer takes as meant: within [0, {@link MAX_TIMER_MS}]. */
export function clampDelay(delayMs: number): number {
  if (Number.isNaN(delayMs)) return MAX_TIMER_MS;
  return Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
}

/**
 * Checks a duration option: a finite number of ms in (0, {@link MAX_TIMER_MS}];
 * a larger one would overflow the timer that enforces it and fire at once.
 */
export function checkDuration(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS)
    throw new ConfigError(
      option,
      `must be a number of ms in (0, ${MAX_TIMER_MS}], got ${String(value)}`,
    );
  return value;
}

/** The real clock: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, clampDelay(delayMs)),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A clock that asks `get` for the real one at each call (for objects built before their options). */
export function lazyClock(get: () => Clock): Clock {
  return {
    now: () => get().now(),
    setTimeout: (run, ms) => get().setTimeout(run, ms),
    clearTimeout: (handle) => get().clearTimeout(handle),
  };
}
