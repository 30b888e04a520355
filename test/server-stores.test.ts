import { Redis } from 'ioredis';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateOrders, ordersChanges } from '../examples/postgres-changes.js';
import { startPostgres, startRedis } from '../scripts/services.mjs';
import {
  changesFeed,
  type FeedPage,
  PROBLEMS,
  postgresIdempotencyStore,
  redisIdempotencyStore,
  withIdempotency,
} from '../src/server.js';
import { ManualClock } from '../src/testing/index.js';
import { app, conformance, post, type StoreTime } from './helpers/idempotency-conformance.js';

// Real servers from Debian's packages, on free loopback ports, stopped at the end.
let redis: Awaited<ReturnType<typeof startRedis>>;
let postgres: Awaited<ReturnType<typeof startPostgres>>;
let ioredis: Redis;
let nodeRedis: ReturnType<typeof createClient>;
let pool: pg.Pool;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  ioredis = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
  await ioredis.connect();
  nodeRedis = createClient({ url: redis.url, disableOfflineQueue: true });
  await nodeRedis.connect();
  pool = new pg.Pool({ connectionString: postgres.url, max: 20 });
  // An idle client's error (the server stopping at the end) is the pool's to report, not a crash.
  pool.on('error', () => {});
});

afterAll(async () => {
  ioredis?.disconnect();
  await nodeRedis?.quit();
  await pool?.end();
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

/** Redis and PostgreSQL expire keys on their own clocks: short leases and real waits. */
const realTime: StoreTime = {
  ttlMs: 400,
  leaseMs: 300,
  pass: (_clock, ms) => new Promise((resolve) => setTimeout(resolve, ms + 50)),
};
let n = 0;
conformance(
  'Redis, ioredis',
  () => redisIdempotencyStore({ client: ioredis, prefix: `t${n++}:` }),
  realTime,
);
conformance(
  'Redis, node-redis',
  () => redisIdempotencyStore({ client: nodeRedis, prefix: `t${n++}:` }),
  realTime,
);
conformance('PostgreSQL', () => postgresIdempotencyStore({ pool, table: `idem_${n++}` }), realTime);

describe('Redis and PostgreSQL stores under contention and failure', () => {
  it('50 concurrent begins of one key over separate connections: exactly one takes it', async () => {
    const clients = [0, 1, 2].map(() => new Redis(redis.url));
    await Promise.all(clients.map((c) => new Promise((resolve) => c.once('ready', resolve))));
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: postgres.url, max: 10 }));
    try {
      const redisStores = clients.map((client) =>
        redisIdempotencyStore({ client, prefix: 'race:' }),
      );
      const pgStores = pools.map((p) => postgresIdempotencyStore({ pool: p, table: 'race' }));
      for (const stores of [redisStores, pgStores]) {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => stores[i % 3]!.begin('same', 'fp', 30_000)),
        );
        const states = results.map((r) => r.state);
        expect(states.filter((s) => s === 'acquired')).toHaveLength(1);
        expect(states.filter((s) => s === 'running')).toHaveLength(49);
      }
    } finally {
      for (const client of clients) client.disconnect();
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('Redis that went away: a 503 at once (never a queued command), the handler never runs', async () => {
    const doomed = await startRedis();
    const withQueue = new Redis(doomed.url); // ioredis's defaults: an offline queue and reconnects
    withQueue.on('error', () => {});
    await new Promise((resolve) => withQueue.once('ready', resolve));
    const withoutQueue = createClient({ url: doomed.url, disableOfflineQueue: true });
    withoutQueue.on('error', () => {});
    await withoutQueue.connect();
    await doomed.stop();
    await new Promise((resolve) => withQueue.once('reconnecting', resolve));
    const a = app();
    for (const client of [withQueue, withoutQueue]) {
      // A ManualClock that never moves: the 503 cannot come from the store timeout.
      const api = withIdempotency(a.handler, {
        store: redisIdempotencyStore({ client }),
        clock: new ManualClock(),
      });
      const res = await api(post('/orders', 'down-1'));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ type: PROBLEMS.storeDown });
    }
    expect(a.created).toHaveLength(0);
    withQueue.disconnect();
    await withoutQueue.destroy();
  });

  it('PostgreSQL that cannot be reached: a 503, the handler never runs', async () => {
    const nowhere = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:1/postgres`,
      connectionTimeoutMillis: 500,
    });
    const a = app();
    const api = withIdempotency(a.handler, {
      store: postgresIdempotencyStore({ pool: nowhere }),
    });
    const res = await api(post('/orders', 'down-2'));
    expect(res.status).toBe(503);
    expect(a.created).toHaveLength(0);
    await nowhere.end();
  });

  it('PostgreSQL: the table appears on first use; migrate() up front, twice and concurrently, is harmless', async () => {
    const stores = [0, 1, 2, 3, 4, 5].map(() =>
      postgresIdempotencyStore({ pool, table: 'migrated' }),
    );
    await Promise.all(stores.map((s) => s.migrate()));
    await stores[0]!.migrate();
    const fresh = postgresIdempotencyStore({ pool, table: 'first_use' });
    expect((await fresh.begin('k', 'fp', 1_000)).state).toBe('acquired');
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('migrated', 'first_use')`,
    );
    expect(rows[0].n).toBe(2);
  });

  it('PostgreSQL: completeWithin commits the response with the effect; a crash after COMMIT replays, never runs twice', async () => {
    const store = postgresIdempotencyStore({ pool, table: 'within' });
    await pool.query('CREATE TABLE IF NOT EXISTS orders_within (id serial, body text)');
    let runs = 0;
    const handler = async (request: Request) => {
      runs++;
      const tx = await pool.connect();
      try {
        await tx.query('BEGIN');
        await tx.query('INSERT INTO orders_within (body) VALUES ($1)', [await request.text()]);
        const res = Response.json({ ok: runs }, { status: 201 });
        await store.completeWithin(tx, request, res);
        await tx.query('COMMIT');
        // The process "dies" after its COMMIT, before the middleware stores anything itself.
        if (runs === 1) throw new Error('crashed after commit');
        return res;
      } finally {
        tx.release();
      }
    };
    const api = withIdempotency(handler, { store });
    await expect(api(post('/orders', 'w1'))).rejects.toThrow('crashed after commit');
    const retry = await api(post('/orders', 'w1'));
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toEqual({ ok: 1 });
    expect(runs).toBe(1);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM orders_within');
    expect(rows[0].n).toBe(1);
  });

  it('PostgreSQL: completeWithin after the lease was lost rejects, so the handler rolls back', async () => {
    const store = postgresIdempotencyStore({ pool, table: 'lost' });
    const handler = async (request: Request) => {
      // Another attempt took the key meanwhile (this one's lease expired).
      await pool.query('UPDATE lost SET token = $1', ['someone-else']);
      const tx = await pool.connect();
      try {
        await tx.query('BEGIN');
        const error = await store
          .completeWithin(tx, request, new Response('x', { status: 201 }))
          .catch((e: unknown) => e);
        await tx.query('ROLLBACK');
        return Response.json({ code: (error as { code?: string }).code }, { status: 409 });
      } finally {
        tx.release();
      }
    };
    const res = await withIdempotency(handler, { store })(post('/orders', 'l1'));
    expect(await res.json()).toEqual({ code: 'storage' });
  });

  it('keys are kept hashed: neither scope nor key lands in Redis or PostgreSQL', async () => {
    const a = app();
    const scope = () => 'Bearer secret-token';
    for (const store of [
      redisIdempotencyStore({ client: ioredis, prefix: 'hash:' }),
      postgresIdempotencyStore({ pool, table: 'hashed' }),
    ])
      await withIdempotency(a.handler, { store, scope })(post('/orders', 'visible-key'));
    const redisKeys = await ioredis.keys('hash:*');
    expect(redisKeys).toHaveLength(1);
    expect(redisKeys[0]).toMatch(/^hash:[0-9a-f]{64}$/);
    const { rows } = await pool.query('SELECT key FROM hashed');
    expect(rows.map((r) => r.key)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });
});

describe('the keyset-paged PostgreSQL change feed (examples/postgres-changes.ts) behind changesFeed', () => {
  const get = (
    feed: (r: Request) => Promise<Response> | Response,
    since: string | null,
    etag?: string,
  ) =>
    feed(
      new Request(
        `http://api.test/orders/changes?limit=10${since === null ? '' : `&since=${encodeURIComponent(since)}`}`,
        { headers: etag ? { 'if-none-match': etag } : {} },
      ),
    );

  it('pages rows that share one updated_at without skipping or repeating, then updates and tombstones; 304 when nothing is new', async () => {
    await migrateOrders(pool);
    await pool.query(
      `INSERT INTO orders (id, data) SELECT 'o' || g, jsonb_build_object('n', g) FROM generate_series(1, 25) g`,
    );
    const feed = changesFeed({ query: ordersChanges(pool, 0) });
    const seen: string[] = [];
    let since: string | null = null;
    let pages = 0;
    for (let more = true; more; pages++) {
      const page = (await (await get(feed, since)).json()) as FeedPage;
      seen.push(...page.changes.map((c) => c.id));
      since = page.cursor;
      more = page.hasMore;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `o${i + 1}`).sort());
    await pool.query(
      `UPDATE orders SET data = '{"n": 99}', version = version + 1, updated_at = clock_timestamp() WHERE id = 'o3'`,
    );
    await pool.query(
      `UPDATE orders SET deleted = true, data = NULL, updated_at = clock_timestamp() WHERE id = 'o4'`,
    );
    const next = await get(feed, since);
    const page = (await next.json()) as FeedPage;
    expect(page.changes).toEqual([
      { id: 'o3', data: { n: 99 }, etag: '"v2"' },
      { id: 'o4', deleted: true },
    ]);
    const idle = await get(feed, page.cursor, next.headers.get('etag')!);
    expect(idle.status).toBe(304);
  });

  it('holds back rows younger than settleMs (a later commit with an earlier timestamp is not walked past)', async () => {
    await pool.query(`INSERT INTO orders (id, data) VALUES ('fresh', '{}')`);
    const { rows } = await pool.query(
      `SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM orders WHERE id <> 'fresh'`,
    );
    const since = `${rows[0].at}|o9999`;
    const settled = (await (
      await get(changesFeed({ query: ordersChanges(pool, 0) }), since)
    ).json()) as FeedPage;
    expect(settled.changes.map((c) => c.id)).toEqual(['fresh']);
    const held = (await (
      await get(changesFeed({ query: ordersChanges(pool, 60_000) }), since)
    ).json()) as FeedPage;
    expect(held.changes).toEqual([]);
    expect(held.cursor).toBe(since);
  });
});
