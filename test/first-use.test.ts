import { describe, expect, it } from 'vitest';
import { manualConnectivity } from '../src/index.js';
import { closeAfterEach, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

/** Moves the manual clock until `promise` settles, never under a request in flight (real time only for I/O). */
async function settle<T>(
  promise: Promise<T>,
  clock: { advanceToNextTimer(): boolean },
  sync: { onSyncStatus: { value: { phase: string } } },
) {
  let done = false;
  const watched = promise.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  for (let i = 0; i < 2_000 && !done; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const busy = ['syncing', 'checkingConnectivity'].includes(sync.onSyncStatus.value.phase);
    if (!done && !busy) clock.advanceToNextTimer();
  }
  return watched;
}

describe('drained(): wait until the outbox is empty (a CLI, a job)', () => {
  it('waits out retries and resolves once nothing is queued, dead letters counted', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    let aFailures = 2;
    h.server.faultPolicy = (req) => {
      if (req.path === '/streams/b') return { kind: 'status', status: 400 };
      if (req.path === '/streams/a' && aFailures-- > 0) return { kind: 'status', status: 503 };
      return undefined;
    };
    const a = await h.sync.post('/streams/a', { n: 1 });
    const b = await h.sync.post('/streams/b', { n: 2 });
    b.result.catch(() => {});
    const result = await settle(h.sync.drained(), h.clock, h.sync);
    expect(result).toEqual({ deadLetters: 1 });
    expect(await h.sync.pendingCount()).toBe(0);
    expect((await a.result).status).toBe(201);
  });

  it('rejects with a TimeoutError after timeoutMs while the server stays away; writes stay queued', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    await h.sync.post('/streams/a', { n: 1 });
    h.server.down = true;
    await expect(
      settle(h.sync.drained({ timeoutMs: 60_000 }), h.clock, h.sync),
    ).rejects.toMatchObject({
      code: 'timeout',
    });
    expect(await h.sync.pendingCount()).toBe(1);
  });

  it('rejects with a CancelledError when its signal aborts', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    await h.sync.post('/streams/a', { n: 1 });
    h.server.down = true;
    const controller = new AbortController();
    const waiting = h.sync.drained({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('an explicit sync() after a missed online event', () => {
  it('looks again when the client believes it is offline, and sends', async () => {
    const connectivity = manualConnectivity(true);
    const h = await startHarness({ autoSync: false, connectivity });
    closer.close = h.close;
    h.server.down = true;
    await h.sync.post('/streams/a', { n: 1 });
    await h.sync.sync();
    expect(h.sync.onSyncStatus.value.online).toBe(false);
    h.server.down = false;
    const report = await h.sync.sync();
    expect(report.delivered).toBe(1);
  });
});
