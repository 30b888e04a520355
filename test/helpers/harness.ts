import { afterEach } from 'vitest';
import { MemoryStore, QnoxSync, type QnoxSyncOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { TestServer } from './test-server.js';

export interface Harness {
  server: TestServer;
  clock: ManualClock;
  sync: QnoxSync;
}

/** A client on a manual clock against a fresh real server; dispose with `close`. */
export async function startHarness(
  options: Partial<QnoxSyncOptions> = {},
): Promise<Harness & { close(): Promise<void> }> {
  const server = new TestServer();
  const baseUrl = await server.start();
  const clock = new ManualClock();
  const sync = await QnoxSync.create({
    baseUrl,
    clock,
    random: () => 0.5,
    store: new MemoryStore(),
    ...options,
  });
  return {
    server,
    clock,
    sync,
    async close() {
      await sync.dispose();
      await server.stop();
    },
  };
}

/**
 * Drains until nothing is queued, moving the fake clock to the next timer
 * whenever the engine is idle (backoff, probes). Real time passes only for I/O.
 */
export async function drainAll(
  sync: QnoxSync,
  clock: ManualClock,
  maxSteps = 10_000,
): Promise<void> {
  for (let step = 0; step < maxSteps; step++) {
    await sync.sync();
    if ((await sync.pendingCount()) === 0 && sync.onSyncStatus.value.phase !== 'syncing') return;
    const { phase } = sync.onSyncStatus.value;
    if (phase === 'authRequired') return;
    // Time moves only while no request is in flight, or a probe's own timeout would fire under it.
    const busy = phase === 'checkingConnectivity' || phase === 'syncing';
    if (busy || !clock.advanceToNextTimer()) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`drainAll: still ${await sync.pendingCount()} pending after ${maxSteps} steps`);
}

/**
 * Waits (real time, bounded) until `predicate` holds. The bound holds for an
 * async predicate too: one that never settles (a page evaluating a promise that
 * never resolves) fails here with this message, not at the test's own timeout.
 */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const start = Date.now();
  const fail = () => new Error(`until: condition not met in ${timeoutMs} ms`);
  for (;;) {
    const answer = Promise.resolve(predicate());
    // Left behind at the deadline, its later failure is nobody's to report.
    answer.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, timeoutMs - (Date.now() - start)) + 1);
    });
    const held = await Promise.race([answer.then(Boolean), deadline]).finally(() =>
      clearTimeout(timer),
    );
    if (held === true) return;
    if (held === 'late' || Date.now() - start > timeoutMs) throw fail();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * One cleanup per test: assign `closer.close` in a test and it runs after that test,
 * pass or fail. Replaces a hand-written afterEach in every file.
 */
export function closeAfterEach(): { close: (() => Promise<void>) | undefined } {
  const closer: { close: (() => Promise<void>) | undefined } = { close: undefined };
  afterEach(async () => {
    const close = closer.close;
    closer.close = undefined;
    await close?.();
  });
  return closer;
}
