import { describe, expect, it } from 'vitest';
import { coalescing } from '../src/coalescing.js';
import { conflicts } from '../src/conflicts.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

async function withItem(options: Parameters<typeof startHarness>[0] = {}) {
  const h = await startHarness({ autoSync: false, ...options });
  closer.close = h.close;
  h.server.editItem('1', { title: 'base', qty: 1, tags: { a: true } });
  await h.sync.get('/items/1');
  return h;
}

describe('coalescing (opt-in)', () => {
  it('is asked per write, or for every write with always; without the plug-in asking is a ConfigError', async () => {
    const bare = await withItem();
    const refused = await bare.sync
      .patch('/items/1', { qty: 2 }, { coalesce: true })
      .catch((e) => e);
    expect(refused).toMatchObject({ code: 'config', option: 'coalesce' });
    expect(refused.message).toContain('qnox-offline-sync/coalescing');
    expect(await bare.sync.pendingCount()).toBe(0);
    await bare.close();
    const h = await withItem({ plugins: [coalescing()] });
    await h.sync.patch('/items/1', { qty: 2 });
    await h.sync.patch('/items/1', { qty: 3 });
    expect(await h.sync.pendingCount()).toBe(2);
    await h.sync.patch('/items/1', { qty: 4 }, { coalesce: true });
    expect(await h.sync.pendingCount()).toBe(2);
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('PATCH', '/items/1')).toHaveLength(2);
    expect(h.server.items.get('1')?.value).toMatchObject({ qty: 4 });
  });

  it('PATCH after PATCH goes out as one merged request; every caller gets its answer', async () => {
    const h = await withItem({ plugins: [coalescing({ always: true })] });
    const a = await h.sync.patch('/items/1', { title: 'x', tags: { b: true } });
    const b = await h.sync.patch('/items/1', { qty: 2, tags: { a: null } });
    expect(b.idempotencyKey).toBe(a.idempotencyKey);
    expect(await h.sync.pendingCount()).toBe(1);
    await drainAll(h.sync, h.clock);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra).toEqual(rb);
    expect(h.server.requestsTo('PATCH', '/items/1')).toHaveLength(1);
    expect(h.server.items.get('1')?.value).toEqual({ title: 'x', qty: 2, tags: { b: true } });
  });

  it('PUT replaces a queued PATCH; PATCH after PUT patches the PUT body', async () => {
    const h = await withItem({ plugins: [coalescing({ always: true })] });
    await h.sync.patch('/items/1', { title: 'x' });
    await h.sync.put('/items/1', { title: 'put', qty: 9 });
    await h.sync.patch('/items/1', { qty: 10 });
    await drainAll(h.sync, h.clock);
    const writes = h.server.requests.filter((r) => r.path === '/items/1' && r.method !== 'GET');
    expect(writes.map((r) => r.method)).toEqual(['PUT']);
    expect(h.server.items.get('1')?.value).toEqual({ title: 'put', qty: 10 });
  });

  it('DELETE supersedes a queued PUT, whose caller settles with the DELETE', async () => {
    const h = await withItem({ plugins: [coalescing({ always: true })] });
    const put = await h.sync.put('/items/1', { title: 'never sent' });
    const del = await h.sync.delete('/items/1');
    await drainAll(h.sync, h.clock);
    expect((await put.result).status).toBe(204);
    expect((await del.result).status).toBe(204);
    expect(h.server.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
    expect(h.server.items.has('1')).toBe(false);
  });

  it('never coalesces into a write that was already attempted', async () => {
    const h = await withItem({ plugins: [coalescing({ always: true })] });
    h.server.fail({ kind: 'commit-then-drop' });
    await h.sync.patch('/items/1', { title: 'first' });
    await h.sync.sync();
    await h.sync.patch('/items/1', { qty: 5 });
    expect(await h.sync.pendingCount()).toBe(2);
    await drainAll(h.sync, h.clock);
    expect(h.server.items.get('1')?.value).toMatchObject({ title: 'first', qty: 5 });
  });

  it('stays off unless asked', async () => {
    const h = await withItem();
    await h.sync.patch('/items/1', { title: 'x' });
    await h.sync.patch('/items/1', { qty: 2 });
    expect(await h.sync.pendingCount()).toBe(2);
  });
});

describe('read your own writes', () => {
  it('an acknowledged PUT updates the cached resource and makes its collection stale', async () => {
    const h = await withItem({ cacheTtlMs: 60_000 });
    await h.sync.get('/items');
    const put = await h.sync.put('/items/1', { title: 'new' });
    await h.sync.sync();
    await put.result;
    const item = await h.sync.get('/items/1', { strategy: 'cacheOnly' });
    expect(item).toMatchObject({ data: { title: 'new' }, stale: false, headers: { etag: '"v2"' } });
    expect((await h.sync.get('/items', { strategy: 'cacheOnly' })).stale).toBe(true);
  });

  it('an acknowledged POST marks its collection stale and never caches the new member as the collection', async () => {
    const h = await withItem();
    await h.sync.get('/items');
    const post = await h.sync.post('/items', { title: 'new' });
    await h.sync.sync();
    await post.result;
    const list = await h.sync.get('/items', { strategy: 'cacheOnly' });
    expect(Array.isArray(list.data)).toBe(true);
    expect(list.stale).toBe(true);
  });

  it('an optimistic update shows at once, flagged, and stays after the write is acknowledged', async () => {
    const h = await withItem();
    await h.sync.patch(
      '/items/1',
      { qty: 5 },
      { optimistic: (item) => ({ ...(item as object), qty: 5 }) },
    );
    const shown = await h.sync.get('/items/1');
    expect(shown).toMatchObject({ data: { qty: 5 }, pendingWrites: true, fromCache: true });
    await drainAll(h.sync, h.clock);
    expect(await h.sync.get('/items/1', { strategy: 'cacheOnly' })).toMatchObject({
      data: { qty: 5 },
      pendingWrites: false,
    });
  });

  it('an optimistic update rolls back when its write is dead-lettered', async () => {
    const h = await withItem();
    h.server.fail({ kind: 'status', status: 422 });
    await h.sync.patch(
      '/items/1',
      { qty: -1 },
      { optimistic: (item) => ({ ...(item as object), qty: -1 }) },
    );
    expect((await h.sync.get('/items/1', { strategy: 'cacheOnly' })).data).toMatchObject({
      qty: -1,
    });
    await drainAll(h.sync, h.clock);
    expect(await h.sync.get('/items/1', { strategy: 'cacheOnly' })).toMatchObject({
      data: { qty: 1 },
      pendingWrites: false,
    });
  });

  it('an optimistic update rolls back to the server version when it loses to server-wins', async () => {
    const h = await withItem({ plugins: [conflicts({ strategy: 'server-wins' })] });
    h.server.editItem('1', { title: 'theirs', qty: 3 });
    await h.sync.put('/items/1', { title: 'mine' }, { optimistic: () => ({ title: 'mine' }) });
    await drainAll(h.sync, h.clock);
    expect((await h.sync.get('/items/1', { strategy: 'cacheOnly' })).data).toEqual({
      title: 'theirs',
      qty: 3,
    });
  });
});
