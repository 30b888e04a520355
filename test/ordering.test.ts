import { describe, expect, it } from 'vitest';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

describe('invariant 3: order per ordering key', () => {
  it('delivers writes of one key one at a time, in enqueue order', async () => {
    const h = await startHarness({ concurrency: 8, autoSync: false });
    closer.close = h.close;
    for (let i = 0; i < 30; i++)
      await h.sync.post('/streams/one', { n: i }, { orderingKey: 'one' });
    h.server.fail({ kind: 'slow', ms: 20 });
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('one')).toEqual([...Array(30).keys()]);
    expect(h.server.maxInflight).toBe(1);
  });

  it('runs different keys in parallel, never more than `concurrency` at once', async () => {
    const h = await startHarness({ concurrency: 3, autoSync: false });
    closer.close = h.close;
    h.server.faultPolicy = () => ({ kind: 'slow', ms: 15 });
    for (let i = 0; i < 24; i++) await h.sync.post(`/streams/k${i % 6}`, { n: i });
    await drainAll(h.sync, h.clock);
    expect(h.server.maxInflight).toBe(3);
    for (let k = 0; k < 6; k++)
      expect(h.server.streams.get(`k${k}`)).toEqual([k, k + 6, k + 12, k + 18]);
  });

  it('a failing head blocks only its own key', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    h.server.faultPolicy = (req) =>
      req.path === '/streams/blocked' && JSON.parse(req.body).n === 0
        ? { kind: 'status', status: 503 }
        : undefined;
    await h.sync.post('/streams/blocked', { n: 0 });
    await h.sync.post('/streams/blocked', { n: 1 });
    await h.sync.post('/streams/free', { n: 2 });
    await h.sync.post('/streams/free', { n: 3 });
    await h.sync.sync();
    expect(h.server.streams.get('free')).toEqual([2, 3]);
    expect(h.server.streams.get('blocked')).toBeUndefined();
    expect(
      h.server.requestsTo('POST', '/streams/blocked').map((r) => JSON.parse(r.body).n),
    ).toEqual([0]);
    expect(await h.sync.pendingCount()).toBe(2);
  });

  it('a global ordering key makes one FIFO across resources', async () => {
    const h = await startHarness({ defaultOrderingKey: 'global', concurrency: 4, autoSync: false });
    closer.close = h.close;
    h.server.faultPolicy = () => ({ kind: 'slow', ms: 5 });
    for (let i = 0; i < 10; i++) await h.sync.post(`/streams/r${i}`, { n: i });
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('POST', '/streams').map((r) => JSON.parse(r.body).n)).toEqual([
      ...Array(10).keys(),
    ]);
    expect(h.server.maxInflight).toBe(1);
  });
});
