/**
 * The demo app's server: a field-orders API under /api (the test server: ETags,
 * faults, the change feed), made idempotent by the server half in front of it
 * (`withIdempotency`, and `batchHandler` at /api/batch; keys in memory, or in
 * Redis / PostgreSQL with `redisUrl` / `databaseUrl`), the page and its service worker, and two admin switches:
 * POST /admin/outage?on=1|0 (the API drops every connection) and
 * POST /admin/edit/:id (someone else edits an order behind the client's back), and
 * POST /admin/add (someone else adds an order; the page sees it at its next pull of
 * the change feed, GET /api/items/changes).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { batchHandler, toNodeListener, withIdempotency } from '../src/server.js';
import { TestServer } from '../test/helpers/test-server.js';
import { forwardTo, idempotencyStore, type KeyStore } from './demo-keys.js';

const web = new URL('./web/', import.meta.url);

export interface DemoServer {
  readonly url: string;
  /** The API behind the front (it does not deduplicate by itself: the front does). */
  readonly api: TestServer;
  /** Where the front keeps idempotency keys: 'memory', 'redis' or 'postgres'. */
  readonly keys: KeyStore['kind'];
  /** Batches the front's batchHandler served (POST /api/batch). */
  readonly batches: number;
  close(): Promise<void>;
}

/** Where the front keeps its keys: memory unless a Redis or PostgreSQL URL is given. */
export interface DemoOptions {
  /** e.g. process.env.REDIS_URL */
  redisUrl?: string | undefined;
  /** e.g. process.env.DATABASE_URL (used when no redisUrl) */
  databaseUrl?: string | undefined;
}

/** Bundles the page and worker (esbuild, in memory) and serves them with the API on one origin. */
export async function startDemoServer(port = 0, options: DemoOptions = {}): Promise<DemoServer> {
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
  // The front deduplicates; the API behind it runs whatever reaches it.
  api.dedupe = false;
  const backend = await api.start(0);
  const keys = await idempotencyStore(options);
  const guarded = withIdempotency(forwardTo(backend), {
    store: keys.store,
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  });
  let batches = 0;
  const batch = batchHandler((part) => {
    const headers = new Headers(part.headers);
    headers.set('x-batch-part', '1');
    return guarded(new Request(part, { headers }));
  });
  const apiListener = toNodeListener((request) => {
    const path = new URL(request.url).pathname;
    if (request.method === 'POST' && path === '/api/batch') {
      batches++;
      return batch(request);
    }
    return guarded(request);
  });
  const front = createServer((req, res) => {
    if (!req.url?.startsWith('/api')) {
      if (!route(req, res, api, files)) res.writeHead(404).end();
      return;
    }
    if (api.outage) return void req.socket.destroy();
    void apiListener(req, res);
  });
  await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    api,
    keys: keys.kind,
    get batches() {
      return batches;
    },
    close: async () => {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      await api.stop();
      await keys.close();
    },
  };
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
