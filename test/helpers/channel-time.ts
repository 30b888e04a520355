import type { ManualClock } from '../../src/testing/index.js';

/**
 * Lets BroadcastChannel messages through (each takes a real tick between
 * contexts), then moves the manual clock on, 100 ms at a time, for `ms`.
 */
export async function passChannels(clock: ManualClock, ms: number): Promise<void> {
  for (let step = 0; step < ms; step += 100) {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(Math.min(100, ms - step));
  }
  await new Promise((resolve) => setImmediate(resolve));
}
