import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { cancelCreate } from '../src/cancel-create.js';
import { coalescing } from '../src/coalescing.js';
import { encryptedStore } from '../src/encryption.js';
import { MemoryStore } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { closeAfterEach, drainAll, startHarness, until } from './helpers/harness.js';

const closer = closeAfterEach();

/** A client on fake-indexeddb: a store with real I/O, so drain lanes read their key ahead. */
async function pipelined(options: Parameters<typeof startHarness>[0] = {}) {
  const store = new IndexedDbStore({ indexedDB: new IDBFactory(), IDBKeyRange });
  const h = await startHarness({ autoSync: false, store, ...options });
  closer.close = h.close;
  return h;
}

describe('pipelined drain (stores with tasksAfter)', () => {
  it('delivers a long key in order, once each, with the store empty at the end', async () => {
    const h = await pipelined();
    for (let n = 0; n < 60; n++) await h.sync.post('/streams/long', { n });
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('long')).toEqual([...Array(60).keys()]);
    expect(h.server.effects).toHaveLength(60);
    expect(await h.sync.pendingCount()).toBe(0);
  });

  it('a write serialPasses after the lane read it ahead goes out as merged, never as read', async () => {
    const h = await pipelined({ plugins: [coalescing({ always: true }), cancelCreate()] });
    h.server.editItem('1', { title: 'base', qty: 1 });
    await h.sync.get('/items/1');
    h.server.fail({ kind: 'status', status: 503 });
    await h.sync.patch('/items/1', { title: 'a' });
    await h.sync.sync();
    // The first write was attempted, so the next one queues behind it.
    await h.sync.patch('/items/1', { qty: 2 });
    expect(await h.sync.pendingCount()).toBe(2);
    h.clock.advance(60_000);
    h.server.faultPolicy = (req) =>
      req.method === 'PATCH' ? { kind: 'slow', ms: 150 } : undefined;
    const draining = h.sync.sync();
    await until(() => h.server.requestsTo('PATCH', '/items/1').length === 2);
    // The lane holds the second write, read ahead; this changes it in the store.
    const late = await h.sync.patch('/items/1', { tags: { c: true } });
    expect(await h.sync.pendingCount()).toBe(2);
    await draining;
    await drainAll(h.sync, h.clock);
    await late.result;
    expect(h.server.items.get('1')?.value).toEqual({ title: 'a', qty: 2, tags: { c: true } });
  });

  it('clearing the outbox mid-drain sends nothing the lane had read ahead', async () => {
    const h = await pipelined();
    for (let n = 0; n < 10; n++) await h.sync.post('/streams/c', { n });
    h.server.faultPolicy = () => ({ kind: 'slow', ms: 150 });
    const draining = h.sync.sync();
    await until(() => h.server.requestsTo('POST', '/streams/c').length === 1);
    await h.sync.clear({ outbox: true });
    await draining;
    expect(h.server.requestsTo('POST', '/streams/c')).toHaveLength(1);
    expect(await h.sync.pendingCount()).toBe(0);
  });
});

describe('a drain that loses its lock (another context took over)', () => {
  let held = true;
  class LockedStore extends MemoryStore {
    async acquireDrainLock(): Promise<boolean> {
      return held;
    }
    holdsDrainLock(): boolean {
      return held;
    }
  }

  it('stops sending at once and leaves the rest queued', async () => {
    held = true;
    const h = await startHarness({ autoSync: false, store: new LockedStore(), concurrency: 1 });
    closer.close = h.close;
    for (let n = 0; n < 10; n++) await h.sync.post(`/streams/k${n}`, { n });
    h.server.faultPolicy = () => ({ kind: 'slow', ms: 100 });
    const draining = h.sync.sync();
    await until(() => h.server.requests.length === 1);
    held = false;
    await draining;
    expect(h.server.requests).toHaveLength(1);
    expect(await h.sync.pendingCount()).toBe(9);
  });

  it('the encrypted wrapper keeps the wrapped store’s channel name (the lock’s name) and its own drain lock', async () => {
    const inner = new IndexedDbStore({ name: 'wrapped', indexedDB: new IDBFactory(), IDBKeyRange });
    const wrapped = encryptedStore(inner, { passphrase: 'p', iterations: 1_000 });
    expect(wrapped.channelName).toBe(inner.channelName);
    held = false;
    const locked = encryptedStore(new LockedStore(), { passphrase: 'p', iterations: 1_000 });
    expect(await locked.acquireDrainLock?.()).toBe(false);
    expect(locked.holdsDrainLock?.()).toBe(false);
  });
});

describe('a write delivered but not yet removed', () => {
  it('cannot be cancelled as if never sent: the DELETE goes to the server', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    class SlowRemovals extends IndexedDbStore {
      override async removeTask(id: string): Promise<void> {
        await gate;
        return super.removeTask(id);
      }
    }
    const store = new SlowRemovals({ indexedDB: new IDBFactory(), IDBKeyRange });
    const h = await startHarness({ autoSync: false, store, plugins: [cancelCreate()] });
    closer.close = h.close;
    const first = await h.sync.post('/items', { title: 'a' });
    await h.sync.post('/items', { title: 'b' });
    const draining = h.sync.sync();
    await until(() => h.server.effects.length === 2);
    // The first write's removal is held back: to the store it still looks queued and untried.
    const deleting = h.sync.delete('/items/1', { cancels: first.id });
    await Promise.race([deleting, new Promise((resolve) => setTimeout(resolve, 500))]);
    open();
    const deleted = await deleting;
    await draining;
    await drainAll(h.sync, h.clock);
    expect((await deleted.result).fromCache).toBe(false);
    expect(h.server.requestsTo('DELETE', '/items/1')).toHaveLength(1);
    expect(h.server.items.has('1')).toBe(false);
  });

  it('sends the next write at the 2xx status, while the answer’s body is still coming', async () => {
    const h = await pipelined();
    const handles = [];
    for (let n = 0; n < 3; n++) handles.push(await h.sync.post('/streams/early', { n }));
    h.server.fail({ kind: 'slow-body', ms: 300 });
    await h.sync.sync();
    // When the first body ended, the later writes had already arrived.
    expect(h.server.bodiesEndedAt).toEqual([3]);
    expect(h.server.streams.get('early')).toEqual([0, 1, 2]);
    const results = await Promise.all(handles.map((m) => m.result));
    expect(results.map((r) => r.data)).toEqual([{ index: 0 }, { index: 1 }, { index: 2 }]);
    expect(await h.sync.pendingCount()).toBe(0);
  });
  // A body cut after the 2xx status: in delivery-suite.test.ts, over every store (this one too).
});
