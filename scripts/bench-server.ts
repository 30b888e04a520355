/**
 * `npm run bench`, the server half: withIdempotency's cost over the bare
 * handler (each served by an API process of its own, test/helpers/api-process.mjs,
 * this process only sending) on real Redis and PostgreSQL servers (started
 * here, stopped at the end), and throughput of three API processes sharing one Redis against one
 * process with the memory store, under the same load. Ratios and rates from
 * one run; nothing asserts on time.
 */
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { startApi } from '../test/helpers/api-processes.js';
import { startProxy } from '../test/helpers/round-robin-proxy.js';
import { startPostgres, startRedis } from './services.mjs';

const N = Number(process.env.BENCH_N ?? 2_000);

const send = async (url: string, key: string, id: number) => {
  const res = await fetch(`${url}/writes/bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ id, n: 1 }),
  });
  await res.arrayBuffer();
  return res.status;
};

/** Median latency (ms) of `count` sequential requests, keyed by `keyOf(i)`. */
async function latency(
  url: string,
  count: number,
  keyOf: (i: number) => string,
  idOf: (i: number) => number = (i) => i,
) {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await send(url, keyOf(i), idOf(i));
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Latency rows: the bare handler and the guarded one, each in an API process
 * of its own; trivial (answers at once), or the API's own write (with
 * PostgreSQL: an INSERT in a transaction that also stores the answer).
 */
async function latencyRows(name: string, env: Record<string, string>, trivial = true) {
  const mode = trivial ? { TRIVIAL: '1' } : {};
  const bare = await startApi({ ...env, ...mode, BARE: '1' });
  const guarded = await startApi({ ...env, ...mode });
  const bareUrl = `http://127.0.0.1:${bare.port}`;
  const guardedUrl = `http://127.0.0.1:${guarded.port}`;
  const run = crypto.randomUUID();
  await latency(bareUrl, 300, (i) => `warm-${i}`);
  await latency(guardedUrl, 300, (i) => `${run}-warm-${i}`);
  const rows: [number, number, number][] = [];
  for (let trial = 0; trial < 3; trial++) {
    const raw = await latency(bareUrl, N / 2, (i) => `b-${i}`);
    const first = await latency(guardedUrl, N / 2, (i) => `${run}-${trial}-${i}`);
    // The first request's key and body again (its id 0): a replay.
    const replay = await latency(
      guardedUrl,
      N / 2,
      () => `${run}-${trial}-0`,
      () => 0,
    );
    rows.push([raw, first, replay]);
  }
  const mid = (i: 0 | 1 | 2) => rows.map((r) => r[i]).sort((a, b) => a - b)[1]!;
  console.log(
    `withIdempotency (${name}), first request vs bare handler: ${(mid(1) / mid(0)).toFixed(2)}x  | replay: ${(mid(2) / mid(0)).toFixed(2)}x   (medians: bare ${mid(0).toFixed(3)} ms, first ${mid(1).toFixed(3)} ms, replay ${mid(2).toFixed(3)} ms)`,
  );
  bare.child.kill();
  guarded.child.kill();
}

/** The table the API process's own write goes to. */
async function effectsTable(url: string) {
  const pool = new pg.Pool({ connectionString: url });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS effects (seq serial PRIMARY KEY, write_id int, key text, n int, pid int)',
  );
  await pool.end();
}

/** Requests per second for `N` POSTs with fresh keys from 32 concurrent senders. */
async function throughput(url: string): Promise<number> {
  let next = 0;
  const run = crypto.randomUUID();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < N) {
        const i = next++;
        const status = await fetch(`${url}/writes/t`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${run}-${i}` },
          body: JSON.stringify({ id: i, n: i }),
        }).then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        });
        if (status !== 201) throw new Error(`throughput: answer ${status}`);
      }
    }),
  );
  return N / ((performance.now() - start) / 1_000);
}

const redis = await startRedis();
const postgres = await startPostgres();
try {
  await latencyRows('memory', { STORE: 'memory' });
  await latencyRows('Redis', { STORE: 'redis', REDIS_URL: redis.url });
  await latencyRows('PostgreSQL', { STORE: 'postgres', DATABASE_URL: postgres.url });
  await effectsTable(postgres.url);
  await latencyRows(
    'PostgreSQL, a handler that INSERTs in its transaction',
    { STORE: 'postgres', DATABASE_URL: postgres.url },
    false,
  );

  const single = await startApi({ STORE: 'memory' });
  await throughput(`http://127.0.0.1:${single.port}`);
  const one = await throughput(`http://127.0.0.1:${single.port}`);
  const alone = await startProxy([single.port]);
  const oneProxied = await throughput(alone.url);
  await alone.close();
  single.child.kill();
  const three = await Promise.all(
    [0, 1, 2].map(() => startApi({ STORE: 'redis', REDIS_URL: redis.url })),
  );
  const proxy = await startProxy(three.map((p) => p.port));
  await throughput(proxy.url);
  const shared = await throughput(proxy.url);
  await proxy.close();
  for (const p of three) p.child.kill();
  console.log(
    `throughput, same load (${N} POSTs, 32 senders): one process + memory store ${one.toFixed(0)} req/s (${oneProxied.toFixed(0)} behind the proxy) | three processes + one Redis behind the proxy ${shared.toFixed(0)} req/s (${(shared / oneProxied).toFixed(2)}x the proxied single process; ${availableParallelism()} cores here)`,
  );
} finally {
  await Promise.all([redis.stop(), postgres.stop()]);
}
