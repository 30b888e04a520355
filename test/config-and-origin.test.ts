import { describe, expect, it } from 'vitest';
import { ConfigError, isQnoxError, OriginError, QnoxSync } from '../src/index.js';
import { closeAfterEach, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

describe('bad options fail at create with a config error naming the option', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['baseUrl', {}],
    ['baseUrl', { baseUrl: '/relative' }],
    ['baseUrl', { baseUrl: 'ftp://example.com' }],
    ['retry.baseDelayMs', { baseUrl: 'https://a.example', retry: { baseDelayMs: -1 } }],
    ['retry.maxAttempts', { baseUrl: 'https://a.example', retry: { maxAttempts: 0 } }],
    [
      'retry.maxDelayMs',
      { baseUrl: 'https://a.example', retry: { baseDelayMs: 10, maxDelayMs: 5 } },
    ],
    ['concurrency', { baseUrl: 'https://a.example', concurrency: 0 }],
    ['timeoutMs', { baseUrl: 'https://a.example', timeoutMs: -5 }],
    ['cacheTtlMs', { baseUrl: 'https://a.example', cacheTtlMs: Number.NaN }],
    ['cacheStrategy', { baseUrl: 'https://a.example', cacheStrategy: 'sometimes' }],
    ['allowedOrigins', { baseUrl: 'https://a.example', allowedOrigins: ['not a url'] }],
  ];
  for (const [option, options] of cases) {
    it(`rejects ${option} in ${JSON.stringify(options)}`, async () => {
      const error = await QnoxSync.create(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe(option);
      expect(isQnoxError(error)).toBe(true);
    });
  }
});

describe('invariant 6: requests only go to allowed origins', () => {
  it('refuses an absolute URL to another origin before storing or sending anything', async () => {
    const h = await startHarness();
    closer.close = h.close;
    await expect(h.sync.post('https://evil.example/steal', { n: 1 })).rejects.toBeInstanceOf(
      OriginError,
    );
    await expect(h.sync.get('//evil.example/x')).rejects.toMatchObject({ code: 'origin' });
    expect(await h.sync.pendingCount()).toBe(0);
    expect(h.server.requests.filter((r) => r.method !== 'HEAD')).toHaveLength(0);
  });

  it('accepts absolute URLs on the base origin and on the allow-list', async () => {
    const h = await startHarness({ allowedOrigins: ['https://uploads.example'] });
    closer.close = h.close;
    const res = await h.sync.get(`${h.server.url}/hello?x=1`);
    expect(res.data).toEqual({ path: '/hello', query: { x: '1' } });
    const m = await h.sync.post('https://uploads.example/files', 'text', {
      orderingKey: 'uploads',
    });
    expect((await h.sync.pendingTasks()).find((t) => t.id === m.id)?.url).toBe(
      'https://uploads.example/files',
    );
  });

  it('dead-letters, unsent, a queued write whose origin is no longer allowed', async () => {
    const { MemoryStore, QnoxSync } = await import('../src/index.js');
    const store = new MemoryStore();
    const h = await startHarness({
      store,
      allowedOrigins: ['https://old.example'],
      autoSync: false,
    });
    closer.close = h.close;
    await h.sync.post('https://old.example/things', { n: 1 });
    const next = await QnoxSync.create({
      baseUrl: h.server.url,
      store,
      clock: h.clock,
      autoSync: false,
    });
    await next.sync();
    expect((await next.deadLetters())[0]).toMatchObject({
      reason: 'rejected',
      task: { url: 'https://old.example/things' },
    });
    expect(h.server.requests).toHaveLength(0);
  });

  it('rejects bad per-call input with typed errors and keeps the queue intact', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    await h.sync.post('/streams/a', { n: 1 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(h.sync.post('/streams/a', cyclic)).rejects.toMatchObject({
      code: 'config',
      option: 'data',
    });
    await expect(h.sync.post('/streams/a', 1n)).rejects.toMatchObject({ code: 'config' });
    await expect(h.sync.post('/x', {}, { orderingKey: '' })).rejects.toMatchObject({
      option: 'orderingKey',
    });
    await expect(
      h.sync.post('/x', {}, { headers: { Authorization: 'Bearer t' } }),
    ).rejects.toMatchObject({
      option: 'headers',
    });
    await expect(h.sync.get('/x', { strategy: 'nope' as never })).rejects.toMatchObject({
      option: 'strategy',
    });
    expect(await h.sync.pendingCount()).toBe(1);
  });
});
