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
  pages = await startPageServer({ batch: '../browser/batch-page.ts' });
  pages.server.batchPath = '/batch';
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pages?.server.stop();
});

type W = { qnox: import('../src/index.js').QnoxSync; seen: string[] };

describe('batching in real Chromium, on IndexedDB', { timeout: 120_000 }, () => {
  it('25 writes queued offline go out in 3 batches when back online, each once and in order', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${pages.url}/batch.html`);
    await page.waitForFunction(() => document.title === 'ready');
    await context.setOffline(true);
    await page.evaluate(async () => {
      const w = window as unknown as W;
      for (let i = 0; i < 25; i++) await w.qnox.post(`/streams/b${i % 2}`, { n: i });
    });
    expect(pages.server.effects).toHaveLength(0);
    await context.setOffline(false);
    await page.evaluate(() => (window as unknown as W).qnox.sync());
    await until(() => pages.server.effects.length === 25, 30_000);
    const left = await page.evaluate(() =>
      (window as unknown as W).qnox.drained({ timeoutMs: 10_000 }),
    );
    expect(left).toEqual({ deadLetters: 0 });
    expect(pages.server.requestsTo('POST', '/batch').length).toBe(3);
    expect(pages.server.streams.get('b0')).toEqual(Array.from({ length: 13 }, (_, j) => j * 2));
    expect(pages.server.streams.get('b1')).toEqual(Array.from({ length: 12 }, (_, j) => j * 2 + 1));
    expect(
      pages.server.requests.filter(
        (r) => r.path.startsWith('/streams/') && !r.headers['x-batch-part'],
      ),
    ).toEqual([]);
    expect(
      await page.evaluate(
        () => (window as unknown as W).seen.filter((t) => t === 'batch-sent').length,
      ),
    ).toBe(3);
    expect(await page.evaluate(() => (window as unknown as W).qnox.pendingCount())).toBe(0);
    await context.close();
  });

  it('a pull of 120 changes in pages of 50 lands in IndexedDB; a reload pulls only what is new', async () => {
    for (let i = 1; i <= 120; i++) pages.server.editItem(String(i), { name: `item ${i}`, qty: i });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${pages.url}/batch.html`);
    await page.waitForFunction(() => document.title === 'ready');
    const pull = () =>
      page.evaluate(async () => {
        const w = window as unknown as W & { items: { pull(): Promise<unknown> } };
        const result = await w.items.pull();
        const list = await w.qnox.get<{ id: string }[]>('/items', { strategy: 'cacheOnly' });
        return { result, rows: list.data.length, last: list.data.at(-1) };
      });
    const before = pages.server.requestsTo('GET', '/items/changes').length;
    expect(await pull()).toMatchObject({
      result: { applied: 120 },
      rows: 120,
      last: { id: '120' },
    });
    expect(pages.server.requestsTo('GET', '/items/changes').length - before).toBe(3);
    pages.server.editItem('121', { name: 'new', qty: 121 });
    await page.reload();
    await page.waitForFunction(() => document.title === 'ready');
    expect(await pull()).toMatchObject({ result: { applied: 1 }, rows: 121, last: { id: '121' } });
    expect(pages.server.requestsTo('GET', '/items/changes').at(-1)?.path).toContain('since=');
    await context.close();
  });
});
