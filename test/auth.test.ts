import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

describe('invariant 6 and auth: tokens at send time, one refresh, pause on failure', () => {
  it('adds the current token at send time and never stores it', async () => {
    let token = 'first';
    const store = new MemoryStore();
    const h = await startHarness({ store, authTokenProvider: () => token, autoSync: false });
    closer.close = h.close;
    h.server.requireAuth = true;
    h.server.validTokens.add('second');
    await h.sync.post('/streams/a', { n: 1 });
    expect(JSON.stringify(await store.listTasks(10))).not.toContain('first');
    token = 'second';
    await drainAll(h.sync, h.clock);
    expect(h.server.requests.at(-1)?.headers.authorization).toBe('Bearer second');
    expect(h.server.streams.get('a')).toEqual([1]);
  });

  it('50 concurrent 401s cause exactly one refresh, then every write goes through', async () => {
    let token = 'expired';
    let refreshes = 0;
    const h = await startHarness({
      concurrency: 50,
      autoSync: false,
      authTokenProvider: () => token,
      refreshToken: async () => {
        refreshes++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        token = 'fresh';
        return true;
      },
    });
    closer.close = h.close;
    h.server.requireAuth = true;
    h.server.validTokens.add('fresh');
    h.server.faultPolicy = () => ({ kind: 'slow', ms: 10 });
    for (let i = 0; i < 50; i++) await h.sync.post(`/streams/k${i}`, { n: i });
    const reads = Array.from({ length: 10 }, () =>
      h.sync.get('/items', { strategy: 'networkOnly' }),
    );
    await drainAll(h.sync, h.clock);
    await Promise.all(reads);
    expect(refreshes).toBe(1);
    expect(h.server.effects).toHaveLength(50);
    expect(
      h.server.requests.filter((r) => r.headers.authorization === 'Bearer expired').length,
    ).toBeGreaterThan(1);
  });

  it('a failed refresh pauses delivery in authRequired, drops nothing, and resume() continues', async () => {
    let token = 'bad';
    const h = await startHarness({ authTokenProvider: () => token, refreshToken: () => false });
    closer.close = h.close;
    h.server.requireAuth = true;
    h.server.validTokens.add('good');
    const events: string[] = [];
    h.sync.events.subscribe((e) => events.push(e.type));
    const a = await h.sync.post('/streams/a', { n: 1 });
    await h.sync.post('/streams/b', { n: 2 });
    await drainAll(h.sync, h.clock);
    expect(h.sync.onSyncStatus.value.phase).toBe('authRequired');
    expect(events).toContain('auth-required');
    expect(await h.sync.pendingCount()).toBe(2);
    expect(await h.sync.deadLetters()).toEqual([]);
    const before = h.server.requests.length;
    await h.sync.post('/streams/c', { n: 3 });
    await h.sync.sync();
    expect(h.server.requests.length).toBe(before);

    token = 'good';
    h.sync.resume();
    await drainAll(h.sync, h.clock);
    await expect(a.result).resolves.toMatchObject({ status: 201 });
    expect(h.server.effects).toHaveLength(3);
    expect(h.sync.onSyncStatus.value.phase).toBe('idle');
  });

  it('a refresh that throws is treated as failed, not as a crash', async () => {
    const h = await startHarness({
      authTokenProvider: () => 'x',
      refreshToken: () => {
        throw new Error('identity provider down');
      },
    });
    closer.close = h.close;
    h.server.requireAuth = true;
    await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    expect(h.sync.onSyncStatus.value.phase).toBe('authRequired');
    expect(await h.sync.pendingCount()).toBe(1);
  });

  it('a GET answered 401 after a failed refresh rejects with an AuthError', async () => {
    const h = await startHarness({ refreshToken: () => false });
    closer.close = h.close;
    h.server.requireAuth = true;
    await expect(h.sync.get('/items')).rejects.toMatchObject({ code: 'auth' });
  });
});
