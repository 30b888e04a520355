import { describe, expect, it } from 'vitest';
import { batching } from '../src/batching.js';
import { conflicts } from '../src/conflicts.js';
import { ConfigError, ConflictError, collection, type SyncEvent } from '../src/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';
import type { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();

interface Row {
  id: string;
  name: string;
  qty: number;
  etag?: string;
}

/** A fresh client that has read only the list (`GET /items`, rows carrying `etag`), as a page does on load. */
async function listed(options: Parameters<typeof startHarness>[0] = {}) {
  const h = await startHarness(options);
  closer.close = h.close;
  h.server.rowEtagField = 'etag';
  h.server.editItem('1', { name: 'Apples', qty: 3 });
  h.server.editItem('2', { name: 'Pears', qty: 5 });
  await h.sync.get<Row[]>('/items');
  const events: SyncEvent[] = [];
  h.sync.events.subscribe((e) => events.push(e));
  return { ...h, events };
}

const writesTo = (h: { server: TestServer }, path: string) =>
  h.server.requests.filter((r) => r.path === path && r.method !== 'GET');

describe('collections: validators from the cached list', () => {
  it('a write to a member never fetched itself carries its row’s ETag: an edit behind the client’s back is a conflict', async () => {
    const h = await listed({ collections: [collection({ path: '/items', etag: 'etag' })] });
    h.server.editItem('1', { name: 'Apples (edited elsewhere)', qty: 103 });
    const w = await h.sync.patch('/items/1', { qty: 4 });
    await drainAll(h.sync, h.clock);
    expect(writesTo(h, '/items/1')[0]?.headers['if-match']).toBe('"v1"');
    expect(await w.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect((await h.sync.deadLetters())[0]).toMatchObject({ reason: 'conflict' });
    expect(h.server.items.get('1')?.value).toMatchObject({ qty: 103 });
    expect(h.events.some((e) => e.type === 'warning')).toBe(false);
  });

  it('a parked conflict retried with client-wins goes out over the server’s version; a bad strategy is refused', async () => {
    const h = await listed({
      collections: [collection({ path: '/items', etag: 'etag' })],
      plugins: [conflicts()],
    });
    h.server.editItem('1', { name: 'Apples (edited elsewhere)', qty: 103 });
    await (await h.sync.patch('/items/1', { qty: 4 })).result.catch(() => undefined);
    const [dead] = await h.sync.deadLetters();
    await expect(
      h.sync.retryDeadLetter(dead!.task.id, { conflict: 'mine' as never }),
    ).rejects.toBeInstanceOf(ConfigError);
    const again = await h.sync.retryDeadLetter(dead!.task.id, { conflict: 'client-wins' });
    await drainAll(h.sync, h.clock);
    await expect(again.result).resolves.toMatchObject({ status: 200 });
    expect(h.server.items.get('1')?.value).toMatchObject({
      name: 'Apples (edited elsewhere)',
      qty: 4,
    });
    expect(writesTo(h, '/items/1').at(-1)?.headers['if-match']).toBe('"v2"');
    expect(await h.sync.deadLetters()).toHaveLength(0);
  });

  it('a function validator, an id of another name and an envelope field', async () => {
    const h = await startHarness({
      collections: [
        collection({
          path: '/items',
          id: 'id',
          etag: (row) => `v${(row as { version: number }).version}`,
        }),
      ],
    });
    closer.close = h.close;
    h.server.editItem('1', { name: 'Apples', qty: 3, version: 1 });
    await h.sync.get('/items');
    await (await h.sync.put('/items/1', { name: 'Apples', qty: 4, version: 1 })).result;
    // A bare value is quoted as an entity-tag.
    expect(writesTo(h, '/items/1')[0]?.headers['if-match']).toBe('"v1"');
  });

  it('without a rule a write to a member never fetched goes blind: the last writer wins', async () => {
    const h = await listed();
    h.server.editItem('1', { name: 'Apples (edited elsewhere)', qty: 103 });
    const w = await h.sync.patch('/items/1', { qty: 4 });
    await drainAll(h.sync, h.clock);
    await expect(w.result).resolves.toMatchObject({ status: 200 });
    expect(writesTo(h, '/items/1')[0]?.headers['if-match']).toBeUndefined();
    expect(h.server.items.get('1')?.value).toMatchObject({ qty: 4 });
  });

  it('each client warns once when a write goes out over a cached copy without validators', async () => {
    const h = await listed({ collections: [collection({ path: '/items' })] });
    const a = await h.sync.patch('/items/1', { qty: 4 });
    const b = await h.sync.patch('/items/2', { qty: 6 });
    await drainAll(h.sync, h.clock);
    await expect(a.result).resolves.toMatchObject({ status: 200 });
    await expect(b.result).resolves.toMatchObject({ status: 200 });
    expect(writesTo(h, '/items/1')[0]?.headers['if-match']).toBeUndefined();
    const warnings = h.events.filter((e) => e.type === 'warning');
    expect(warnings).toMatchObject([{ code: 'no-validators', url: h.sync.url('/items/1') }]);
    expect((warnings[0] as { message: string }).message).toMatch(/last writer wins/);
  });

  it('after our own write the member’s answer (newer) is the validator, not the stale list row', async () => {
    const h = await listed({ collections: [collection({ path: '/items', etag: 'etag' })] });
    await (await h.sync.patch('/items/1', { qty: 4 })).result;
    await (await h.sync.patch('/items/1', { qty: 5 })).result;
    const sent = writesTo(h, '/items/1').map((r) => r.headers['if-match']);
    expect(sent).toEqual(['"v1"', '"v2"']);
    expect(h.server.items.get('1')?.value).toMatchObject({ qty: 5 });
    expect(await h.sync.deadLetters()).toHaveLength(0);
  });

  it('rejects a malformed rule with ConfigError("collections")', async () => {
    for (const rule of [{}, { path: '/items', etag: 3 }, { path: '/items', id: '' }]) {
      const error = (() => {
        try {
          return collection(rule as never);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'collections' });
    }
    for (const collections of ['items', [{ path: '/items' }]]) {
      const error = await startHarness({ collections: collections as never }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'collections' });
    }
  });
});

describe('collections: optimistic members show in the list', () => {
  const rule = { collections: [collection({ path: '/items', etag: 'etag' })] };

  it('shows while queued, goes when delivered (list re-read from the server)', async () => {
    const h = await listed(rule);
    h.server.down = true;
    const w = await h.sync.patch(
      '/items/1',
      { qty: 4 },
      { optimistic: (row) => ({ ...(row as Row), qty: 4 }) },
    );
    const offline = await h.sync.get<Row[]>('/items', { strategy: 'cacheFirst' });
    expect(offline.pendingWrites).toBe(true);
    expect(offline.data.find((r) => r.id === '1')).toMatchObject({ qty: 4 });
    h.server.down = false;
    await drainAll(h.sync, h.clock);
    await w.result;
    const after = await h.sync.get<Row[]>('/items');
    expect(after.pendingWrites).toBe(false);
    expect(after.data.find((r) => r.id === '1')).toMatchObject({ qty: 4, etag: '"v2"' });
  });

  it('a delete whose updater returns undefined hides the row; a conflict rolls the list back', async () => {
    const h = await listed(rule);
    h.server.editItem('2', { name: 'Pears (edited elsewhere)', qty: 50 });
    h.server.down = true;
    const d = await h.sync.delete('/items/2', { optimistic: () => undefined });
    const hidden = await h.sync.get<Row[]>('/items', { strategy: 'cacheFirst' });
    expect(hidden.data.map((r) => r.id)).toEqual(['1']);
    h.server.down = false;
    await drainAll(h.sync, h.clock);
    expect(await d.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    const back = await h.sync.get<Row[]>('/items', { strategy: 'cacheOnly' });
    expect(back.pendingWrites).toBe(false);
    expect(back.stale).toBe(true);
    expect(back.data.map((r) => r.id)).toEqual(['1', '2']);
  });

  it.each([
    { way: 'one request each', plugins: [] },
    { way: 'in one batch', plugins: [batching()] },
  ])(
    'writes of other keys delivered together ($way) each take their own layer off the list',
    async ({ plugins }) => {
      const h = await listed({ ...rule, plugins });
      h.server.batchPath = '/batch';
      h.server.down = true;
      const writes = [
        await h.sync.post(
          '/items',
          { name: 'Figs', qty: 1 },
          { optimistic: (list) => [...(list as Row[]), { id: 'local-1', name: 'Figs', qty: 1 }] },
        ),
        await h.sync.patch(
          '/items/1',
          { qty: 4 },
          { optimistic: (row) => ({ ...(row as Row), qty: 4 }) },
        ),
        await h.sync.patch(
          '/items/2',
          { qty: 6 },
          { optimistic: (row) => ({ ...(row as Row), qty: 6 }) },
        ),
      ];
      const layered = await h.sync.get<Row[]>('/items', { strategy: 'cacheOnly' });
      expect(layered.pendingWrites).toBe(true);
      h.server.down = false;
      // Three keys, three lanes at once: their answers' cache upkeep meets on the one list.
      await drainAll(h.sync, h.clock);
      await Promise.all(writes.map((w) => w.result));
      const after = await h.sync.get<Row[]>('/items', { strategy: 'cacheOnly' });
      expect(after.pendingWrites).toBe(false);
      const fresh = await h.sync.get<Row[]>('/items');
      expect(fresh.pendingWrites).toBe(false);
      expect(fresh.data.map((r) => [r.name, r.qty])).toEqual([
        ['Apples', 4],
        ['Pears', 6],
        ['Figs', 1],
      ]);
    },
  );
});
