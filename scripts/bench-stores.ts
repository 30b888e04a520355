/**
 * Store figures for `npm run bench`, each a ratio to the raw store operation
 * measured in the same run (raw SQLite insert/select, raw IndexedDB put/get).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { MemoryStore, type QnoxLocalStore } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { SqliteStore } from '../src/node.js';
import { withHotCache } from '../src/plugins/hot-cache/hot-cache-plugin.js';
import { MinimalStore, sampleTask } from '../src/testing/index.js';
import { BODY, HOT_ENTRY, heapFigure, paired, queueTenThousand } from './bench-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'qnox-bench-'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const BIG = Number(process.env.BENCH_BIG ?? 100_000);
let fileNo = 0;

interface RawOps {
  putOne(): Promise<void>;
  putMany(n: number): Promise<void>;
  getOne(): Promise<void>;
}

function rawSqlite(): RawOps {
  const db = new Database(join(dir, `raw-${++fileNo}.db`));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
  db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, record TEXT)');
  const insert = db.prepare('INSERT INTO t (id, record) VALUES (?, ?)');
  const select = db.prepare('SELECT record FROM t WHERE id = ?');
  const row = () => JSON.stringify(sampleTask({ body: BODY }));
  insert.run('probe', row());
  return {
    async putOne() {
      db.exec('BEGIN IMMEDIATE');
      insert.run(crypto.randomUUID(), row());
      db.exec('COMMIT');
    },
    async putMany(n) {
      db.exec('BEGIN IMMEDIATE');
      for (let i = 0; i < n; i++) insert.run(crypto.randomUUID(), row());
      db.exec('COMMIT');
    },
    async getOne() {
      JSON.parse((select.get('probe') as { record: string }).record);
    },
  };
}

async function rawIdb(): Promise<RawOps> {
  const factory = new IDBFactory();
  const db = await new Promise<IDBDatabase>((resolve) => {
    const req = factory.open('raw', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('t', { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
  });
  const commit = (tx: IDBTransaction) =>
    new Promise<void>((resolve) => {
      tx.oncomplete = () => resolve();
    });
  const putMany = async (n: number) => {
    const tx = db.transaction('t', 'readwrite', { durability: 'strict' });
    for (let i = 0; i < n; i++) tx.objectStore('t').put(sampleTask({ body: BODY }));
    await commit(tx);
  };
  const probe = sampleTask({ id: 'probe', body: BODY });
  const tx = db.transaction('t', 'readwrite');
  tx.objectStore('t').put(probe);
  await commit(tx);
  return {
    putOne: () => putMany(1),
    putMany,
    getOne: () =>
      new Promise<void>((resolve) => {
        db.transaction('t').objectStore('t').get('probe').onsuccess = () => resolve();
      }),
  };
}

async function time(rounds: number, run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await run();
  return (performance.now() - start) / rounds;
}

async function fill(store: QnoxLocalStore, n: number): Promise<void> {
  for (let done = 0; done < n; done += 1_000) {
    const batch = Math.min(1_000, n - done);
    await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        store.enqueue(
          sampleTask({ body: BODY, orderingKey: `k${(done + i) % 500}`, nextAttemptAt: done + i }),
        ),
      ),
    );
  }
}

/** Labels starting with "(diagnostic)" print their ratio without a verdict. */
function report(name: string, ours: number, raw: number, target: number, unit = 'µs'): void {
  const ratio = ours / raw;
  const scale = unit === 'µs' ? 1000 : 1;
  const verdict = name.startsWith('(diagnostic)')
    ? `(a store target is ≤ ${target})`
    : `target ≤ ${target}  ${ratio <= target ? 'ok' : 'OVER'}`;
  console.log(
    `${name.padEnd(52)} ${(ours * scale).toFixed(1).padStart(8)} ${unit}  raw ${(raw * scale).toFixed(1).padStart(8)} ${unit}  ratio ${ratio.toFixed(2)}  ${verdict}`,
  );
}

async function benchStore(
  label: string,
  make: () => Promise<QnoxLocalStore>,
  raw: RawOps,
  big: number,
  makeHot?: () => Promise<QnoxLocalStore>,
): Promise<void> {
  const store = await make();
  await store.init();
  await store.enqueue(sampleTask({ body: BODY }));
  const [rawOne, ourOne] = await paired(
    ROUNDS,
    () => raw.putOne(),
    () => store.enqueue(sampleTask({ body: BODY })),
  );
  report(`${label}: awaited durable enqueue vs raw insert tx`, ourOne, rawOne, 1.2);

  const burst = () =>
    Promise.all(Array.from({ length: 1_000 }, () => store.enqueue(sampleTask({ body: BODY }))));
  const [rawBurst, ourBurst] = (await paired(5, () => raw.putMany(1_000), burst)).map(
    (t) => t / 1_000,
  ) as [number, number];
  report(`${label}: burst of 1,000 enqueues, per record`, ourBurst, rawBurst, 2);

  await store.putCache(HOT_ENTRY);
  const [rawGet, ourGet] = await paired(
    ROUNDS * 3,
    () => raw.getOne(),
    () => store.getCache('hot'),
  );
  report(`${label}: cache hit vs raw get`, ourGet, rawGet, 1.2);
  if (makeHot) {
    const hot = await makeHot();
    await hot.init();
    await hot.putCache(HOT_ENTRY);
    const [rawHot, ourHot] = await paired(
      ROUNDS * 3,
      () => raw.getOne(),
      () => hot.getCache('hot'),
    );
    report(`${label}: cache hit, hot in memory, vs raw get`, ourHot, rawHot, 0.1);
    await hot.close();
  }

  await scaleRows(label, make, big);
  await store.close();
}

/** `dueTasks(20)` and `pendingCount()` with `big` queued over 500 keys against the same with 1k. */
async function scaleRows(
  label: string,
  make: () => Promise<QnoxLocalStore>,
  big: number,
  ops: readonly ('dueTasks(20)' | 'pendingCount()')[] = ['dueTasks(20)', 'pendingCount()'],
): Promise<void> {
  const small = await make();
  await small.init();
  await fill(small, 1_000);
  const large = await make();
  await large.init();
  await fill(large, big);
  const run = {
    'dueTasks(20)': (s: QnoxLocalStore) => s.dueTasks({ now: 1e15, limit: 20 }),
    'pendingCount()': (s: QnoxLocalStore) => s.pendingCount(),
  };
  for (const what of ops) {
    const atSmall = await time(ROUNDS, () => run[what](small));
    const atLarge = await time(ROUNDS, () => run[what](large));
    report(`${label}: ${what} with ${big / 1000}k queued vs 1k`, atLarge, atSmall, 1.5);
  }
  await Promise.all([small.close(), large.close()]);
}

async function heapPer10k(make: () => QnoxLocalStore): Promise<number> {
  const store = make();
  await store.init();
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  await queueTenThousand(store);
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  await store.close();
  return (after - before) / 1024 / 1024;
}

console.log(`\nstores: ${ROUNDS} rounds per figure; raw = the same operation without the library`);
await benchStore(
  'SQLite',
  async () => new SqliteStore({ path: join(dir, `ours-${++fileNo}.db`) }),
  rawSqlite(),
  BIG,
);
const idbBig = Number(process.env.BENCH_IDB_BIG ?? 20_000);
const idb = new IDBFactory();
// fake-indexeddb is the JavaScript IndexedDB the Node tests run on: its index
// upkeep and event scheduling are JavaScript, unlike any browser's. The
// IndexedDB store's figures are measured on real IndexedDB, in Chromium
// (scripts/bench-browser.ts); these are printed to watch for regressions.
await benchStore(
  '(diagnostic) IndexedDB on fake-indexeddb',
  async () => new IndexedDbStore({ name: `b${++fileNo}`, indexedDB: idb, IDBKeyRange }),
  await rawIdb(),
  idbBig,
  async () =>
    withHotCache(new IndexedDbStore({ name: `b${++fileNo}`, indexedDB: idb, IDBKeyRange }), 100),
);

// Every store keeps its keys' heads in an index of its own (MemoryStore a sorted array,
// SQLite a partial index, IndexedDB a heads store); each pays only if it beats the simple
// one, MinimalStore's scan of the queue, which these rows measure the same way.
await scaleRows('MemoryStore (head index)', async () => new MemoryStore(), BIG, ['dueTasks(20)']);
await scaleRows(
  '(diagnostic) MinimalStore (the simple scan)',
  async () => new MinimalStore(),
  BIG / 5,
  ['dueTasks(20)'],
);

const gcNote = globalThis.gc ? '' : ' (run with node --expose-gc for exact figures)';
for (const [label, make] of [
  ['SQLite', () => new SqliteStore({ path: join(dir, `heap-${++fileNo}.db`) })],
  ['MemoryStore', () => new MemoryStore()],
] as const) {
  const mb = await heapPer10k(make);
  console.log(
    `${`${label}: JS heap held per 10k queued 200-byte tasks`.padEnd(52)} ${heapFigure(mb).padStart(11)}  target ≤ 5  ${mb <= 5 ? 'ok' : 'OVER'}${gcNote}`,
  );
}
