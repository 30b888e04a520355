import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { until } from './helpers/harness.js';
import { startPageServer } from './helpers/page-server.js';
import type { TestServer } from './helpers/test-server.js';

let browser: Browser;
let pages: { server: TestServer; url: string };

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer({ tab: '../browser/tab-page.ts' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pages?.server.stop();
});

type Qnox = { qnox: import('../src/index.js').QnoxSync };

async function openTab(context: Awaited<ReturnType<Browser['newContext']>>, tab: string) {
  const page = await context.newPage();
  await page.goto(`${pages.url}/tab.html?tab=${tab}`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

/**
 * Two tabs on one store; the sending tab is closed while the server is still
 * handling its first request (`handlerMs`). The other tab looks for the drain
 * lock every second, so it takes over within the request; the tab page's
 * in-flight window is min(timeoutMs 5 s, maxDelayMs 2 s) = 2 s.
 */
async function closeLeaderMidRequest(run: string, answerInProgress: boolean, handlerMs: number) {
  const server = pages.server;
  const context = await browser.newContext();
  server.answerInProgress = answerInProgress;
  let slowed = false;
  server.faultPolicy = (req) => {
    if (req.method !== 'POST' || req.path !== `/streams/${run}` || slowed) return undefined;
    slowed = true;
    return { kind: 'slow-handler', ms: handlerMs };
  };
  try {
    const tabs = [await openTab(context, `${run}-a`), await openTab(context, `${run}-b`)];
    await context.setOffline(true);
    await tabs[0]!.evaluate(async (run) => {
      const w = window as unknown as Qnox;
      for (let n = 0; n < 5; n++) await w.qnox.post(`/streams/${run}`, { n }, { orderingKey: run });
    }, run);
    await context.setOffline(false);
    const posts = () => server.requestsTo('POST', `/streams/${run}`);
    await until(() => posts().length === 1, 15_000);
    const leader = String(posts()[0]!.headers.authorization).endsWith('-a') ? 0 : 1;
    const other = tabs[1 - leader]!;
    await tabs[leader]!.close();
    await until(() => (server.streams.get(run) ?? []).length >= 5, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const head = posts()[0]!.idempotencyKey;
    return {
      stream: server.streams.get(run),
      effects: server.effects.filter((e) => e.path === `/streams/${run}`),
      headSends: posts().filter((r) => r.idempotencyKey === head),
      senders: new Set(posts().map((r) => r.headers.authorization)),
      deadLetters: await other.evaluate(() =>
        (window as unknown as Qnox).qnox.deadLetters().then((d) => d.length),
      ),
      pending: await other.evaluate(() => (window as unknown as Qnox).qnox.pendingCount()),
    };
  } finally {
    server.faultPolicy = undefined;
    server.answerInProgress = false;
    await context.close();
  }
}

/** What both servers must see: each of the 5 writes applied once, in order, by two senders, nothing parked. */
function expectHandedOver(r: Awaited<ReturnType<typeof closeLeaderMidRequest>>): void {
  expect(r.senders.size).toBe(2);
  expect(r.stream).toEqual([0, 1, 2, 3, 4]);
  expect(r.effects).toHaveLength(5);
  expect(r.deadLetters).toBe(0);
  expect(r.pending).toBe(0);
}

describe('in real Chromium: the leader tab closed mid-request', { timeout: 90_000 }, () => {
  it('deduplicating server: the next tab waits out the request, the head is applied once, order kept', async () => {
    const r = await closeLeaderMidRequest('dedup', false, 1_500);
    expectHandedOver(r);
    expect(r.headSends.length).toBeGreaterThanOrEqual(2);
  });

  it('server answering 409 in progress: retried later, never a conflict, later writes wait, order kept', async () => {
    const r = await closeLeaderMidRequest('busy', true, 4_000);
    expectHandedOver(r);
    // Sent by the next tab while the server still handled it (a 409), then replayed.
    expect(r.headSends.length).toBeGreaterThanOrEqual(3);
  });
});
