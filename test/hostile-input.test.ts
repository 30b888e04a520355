import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStore, QnoxSync } from '../src/index.js';
import { SqliteStore } from '../src/node.js';
import { MAX_TIMER_MS, systemClock } from '../src/platform/clock.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'qnox-hostile-'));
let n = 0;

describe('absurd Retry-After values', () => {
  it('a Retry-After beyond maxDelayMs (and one of 400 digits) is capped, stored finite, and the write still settles on SQLite', async () => {
    const store = new SqliteStore({ path: join(dir, `retry-after-${++n}.db`) });
    const h = await startHarness({ autoSync: false, store, retry: { maxDelayMs: 60_000 } });
    closer.close = h.close;
    h.server.fail(
      { kind: 'status', status: 503, retryAfter: '9'.repeat(400) },
      { kind: 'status', status: 429, retryAfter: String(40 * 24 * 3600) },
    );
    const write = await h.sync.post('/streams/a', { n: 1 });
    await h.sync.sync();
    const [task] = await h.sync.pendingTasks(1);
    expect(Number.isFinite(task?.nextAttemptAt)).toBe(true);
    expect(task!.nextAttemptAt - h.clock.now()).toBe(60_000);
    expect(h.sync.onSyncStatus.value.nextRetryAt).toBe(h.clock.now() + 60_000);
    expect(await h.sync.deadLetters()).toEqual([]);
    h.clock.advance(60_000);
    await h.sync.sync();
    expect((await h.sync.pendingTasks(1))[0]!.nextAttemptAt - h.clock.now()).toBe(60_000);
    await drainAll(h.sync, h.clock);
    expect((await write.result).status).toBe(201);
  });

  for (const value of ['1.5', '-5', '+3', '2026-01-01']) {
    it(`Retry-After: ${value} is not a date in the past: the write backs off as usual`, async () => {
      const h = await startHarness({ autoSync: false });
      closer.close = h.close;
      h.server.fail({ kind: 'status', status: 503, retryAfter: value });
      await h.sync.post('/streams/a', { n: 1 });
      await h.sync.sync();
      // Full jitter at random 0.5 of the first ceiling (1000 ms).
      expect(h.sync.onSyncStatus.value.nextRetryAt).toBe(h.clock.now() + 500);
    });
  }

  it('the system clock never hands a platform timer more than it can hold', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    let fired = 0;
    const handle = systemClock.setTimeout(() => fired++, MAX_TIMER_MS * 10);
    const nan = systemClock.setTimeout(() => fired++, Number.NaN);
    await new Promise((resolve) => setTimeout(resolve, 30));
    systemClock.clearTimeout(handle);
    systemClock.clearTimeout(nan);
    process.off('warning', onWarning);
    expect(fired).toBe(0);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});

describe('SqliteStore refuses databases that do not survive a restart', () => {
  for (const path of ['', '   ', ':memory:', 'file::memory:?cache=shared', 'file:x?mode=memory']) {
    it(`path ${JSON.stringify(path)} is a ConfigError naming "path"`, () => {
      expect(() => new SqliteStore({ path })).toThrow(
        expect.objectContaining({ code: 'config', option: 'path' }),
      );
    });
  }

  it(':memory: opens when asked for explicitly', async () => {
    const store = new SqliteStore({ path: ':memory:', ephemeral: true });
    await store.init();
    expect(await store.pendingCount()).toBe(0);
    await store.close();
  });
});

describe('bodies JSON would mangle are refused at the call', () => {
  const bad: [string, unknown][] = [
    ['Blob', new Blob(['x'])],
    ['FormData', new FormData()],
    ['ArrayBuffer', new ArrayBuffer(4)],
    ['Uint8Array', new Uint8Array([98, 99])],
    ['URLSearchParams', new URLSearchParams('a=1')],
    ['Map', new Map([['a', 1]])],
    ['Set', new Set([1])],
    ['a top-level Date', new Date(0)],
    ['NaN inside', { qty: Number.NaN }],
    ['Infinity inside', [1, Number.POSITIVE_INFINITY]],
    ['a BigInt', { n: 1n }],
    ['a Map inside', { tags: new Map() }],
    ['a function inside', { f: () => 1 }],
  ];
  for (const [what, data] of bad) {
    it(`${what}: ConfigError('data'), nothing queued`, async () => {
      const h = await startHarness({ autoSync: false });
      closer.close = h.close;
      await expect(h.sync.post('/streams/a', data)).rejects.toMatchObject({
        code: 'config',
        option: 'data',
      });
      expect(await h.sync.pendingCount()).toBe(0);
    });
  }

  it('a Date inside an object goes out as its ISO string; strings and plain JSON unchanged', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    await h.sync.post('/streams/a', { n: 1, at: new Date(0) });
    await h.sync.post('/text-in', 'plain');
    await drainAll(h.sync, h.clock);
    const [json, text] = h.server.requests.filter((r) => r.method === 'POST');
    expect(JSON.parse(json!.body)).toEqual({ n: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(json!.headers['content-type']).toBe('application/json');
    expect(text!.body).toBe('plain');
  });

  it('retryDeadLetter(id, { data }) validates the same way and leaves the dead letter in place', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    h.server.fail({ kind: 'status', status: 400 });
    const write = await h.sync.post('/streams/a', { n: 1 });
    write.result.catch(() => {});
    await drainAll(h.sync, h.clock);
    await expect(h.sync.retryDeadLetter(write.id, { data: new Map() })).rejects.toMatchObject({
      code: 'config',
      option: 'data',
    });
    expect(await h.sync.deadLetters()).toHaveLength(1);
    expect(await h.sync.pendingCount()).toBe(0);
  });
});

describe('one bad write never rolls back its neighbours', () => {
  it('SQLite: a write that fails in the same group commit as three good ones fails alone', async () => {
    const store = new SqliteStore({ path: join(dir, `group-${++n}.db`) });
    await store.init();
    const { sampleTask } = await import('../src/testing/index.js');
    const good = [1, 2, 3].map((i) => sampleTask({ orderingKey: `k${i}` }));
    const twin = { ...good[0]!, orderingKey: 'dup' };
    const results = await Promise.allSettled([...good, twin].map((t) => store.enqueue(t)));
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    expect(await store.pendingCount()).toBe(3);
    await store.close();
  });

  it('a retryDeadLetter with bad data in the same tick as three posts fails alone', async () => {
    const store = new SqliteStore({ path: join(dir, `group-${++n}.db`) });
    const h = await startHarness({ autoSync: false, store });
    closer.close = h.close;
    h.server.fail({ kind: 'status', status: 400 });
    const dead = await h.sync.post('/streams/a', { n: 0 });
    dead.result.catch(() => {});
    await drainAll(h.sync, h.clock);
    const calls = await Promise.allSettled([
      h.sync.retryDeadLetter(dead.id, { data: { n: 10n } }),
      h.sync.post('/streams/b', { n: 1 }),
      h.sync.post('/streams/b', { n: 2 }),
      h.sync.post('/streams/b', { n: 3 }),
    ]);
    expect(calls.map((c) => c.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('b')).toEqual([1, 2, 3]);
  });
});

describe('clock jumps', () => {
  it('a write due far beyond maxDelayMs (the wall clock went back a day) is sent by the next sync()', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const store = new MemoryStore();
    const later = new ManualClock(Date.UTC(2026, 5, 2));
    const before = await QnoxSync.create({
      baseUrl,
      store,
      clock: later,
      autoSync: false,
      random: () => 0.5,
    });
    server.fail({ kind: 'status', status: 503, retryAfter: '200' });
    await before.post('/streams/a', { n: 1 });
    await before.sync();
    await before.dispose();
    const earlier = new ManualClock(Date.UTC(2026, 5, 1));
    const after = await QnoxSync.create({ baseUrl, store, clock: earlier, autoSync: false });
    closer.close = async () => {
      await after.dispose();
      await server.stop();
    };
    const report = await after.sync();
    expect(report.delivered).toBe(1);
    expect(server.streams.get('a')).toEqual([1]);
  });
});
