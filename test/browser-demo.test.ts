import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../demo/demo-server.js';
import { dispatchWorkerEvent, launchBrowser } from './helpers/browser.js';
import { until } from './helpers/harness.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

type Qnox = { qnox: import('../src/index.js').QnoxSync };

interface Opened {
  demo: DemoServer;
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors, except a resource that failed to load (an outage, a 412). */
  errors: string[];
}

/** The demo on a phone-sized viewport (390 px), loaded, its service worker installed. */
async function openDemo(query = ''): Promise<Opened> {
  const demo = await startDemoServer();
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${demo.url}/${query}`);
  await page.waitForSelector('body[data-ready=true]');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  return { demo, context, page, errors };
}

const pending = (page: Page) =>
  page.evaluate(() => (window as unknown as Qnox).qnox.onSyncStatus.value.pending);

/** Widest thing on the page against the viewport: nothing may scroll sideways. */
const overflow = (page: Page) =>
  page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    outbox: document.getElementById('pending')!.getBoundingClientRect().width,
  }));

describe('the demo tells the story by itself (Chromium, 390 px)', { timeout: 120_000 }, () => {
  it('on-page outage: optimistic rows show at once, are delivered once, and go; a conflict shows both values and Keep mine resolves it', async () => {
    // No pulls by time here: the conflict needs the page to act on what it read.
    const { demo, context, page, errors } = await openDemo('?pull=0');
    try {
      expect(await page.textContent('#hint')).toMatch(/Simulate API outage.*\+1/s);
      expect(await page.getAttribute('link[rel=icon]', 'href')).toMatch(/^data:image\/svg/);
      const fits = await overflow(page);
      expect(fits.page).toBeLessThanOrEqual(fits.viewport);
      expect(fits.outbox).toBeGreaterThan(300);

      await page.click('#outage');
      await page.waitForSelector('#outage:text("End API outage")');
      await page.fill('input[name=name]', 'Figs');
      await page.click('form button');
      await page.click('li[data-id="1"] button:text("+1")');
      // Both show before anything reached the server: the headline feature, visible.
      await page.waitForSelector(
        'li[data-id^="local-"]:has-text("Figs") .badge:text("new · waiting")',
      );
      await page.waitForSelector('li[data-id="1"].waiting:has-text("Apples × 4")');
      expect(demo.api.effects).toHaveLength(0);

      await page.click('#outage');
      await until(() => demo.api.effects.length === 2, 20_000);
      await until(async () => (await pending(page)) === 0, 10_000);
      // Delivered: the placeholder row gave way to the server's, nothing is left waiting.
      await page.waitForFunction(
        () =>
          document.querySelectorAll('#items li.waiting, #items li[data-id^="local-"]').length ===
            0 && /Figs × 1/.test(document.getElementById('items')!.textContent ?? ''),
        undefined,
        { timeout: 10_000 },
      );
      expect(await page.textContent('li[data-id="1"]')).toContain('Apples × 4');
      expect(new Set(demo.api.effects.map((e) => e.key)).size).toBe(2);
      // They went out in batches (POST /api/batch), and the page says so.
      const alone = demo.api.requests.filter(
        (r) =>
          r.method !== 'GET' &&
          r.method !== 'HEAD' &&
          r.path !== '/batch' &&
          !r.headers['x-batch-part'],
      );
      expect(alone).toEqual([]);
      expect(demo.batches).toBeGreaterThanOrEqual(1);
      expect(await page.textContent('#events')).toMatch(
        /batch-sent \/api\/batch — \d writes? in one request, answered 200/,
      );

      // Edit behind the client's back, then +1 on the fresh list's row: a conflict, not an overwrite.
      await page.click('#edit-elsewhere');
      await page.waitForSelector('#control-note:has-text("press +1 on Apples")');
      await page.click('li[data-id="1"] button:text("+1")');
      const conflict = await page.waitForSelector('#dead li.conflict', { timeout: 20_000 });
      const text = (await conflict.textContent()) ?? '';
      expect(text).toContain('yours: qty 5');
      expect(text).toContain('on the server: Apples (edited elsewhere), qty 104');
      expect(text).toMatch(/Keep mine sends yours over their version/);
      expect(demo.api.items.get('1')?.value).toMatchObject({ qty: 104 });
      const wide = await overflow(page);
      expect(wide.page).toBeLessThanOrEqual(wide.viewport);

      await page.click('#dead li.conflict button:text("Keep mine")');
      await page.waitForFunction(
        () => document.querySelectorAll('#dead li').length === 0,
        undefined,
        {
          timeout: 20_000,
        },
      );
      await until(
        () => (demo.api.items.get('1')?.value as { qty?: number } | undefined)?.qty === 5,
        10_000,
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await demo.close();
    }
  });

  it('a write the service worker delivers reaches the open page (which never sends by itself)', async () => {
    // Pulls every 0.5 s: the page also hears of the worker's delivery through the change feed.
    const { demo, context, page, errors } = await openDemo('?autosync=0&pull=500');
    try {
      const cdp = await context.newCDPSession(page);
      await context.setOffline(true);
      await page.fill('input[name=name]', 'Kiwis');
      await page.click('form button');
      await page.waitForSelector('li[data-id^="local-"]:has-text("Kiwis")');
      await until(async () => (await pending(page)) === 1, 10_000);
      await context.setOffline(false);
      await until(() => demo.api.effects.length === 1, 3_000).catch(() => undefined);
      if (demo.api.effects.length === 0) await dispatchWorkerEvent(cdp, demo.url, 'sync');
      await until(() => demo.api.effects.length === 1, 30_000);
      const worker = context.serviceWorkers().find((w) => w.url().startsWith(demo.url))!;
      expect(await worker.evaluate(() => (self as unknown as { woken: string[] }).woken)).toContain(
        'sync:qnox-sync',
      );
      await page.waitForFunction(
        () =>
          document.querySelectorAll('#items li[data-id^="local-"]').length === 0 &&
          /Kiwis × 1/.test(document.getElementById('items')!.textContent ?? '') &&
          /^0 pending/.test(document.getElementById('counts')!.textContent ?? ''),
        undefined,
        { timeout: 15_000 },
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await demo.close();
    }
  });

  it('an order added elsewhere shows at the next pull of the change feed, without a reload', async () => {
    const { demo, context, page, errors } = await openDemo('?pull=500');
    try {
      await page.click('#add-elsewhere');
      await page.waitForSelector('#control-note:has-text("added")');
      await page.waitForSelector('#items li:has-text("Order 3 (added elsewhere) × 1")', {
        timeout: 10_000,
      });
      expect(await page.textContent('#events')).toMatch(
        /pulled \/api\/items — \d+ changes? from the feed/,
      );
      expect(demo.api.requestsTo('GET', '/items/changes').length).toBeGreaterThanOrEqual(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await demo.close();
    }
  });
});
