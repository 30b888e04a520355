import { checkHeaders, isHeaderValue } from '../http/headers.js';
import { pathOf } from '../http/url.js';
import { encodeBody } from '../model/body.js';
import { ConfigError } from '../model/errors.js';
import { type MutationMethod, type NewTaskRecord, RECORD_VERSION } from '../model/records.js';
import { checkDuration } from '../platform/clock.js';
import type { MutationOptions } from './mutation-options.js';

export interface BuildContext {
  readonly now: number;
  readonly defaultOrderingKey: string;
  readonly newId: () => string;
}

/** Turns a `post/put/patch/delete` call into the record the outbox stores. */
export function buildTask(
  method: MutationMethod,
  url: string,
  data: unknown,
  options: MutationOptions,
  context: BuildContext,
): NewTaskRecord {
  const orderingKey =
    options.orderingKey ??
    (context.defaultOrderingKey === 'path' ? pathOf(url) : context.defaultOrderingKey);
  if (typeof orderingKey !== 'string' || orderingKey === '')
    throw new ConfigError('orderingKey', 'must be a non-empty string');
  if (options.timeoutMs !== undefined) checkDuration('timeoutMs', options.timeoutMs);
  const headers = checkHeaders(options.headers);
  let idempotencyKey = options.idempotencyKey;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      throw new ConfigError(
        'headers',
        'authorization is added at send time by authTokenProvider and never stored',
      );
    }
    // The key travels once: a caller's header is the key (as if passed as `idempotencyKey`).
    if (lower === 'idempotency-key') {
      if (idempotencyKey !== undefined && idempotencyKey !== headers[name])
        throw new ConfigError('headers', 'Idempotency-Key differs from the idempotencyKey option');
      idempotencyKey = headers[name];
      delete headers[name];
    }
  }
  if (idempotencyKey !== undefined) checkIdempotencyKey(idempotencyKey);
  const body = encodeBody(snapshotBody(data));
  const id = context.newId();
  return {
    v: RECORD_VERSION,
    id,
    idempotencyKey: idempotencyKey ?? context.newId(),
    method,
    url,
    headers,
    ...(body ? { body } : {}),
    orderingKey,
    createdAt: context.now,
    attempts: 0,
    nextAttemptAt: context.now,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
}

/**
 * Copies the body as JSON would send it, so a caller mutating its object after
 * enqueue cannot change a queued write, and data JSON would mangle fails now
 * with a `ConfigError('data')` instead of reaching the server as `{}` or `null`.
 * Accepted: a string (sent as text), or a JSON value of plain objects, arrays,
 * finite numbers, booleans and null; a `Date` inside it goes out as its ISO
 * string, as `JSON.stringify` writes it.
 */
export function snapshotBody(data: unknown): unknown {
  if (data === undefined || typeof data === 'string') return data;
  assertJsonValue(data, 'data', true);
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new ConfigError('data', `cannot be stored as JSON (${String(cause)})`);
  }
  if (json === undefined) throw new ConfigError('data', 'must be a JSON value or a string');
  return JSON.parse(json);
}

function assertJsonValue(value: unknown, at: string, top: boolean, depth = 0): void {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new ConfigError(
        'data',
        `${at} is ${value}, which JSON cannot carry (it would be sent as null)`,
      );
    return;
  }
  if (typeof value !== 'object')
    throw new ConfigError('data', `${at} is a ${typeof value}, which JSON cannot carry`);
  if (depth > 256) throw new ConfigError('data', `${at} is nested too deeply`);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertJsonValue(item, `${at}[${i}]`, false, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (!top && value instanceof Date) return;
  if (proto !== Object.prototype && proto !== null) {
    const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new ConfigError(
      'data',
      `${at} is a ${kind}, which JSON would mangle; send a plain object, an array or a string`,
    );
  }
  for (const [key, item] of Object.entries(value))
    if (item !== undefined) assertJsonValue(item, `${at}.${key}`, false, depth + 1);
}

/** What the Idempotency-Key header may carry: 1 to 255 characters a header value may hold. */
function checkIdempotencyKey(key: unknown): void {
  if (typeof key !== 'string' || key.trim() === '' || key.length > 255 || !isHeaderValue(key))
    throw new ConfigError(
      'idempotencyKey',
      'must be a string of 1 to 255 characters without line breaks (Latin-1)',
    );
}
