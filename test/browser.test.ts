import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer } from '../demo/demo-server.js';
import { dispatchWorkerEvent, launchBrowser } from './helpers/browser.js';
import { until } from './helpers/harness.js';
import { startPageServer } from './helpers/page-server.js';
import type { TestServer } from './helpers/test-server.js';

let browser: Browser;
let pages: { server: TestServer; url: string };

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer({
    conformance: '../browser/conformance-page.ts',
    tab: '../browser/tab-page.ts',
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pages?.server.stop();
});

async function openTab(
  context: Awaited<ReturnType<Browser['newContext']>>,
  tab: string | number,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${pages.url}/tab.html?tab=${tab}`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

/** The demo app in a fresh context, loaded, with its service worker installed. */
async function openDemo() {
  const demo = await startDemoServer();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.url}/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  return { demo, context, page };
}

type Qnox = { qnox: import('../src/index.js').QnoxSync; settled: string[] };

/**
 * Four tabs queue ten writes each offline, then come online together: one tab
 * sends; closing it mid-drain hands over; every key lands once, in order, and
 * every tab's promises settle. `run` names this run's streams.
 */
async function fourTabsHandOver(context: BrowserContext, run: string): Promise<void> {
  pages.server.faultPolicy = (req) =>
    req.method === 'POST' ? { kind: 'slow', ms: 25 } : undefined;
  try {
    const tabs: Page[] = [];
    for (let i = 0; i < 4; i++) tabs.push(await openTab(context, i));
    await context.setOffline(true);
    await Promise.all(
      tabs.map((page, i) =>
        page.evaluate(
          async ([tab, run]) => {
            const w = window as unknown as Qnox;
            for (let n = 0; n < 10; n++) {
              const m = await w.qnox.post(
                `/streams/${run}${tab}`,
                { n },
                { orderingKey: `t${tab}` },
              );
              void m.result.then(() => w.settled.push(m.id));
            }
          },
          [i, run] as const,
        ),
      ),
    );
    const tabEffects = () =>
      pages.server.effects.filter((e) => e.path.startsWith(`/streams/${run}`));
    const senders = () =>
      new Set(
        pages.server.requestsTo('POST', `/streams/${run}`).map((r) => r.headers.authorization),
      );
    await context.setOffline(false);
    await until(() => tabEffects().length >= 8, 15_000);
    expect(senders().size).toBe(1);
    const leader = Number(String([...senders()][0]).replace('Bearer tab-', ''));
    await tabs[leader]!.close();
    await until(() => new Set(tabEffects().map((e) => e.key)).size === 40, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(tabEffects()).toHaveLength(40);
    for (let i = 0; i < 4; i++)
      expect(pages.server.streams.get(`${run}${i}`)).toEqual([...Array(10).keys()]);
    expect(senders().size).toBe(2);
    for (const [i, page] of tabs.entries()) {
      if (i === leader) continue;
      await page.waitForFunction(
        () => (window as unknown as Qnox).settled.length === 10,
        undefined,
        { timeout: 10_000 },
      );
    }
  } finally {
    pages.server.faultPolicy = undefined;
  }
}

/**
 * Queues two writes offline in the demo, closes the app's last page and comes
 * back online: only the worker's `sync` (or `periodicsync`) event may deliver
 * them. Chromium may fire it on reconnect by itself; if not within 3 s, the
 * test dispatches it through the DevTools protocol.
 */
async function drainFromWorker(kind: 'sync' | 'periodic'): Promise<void> {
  const demo = await startDemoServer();
  const context = await browser.newContext();
  try {
    const cdp = await context.newCDPSession(await context.newPage());
    if (kind === 'periodic') {
      const { targetInfo } = await cdp.send('Target.getTargetInfo');
      await cdp.send('Browser.grantPermissions', {
        origin: demo.url,
        browserContextId: targetInfo.browserContextId!,
        permissions: ['periodicBackgroundSync'],
      });
    }
    const page = await context.newPage();
    await page.goto(`${demo.url}/`);
    await page.waitForSelector('body[data-ready=true]');
    // The page is ready before its worker is: offline too soon, the worker's script never
    // arrives, and `serviceWorker.ready` (which the tags below wait on) never resolves.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await context.setOffline(true);
    await page.fill('input[name=name]', 'Figs');
    await page.click('form button');
    await page.fill('input[name=name]', 'Kiwis');
    await page.click('form button');
    await page.waitForFunction(
      () => (window as unknown as Qnox).qnox.onSyncStatus.value.pending === 2,
    );
    const tags = () =>
      page.evaluate(async (kind) => {
        const reg = (await navigator.serviceWorker.ready) as ServiceWorkerRegistration & {
          sync: { getTags(): Promise<string[]> };
          periodicSync: { getTags(): Promise<string[]> };
        };
        return (kind === 'sync' ? reg.sync : reg.periodicSync).getTags();
      }, kind);
    await until(async () => (await tags()).includes('qnox-sync'), 10_000);
    await page.close();
    await context.setOffline(false);
    await until(() => demo.api.effects.length === 2, 3_000).catch(() => undefined);
    if (demo.api.effects.length === 0) await dispatchWorkerEvent(cdp, demo.url, kind);
    await until(() => demo.api.effects.length === 2, 30_000);
    const worker = context.serviceWorkers().find((w) => w.url().startsWith(demo.url))!;
    const woken = await worker.evaluate(() => (self as unknown as { woken: string[] }).woken);
    expect(woken).toContain(kind === 'sync' ? 'sync:qnox-sync' : 'periodicsync:qnox-sync');
    expect(woken).not.toContain('message');
    expect([...demo.api.items.values()].map((r) => (r.value as { name: string }).name)).toEqual(
      expect.arrayContaining(['Figs', 'Kiwis']),
    );
  } finally {
    await context.close();
    await demo.close();
  }
}

// Real browsers on a loaded 2-core machine: generous per-test time, while every wait inside has its own bound.
describe('in real Chromium', { timeout: 120_000 }, () => {
  it('the store conformance suite passes on Chromium IndexedDB (plain and encrypted)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${pages.url}/conformance.html`);
    await page.waitForFunction(() => document.title === 'ready');
    const results = await page.evaluate(() =>
      (
        window as unknown as {
          runConformance: () => Promise<{ name: string; ok: boolean; error?: string }[]>;
        }
      ).runConformance(),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(20);
    await context.close();
  });

  it('demo app: offline edits survive a reload offline and reach the server once each when back online', async () => {
    const { demo, context, page } = await openDemo();
    try {
      await page.reload();
      await page.waitForSelector('body[data-ready=true]');
      expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

      await context.setOffline(true);
      await page.fill('input[name=name]', 'Plums');
      await page.click('form button');
      await page.click('li[data-id="2"] button:text("+1")');
      await page.click('li[data-id="1"] button:text("Delete")');
      await page.waitForFunction(
        () => (window as unknown as Qnox).qnox.onSyncStatus.value.pending === 3,
      );
      expect(demo.api.effects).toHaveLength(0);

      await page.reload();
      await page.waitForSelector('body[data-ready=true]');
      expect(await page.textContent('#counts')).toContain('3 pending');
      expect(await page.textContent('#source')).toContain('from cache');

      await context.setOffline(false);
      await until(() => demo.api.effects.length === 3, 15_000);
      await page.waitForFunction(
        () => (window as unknown as Qnox).qnox.onSyncStatus.value.pending === 0,
      );
      const items = [...demo.api.items.values()].map((r) => r.value);
      expect(items).toEqual([
        { name: 'Pears', qty: 6 },
        { name: 'Plums', qty: 1 },
      ]);
      expect(new Set(demo.api.effects.map((e) => e.key)).size).toBe(3);
    } finally {
      await context.close();
      await demo.close();
    }
  });

  it('the Background Sync event drains a queue written offline, with no page of the app open', async () => {
    await drainFromWorker('sync');
  });

  it('a Periodic Background Sync, where granted, is registered and its event drains the queue', async () => {
    await drainFromWorker('periodic');
  });

  it('four tabs queue offline, then deliver together: each key once; closing the leader mid-drain hands over', async () => {
    const context = await browser.newContext();
    try {
      await fourTabsHandOver(context, 'locked');
    } finally {
      await context.close();
    }
  });

  it('the same without Web Locks: a BroadcastChannel election keeps one sender and hands over', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
    });
    try {
      const probe = await openTab(context, 'probe');
      expect(await probe.evaluate(() => navigator.locks)).toBeUndefined();
      await probe.close();
      await fourTabsHandOver(context, 'elected');
    } finally {
      await context.close();
    }
  });

  it('a frozen leader tab hands the drain over within seconds', async () => {
    const context = await browser.newContext();
    let cdp: CDPSession | undefined;
    try {
      const [a, b] = [await openTab(context, 'a'), await openTab(context, 'b')];
      const post = (page: Page, n: number) =>
        page.evaluate(async (n) => {
          const w = window as unknown as Qnox;
          await w.qnox.post('/streams/frozen', { n }, { orderingKey: 'frozen' });
        }, n);
      await post(a, 0);
      await until(() => pages.server.requestsTo('POST', '/streams/frozen').length === 1, 15_000);
      const leaderName = String(
        pages.server.requestsTo('POST', '/streams/frozen')[0]!.headers.authorization,
      );
      const [leader, other] = leaderName === 'Bearer tab-a' ? [a, b] : [b, a];
      // Headless Chromium never hides, so never freezes, a page (Page.setWebLifecycleState is
      // ignored on visible pages): do what freezing does, fire `freeze`, then stop its JavaScript.
      const drainLockHolders = () =>
        leader.evaluate(async () =>
          ((await navigator.locks.query()).held ?? [])
            .filter((l) => l.name?.startsWith('qnox-drain'))
            .map((l) => l.clientId),
        );
      const [leaderClient] = await drainLockHolders();
      expect(leaderClient).toBeDefined();
      await leader.evaluate(() => document.dispatchEvent(new Event('freeze')));
      // As when the browser freezes it: the handlers (and the lock's release) run first.
      // (The other tab may take the lock at once; what matters is that the leader let go.)
      await until(async () => !(await drainLockHolders()).includes(leaderClient), 5_000);
      cdp = await context.newCDPSession(leader);
      await cdp.send('Debugger.enable');
      await cdp.send('Debugger.pause');
      await post(other, 1);
      await until(() => pages.server.requestsTo('POST', '/streams/frozen').length === 2, 15_000);
      expect(pages.server.streams.get('frozen')).toEqual([0, 1]);
      expect(pages.server.requestsTo('POST', '/streams/frozen')[1]!.headers.authorization).not.toBe(
        leaderName,
      );
    } finally {
      await cdp?.send('Debugger.resume').catch(() => undefined);
      await context.close();
    }
  });

  it('reloading the page at 50 random points during the drain loses and doubles nothing', async () => {
    pages.server.faultPolicy = (req) =>
      req.method === 'POST' ? { kind: 'slow', ms: 3 } : undefined;
    const context = await browser.newContext();
    try {
      const page = await openTab(context, 'reload');
      const acked: string[] = [];
      let seed = 11;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      for (let round = 0; round < 50; round++) {
        const keys = await page.evaluate(async (r) => {
          const w = window as unknown as Qnox;
          const out: string[] = [];
          for (let n = 0; n < 3; n++)
            out.push(
              (await w.qnox.post('/streams/reload', { n: r * 3 + n }, { orderingKey: 'reload' }))
                .idempotencyKey,
            );
          return out;
        }, round);
        acked.push(...keys);
        await new Promise((resolve) => setTimeout(resolve, random() * 30));
        await page.reload();
        await page.waitForFunction(() => document.title === 'ready');
      }
      const pending = () => page.evaluate(() => (window as unknown as Qnox).qnox.pendingCount());
      await until(async () => (await pending()) === 0, 30_000);
      expect(await page.evaluate(() => (window as unknown as Qnox).qnox.deadLetters())).toEqual([]);
      const effects = pages.server.effects
        .filter((e) => e.path === '/streams/reload')
        .map((e) => e.key);
      expect(new Set(effects).size).toBe(effects.length);
      for (const key of acked) expect(effects).toContain(key);
      const seen = pages.server.streams.get('reload') ?? [];
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    } finally {
      pages.server.faultPolicy = undefined;
      await context.close();
    }
  });
});
