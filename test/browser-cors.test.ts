import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { startPageServer } from './helpers/page-server.js';
import { TestServer } from './helpers/test-server.js';

/** The page on one origin (its own server), the API on another (a second server, another port). */
let browser: Browser;
let pages: { server: TestServer; url: string };
let api: TestServer;
let apiUrl: string;

beforeAll(async () => {
  browser = await launchBrowser();
  pages = await startPageServer({ cors: '../browser/cors-page.ts' });
  api = new TestServer('/api');
  apiUrl = `${await api.start()}/api`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pages?.server.stop();
  await api?.stop();
});

type Seen = { type: string; code?: string; message?: string }[];
type W = { qnox: import('../src/index.js').QnoxSync; seen: Seen };

async function openApp(run: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pages.url}/cors.html?run=${run}&api=${encodeURIComponent(apiUrl)}`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

/** Reads item `id` (the ETag it may learn), then edits it; resolves with the write's outcome. */
function readThenEdit(page: Page, id: string) {
  return page.evaluate(async (id) => {
    const w = window as unknown as W;
    await w.qnox.get(`/items/${id}`);
    const handle = await w.qnox.patch(`/items/${id}`, { qty: 4 });
    const outcome = await handle.result.then(
      (r) => ({ ok: true, status: r.status, code: '' }),
      (e: { code: string }) => ({ ok: false, status: 0, code: e.code }),
    );
    return {
      outcome,
      dead: (await w.qnox.deadLetters()).map((d) => ({
        reason: d.reason,
        code: d.task.lastError?.code,
        status: d.lastResponse?.status,
      })),
      online: w.qnox.onSyncStatus.value.online,
      seen: w.seen,
    };
  }, id);
}

describe('an API on another origin (Chromium)', () => {
  it('misconfigured CORS: the write fails as "cors" with the advice, the client stays online, and a warning says no validators reach it', async () => {
    api.cors = 'partial';
    api.editItem('1', { name: 'Apples', qty: 3 });
    const page = await openApp('partial');
    const r = await readThenEdit(page, '1');
    expect(api.preflights).toBeGreaterThan(0);
    expect(api.requestsTo('PATCH', '/items/1')).toHaveLength(0);
    expect(r.outcome).toEqual({ ok: false, status: 0, code: 'cors' });
    expect(r.dead).toEqual([{ reason: 'max-attempts', code: 'cors', status: undefined }]);
    expect(r.online).toBe(true);
    const retried = r.seen.find((e) => e.type === 'retry-scheduled');
    expect(retried?.code).toBe('cors');
    expect(retried?.message).toMatch(/likely CORS.*Idempotency-Key, If-Match.*expose ETag/);
    const warnings = r.seen.filter((e) => e.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'no-validators' });
    expect(warnings[0]?.message).toMatch(/cross-origin: does the API expose ETag/);
    await page.context().close();
  }, 60_000);

  it('no CORS at all: a read fails as "cors" (the server still answers probes), not as offline', async () => {
    api.cors = 'off';
    api.editItem('3', { name: 'Plums', qty: 1 });
    const page = await openApp('off');
    const r = await page.evaluate(async () => {
      const w = window as unknown as W;
      const code = await w.qnox.get('/items/3').then(
        () => '',
        (e: { code: string }) => e.code,
      );
      return { code, online: w.qnox.onSyncStatus.value.online };
    });
    expect(r).toEqual({ code: 'cors', online: true });
    await page.context().close();
  }, 60_000);

  it('configured as the README says: writes land once, and an edit behind the client’s back is a conflict', async () => {
    api.cors = 'full';
    api.editItem('2', { name: 'Pears', qty: 5 });
    const page = await openApp('full');
    api.editItem('2', { name: 'Pears (edited elsewhere)', qty: 50 });
    const r = await readThenEdit(page, '2');
    // Read after the edit: the precondition holds and the write lands, with its key.
    expect(r.outcome).toEqual({ ok: true, status: 200, code: '' });
    const patch = api.requestsTo('PATCH', '/items/2')[0];
    expect(patch?.headers['if-match']).toBe('"v2"');
    expect(patch?.idempotencyKey).toBeTruthy();
    // Now someone else edits it between our write and the next one.
    api.editItem('2', { name: 'Pears (edited again)', qty: 60 });
    const second = await page.evaluate(async () => {
      const w = window as unknown as W;
      const handle = await w.qnox.patch('/items/2', { qty: 7 });
      const code = await handle.result.then(
        () => '',
        (e: { code: string }) => e.code,
      );
      return { code, dead: (await w.qnox.deadLetters()).map((d) => d.reason), seen: w.seen };
    });
    expect(second.code).toBe('conflict');
    expect(second.dead).toEqual(['conflict']);
    expect(api.requestsTo('PATCH', '/items/2').at(-1)?.headers['if-match']).toBe('"v3"');
    expect(api.items.get('2')?.value).toMatchObject({ qty: 60 });
    expect(second.seen.some((e) => e.type === 'warning' || e.code === 'cors')).toBe(false);
    await page.context().close();
  }, 60_000);
});
