import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { startPageServer } from './helpers/page-server.js';
import type { TestServer } from './helpers/test-server.js';

let browser: Browser;
let pages: { server: TestServer; url: string };

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer({
    react: '../browser/react-page.ts',
    tab: '../browser/tab-page.ts',
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pages?.server.stop();
});

type Qnox = { qnox: import('../src/index.js').QnoxSync; refetchOne: () => void };

async function openReact(context: BrowserContext, query = ''): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${pages.url}/react.html${query}`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

const text = (page: Page, id: string, want: string) =>
  page.waitForFunction(
    ([id, want]) => document.getElementById(id)?.textContent === want,
    [id, want] as const,
    { timeout: 10_000 },
  );

/** A fresh browser context (its own IndexedDB) around `run`, closed after. */
async function inContext(run: (context: BrowserContext) => Promise<void>): Promise<void> {
  pages.server.items.clear();
  pages.server.editItem('1', { name: 'Apples', qty: 1 });
  const context = await browser.newContext();
  try {
    await run(context);
  } finally {
    await context.close();
  }
}

describe('React provider and hooks in real Chromium', { timeout: 60_000 }, () => {
  it('re-render on status changes and on writes to the queried collection', async () => {
    await inContext(async (context) => {
      const page = await openReact(context);
      await text(page, 'items', 'Apples=1');
      expect(await page.textContent('#status')).toBe('idle:0');
      await context.setOffline(true);
      await page.evaluate(() =>
        (window as unknown as Qnox).qnox.post('/items', { name: 'Pears', qty: 2 }),
      );
      await text(page, 'status', 'offline:1');
      await context.setOffline(false);
      await text(page, 'items', 'Apples=1Pears=2');
      await text(page, 'status', 'idle:0');
    });
  });

  it('staleWhileRevalidate: the background revalidation’s answer reaches the component', async () => {
    await inContext(async (context) => {
      const page = await openReact(context);
      await text(page, 'one', 'Apples=1');
      // Changed behind the client's back; the cached copy (ttlMs: 1) is stale, so shown at once and revalidated.
      pages.server.editItem('1', { name: 'Apples', qty: 7 });
      await page.evaluate(() => (window as unknown as Qnox).refetchOne());
      await text(page, 'one', 'Apples=7');
    });
  });

  it('a write delivered by another tab on the same store reaches this tab’s components', async () => {
    await inContext(async (context) => {
      const page = await openReact(context, '?passive');
      await text(page, 'items', 'Apples=1');
      const other = await context.newPage();
      await other.goto(`${pages.url}/tab.html?tab=writer`);
      await other.waitForFunction(() => document.title === 'ready');
      // Only the other tab knows of this write, and only it drains.
      await other.evaluate(async () => {
        const m = await (window as unknown as Qnox).qnox.post('/items', { name: 'Figs', qty: 3 });
        await m.result;
      });
      await text(page, 'items', 'Apples=1Figs=3');
    });
  });
});
