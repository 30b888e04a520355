import { CancelledError, TimeoutError } from '../model/errors.js';
import { type Clock, checkDuration } from '../platform/clock.js';
import type { LiveValue } from '../status/subscribable.js';
import type { SyncStatus } from '../status/sync-status.js';

/** Options of `QnoxSync.drained`. */
export interface DrainedOptions {
  /**
   * Give up after this long with a `TimeoutError` (writes stay queued).
   * @default none (wait as long as it takes)
   * @example 60_000
   */
  readonly timeoutMs?: number;
  /**
   * Stop waiting when aborted, with a `CancelledError` (writes stay queued).
   * @default none
   * @example AbortSignal.timeout(30_000)
   */
  readonly signal?: AbortSignal;
}

export interface DrainedDeps {
  readonly clock: Clock;
  readonly status: LiveValue<SyncStatus>;
  /** One drain of what is due now. */
  readonly sync: () => Promise<unknown>;
}

/**
 * Drains until nothing is queued (only dead letters may remain): after each
 * pass it waits for the next retry time, a reconnect or any status change, and
 * drains again. For scripts and jobs that must not exit with writes queued.
 */
export function untilDrained(
  deps: DrainedDeps,
  options: DrainedOptions = {},
): Promise<{ deadLetters: number }> {
  const { clock, status } = deps;
  if (options.timeoutMs !== undefined) checkDuration('timeoutMs', options.timeoutMs);
  return new Promise((resolve, reject) => {
    let done = false;
    let wake: (() => void) | undefined;
    const timers: unknown[] = [];
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      for (const t of timers) clock.clearTimeout(t);
      unsubscribe();
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve({ deadLetters: status.value.deadLetters });
    };
    const onAbort = () => finish(new CancelledError('drained() was aborted; writes stay queued'));
    const unsubscribe = status.subscribe(() => wake?.());
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    if (options.timeoutMs !== undefined)
      timers.push(
        clock.setTimeout(() => finish(new TimeoutError(options.timeoutMs!)), options.timeoutMs),
      );
    const loop = async () => {
      while (!done) {
        await deps.sync();
        const now = status.value;
        if (now.pending === 0) return finish();
        // Wait for the next retry time or any change (reconnect, resume, another context).
        await new Promise<void>((next) => {
          wake = next;
          if (now.nextRetryAt !== null)
            timers.push(clock.setTimeout(next, Math.max(0, now.nextRetryAt - clock.now())));
        });
        wake = undefined;
      }
    };
    loop().catch((error: Error) => finish(error));
  });
}
