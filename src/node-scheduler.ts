import type { QnoxSync } from './client/qnox-sync.js';

/** Options of {@link startScheduler}. */
export interface SchedulerOptions {
  /**
   * How often to drain, besides the automatic drains on new writes, reconnects and due retries.
   * @default 60000
   * @example 15_000
   */
  intervalMs?: number;
}

/**
 * For long-running Node processes (kiosks, daemons, IoT): drains on an
 * interval as a safety net, so writes queued by other processes on the same
 * store, or left by a crash, go out without waiting for a new local write.
 * Returns the stop function.
 *
 * @example
 * const stop = startScheduler(sync, { intervalMs: 15_000 });
 * process.on('SIGTERM', async () => { stop(); await sync.dispose(); });
 */
export function startScheduler(sync: QnoxSync, options: SchedulerOptions = {}): () => void {
  const timer = setInterval(() => {
    void sync.sync().catch(() => undefined);
  }, options.intervalMs ?? 60_000);
  return () => clearInterval(timer);
}
