import type { QnoxLocalStore } from '../src/index.js';
import { sampleTask } from '../src/testing/index.js';

/** Shared by the benches: alternating timings, so disk and CPU drift hit both sides alike; mean ms of each. */
export async function paired(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[number, number]> {
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < rounds; i++) {
    let start = performance.now();
    await a();
    ta += performance.now() - start;
    start = performance.now();
    await b();
    tb += performance.now() - start;
  }
  return [ta / rounds, tb / rounds];
}

/** A 200-byte JSON body, the payload every store figure uses. */
export const BODY = { kind: 'json' as const, value: { text: 'x'.repeat(180) } };

/** A cache entry that never expires, for cache-hit figures. */
export const HOT_ENTRY = {
  v: 1,
  key: 'hot',
  url: 'u',
  status: 200,
  headers: {},
  body: BODY,
  storedAt: 0,
  expiresAt: 1e15,
};

/**
 * Queues the 10k tasks of the heap figures, over 500 keys, each with its own
 * 200-byte body, as in a real queue (a shared body would be counted once).
 */
export async function queueTenThousand(store: QnoxLocalStore): Promise<void> {
  for (let i = 0; i < 10_000; i++)
    await store.enqueue(
      sampleTask({
        body: { kind: 'json', value: { text: `${i}`.padEnd(180, 'x') } },
        orderingKey: `k${i % 500}`,
        nextAttemptAt: i,
      }),
    );
}

/**
 * A heap figure as printed: a store that keeps its tasks outside the JS heap
 * measures within the collector's noise, which can read below zero; that is
 * printed as 0.00 with a word saying why, never as a negative amount.
 */
export function heapFigure(mb: number): string {
  return mb < 0.005 ? `${(0).toFixed(2)} MB (at the heap's noise floor)` : `${mb.toFixed(2)} MB`;
}
