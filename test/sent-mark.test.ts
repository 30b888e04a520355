import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
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
    coalesce: true,
  });
}

describe.each(Object.entries(stores))('"may have reached the server" on %s', (_name, make) => {
  it('a write whose connection dropped after the server applied it is never coalesced into', async () => {
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
