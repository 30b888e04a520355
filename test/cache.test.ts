import { describe, expect, it } from 'vitest';
import { cacheKey } from '../src/cache/cache-key.js';
import { CacheMissError } from '../src/index.js';
import { closeAfterEach, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

const gets = (h: Awaited<ReturnType<typeof startHarness>>, prefix: string) =>
  h.server.requestsTo('GET', prefix).length;

describe('GET cache', () => {
  it('cacheFirst answers from a fresh entry without the network, and goes back to it after the TTL', async () => {
    const h = await startHarness();
    closer.close = h.close;
    const first = await h.sync.get('/things', { cacheFirst: true, ttlMs: 60_000 });
    const second = await h.sync.get('/things', { cacheFirst: true, ttlMs: 60_000 });
    expect(first.fromCache).toBe(false);
    expect(second).toMatchObject({ fromCache: true, stale: false, data: first.data, status: 200 });
    expect(gets(h, '/things')).toBe(1);
    h.clock.advance(60_001);
    expect((await h.sync.get('/things', { cacheFirst: true })).fromCache).toBe(false);
    expect(gets(h, '/things')).toBe(2);
  });

  it('networkFirst falls back to the cache, marked stale once expired, when the server is unreachable', async () => {
    const h = await startHarness({ cacheTtlMs: 1_000 });
    closer.close = h.close;
    await h.sync.get('/things');
    h.clock.advance(2_000);
    h.server.down = true;
    h.server.dropConnections();
    const res = await h.sync.get('/things');
    expect(res).toMatchObject({ fromCache: true, stale: true, data: { path: '/things' } });
  });

  it('networkFirst falls back on a retryable status but not on a 404', async () => {
    const h = await startHarness();
    closer.close = h.close;
    await h.sync.get('/things');
    h.server.fail({ kind: 'status', status: 503 });
    expect((await h.sync.get('/things')).fromCache).toBe(true);
    h.server.fail({ kind: 'status', status: 404 });
    await expect(h.sync.get('/things')).rejects.toMatchObject({
      code: 'http',
      response: { status: 404 },
    });
  });

  it('staleWhileRevalidate answers an expired entry at once and refreshes it in the background', async () => {
    const h = await startHarness({ cacheTtlMs: 1_000 });
    closer.close = h.close;
    h.server.editItem('1', { name: 'old' });
    await h.sync.get('/items/1');
    h.server.editItem('1', { name: 'new' });
    h.clock.advance(5_000);
    const res = await h.sync.get('/items/1', { strategy: 'staleWhileRevalidate' });
    expect(res).toMatchObject({ data: { name: 'old' }, fromCache: true, stale: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await h.sync.get('/items/1', { strategy: 'cacheOnly' });
    expect(after).toMatchObject({ data: { name: 'new' }, stale: false });
  });

  it('cacheOnly never touches the network and throws CacheMissError on a miss', async () => {
    const h = await startHarness();
    closer.close = h.close;
    await expect(h.sync.get('/nothing', { strategy: 'cacheOnly' })).rejects.toBeInstanceOf(
      CacheMissError,
    );
    expect(gets(h, '/nothing')).toBe(0);
  });

  it('networkOnly neither reads nor writes the cache', async () => {
    const h = await startHarness();
    closer.close = h.close;
    await h.sync.get('/things', { strategy: 'networkOnly' });
    await expect(h.sync.get('/things', { strategy: 'cacheOnly' })).rejects.toMatchObject({
      code: 'cache-miss',
    });
  });

  it('revalidates with If-None-Match; a 304 refreshes the TTL without a body', async () => {
    const h = await startHarness({ cacheTtlMs: 1_000 });
    closer.close = h.close;
    h.server.editItem('7', { name: 'seven' });
    await h.sync.get('/items/7');
    h.clock.advance(2_000);
    const res = await h.sync.get('/items/7', { cacheFirst: true });
    const last = h.server.requestsTo('GET', '/items/7').at(-1);
    expect(last?.headers['if-none-match']).toBe('"v1"');
    expect(res).toMatchObject({ status: 200, data: { name: 'seven' }, stale: false });
    expect((await h.sync.get('/items/7', { cacheFirst: true })).fromCache).toBe(true);
    expect(gets(h, '/items/7')).toBe(2);
  });

  it("keys include the scope and a sorted query, so users never see each other's data", async () => {
    let user = 'alice';
    const h = await startHarness({ cacheScope: () => user });
    closer.close = h.close;
    await h.sync.get('/things?b=2&a=1');
    expect((await h.sync.get('/things?a=1&b=2', { strategy: 'cacheOnly' })).fromCache).toBe(true);
    user = 'bob';
    await expect(h.sync.get('/things?a=1&b=2', { strategy: 'cacheOnly' })).rejects.toBeInstanceOf(
      CacheMissError,
    );
    expect(cacheKey('s', 'GET', 'https://x.example/p?b=2&a=1#frag')).toBe(
      cacheKey('s', 'GET', 'https://x.example/p?a=1&b=2'),
    );
  });

  it('caches text and non-object JSON bodies and honours no-store', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.editItem('n', 42);
    await h.sync.get('/items/n');
    expect((await h.sync.get('/items/n', { strategy: 'cacheOnly' })).data).toBe(42);
    expect((await h.sync.get('/text')).data).toBe('plain words');
    expect((await h.sync.get('/text', { strategy: 'cacheOnly' })).data).toBe('plain words');
    expect((await h.sync.get('/nostore')).data).toEqual({ secret: true });
    await expect(h.sync.get('/nostore', { strategy: 'cacheOnly' })).rejects.toBeInstanceOf(
      CacheMissError,
    );
  });

  it('clear() wipes the cache for logout, and purgeExpiredCache drops entries past maxStale', async () => {
    const h = await startHarness({ cacheTtlMs: 1_000, maxStaleMs: 10_000 });
    closer.close = h.close;
    await h.sync.get('/a');
    await h.sync.clear();
    await expect(h.sync.get('/a', { strategy: 'cacheOnly' })).rejects.toBeInstanceOf(
      CacheMissError,
    );
    await h.sync.get('/b');
    h.clock.advance(5_000);
    expect(await h.sync.purgeExpiredCache()).toBe(0);
    h.clock.advance(10_000);
    expect(await h.sync.purgeExpiredCache()).toBe(1);
  });
});
