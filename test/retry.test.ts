import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY } from '../src/engine/backoff.js';
import { parseRetryAfter } from '../src/http/classify.js';
import { ConflictError, HttpError } from '../src/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

describe('invariant 4: retry what can succeed, stop what cannot', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504]) {
    it(`retries ${status} and then delivers`, async () => {
      const h = await startHarness();
      closer.close = h.close;
      h.server.fail({ kind: 'status', status }, { kind: 'status', status });
      const m = await h.sync.post('/streams/a', { n: 1 });
      await drainAll(h.sync, h.clock);
      await expect(m.result).resolves.toMatchObject({ status: 201 });
      expect(h.server.requestsTo('POST', '/streams/a')).toHaveLength(3);
    });
  }

  for (const status of [400, 403, 404, 410, 422]) {
    it(`dead-letters ${status} at once, with reason, attempts and response`, async () => {
      const h = await startHarness();
      closer.close = h.close;
      h.server.fail({ kind: 'status', status });
      const m = await h.sync.post('/streams/a', { n: 1 });
      await drainAll(h.sync, h.clock);
      const error = await m.result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).response.status).toBe(status);
      const [dead] = await h.sync.deadLetters();
      expect(dead?.reason).toBe('rejected');
      expect(dead?.lastResponse?.status).toBe(status);
      expect(dead?.task.lastError?.status).toBe(status);
      expect(h.server.requestsTo('POST', '/streams/a')).toHaveLength(1);
      expect(h.sync.onSyncStatus.value.deadLetters).toBe(1);
    });
  }

  it('a rejected write does not stop the writes behind it', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.fail({ kind: 'status', status: 400 });
    await h.sync.post('/streams/a', { n: 0 });
    const next = await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    await expect(next.result).resolves.toMatchObject({ status: 201 });
    expect(h.server.streams.get('a')).toEqual([1]);
  });

  it('409 and 412 are conflicts: reported and dead-lettered, never retried blindly', async () => {
    const h = await startHarness();
    closer.close = h.close;
    const conflicts: string[] = [];
    h.sync.events.subscribe((e) => {
      if (e.type === 'conflict') conflicts.push(`${e.status}`);
    });
    h.server.fail({ kind: 'status', status: 409 }, { kind: 'status', status: 412 });
    const a = await h.sync.post('/streams/a', { n: 0 });
    const b = await h.sync.post('/streams/b', { n: 0 });
    await drainAll(h.sync, h.clock);
    expect(await a.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect(await b.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect(conflicts.sort()).toEqual(['409', '412']);
    expect((await h.sync.deadLetters()).map((d) => d.reason)).toEqual(['conflict', 'conflict']);
  });

  it('honours Retry-After in seconds', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.fail({ kind: 'status', status: 429, retryAfter: '120' });
    await h.sync.post('/streams/a', { n: 1 });
    await h.sync.sync();
    expect(h.sync.onSyncStatus.value.nextRetryAt).toBe(h.clock.now() + 120_000);
    expect(h.sync.onSyncStatus.value.phase).toBe('backoff');
    h.clock.advance(119_999);
    await h.sync.sync();
    expect(h.server.requestsTo('POST', '/streams/a')).toHaveLength(1);
    h.clock.advance(1);
    await h.sync.sync();
    expect(h.server.requestsTo('POST', '/streams/a')).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const h = await startHarness();
    closer.close = h.close;
    const at = new Date(h.clock.now() + 90_000).toUTCString();
    h.server.fail({ kind: 'status', status: 503, retryAfter: at });
    await h.sync.post('/streams/a', { n: 1 });
    await h.sync.sync();
    expect(h.sync.onSyncStatus.value.nextRetryAt).toBe(Date.parse(at));
  });

  it('dead-letters after maxAttempts, with the last error', async () => {
    const h = await startHarness({ retry: { maxAttempts: 3 } });
    closer.close = h.close;
    h.server.faultPolicy = () => ({ kind: 'status', status: 500 });
    const m = await h.sync.post('/streams/a', { n: 1 });
    await drainAll(h.sync, h.clock);
    expect(h.server.requestsTo('POST', '/streams/a')).toHaveLength(3);
    const [dead] = await h.sync.deadLetters();
    expect(dead).toMatchObject({ reason: 'max-attempts', task: { attempts: 3 } });
    expect(await m.result.catch((e: unknown) => (e as HttpError).response.status)).toBe(500);
  });

  it('a dead letter can be retried with its key, edited with a new key, or discarded', async () => {
    const h = await startHarness();
    closer.close = h.close;
    h.server.fail(
      { kind: 'status', status: 422 },
      { kind: 'status', status: 422 },
      { kind: 'status', status: 422 },
    );
    const a = await h.sync.post('/streams/a', { n: 1 });
    const b = await h.sync.post('/streams/b', { n: 2 });
    const c = await h.sync.post('/streams/c', { n: 3 });
    await drainAll(h.sync, h.clock);
    expect(await h.sync.deadLetters()).toHaveLength(3);

    const again = await h.sync.retryDeadLetter(a.id);
    expect(again.idempotencyKey).toBe(a.idempotencyKey);
    const edited = await h.sync.retryDeadLetter(b.id, { data: { n: 20 } });
    expect(edited.idempotencyKey).not.toBe(b.idempotencyKey);
    await h.sync.discardDeadLetter(c.id);
    await drainAll(h.sync, h.clock);

    expect(h.server.streams.get('a')).toEqual([1]);
    expect(h.server.streams.get('b')).toEqual([20]);
    expect(h.server.streams.get('c')).toBeUndefined();
    expect(await h.sync.deadLetters()).toEqual([]);
    await expect(h.sync.retryDeadLetter('nope')).rejects.toMatchObject({ code: 'config' });
  });
});

describe('backoff', () => {
  it('is full jitter under a capped exponential ceiling', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(30, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
  });

  it('parses both forms of Retry-After and ignores nonsense', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(new Date(now + 5_000).toUTCString(), now)).toBe(5_000);
    expect(parseRetryAfter(new Date(now - 5_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
