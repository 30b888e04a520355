import { describe, expect, it } from 'vitest';
import { ConfigError, type QnoxPlugin, type SyncEvent } from '../src/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

describe('plug-ins', () => {
  it('see every write before it is sent, when acknowledged, delivered or given up, in that order', async () => {
    const seen: string[] = [];
    const recorder: QnoxPlugin = {
      name: 'recorder',
      beforeSend: (w) => {
        seen.push(`send ${w.method} ${new URL(w.url).pathname} ${JSON.stringify(w.data)}`);
        return undefined;
      },
      acknowledged: (w, r) => {
        seen.push(`ack ${w.id === handles[0]?.id ? 'first' : 'other'} ${r.status}`);
      },
      delivered: async (_w, r) => {
        seen.push(`delivered ${(r.data as { index: number }).index}`);
      },
      abandoned: (w) => {
        seen.push(`abandoned ${new URL(w.url).pathname}`);
      },
    };
    const h = await startHarness({ plugins: [recorder], retry: { maxAttempts: 1 } });
    closer.close = h.close;
    const handles = [await h.sync.post('/streams/p', { n: 1 })];
    await drainAll(h.sync, h.clock);
    h.server.fail({ kind: 'status', status: 400 });
    await h.sync.post('/streams/q', { n: 2 });
    await drainAll(h.sync, h.clock);
    expect(seen).toEqual([
      'send POST /streams/p {"n":1}',
      'ack first 201',
      'delivered 0',
      'send POST /streams/q {"n":2}',
      'abandoned /streams/q',
    ]);
  });

  it('beforeSend sets the headers a write goes out with, but never its idempotency key', async () => {
    const h = await startHarness({
      plugins: [
        {
          name: 'trace',
          beforeSend: (w) => ({
            ...w.headers,
            'x-trace-id': `t-${w.attempts}`,
            'Idempotency-Key': 'stolen',
          }),
        },
      ],
    });
    closer.close = h.close;
    h.server.fail({ kind: 'status', status: 503 });
    const m = await h.sync.post('/streams/t', { n: 1 });
    await drainAll(h.sync, h.clock);
    await m.result;
    const sent = h.server.requestsTo('POST', '/streams/t');
    expect(sent.map((r) => r.headers['x-trace-id'])).toEqual(['t-0', 't-1']);
    expect(sent.map((r) => r.idempotencyKey)).toEqual([m.idempotencyKey, m.idempotencyKey]);
  });

  it('a throwing plug-in is reported as callback-error and stops neither the write nor the others', async () => {
    const after: string[] = [];
    const h = await startHarness({
      plugins: [
        {
          name: 'broken',
          beforeSend: () => {
            throw new Error('no');
          },
          delivered: async () => {
            throw new Error('late');
          },
        },
        { name: 'fine', delivered: (w) => void after.push(w.id) },
      ],
    });
    closer.close = h.close;
    const errors: SyncEvent[] = [];
    h.sync.events.subscribe((e) => e.type === 'callback-error' && errors.push(e));
    const m = await h.sync.post('/streams/b', { n: 1 });
    await drainAll(h.sync, h.clock);
    await expect(m.result).resolves.toMatchObject({ status: 201 });
    expect(after).toEqual([m.id]);
    expect(h.server.streams.get('b')).toEqual([1]);
    expect(errors.map((e) => (e as { error: { callback: string } }).error.callback)).toEqual([
      'broken.beforeSend',
      'broken.delivered',
    ]);
  });

  it('a malformed plugins option is a ConfigError', async () => {
    for (const plugins of [{}, [{}], [{ name: 'x', delivered: 1 }]]) {
      const error = await startHarness({ plugins: plugins as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option: 'plugins' });
    }
  });
});
