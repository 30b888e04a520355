import { describe, expect, it } from 'vitest';
import { MemoryStore, manualConnectivity, QnoxSync, type SyncPhase } from '../src/index.js';
import { Emitter, ValueStream } from '../src/status/subscribable.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll, startHarness, until } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();

describe('status stream and connectivity', () => {
  it('walks offline → checkingConnectivity → syncing → idle as the server goes and comes back', async () => {
    const h = await startHarness();
    closer.close = h.close;
    const phases: SyncPhase[] = [];
    h.sync.onSyncStatus.subscribe((s) => {
      if (phases.at(-1) !== s.phase) phases.push(s.phase);
    });
    h.server.down = true;
    const m = await h.sync.post('/streams/a', { n: 1 });
    await until(() => h.sync.onSyncStatus.value.phase === 'offline');
    expect(h.sync.onSyncStatus.value).toMatchObject({ online: false, pending: 1 });
    expect((await h.sync.pendingTasks())[0]?.attempts).toBe(0);
    h.server.down = false;
    h.clock.advanceToNextTimer();
    await m.result;
    await until(() => h.sync.onSyncStatus.value.phase === 'idle');
    expect(phases).toEqual([
      'syncing',
      'checkingConnectivity',
      'offline',
      'checkingConnectivity',
      'idle',
      'syncing',
      'idle',
    ]);
    expect(h.sync.onSyncStatus.value).toMatchObject({
      pending: 0,
      online: true,
      lastSyncAt: h.clock.now(),
    });
  });

  it('keeps probing with backoff while the server stays down, without charging attempts', async () => {
    const h = await startHarness({ retry: { maxAttempts: 2 } });
    closer.close = h.close;
    h.server.down = true;
    await h.sync.post('/streams/a', { n: 1 });
    await until(() => h.sync.onSyncStatus.value.phase === 'offline');
    for (let i = 0; i < 10; i++) {
      h.clock.advanceToNextTimer();
      await until(() => h.sync.onSyncStatus.value.phase === 'offline');
    }
    expect(await h.sync.deadLetters()).toEqual([]);
    h.server.down = false;
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('a')).toEqual([1]);
  });

  it('checkConnectivity() looks again at once, without waiting out the probe backoff', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.down = true;
    const m = await h.sync.post('/streams/now', { n: 1 });
    await until(() => h.sync.onSyncStatus.value.phase === 'offline');
    expect(await h.sync.checkConnectivity()).toBe(false);
    h.server.down = false;
    // No clock movement: the backed-off probe timer has not fired.
    expect(await h.sync.checkConnectivity()).toBe(true);
    await expect(m.result).resolves.toMatchObject({ status: 201 });
    expect(h.server.streams.get('now')).toEqual([1]);
  });

  it('waits while the platform says offline and drains on the online event', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const connectivity = manualConnectivity(false);
    const sync = await QnoxSync.create({
      baseUrl,
      connectivity,
      clock: new ManualClock(),
      store: new MemoryStore(),
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    const m = await sync.post('/streams/a', { n: 1 });
    await sync.sync();
    expect(server.requests).toHaveLength(0);
    expect(sync.onSyncStatus.value.phase).toBe('offline');
    connectivity.set(true);
    await expect(m.result).resolves.toMatchObject({ status: 201 });
  });

  it('reports queued, sent, retry-scheduled and dead-lettered events in order', async () => {
    const h = await startHarness();
    closer.close = h.close;
    const types: string[] = [];
    h.sync.events.subscribe((e) => types.push(e.type));
    h.server.fail({ kind: 'status', status: 500 }, { kind: 'status', status: 400 });
    await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    expect(types).toEqual(['queued', 'retry-scheduled', 'dead-lettered']);
  });

  it('concurrent sync() calls share one drain', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    h.server.faultPolicy = () => ({ kind: 'slow', ms: 5 });
    for (let i = 0; i < 5; i++) await h.sync.post('/streams/a', { n: i });
    const reports = await Promise.all([h.sync.sync(), h.sync.sync(), h.sync.sync()]);
    expect(reports[0]).toBe(reports[1]);
    expect(reports[0]?.delivered).toBe(5);
    expect(h.server.requests).toHaveLength(5);
  });

  it('callers get read-only streams: subscribe, value, for await; no emit, no set', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    expect('emit' in h.sync.events).toBe(false);
    expect('set' in h.sync.onSyncStatus).toBe(false);
    expect(h.sync.onSyncStatus.value.pending).toBe(0);
    const phases: number[] = [];
    const done = (async () => {
      for await (const s of h.sync.onSyncStatus) {
        phases.push(s.pending);
        if (s.pending === 1) break;
      }
    })();
    const types: string[] = [];
    const off = h.sync.events.subscribe((e) => types.push(e.type));
    await h.sync.post('/streams/a', { n: 1 });
    await done;
    off();
    expect(phases).toEqual([0, 1]);
    expect(types).toEqual(['queued']);
  });

  it('the status is async-iterable, current value first', async () => {
    const stream = new ValueStream(1);
    const seen: number[] = [];
    const done = (async () => {
      for await (const v of stream) {
        seen.push(v);
        if (v === 3) break;
      }
    })();
    stream.set(2);
    stream.set(3);
    await done;
    expect(seen).toEqual([1, 2, 3]);
    expect(stream.listenerCount).toBe(0);
  });

  it('a throwing listener neither stops other listeners nor the engine', async () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<number>((e) => errors.push(e));
    const got: number[] = [];
    emitter.subscribe(() => {
      throw new Error('bad listener');
    });
    emitter.subscribe((v) => got.push(v));
    emitter.emit(1);
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
  });
});
