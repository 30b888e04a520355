import type { WireResponse } from '../http/transport.js';
import { normalizeUrl } from '../http/url.js';
import { bodyData, encodeBody } from '../model/body.js';
import { type CacheRecord, RECORD_VERSION, type TaskRecord } from '../model/records.js';
import type { CurrentVersion } from '../model/responses.js';
import type { Clock } from '../platform/clock.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { cacheKey, storableHeaders } from './cache-key.js';
import type { Collections } from './collections.js';

export interface CacheWritesDeps {
  readonly store: QnoxLocalStore;
  readonly clock: Clock;
  readonly scope: () => string;
  readonly ttlMs: number;
  /** Other cached URLs a write to `url` makes stale (default: its collection). */
  readonly invalidate: (url: string) => string[];
  /** Called after each entry written (read-your-writes, optimistic layers, rollback, expiry). */
  readonly onChanged?: (url: string) => void;
  /** Declared collections: where a member's validator and list row are found. */
  readonly collections?: Collections;
}

/** What a write is made against: the cached ETag / Last-Modified and representation. */
export interface Precondition {
  readonly headers: Record<string, string>;
  readonly base?: unknown;
  /** A cached representation was found, but no validator: the write can only overwrite (last writer wins). */
  readonly unvalidated?: true;
}

/**
 * The write side of the cache: preconditions from cached validators, read-your-writes
 * after an acknowledgement, optimistic entries and their rollback.
 */
export class CacheWrites {
  /** Per URL, ETags our own acknowledged writes replaced: old → new. */
  readonly #chain = new Map<string, Map<string, string>>();
  /**
   * The read-modify-writes of entries, one at a time: two writes settled
   * together (other keys, one batch) each take their own layer off the same
   * list, and neither may write back what it read before the other's change.
   */
  #turn: Promise<unknown> = Promise.resolve();

  /** Runs `run` when no other read-modify-write of entries runs (a plug-in's too: delta sync). */
  inTurn<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#turn.then(run, run);
    this.#turn = next.catch(() => undefined);
    return next;
  }

  constructor(private readonly deps: CacheWritesDeps) {}

  /**
   * The validator a write to `url` is made against: the resource's own cached
   * ETag (or Last-Modified), or, when the member of a declared collection was
   * never fetched itself (or the collection was read later), its row's.
   */
  async precondition(url: string): Promise<Precondition> {
    const entry = await this.#entry(url);
    const own = entry && validatorOf(entry);
    const member = this.deps.collections?.memberOf(url);
    if (member) {
      const list = await this.#entry(member.list.url);
      // A list our own write made stale may show the version before it: not a validator.
      const usable =
        list &&
        list.expiresAt > list.storedAt &&
        (!own || !entry || list.storedAt > entry.storedAt);
      const row = usable ? member.list.find(bodyData(serverBody(list)), member.id) : undefined;
      const tag = row === undefined ? undefined : member.list.validator(row);
      if (tag && !isWeak(tag)) return { headers: { 'if-match': tag }, base: row };
      if (!entry && row !== undefined) return { headers: {}, base: row, unvalidated: true };
    }
    if (!entry) return { headers: {} };
    // With optimistic layers on top, the server's version is the body before the first layer.
    const base = bodyData(serverBody(entry));
    return own ? { headers: own, base } : { headers: {}, base, unvalidated: true };
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

  /**
   * Layers `update(current)` over the cached resource and, for a member of a
   * declared collection, over its row in the cached list (`undefined` removes
   * the row). False when neither is cached.
   */
  applyOptimistic(task: TaskRecord, update: (current: unknown) => unknown): Promise<boolean> {
    return this.inTurn(() => this.#applyOptimistic(task, update));
  }

  async #applyOptimistic(
    task: TaskRecord,
    update: (current: unknown) => unknown,
  ): Promise<boolean> {
    const member = this.deps.collections?.memberOf(task.url);
    // One round of reads: the resource and the list it is a member of.
    const [entry, list] = await Promise.all([
      this.#entry(task.url),
      member ? this.#entry(member.list.url) : undefined,
    ]);
    const listData = list ? bodyData(list.body) : undefined;
    const row = list && member ? member.list.find(listData, member.id) : undefined;
    if (!entry && row === undefined) return false;
    const next = update(entry ? bodyData(entry.body) : row);
    if (entry) await this.#layer(entry, task.id, next);
    if (list && member && row !== undefined)
      await this.#layer(list, task.id, member.list.replace(listData, member.id, next));
    return true;
  }

  async #layer(entry: CacheRecord, taskId: string, next: unknown): Promise<void> {
    await this.#write({
      ...entry,
      body: encodeBody(next) ?? null,
      pending: [...(entry.pending ?? []), { taskId, before: entry.body }],
    });
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

  /** Deliveries waiting for their turn; those that arrive together share it (and one round of reads). */
  #delivered: [TaskRecord, WireResponse, () => void, (error: unknown) => void][] = [];

  /**
   * Read-your-writes: the cache after a write was acknowledged, its optimistic
   * layers off. Writes delivered together (a batch) are taken in one turn, in
   * order, after one round of reads for every URL they touch.
   */
  onDelivered(task: TaskRecord, response: WireResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#delivered.push([task, response, resolve, reject]) === 1)
        void this.inTurn(() => this.#deliveredTogether());
    });
  }

  async #deliveredTogether(): Promise<void> {
    const group = this.#delivered.splice(0);
    // One map for the group: each write's upkeep sees what the ones before it wrote. (An app
    // callback that throws here, `invalidates` or `cacheScope`, fails each write's upkeep alone.)
    const entries = (async () => {
      const urls = [...new Set(group.flatMap(([task]) => [task.url, ...this.#related(task.url)]))];
      const got = await Promise.all(urls.map((u) => this.#entry(u)));
      return new Map(urls.map((u, i) => [u, got[i]]));
    })();
    for (const [task, response, resolve, reject] of group)
      await entries.then((map) => this.#onDelivered(task, response, map)).then(resolve, reject);
  }

  /** One delivered write's upkeep over `entries`, read for its group and kept current as it writes. */
  async #onDelivered(
    task: TaskRecord,
    response: WireResponse,
    entries: Map<string, CacheRecord | undefined>,
  ): Promise<void> {
    const newEtag = response.headers.etag;
    const put = async (url: string, record: CacheRecord) => {
      entries.set(url, record);
      await this.#write(record);
    };
    const entry = entries.get(task.url);
    const pending = withoutLayer(entry, task.id);
    // A PUT/PATCH answer with an ETag is the resource at that URL; a POST answer is a new member, not the collection.
    const representation =
      (task.method === 'PUT' || task.method === 'PATCH') &&
      newEtag !== undefined &&
      response.body !== null;
    if (entry && pending.length > 0) {
      await put(task.url, { ...entry, pending });
    } else if (representation) {
      await put(
        task.url,
        this.#response(task.url, response.status, response.headers, response.body),
      );
    } else if (entry) {
      // The delivered write's layer goes, whatever the answer carried; the copy is stale now.
      await put(task.url, { ...expired(entry), pending });
    }
    for (const url of this.#related(task.url)) {
      const other = entries.get(url);
      if (!other) continue;
      const rest = withoutLayer(other, task.id);
      // Another write's layers stay as they are; this write's layer goes, and the list is stale.
      if (rest.length === 0) await put(url, { ...expired(other), pending: [] });
      else if (rest.length < (other.pending?.length ?? 0))
        await put(url, { ...other, pending: rest });
    }
  }

  /** Undo what an abandoned write showed; with `current` (server-wins), cache the server's version. */
  onAbandoned(task: TaskRecord, current?: CurrentVersion): Promise<void> {
    return this.inTurn(() => this.#onAbandoned(task, current));
  }

  async #onAbandoned(task: TaskRecord, current?: CurrentVersion): Promise<void> {
    const entries = await Promise.all(
      [task.url, ...this.#related(task.url)].map((u) => this.#entry(u)),
    );
    for (const entry of entries) {
      if (!entry?.pending?.some((p) => p.taskId === task.id)) continue;
      // Layers cannot be replayed without their functions: back to the server's version, marked stale.
      await this.#write({ ...expired(entry), body: entry.pending[0]!.before, pending: [] });
    }
    if (current && current.data !== null) {
      await this.#write(
        this.#response(task.url, 200, current.headers, encodeBody(current.data) ?? null),
      );
    }
  }

  /** The other cached URLs a write to `url` touches: what it invalidates and the list it is a member of. */
  #related(url: string): string[] {
    const urls = this.deps.invalidate(url);
    const list = this.deps.collections?.memberOf(url)?.list.url;
    return list && !urls.includes(list) ? [...urls, list] : urls;
  }

  /** Writes an entry and tells the app (and, through the client, other contexts) its URL changed. */
  async #write(entry: CacheRecord): Promise<void> {
    await this.deps.store.putCache(entry);
    this.deps.onChanged?.(entry.url);
  }

  #entry(url: string): Promise<CacheRecord | undefined> {
    return this.deps.store.getCache(cacheKey(this.deps.scope(), 'GET', url));
  }

  /** A server's answer as the cache entry of `url`. */
  #response(
    url: string,
    status: number,
    headers: Readonly<Record<string, string>>,
    body: CacheRecord['body'],
  ): CacheRecord {
    const now = this.deps.clock.now();
    return {
      v: RECORD_VERSION,
      key: cacheKey(this.deps.scope(), 'GET', url),
      url,
      status,
      headers: storableHeaders(headers),
      body,
      storedAt: now,
      expiresAt: now + this.deps.ttlMs,
    };
  }
}

function withoutLayer(entry: CacheRecord | undefined, taskId: string) {
  return entry?.pending?.filter((p) => p.taskId !== taskId) ?? [];
}

/** The server's version of an entry: the body under its optimistic layers. */
function serverBody(entry: CacheRecord): CacheRecord['body'] {
  return entry.pending?.[0]?.before ?? entry.body;
}

/** `If-Match` from a strong ETag (RFC 9110 compares strongly), else `If-Unmodified-Since`. */
function validatorOf(entry: CacheRecord): Record<string, string> | undefined {
  const { etag, 'last-modified': lastModified } = entry.headers;
  if (etag && !isWeak(etag)) return { 'if-match': etag };
  if (lastModified) return { 'if-unmodified-since': lastModified };
  return undefined;
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
