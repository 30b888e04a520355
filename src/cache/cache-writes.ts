import type { CurrentVersion } from '../conflict/conflict-handler.js';
import { bodyData, encodeBody } from '../http/body.js';
import type { WireResponse } from '../http/transport.js';
import { normalizeUrl } from '../http/url.js';
import { type CacheRecord, RECORD_VERSION, type TaskRecord } from '../outbox/records.js';
import type { Clock } from '../platform/clock.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { cacheKey, storableHeaders } from './cache-key.js';

export interface CacheWritesDeps {
  readonly store: QnoxLocalStore;
  readonly clock: Clock;
  readonly scope: () => string;
  readonly ttlMs: number;
  /** Other cached URLs a write to `url` makes stale (default: its collection). */
  readonly invalidate: (url: string) => string[];
  /** Called after each entry written (read-your-writes, optimistic layers, rollback, expiry). */
  readonly onChanged?: (url: string) => void;
}

/** What a write is made against: the cached ETag / Last-Modified and representation. */
export interface Precondition {
  readonly headers: Record<string, string>;
  readonly base?: unknown;
}

/**
 * The write side of the cache: preconditions from cached validators, read-your-writes
 * after an acknowledgement, optimistic entries and their rollback.
 */
export class CacheWrites {
  /** Per URL, ETags our own acknowledged writes replaced: old → new. */
  readonly #chain = new Map<string, Map<string, string>>();

  constructor(private readonly deps: CacheWritesDeps) {}

  async precondition(url: string): Promise<Precondition> {
    const entry = await this.#entry(url);
    if (!entry) return { headers: {} };
    const headers: Record<string, string> = {};
    // If-Match compares strongly (RFC 9110): a weak ETag cannot be a write's precondition.
    if (entry.headers.etag && !isWeak(entry.headers.etag)) headers['if-match'] = entry.headers.etag;
    else if (entry.headers['last-modified'])
      headers['if-unmodified-since'] = entry.headers['last-modified'];
    // With optimistic layers on top, the server's version is the body before the first layer.
    const serverBody = entry.pending?.[0]?.before ?? entry.body;
    return { headers, base: bodyData(serverBody) };
  }

  /**
   * The task as it goes out: an If-Match on an ETag our own earlier write
   * replaced follows it; one that now leads to a weak ETag is dropped (no strong
   * validator is known any more).
   */
  followIfMatch(task: TaskRecord): TaskRecord {
    const ifMatch = task.headers['if-match'];
    if (!ifMatch) return task;
    const current = this.currentIfMatch(task.url, ifMatch);
    if (current === ifMatch) return task;
    if (isWeak(current)) {
      const { 'if-match': _dropped, ...rest } = task.headers;
      return { ...task, headers: rest };
    }
    return { ...task, headers: { ...task.headers, 'if-match': current } };
  }

  /** The If-Match to send now: a precondition on an ETag our own earlier write replaced follows it. */
  currentIfMatch(url: string, ifMatch: string): string {
    const chain = this.#chain.get(normalizeUrl(url));
    let current = ifMatch;
    for (let hops = 0; chain?.has(current) && hops < 1_000; hops++) current = chain.get(current)!;
    return current;
  }

  async applyOptimistic(task: TaskRecord, update: (current: unknown) => unknown): Promise<boolean> {
    const entry = await this.#entry(task.url);
    if (!entry) return false;
    const next = encodeBody(update(bodyData(entry.body)));
    await this.#write({
      ...entry,
      body: next ?? null,
      pending: [...(entry.pending ?? []), { taskId: task.id, before: entry.body }],
    });
    return true;
  }

  /**
   * Called the moment a write is acknowledged, before the next write of its key
   * goes out: remembers the ETag it replaced, so queued writes follow it.
   */
  noteAcknowledged(task: TaskRecord, response: WireResponse): void {
    const newEtag = response.headers.etag;
    const oldEtag = task.headers['if-match'];
    if (!oldEtag || !newEtag) return;
    const url = normalizeUrl(task.url);
    const chain = this.#chain.get(url) ?? new Map<string, string>();
    chain.set(oldEtag, newEtag);
    this.#chain.set(url, chain);
  }

  async onDelivered(task: TaskRecord, response: WireResponse): Promise<void> {
    const newEtag = response.headers.etag;
    const others = this.deps.invalidate(task.url);
    // One round of reads for the resource and everything it invalidates.
    const [entry, ...stale] = await Promise.all([task.url, ...others].map((u) => this.#entry(u)));
    const pending = entry?.pending?.filter((p) => p.taskId !== task.id) ?? [];
    // A PUT/PATCH answer with an ETag is the resource at that URL; a POST answer is a new member, not the collection.
    const representation =
      (task.method === 'PUT' || task.method === 'PATCH') &&
      newEtag !== undefined &&
      response.body !== null;
    if (entry && pending.length > 0) {
      await this.#write({ ...entry, pending });
    } else if (representation) {
      await this.#putResponse(task.url, response.status, response.headers, response.body);
    } else if (entry) {
      // The delivered write's layer goes, whatever the answer carried; the copy is stale now.
      await this.#write({ ...expired(entry), pending });
    }
    for (const other of stale) {
      if (other && !other.pending?.length) await this.#write(expired(other));
    }
  }

  /** Undo what an abandoned write showed; with `current` (server-wins), cache the server's version. */
  async onAbandoned(task: TaskRecord, current?: CurrentVersion): Promise<void> {
    const entry = await this.#entry(task.url);
    if (entry?.pending?.some((p) => p.taskId === task.id)) {
      // Layers cannot be replayed without their functions: back to the server's version, marked stale.
      await this.#write({
        ...expired(entry),
        body: entry.pending[0]!.before,
        pending: [],
      });
    }
    if (current && current.data !== null) {
      await this.#putResponse(task.url, 200, current.headers, encodeBody(current.data) ?? null);
    }
  }

  /** Writes an entry and tells the app (and, through the client, other contexts) its URL changed. */
  async #write(entry: CacheRecord): Promise<void> {
    await this.deps.store.putCache(entry);
    this.deps.onChanged?.(entry.url);
  }

  #entry(url: string): Promise<CacheRecord | undefined> {
    return this.deps.store.getCache(cacheKey(this.deps.scope(), 'GET', url));
  }

  async #putResponse(
    url: string,
    status: number,
    headers: Readonly<Record<string, string>>,
    body: CacheRecord['body'],
  ): Promise<void> {
    const now = this.deps.clock.now();
    await this.#write({
      v: RECORD_VERSION,
      key: cacheKey(this.deps.scope(), 'GET', url),
      url,
      status,
      headers: storableHeaders(headers),
      body,
      storedAt: now,
      expiresAt: now + this.deps.ttlMs,
    });
  }
}

function expired(entry: CacheRecord): CacheRecord {
  return { ...entry, expiresAt: Math.min(entry.expiresAt, entry.storedAt) };
}

/** The default of `invalidates`: a write to `/items/7` makes `/items` stale. */
export function collectionOf(url: string): string[] {
  const u = new URL(url);
  const parent = u.pathname.replace(/\/[^/]+\/?$/, '');
  if (parent === u.pathname || parent === '') return [];
  return [`${u.origin}${parent}`];
}

/** A weak validator (`W/"…"`): usable for `If-None-Match`, never for `If-Match`. */
export function isWeak(etag: string): boolean {
  return /^\s*W\//.test(etag);
}
