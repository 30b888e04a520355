import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QnoxSync } from '../src/index.js';
import { SqliteStore } from '../src/node.js';
import { closeAfterEach, until } from './helpers/harness.js';
import { TestServer } from './helpers/test-server.js';

const closer = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'qnox-window-'));
let n = 0;

/**
 * The sender closes while the server still handles its request (a tab closed,
 * a process stopped); the next sender on the same store takes over. Real time,
 * short windows: the handler runs `handlerMs`, requests time out after `timeoutMs`.
 */
async function handOver(answerInProgress: boolean, handlerMs: number, timeoutMs: number) {
  const server = new TestServer();
  await server.start();
  server.answerInProgress = answerInProgress;
  const path = join(dir, `window-${++n}.db`);
  const options = { baseUrl: server.url, autoSync: false, timeoutMs, retry: { baseDelayMs: 50 } };
  const first = await QnoxSync.create({ ...options, store: new SqliteStore({ path }) });
  let second: QnoxSync | undefined;
  closer.close = async () => {
    await first.dispose();
    await second?.dispose();
    await server.stop();
  };
  let slowed = false;
  server.faultPolicy = (req) => {
    if (req.method !== 'POST' || slowed) return undefined;
    slowed = true;
    return { kind: 'slow-handler', ms: handlerMs };
  };
  for (let i = 0; i < 4; i++) await first.post('/streams/k', { n: i }, { orderingKey: 'k' });
  const draining = first.sync();
  await until(() => server.requests.some((r) => r.method === 'POST'));
  await first.dispose();
  await draining;
  second = await QnoxSync.create({ ...options, store: new SqliteStore({ path }) });
  for (let round = 0; round < 200 && (await second.pendingCount()) > 0; round++) {
    await second.sync();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { server, second };
}

describe("a new sender waits out the previous sender's request on the same key", () => {
  it('deduplicating server: the applied head is replayed, then the key goes on in order', async () => {
    const { server, second } = await handOver(false, 300, 600);
    expect(server.streams.get('k')).toEqual([0, 1, 2, 3]);
    expect(await second.deadLetters()).toEqual([]);
  });

  it('server answering 409 in progress: retried later (uncharged), never a conflict, order kept', async () => {
    const { server, second } = await handOver(true, 900, 300);
    expect(server.requests.some((r) => r.method === 'POST' && r.path === '/streams/k')).toBe(true);
    expect(await second.deadLetters()).toEqual([]);
    expect(server.streams.get('k')).toEqual([0, 1, 2, 3]);
    const [last] = server.effects.slice(-1);
    expect(last?.path).toBe('/streams/k');
  });
});
