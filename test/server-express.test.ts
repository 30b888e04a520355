import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, QnoxSync } from '../src/index.js';
import { idempotencyMiddleware, memoryIdempotencyStore, PROBLEMS } from '../src/server.js';

// An Express 5 app with the middleware form, over node:http on 127.0.0.1.
const created: unknown[] = [];
let release = () => {};
let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.use(
    express.json({
      verify: (req, _res, buf) => {
        (req as { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );
  app.use(idempotencyMiddleware({ store: memoryIdempotencyStore() }));
  app.post('/orders', (req, res) => {
    created.push(req.body);
    res
      .status(201)
      .set('x-order', String(created.length))
      .json({ id: created.length, body: req.body });
  });
  app.post('/slow', async (req, res) => {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    created.push(req.body);
    res.status(201).json({ slow: true });
  });
  app.post('/boom', (_req, _res, next) => next(new Error('handler failed')));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path: string, key: string, body: unknown = { n: 1 }) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });

describe('idempotencyMiddleware in an Express app', () => {
  it('the route runs once per key; the retry gets its status, headers and body replayed', async () => {
    const before = created.length;
    const first = await post('/orders', 'e1', { n: 7 });
    const again = await post('/orders', 'e1', { n: 7 });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-order')).toBe(first.headers.get('x-order'));
    expect(await again.json()).toEqual(await first.json());
    expect(created.length - before).toBe(1);
    expect(created.at(-1)).toEqual({ n: 7 }); // the route still had its parsed body
  });

  it('another body under the key is a 422; the same key while the route runs is a 409', async () => {
    await post('/orders', 'e2', { n: 1 });
    const other = await post('/orders', 'e2', { n: 2 });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ type: PROBLEMS.mismatch });
    const running = post('/slow', 'e3');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await post('/slow', 'e3');
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect((await running).status).toBe(201);
  });

  it('an error passed on by the route (Express answers 500) frees the key: the retry runs', async () => {
    const first = await post('/boom', 'e4');
    const again = await post('/boom', 'e4');
    expect(first.status).toBe(500);
    expect(again.status).toBe(500);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('the client delivers through it, exactly once', async () => {
    const before = created.length;
    const sync = await QnoxSync.create({ baseUrl: url, store: new MemoryStore() });
    try {
      const w = await sync.post('/orders', { n: 42 });
      expect((await w.result).status).toBe(201);
      expect(created.length - before).toBe(1);
    } finally {
      await sync.dispose();
    }
  });
});
