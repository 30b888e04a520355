import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { cancelCreate } from '../src/cancel-create.js';
import { coalescing } from '../src/coalescing.js';
import { MemoryStore, type QnoxLocalStore, QnoxSync } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { SqliteStore } from '../src/node.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll, until } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'qnox-sent-'));
let n = 0;

/** Each kind of store, opened again on the same data (a restart). */
const stores: Record<string, () => () => QnoxLocalStore> = {
  MemoryStore: () => {
    const store = new MemoryStore();
    return () => store;
  },
  'IndexedDbStore (fake-indexeddb)': () => {
    const factory = new IDBFactory();
    return () => new IndexedDbStore({ name: 'sent', indexedDB: factory, IDBKeyRange });
  },
  SqliteStore: () => {
    const path = join(dir, `sent-${++n}.db`);
    return () => new SqliteStore({ path });
  },
};

async function client(server: TestServer, store: QnoxLocalStore, clock: ManualClock) {
  return QnoxSync.create({
    baseUrl: server.url,
    store,
    clock,
    random: () => 0.5,
    autoSync: false,
    plugins: [coalescing({ always: true }), cancelCreate()],
  });
}

describe.each(Object.entries(stores))('"may have reached the server" on %s', (_name, make) => {
  it('a write whose connection dropped after the server applied it is never serialPasses into', async () => {
    const open = make();
    const server = new TestServer();
    await server.start();
    const clock = new ManualClock();
    const sync = await client(server, open(), clock);
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    server.editItem('1', { title: 'base', qty: 1 });
    await sync.get('/items/1');
    server.faultPolicy = (req) => {
      if (req.method !== 'PATCH') return undefined;
      server.faultPolicy = undefined;
      // The server applies the write, then the network goes away with the answer.
      queueMicrotask(() => {
        server.down = true;
      });
      return { kind: 'commit-then-drop' };
    };
    const first = await sync.patch('/items/1', { title: 'first' });
    await sync.sync();
    expect(server.items.get('1')?.value).toMatchObject({ title: 'first' });
    const second = await sync.patch('/items/1', { qty: 5 });
    expect(second.idempotencyKey).not.toBe(first.idempotencyKey);
    expect(await sync.pendingCount()).toBe(2);
    server.down = false;
    await sync.checkConnectivity();
    await drainAll(sync, clock);
    expect(server.items.get('1')?.value).toEqual({ title: 'first', qty: 5 });
    expect(server.effects.filter((e) => e.method === 'PATCH')).toHaveLength(2);
  });

  it('a create aborted by dispose() mid-request is not cancelled locally after a restart', async () => {
    const open = make();
    const server = new TestServer();
    await server.start();
    const clock = new ManualClock();
    const first = await client(server, open(), clock);
    let second: QnoxSync | undefined;
    closer.close = async () => {
      await first.dispose();
      await second?.dispose();
      await server.stop();
    };
    server.faultPolicy = (req) => (req.method === 'POST' ? { kind: 'slow', ms: 5_000 } : undefined);
    const created = await first.post('/items', { title: 'draft' });
    created.result.catch(() => {});
    const draining = first.sync();
    await until(() => server.effects.length === 1);
    await first.dispose();
    await draining;
    server.faultPolicy = undefined;

    second = await client(server, open(), clock);
    const deleted = await second.delete('/items/1', { cancels: created.id });
    expect(await second.pendingCount()).toBe(2);
    await drainAll(second, clock);
    expect((await deleted.result).status).toBe(204);
    expect(server.items.has('1')).toBe(false);
    // The create went out again under its key and was replayed, not applied twice.
    expect(server.effects.filter((e) => e.method === 'POST')).toHaveLength(1);
  });
});

/** Counts durable mark commits and logs when each write's mark was committed. */
function counted(
  store: QnoxLocalStore,
  log: string[],
): { store: QnoxLocalStore; commits: () => number } {
  let commits = 0;
  const note = (tasks: readonly { idempotencyKey: string; sentAt?: number }[]) => {
    commits++;
    for (const t of tasks) if (t.sentAt !== undefined) log.push(`marked ${t.idempotencyKey}`);
  };
  const proxy = new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (name === 'updateTask')
        return async (task: Parameters<QnoxLocalStore['updateTask']>[0]) => {
          await target.updateTask(task);
          note([task]);
        };
      if (name === 'updateTasks' && target.updateTasks)
        return async (tasks: Parameters<QnoxLocalStore['updateTask']>[0][]) => {
          await target.updateTasks!(tasks);
          note(tasks);
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, commits: () => commits };
}

const pipelined = Object.entries(stores).filter(([name]) => name !== 'MemoryStore');

describe.each(pipelined)('marks written a batch at a time on %s', (_name, make) => {
  it('a lane of 40 writes commits its marks in a few batches, each before its write leaves', async () => {
    const server = new TestServer();
    await server.start();
    const log: string[] = [];
    const { store, commits } = counted(make()(), log);
    const clock = new ManualClock();
    const sync = await client(server, store, clock);
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    server.faultPolicy = (req) => {
      log.push(`sent ${req.headers['idempotency-key']}`);
      return undefined;
    };
    const writes = [];
    for (let i = 0; i < 40; i++) writes.push(await sync.post('/items', { title: `w${i}` }));
    await drainAll(sync, clock);
    expect(server.effects.filter((e) => e.method === 'POST')).toHaveLength(40);
    for (const w of writes) {
      const marked = log.indexOf(`marked ${w.idempotencyKey}`);
      expect(marked).toBeGreaterThanOrEqual(0);
      expect(marked).toBeLessThan(log.indexOf(`sent ${w.idempotencyKey}`));
    }
    // One commit per write before; a read-ahead batch (32) now shares one.
    expect(commits()).toBeLessThanOrEqual(6);
  });

  it('marks written ahead are taken back when the lane stops: later writes still coalesce', async () => {
    const server = new TestServer();
    await server.start();
    const { store } = counted(make()(), []);
    const clock = new ManualClock();
    const sync = await client(server, store, clock);
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    server.editItem('9', { title: 'nine' });
    for (let i = 0; i < 3; i++) await sync.post('/items', { title: `w${i}` }, { orderingKey: 'k' });
    const last = await sync.put('/items/9', { title: 'a' }, { orderingKey: 'k' });
    let posts = 0;
    server.faultPolicy = (req) =>
      req.method === 'POST' && ++posts === 2 ? { kind: 'status', status: 503 } : undefined;
    await sync.sync();
    expect(server.effects.filter((e) => e.method === 'POST')).toHaveLength(1);
    const queued = await store.listTasks(10);
    expect(queued).toHaveLength(3);
    // The first is the failed, sent one; the rest were only read ahead.
    expect(queued[0]?.sentAt).toBeDefined();
    expect(queued.slice(1).map((t) => t.sentAt)).toEqual([undefined, undefined]);
    server.faultPolicy = undefined;
    const merged = await sync.put('/items/9', { title: 'b' }, { orderingKey: 'k' });
    expect(merged.id).toBe(last.id);
    await drainAll(sync, clock);
    expect(server.items.get('9')?.value).toEqual({ title: 'b' });
  });
});
