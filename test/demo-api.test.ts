import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../demo/demo-server.js';
import { type Service, startPostgres, startRedis } from '../scripts/services.mjs';
import { batching } from '../src/batching.js';
import { MemoryStore, QnoxSync } from '../src/index.js';

// The demo's API answers through the server half: the API behind it does not deduplicate,
// so one effect per key is withIdempotency's doing, with keys in memory, Redis or PostgreSQL.
let redis: Service;
let postgres: Service;
beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

const post = (demo: DemoServer, key: string) =>
  fetch(`${demo.url}/api/streams/same`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: '{"n":1}',
  });

describe.each([
  { kind: 'memory', options: () => ({}) },
  { kind: 'redis', options: () => ({ redisUrl: redis.url }) },
  { kind: 'postgres', options: () => ({ databaseUrl: postgres.url }) },
] as const)('the demo API with its keys in $kind', ({ kind, options }) => {
  it('a repeated key is replayed by the front (one effect); the client’s batches go through batchHandler', async () => {
    const demo = await startDemoServer(0, options());
    const sync = await QnoxSync.create({
      baseUrl: `${demo.url}/api`,
      store: new MemoryStore(),
      plugins: [batching()],
    });
    try {
      expect(demo.keys).toBe(kind);
      const first = await post(demo, 'demo-key-1');
      const again = await post(demo, 'demo-key-1');
      expect(first.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(demo.api.effects).toHaveLength(1);
      // The API behind the front runs a repeat when the front lets one through.
      expect(demo.api.dedupe).toBe(false);
      const writes = await Promise.all([1, 2, 3].map((n) => sync.post('/streams/b', { n })));
      await sync.sync();
      await Promise.all(writes.map((w) => w.result));
      expect(demo.batches).toBeGreaterThanOrEqual(1);
      expect(demo.api.effects).toHaveLength(4);
      if (kind === 'redis') {
        const client = new Redis(redis.url);
        client.on('error', () => {});
        try {
          expect((await client.keys('qnox:idem:*')).length).toBeGreaterThanOrEqual(4);
        } finally {
          await client.quit();
        }
      }
      if (kind === 'postgres') {
        const pool = new pg.Pool({ connectionString: postgres.url });
        pool.on('error', () => {});
        try {
          const { rows } = await pool.query('SELECT count(*)::int AS n FROM qnox_idempotency');
          expect(rows[0].n).toBeGreaterThanOrEqual(4);
        } finally {
          await pool.end();
        }
      }
    } finally {
      await sync.dispose();
      await demo.close();
    }
  });
});
