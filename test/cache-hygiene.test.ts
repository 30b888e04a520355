import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { SqliteStore } from '../src/node.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'qnox-cache-'));

async function harness(store = new MemoryStore() as MemoryStore | SqliteStore) {
  const h = await startHarness({ autoSync: false, store });
  closer.close = h.close;
  return h;
}

describe('what the cache keeps, and for which request', () => {
  it('never stores Set-Cookie (or any credential-bearing response header)', async () => {
    const store = new MemoryStore();
    const h = await harness(store);
    await h.sync.get('/headers?set-cookie=session%3Dsecret&x-kept=yes');
    const cached = await h.sync.get('/headers?set-cookie=session%3Dsecret&x-kept=yes', {
      strategy: 'cacheOnly',
    });
    expect(cached.headers['x-kept']).toBe('yes');
    expect(cached.headers['set-cookie']).toBeUndefined();
  });

  it('Vary: a response for one Accept is not served for another', async () => {
    const h = await harness();
    const csv = await h.sync.get('/headers?vary=accept', { headers: { accept: 'text/csv' } });
    expect(csv.data).toEqual({ accept: 'text/csv' });
    const json = await h.sync.get('/headers?vary=accept', {
      strategy: 'cacheFirst',
      headers: { accept: 'application/json' },
    });
    expect(json).toMatchObject({ fromCache: false, data: { accept: 'application/json' } });
    const again = await h.sync.get('/headers?vary=accept', {
      strategy: 'cacheFirst',
      headers: { Accept: 'application/json' },
    });
    expect(again).toMatchObject({ fromCache: true, data: { accept: 'application/json' } });
  });

  it('no-cache: kept, but revalidated before every use', async () => {
    const h = await harness();
    await h.sync.get('/headers?cache-control=no-cache');
    const next = await h.sync.get('/headers?cache-control=no-cache', { strategy: 'cacheFirst' });
    expect(next.fromCache).toBe(false);
    expect(h.server.requestsTo('GET', '/headers')).toHaveLength(2);
  });

  it('a weak ETag is never sent as If-Match; with no strong validator the write goes unconditionally', async () => {
    const h = await harness(new SqliteStore({ path: join(dir, 'weak.db') }));
    await h.sync.get('/headers?etag=W%2F%22v1%22');
    await h.sync.put('/headers?etag=W%2F%22v1%22', { a: 1 });
    await drainAll(h.sync, h.clock);
    const [put] = h.server.requestsTo('PUT', '/headers');
    expect(put?.headers['if-match']).toBeUndefined();
  });
});

describe('optimistic overlays end with their write', () => {
  it('an optimistic POST on a collection: once delivered, get() answers from the server again', async () => {
    const h = await harness();
    h.server.editItem('1', { title: 'one' });
    await h.sync.get('/items');
    const write = await h.sync.post(
      '/items',
      { title: 'two' },
      { optimistic: (list) => [...(list as object[]), { id: 'tmp', title: 'two' }] },
    );
    const shown = await h.sync.get('/items', { strategy: 'cacheFirst' });
    expect(shown).toMatchObject({ pendingWrites: true });
    await drainAll(h.sync, h.clock);
    expect((await write.result).status).toBe(201);
    for (const strategy of ['networkFirst', 'cacheFirst', 'staleWhileRevalidate'] as const) {
      const after = await h.sync.get('/items', { strategy });
      expect(after.pendingWrites).toBe(false);
    }
    const fresh = await h.sync.get('/items');
    expect(fresh.data).toEqual([
      { id: '1', title: 'one' },
      { id: '2', title: 'two' },
    ]);
  });
});
