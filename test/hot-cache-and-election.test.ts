import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { channelElection } from '../src/election.js';
import { hotCache } from '../src/hot-cache.js';
import { type CacheRecord, MemoryStore, QnoxSync, type QnoxSyncOptions } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { ManualClock } from '../src/testing/index.js';
import { passChannels } from './helpers/channel-time.js';
import { until } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

/** A MemoryStore that counts the cache reads that reach it. */
class CountingStore extends MemoryStore {
  reads = 0;
  override getCache(key: string): Promise<CacheRecord | undefined> {
    this.reads++;
    return super.getCache(key);
  }
}

let server: TestServer;
let baseUrl: string;
const clients: QnoxSync[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.dispose();
  await server?.stop();
});

async function client(options: Partial<QnoxSyncOptions>): Promise<QnoxSync> {
  server ??= new TestServer();
  baseUrl ??= await server.start();
  const sync = await QnoxSync.create({ baseUrl, random: () => 0.5, ...options });
  clients.push(sync);
  return sync;
}

describe('hotCache()', () => {
  it('answers hot reads from memory; a write through the client replaces what it holds', async () => {
    server = new TestServer();
    baseUrl = await server.start();
    const store = new CountingStore();
    const sync = await client({ store, plugins: [hotCache()] });
    server.editItem('1', { name: 'a' });
    await sync.get('/items/1');
    const before = store.reads;
    for (let i = 0; i < 3; i++)
      expect((await sync.get('/items/1', { strategy: 'cacheOnly' })).data).toMatchObject({
        name: 'a',
      });
    expect(store.reads).toBe(before);
    server.editItem('1', { name: 'b' });
    await sync.get('/items/1');
    expect((await sync.get('/items/1', { strategy: 'cacheOnly' })).data).toMatchObject({
      name: 'b',
    });
    // A copy each time: a caller changing what it got changes nothing held.
    const got = (await sync.get('/items/1', { strategy: 'cacheOnly' })).data as { name: string };
    got.name = 'mutated';
    expect((await sync.get('/items/1', { strategy: 'cacheOnly' })).data).toMatchObject({
      name: 'b',
    });
    expect(store.reads).toBe(before);
  });

  it('without it, every read reaches the store', async () => {
    server = new TestServer();
    baseUrl = await server.start();
    const store = new CountingStore();
    const sync = await client({ store });
    server.editItem('1', { name: 'a' });
    await sync.get('/items/1');
    const before = store.reads;
    for (let i = 0; i < 3; i++) await sync.get('/items/1', { strategy: 'cacheOnly' });
    expect(store.reads).toBe(before + 3);
  });

  it('two clients on one IndexedDB: a cache write in one drops the other’s hot copy', async () => {
    server = new TestServer();
    baseUrl = await server.start();
    const factory = new IDBFactory();
    const open = () =>
      client({
        store: new IndexedDbStore({ name: 'shared', indexedDB: factory, IDBKeyRange }),
        plugins: [hotCache({ entries: 10 })],
      });
    const [a, b] = [await open(), await open()];
    server.editItem('1', { name: 'old' });
    await a.get('/items/1');
    expect((await b.get('/items/1', { strategy: 'cacheOnly' })).data).toMatchObject({
      name: 'old',
    });
    server.editItem('1', { name: 'new' });
    await a.get('/items/1');
    await until(
      async () =>
        ((await b.get('/items/1', { strategy: 'cacheOnly' })).data as { name: string }).name ===
        'new',
    );
    await a.clear({ cache: true, outbox: false });
    await until(() =>
      b.get('/items/1', { strategy: 'cacheOnly' }).then(
        () => false,
        (e: { code?: string }) => e.code === 'cache-miss',
      ),
    );
  });

  it('checks its options', () => {
    expect(() => hotCache({ entries: 0 })).toThrow(expect.objectContaining({ code: 'config' }));
    expect(() => hotCache({ size: 3 } as never)).toThrow(/not an option of hotCache/);
    expect(() => channelElection({ ttl: 1 } as never)).toThrow(/not an option/);
  });
});

describe('channelElection()', () => {
  async function twoDrainers(withElection: boolean): Promise<number[]> {
    server = new TestServer();
    baseUrl = await server.start();
    const factory = new IDBFactory();
    const clock = new ManualClock();
    const open = () =>
      client({
        clock,
        autoSync: false,
        store: new IndexedDbStore({ name: 'elected', indexedDB: factory, IDBKeyRange, clock }),
        plugins: withElection ? [channelElection()] : [],
      });
    const [a, b] = [await open(), await open()];
    for (let n = 0; n < 5; n++) await a.post('/streams/e', { n }, { orderingKey: 'e' });
    const reports = Promise.all([a.sync(), b.sync()]);
    // Without a lock both drain at once, with no claim window to wait out.
    if (withElection) await passChannels(clock, 400);
    return (await reports).map((r) => r.delivered);
  }

  it('where Web Locks are missing (Node), one of two contexts on a store drains', async () => {
    const delivered = await twoDrainers(true);
    expect(delivered.sort()).toEqual([0, 5]);
    expect(server.streams.get('e')).toEqual([0, 1, 2, 3, 4]);
  });

  it('without it, both contexts drain at once (the server dedupes by idempotency key)', async () => {
    const delivered = await twoDrainers(false);
    expect(delivered.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(5);
    expect(server.streams.get('e')).toEqual([0, 1, 2, 3, 4]);
  });
});
