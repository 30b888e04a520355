import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conflicts } from '../src/conflicts.js';
import { ConfigError, ConflictError, MemoryStore, QnoxSync } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();

async function withItem(options: Parameters<typeof startHarness>[0] = {}) {
  const h = await startHarness(options);
  closer.close = h.close;
  h.server.editItem('1', { title: 'base', qty: 1, note: 'n' });
  await h.sync.get('/items/1');
  return h;
}

const lastWrite = (h: Awaited<ReturnType<typeof startHarness>>) =>
  h.server.requests.filter((r) => r.path === '/items/1' && r.method !== 'GET').at(-1);

describe('conflict detection', () => {
  it('sends the cached ETag as If-Match; opt-out and explicit values are honoured', async () => {
    const h = await withItem();
    await (await h.sync.put('/items/1', { title: 'a' })).result;
    expect(lastWrite(h)?.headers['if-match']).toBe('"v1"');
    await (await h.sync.put('/items/1', { title: 'b' }, { ifMatch: false })).result;
    expect(lastWrite(h)?.headers['if-match']).toBeUndefined();
    await (await h.sync.put('/items/1', { title: 'c' }, { ifMatch: '*' })).result;
    expect(lastWrite(h)?.headers['if-match']).toBe('*');
  });

  it('two queued edits of one resource chain their If-Match through our own writes (no self-conflict)', async () => {
    const h = await withItem();
    h.server.down = true;
    const a = await h.sync.patch('/items/1', { qty: 2 });
    const b = await h.sync.patch('/items/1', { qty: 3 });
    h.server.down = false;
    await drainAll(h.sync, h.clock);
    await expect(a.result).resolves.toMatchObject({ status: 200 });
    await expect(b.result).resolves.toMatchObject({ status: 200 });
    expect(h.server.items.get('1')?.value).toMatchObject({ qty: 3 });
  });

  it('parks a conflicting write by default: dead letter with reason conflict, event with both versions', async () => {
    const h = await withItem();
    const events: unknown[] = [];
    h.sync.events.subscribe((e) => e.type === 'conflict' && events.push(e));
    h.server.editItem('1', { title: 'theirs', qty: 1, note: 'n' });
    const m = await h.sync.put('/items/1', { title: 'mine', qty: 1, note: 'n' });
    await drainAll(h.sync, h.clock);
    expect(await m.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect((await h.sync.deadLetters())[0]).toMatchObject({
      reason: 'conflict',
      lastResponse: { status: 412 },
    });
    expect(events).toMatchObject([{ outcome: 'park', status: 412, local: { title: 'mine' } }]);
    expect(h.server.items.get('1')?.value).toMatchObject({ title: 'theirs' });
  });

  it('a custom detector turns a 200 into a conflict', async () => {
    const h = await withItem({
      plugins: [
        conflicts({
          detect: (res) => (res.data as { title?: string } | null)?.title === 'rejected',
        }),
      ],
    });
    const m = await h.sync.put('/items/1', { title: 'rejected' });
    await drainAll(h.sync, h.clock);
    expect(await m.result.catch((e: unknown) => (e as ConflictError).code)).toBe('conflict');
  });

  it('428 makes the client learn the current ETag and send once more', async () => {
    const h = await withItem({ plugins: [conflicts()] });
    h.server.requireIfMatch = true;
    const m = await h.sync.put('/items/1', { title: 'x' }, { ifMatch: false });
    await drainAll(h.sync, h.clock);
    await expect(m.result).resolves.toMatchObject({ status: 200 });
    expect(lastWrite(h)?.headers['if-match']).toBe('"v1"');
  });
});

describe('without the conflicts() plug-in', () => {
  it('a 428 parks the write (reason conflict), naming the plug-in that would answer it', async () => {
    const h = await withItem();
    h.server.requireIfMatch = true;
    const m = await h.sync.put('/items/1', { title: 'x' }, { ifMatch: false });
    await drainAll(h.sync, h.clock);
    const error = await m.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain('conflicts()');
    expect((await h.sync.deadLetters())[0]?.reason).toBe('conflict');
    expect(h.server.items.get('1')?.value).toMatchObject({ title: 'base' });
  });

  it('a write may only ask for park; any other strategy is a ConfigError naming the plug-in, and nothing is queued', async () => {
    const h = await withItem();
    for (const conflict of ['merge', 'client-wins', () => 'park' as const] as const) {
      const error = await h.sync.put('/items/1', { title: 'x' }, { conflict }).catch((e) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('qnox-offline-sync/conflicts');
    }
    expect(await h.sync.pendingCount()).toBe(0);
    await (await h.sync.put('/items/1', { title: 'y' }, { conflict: 'park' })).result;
    expect(h.server.items.get('1')?.value).toMatchObject({ title: 'y' });
  });
});

describe('conflict strategies, end to end', () => {
  it('server-wins drops the local change, refreshes the cache and reports it', async () => {
    const h = await withItem({ plugins: [conflicts({ strategy: 'server-wins' })] });
    h.server.editItem('1', { title: 'theirs', qty: 1, note: 'n' });
    const m = await h.sync.put('/items/1', { title: 'mine' });
    await drainAll(h.sync, h.clock);
    expect(await m.result.catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect(h.server.items.get('1')?.value).toEqual({ title: 'theirs', qty: 1, note: 'n' });
    expect((await h.sync.get('/items/1', { strategy: 'cacheOnly' })).data).toEqual({
      title: 'theirs',
      qty: 1,
      note: 'n',
    });
    expect(await h.sync.deadLetters()).toEqual([]);
  });

  it('client-wins re-sends the local change over the current ETag, with a new idempotency key', async () => {
    const h = await withItem({ plugins: [conflicts({ strategy: 'client-wins' })] });
    h.server.editItem('1', { title: 'theirs', qty: 9, note: 'n' });
    const m = await h.sync.put('/items/1', { title: 'mine', qty: 1, note: 'n' });
    await drainAll(h.sync, h.clock);
    await expect(m.result).resolves.toMatchObject({ status: 200 });
    expect(h.server.items.get('1')?.value).toEqual({ title: 'mine', qty: 1, note: 'n' });
    const puts = h.server.requestsTo('PUT', '/items/1');
    expect(puts.map((r) => r.headers['if-match'])).toEqual(['"v1"', '"v2"']);
    expect(puts[0]?.idempotencyKey).not.toBe(puts[1]?.idempotencyKey);
  });

  it('merge keeps both sides: remote-only changes survive a local PUT', async () => {
    const h = await withItem({ plugins: [conflicts({ strategy: 'merge' })] });
    h.server.editItem('1', { title: 'base', qty: 7, note: 'n' });
    await h.sync.put('/items/1', { title: 'mine', qty: 1, note: 'n' });
    await drainAll(h.sync, h.clock);
    expect(h.server.items.get('1')?.value).toEqual({ title: 'mine', qty: 7, note: 'n' });
  });

  it('merge of a PATCH sends a patch of the merge result', async () => {
    const h = await withItem({ plugins: [conflicts({ strategy: 'merge' })] });
    h.server.editItem('1', { title: 'base', qty: 7, note: 'theirs' });
    await h.sync.patch('/items/1', { title: 'mine' });
    await drainAll(h.sync, h.clock);
    expect(h.server.items.get('1')?.value).toEqual({ title: 'mine', qty: 7, note: 'theirs' });
  });

  it('a per-call custom resolver can send its own body', async () => {
    const h = await withItem({ plugins: [conflicts()] });
    h.server.editItem('1', { title: 'theirs', qty: 2, note: 'n' });
    const seen: unknown[] = [];
    await h.sync.put(
      '/items/1',
      { title: 'mine', qty: 1, note: 'n' },
      {
        conflict: (ctx) => {
          seen.push(ctx.base, ctx.server, ctx.serverEtag);
          return { body: { title: 'both', qty: 3, note: 'n' } };
        },
      },
    );
    await drainAll(h.sync, h.clock);
    expect(seen).toEqual([
      { title: 'base', qty: 1, note: 'n' },
      { title: 'theirs', qty: 2, note: 'n' },
      '"v2"',
    ]);
    expect(h.server.items.get('1')?.value).toEqual({ title: 'both', qty: 3, note: 'n' });
  });

  it('a conflict that keeps coming back is parked after maxRounds', async () => {
    const h = await withItem({ plugins: [conflicts({ strategy: 'client-wins', maxRounds: 2 })] });
    h.server.faultPolicy = (req) =>
      req.method === 'PUT' ? { kind: 'status', status: 409 } : undefined;
    const events: string[] = [];
    h.sync.events.subscribe((e) => e.type === 'conflict' && events.push(e.outcome));
    await h.sync.put('/items/1', { title: 'x' });
    await drainAll(h.sync, h.clock);
    expect(events).toEqual(['client-wins', 'client-wins', 'gave-up']);
    expect((await h.sync.deadLetters())[0]?.reason).toBe('conflict');
  });
});

describe('two clients editing one resource offline', () => {
  for (const order of ['A then B', 'B then A']) {
    it(`merge keeps both edits when they sync ${order}`, async () => {
      const server = new TestServer();
      const baseUrl = await server.start();
      server.editItem('1', { title: 'base', qty: 1, note: 'n' });
      const make = async () => {
        const clock = new ManualClock();
        const sync = await QnoxSync.create({
          baseUrl,
          clock,
          store: new MemoryStore(),
          plugins: [conflicts({ strategy: 'merge' })],
          autoSync: false,
        });
        return { sync, clock };
      };
      const a = await make();
      const b = await make();
      closer.close = async () => {
        await a.sync.dispose();
        await b.sync.dispose();
        await server.stop();
      };
      await a.sync.get('/items/1');
      await b.sync.get('/items/1');
      await a.sync.put('/items/1', { title: 'from A', qty: 1, note: 'n' });
      await b.sync.patch('/items/1', { qty: 5 });
      const [first, second] = order === 'A then B' ? [a, b] : [b, a];
      await drainAll(first.sync, first.clock);
      await drainAll(second.sync, second.clock);
      expect(server.items.get('1')?.value).toEqual({ title: 'from A', qty: 5, note: 'n' });
    });
  }
});

describe('lost-update prevention', () => {
  it('never silently overwrites a concurrent edit (1,000 generated cases)', async () => {
    const h = await startHarness({ plugins: [conflicts({ strategy: 'merge' })], autoSync: false });
    closer.close = h.close;
    const fields = ['a', 'b', 'c', 'd'] as const;
    const record = fc.record({ a: fc.nat(3), b: fc.nat(3), c: fc.nat(3), d: fc.nat(3) });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(record, record, record, async (base, local, remote) => {
        const id = `p${n++}`;
        h.server.editItem(id, base);
        await h.sync.get(`/items/${id}`);
        h.server.editItem(id, remote);
        await h.sync.put(`/items/${id}`, local);
        await drainAll(h.sync, h.clock);
        const final = h.server.items.get(id)?.value as Record<string, number>;
        // A field only the other writer changed must keep their value.
        return fields.every(
          (f) => remote[f] === base[f] || local[f] !== base[f] || final[f] === remote[f],
        );
      }),
      { numRuns: 1_000 },
    );
  });
});
