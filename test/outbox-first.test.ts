import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  type NewTaskRecord,
  QnoxSync,
  StorageError,
  type TaskRecord,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

/** A memory store that logs when each enqueue became durable, and can be made to fail. */
class LoggingStore extends MemoryStore {
  readonly log: string[] = [];
  failEnqueue = false;
  override async enqueue(task: NewTaskRecord): Promise<TaskRecord> {
    if (this.failEnqueue) throw new Error('disk full');
    const stored = await super.enqueue(task);
    this.log.push(`stored ${task.idempotencyKey}`);
    return stored;
  }
}

const closer = closeAfterEach();

describe('invariant 1: outbox first', () => {
  it('stores the write before the first network attempt', async () => {
    const store = new LoggingStore();
    const server = new TestServer();
    const baseUrl = await server.start();
    const sync = await QnoxSync.create({ baseUrl, store, clock: new ManualClock() });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    server.faultPolicy = (req) => {
      store.log.push(`received ${req.idempotencyKey}`);
      return undefined;
    };
    const m = await sync.post('/streams/a', { n: 1 });
    await m.result;
    expect(store.log).toEqual([`stored ${m.idempotencyKey}`, `received ${m.idempotencyKey}`]);
  });

  it('resolves while the server is unreachable, and the write is in the store', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.down = true;
    const m = await h.sync.post('/streams/a', { n: 1 });
    expect(await h.sync.pendingCount()).toBe(1);
    expect((await h.sync.pendingTasks()).map((t) => t.idempotencyKey)).toEqual([m.idempotencyKey]);
  });

  it('a write queued by one client is delivered by the next one on the same store (restart)', async () => {
    const store = new MemoryStore();
    const server = new TestServer();
    const baseUrl = await server.start();
    server.down = true;
    // The first client is abandoned mid-outage, as a crashed process would be; its clock never moves again.
    const first = await QnoxSync.create({ baseUrl, store, clock: new ManualClock() });
    const m = await first.post('/streams/a', { n: 7 });
    await first.sync();
    server.down = false;
    const clock = new ManualClock();
    const second = await QnoxSync.create({ baseUrl, store, clock });
    closer.close = async () => {
      await server.stop();
    };
    await drainAll(second, clock);
    expect(server.streams.get('a')).toEqual([7]);
    expect(
      server.requestsTo('POST', '/streams/a').every((r) => r.idempotencyKey === m.idempotencyKey),
    ).toBe(true);
    await second.dispose();
  });

  it('a store failure rejects the call with a StorageError and sends nothing', async () => {
    const store = new LoggingStore();
    const h = await startHarness({ store });
    closer.close = h.close;
    store.failEnqueue = true;
    const error = await h.sync.post('/streams/a', { n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('storage');
    expect(h.server.requestsTo('POST', '/')).toHaveLength(0);
  });

  it('a queued body cannot be changed by the caller after enqueue', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.down = true;
    const order = { n: 1 };
    await h.sync.post('/streams/a', order);
    order.n = 99;
    h.server.down = false;
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('a')).toEqual([1]);
  });
});
