import { classifyStatus } from '../http/classify.js';
import type { Reachability } from '../http/reachability.js';
import type { Transport } from '../http/transport.js';
import { bodyData } from '../model/body.js';
import { AuthError, CacheMissError, HttpError, isQnoxError } from '../model/errors.js';
import type { SyncEvent } from '../model/events.js';
import { type CacheRecord, decodeCache, RECORD_VERSION } from '../model/records.js';
import type { QnoxResponse } from '../model/responses.js';
import type { Clock } from '../platform/clock.js';
import { isCrossOrigin, likelyCors } from '../platform/page-origin.js';
import type { Emitter } from '../status/subscribable.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { dropCache } from '../stores/store-access.js';
import {
  cacheKey,
  forbidsStorage,
  mustRevalidate,
  sameVariant,
  storableHeaders,
  varyValues,
} from './cache-key.js';
import type { CacheStrategy, GetOptions } from './get-options.js';

export interface CacheReaderDeps {
  readonly store: QnoxLocalStore;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly events: Emitter<SyncEvent>;
  readonly reachability: Reachability;
  readonly scope: () => string;
  readonly ttlMs: number;
  readonly timeoutMs: number;
  readonly strategy: CacheStrategy;
}

/** Answers GETs by strategy, keeps the cache, revalidates with ETag / Last-Modified. */
export class CacheReader {
  readonly #revalidating = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: CacheReaderDeps) {}

  async get<T>(url: string, options: GetOptions): Promise<QnoxResponse<T>> {
    const strategy = options.strategy ?? (options.cacheFirst ? 'cacheFirst' : this.deps.strategy);
    const key = cacheKey(this.deps.scope(), 'GET', url);
    if (strategy === 'networkOnly') return this.#network<T>(url, key, undefined, options, false);

    const stored = await this.#readCache(key);
    // Another variant (`Vary`) is no answer to this request, though its optimistic layers still show.
    const cached =
      stored && (stored.pending?.length || sameVariant(stored.vary, options.headers ?? {}))
        ? stored
        : undefined;
    const fresh = cached !== undefined && cached.expiresAt > this.deps.clock.now();
    // Until its writes are acknowledged, an optimistic entry is what the user should see.
    if (cached?.pending?.length) return this.#hit<T>(cached);
    switch (strategy) {
      case 'cacheOnly':
        if (cached) return this.#hit<T>(cached);
        this.deps.events.emit({ type: 'cache-miss', url });
        throw new CacheMissError(url);
      case 'cacheFirst':
        if (cached && fresh) return this.#hit<T>(cached);
        break;
      case 'staleWhileRevalidate':
        if (cached) {
          if (!fresh) this.#revalidateInBackground(url, key, cached, options);
          return this.#hit<T>(cached);
        }
        break;
      default:
        if (cached && !this.deps.reachability.online) return this.#hit<T>(cached);
    }
    if (!cached) this.deps.events.emit({ type: 'cache-miss', url });
    try {
      return await this.#network<T>(url, key, cached, options, true);
    } catch (error) {
      if (cached && canFallBack(error)) return this.#hit<T>(cached);
      throw error;
    }
  }

  /** A cached entry that cannot be read is dropped and reported: it is only a copy, the network has the original. */
  async #readCache(key: string): Promise<CacheRecord | undefined> {
    try {
      const raw = await this.deps.store.getCache(key);
      return raw === undefined ? undefined : decodeCache(raw);
    } catch (error) {
      if (isQnoxError(error) && error.code !== 'storage') throw error;
      await dropCache(this.deps.store, key).catch(() => {});
      this.deps.events.emit({
        type: 'quarantined',
        reason: (error as Error).message ?? String(error),
      });
      return undefined;
    }
  }

  #hit<T>(entry: CacheRecord): QnoxResponse<T> {
    const stale = entry.expiresAt <= this.deps.clock.now();
    this.deps.events.emit({ type: 'cache-hit', url: entry.url, stale });
    return {
      status: entry.status,
      data: bodyData(entry.body) as T,
      headers: entry.headers,
      fromCache: true,
      stale,
      pendingWrites: (entry.pending?.length ?? 0) > 0,
    };
  }

  #revalidateInBackground(
    url: string,
    key: string,
    cached: CacheRecord,
    options: GetOptions,
  ): void {
    if (this.#revalidating.has(key)) return;
    const running = this.#network(url, key, cached, options, true)
      .catch(() => undefined)
      .finally(() => this.#revalidating.delete(key));
    this.#revalidating.set(key, running);
  }

  async #network<T>(
    url: string,
    key: string,
    cached: CacheRecord | undefined,
    options: GetOptions,
    keep: boolean,
  ): Promise<QnoxResponse<T>> {
    const { transport, store, clock, reachability } = this.deps;
    const headers: Record<string, string> = { ...options.headers };
    if (cached?.headers.etag) headers['if-none-match'] = cached.headers.etag;
    if (cached?.headers['last-modified'])
      headers['if-modified-since'] = cached.headers['last-modified'];
    let response: Awaited<ReturnType<Transport['send']>>;
    try {
      response = await transport.send({
        method: 'GET',
        url,
        headers,
        timeoutMs: options.timeoutMs ?? this.deps.timeoutMs,
      });
    } catch (error) {
      if (!isQnoxError(error) || error.code !== 'network') throw error;
      // Only a cross-origin failure waits for the probe: a reachable server means CORS refused it.
      if (!isCrossOrigin(url)) void reachability.confirm();
      else if (await reachability.confirm()) throw likelyCors(url, error);
      throw error;
    }
    reachability.reportSuccess();
    const now = clock.now();
    const expiresAt = mustRevalidate(response.headers)
      ? now
      : now + (options.ttlMs ?? this.deps.ttlMs);
    if (response.status === 304 && cached) {
      const renewed: CacheRecord = { ...cached, storedAt: now, expiresAt };
      await store.putCache(renewed);
      return {
        status: cached.status,
        data: bodyData(cached.body) as T,
        headers: cached.headers,
        fromCache: true,
        stale: false,
        pendingWrites: false,
      };
    }
    const view = {
      status: response.status,
      headers: response.headers,
      data: bodyData(response.body),
    };
    const outcome = classifyStatus(response.status);
    if (outcome === 'auth') throw new AuthError(`Server answered 401 to GET ${url}`);
    if (outcome !== 'success') throw new HttpError(view);
    if (keep && !forbidsStorage(response.headers)) {
      const vary = varyValues(response.headers, options.headers ?? {});
      await store.putCache({
        v: RECORD_VERSION,
        key,
        url,
        status: response.status,
        headers: storableHeaders(response.headers),
        body: response.body,
        storedAt: now,
        expiresAt,
        ...(vary ? { vary } : {}),
      });
      this.deps.events.emit({ type: 'cache-updated', url, remote: false });
    }
    return {
      status: response.status,
      data: view.data as T,
      headers: response.headers,
      fromCache: false,
      stale: false,
      pendingWrites: false,
    };
  }
}

function canFallBack(error: unknown): boolean {
  if (!isQnoxError(error)) return false;
  if (['network', 'timeout', 'redirect', 'cors'].includes(error.code)) return true;
  return error instanceof HttpError && classifyStatus(error.response.status) === 'retry';
}
