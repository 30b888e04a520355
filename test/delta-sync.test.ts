import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';
import { deltaSync } from '../src/delta.js';
import {
  ConfigError,
  MemoryStore,
  manualConnectivity,
  type QnoxLocalStore,
  QnoxSync,
  type SyncEvent,
} from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { SqliteStore } from '../src/node.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const dir = mkdtempSync(join(tmpdir(), 'qnox-delta-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const KINDS: { name: string; open: () => () => QnoxLocalStore }[] = [
  {
    name: 'MemoryStore',
    open: () => {
      const store = new MemoryStore();
      return () => store;
    },
  },
  {
    name: 'SqliteStore',
    open: () => {
      const path = join(dir, `delta-${files++}.db`);
      return () => new SqliteStore({ path });
    },
  },
  {
    name: 'IndexedDbStore (fake-indexeddb)',
    open: () => {
      const indexedDB = new IDBFactory();
      const name = `delta-${files++}`;
      return () => new IndexedDbStore({ name, indexedDB, IDBKeyRange });
    },
  },
];

const closer = closeAfterEach();
type Row = { id: string; name: string; qty: number };

describe.each(KINDS)('delta sync over $name', (kind) => {
  async function setup(items = 0) {
    const server = new TestServer();
    const baseUrl = await server.start();
    for (let i = 1; i <= items; i++) server.editItem(String(i), { name: `item ${i}`, qty: i });
    const clock = new ManualClock();
    const connectivity = manualConnectivity(true);
    const reopen = kind.open();
    const clients: QnoxSync[] = [];
    const open = async (pageSize = 500, intervalMs = 0) => {
      const orders = deltaSync({ collection: '/items', pageSize, intervalMs });
      const sync = await QnoxSync.create({
        baseUrl,
        clock,
        connectivity,
        store: reopen(),
        autoSync: false,
        plugins: [orders],
      });
      const events: SyncEvent[] = [];
      sync.events.subscribe((e) => events.push(e));
      clients.push(sync);
      return { sync, orders, events };
    };
    const feedRequests = () => server.requestsTo('GET', '/items/changes');
    closer.close = async () => {
      for (const c of clients) await c.dispose();
      await server.stop();
    };
    return { server, clock, open, feedRequests, connectivity };
  }

  it('pulls a 10,000-item collection in pages of 500; members carry their ETag for later writes', async () => {
    const t = await setup(10_000);
    const { sync, orders, events } = await t.open();
    const result = await orders.pull();
    expect(result).toEqual({ applied: 10_000, cursor: '10000' });
    expect(t.feedRequests()).toHaveLength(20);
    expect(t.feedRequests()[0]!.path).toBe('/items/changes?limit=500');
    const list = await sync.get<Row[]>('/items', { strategy: 'cacheOnly' });
    expect(list.data).toHaveLength(10_000);
    expect(new Set(list.data.map((r) => r.id)).size).toBe(10_000);
    expect(list.data[9_999]).toEqual({ id: '10000', name: 'item 10000', qty: 10_000 });
    expect(events.filter((e) => e.type === 'pulled')).toMatchObject([
      { applied: 10_000, pages: 20 },
    ]);
    const member = await sync.get<Row>('/items/77', { strategy: 'cacheOnly' });
    expect(member.data).toEqual({ id: '77', name: 'item 77', qty: 77 });
    const edit = await sync.patch('/items/77', { qty: 78 });
    await drainAll(sync, t.clock);
    await expect(edit.result).resolves.toMatchObject({ status: 200 });
    expect(t.server.requestsTo('PATCH', '/items/77')[0]?.headers['if-match']).toBe('"v1"');
  }, 120_000);

  it('then pulls only what changed: updates replace rows, deletions remove them, nothing new is one 304', async () => {
    const t = await setup(30);
    const { sync, orders } = await t.open(10);
    await orders.pull();
    expect(t.feedRequests()).toHaveLength(3);
    t.server.editItem('4', { name: 'four', qty: 40 });
    t.server.deleteItem('7');
    t.server.editItem('31', { name: 'new', qty: 31 });
    expect(await orders.pull()).toEqual({ applied: 3, cursor: '33' });
    expect(t.feedRequests()).toHaveLength(4);
    expect(t.feedRequests()[3]!.path).toBe('/items/changes?since=30&limit=10');
    const list = (await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data;
    expect(list).toHaveLength(30);
    expect(list.find((r) => r.id === '4')).toEqual({ id: '4', name: 'four', qty: 40 });
    expect(list.some((r) => r.id === '7')).toBe(false);
    expect(list.at(-1)).toEqual({ id: '31', name: 'new', qty: 31 });
    await expect(sync.get('/items/7', { strategy: 'cacheOnly' })).rejects.toMatchObject({
      code: 'cache-miss',
    });
    // Nothing new: one request, answered 304 from its If-None-Match.
    expect(await orders.pull()).toEqual({ applied: 0, cursor: '33' });
    expect(t.feedRequests()).toHaveLength(5);
    expect(t.feedRequests()[4]!.headers['if-none-match']).toBe('"feed-33"');
  });

  it('a page that fails leaves the pages before it in the list, and the next pull goes on from them', async () => {
    const t = await setup(12);
    const { sync, orders } = await t.open(5);
    let feedCalls = 0;
    t.server.faultPolicy = (req) =>
      req.path.startsWith('/items/changes') && ++feedCalls === 3
        ? { kind: 'status', status: 503 }
        : undefined;
    await expect(orders.pull()).rejects.toMatchObject({ code: 'http' });
    const partial = (await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data;
    expect(partial.map((r) => r.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(await orders.pull()).toEqual({ applied: 2, cursor: '12' });
    expect(t.feedRequests().at(-1)!.path).toBe('/items/changes?since=10&limit=5');
    const whole = (await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data;
    expect(whole.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
  });

  it('ids that need encoding, or are dot segments, land on their members’ URLs', async () => {
    const t = await setup();
    const ids = ['a b', 'x/y?z', '..', 'é#1'];
    for (const id of ids) t.server.editItem(id, { name: id, qty: 1 });
    const { sync, orders } = await t.open();
    await orders.pull();
    for (const id of ids) {
      const member = await sync.get<Row>(`/items/${encodeURIComponent(id)}`, {
        strategy: 'cacheOnly',
      });
      expect(member.data).toMatchObject({ id, name: id });
    }
  });

  it('a restart resumes from the stored cursor; clear() forgets it', async () => {
    const t = await setup(12);
    const first = await t.open(5);
    await first.orders.pull();
    await first.sync.dispose();
    t.server.editItem('13', { name: 'later', qty: 13 });
    const again = await t.open(5);
    expect(await again.orders.pull()).toEqual({ applied: 1, cursor: '13' });
    expect(t.feedRequests().at(-1)!.path).toBe('/items/changes?since=12&limit=5');
    expect((await again.sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data).toHaveLength(
      13,
    );
    await again.sync.clear();
    expect(await again.orders.pull()).toEqual({ applied: 13, cursor: '13' });
    expect(t.feedRequests().at(-3)!.path).toBe('/items/changes?limit=5');
    // A cursor whose list was purged (too old) starts over too: the list is whole again.
    await again.sync.purgeExpiredCache();
    t.clock.advance(30 * 86_400_000);
    await again.sync.purgeExpiredCache();
    expect(await again.orders.pull()).toEqual({ applied: 13, cursor: '13' });
    expect((await again.sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data).toHaveLength(
      13,
    );
  });

  it('a queued write stays on screen over pulled data until it is delivered', async () => {
    const t = await setup(3);
    const { sync, orders } = await t.open();
    await orders.pull();
    t.server.down = true;
    const w = await sync.patch(
      '/items/2',
      { qty: 99 },
      { optimistic: (row) => ({ ...(row as Row), qty: 99 }) },
    );
    t.server.down = false;
    t.server.editItem('2', { name: 'renamed elsewhere', qty: 2 });
    t.server.editItem('3', { name: 'three', qty: 3 });
    await orders.pull();
    const shown = await sync.get<Row>('/items/2', { strategy: 'cacheOnly' });
    expect(shown.data).toMatchObject({ qty: 99 });
    expect(shown.pendingWrites).toBe(true);
    const list = (await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data;
    expect(list.find((r) => r.id === '3')).toMatchObject({ name: 'three' });
    // The write was made against v1; the server is at v2: a conflict, parked, and the pulled version shows.
    await drainAll(sync, t.clock);
    await w.result.catch(() => undefined);
    expect((await sync.deadLetters())[0]?.reason).toBe('conflict');
    const back = await sync.get<Row>('/items/2', { strategy: 'cacheOnly' });
    expect(back.data).toMatchObject({ name: 'renamed elsewhere', qty: 2 });
  });

  it('pulls by itself after its own write to the collection is delivered, and on reconnect', async () => {
    const t = await setup(2);
    const { connectivity } = t;
    const { sync, orders, events } = await t.open();
    await orders.pull();
    const created = await sync.post('/items', { name: 'mine', qty: 1 });
    await drainAll(sync, t.clock);
    await expect(created.result).resolves.toMatchObject({ status: 201 });
    for (let i = 0; i < 50 && events.filter((e) => e.type === 'pulled').length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    const list = (await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data;
    expect(list.map((r) => r.name)).toEqual(['item 1', 'item 2', 'mine']);
    expect(events.filter((e) => e.type === 'pulled')).toHaveLength(2);
    // Back online after an outage: a pull brings what changed meanwhile.
    connectivity.set(false);
    t.server.editItem('1', { name: 'while away', qty: 1 });
    connectivity.set(true);
    for (let i = 0; i < 100 && events.filter((e) => e.type === 'pulled').length < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    const after = (await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).data;
    expect(after[0]).toMatchObject({ name: 'while away' });
  });

  it('pulls every intervalMs while online, on the client’s clock', async () => {
    const t = await setup(1);
    const { orders, events } = await t.open(500, 60_000);
    await orders.pull();
    t.server.editItem('2', { name: 'two', qty: 2 });
    t.clock.advance(59_999);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.feedRequests()).toHaveLength(1);
    t.clock.advance(1);
    for (let i = 0; i < 100 && events.filter((e) => e.type === 'pulled').length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(t.feedRequests()).toHaveLength(2);
    expect(events.filter((e) => e.type === 'pulled').at(-1)).toMatchObject({ applied: 1 });
  });
});

describe('delta sync and writes settled elsewhere', () => {
  it('a list layer left behind by a write another context delivered is dropped by the next pull', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    server.editItem('1', { name: 'one', qty: 1 });
    const store = new MemoryStore();
    const orders = deltaSync({ collection: '/items', intervalMs: 0 });
    const sync = await QnoxSync.create({ baseUrl, store, autoSync: false, plugins: [orders] });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    await orders.pull();
    await sync.post(
      '/items',
      { name: 'two', qty: 2 },
      { optimistic: (l) => [...(l as Row[]), { id: 'local', name: 'two', qty: 2 }] },
    );
    const layered = await store.listTasks(1);
    const key = (await store.getCache(`\u0000GET\u0000${baseUrl}/items`))!;
    expect(key.pending?.map((p) => p.taskId)).toEqual([layered[0]!.id]);
    // Another context delivered it and took the layer off, but a racing writer put the old entry back.
    await store.removeTask(layered[0]!.id);
    await store.putCache(key);
    expect((await sync.get<Row[]>('/items', { strategy: 'cacheOnly' })).pendingWrites).toBe(true);
    await orders.pull();
    const after = await sync.get<Row[]>('/items', { strategy: 'cacheOnly' });
    expect(after.pendingWrites).toBe(false);
    expect(after.data.map((r) => r.name)).toEqual(['one']);
  });
});

describe('deltaSync() options', () => {
  it('an unknown or bad option is a ConfigError naming it; pull() before create() is refused', async () => {
    for (const [bad, option] of [
      [{}, 'deltaSync.collection'],
      [{ collection: '/o', pageSiz: 5 }, 'deltaSync.pageSiz'],
      [{ collection: '/o', pageSize: 0 }, 'deltaSync.pageSize'],
      [{ collection: '/o', intervalMs: -1 }, 'deltaSync.intervalMs'],
      [{ collection: '/o', codec: {} }, 'deltaSync.codec'],
    ] as const) {
      expect(() => deltaSync(bad as never)).toThrow(ConfigError);
      expect(() => deltaSync(bad as never)).toThrow(expect.objectContaining({ option }));
    }
    await expect(deltaSync({ collection: '/o' }).pull()).rejects.toBeInstanceOf(ConfigError);
  });
});
