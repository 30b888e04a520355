import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemoryStore, QnoxSync } from '../src/index.js';
import { memoryIdempotencyStore, toNodeListener, withIdempotency } from '../src/server.js';
import { app, conformance } from './helpers/idempotency-conformance.js';

conformance('memory', (clock) => memoryIdempotencyStore({ clock }));

describe('the client against withIdempotency over node:http', () => {
  it('a write whose first attempt times out while the handler still runs waits out the 409, then gets the replay: one effect', async () => {
    const a = app();
    let calls = 0;
    const slowFirst = async (request: Request) => {
      if (++calls === 1) await new Promise((resolve) => setTimeout(resolve, 300));
      return a.handler(request);
    };
    const guarded = withIdempotency(slowFirst, { store: memoryIdempotencyStore() });
    const answers: string[] = [];
    const server = createServer(
      toNodeListener(async (request) => {
        const response = await guarded(request);
        answers.push(
          `${response.status}${response.headers.get('idempotent-replayed') ? ' replayed' : ''}`,
        );
        return response;
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sync = await QnoxSync.create({
      baseUrl,
      store: new MemoryStore(),
      timeoutMs: 100,
      retry: { baseDelayMs: 50, maxDelayMs: 400, maxAttempts: 10 },
    });
    try {
      const w = await sync.post('/orders', { n: 1 });
      const result = await w.result;
      expect(result.status).toBe(201);
      expect(result.data).toMatchObject({ id: 1 });
      expect(a.created).toHaveLength(1);
      // The retry met the running first attempt (409), then got its answer replayed.
      expect(answers).toContain('409');
      expect(answers.at(-1)).toBe('201 replayed');
    } finally {
      await sync.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the body on its way through', () => {
  it('the handler reads the body once whichever way it came (a Fetch-API Request, or bytes toNodeListener already read)', async () => {
    const seen: string[] = [];
    const api = withIdempotency(
      async (request) => {
        const text = await request.text();
        seen.push(text);
        return new Response(`echo ${text}`, { status: 201 });
      },
      { store: memoryIdempotencyStore() },
    );
    const direct = await api(
      new Request('http://api.test/e', {
        method: 'POST',
        headers: { 'idempotency-key': 'b1' },
        body: 'one',
      }),
    );
    expect(await direct.text()).toBe('echo one');
    const server = createServer(toNodeListener(api));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/e`;
    try {
      const send = () =>
        fetch(url, { method: 'POST', headers: { 'idempotency-key': 'b2' }, body: 'two' });
      const first = await send();
      const again = await send();
      expect(await first.text()).toBe('echo two');
      expect(await again.text()).toBe('echo two');
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(seen).toEqual(['one', 'two']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
