/**
 * The demo app's server: a field-orders API under /api (the test server: ETags,
 * Idempotency-Key, faults, a JSON batch endpoint at /api/batch), the page and its service worker, and two admin switches:
 * POST /admin/outage?on=1|0 (the API drops every connection) and
 * POST /admin/edit/:id (someone else edits an order behind the client's back), and
 * POST /admin/add (someone else adds an order; the page sees it at its next pull of
 * the change feed, GET /api/items/changes).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build } from 'esbuild';
import { TestServer } from '../test/helpers/test-server.js';

const web = new URL('./web/', import.meta.url);

export interface DemoServer {
  readonly url: string;
  readonly api: TestServer;
  close(): Promise<void>;
}

/** Bundles the page and worker (esbuild, in memory) and serves them with the API on one origin. */
export async function startDemoServer(port = 0): Promise<DemoServer> {
  const bundles = await bundle();
  const files: Record<string, { type: string; body: string | Buffer }> = {
    '/': { type: 'text/html', body: await readFile(new URL('index.html', web)) },
    '/style.css': { type: 'text/css', body: await readFile(new URL('style.css', web)) },
    '/app.js': { type: 'text/javascript', body: bundles.app },
    '/sw.js': { type: 'text/javascript', body: bundles.sw },
  };
  const api = new TestServer('/api');
  // Like most REST APIs, the list carries each row's version (here its ETag).
  api.rowEtagField = 'etag';
  // A JSON batch endpoint: the page's outbox goes out in batches (the batching() plug-in).
  api.batchPath = '/batch';
  api.editItem('1', { name: 'Apples', qty: 3 });
  api.editItem('2', { name: 'Pears', qty: 5 });
  api.onOtherRequest = (req, res) => route(req, res, api, files);
  const url = await api.start(port);
  return { url, api, close: () => api.stop() };
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  api: TestServer,
  files: Record<string, { type: string; body: string | Buffer }>,
): boolean {
  const url = new URL(req.url ?? '/', 'http://demo');
  if (req.method === 'POST' && url.pathname === '/admin/outage') {
    api.outage = url.searchParams.get('on') === '1';
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ outage: api.outage }));
    return true;
  }
  if (req.method === 'POST' && url.pathname === '/admin/add') {
    let id = api.items.size + 1;
    while (api.items.has(String(id))) id++;
    api.editItem(String(id), { name: `Order ${id} (added elsewhere)`, qty: 1 });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: String(id), ...(api.items.get(String(id))?.value as object) }));
    return true;
  }
  const edit = /^\/admin\/edit\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'POST' && edit) {
    const id = edit[1]!;
    const current = api.items.get(id)?.value as { name?: string; qty?: number } | undefined;
    api.editItem(id, {
      ...current,
      qty: (current?.qty ?? 0) + 100,
      name: `${current?.name ?? 'Item'} (edited elsewhere)`,
    });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(api.items.get(id)?.value ?? null));
    return true;
  }
  const file = files[url.pathname];
  if (req.method !== 'GET' || !file) return false;
  res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' }).end(file.body);
  return true;
}

async function bundle(): Promise<{ app: string; sw: string }> {
  const common = {
    bundle: true,
    write: false,
    minify: true,
    target: 'es2022',
    platform: 'browser',
  } as const;
  const [app, sw] = await Promise.all([
    build({ ...common, entryPoints: [new URL('app.ts', web).pathname], format: 'esm' }),
    build({ ...common, entryPoints: [new URL('sw.ts', web).pathname], format: 'iife' }),
  ]);
  return { app: app.outputFiles[0]!.text, sw: sw.outputFiles[0]!.text };
}
