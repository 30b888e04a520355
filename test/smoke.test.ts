import { afterEach, expect, it } from 'vitest';
import { drainAll, startHarness } from './helpers/harness.js';

let h: Awaited<ReturnType<typeof startHarness>>;
afterEach(() => h?.close());

it('delivers a queued POST with an Idempotency-Key', async () => {
  h = await startHarness();
  const m = await h.sync.post('/streams/a', { n: 1 });
  const res = await m.result;
  expect(res.status).toBe(201);
  expect(h.server.requests.at(-1)?.idempotencyKey).toBe(m.idempotencyKey);
  await drainAll(h.sync, h.clock);
  expect(h.server.streams.get('a')).toEqual([1]);
});
