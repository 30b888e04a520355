import { type DrainContext, drainContext } from '../../engine/drain-port.js';
import type { EngineAccess } from '../../engine/lane.js';
import { ConfigError } from '../../model/errors.js';
import { RECORD_VERSION } from '../../model/records.js';
import type { QnoxPlugin } from '../../outbox/plugin-interface.js';
import { type BatchCodec, jsonBatchCodec } from './batch-codec.js';
import { BatchPass } from './batch-pass.js';

/** Options of {@link batching}. */
export interface BatchingOptions {
  /**
   * The batch endpoint, relative to `baseUrl` (or absolute, on an allowed origin).
   * @default '/batch'
   * @example '/$batch'
   */
  url?: string;
  /**
   * Writes per batch at most.
   * @default 20
   * @example 50
   */
  maxRequests?: number;
  /**
   * Bytes of sub-requests (as JSON) per batch at most; a write larger than this goes singly.
   * @default 262144 (256 KiB)
   * @example 64 * 1024
   */
  maxBytes?: number;
  /**
   * Batches in flight at once (each on other ordering keys).
   * @default 1
   * @example 2
   */
  concurrency?: number;
  /**
   * Timeout of one batch request.
   * @default the longest timeout of the writes in it (the client's `delivery.timeoutMs`)
   * @example 60_000
   */
  timeoutMs?: number;
  /**
   * How long a batch URL that answered 404, 405 or 501 is remembered (in the
   * store) as taking no batches; writes go singly meanwhile.
   * @default 86_400_000 (24 hours)
   * @example 3_600_000
   */
  recheckMs?: number;
  /**
   * How batches are spoken on the wire.
   * @default JSON batching as Microsoft Graph and OData 4.01 describe it ({@link jsonBatchCodec})
   * @example { encode: (requests) => ({ ops: requests }), decode: (body) => (body as { results: [] }).results }
   */
  codec?: BatchCodec;
}

const OPTIONS = [
  'url',
  'maxRequests',
  'maxBytes',
  'concurrency',
  'timeoutMs',
  'recheckMs',
  'codec',
];

/**
 * Batching as a plug-in: what is due goes out in batches of up to
 * `maxRequests` writes (`POST {url}` with `{ requests: [...] }`), a key's
 * writes chained with `dependsOn` so the server keeps their order. Every
 * sub-response is classified like a single response (2xx delivered, 409/412
 * conflicts, 401 the shared refresh, retryable statuses and `Retry-After` per
 * write, other 4xx dead letters); a batch that gets no answer or a 5xx is
 * retried, each write under its own idempotency key. A batch URL that answers
 * 404, 405 or 501 is remembered and writes go singly, with a `warning` event
 * (`code: 'batch-unsupported'`); writes whose body is not JSON always go singly.
 *
 * @example
 * import { batching } from 'qnox-offline-sync/batching';
 * const sync = await QnoxSync.create({
 *   baseUrl,
 *   plugins: [batching({ url: '/batch', maxRequests: 20, maxBytes: 256 * 1024 })],
 * });
 */
export function batching(options: BatchingOptions = {}): QnoxPlugin {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('batching', 'must be an options object');
  for (const key of Object.keys(options))
    if (!OPTIONS.includes(key))
      throw new ConfigError(`batching.${key}`, 'is not an option of batching()');
  const path = options.url ?? '/batch';
  if (typeof path !== 'string' || path === '')
    throw new ConfigError('batching.url', 'must be a non-empty string');
  const maxRequests = count('maxRequests', options.maxRequests ?? 20);
  const maxBytes = count('maxBytes', options.maxBytes ?? 256 * 1024);
  const concurrency = count('concurrency', options.concurrency ?? 1);
  const recheckMs = count('recheckMs', options.recheckMs ?? 86_400_000);
  const timeoutMs =
    options.timeoutMs === undefined ? undefined : count('timeoutMs', options.timeoutMs);
  const codec = options.codec ?? jsonBatchCodec;
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function')
    throw new ConfigError('batching.codec', 'must be an object with encode and decode functions');
  /** Per client (its drain context): until when its batch URL takes no batches. */
  const unsupportedUntil = new WeakMap<DrainContext, Promise<number>>();
  const contexts = new WeakMap<EngineAccess, DrainContext>();
  return {
    name: 'batching',
    ports: {
      drain: {
        async pass(engine) {
          const ctx = contexts.get(engine) ?? drainContext(engine);
          contexts.set(engine, ctx);
          const url = new URL(path.replace(/^\//, ''), withSlash(ctx.baseUrl)).href;
          const key = `qnox-meta:batch-unsupported:${url}`;
          let until = unsupportedUntil.get(ctx);
          if (!until) {
            until = ctx.store
              .getCache(key)
              .then((r) => (r ? r.expiresAt : 0))
              .catch(() => 0);
            unsupportedUntil.set(ctx, until);
          }
          if ((await until) > ctx.clock.now()) return false;
          const settings = { url, maxRequests, maxBytes, concurrency, timeoutMs, codec };
          return new BatchPass(ctx, settings, async (status) => {
            const now = ctx.clock.now();
            unsupportedUntil.set(ctx, Promise.resolve(now + recheckMs));
            ctx.events.emit({
              type: 'warning',
              code: 'batch-unsupported',
              url,
              message: `${url} answered ${status}: it takes no batches, so writes go singly (looked at again in ${recheckMs} ms)`,
            });
            // Remembered in the store, so a restart does not probe again at once.
            await ctx.store
              .putCache({
                v: RECORD_VERSION,
                key,
                url,
                status,
                headers: {},
                body: null,
                storedAt: now,
                expiresAt: now + recheckMs,
              })
              .catch(() => undefined);
          }).run();
        },
      },
    },
  };
}

function count(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`batching.${option}`, `must be an integer >= 1, got ${String(value)}`);
  return value;
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
