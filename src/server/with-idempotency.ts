import { ConfigError } from '../model/errors.js';
import { type Clock, systemClock, type TimerHandle } from '../platform/clock.js';
import { fingerprint, PROBLEMS, parseKey, problem } from './idempotency-key.js';
import type { IdempotencyStore } from './idempotency-store.js';
import { bodyBytes, bodyKnown, withKnownBody } from './known-body.js';
import { type HeldKey, keep, markHeld, rebuild } from './stored-response.js';

/** A Fetch-API handler: what Hono, itty-router, Bun and Deno serve, and `toNodeListener` adapts. */
export type FetchHandler = (request: Request) => Promise<Response> | Response;

/** Options of {@link withIdempotency}. */
export interface IdempotencyOptions {
  /**
   * Where keys, leases and stored responses live.
   * @example redisIdempotencyStore({ client: new Redis(url) })
   */
  store: IdempotencyStore;
  /**
   * How long a response is kept under its key.
   * @default 86_400_000 (24 hours)
   * @example 3_600_000
   */
  ttlMs?: number;
  /**
   * How long a running request holds its key without renewing it (it renews
   * every third of it while the handler runs): a process that dies mid-handler
   * frees its keys after this.
   * @default 30_000
   * @example 10_000
   */
  leaseMs?: number;
  /**
   * Methods whose requests are made idempotent by their key.
   * @default ['POST', 'PATCH']
   * @example ['POST', 'PUT', 'PATCH', 'DELETE']
   */
  methods?: readonly string[];
  /**
   * Whether a request of those methods without a key is refused (400).
   * @default false (it passes through untouched)
   * @example true
   */
  required?: boolean;
  /**
   * Who the key belongs to: two callers' keys never collide.
   * @default '' (one space of keys for everyone)
   * @example (req) => req.headers.get('authorization') ?? ''
   */
  scope?: (request: Request) => string | Promise<string>;
  /**
   * How long one store command may take before the request is answered 503 (the handler does not run).
   * @default 2_000
   * @example 500
   */
  storeTimeoutMs?: number;
  /**
   * Time and timers (leases, store timeouts).
   * @default systemClock
   * @example new ManualClock()
   */
  clock?: Clock;
}

/**
 * Makes a handler honour `Idempotency-Key` as the IETF draft describes it:
 * the first request with a key runs the handler once and its response is kept
 * (`ttlMs`) under the key, scoped by `scope` and bound to the request's
 * method, path and body; a retry gets it again with `Idempotent-Replayed:
 * true`; the same key while the first runs is a 409 (problem type
 * {@link PROBLEMS}.inProgress, `Retry-After`), with another request a 422,
 * and a bad or (with `required`) missing key a 400. A handler that throws or
 * answers 5xx frees its key; a store that cannot be reached is a 503 and
 * nothing runs.
 *
 * @example
 * const api = withIdempotency(app.fetch, { store: memoryIdempotencyStore() });
 * http.createServer(toNodeListener(api)).listen(8080);
 */
export function withIdempotency(handler: FetchHandler, options: IdempotencyOptions): FetchHandler {
  const { store, required = false, scope } = options;
  const ttlMs = options.ttlMs ?? 86_400_000;
  const leaseMs = options.leaseMs ?? 30_000;
  const storeTimeoutMs = options.storeTimeoutMs ?? 2_000;
  const clock = options.clock ?? systemClock;
  const methods = new Set((options.methods ?? ['POST', 'PATCH']).map((m) => m.toUpperCase()));
  if (typeof store?.begin !== 'function')
    throw new ConfigError('store', 'must be an IdempotencyStore (begin, renew, complete, release)');
  for (const [name, value] of [
    ['ttlMs', ttlMs],
    ['leaseMs', leaseMs],
    ['storeTimeoutMs', storeTimeoutMs],
  ] as const)
    if (!Number.isFinite(value) || value <= 0)
      throw new ConfigError(name, `must be a number > 0, got ${String(value)}`);

  /** A store command, bounded: a store that hangs is as down as one that refuses. */
  const bounded = <T>(run: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(() => reject(new Error('store timeout')), storeTimeoutMs);
      run().then(
        (value) => {
          clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  const storeDown = () =>
    problem(503, PROBLEMS.storeDown, 'The idempotency store cannot be reached; nothing ran', {
      'retry-after': '1',
    });

  return async (request) => {
    if (!methods.has(request.method.toUpperCase())) return handler(request);
    const header = request.headers.get('idempotency-key');
    if (header === null)
      return required
        ? problem(400, PROBLEMS.badKey, 'An Idempotency-Key header is required')
        : handler(request);
    const key = parseKey(header);
    if (key === undefined)
      return problem(
        400,
        PROBLEMS.badKey,
        'The Idempotency-Key must be 1 to 255 visible ASCII characters',
      );
    // Bytes toNodeListener already holds are used as they are, and the request goes to the handler unread.
    const unread = bodyKnown(request);
    const body = await bodyBytes(request);
    const url = new URL(request.url);
    const print = await fingerprint(request.method.toUpperCase(), url, body);
    const scoped = `${scope ? await scope(request) : ''}\u0000${key}`;
    let begun: Awaited<ReturnType<IdempotencyStore['begin']>>;
    try {
      begun = await bounded(() => store.begin(scoped, print, leaseMs));
    } catch {
      return storeDown();
    }
    if (begun.state !== 'acquired' && begun.fingerprint !== print)
      return problem(422, PROBLEMS.mismatch, 'This Idempotency-Key was used for another request');
    if (begun.state === 'running')
      return problem(
        409,
        PROBLEMS.inProgress,
        'A request with this Idempotency-Key is in progress',
        {
          'retry-after': '1',
        },
      );
    if (begun.state === 'done') return rebuild(begun.response, true);
    const { token } = begun;
    let renewal: TimerHandle | undefined;
    const renew = () => {
      renewal = clock.setTimeout(() => {
        void store.renew(scoped, token, leaseMs).catch(() => false);
        renew();
      }, leaseMs / 3);
    };
    renew();
    let response: Response;
    const inner = unread
      ? request
      : withKnownBody(
          new Request(request, {
            body: body.byteLength > 0 ? (body as Uint8Array<ArrayBuffer>) : null,
          }),
          body,
        );
    const hold: HeldKey = { key: scoped, token, ttlMs };
    markHeld(inner, hold);
    try {
      response = await handler(inner);
    } catch (error) {
      clock.clearTimeout(renewal!);
      await bounded(() => store.release(scoped, token)).catch(() => undefined);
      throw error;
    }
    clock.clearTimeout(renewal!);
    const { stored, bytes } = await keep(response);
    // A 5xx says the server failed, not the request: the key is freed for the client's retry.
    if (response.status >= 500)
      await bounded(() => store.release(scoped, token)).catch(() => undefined);
    else if (!hold.completed)
      await bounded(() => store.complete(scoped, token, stored, ttlMs)).catch(() => undefined);
    return rebuild(stored, false, bytes);
  };
}
