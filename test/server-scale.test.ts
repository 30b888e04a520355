import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Service, startPostgres, startRedis } from '../scripts/services.mjs';
import { MemoryStore, type MutationHandle, QnoxSync } from '../src/index.js';
import { PROBLEMS } from '../src/server.js';
import { killed, startApi as startApiProcess } from './helpers/api-processes.js';
import { type ProxyFault, startProxy } from './helpers/round-robin-proxy.js';

const LEASE_MS = 1_500;
const startApi = (env: Record<string, string>) =>
  startApiProcess({ ...env, LEASE_MS: String(LEASE_MS) });

/** A reproducible random sequence (the faults the proxy injects). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/** A client on its own MemoryStore through `url`, with short backoffs on the real clock. */
const clientVia = (url: string) =>
  QnoxSync.create({
    baseUrl: url,
    store: new MemoryStore(),
    retry: { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 1_000 },
    delivery: { concurrency: 8 },
  });

const post = (url: string, key: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });

interface Backend {
  /** Starts the shared service and prepares it; returns what the API processes' env needs. */
  start(): Promise<Record<string, string>>;
  /** How many times each write id took effect, counted in the database. */
  effects(): Promise<Map<number, number>>;
  /** Each ordering key's writes, in the order they took effect. */
  order(key: string): Promise<number[]>;
  stop(): Promise<void>;
}

function redisBackend(): Backend {
  let service: Service;
  let client: Redis;
  return {
    async start() {
      service = await startRedis();
      client = new Redis(service.url);
      return { STORE: 'redis', REDIS_URL: service.url };
    },
    async effects() {
      const all = await client.hgetall('effects');
      return new Map(Object.entries(all).map(([id, n]) => [Number(id), Number(n)]));
    },
    async order(key) {
      return (await client.lrange(`order:${key}`, 0, -1)).map(Number);
    },
    async stop() {
      client?.disconnect();
      await service?.stop();
    },
  };
}

function postgresBackend(): Backend {
  let service: Service;
  let pool: pg.Pool;
  return {
    async start() {
      service = await startPostgres();
      pool = new pg.Pool({ connectionString: service.url });
      pool.on('error', () => {});
      await pool.query(
        'CREATE TABLE effects (seq serial PRIMARY KEY, write_id int, key text, n int, pid int)',
      );
      return { STORE: 'postgres', DATABASE_URL: service.url };
    },
    async effects() {
      const { rows } = await pool.query(
        'SELECT write_id, count(*)::int AS n FROM effects GROUP BY write_id',
      );
      return new Map(rows.map((r) => [r.write_id as number, r.n as number]));
    },
    async order(key) {
      const { rows } = await pool.query('SELECT n FROM effects WHERE key = $1 ORDER BY seq', [key]);
      return rows.map((r) => r.n as number);
    },
    async stop() {
      await pool?.end();
      await service?.stop();
    },
  };
}

describe.each([
  { name: 'one Redis', make: redisBackend },
  { name: 'one PostgreSQL', make: postgresBackend },
])('three API processes behind a round-robin proxy, sharing $name', ({ make }) => {
  const backend = make();
  let apis: Awaited<ReturnType<typeof startApi>>[] = [];

  beforeAll(async () => {
    const env = await backend.start();
    apis = await Promise.all([0, 1, 2].map(() => startApi(env)));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apis.map((api) => killed(api.child)));
    await backend.stop();
  });

  it('2,000 writes through 30% faults (commit-then-drop, resets, 503s): retries land on other processes, one effect each, in per-key order', async () => {
    const random = seeded(11);
    const faults: ProxyFault[] = ['commit-then-drop', 'reset', 'unavailable'];
    const proxy = await startProxy(
      apis.map((api) => api.port),
      () => (random() < 0.3 ? faults[Math.floor(random() * 3)] : undefined),
    );
    const sync = await clientVia(proxy.url);
    try {
      const handles: MutationHandle[] = [];
      for (let i = 0; i < 2_000; i++)
        handles.push(await sync.post(`/writes/k${i % 20}`, { id: i, n: Math.floor(i / 20) }));
      const results = await Promise.all(handles.map((h) => h.result));
      expect(results.every((r) => r.status === 201)).toBe(true);
      expect(results.map((r) => (r.data as { id: number }).id)).toEqual(
        Array.from({ length: 2_000 }, (_, i) => i),
      );
      // Exactly one effect per write, counted in the database.
      const effects = await backend.effects();
      expect(effects.size).toBe(2_000);
      expect([...effects.values()].every((n) => n === 1)).toBe(true);
      for (const key of ['k0', 'k7', 'k19'])
        expect(await backend.order(key)).toEqual(Array.from({ length: 100 }, (_, j) => j));
      // The faults happened, and retries reached other processes and were answered by replay.
      const dropped = proxy.passed.filter((p) => p.fault === 'commit-then-drop');
      expect(dropped.length).toBeGreaterThan(100);
      const replays = proxy.passed.filter((p) => p.replayed);
      expect(replays.length).toBeGreaterThan(50);
      const byKey = new Map<string, Set<number>>();
      for (const p of proxy.passed)
        if (p.key) byKey.set(p.key, (byKey.get(p.key) ?? new Set()).add(p.backend));
      expect([...byKey.values()].filter((set) => set.size > 1).length).toBeGreaterThan(50);
      expect(new Set(proxy.passed.map((p) => p.backend)).size).toBe(3);
    } finally {
      await sync.dispose();
      await proxy.close();
    }
  }, 120_000);

  it('50 concurrent duplicates of one key spread over the three processes: one execution, the rest 409 or the replay', async () => {
    const proxy = await startProxy(apis.map((api) => api.port));
    try {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          post(`${proxy.url}/writes/dup`, 'dup-1', { id: 90_001, n: 0, ms: 300 }).then(
            async (res) => ({
              status: res.status,
              replayed: res.headers.get('idempotent-replayed') === 'true',
              type: res.status === 409 ? ((await res.json()) as { type: string }).type : '',
            }),
          ),
        ),
      );
      expect(answers.filter((a) => a.status === 201 && !a.replayed)).toHaveLength(1);
      for (const a of answers.filter((a) => a.status !== 201)) {
        expect(a.status).toBe(409);
        expect(a.type).toBe(PROBLEMS.inProgress);
      }
      expect(answers.filter((a) => a.status === 409).length).toBeGreaterThan(0);
      expect(new Set(proxy.passed.map((p) => p.backend)).size).toBe(3);
      expect((await backend.effects()).get(90_001)).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('a process SIGKILLed mid-handler: its key is held until the lease ends, then the retry on another process runs once', async () => {
    const [victim, other] = apis as [(typeof apis)[0], (typeof apis)[0]];
    const body = { id: 90_002, n: 0, ms: 2_000 };
    const first = post(`http://127.0.0.1:${victim.port}/writes/kill`, 'kill-1', body).catch(
      (error: unknown) => error,
    );
    while (!victim.output().includes('handling 90002'))
      await new Promise((resolve) => setTimeout(resolve, 10));
    await killed(victim.child);
    expect(await first).toBeInstanceOf(Error);
    const retry = body; // the same request: the same fingerprint
    const held = await post(`http://127.0.0.1:${other.port}/writes/kill`, 'kill-1', retry);
    expect(held.status).toBe(409);
    // The lease (1.5 s here, not renewed by the dead process) runs out; then the retry runs.
    let answer: Response = held;
    const started = Date.now();
    while (answer.status === 409 && Date.now() - started < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await post(`http://127.0.0.1:${other.port}/writes/kill`, 'kill-1', retry);
    }
    expect(answer.status).toBe(201);
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(`http://127.0.0.1:${other.port}/writes/kill`, 'kill-1', retry);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await backend.effects()).get(90_002)).toBe(1);
  }, 30_000);
});

describe('a client alone through a proxy that cuts connections', () => {
  it('300 writes through 30% resets (probes too) settle with autoSync alone, on the real clock: the drain goes on after each probe', async () => {
    const api = await startApi({ STORE: 'memory' });
    const random = seeded(11);
    const proxy = await startProxy([api.port], () => (random() < 0.3 ? 'reset' : undefined));
    const sync = await clientVia(proxy.url);
    try {
      const handles: MutationHandle[] = [];
      for (let i = 0; i < 300; i++)
        handles.push(await sync.post(`/writes/k${i % 20}`, { id: i, n: i }));
      let settled = 0;
      for (const m of handles) void m.result.then(() => settled++);
      // No sync() call and no new write: only the engine's own kicks and timers move it
      // (it once stopped for good when a probe that found the server ended mid-drain).
      const started = Date.now();
      while (settled < handles.length && Date.now() - started < 30_000)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(settled).toBe(300);
      expect(await sync.pendingCount()).toBe(0);
    } finally {
      await sync.dispose();
      await proxy.close();
      await killed(api.child);
    }
  }, 60_000);
});
