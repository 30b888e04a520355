import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, drainAll, startHarness, until } from './helpers/harness.js';
import type { Fault } from './helpers/test-server.js';

const closer = closeAfterEach();

describe('invariant 2: nothing lost, nothing doubled', () => {
  it('committed-then-dropped: the retry carries the same key and the server applies it once', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.fail({ kind: 'commit-then-drop' });
    const m = await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    await expect(m.result).resolves.toMatchObject({ status: 201 });
    const sent = h.server.requestsTo('POST', '/streams/a');
    expect(sent.length).toBe(2);
    expect(new Set(sent.map((r) => r.idempotencyKey))).toEqual(new Set([m.idempotencyKey]));
    expect(h.server.streams.get('a')).toEqual([1]);
  });

  it('a response slower than the timeout is retried with the same key and applied once', async () => {
    const h = await startHarness({ timeoutMs: 5_000 });
    closer.close = h.close;
    h.server.fail({ kind: 'slow', ms: 10_000 });
    const m = await h.sync.post('/streams/a', { n: 1 });
    await until(() => h.server.requests.length === 1);
    h.clock.advance(5_000);
    await drainAll(h.sync, h.clock);
    await expect(m.result).resolves.toMatchObject({ status: 201 });
    expect(h.server.requestsTo('POST', '/streams/a').map((r) => r.idempotencyKey)).toEqual([
      m.idempotencyKey,
      m.idempotencyKey,
    ]);
    expect(h.server.streams.get('a')).toEqual([1]);
  });

  it('a reset before the server acted is retried and applied once', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.fail({ kind: 'reset' });
    await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('a')).toEqual([1]);
  });

  // The 1,000-write fault run lives in delivery-suite.test.ts, over every store.

  it('every acknowledged write is applied exactly once for any fault sequence (property)', async () => {
    const h = await startHarness({ retry: { maxAttempts: 100 } });
    closer.close = h.close;
    const fault = fc.constantFrom<Fault | undefined>(
      undefined,
      { kind: 'status', status: 503 },
      { kind: 'reset' },
      { kind: 'commit-then-drop' },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fault, { maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        async (faults, writes) => {
          run++;
          const stream = `p${run}`;
          h.server.fail(...faults.filter((f): f is Fault => f !== undefined));
          for (let i = 0; i < writes; i++) await h.sync.post(`/streams/${stream}`, { n: i });
          await drainAll(h.sync, h.clock);
          h.server.fail(); // leftovers are harmless: they hit the next run's first requests
          return (
            JSON.stringify(h.server.streams.get(stream)) ===
            JSON.stringify([...Array(writes).keys()])
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});
