import { collectionOf } from '../cache/cache-writes.js';
import { Collections } from '../cache/collections.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../engine/backoff.js';
import { checkHeaders } from '../http/headers.js';
import type { FetchLike } from '../http/transport.js';
import { parseBaseUrl, resolveUrl } from '../http/url.js';
import { ConfigError, guarded } from '../model/errors.js';
import type { QnoxPlugin } from '../outbox/plugin-interface.js';
import { type Clock, checkDuration, MAX_TIMER_MS, systemClock } from '../platform/clock.js';
import { GROUPS } from './option-groups.js';
import type { CacheStrategy, FlatOptions, GetOptions, QnoxSyncOptions } from './options.js';
import { checkPlugins } from './plugins.js';

export const STRATEGIES = new Set<CacheStrategy>([
  'networkFirst',
  'cacheFirst',
  'staleWhileRevalidate',
  'cacheOnly',
  'networkOnly',
]);

/** The options that belong to no group. */
const UNGROUPED = ['baseUrl', 'store', 'fetch', 'retry', 'plugins', 'allowedOrigins'] as const;
type FlatName = {
  [G in keyof typeof GROUPS]: (typeof GROUPS)[G][keyof (typeof GROUPS)[G]];
}[keyof typeof GROUPS];
type Known = (typeof UNGROUPED)[number] | keyof typeof GROUPS | FlatName;
/** Compile-time registry check: every option has a place here, and every place is an option. */
const complete: [
  Exclude<keyof QnoxSyncOptions, Known>,
  Exclude<Known, keyof QnoxSyncOptions>,
] extends [never, never]
  ? true
  : never = true;
const KNOWN = new Set<string>([
  ...UNGROUPED,
  ...Object.keys(GROUPS),
  ...Object.values(GROUPS).flatMap((fields) => Object.values(fields)),
]);

const CONFLICTS =
  'the conflicts() plug-in: plugins: [conflicts({ … })] from qnox-offline-sync/conflicts';
/** Options of earlier versions that moved to a plug-in, and where. */
const MOVED: Record<string, string> = {
  conflicts: CONFLICTS,
  conflictStrategy: CONFLICTS,
  conflictDetector: CONFLICTS,
  merge: CONFLICTS,
  mergeTieBreaker: CONFLICTS,
  maxConflictRounds: CONFLICTS,
  coalesce:
    'the coalescing() plug-in: plugins: [coalescing({ always: true })] from qnox-offline-sync/coalescing',
};

/**
 * The options with every group's fields under their flat names (a group's
 * field wins over the flat name); an unknown option, in a group or not, is a
 * `ConfigError` naming it (a typo never silently falls back to a default).
 */
export function ungroup(input: QnoxSyncOptions): FlatOptions {
  if (typeof input !== 'object' || input === null)
    throw new ConfigError('options', 'an options object is required');
  const flat: Record<string, unknown> = { ...input };
  for (const key of Object.keys(input))
    if (!KNOWN.has(key) || !complete)
      throw new ConfigError(
        key,
        Object.hasOwn(MOVED, key) ? `moved to ${MOVED[key]}` : 'is not an option of create()',
      );
  for (const [group, fields] of Object.entries(GROUPS)) {
    const given = (input as unknown as Record<string, unknown>)[group];
    delete flat[group];
    if (given === undefined) continue;
    if (typeof given !== 'object' || given === null)
      throw new ConfigError(group, `must be an object of ${Object.keys(fields).join(', ')}`);
    for (const [field, value] of Object.entries(given)) {
      const name = (fields as Record<string, string>)[field];
      if (name === undefined)
        throw new ConfigError(
          `${group}.${field}`,
          Object.hasOwn(MOVED, field) && group === 'delivery'
            ? `moved to ${MOVED[field]}`
            : 'is not an option of create()',
        );
      if (value !== undefined) flat[name] = value;
    }
  }
  return flat as unknown as FlatOptions;
}

/** Every option with its default applied, validated once at `create`. */
export interface ResolvedOptions {
  readonly base: URL;
  readonly allowed: ReadonlySet<string>;
  readonly probeUrl: string;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly ttlMs: number;
  readonly maxStaleMs: number;
  readonly strategy: CacheStrategy;
  readonly fetch: FetchLike;
  readonly scope: () => string;
  readonly clock: Clock;
  readonly invalidates: (url: string) => string[];
  readonly collections: Collections;
  readonly plugins: readonly QnoxPlugin[];
}

export function resolveOptions(options: FlatOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('options', 'an options object is required');
  checkShapes(options);
  const base = parseBaseUrl(options.baseUrl);
  const allowed = allowedOrigins(base, options.allowedOrigins ?? []);
  const strategy = options.cacheStrategy ?? 'networkFirst';
  if (!STRATEGIES.has(strategy))
    throw new ConfigError('cacheStrategy', `unknown strategy "${String(strategy)}"`);
  const fetchImpl = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== 'function')
    throw new ConfigError('fetch', 'no fetch available; pass one');
  const scope = options.cacheScope ?? '';
  return {
    base,
    allowed,
    probeUrl: resolveUrl(base, options.probeUrl ?? base.href, allowed),
    retry: validateRetry(options.retry),
    concurrency: positiveInt('concurrency', options.concurrency ?? 4),
    timeoutMs: checkDuration('timeoutMs', options.timeoutMs ?? 30_000),
    ttlMs: nonNegative('cacheTtlMs', options.cacheTtlMs ?? 300_000),
    maxStaleMs: nonNegative('maxStaleMs', options.maxStaleMs ?? 604_800_000),
    strategy,
    fetch: (input, init) => fetchImpl(input, init),
    scope: typeof scope === 'function' ? guarded('cacheScope', scope) : () => scope,
    clock: options.clock ?? systemClock,
    invalidates: options.invalidates ? guarded('invalidates', options.invalidates) : collectionOf,
    collections: new Collections(base, options.collections, allowed),
    plugins: checkPlugins(options.plugins),
  };
}

/** Checks a `get()` call's options; returns them with the headers checked. */
export function checkGetOptions(
  options: GetOptions,
): GetOptions & { headers: Record<string, string> } {
  if (options.strategy !== undefined && !STRATEGIES.has(options.strategy))
    throw new ConfigError('strategy', `unknown strategy "${String(options.strategy)}"`);
  if (options.timeoutMs !== undefined) checkDuration('timeoutMs', options.timeoutMs);
  if (options.ttlMs !== undefined) nonNegative('ttlMs', options.ttlMs);
  return { ...options, headers: checkHeaders(options.headers) };
}

function validateRetry(retry: Partial<RetryPolicy> | undefined): RetryPolicy {
  const merged = { ...DEFAULT_RETRY, ...retry };
  nonNegative('retry.baseDelayMs', merged.baseDelayMs);
  nonNegative('retry.maxDelayMs', merged.maxDelayMs);
  if (merged.maxDelayMs > MAX_TIMER_MS)
    throw new ConfigError(
      'retry.maxDelayMs',
      `must be at most ${MAX_TIMER_MS} ms (about 24.8 days)`,
    );
  positiveInt('retry.maxAttempts', merged.maxAttempts);
  if (merged.maxDelayMs < merged.baseDelayMs) {
    throw new ConfigError('retry.maxDelayMs', 'must not be smaller than retry.baseDelayMs');
  }
  return merged;
}

function allowedOrigins(base: URL, extra: readonly string[]): ReadonlySet<string> {
  if (!Array.isArray(extra)) throw new ConfigError('allowedOrigins', 'must be an array of origins');
  const set = new Set([base.origin]);
  for (const origin of extra) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError('allowedOrigins', `"${origin}" is not an absolute URL`);
    }
    // An opaque origin ("null": data:, blob:, file:) would match every other opaque one.
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ConfigError('allowedOrigins', `"${origin}" must be an http(s) origin`);
    set.add(url.origin);
  }
  return set;
}

/** Methods an option object must have, and options that must be functions: a wrong shape fails here, not at first use. */
const SHAPES: Record<string, readonly string[]> = {
  clock: ['now', 'setTimeout', 'clearTimeout'],
  connectivity: ['isOnline', 'subscribe'],
  store: [
    'init',
    'enqueue',
    'dueTasks',
    'updateTask',
    'removeTask',
    'pendingCount',
    'putCache',
    'getCache',
    'purgeExpiredCache',
    'addDeadLetter',
    'deadLetters',
    'removeDeadLetter',
    'listTasks',
    'clear',
    'close',
  ],
};
const FUNCTIONS = ['authTokenProvider', 'refreshToken', 'fetch', 'invalidates', 'random'] as const;

function checkShapes(options: FlatOptions): void {
  const bag = options as unknown as Record<string, unknown>;
  for (const [option, methods] of Object.entries(SHAPES)) {
    const value = bag[option] as Record<string, unknown> | undefined;
    if (value === undefined) continue;
    const missing = methods.filter((m) => typeof value?.[m] !== 'function');
    if (typeof value !== 'object' || value === null || missing.length > 0)
      throw new ConfigError(
        option,
        `must be an object with ${methods.join(', ')} (missing ${missing.join(', ')})`,
      );
  }
  for (const option of FUNCTIONS) {
    if (bag[option] !== undefined && typeof bag[option] !== 'function')
      throw new ConfigError(option, `must be a function, got ${typeof bag[option]}`);
  }
  const scope = bag.cacheScope;
  if (scope !== undefined && typeof scope !== 'string' && typeof scope !== 'function')
    throw new ConfigError('cacheScope', 'must be a string or a function returning one');
}

function nonNegative(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(option, `must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function positiveInt(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(option, `must be an integer >= 1, got ${String(value)}`);
  return value;
}
