import { describe, expect, it } from 'vitest';
import { MemoryStore, QnoxSync } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();

/** The API, a foreign origin (a captive portal, say), and a client of the API. */
async function setup(retry = { maxAttempts: 3 }) {
  const api = new TestServer();
  const foreign = new TestServer();
  await api.start();
  await foreign.start();
  const clock = new ManualClock();
  const sync = await QnoxSync.create({
    baseUrl: api.url,
    store: new MemoryStore(),
    clock,
    random: () => 0.5,
    autoSync: false,
    retry,
  });
  closer.close = async () => {
    await sync.dispose();
    await api.stop();
    await foreign.stop();
  };
  return { api, foreign, clock, sync };
}

describe('redirects: checked hop by hop, never a delivery, never to another origin', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`a POST answered ${status} to another origin sends nothing there and is not delivered`, async () => {
      const { api, foreign, clock, sync } = await setup();
      api.redirect('/streams/a', status, `${foreign.url}/streams/a`);
      const write = await sync.post('/streams/a', { n: 1 });
      write.result.catch(() => {});
      await drainAll(sync, clock);
      expect(foreign.requests).toHaveLength(0);
      const [dead] = await sync.deadLetters();
      expect(dead).toMatchObject({ reason: 'redirected', task: { attempts: 3 } });
      expect(dead?.task.lastError?.code).toBe('redirect');
      await expect(write.result).rejects.toMatchObject({ code: 'redirect', status });
    });
  }

  it('a same-origin 307/308 is followed with the same method, body and Idempotency-Key', async () => {
    const { api, sync, clock } = await setup();
    api.redirect('/streams/old', 307, '/streams/new');
    api.redirect('/streams/older', 308, `${api.url}/streams/old`);
    const write = await sync.post('/streams/older', { n: 7 });
    await drainAll(sync, clock);
    expect((await write.result).status).toBe(201);
    expect(api.streams.get('new')).toEqual([7]);
    const keys = api.requests.filter((r) => r.method === 'POST').map((r) => r.idempotencyKey);
    expect(keys).toEqual([write.idempotencyKey, write.idempotencyKey, write.idempotencyKey]);
  });

  it('a same-origin 303 after a write is not taken for its delivery', async () => {
    const { api, sync, clock } = await setup({ maxAttempts: 1 });
    api.redirect('/streams/b', 303, '/anything');
    const write = await sync.post('/streams/b', { n: 1 });
    write.result.catch(() => {});
    await drainAll(sync, clock);
    expect(api.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
    await expect(write.result).rejects.toMatchObject({ code: 'redirect' });
  });

  it('a GET redirected to another origin is refused, not cached, and falls back to the cache', async () => {
    const { api, foreign, sync } = await setup();
    const first = await sync.get('/echo');
    expect(first.fromCache).toBe(false);
    api.redirect('/echo', 302, `${foreign.url}/login`);
    const again = await sync.get('/echo', { strategy: 'networkFirst' });
    expect(again).toMatchObject({ fromCache: true, data: first.data });
    await expect(sync.get('/other-page-first-time')).resolves.toMatchObject({ status: 200 });
    api.redirect('/never', 302, `${foreign.url}/login`);
    await expect(sync.get('/never')).rejects.toMatchObject({ code: 'redirect' });
    await expect(sync.get('/never', { strategy: 'cacheOnly' })).rejects.toMatchObject({
      code: 'cache-miss',
    });
    expect(foreign.requests).toHaveLength(0);
  });

  it('a same-origin GET redirect is followed and cached under the URL asked for', async () => {
    const { api, sync } = await setup();
    api.redirect('/moved', 301, '/here?x=1');
    const answer = await sync.get('/moved');
    expect(answer.data).toEqual({ path: '/here', query: { x: '1' } });
    expect(await sync.get('/moved', { strategy: 'cacheOnly' })).toMatchObject({ fromCache: true });
  });

  it('a redirect loop ends with a typed error after a bounded number of hops', async () => {
    const { api, sync } = await setup();
    api.redirect('/loop', 302, '/loop');
    await expect(sync.get('/loop')).rejects.toMatchObject({ code: 'redirect' });
    expect(api.requestsTo('GET', '/loop').length).toBeLessThanOrEqual(5);
  });
});
