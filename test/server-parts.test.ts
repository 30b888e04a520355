import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { batching } from '../src/batching.js';
import { conflicts } from '../src/conflicts.js';
import { deltaSync } from '../src/delta.js';
import { MemoryStore, type MutationHandle, QnoxSync } from '../src/index.js';
import {
  batchHandler,
  CORS_EXPOSE_HEADERS,
  changesFeed,
  checkPreconditions,
  cors,
  etagOf,
  memoryIdempotencyStore,
  toNodeListener,
  withIdempotency,
} from '../src/server.js';

/**
 * An orders API built from the server half: versioned orders with
 * preconditions, a change log served by `changesFeed`, every write through
 * `withIdempotency`, and `batchHandler` at /batch. `POST /orders` with
 * `{ bad: true }` is refused 400.
 */
function ordersApi() {
  const orders = new Map<string, { value: Record<string, unknown>; version: number }>();
  const log: { seq: number; id: string; deleted?: true }[] = [];
  let effects = 0;
  const change = (id: string, deleted?: true) =>
    log.push({ seq: log.length + 1, id, ...(deleted ? { deleted } : {}) });
  const app = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const [, , id] = url.pathname.split('/');
    if (request.method === 'POST' && url.pathname === '/orders') {
      const body = (await request.json()) as Record<string, unknown>;
      if (body.bad) return Response.json({ error: 'bad order' }, { status: 400 });
      const newId = String(orders.size + 1);
      orders.set(newId, { value: { id: newId, ...body }, version: 1 });
      change(newId);
      effects++;
      return Response.json(orders.get(newId)!.value, { status: 201, headers: { etag: etagOf(1) } });
    }
    const order = id ? orders.get(id) : undefined;
    if (request.method === 'PATCH' && id) {
      const refused = checkPreconditions(request, order && etagOf(order.version), {
        required: true,
      });
      if (refused) return refused;
      order!.value = { ...order!.value, ...((await request.json()) as object) };
      order!.version++;
      change(id);
      effects++;
      return Response.json(order!.value, { headers: { etag: etagOf(order!.version) } });
    }
    if (request.method === 'GET' && order)
      return Response.json(order.value, { headers: { etag: etagOf(order.version) } });
    return Response.json({ error: 'not found' }, { status: 404 });
  };
  const guarded = withIdempotency(app, { store: memoryIdempotencyStore() });
  const feed = changesFeed({
    query: ({ since, limit }) => {
      const after = log.filter((e) => e.seq > Number(since ?? 0));
      const page = after.slice(0, limit);
      return {
        changes: page.map((e) => {
          const o = orders.get(e.id);
          return o
            ? { id: e.id, data: o.value, etag: etagOf(o.version) }
            : { id: e.id, deleted: true };
        }),
        cursor: String(page.at(-1)?.seq ?? since ?? 0),
        hasMore: after.length > limit,
      };
    },
  });
  const batch = batchHandler(guarded, { maxRequests: 10 });
  const router = async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path === '/batch') return batch(request);
    if (path === '/orders/changes') return feed(request);
    return guarded(request);
  };
  const edit = (id: string, patch: Record<string, unknown>) => {
    const o = orders.get(id)!;
    o.value = { ...o.value, ...patch };
    o.version++;
    change(id);
  };
  return { router, orders, edit, effects: () => effects };
}

async function serve(handler: (request: Request) => Promise<Response>) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    return toNodeListener(handler)(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('the client against the server half', () => {
  it('batches through batchHandler (424 after a refused write), delta sync through changesFeed (304 when nothing is new), a 412 resolved by merge', async () => {
    const api = ordersApi();
    const http = await serve(api.router);
    const orders = deltaSync({ collection: '/orders', pageSize: 5, intervalMs: 0 });
    const sync = await QnoxSync.create({
      baseUrl: http.url,
      store: new MemoryStore(),
      autoSync: false,
      plugins: [batching({ maxRequests: 8 }), conflicts(), orders],
    });
    try {
      const writes: MutationHandle[] = [];
      for (let i = 0; i < 12; i++)
        writes.push(
          await sync.post(
            '/orders',
            { n: i, ...(i === 3 ? { bad: true } : {}) },
            { orderingKey: 'o' },
          ),
        );
      await sync.sync();
      await sync.drained({ timeoutMs: 10_000 });
      const settled = await Promise.all(
        writes.map((w) =>
          w.result.then(
            (r) => r.status,
            (e) => e.code,
          ),
        ),
      );
      expect(settled.filter((s) => s === 201)).toHaveLength(11);
      expect(settled[3]).toBe('http');
      expect(api.effects()).toBe(11);
      expect(http.requests.filter((r) => r === 'POST /batch').length).toBeGreaterThanOrEqual(2);
      // Every order came through a batch: nothing went out alone.
      expect(http.requests.filter((r) => r === 'POST /orders')).toEqual([]);
      expect((await sync.deadLetters()).map((d) => d.reason)).toEqual(['rejected']);

      // Its own deliveries already started pulls; this one ends after them.
      expect(await orders.pull()).toMatchObject({ cursor: '11' });
      const list = await sync.get<{ id: string }[]>('/orders', { strategy: 'cacheOnly' });
      expect(list.data).toHaveLength(11);
      api.edit('2', { n: 'edited' });
      expect(await orders.pull()).toMatchObject({ applied: 1 });
      const before = http.requests.length;
      expect(await orders.pull()).toMatchObject({ applied: 0 });
      expect(http.requests.length - before).toBe(1);

      // A PATCH made against the pulled version goes through; one against a stale one is a 412, resolved by merge.
      const fine = await sync.patch('/orders/5', { note: 'a' }, { conflict: 'merge' });
      api.edit('6', { n: 'theirs' });
      const stale = await sync.patch('/orders/6', { note: 'b' }, { conflict: 'merge' });
      await sync.sync();
      await sync.drained({ timeoutMs: 10_000 });
      await expect(fine.result).resolves.toMatchObject({ status: 200 });
      await expect(stale.result).resolves.toMatchObject({ status: 200 });
      expect(api.orders.get('6')?.value).toMatchObject({ n: 'theirs', note: 'b' });
    } finally {
      await sync.dispose();
      await http.close();
    }
  });

  it('batchHandler answers 413 over its limits and 400 to what is not a batch', async () => {
    const batch = batchHandler(async () => new Response(null, { status: 204 }), {
      maxRequests: 2,
      maxBytes: 200,
    });
    const send = (body: string) =>
      batch(new Request('http://api.test/batch', { method: 'POST', body }));
    const req = (id: string) => ({ id, method: 'POST', url: '/x' });
    expect((await send(JSON.stringify({ requests: [req('1'), req('2'), req('3')] }))).status).toBe(
      413,
    );
    expect(
      (await send(JSON.stringify({ requests: [req('1')], pad: 'x'.repeat(300) }))).status,
    ).toBe(413);
    expect((await send('{"nope":1}')).status).toBe(400);
    const ok = await send(
      JSON.stringify({ requests: [req('1'), { ...req('2'), dependsOn: ['9'] }] }),
    );
    expect(await ok.json()).toEqual({
      responses: [
        { id: '1', status: 204, headers: {} },
        { id: '2', status: 424 },
      ],
    });
  });

  it('checkPreconditions: 412 with the current ETag, 428 when required and missing, * matches what exists', () => {
    const req = (ifMatch?: string) =>
      new Request('http://api.test/o/1', {
        method: 'PUT',
        headers: ifMatch ? { 'if-match': ifMatch } : {},
      });
    expect(checkPreconditions(req('"3"'), '"3"')).toBeUndefined();
    expect(checkPreconditions(req('*'), '"3"')).toBeUndefined();
    expect(checkPreconditions(req('*'), undefined)?.status).toBe(412);
    const stale = checkPreconditions(req('"2"'), '"3"');
    expect(stale?.status).toBe(412);
    expect(stale?.headers.get('etag')).toBe('"3"');
    expect(checkPreconditions(req(), '"3"')).toBeUndefined();
    expect(checkPreconditions(req(), '"3"', { required: true })?.status).toBe(428);
  });

  it('cors: a preflight from an allowed origin gets the headers the client sends; answers expose what it reads', async () => {
    const api = cors(async () => Response.json({ ok: true }, { headers: { etag: '"1"' } }), {
      origins: ['https://app.example'],
    });
    const preflight = await api(
      new Request('http://api.test/o', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PATCH' },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('if-match');
    const answer = await api(
      new Request('http://api.test/o', { headers: { origin: 'https://app.example' } }),
    );
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answer.headers.get('access-control-expose-headers')).toBe(CORS_EXPOSE_HEADERS);
    const other = await api(
      new Request('http://api.test/o', { headers: { origin: 'https://evil.example' } }),
    );
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
