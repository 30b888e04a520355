import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { batching } from '../src/batching.js';
import { coalescing } from '../src/coalescing.js';
import {
  ConflictError,
  MemoryStore,
  type MutationHandle,
  type QnoxLocalStore,
  QnoxSync,
} from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { SqliteStore } from '../src/node.js';
import { MinimalStore } from '../src/testing/index.js';
import { closeAfterEach, drainAll, startHarness, until } from './helpers/harness.js';
import type { Fault } from './helpers/test-server.js';

/**
 * The engine's delivery suite, run over every store: the reference store with
 * only the required members, MemoryStore, IndexedDB (fake-indexeddb: the
 * pipelined lane, marks written ahead, batched removals) and SQLite (the
 * same, on a file). Delivery must not depend on which store was passed.
 */
interface StoreKind {
  readonly name: string;
  create(): QnoxLocalStore;
  /** The same data opened again, as after a restart; absent where nothing survives one. */
  reopen?(store: QnoxLocalStore): QnoxLocalStore;
}

const dir = mkdtempSync(join(tmpdir(), 'qnox-delivery-'));
let n = 0;
const KINDS: StoreKind[] = [
  {
    name: 'MinimalStore (required members only)',
    create: () => new MinimalStore(),
    reopen: (s) => (s as MinimalStore).reopen(),
  },
  { name: 'MemoryStore', create: () => new MemoryStore() },
  (() => {
    const factories = new WeakMap<QnoxLocalStore, { idb: IDBFactory; name: string }>();
    const open = (idb: IDBFactory, name: string) => {
      const store = new IndexedDbStore({ name, indexedDB: idb, IDBKeyRange, persist: false });
      factories.set(store, { idb, name });
      return store;
    };
    return {
      name: 'IndexedDbStore (fake-indexeddb)',
      create: () => open(new IDBFactory(), `delivery-${n++}`),
      reopen: (s: QnoxLocalStore) => open(factories.get(s)!.idb, factories.get(s)!.name),
    };
  })(),
  (() => {
    const paths = new WeakMap<QnoxLocalStore, string>();
    const open = (path: string) => {
      const store = new SqliteStore({ path });
      paths.set(store, path);
      return store;
    };
    return {
      name: 'SqliteStore (file)',
      create: () => open(join(dir, `delivery-${n++}.sqlite`)),
      reopen: (s: QnoxLocalStore) => open(paths.get(s)!),
    };
  })(),
];

const closer = closeAfterEach();

describe.each(KINDS)('delivery over $name', (kind) => {
  async function harness(options: Parameters<typeof startHarness>[0] = {}) {
    const store = kind.create();
    const h = await startHarness({ store, ...options });
    closer.close = h.close;
    return { ...h, store };
  }

  it.each([
    { way: 'one request per write', batched: false },
    { way: 'in batches of 20 (batching())', batched: true },
  ])(
    '1,000 writes over 20 keys through 30% random faults, $way: one effect each, in per-key order, every result the server’s',
    async ({ batched }) => {
      const h = await harness({
        concurrency: 4,
        retry: { maxAttempts: 1_000 },
        plugins: batched ? [batching()] : [],
      });
      if (batched) h.server.batchPath = '/batch';
      let seed = 7;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const kinds: Fault[] = [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 502 },
        { kind: 'status', status: 503 },
        { kind: 'status', status: 429, retryAfter: '2' },
        { kind: 'reset' },
        { kind: 'commit-then-drop' },
      ];
      h.server.faultPolicy = (req) => {
        if (req.method === 'HEAD' || random() >= 0.3) return undefined;
        return kinds[Math.floor(random() * kinds.length)];
      };
      const handles: MutationHandle[] = [];
      for (let i = 0; i < 1_000; i++)
        handles.push(await h.sync.post(`/streams/k${i % 20}`, { n: i }));
      await drainAll(h.sync, h.clock);
      const results = await Promise.all(handles.map((m) => m.result));
      expect(h.server.effects).toHaveLength(1_000);
      expect(new Set(h.server.effects.map((e) => e.key)).size).toBe(1_000);
      for (let k = 0; k < 20; k++)
        expect(h.server.streams.get(`k${k}`)).toEqual(
          Array.from({ length: 50 }, (_, j) => j * 20 + k),
        );
      // Each result carries the server's answer for that write, whatever the store.
      expect(results.every((r) => r.status === 201 && r.data !== null)).toBe(true);
      expect(results.map((r) => (r.data as { index: number }).index)).toEqual(
        Array.from({ length: 1_000 }, (_, i) => Math.floor(i / 20)),
      );
      expect(h.server.requests.length).toBeGreaterThan(1_000);
      const batches = h.server.requestsTo('POST', '/batch').length;
      // Faults hit batches and the writes inside them alike; no write went out alone.
      if (batched) {
        expect(batches).toBeGreaterThanOrEqual(50);
        expect(batches).toBeLessThan(400);
        expect(
          h.server.requests.filter(
            (r) => r.path.startsWith('/streams/') && !r.headers['x-batch-part'],
          ),
        ).toEqual([]);
      } else expect(batches).toBe(0);
      expect(await h.sync.deadLetters()).toEqual([]);
      expect(await h.sync.pendingCount()).toBe(0);
    },
    120_000,
  );

  it('a body cut after the 2xx status: delivered once, that result’s data null, never sent again', async () => {
    const h = await harness();
    const handles = [];
    for (let n = 0; n < 3; n++) handles.push(await h.sync.post('/streams/cut', { n }));
    h.server.fail({ kind: 'cut-body' });
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('POST', '/streams/cut')).toHaveLength(3);
    expect(h.server.streams.get('cut')).toEqual([0, 1, 2]);
    const results = await Promise.all(handles.map((m) => m.result));
    expect(results.map((r) => [r.status, r.data])).toEqual([
      [201, null],
      [201, { index: 1 }],
      [201, { index: 2 }],
    ]);
  });

  it('retries a 503, dead-letters a 400 and goes on with the key behind it', async () => {
    const h = await harness({ retry: { maxAttempts: 5 } });
    h.server.fail({ kind: 'status', status: 503 }, { kind: 'status', status: 400 });
    const first = await h.sync.post('/streams/r', { n: 0 });
    const second = await h.sync.post('/streams/r', { n: 1 });
    await drainAll(h.sync, h.clock);
    expect(await first.result.catch((e: unknown) => (e as { code: string }).code)).toBe('http');
    await expect(second.result).resolves.toMatchObject({ status: 201 });
    expect((await h.sync.deadLetters()).map((d) => d.reason)).toEqual(['rejected']);
    expect(h.server.streams.get('r')).toEqual([1]);
  });

  it('coalescing merges queued PATCHes into one request (lastTask or, without it, a scan)', async () => {
    const h = await harness({
      delivery: { autoSync: false },
      plugins: [coalescing({ always: true })],
    });
    h.server.editItem('1', { a: 0, b: 0 });
    const first = await h.sync.patch('/items/1', { a: 1 });
    const second = await h.sync.patch('/items/1', { b: 2 });
    expect(second.id).toBe(first.id);
    expect(await h.sync.pendingCount()).toBe(1);
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('PATCH', '/items/1')).toHaveLength(1);
    await expect(first.result).resolves.toMatchObject({ status: 200 });
    await expect(second.result).resolves.toMatchObject({ status: 200 });
    expect(h.server.items.get('1')?.value).toEqual({ a: 1, b: 2 });
  });

  it('an edit behind the client’s back is a conflict, parked', async () => {
    const h = await harness();
    h.server.editItem('1', { qty: 1 });
    await h.sync.get('/items/1');
    h.server.editItem('1', { qty: 50 });
    const w = await h.sync.patch('/items/1', { qty: 2 });
    await drainAll(h.sync, h.clock);
    expect(await w.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect((await h.sync.deadLetters()).map((d) => d.reason)).toEqual(['conflict']);
    expect(h.server.items.get('1')?.value).toEqual({ qty: 50 });
  });

  // MemoryStore keeps nothing across a restart, by design: it has no restart case.
  if (kind.reopen)
    it('dispose mid-drain, restart on the same data: each write lands once, in order', async () => {
      const h = await harness({ retry: { baseDelayMs: 10, maxDelayMs: 100 } });
      h.server.faultPolicy = (req) =>
        req.method === 'POST' ? { kind: 'slow', ms: 30 } : undefined;
      for (let i = 0; i < 10; i++) await h.sync.post('/streams/d', { n: i });
      await until(() => (h.server.streams.get('d') ?? []).length >= 3, 10_000);
      await h.sync.dispose();
      h.server.faultPolicy = undefined;
      const again = await QnoxSync.create({
        baseUrl: h.server.url,
        clock: h.clock,
        random: () => 0.5,
        store: kind.reopen!(h.store),
      });
      closer.close = async () => {
        await again.dispose();
        await h.server.stop();
      };
      await drainAll(again, h.clock);
      expect(h.server.streams.get('d')).toEqual([...Array(10).keys()]);
      expect(new Set(h.server.effects.map((e) => e.key)).size).toBe(10);
    });
});
