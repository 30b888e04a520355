import { describe, expect, it } from 'vitest';
import { batching } from '../src/batching.js';
import { conflicts } from '../src/conflicts.js';
import {
  ConfigError,
  MemoryStore,
  type MutationHandle,
  QnoxSync,
  type QnoxSyncOptions,
  type SyncEvent,
} from '../src/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';
import type { RecordedRequest } from './helpers/test-server.js';

const closer = closeAfterEach();

async function batched(options: Parameters<typeof startHarness>[0] = {}, path = '/batch') {
  const h = await startHarness({
    autoSync: false,
    plugins: [batching({ maxRequests: 20 })],
    ...options,
  });
  closer.close = h.close;
  h.server.batchPath = path;
  const events: SyncEvent[] = [];
  h.sync.events.subscribe((e) => events.push(e));
  return { ...h, events };
}

/** Requests a write made on its own, outside any batch. */
const singles = (requests: readonly RecordedRequest[]) =>
  requests.filter((r) => r.method !== 'HEAD' && r.path !== '/batch' && !r.headers['x-batch-part']);

describe('batching: many writes, few round trips', () => {
  it('45 writes over 3 keys go out as 3 batches of at most 20, each key in order, each result its own', async () => {
    const h = await batched();
    const handles: MutationHandle[] = [];
    for (let i = 0; i < 45; i++) handles.push(await h.sync.post(`/streams/k${i % 3}`, { n: i }));
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('POST', '/batch')).toHaveLength(3);
    expect(h.server.batches.map((b) => b.size)).toEqual([20, 20, 5]);
    expect(singles(h.server.requests)).toHaveLength(0);
    expect(h.server.effects).toHaveLength(45);
    for (let k = 0; k < 3; k++)
      expect(h.server.streams.get(`k${k}`)).toEqual(
        Array.from({ length: 15 }, (_, j) => j * 3 + k),
      );
    const results = await Promise.all(handles.map((m) => m.result));
    // Each write's own answer, correlated by id although the server answers in reverse order.
    results.forEach((r, i) => {
      expect(r.status).toBe(201);
      expect(r.data).toEqual({ index: Math.floor(i / 3) });
    });
    const sent = h.events.filter((e) => e.type === 'batch-sent');
    expect(sent.map((e) => e.type === 'batch-sent' && e.size)).toEqual([20, 20, 5]);
    // The batch carries each write's own idempotency key, once per write.
    const parts = h.server.requests.filter((r) => r.headers['x-batch-part']);
    expect(new Set(parts.map((r) => r.idempotencyKey)).size).toBe(45);
  });

  it('mixed outcomes (201, 412, 503 with Retry-After, 400, 424) end as the same writes sent singly do', async () => {
    const run = async (plugins: NonNullable<QnoxSyncOptions['plugins']>) => {
      const h = await startHarness({ autoSync: false, plugins });
      h.server.batchPath = '/batch';
      h.server.editItem('1', { title: 'base' });
      await h.sync.get('/items/1');
      h.server.editItem('1', { title: 'theirs' });
      let busy = true;
      h.server.faultPolicy = (req) => {
        if (req.path !== '/streams/slow' || !busy) return undefined;
        busy = false;
        return { kind: 'status', status: 503, retryAfter: '5' };
      };
      const writes = [
        await h.sync.post('/streams/a', { n: 1 }),
        await h.sync.put('/items/1', { title: 'mine' }),
        await h.sync.patch('/items/1', { note: 'after' }, { ifMatch: false }),
        await h.sync.post('/streams/slow', { n: 2 }),
        await h.sync.post('/status/400', { n: 3 }),
      ];
      await drainAll(h.sync, h.clock);
      const settled = await Promise.all(
        writes.map((w) =>
          w.result.then(
            (r) => ({ status: r.status, data: r.data }),
            (e: { code: string }) => ({ error: e.code }),
          ),
        ),
      );
      // Keys run side by side: which dead letter came first is not part of the outcome.
      const dead = (await h.sync.deadLetters())
        .map((d) => [d.task.url.split('/').slice(3).join('/'), d.reason])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
      const state = {
        settled,
        dead,
        items: h.server.items.get('1')?.value,
        streams: [...h.server.streams],
        effects: h.server.effects.length,
      };
      const batches = h.server.batches;
      await h.close();
      return { state, batches };
    };
    const single = await run([conflicts()]);
    const inBatches = await run([conflicts(), batching()]);
    expect(JSON.stringify(inBatches.state, null, 1)).toBe(JSON.stringify(single.state, null, 1));
    expect(single.batches).toHaveLength(0);
    // The batch run really met each status: the PATCH after the refused PUT was not run (424) at first.
    const seen = inBatches.batches.flatMap((b) => [...b.values()]);
    for (const status of [201, 412, 503, 400, 424]) expect(seen).toContain(status);
    expect(single.state.dead).toEqual([
      ['items/1', 'conflict'],
      ['status/400', 'rejected'],
    ]);
    expect(single.state.items).toEqual({ title: 'theirs', note: 'after' });
  });

  it('a batch that gets no answer (reset) or a 503 is retried whole, and nothing doubles', async () => {
    const h = await batched();
    h.server.fail(
      { kind: 'reset' },
      { kind: 'status', status: 503, retryAfter: '3' },
      {
        kind: 'commit-then-drop',
      },
    );
    const handles: MutationHandle[] = [];
    for (let i = 0; i < 10; i++) handles.push(await h.sync.post(`/streams/k${i % 2}`, { n: i }));
    await drainAll(h.sync, h.clock);
    await Promise.all(handles.map((m) => m.result));
    expect(h.server.effects).toHaveLength(10);
    expect(h.server.streams.get('k0')).toEqual([0, 2, 4, 6, 8]);
    expect(h.server.requestsTo('POST', '/batch').length).toBeGreaterThanOrEqual(4);
    // A write that waited behind its key's first write in a failed batch was not charged an attempt.
    expect(h.events.filter((e) => e.type === 'retry-scheduled').length).toBeLessThanOrEqual(6);
  });

  it('a 401 inside a batch takes the shared refresh once, and the write is sent again', async () => {
    let refreshes = 0;
    const h = await batched({
      refreshToken: async () => {
        refreshes++;
        return true;
      },
    });
    let once = true;
    h.server.faultPolicy = (req) => {
      if (!req.headers['x-batch-part'] || req.path !== '/streams/b' || !once) return undefined;
      once = false;
      return { kind: 'status', status: 401 };
    };
    const a = await h.sync.post('/streams/a', { n: 1 });
    const b = await h.sync.post('/streams/b', { n: 2 });
    await drainAll(h.sync, h.clock);
    await expect(b.result).resolves.toMatchObject({ status: 201 });
    await expect(a.result).resolves.toMatchObject({ status: 201 });
    expect(refreshes).toBe(1);
    expect(h.server.effects).toHaveLength(2);
    expect(h.sync.onSyncStatus.value.phase).not.toBe('authRequired');
  });

  it('a batch URL that answers 404 is remembered in the store: writes go singly, with one warning', async () => {
    const store = new MemoryStore();
    const h = await batched({ store }, '/nowhere');
    for (let i = 0; i < 5; i++) await h.sync.post('/streams/s', { n: i });
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('POST', '/batch')).toHaveLength(1);
    expect(h.server.streams.get('s')).toEqual([0, 1, 2, 3, 4]);
    expect(h.events.filter((e) => e.type === 'warning')).toMatchObject([
      { code: 'batch-unsupported', message: expect.stringContaining('404') },
    ]);
    // A restart over the same store does not ask again.
    const again = await QnoxSync.create({
      baseUrl: h.server.url,
      store,
      clock: h.clock,
      autoSync: false,
      plugins: [batching()],
    });
    await again.post('/streams/s', { n: 5 });
    await drainAll(again, h.clock);
    await again.dispose();
    expect(h.server.requestsTo('POST', '/batch')).toHaveLength(1);
    expect(h.server.streams.get('s')).toEqual([0, 1, 2, 3, 4, 5]);
  });

  for (const status of [405, 501]) {
    it(`a batch URL that answers ${status} sends the writes singly, none charged`, async () => {
      const h = await batched();
      h.server.fail({ kind: 'status', status });
      const w = await h.sync.post('/streams/s', { n: 1 });
      await drainAll(h.sync, h.clock);
      await expect(w.result).resolves.toMatchObject({ status: 201 });
      expect(singles(h.server.requests)).toHaveLength(1);
      expect(h.events.some((e) => e.type === 'retry-scheduled')).toBe(false);
    });
  }

  it('a write whose body is not JSON goes singly; the JSON ones around it still batch', async () => {
    const h = await batched();
    await h.sync.post('/streams/j', { n: 1 });
    const text = await h.sync.post('/echo', 'plain words');
    await h.sync.post('/streams/j', { n: 2 });
    await drainAll(h.sync, h.clock);
    await text.result.catch(() => undefined);
    expect(singles(h.server.requests).map((r) => r.path)).toEqual(['/echo']);
    expect(h.server.streams.get('j')).toEqual([1, 2]);
  });

  it('a follower with its own If-Match waits for its predecessor’s new ETag (no self-conflict)', async () => {
    const h = await batched();
    h.server.editItem('1', { qty: 1 });
    await h.sync.get('/items/1');
    const a = await h.sync.patch('/items/1', { qty: 2 });
    const b = await h.sync.patch('/items/1', { qty: 3 });
    await drainAll(h.sync, h.clock);
    await expect(a.result).resolves.toMatchObject({ status: 200 });
    await expect(b.result).resolves.toMatchObject({ status: 200 });
    expect(h.server.items.get('1')?.value).toEqual({ qty: 3 });
    expect(h.server.batches.map((b) => b.size)).toEqual([1, 1]);
  });

  it('its options are checked: an unknown or bad one is a ConfigError naming it', () => {
    for (const [bad, option] of [
      [{ maxRequest: 5 }, 'batching.maxRequest'],
      [{ maxRequests: 0 }, 'batching.maxRequests'],
      [{ maxBytes: -1 }, 'batching.maxBytes'],
      [{ url: '' }, 'batching.url'],
      [{ codec: {} }, 'batching.codec'],
    ] as const) {
      expect(() => batching(bad as never)).toThrow(ConfigError);
      expect(() => batching(bad as never)).toThrow(expect.objectContaining({ option }));
    }
  });

  it('a batch whose answer was lost after it ran is sent again and replayed: one effect', async () => {
    const h = await batched();
    const first = await h.sync.post('/streams/r', { n: 1 });
    h.server.fail({ kind: 'commit-then-drop' });
    await h.sync.sync();
    await drainAll(h.sync, h.clock);
    await expect(first.result).resolves.toMatchObject({ status: 201 });
    expect(h.server.effects).toHaveLength(1);
    const replays = h.server.requests.filter((r) => r.path === '/streams/r');
    expect(replays).toHaveLength(2);
  });
});
