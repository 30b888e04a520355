/** Runs in Chromium for `npm run bench`: the library against raw IndexedDB and raw fetch, same page, same run. */
import { batching } from '../src/batching.js';
import { hotCache } from '../src/hot-cache.js';
import { MemoryStore, type QnoxPlugin, QnoxSync } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { withHotCache } from '../src/plugins/hot-cache/hot-cache-plugin.js';
import { sampleTask } from '../src/testing/index.js';
import { BODY, HOT_ENTRY, paired, queueTenThousand } from './bench-fixtures.js';

/** Operations per enqueue and cache figure: enough that a commit's jitter averages out. */
const N = 2_000;
const api = `${location.origin}/api`;

const done = (req: IDBRequest | IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    if ('oncomplete' in req) req.oncomplete = () => resolve();
    else (req as IDBRequest).onsuccess = () => resolve();
    (req as IDBRequest).onerror = () => reject(req.error);
  });

async function rawDb(): Promise<IDBDatabase> {
  const req = indexedDB.open('raw-bench', 2);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains('t'))
      req.result.createObjectStore('t', { keyPath: 'id' });
    // The bare baseline of a cache hit: the same cache record, alone in its store, by its key.
    if (!req.result.objectStoreNames.contains('c'))
      req.result.createObjectStore('c', { keyPath: 'key' });
  };
  await done(req);
  return req.result;
}

async function rawPosts(count: number, stream: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${api}/streams/${stream}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ n: i }),
    });
    await res.text();
  }
}

/** A pause before each timed phase, on both sides: what the previous phase left running settles. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

/**
 * Mean ms per write of a drain over `keys` keys. The queue is written, and its
 * strict-durability commits have settled, before the clock starts.
 */
async function drain(sync: QnoxSync, keys: number, count: number): Promise<number> {
  for (let i = 0; i < count; i++) await sync.post(`/streams/q${i % keys}`, { n: i });
  await settle();
  const t = performance.now();
  await sync.sync();
  const elapsed = performance.now() - t;
  if ((await sync.pendingCount()) !== 0) throw new Error('drain left writes behind');
  return elapsed / count;
}

/** Mean ms per write of `keys` raw sequential loops run side by side. */
async function rawLoops(keys: number, count: number, name: string): Promise<number> {
  await settle();
  const t = performance.now();
  await Promise.all(Array.from({ length: keys }, (_, k) => rawPosts(count / keys, `${name}-${k}`)));
  return (performance.now() - t) / count;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/**
 * Raw and drain in alternating rounds of 100 writes, so drift on a shared
 * machine hits both alike; the median round of each side, so one stalled
 * round does not decide the figure; one client for all rounds, as an app has.
 */
async function drainFigure(
  keys: number,
  memory = false,
  plugins: QnoxPlugin[] = [],
): Promise<[number, number]> {
  const rounds = 5;
  const perRound = keys * Math.ceil(100 / keys);
  const sync = await QnoxSync.create({
    baseUrl: api,
    store: memory
      ? new MemoryStore()
      : new IndexedDbStore({ name: `drain-${keys}-${plugins.length}` }),
    autoSync: false,
    concurrency: keys,
    plugins,
  });
  const raw: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < rounds; r++) {
    raw.push(await rawLoops(keys, perRound, `raw${keys}-${r}`));
    ours.push(await drain(sync, keys, perRound));
  }
  await sync.dispose();
  return [median(raw), median(ours)];
}

/** 2,000 writes drained in batches of 20 (over `keys` keys) against the same 2,000 as one raw sequential loop. */
async function batchedFigure(keys: number): Promise<[number, number]> {
  const count = 2_000;
  const sync = await QnoxSync.create({
    baseUrl: api,
    store: new IndexedDbStore({ name: `batched-${keys}` }),
    autoSync: false,
    plugins: [batching({ maxRequests: 20 })],
  });
  const raw = await rawLoops(1, count, `rawb${keys}`);
  const ours = await drain(sync, keys, count);
  await sync.dispose();
  return [raw, ours];
}

/** The same 2,000 writes as prepared batch requests of 20 sent with bare fetch: the server's floor under the batched rows. */
async function batchFloor(): Promise<[number, number]> {
  const count = 2_000;
  const raw = await rawLoops(1, count, 'rawfloor');
  await settle();
  const t = performance.now();
  for (let b = 0; b < count / 20; b++) {
    const requests = Array.from({ length: 20 }, (_, i) => ({
      id: `r${b}-${i}`,
      method: 'POST',
      url: '/streams/floor',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: { n: b * 20 + i },
    }));
    const res = await fetch(`${api}/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests }),
    });
    await res.text();
  }
  return [raw, (performance.now() - t) / count];
}

/** 1k and 100k tasks over 500 keys, written in bursts (one strict transaction each). */
async function filled(name: string, count: number): Promise<IndexedDbStore> {
  const store = new IndexedDbStore({ name });
  await store.init();
  for (let done = 0; done < count; done += 5_000) {
    await Promise.all(
      Array.from({ length: Math.min(5_000, count - done) }, (_, i) =>
        store.enqueue(
          sampleTask({ body: BODY, orderingKey: `k${(done + i) % 500}`, nextAttemptAt: done + i }),
        ),
      ),
    );
  }
  return store;
}

/** `dueTasks(20)` and `pendingCount()` at 100k queued against the same at 1k, alternating. */
async function scaleFigures(): Promise<Record<string, [number, number]>> {
  const small = await filled('scale-1k', 1_000);
  const large = await filled('scale-100k', 100_000);
  await settle();
  const due = (s: IndexedDbStore) => () => s.dueTasks({ now: 1e15, limit: 20 });
  const count = (s: IndexedDbStore) => () => s.pendingCount();
  const figures = {
    dueTasks: await paired(N, due(small), due(large)),
    pendingCount: await paired(N, count(small), count(large)),
  };
  await Promise.all([small.close(), large.close()]);
  return figures;
}

/** MB of page heap held by a store with 10k queued 200-byte tasks (each its own body). */
async function heapPer10k(): Promise<[number, number]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const used = () =>
    (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
  const store = new IndexedDbStore({ name: 'heap' });
  await store.init();
  gc?.();
  const before = used();
  await queueTenThousand(store);
  await store.dueTasks({ now: 1e15, limit: 20 });
  gc?.();
  const mb = (used() - before) / 1024 / 1024;
  await store.close();
  return [1, mb];
}

async function runBench(): Promise<Record<string, [number, number]>> {
  const db = await rawDb();
  const store = new IndexedDbStore({ name: 'ours-bench' });
  await store.init();
  const hot = withHotCache(new IndexedDbStore({ name: 'ours-bench-hot' }), 100);
  await hot.init();
  const rawAdd = async () => {
    const tx = db.transaction('t', 'readwrite', { durability: 'strict' });
    tx.objectStore('t').add(sampleTask({ body: BODY }));
    await done(tx);
  };
  const enqueue = await paired(N, rawAdd, () => store.enqueue(sampleTask({ body: BODY })));
  const rawMany = async () => {
    const tx = db.transaction('t', 'readwrite', { durability: 'strict' });
    for (let i = 0; i < 1_000; i++) tx.objectStore('t').add(sampleTask({ body: BODY }));
    await done(tx);
  };
  const burstAll = () =>
    Promise.all(Array.from({ length: 1_000 }, () => store.enqueue(sampleTask({ body: BODY }))));
  const burst = (await paired(5, rawMany, burstAll)).map((ms) => ms / 1_000) as [number, number];

  const put = db.transaction('c', 'readwrite');
  put.objectStore('c').put(HOT_ENTRY);
  await done(put);
  await store.putCache(HOT_ENTRY);
  const rawGet = async () => {
    const req = db.transaction('c').objectStore('c').get('hot');
    await done(req);
  };
  const cacheHit = await paired(N, rawGet, () => store.getCache('hot'));
  await hot.putCache(HOT_ENTRY);
  const hotHit = await paired(N, rawGet, () => hot.getCache('hot'));
  await hot.close();

  await rawPosts(50, 'warm');
  await drainFigure(1);
  const drain1 = await drainFigure(1);
  const drain6 = await drainFigure(6);
  const drain1Memory = await drainFigure(1, true);
  const drain1Hot = await drainFigure(1, false, [hotCache()]);
  const batched1 = await batchedFigure(1);
  const batched20 = await batchedFigure(20);
  const floor = await batchFloor();
  await store.close();
  const scale = await scaleFigures();
  const heap = await heapPer10k();
  return {
    enqueue,
    burst,
    cacheHit,
    hotHit,
    drain1,
    drain6,
    drain1Memory,
    drain1Hot,
    batched1,
    batched20,
    floor,
    ...scale,
    heap,
  };
}

Object.assign(window, { runBench, batchedFigure });
document.title = 'ready';
