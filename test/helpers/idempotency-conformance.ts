import { describe, expect, it } from 'vitest';
import { type IdempotencyStore, PROBLEMS, withIdempotency } from '../../src/server.js';
import { ManualClock } from '../../src/testing/index.js';

/** A small app: POST /orders creates one (counted), /slow waits for `release`, /boom throws, /fail is a 503. */
export function app() {
  const created: unknown[] = [];
  let release = () => {};
  const gate = () =>
    new Promise<void>((resolve) => {
      release = resolve;
    });
  let waiting: Promise<void> | undefined;
  const handler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (path === '/boom') throw new Error('handler failed');
    if (path === '/fail') return new Response('down', { status: 503 });
    if (path === '/slow') {
      waiting ??= gate();
      await waiting;
    }
    const body = request.method === 'GET' ? null : await request.json();
    created.push(body);
    return Response.json(
      { id: created.length, body },
      { status: 201, headers: { 'x-order': String(created.length) } },
    );
  };
  return { handler, created, release: () => release() };
}

export const post = (
  path: string,
  key: string | undefined,
  body: unknown = { n: 1 },
  headers: Record<string, string> = {},
) =>
  new Request(`http://api.test${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
      ...headers,
    },
    body: JSON.stringify(body),
  });

/** The fingerprint withIdempotency binds a key to, as a crashed process would have stored it. */
async function fingerprintOf(request: Request): Promise<string> {
  const { fingerprint } = await import('../../src/server/idempotency-key.js');
  return fingerprint(request.method, new URL(request.url), await request.arrayBuffer());
}

/**
 * How time passes for a store: the memory store's expiry follows the
 * middleware's ManualClock; Redis and PostgreSQL expire on their own clock,
 * so they get short leases and real waits.
 */
export interface StoreTime {
  readonly ttlMs: number;
  readonly leaseMs: number;
  pass(clock: ManualClock, ms: number): Promise<void>;
}

export const manualTime: StoreTime = {
  ttlMs: 60_000,
  leaseMs: 10_000,
  pass: async (clock, ms) => clock.advance(ms),
};

/** The draft's rules, for any store. */
export function conformance(
  name: string,
  makeStore: (clock: ManualClock) => IdempotencyStore,
  time: StoreTime = manualTime,
) {
  describe(`Idempotency-Key conformance (${name})`, () => {
    const setup = (options: Partial<Parameters<typeof withIdempotency>[1]> = {}) => {
      const clock = new ManualClock();
      const a = app();
      const store = makeStore(clock);
      const api = withIdempotency(a.handler, { store, clock, leaseMs: 30_000, ...options });
      return { ...a, api, clock, store };
    };

    it('runs the handler once per key; a retry gets the same answer, marked Idempotent-Replayed', async () => {
      const t = setup();
      const first = await t.api(post('/orders', 'k1'));
      const again = await t.api(post('/orders', 'k1'));
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(await again.json()).toEqual(await first.json());
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('x-order')).toBe('1');
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(t.created).toHaveLength(1);
    });

    it('the quoted form ("k") and the bare form (k) are the same key', async () => {
      const t = setup();
      await t.api(post('/orders', '"abc"'));
      const bare = await t.api(post('/orders', 'abc'));
      expect(bare.headers.get('idempotent-replayed')).toBe('true');
      expect(t.created).toHaveLength(1);
    });

    it('the same key while the first still runs is a 409 in-progress problem with Retry-After, never a second run', async () => {
      const t = setup();
      const first = t.api(post('/slow', 'k2'));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await t.api(post('/slow', 'k2'));
      expect(second.status).toBe(409);
      expect(second.headers.get('content-type')).toBe('application/problem+json');
      expect(second.headers.get('retry-after')).toBe('1');
      expect(await second.json()).toMatchObject({ type: PROBLEMS.inProgress });
      t.release();
      expect((await first).status).toBe(201);
      expect(t.created).toHaveLength(1);
    });

    it('the same key with another body, path or method is a 422', async () => {
      const t = setup();
      await t.api(post('/orders', 'k3', { n: 1 }));
      for (const other of [post('/orders', 'k3', { n: 2 }), post('/other', 'k3', { n: 1 })]) {
        const res = await t.api(other);
        expect(res.status).toBe(422);
        expect(await res.json()).toMatchObject({ type: PROBLEMS.mismatch });
      }
      expect(t.created).toHaveLength(1);
    });

    it('a bad key is a 400; a missing one passes through unless required', async () => {
      const t = setup();
      for (const key of ['', '""', 'x'.repeat(256), 'caf\u00e9'])
        expect((await t.api(post('/orders', key))).status, JSON.stringify(key)).toBe(400);
      expect((await t.api(post('/orders', undefined))).status).toBe(201);
      expect((await t.api(post('/orders', undefined))).status).toBe(201);
      expect(t.created).toHaveLength(2);
      const strict = setup({ required: true });
      const res = await strict.api(post('/orders', undefined));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: PROBLEMS.badKey });
      expect(strict.created).toHaveLength(0);
    });

    it('methods not listed pass through; listed ones (PUT here) are guarded', async () => {
      const t = setup({ methods: ['POST', 'PUT'] });
      const put = (key: string) =>
        new Request('http://api.test/orders', {
          method: 'PUT',
          headers: { 'idempotency-key': key },
          body: '{"n":5}',
        });
      await t.api(put('p1'));
      expect((await t.api(put('p1'))).headers.get('idempotent-replayed')).toBe('true');
      const patch = new Request('http://api.test/orders', {
        method: 'PATCH',
        headers: { 'idempotency-key': 'p1' },
        body: '{"n":6}',
      });
      expect((await t.api(patch)).status).toBe(201);
      expect(t.created).toHaveLength(2);
    });

    it('a handler that throws or answers 5xx frees its key: the retry runs (not a 409, not a replay)', async () => {
      const t = setup();
      await expect(t.api(post('/boom', 'k4'))).rejects.toThrow('handler failed');
      await expect(t.api(post('/boom', 'k4'))).rejects.toThrow('handler failed');
      expect((await t.api(post('/fail', 'k5'))).status).toBe(503);
      const again = await t.api(post('/fail', 'k5'));
      expect(again.status).toBe(503);
      expect(again.headers.get('idempotent-replayed')).toBeNull();
    });

    it('a store that cannot be reached answers 503 fast and the handler does not run', async () => {
      const t = setup();
      const hanging: IdempotencyStore = { ...t.store, begin: () => new Promise(() => {}) };
      const failing: IdempotencyStore = {
        ...t.store,
        begin: () => Promise.reject(new Error('ECONNREFUSED')),
      };
      const a = app();
      const down = await withIdempotency(a.handler, { store: failing, clock: t.clock })(
        post('/orders', 'k7'),
      );
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ type: PROBLEMS.storeDown });
      const slow = withIdempotency(a.handler, {
        store: hanging,
        clock: t.clock,
        storeTimeoutMs: 500,
      })(post('/orders', 'k8'));
      await new Promise((resolve) => setTimeout(resolve, 5));
      t.clock.advance(500);
      expect((await slow).status).toBe(503);
      expect(a.created).toHaveLength(0);
    });

    it('keys expire after ttlMs; a process that died mid-handler frees its key after leaseMs', async () => {
      const t = setup({ ttlMs: time.ttlMs, leaseMs: time.leaseMs });
      await t.api(post('/orders', 'k6'));
      await time.pass(t.clock, time.ttlMs + 1);
      expect((await t.api(post('/orders', 'k6'))).headers.get('idempotent-replayed')).toBeNull();
      expect(t.created).toHaveLength(2);
      // A process that died mid-handler: it took the key (same request), never completed, never renewed.
      const print = await fingerprintOf(post('/orders', 'k9'));
      expect((await t.store.begin('\u0000k9', print, time.leaseMs)).state).toBe('acquired');
      expect((await t.api(post('/orders', 'k9'))).status).toBe(409);
      await time.pass(t.clock, time.leaseMs + 1);
      expect((await t.api(post('/orders', 'k9'))).status).toBe(201);
      expect(t.created).toHaveLength(3);
    });

    it('scopes keep two callers’ keys apart', async () => {
      const t = setup({ scope: (req) => req.headers.get('x-user') ?? '' });
      await t.api(post('/orders', 'same', { n: 1 }, { 'x-user': 'ann' }));
      const bob = await t.api(post('/orders', 'same', { n: 1 }, { 'x-user': 'bob' }));
      expect(bob.headers.get('idempotent-replayed')).toBeNull();
      expect(t.created).toHaveLength(2);
    });
  });
}
