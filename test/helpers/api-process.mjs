// One process of a small API made idempotent by withIdempotency, for the scale proof and the bench.
// Its keys live in the store named by STORE (redis | postgres | memory), at REDIS_URL / DATABASE_URL.
// Each write's effect is counted in the database (PostgreSQL: a row in `effects`, committed with
// the stored response; Redis: HINCRBY effects <id> 1), so a duplicate effect cannot hide.
//
//   POST /writes/<key>  { id, n, ms? } → 201 { id, n, pid }   (waits `ms` first: a handler still running)
//   GET  /health        → 200
//
// Env: STORE, REDIS_URL, DATABASE_URL, LEASE_MS (default 30000). Prints `listening <port>`, and
// `handling <id>` when a write's handler starts. For the bench: TRIVIAL=1 answers every request
// 201 at once (no effect), and BARE=1 serves it without withIdempotency.

import { createServer } from 'node:http';
import {
  memoryIdempotencyStore,
  postgresIdempotencyStore,
  redisIdempotencyStore,
  toNodeListener,
  withIdempotency,
} from '../../dist/server.js';

const kind = process.env.STORE ?? 'memory';
const leaseMs = Number(process.env.LEASE_MS ?? 30_000);
let store;
let effect;

if (kind === 'redis') {
  const { Redis } = await import('ioredis');
  const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false });
  await new Promise((resolve) => client.once('ready', resolve));
  store = redisIdempotencyStore({ client });
  effect = async (_request, body) => {
    await client.hincrby('effects', String(body.id), 1);
    await client.rpush(`order:${body.key}`, String(body.n));
    return Response.json({ id: body.id, n: body.n, pid: process.pid }, { status: 201 });
  };
} else if (kind === 'postgres') {
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  pool.on('error', () => {});
  store = postgresIdempotencyStore({ pool });
  effect = async (request, body) => {
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('INSERT INTO effects (write_id, key, n, pid) VALUES ($1, $2, $3, $4)', [
        body.id,
        body.key,
        body.n,
        process.pid,
      ]);
      const response = Response.json({ id: body.id, n: body.n, pid: process.pid }, { status: 201 });
      await store.completeWithin(tx, request, response);
      await tx.query('COMMIT');
      return response;
    } catch (error) {
      await tx.query('ROLLBACK');
      throw error;
    } finally {
      tx.release();
    }
  };
} else {
  store = memoryIdempotencyStore();
  const effects = new Map();
  effect = async (_request, body) => {
    effects.set(body.id, (effects.get(body.id) ?? 0) + 1);
    return Response.json({ id: body.id, n: body.n, pid: process.pid }, { status: 201 });
  };
}

const app = async (request) => {
  const url = new URL(request.url);
  if (url.pathname === '/health') return new Response('ok');
  const match = /^\/writes\/([\w-]+)$/.exec(url.pathname);
  if (request.method !== 'POST' || !match) return new Response('not found', { status: 404 });
  const body = { ...(await request.json()), key: match[1] };
  process.stdout.write(`handling ${body.id}\n`);
  if (body.ms) await new Promise((resolve) => setTimeout(resolve, body.ms));
  return effect(request, body);
};

const trivial = () => Response.json({ ok: true }, { status: 201 });
const handler = process.env.TRIVIAL === '1' ? trivial : app;
const server = createServer(
  toNodeListener(process.env.BARE === '1' ? handler : withIdempotency(handler, { store, leaseMs })),
);
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
