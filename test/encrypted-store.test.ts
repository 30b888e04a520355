import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { encryptedStore } from '../src/encryption.js';
import { MemoryStore, type QnoxLocalStore, QnoxSync } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { ManualClock, runStoreConformance } from '../src/testing/index.js';
import { closeAfterEach, drainAll } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const newKey = () =>
  crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

async function tamper(inner: QnoxLocalStore, id: string): Promise<void> {
  const row = await inner.getTask?.(id);
  const value = row?.body?.value as string;
  const flipped = `${value.slice(0, -4)}${value.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  await inner.updateTask({ ...row!, body: { kind: 'text', value: flipped } });
}

let inner: MemoryStore;
runStoreConformance(
  'encryptedStore(MemoryStore, key)',
  {
    async create() {
      inner = new MemoryStore();
      return encryptedStore(inner, { key: await newKey() });
    },
    corrupt: (_store, id) => tamper(inner, id),
  },
  { describe, it },
);

const idb = new IDBFactory();
let n = 0;
runStoreConformance(
  'encryptedStore(IndexedDbStore, passphrase)',
  {
    create: () =>
      encryptedStore(new IndexedDbStore({ name: `enc-${++n}`, indexedDB: idb, IDBKeyRange }), {
        passphrase: 'correct horse',
        iterations: 1_000,
      }),
    async reopen(store) {
      await store.close();
      const again = encryptedStore(
        new IndexedDbStore({ name: `enc-${n}`, indexedDB: idb, IDBKeyRange }),
        {
          passphrase: 'correct horse',
          iterations: 1_000,
        },
      );
      await again.init();
      return again;
    },
  },
  { describe, it },
);

describe('encryption at rest', () => {
  const closer = closeAfterEach();

  it('keeps no plaintext of a canary body, URL, header or cached response in the raw IndexedDB records', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const factory = new IDBFactory();
    const store = encryptedStore(
      new IndexedDbStore({ name: 'canary', indexedDB: factory, IDBKeyRange }),
      {
        passphrase: 'pw',
        iterations: 1_000,
      },
    );
    const sync = await QnoxSync.create({
      baseUrl,
      store,
      clock: new ManualClock(),
      autoSync: false,
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    await sync.post(
      '/streams/CANARY-PATH',
      { secret: 'CANARY-BODY' },
      { headers: { 'x-note': 'CANARY-HEADER' } },
    );
    await sync.get('/CANARY-GET');
    // An optimistic layer keeps the body it replaced: that must be sealed too.
    server.editItem('7', { note: 'CANARY-BEFORE' });
    await sync.get('/items/7');
    await sync.patch('/items/7', { note: 'x' }, { optimistic: () => ({ note: 'x' }) });
    const dump = await dumpDatabase(factory, 'canary');
    expect(dump.length).toBeGreaterThan(200);
    expect(dump).not.toMatch(/CANARY/);
  });

  it('a wrong passphrase or key fails the open with a typed error and touches nothing; the right one delivers all', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const shared = new MemoryStore();
    const right = { passphrase: 'right', iterations: 1_000 };
    const writer = await QnoxSync.create({
      baseUrl,
      store: encryptedStore(shared, right),
      clock: new ManualClock(),
      autoSync: false,
    });
    for (let n = 0; n < 3; n++) await writer.post('/streams/a', { n });
    await writer.dispose();
    const clock = new ManualClock();
    const wrong = { passphrase: 'wrong', iterations: 1_000 };
    await expect(
      QnoxSync.create({ baseUrl, store: encryptedStore(shared, wrong), clock }),
    ).rejects.toMatchObject({ code: 'config', option: 'passphrase' });
    await expect(
      QnoxSync.create({ baseUrl, store: encryptedStore(shared, { key: await newKey() }), clock }),
    ).rejects.toMatchObject({ code: 'config', option: 'key' });
    expect(await shared.deadLetterCount()).toBe(0);
    expect(await shared.pendingCount()).toBe(3);
    const reader = await QnoxSync.create({ baseUrl, store: encryptedStore(shared, right), clock });
    closer.close = async () => {
      await reader.dispose();
      await server.stop();
    };
    await drainAll(reader, clock);
    expect(server.streams.get('a')).toEqual([0, 1, 2]);
  });

  it('a tampered record is quarantined and reported; its neighbours still go out', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const shared = new MemoryStore();
    const options = { key: await newKey() };
    const clock = new ManualClock();
    const sync = await QnoxSync.create({
      baseUrl,
      store: encryptedStore(shared, options),
      clock,
      autoSync: false,
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    const bad = await sync.post('/streams/a', { n: 1 });
    bad.result.catch(() => {});
    await sync.post('/streams/b', { n: 2 });
    const row = await shared.getTask(bad.id);
    await shared.updateTask({ ...row!, body: { kind: 'text', value: 'AAAA.BBBB' } });
    const events: string[] = [];
    sync.events.subscribe((e) => events.push(e.type));
    await drainAll(sync, clock);
    expect(events).toContain('quarantined');
    expect(server.streams.get('b')).toEqual([2]);
    const [dead] = await sync.deadLetters();
    expect(dead?.reason).toBe('quarantined');
    expect((await sync.quarantined()).map((q) => q.id)).toEqual([bad.id]);
    await expect(sync.retryDeadLetter(dead!.task.id)).rejects.toMatchObject({ code: 'storage' });
  });

  it('quarantine is reversible: a quarantined write that reads again can be retried and delivered', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const store = new MemoryStore();
    const clock = new ManualClock();
    const sync = await QnoxSync.create({ baseUrl, store, clock, autoSync: false });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    const write = await sync.post('/streams/q', { n: 9 });
    write.result.catch(() => {});
    const task = await store.getTask(write.id);
    await store.addDeadLetter({ v: 1, task: task!, reason: 'quarantined', failedAt: clock.now() });
    const again = await sync.retryDeadLetter(write.id);
    expect(again.idempotencyKey).toBe(write.idempotencyKey);
    await drainAll(sync, clock);
    expect((await again.result).status).toBe(201);
    expect(server.streams.get('q')).toEqual([9]);
    expect(await sync.deadLetters()).toEqual([]);
  });

  it('rejects a key that is not AES-GCM with a config error', async () => {
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const store = encryptedStore(new MemoryStore(), { key: hmac as CryptoKey });
    await expect(store.init()).rejects.toMatchObject({ code: 'config', option: 'key' });
  });
});

async function dumpDatabase(factory: IDBFactory, name: string): Promise<string> {
  const db = await new Promise<IDBDatabase>((resolve) => {
    const req = factory.open(name);
    req.onsuccess = () => resolve(req.result);
  });
  const parts: unknown[] = [];
  for (const storeName of Array.from(db.objectStoreNames)) {
    const all = await new Promise<unknown[]>((resolve) => {
      const req = db.transaction(storeName).objectStore(storeName).getAll();
      req.onsuccess = () => resolve(req.result);
    });
    parts.push(all);
  }
  db.close();
  return JSON.stringify(parts);
}
