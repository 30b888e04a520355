import { ConfigError } from '../errors.js';
import { encodeBody } from '../http/body.js';
import { pathOf } from '../http/url.js';
import type { MutationOptions } from '../options.js';
import { type MutationMethod, type NewTaskRecord, RECORD_VERSION } from './records.js';

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
  if (orderingKey === '') throw new ConfigError('orderingKey', 'must not be empty');
  if (options.idempotencyKey !== undefined && options.idempotencyKey.trim() === '') {
    throw new ConfigError('idempotencyKey', 'must not be empty');
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new ConfigError('timeoutMs', 'must be a positive number of milliseconds');
  }
  for (const name of Object.keys(options.headers ?? {})) {
    if (name.toLowerCase() === 'authorization') {
      throw new ConfigError(
        'headers',
        'authorization is added at send time by authTokenProvider and never stored',
      );
    }
  }
  const body = encodeBody(snapshot(data));
  const id = context.newId();
  return {
    v: RECORD_VERSION,
    id,
    idempotencyKey: options.idempotencyKey ?? context.newId(),
    method,
    url,
    headers: { ...options.headers },
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
 * enqueue cannot change a queued write, and unstorable data fails now, not at send.
 */
function snapshot(data: unknown): unknown {
  if (data === undefined || typeof data === 'string') return data;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new ConfigError('data', `cannot be stored as JSON (${String(cause)})`);
  }
  if (json === undefined) throw new ConfigError('data', 'must be a JSON value or a string');
  return JSON.parse(json);
}
