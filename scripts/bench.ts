/**
 * `npm run bench`: each figure is a ratio to the raw limit measured in the
 * same run against the same local server (lower is better; 1.00 = no overhead).
 * Not a test: nothing here asserts on time.
 */
import { batching } from '../src/batching.js';
import { deltaSync } from '../src/delta.js';
import { MemoryStore, QnoxSync } from '../src/index.js';
import { TestServer } from '../test/helpers/test-server.js';

const N = Number(process.env.BENCH_N ?? 2_000);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 5);

const server = new TestServer();
const baseUrl = await server.start();
server.batchPath = '/batch';
const headers = { 'content-type': 'application/json' };

async function rawLoop(count: number, stream: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${baseUrl}/streams/${stream}`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ n: i }),
    });
    await res.text();
  }
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function queued(keys: number, batched = false): Promise<QnoxSync> {
  const sync = await QnoxSync.create({
    baseUrl,
    store: new MemoryStore(),
    autoSync: false,
    concurrency: keys,
    plugins: batched ? [batching({ maxRequests: 20 })] : [],
  });
  for (let i = 0; i < N; i++) await sync.post(`/streams/q${i % keys}`, { n: i });
  return sync;
}

async function drainRatio(keys: number): Promise<{ raw: number; ours: number }> {
  const raw: number[] = [];
  const ours: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    raw.push(
      await timed(() =>
        Promise.all(Array.from({ length: keys }, (_, k) => rawLoop(N / keys, `raw${k}`))),
      ),
    );
    const sync = await queued(keys);
    ours.push(await timed(() => sync.sync()));
    if ((await sync.pendingCount()) !== 0) throw new Error('bench: drain left writes behind');
    await sync.dispose();
  }
  return { raw: median(raw), ours: median(ours) };
}

/** The 2,000 writes in batches of 20 (one key, or 20 keys) against the same 2,000 as a raw sequential loop. */
async function batchedRatio(
  keys: number,
): Promise<{ raw: number; ours: number; requests: number; floor: number }> {
  const raw: number[] = [];
  const ours: number[] = [];
  const floor: number[] = [];
  let requests = 0;
  for (let t = 0; t < TRIALS; t++) {
    raw.push(await timed(() => rawLoop(N, 'rawb')));
    floor.push(await timed(() => rawBatches(keys)));
    const sync = await queued(keys, true);
    const before = server.requestsTo('POST', '/batch').length;
    ours.push(await timed(() => sync.sync()));
    requests = server.requestsTo('POST', '/batch').length - before;
    if ((await sync.pendingCount()) !== 0)
      throw new Error('bench: batched drain left writes behind');
    await sync.dispose();
  }
  return { raw: median(raw), ours: median(ours), requests, floor: median(floor) };
}

/**
 * The same 2,000 writes as prepared batch requests of 20 sent with bare
 * fetch, one after the other: what the server alone costs per batch, the
 * floor under the batched rows.
 */
async function rawBatches(keys: number): Promise<void> {
  for (let b = 0; b < N / 20; b++) {
    const requests = Array.from({ length: 20 }, (_, i) => ({
      id: `r${b}-${i}`,
      method: 'POST',
      url: `/streams/rawbatch${i % keys}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: { n: b * 20 + i },
    }));
    const res = await fetch(`${baseUrl}/batch`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ requests }),
    });
    await res.text();
  }
}

/**
 * A pull of 10,000 changes in pages of 500 against the raw limit: the same
 * pages fetched with fetch and their items written to a MemoryStore, one
 * `writeCache` (one commit) per page.
 * Also counts the requests of a pull with nothing new.
 */
async function pullRatio(): Promise<{ raw: number; ours: number; idle: number }> {
  if (server.changeLog.length < 10_000)
    for (let i = 1; i <= 10_000; i++) server.editItem(`p${i}`, { name: `order ${i}`, qty: i });
  const raw: number[] = [];
  const ours: number[] = [];
  let idle = 0;
  for (let t = 0; t < TRIALS; t++) {
    const store = new MemoryStore();
    raw.push(
      await timed(async () => {
        for (let since = 0, more = true; more; ) {
          const res = await fetch(`${baseUrl}/items/changes?since=${since}&limit=500`);
          const page = (await res.json()) as {
            changes: { id: string; data: unknown }[];
            cursor: string;
            hasMore: boolean;
          };
          await store.writeCache(
            page.changes.map((c) => ({
              v: 1,
              key: c.id,
              url: c.id,
              status: 200,
              headers: {},
              body: { kind: 'json', value: c.data },
              storedAt: 0,
              expiresAt: 1,
            })),
            [],
          );
          since = Number(page.cursor);
          more = page.hasMore;
        }
      }),
    );
    const orders = deltaSync({ collection: '/items', pageSize: 500, intervalMs: 0 });
    const sync = await QnoxSync.create({
      baseUrl,
      store: new MemoryStore(),
      autoSync: false,
      plugins: [orders],
    });
    ours.push(await timed(() => orders.pull()));
    const before = server.requestsTo('GET', '/items/changes').length;
    await orders.pull();
    idle = server.requestsTo('GET', '/items/changes').length - before;
    await sync.dispose();
  }
  return { raw: median(raw), ours: median(ours), idle };
}

/**
 * The engine's own cost per write, with nothing on the wire: a drain of N
 * writes against a `fetch` that answers at once, less the same N answers
 * made and read bare. Not a ratio: the figure the drain rows carry on top of
 * the network, which they share with every other client.
 */
async function engineCost(): Promise<number> {
  const answer = () =>
    Promise.resolve(
      new Response('{"ok":1}', { status: 201, headers: { 'content-type': 'application/json' } }),
    );
  const samples: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const sync = await QnoxSync.create({
      baseUrl: 'http://127.0.0.1:9',
      store: new MemoryStore(),
      autoSync: false,
      fetch: answer,
    });
    for (let i = 0; i < N; i++) await sync.post('/streams/e', { n: i });
    const ours = await timed(() => sync.sync());
    if ((await sync.pendingCount()) !== 0)
      throw new Error('bench: engine drain left writes behind');
    await sync.dispose();
    const bare = await timed(async () => {
      for (let i = 0; i < N; i++) await (await answer()).text();
    });
    samples.push(((ours - bare) / N) * 1000);
  }
  return median(samples);
}

async function enqueueCost(): Promise<number> {
  const samples: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const sync = await QnoxSync.create({ baseUrl, store: new MemoryStore(), autoSync: false });
    samples.push(
      await timed(async () => {
        for (let i = 0; i < N; i++) await sync.post('/streams/e', { n: i });
      }),
    );
    await sync.dispose();
  }
  return median(samples);
}

async function cacheHit(): Promise<{ raw: number; ours: number }> {
  const sync = await QnoxSync.create({ baseUrl, store: new MemoryStore(), autoSync: false });
  await sync.get('/catalog', { ttlMs: 3_600_000 });
  const raw: number[] = [];
  const ours: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    raw.push(
      await timed(async () => {
        for (let i = 0; i < N; i++) await (await fetch(`${baseUrl}/catalog`)).text();
      }),
    );
    ours.push(
      await timed(async () => {
        for (let i = 0; i < N; i++) {
          const res = await sync.get('/catalog', { cacheFirst: true });
          if (!res.fromCache) throw new Error('bench: expected a cache hit');
        }
      }),
    );
  }
  await sync.dispose();
  return { raw: median(raw), ours: median(ours) };
}

// Warm up sockets and the JIT on both paths before measuring.
await rawLoop(200, 'warm');
await (await queued(1)).sync();

const line = (name: string, ours: number, raw: number, target: number) => {
  const ratio = ours / raw;
  console.log(
    `${name.padEnd(44)} ${((ours / N) * 1000).toFixed(1).padStart(7)} µs/op  raw ${((raw / N) * 1000).toFixed(1).padStart(7)} µs/op  ratio ${ratio.toFixed(3)}  target ≤ ${target}  ${ratio <= target ? 'ok' : 'OVER'}`,
  );
};

console.log(
  `qnox-offline-sync bench: ${N} requests per trial, median of ${TRIALS} trials, Node ${process.version}`,
);
const one = await drainRatio(1);
line('drain, 1 ordering key vs raw sequential fetch', one.ours, one.raw, 1.15);
const four = await drainRatio(4);
line('drain, 4 keys (concurrency 4) vs 4 raw loops', four.ours, four.raw, 1.2);
const engine = await engineCost();
console.log(
  `${'(diagnostic) engine cost per write, no network'.padEnd(44)} ${engine.toFixed(1).padStart(7)} µs/op  = ${((engine / ((one.raw / N) * 1000)) * 100).toFixed(0)}% of a raw fetch (a drain against a fetch that answers at once, less the bare answers)`,
);
for (const keys of [1, 20]) {
  const b = await batchedRatio(keys);
  line(`batched drain (20 per batch), ${keys} key(s) vs raw loop`, b.ours, b.raw, 0.1);
  console.log(
    `${''.padEnd(44)} (${b.requests} batch requests for ${N} writes; the same as prepared batches with bare fetch: ${(b.floor / b.raw).toFixed(3)}x the raw loop, the server's floor)`,
  );
}
const pull = await pullRatio();
line('delta pull of 10,000 changes (pages of 500) vs raw', pull.ours, pull.raw, 1.5);
console.log(`${''.padEnd(44)} (a pull with nothing new: ${pull.idle} request)`);
const hit = await cacheHit();
line('get, fresh cache hit vs network GET', hit.ours, hit.raw, 0.05);
const enqueue = await enqueueCost();
line('enqueue (MemoryStore) vs raw sequential fetch', enqueue, one.raw, 0.05);
await server.stop();
