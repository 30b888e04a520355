import { describe, expect, it } from 'vitest';
import { conflicts } from '../src/conflicts.js';
import { ConfigError, ConflictError, MemoryStore, QnoxSync } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();

async function withServer() {
  const server = new TestServer();
  const baseUrl = await server.start();
  return { server, baseUrl };
}

describe('options: groups, the seed names, and no typo left unsaid', () => {
  it('each group reaches what it configures', async () => {
    const { server, baseUrl } = await withServer();
    server.requireAuth = true;
    server.validTokens.add('t1');
    const clock = new ManualClock();
    const sync = await QnoxSync.create({
      baseUrl,
      store: new MemoryStore(),
      auth: { token: () => 't1' },
      cache: { ttlMs: 1_000, strategy: 'cacheFirst' },
      delivery: { autoSync: false, orderingKey: 'global' },
      plugins: [conflicts({ strategy: 'server-wins' })],
      platform: { clock, random: () => 0.5 },
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    // auth.token: every request carries it.
    await sync.get('/a');
    expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer t1');
    // cache.strategy and cache.ttlMs, on the platform clock.
    expect((await sync.get('/a')).fromCache).toBe(true);
    clock.advance(1_001);
    expect((await sync.get('/a')).fromCache).toBe(false);
    // delivery.autoSync: nothing leaves before sync(); delivery.orderingKey: one key for all.
    const w = await sync.post('/streams/g', { n: 1 });
    expect((await sync.pendingTasks(1))[0]?.orderingKey).toBe('global');
    expect(server.requestsTo('POST', '/streams/g')).toHaveLength(0);
    await drainAll(sync, clock);
    await expect(w.result).resolves.toMatchObject({ status: 201 });
    // conflicts({ strategy }): server-wins rejects the write and keeps theirs.
    server.editItem('1', { qty: 1 });
    await sync.get('/items/1', { strategy: 'networkFirst' });
    server.editItem('1', { qty: 9 });
    const c = await sync.patch('/items/1', { qty: 2 });
    await drainAll(sync, clock);
    expect(await c.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect(await sync.deadLetters()).toEqual([]);
  });

  it('the seed names still work, and a group’s name wins over the flat one', async () => {
    const { server, baseUrl } = await withServer();
    const sync = await QnoxSync.create({
      baseUrl,
      store: new MemoryStore(),
      authTokenProvider: () => 'seed',
      autoSync: true,
      delivery: { autoSync: false },
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    await sync.post('/streams/s', { n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requestsTo('POST', '/streams/s')).toHaveLength(0);
    await sync.sync();
    expect(server.requestsTo('POST', '/streams/s')[0]?.headers.authorization).toBe('Bearer seed');
    expect((await sync.get('/b', { cacheFirst: true })).status).toBe(200);
  });

  it('an unknown option or group field is a ConfigError naming it', async () => {
    const base = { baseUrl: 'http://127.0.0.1:1', store: new MemoryStore() };
    for (const [extra, option] of [
      [{ cacheTTL: 5 }, 'cacheTTL'],
      [{ cache: { ttl: 5 } }, 'cache.ttl'],
      [{ delivery: 4 }, 'delivery'],
      [{ platform: { clok: new ManualClock() } }, 'platform.clok'],
    ] as const) {
      const error = await QnoxSync.create({ ...base, ...(extra as object) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option });
    }
  });

  it('options that moved to plug-ins say where; the conflicts() plug-in checks its own', async () => {
    const base = { baseUrl: 'http://127.0.0.1:1', store: new MemoryStore() };
    for (const [extra, option] of [
      [{ conflicts: { strategy: 'merge' } }, 'conflicts'],
      [{ conflictStrategy: 'merge' }, 'conflictStrategy'],
      [{ maxConflictRounds: 2 }, 'maxConflictRounds'],
      [{ coalesce: true }, 'coalesce'],
      [{ delivery: { coalesce: true } }, 'delivery.coalesce'],
    ] as const) {
      const error = await QnoxSync.create({ ...base, ...(extra as object) }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        option,
        message: expect.stringMatching(/conflicts\(\)|coalescing\(\)/),
      });
    }
    for (const [bad, option] of [
      [{ strategy: 'mine' }, 'conflicts.strategy'],
      [{ maxRounds: 0 }, 'conflicts.maxRounds'],
      [{ tieBreaker: 'both' }, 'conflicts.tieBreaker'],
      [{ detect: 'yes' }, 'conflicts.detect'],
      [{ stratgy: 'merge' }, 'conflicts.stratgy'],
    ] as const) {
      expect(() => conflicts(bad as never)).toThrow(ConfigError);
      expect(() => conflicts(bad as never)).toThrow(expect.objectContaining({ option }));
    }
    const twice = await QnoxSync.create({ ...base, plugins: [conflicts(), conflicts()] }).catch(
      (e: unknown) => e,
    );
    expect(twice).toMatchObject({ option: 'plugins', message: expect.stringContaining('both') });
  });
});
