import { collectionOf } from './cache/cache-writes.js';
import type { ConflictDetector, ConflictStrategy } from './conflict/conflict-types.js';
import { type MergeInput, mergeJson } from './conflict/merge-json.js';
import { DEFAULT_RETRY, type RetryPolicy } from './engine/backoff.js';
import { ConfigError } from './errors.js';
import type { FetchLike } from './http/transport.js';
import { parseBaseUrl, resolveUrl } from './http/url.js';
import type { CacheStrategy, QnoxSyncOptions } from './options.js';
import { type Clock, systemClock } from './platform/clock.js';

export const STRATEGIES = new Set<CacheStrategy>([
  'networkFirst',
  'cacheFirst',
  'staleWhileRevalidate',
  'cacheOnly',
  'networkOnly',
]);
const CONFLICT_NAMES = new Set(['park', 'server-wins', 'client-wins', 'merge']);

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
  readonly conflictStrategy: ConflictStrategy;
  readonly conflictDetector: ConflictDetector | undefined;
  readonly merge: (input: MergeInput) => unknown;
  readonly maxConflictRounds: number;
  readonly invalidates: (url: string) => string[];
  readonly coalesce: boolean;
}

export function resolveOptions(options: QnoxSyncOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('options', 'an options object is required');
  const base = parseBaseUrl(options.baseUrl);
  const allowed = allowedOrigins(base, options.allowedOrigins ?? []);
  const strategy = options.cacheStrategy ?? 'networkFirst';
  if (!STRATEGIES.has(strategy))
    throw new ConfigError('cacheStrategy', `unknown strategy "${String(strategy)}"`);
  const fetchImpl = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== 'function')
    throw new ConfigError('fetch', 'no fetch available; pass one');
  const scope = options.cacheScope ?? '';
  const tieBreaker = options.mergeTieBreaker ?? 'local';
  if (tieBreaker !== 'local' && tieBreaker !== 'server')
    throw new ConfigError('mergeTieBreaker', 'must be "local" or "server"');
  return {
    base,
    allowed,
    probeUrl: resolveUrl(base, options.probeUrl ?? base.href, allowed),
    retry: validateRetry(options.retry),
    concurrency: positiveInt('concurrency', options.concurrency ?? 4),
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? 30_000),
    ttlMs: nonNegative('cacheTtlMs', options.cacheTtlMs ?? 300_000),
    maxStaleMs: nonNegative('maxStaleMs', options.maxStaleMs ?? 604_800_000),
    strategy,
    fetch: (input, init) => fetchImpl(input, init),
    scope: typeof scope === 'function' ? scope : () => scope,
    clock: options.clock ?? systemClock,
    conflictStrategy: validateConflict('conflictStrategy', options.conflictStrategy ?? 'park'),
    conflictDetector: options.conflictDetector,
    merge: options.merge ?? ((input) => mergeJson(input, { tieBreaker })),
    maxConflictRounds: positiveInt('maxConflictRounds', options.maxConflictRounds ?? 3),
    invalidates: options.invalidates ?? collectionOf,
    coalesce: options.coalesce ?? false,
  };
}

export function validateConflict(option: string, value: ConflictStrategy): ConflictStrategy {
  if (typeof value !== 'function' && !CONFLICT_NAMES.has(value)) {
    throw new ConfigError(
      option,
      `must be park, server-wins, client-wins, merge or a function, got "${String(value)}"`,
    );
  }
  return value;
}

function validateRetry(retry: Partial<RetryPolicy> | undefined): RetryPolicy {
  const merged = { ...DEFAULT_RETRY, ...retry };
  nonNegative('retry.baseDelayMs', merged.baseDelayMs);
  nonNegative('retry.maxDelayMs', merged.maxDelayMs);
  positiveInt('retry.maxAttempts', merged.maxAttempts);
  if (merged.maxDelayMs < merged.baseDelayMs) {
    throw new ConfigError('retry.maxDelayMs', 'must not be smaller than retry.baseDelayMs');
  }
  return merged;
}

function allowedOrigins(base: URL, extra: readonly string[]): ReadonlySet<string> {
  const set = new Set([base.origin]);
  for (const origin of extra) {
    try {
      set.add(new URL(origin).origin);
    } catch {
      throw new ConfigError('allowedOrigins', `"${origin}" is not an absolute URL`);
    }
  }
  return set;
}

function nonNegative(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(option, `must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function positive(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(option, `must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function positiveInt(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(option, `must be an integer >= 1, got ${String(value)}`);
  return value;
}
