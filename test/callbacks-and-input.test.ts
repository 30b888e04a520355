import { describe, expect, it } from 'vitest';
import { conflicts } from '../src/conflicts.js';
import { MemoryStore, QnoxSync, type SyncEvent } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();

async function harness(options: Parameters<typeof startHarness>[0] = {}) {
  const h = await startHarness({ autoSync: false, ...options });
  closer.close = h.close;
  const events: SyncEvent[] = [];
  h.sync.events.subscribe((e) => events.push(e));
  return { ...h, events };
}

describe('app callbacks that throw fail their own call or write, typed; the engine keeps going', () => {
  it('authTokenProvider throwing once: that attempt is retried, later writes flow, GET rejects typed', async () => {
    let calls = 0;
    const h = await harness({
      authTokenProvider: () => {
        calls++;
        if (calls === 1) throw new Error('keychain locked');
        return 'tok';
      },
    });
    const a = await h.sync.post('/streams/a', { n: 1 });
    const b = await h.sync.post('/streams/b', { n: 2 });
    await drainAll(h.sync, h.clock);
    expect((await a.result).status).toBe(201);
    expect((await b.result).status).toBe(201);
    expect(h.events.some((e) => e.type === 'storage-error')).toBe(false);
    expect(h.sync.onSyncStatus.value.phase).toBe('idle');
    const failing = await harness({
      authTokenProvider: () => {
        throw new Error('nope');
      },
    });
    await expect(failing.sync.get('/x')).rejects.toMatchObject({ code: 'auth' });
  });

  it('a token ending in a newline fails that request as auth, and never makes the client offline', async () => {
    const h = await harness({ authTokenProvider: () => 'tok\n', retry: { maxAttempts: 2 } });
    const write = await h.sync.post('/streams/a', { n: 1 });
    write.result.catch(() => {});
    await drainAll(h.sync, h.clock);
    await expect(write.result).rejects.toMatchObject({ code: 'auth' });
    expect(h.sync.onSyncStatus.value.online).toBe(true);
    expect(h.server.requestsTo('POST', '/streams')).toHaveLength(0);
  });

  it('a throwing invalidates or cacheScope still settles the delivered write', async () => {
    for (const options of [
      {
        invalidates: () => {
          throw new Error('bad');
        },
      },
      {
        cacheScope: () => {
          throw new Error('bad');
        },
      },
    ]) {
      const h = await harness(options);
      const write = await h.sync.post('/streams/a', { n: 1 });
      await drainAll(h.sync, h.clock);
      expect((await write.result).status).toBe(201);
      expect(h.events.some((e) => e.type === 'callback-error')).toBe(true);
      expect(await h.sync.pendingCount()).toBe(0);
      await h.close();
    }
  });

  it('a throwing cacheScope rejects the GET with a CallbackError', async () => {
    const h = await harness({
      cacheScope: () => {
        throw new Error('who am i');
      },
    });
    await expect(h.sync.get('/x')).rejects.toMatchObject({
      code: 'callback',
      callback: 'cacheScope',
    });
  });

  it('a throwing conflictDetector leaves no sent write queued', async () => {
    const h = await harness({
      plugins: [
        conflicts({
          detect: () => {
            throw new Error('bad');
          },
        }),
      ],
    });
    const write = await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    expect((await write.result).status).toBe(201);
    expect(await h.sync.pendingCount()).toBe(0);
    expect(h.events.filter((e) => e.type === 'callback-error')).toHaveLength(1);
  });

  it('a throwing merge parks the write as a conflict with a CallbackError; the next write still goes', async () => {
    const h = await harness({
      plugins: [
        conflicts({
          strategy: 'merge',
          merge: () => {
            throw new Error('cannot merge');
          },
        }),
      ],
    });
    h.server.editItem('1', { title: 'base' });
    await h.sync.get('/items/1');
    h.server.editItem('1', { title: 'theirs' });
    const write = await h.sync.patch('/items/1', { title: 'mine' });
    write.result.catch(() => {});
    const other = await h.sync.post('/streams/z', { n: 1 });
    await drainAll(h.sync, h.clock);
    await expect(write.result).rejects.toMatchObject({ code: 'callback' });
    expect((await h.sync.deadLetters())[0]?.reason).toBe('conflict');
    expect((await other.result).status).toBe(201);
  });
});

describe('no timer outlives dispose()', () => {
  it('a probe in flight at dispose() does not schedule the next one', async () => {
    const server = new TestServer();
    await server.start();
    const clock = new ManualClock();
    const sync = await QnoxSync.create({ baseUrl: server.url, store: new MemoryStore(), clock });
    server.faultPolicy = () => ({ kind: 'slow', ms: 200 });
    server.down = false;
    await server.stop();
    await sync.get('/x').catch(() => {});
    await sync.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('input that can never be sent is refused at the call', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['a header value with a newline', { headers: { 'x-a': 'v\nx' } }, 'headers'],
    ['a non-Latin-1 header value', { headers: { 'x-a': 'ünï€' } }, 'headers'],
    ['a header name with a space', { headers: { 'x a': 'v' } }, 'headers'],
    ['an idempotencyKey with CRLF', { idempotencyKey: 'k\r\nx: y' }, 'idempotencyKey'],
    ['a numeric idempotencyKey', { idempotencyKey: 42 }, 'idempotencyKey'],
    ['an idempotencyKey of 256 chars', { idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey'],
    ['timeoutMs of 1e12', { timeoutMs: 1e12 }, 'timeoutMs'],
  ];
  for (const [what, options, option] of bad) {
    it(`${what}: ConfigError(${option}), nothing queued`, async () => {
      const h = await harness();
      await expect(h.sync.post('/streams/a', { n: 1 }, options as never)).rejects.toMatchObject({
        code: 'config',
        option,
      });
      expect(await h.sync.pendingCount()).toBe(0);
    });
  }

  it('a URL with credentials is refused and nothing of it is stored', async () => {
    const h = await harness();
    const url = h.server.url.replace('http://', 'http://user:pw@');
    await expect(h.sync.post(`${url}/streams/a`, { n: 1 })).rejects.toMatchObject({
      code: 'config',
      option: 'path',
    });
    expect(await h.sync.pendingCount()).toBe(0);
  });

  it('a path that climbs out of the base path is refused; url() is normalised', async () => {
    const server = new TestServer();
    await server.start();
    const sync = await QnoxSync.create({
      baseUrl: `${server.url}/v1`,
      store: new MemoryStore(),
      autoSync: false,
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    await expect(sync.post('/../admin', { n: 1 })).rejects.toMatchObject({ option: 'path' });
    await expect(sync.get('/a/../../admin')).rejects.toMatchObject({ option: 'path' });
    expect(sync.url('/a/./b/../c')).toBe(`${server.url}/v1/a/c`);
    await expect(sync.post(42 as never, {})).rejects.toMatchObject({ option: 'path' });
  });

  it("a caller's Idempotency-Key header is the key, sent once; a caller's Authorization on GET replaces the provider's", async () => {
    const h = await harness({ authTokenProvider: () => 'provided' });
    const write = await h.sync.post(
      '/streams/a',
      { n: 1 },
      { headers: { 'Idempotency-Key': 'mine-1' } },
    );
    expect(write.idempotencyKey).toBe('mine-1');
    await drainAll(h.sync, h.clock);
    const [post] = h.server.requestsTo('POST', '/streams/a');
    expect(post?.headers['idempotency-key']).toBe('mine-1');
    await h.sync.get('/x', { headers: { Authorization: 'Bearer own' } });
    expect(h.server.requestsTo('GET', '/x')[0]?.headers.authorization).toBe('Bearer own');
  });

  it('after dispose(), every call rejects (none throws synchronously)', async () => {
    const h = await harness();
    await h.sync.dispose();
    const calls = [
      () => h.sync.get('/x'),
      () => h.sync.post('/x', {}),
      () => h.sync.sync(),
      () => h.sync.checkConnectivity(),
      () => h.sync.pendingCount(),
      () => h.sync.deadLetters(),
      () => h.sync.retryDeadLetter('x'),
    ];
    for (const call of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }).not.toThrow();
      await expect(promise).rejects.toMatchObject({ code: 'cancelled' });
    }
  });
});

describe('bad option shapes are ConfigErrors naming the option', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['connectivity', { connectivity: {} }],
    ['clock', { clock: {} }],
    ['authTokenProvider', { authTokenProvider: 'tok' }],
    ['allowedOrigins', { allowedOrigins: ['data:,x'] }],
    ['timeoutMs', { timeoutMs: 1e12 }],
    ['store', { store: {} }],
    ['baseUrl', { baseUrl: 'https://user:pw@api.example' }],
  ];
  for (const [option, extra] of cases) {
    it(`${option}: ${JSON.stringify(extra)}`, async () => {
      await expect(
        QnoxSync.create({
          baseUrl: 'https://api.example',
          store: new MemoryStore(),
          ...extra,
        } as never),
      ).rejects.toMatchObject({ code: 'config', option });
    });
  }
});
