/** The demo front's idempotency keys (memory, Redis or PostgreSQL) and its forwarding to the API. */
import {
  type FetchHandler,
  type IdempotencyStore,
  memoryIdempotencyStore,
  postgresIdempotencyStore,
  redisIdempotencyStore,
} from '../src/server.js';

export interface KeyStore {
  readonly kind: 'memory' | 'redis' | 'postgres';
  readonly store: IdempotencyStore;
  close(): Promise<void>;
}

/** Memory by default; Redis with `redisUrl`, else PostgreSQL with `databaseUrl` (clients loaded only then). */
export async function idempotencyStore(options: {
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
}): Promise<KeyStore> {
  if (options.redisUrl) {
    const { Redis } = await import('ioredis');
    const client = new Redis(options.redisUrl, { enableOfflineQueue: false });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    return {
      kind: 'redis',
      store: redisIdempotencyStore({ client }),
      close: async () => void client.disconnect(),
    };
  }
  if (options.databaseUrl) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: options.databaseUrl, query_timeout: 2_000 });
    pool.on('error', () => {});
    const store = postgresIdempotencyStore({ pool });
    await store.migrate();
    return { kind: 'postgres', store, close: () => pool.end() };
  }
  return { kind: 'memory', store: memoryIdempotencyStore(), close: async () => {} };
}

// Hop-by-hop headers stay at the front; so does Origin (the page and the front share one).
const HOP_BY_HOP = [
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'origin',
];

/** A Fetch-API handler that passes each request on to `origin` (the API behind the front). */
export function forwardTo(origin: string): FetchHandler {
  return async (request) => {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    const answer = await fetch(`${origin}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: hasBody ? await request.arrayBuffer() : null,
      redirect: 'manual',
    });
    const out = new Headers(answer.headers);
    for (const name of HOP_BY_HOP) out.delete(name);
    const empty = answer.status === 204 || answer.status === 304 || request.method === 'HEAD';
    return new Response(empty ? null : await answer.arrayBuffer(), {
      status: answer.status,
      headers: out,
    });
  };
}
