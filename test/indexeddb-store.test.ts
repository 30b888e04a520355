import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { QnoxSync, StorageError } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import type { TaskRecord } from '../src/model/records.js';
import { ManualClock, runStoreConformance, sampleTask } from '../src/testing/index.js';
import { closeAfterEach, drainAll, until } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

let n = 0;
const factory = {
  create: () => new IndexedDbStore({ name: `conformance-${++n}`, indexedDB: shared, IDBKeyRange }),
  async reopen(store: IndexedDbStore) {
    await store.close();
    const again = new IndexedDbStore({ name: `conformance-${n}`, indexedDB: shared, IDBKeyRange });
    await again.init();
    return again;
  },
  async corrupt(_store: IndexedDbStore, id: string) {
    const db = await new Promise<IDBDatabase>((resolve) => {
      const req = shared.open(`conformance-${n}`);
      req.onsuccess = () => resolve(req.result);
    });
    const tx = db.transaction('tasks', 'readwrite');
    const index = tx.objectStore('tasks').index('byId');
    await new Promise<void>((resolve) => {
      index.openCursor(id).onsuccess = (e) => {
        const cursor = (e.target as IDBRequest<IDBCursorWithValue>).result;
        cursor.update({ ...cursor.value, v: 999, method: 42 });
        resolve();
      };
    });
    await new Promise((resolve) => {
      tx.oncomplete = resolve;
    });
    db.close();
  },
};
const shared = new IDBFactory();

runStoreConformance('IndexedDbStore (fake-indexeddb)', factory, { describe, it });

describe('IndexedDbStore', () => {
  const closer = closeAfterEach();

  /** Two stores on one fresh database, as two tabs have; both closed after the test. */
  const twoTabs = (name: string): [IndexedDbStore, IndexedDbStore] => {
    const idb = new IDBFactory();
    const tabs = [0, 1].map(() => new IndexedDbStore({ name, indexedDB: idb, IDBKeyRange }));
    closer.close = async () => {
      for (const store of tabs) await store.close();
    };
    return tabs as [IndexedDbStore, IndexedDbStore];
  };

  it('imports without touching indexedDB and fails to open with a typed error where there is none', async () => {
    const store = new IndexedDbStore({ name: 'nowhere', IDBKeyRange });
    await expect(store.init()).rejects.toMatchObject({ code: 'storage' });
  });

  it('delivers writes queued before a restart, in order, exactly once', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const idb = new IDBFactory();
    server.down = true;
    const first = await QnoxSync.create({
      baseUrl,
      store: new IndexedDbStore({ indexedDB: idb, IDBKeyRange }),
      clock: new ManualClock(),
    });
    for (let i = 0; i < 20; i++) await first.post(`/streams/s${i % 3}`, { n: i });
    await first.dispose();
    server.down = false;
    const clock = new ManualClock();
    const second = await QnoxSync.create({
      baseUrl,
      store: new IndexedDbStore({ indexedDB: idb, IDBKeyRange }),
      clock,
    });
    closer.close = async () => {
      await second.dispose();
      await server.stop();
    };
    await drainAll(second, clock);
    for (let k = 0; k < 3; k++) {
      expect(server.streams.get(`s${k}`)).toEqual([...Array(20).keys()].filter((i) => i % 3 === k));
    }
    expect(server.effects).toHaveLength(20);
  });

  it('schema versions: a fresh database is at version 1 with every store; a newer one is refused', async () => {
    const idb = new IDBFactory();
    const store = new IndexedDbStore({ name: 'versions', indexedDB: idb, IDBKeyRange });
    await store.init();
    await store.putMeta('k', 'v');
    await store.close();
    const db = await new Promise<IDBDatabase>((resolve) => {
      const req = idb.open('versions');
      req.onsuccess = () => resolve(req.result);
    });
    expect(db.version).toBe(1);
    expect(
      Array.from({ length: db.objectStoreNames.length }, (_, i) =>
        db.objectStoreNames.item(i),
      ).sort(),
    ).toEqual(['cache', 'dead', 'heads', 'meta', 'quarantine', 'removals', 'tasks'].sort());
    db.close();
    await new Promise<void>((resolve) => {
      const req = idb.open('versions', 2);
      req.onsuccess = () => {
        req.result.close();
        resolve();
      };
    });
    const newer = new IndexedDbStore({ name: 'versions', indexedDB: idb, IDBKeyRange });
    const refused = await newer.init().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageError);
  });

  it('a drain re-points a key at the task it read behind the head, and a stale read is corrected, never sent early', async () => {
    const [tab, other] = twoTabs('promote');
    const a = [0, 0, 0, 900].map((due, i) =>
      sampleTask({ orderingKey: 'a', nextAttemptAt: due, createdAt: i }),
    );
    const queued = [];
    for (const task of a) queued.push(await tab.enqueue(task));
    const [a1, a2, a3, a4] = queued as [TaskRecord, TaskRecord, TaskRecord, TaskRecord];

    // As a drain does: the head, then the tasks behind it, then the head's removal.
    expect((await tab.dueTasks({ now: 100, limit: 5 })).map((t) => t.id)).toEqual([a1.id]);
    await tab.tasksAfter('a', a1.seq, 16);
    await tab.removeTask(a1.id);
    expect(await tab.nextDueAt()).toBe(0);
    expect((await other.dueTasks({ now: 100, limit: 5 })).map((t) => t.id)).toEqual([a2.id]);

    // Another context removes a2 and a3 behind this one's back: a2's removal
    // here then points the key at a3, which is gone; the real first (a4) is
    // not due until 900, and must neither be sent early nor stall.
    await other.removeTask(a2.id);
    await other.removeTask(a3.id);
    await tab.removeTask(a2.id);
    expect(await tab.dueTasks({ now: 100, limit: 5 })).toEqual([]);
    expect(await tab.nextDueAt()).toBe(900);
    expect((await tab.dueTasks({ now: 900, limit: 5 })).map((t) => t.id)).toEqual([a4.id]);
  });

  it("a removal committed late by a tab that lost the lock does not undo the new sender's backoff", async () => {
    const [old, next] = twoTabs('late');
    const h = await old.enqueue(sampleTask({ orderingKey: 'k', nextAttemptAt: 0, createdAt: 0 }));
    const r = await old.enqueue(sampleTask({ orderingKey: 'k', nextAttemptAt: 1, createdAt: 1 }));
    // The old sender read h and the task behind it, then lost the lock.
    await old.dueTasks({ now: 10, limit: 5 });
    await old.tasksAfter('k', h.seq, 32);
    // The new sender delivered h again, and r failed and backs off until 500.
    await next.dueTasks({ now: 10, limit: 5 });
    await next.removeTask(h.id);
    const [first] = await next.dueTasks({ now: 10, limit: 5 });
    await next.updateTask({ ...first!, attempts: 1, nextAttemptAt: 500 });
    // Now the old sender's removal of h commits: its idea of what follows h is stale.
    await old.removeTask(h.id);
    expect(await old.dueTasks({ now: 10, limit: 5 })).toEqual([]);
    expect(await next.dueTasks({ now: 10, limit: 5 })).toEqual([]);
    expect(await old.nextDueAt()).toBe(500);
    expect((await next.dueTasks({ now: 500, limit: 5 })).map((t) => t.id)).toEqual([r.id]);
  });

  it('counts queued tasks without walking them: a task removed by two tabs, or twice at once, counts once', async () => {
    const [tab, other] = twoTabs('removals');
    const tasks: TaskRecord[] = [];
    for (let i = 0; i < 4; i++)
      tasks.push(
        await tab.enqueue(sampleTask({ orderingKey: 'k', nextAttemptAt: 0, createdAt: i })),
      );
    const [t1, t2, t3] = tasks as [TaskRecord, TaskRecord, TaskRecord];
    // `tab` knows t1..t4 from its reads; `other` removes t2 behind its back.
    await tab.dueTasks({ now: 10, limit: 5 });
    await tab.tasksAfter('k', t1.seq, 32);
    await other.removeTask(t2.id);
    await tab.removeTask(t2.id);
    expect(await tab.pendingCount()).toBe(3);
    // `other` has read nothing: it looks t1 up, once per call, before deleting.
    await Promise.all([other.removeTask(t1.id), other.removeTask(t1.id), tab.removeTask(t3.id)]);
    expect(await tab.pendingCount()).toBe(1);
    expect(await other.pendingCount()).toBe(1);
    await tab.clear({ cache: false, outbox: true });
    expect(await other.pendingCount()).toBe(0);
    await other.enqueue(sampleTask({ orderingKey: 'k' }));
    expect(await tab.pendingCount()).toBe(1);
  });

  it('folds the removal rows into one past 16, keeping the count', async () => {
    const idb = new IDBFactory();
    const store = new IndexedDbStore({ name: 'fold', indexedDB: idb, IDBKeyRange });
    closer.close = () => store.close();
    const tasks = [];
    for (let i = 0; i < 40; i++)
      tasks.push(await store.enqueue(sampleTask({ orderingKey: `k${i % 3}` })));
    // Each removal its own transaction, so each writes its own row.
    for (const task of tasks.slice(0, 20)) {
      const removed = store.removeTask(task.id);
      store.flush();
      await removed;
    }
    const rows = () =>
      new Promise<number>((resolve) => {
        const req = idb.open('fold');
        req.onsuccess = () => {
          const count = req.result.transaction('removals').objectStore('removals').count();
          count.onsuccess = () => {
            req.result.close();
            resolve(count.result);
          };
        };
      });
    expect(await rows()).toBe(20);
    expect(await store.pendingCount()).toBe(20);
    await until(async () => (await rows()) === 1);
    expect(await store.pendingCount()).toBe(20);
  });

  it('a tab that hears of many writes re-reads its counts once per pass, not once per message', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const idb = new IDBFactory();
    const open = () => new IndexedDbStore({ name: 'tabs', indexedDB: idb, IDBKeyRange });
    const clock = new ManualClock();
    const sender = await QnoxSync.create({ baseUrl, store: open(), clock, autoSync: false });
    const watcherStore = open();
    const watcher = await QnoxSync.create({ baseUrl, store: watcherStore, autoSync: false });
    closer.close = async () => {
      await sender.dispose();
      await watcher.dispose();
      await server.stop();
    };
    // Every count read of the watcher waits at a gate while the sender works.
    let reads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const count = watcherStore.pendingCount.bind(watcherStore);
    watcherStore.pendingCount = async () => {
      reads++;
      await gate;
      return count();
    };
    for (let i = 0; i < 30; i++) await sender.post('/streams/tabs', { n: i });
    await drainAll(sender, clock);
    await until(() => reads > 0);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last messages arrive
    release();
    await until(() => watcher.onSyncStatus.value.pending === 0);
    expect(server.streams.get('tabs')).toHaveLength(30);
    // 60 messages (30 queued, 30 settled): one pass was running, one more after it.
    expect(reads).toBeLessThanOrEqual(3);
  });

  it('a burst of enqueues fired together shares transactions and keeps per-key order', async () => {
    const store = new IndexedDbStore({ name: 'burst', indexedDB: new IDBFactory(), IDBKeyRange });
    await store.init();
    closer.close = () => store.close();
    const { sampleTask } = await import('../src/testing/index.js');
    const inputs = Array.from({ length: 300 }, (_, i) =>
      sampleTask({ orderingKey: `k${i % 5}`, nextAttemptAt: 0 }),
    );
    const stored = await Promise.all(inputs.map((t) => store.enqueue(t)));
    expect(stored.map((t) => t.id)).toEqual(inputs.map((t) => t.id));
    expect(stored.every((t, i) => i === 0 || t.seq > stored[i - 1]!.seq)).toBe(true);
    expect(await store.pendingCount()).toBe(300);
    expect((await store.dueTasks({ now: 0, limit: 10 })).map((t) => t.id)).toEqual(
      inputs.slice(0, 5).map((t) => t.id),
    );
  });

  it('keeps hot cache records in memory, and another context on the database invalidates them', async () => {
    const idb = new IDBFactory();
    const { HOT_ENTRY } = await import('../scripts/bench-fixtures.js');
    const tabA = new IndexedDbStore({ name: 'shared', indexedDB: idb, IDBKeyRange });
    const tabB = new IndexedDbStore({ name: 'shared', indexedDB: idb, IDBKeyRange });
    await Promise.all([tabA.init(), tabB.init()]);
    closer.close = async () => {
      await Promise.all([tabA.close(), tabB.close()]);
    };
    expect(await tabA.getCache('hot')).toBeUndefined(); // a miss, now known in memory
    await tabB.putCache({ ...HOT_ENTRY, status: 201 });
    await until(async () => (await tabA.getCache('hot'))?.status === 201);
    const copy = (await tabA.getCache('hot'))!;
    (copy.headers as Record<string, string>).mutated = 'yes';
    expect((await tabA.getCache('hot'))?.headers).toEqual({});
    await tabA.deleteCache('hot');
    await until(async () => (await tabB.getCache('hot')) === undefined);
    await tabB.putCache(HOT_ENTRY);
    await tabB.clear({ cache: true, outbox: false });
    await until(async () => (await tabA.getCache('hot')) === undefined);
  });

  it('steps aside when another context deletes the database, and reopens it on next use', async () => {
    const idb = new IDBFactory();
    const { sampleTask } = await import('../src/testing/index.js');
    const store = new IndexedDbStore({ name: 'doomed', indexedDB: idb, IDBKeyRange });
    await store.init();
    closer.close = () => store.close();
    await store.enqueue(sampleTask());
    const blocked = await new Promise<boolean>((resolve) => {
      const req = idb.deleteDatabase('doomed');
      req.onblocked = () => resolve(true);
      req.onsuccess = () => resolve(false);
    });
    expect(blocked).toBe(false);
    expect(await store.pendingCount()).toBe(0);
    await store.enqueue(sampleTask());
    expect(await store.pendingCount()).toBe(1);
  });

  it('a full disk fails the enqueue with a typed error, evicts the cache, and keeps the queue', async () => {
    const { IDBObjectStore: FakeObjectStore } = await import('fake-indexeddb');
    const { sampleTask } = await import('../src/testing/index.js');
    const { HOT_ENTRY } = await import('../scripts/bench-fixtures.js');
    const store = new IndexedDbStore({ name: 'full', indexedDB: new IDBFactory(), IDBKeyRange });
    await store.init();
    closer.close = () => store.close();
    const kept = await store.enqueue(sampleTask());
    await store.putCache(HOT_ENTRY);
    // Fault injection at the IndexedDB boundary: the next add hits the quota.
    const add = FakeObjectStore.prototype.add;
    FakeObjectStore.prototype.add = function (this: IDBObjectStore) {
      FakeObjectStore.prototype.add = add;
      throw new DOMException('quota', 'QuotaExceededError');
    };
    await expect(store.enqueue(sampleTask())).rejects.toMatchObject({
      code: 'storage',
      message: expect.stringContaining('quota'),
    });
    expect(await store.getCache('hot')).toBeUndefined();
    expect((await store.listTasks(10)).map((t) => t.id)).toEqual([kept.id]);
    await store.enqueue(sampleTask());
    expect(await store.pendingCount()).toBe(2);
  });
});
