/** Runs in Chromium for `npm run bench`: the library against raw IndexedDB and raw fetch, same page, same run. */
import { QnoxSync } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { sampleTask } from '../src/testing/index.js';
import { BODY, HOT_ENTRY, paired } from './bench-fixtures.js';

const N = 300;
const api = `${location.origin}/api`;

const done = (req: IDBRequest | IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    if ('oncomplete' in req) req.oncomplete = () => resolve();
    else (req as IDBRequest).onsuccess = () => resolve();
    (req as IDBRequest).onerror = () => reject(req.error);
  });

async function rawDb(): Promise<IDBDatabase> {
  const req = indexedDB.open('raw-bench', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('t', { keyPath: 'id' });
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

async function drain(keys: number, name: string): Promise<number> {
  const sync = await QnoxSync.create({
    baseUrl: api,
    store: new IndexedDbStore({ name }),
    autoSync: false,
    concurrency: keys,
  });
  for (let i = 0; i < N; i++) await sync.post(`/streams/q${i % keys}`, { n: i });
  const t = performance.now();
  await sync.sync();
  const elapsed = performance.now() - t;
  if ((await sync.pendingCount()) !== 0) throw new Error('drain left writes behind');
  await sync.dispose();
  return elapsed;
}

async function runBench(): Promise<Record<string, [number, number]>> {
  const db = await rawDb();
  const store = new IndexedDbStore({ name: 'ours-bench', hotEntries: 0 });
  await store.init();
  const hot = new IndexedDbStore({ name: 'ours-bench-hot' });
  await hot.init();
  const rawAdd = async () => {
    const tx = db.transaction('t', 'readwrite', { durability: 'strict' });
    tx.objectStore('t').add(sampleTask({ body: BODY }));
    await done(tx);
  };
  const enqueue = await paired(N, rawAdd, () => store.enqueue(sampleTask({ body: BODY })));

  const probe = sampleTask({ id: 'probe', body: BODY });
  const put = db.transaction('t', 'readwrite');
  put.objectStore('t').put(probe);
  await done(put);
  await store.putCache(HOT_ENTRY);
  const rawGet = async () => {
    const req = db.transaction('t').objectStore('t').get('probe');
    await done(req);
  };
  const cacheHit = await paired(N, rawGet, () => store.getCache('hot'));
  await hot.putCache(HOT_ENTRY);
  const hotHit = await paired(N, rawGet, () => hot.getCache('hot'));
  await hot.close();

  await rawPosts(50, 'warm');
  const raw1 = performance.now();
  await rawPosts(N, 'raw1');
  const raw1Ms = performance.now() - raw1;
  const drain1 = await drain(1, 'drain-1');
  const raw6 = performance.now();
  await Promise.all(Array.from({ length: 6 }, (_, k) => rawPosts(N / 6, `raw6-${k}`)));
  const raw6Ms = performance.now() - raw6;
  const drain6 = await drain(6, 'drain-6');
  await store.close();
  return {
    enqueue,
    cacheHit,
    hotHit,
    drain1: [raw1Ms / N, drain1 / N],
    drain6: [raw6Ms / N, drain6 / N],
  };
}

Object.assign(window, { runBench });
document.title = 'ready';
