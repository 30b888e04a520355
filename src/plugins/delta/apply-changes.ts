import { cacheKey, normalCacheKey } from '../../cache/cache-key.js';
import { normalizeUrl } from '../../http/url.js';
import { bodyData, encodeBody } from '../../model/body.js';
import { type CacheRecord, RECORD_VERSION } from '../../model/records.js';
import type { PluginClient } from '../../outbox/plugin-interface.js';
import { writeCache } from '../../stores/store-access.js';
import type { Change } from './change-codec.js';

/** Where one collection's pulled changes go. */
export interface Target {
  /** Absolute URL of the collection (its cached list). */
  readonly list: string;
  /** The field of a list row holding its id. */
  readonly idField: string;
}

/** What the pull writes in the same commit: its log and cursor entries, and keys it drops. */
export interface Along {
  readonly put: readonly CacheRecord[];
  readonly remove?: readonly string[];
}

/**
 * Applies one page of changes to the members' own entries (each `etag` as
 * validator), with `along` in the same store commit (one where the store has
 * `writeCache`). A member with a write still queued keeps what the write shows
 * on screen: the pulled version becomes the base under its optimistic layer.
 * Idempotent, so a page applied twice ends the same. Resolves with how many
 * changes were deletions.
 */
export async function applyMembers(
  client: PluginClient,
  target: Target,
  changes: readonly Change[],
  along: Along,
): Promise<number> {
  const { store, clock } = client;
  const scope = client.scope();
  const now = clock.now();
  const { queued } = await queuedWrites(client);
  const normal = normalMember(target);
  const put: CacheRecord[] = [];
  const remove: string[] = [...(along.remove ?? [])];
  let deleted = 0;
  for (const change of changes) {
    const url = memberUrl(target, change.id);
    const normalUrl = normal(change.id);
    const key = normalCacheKey(scope, 'GET', normalUrl);
    // Optimistic layers exist only under writes still queued: other entries need no read.
    const entry = queued.has(normalUrl) ? await store.getCache(key) : undefined;
    if (change.deleted) {
      deleted++;
      if (!entry?.pending?.length) remove.push(key);
      continue;
    }
    const body = encodeBody(change.data) ?? null;
    put.push({
      v: RECORD_VERSION,
      key,
      url,
      status: 200,
      headers: change.etag ? { etag: change.etag } : {},
      // Under optimistic layers the pulled version is the new base; what shows stays.
      ...(entry?.pending?.length
        ? { body: entry.body, pending: rebased(entry.pending, body) }
        : { body }),
      storedAt: now,
      expiresAt: now + client.ttlMs,
    });
  }
  await writeCache(store, [...put, ...along.put], remove);
  return deleted;
}

/**
 * Folds `changes` (in feed order) into the cached list: rows replaced by id,
 * new ones appended, deleted ones removed; a row whose member has a write still
 * queued keeps what that write shows, the pulled one becoming the base under
 * the list's layer; a layer whose write is no longer queued settled elsewhere
 * (a tab, the service worker) and goes. Written with `along` in one commit.
 * Resolves with whether the list was cached before.
 */
export async function foldList(
  client: PluginClient,
  target: Target,
  changes: readonly Change[],
  along: Along,
): Promise<boolean> {
  const { store, clock } = client;
  const now = clock.now();
  const listKey = cacheKey(client.scope(), 'GET', target.list);
  const { queued, live } = await queuedWrites(client);
  const listEntry = await store.getCache(listKey);
  const kept = listEntry?.pending?.filter((layer) => live.has(layer.taskId)) ?? [];
  const layered = kept.length > 0 ? kept : undefined;
  const base = new Rows(rowsOf(listEntry ? serverBody(listEntry) : null), target.idField);
  const shown = layered ? new Rows(rowsOf(listEntry?.body ?? null), target.idField) : base;
  const normal = normalMember(target);
  for (const change of changes) {
    const row = change.deleted ? undefined : change.data;
    base.set(change.id, row);
    if (shown !== base && !queued.has(normal(change.id))) shown.set(change.id, row);
  }
  const entry: CacheRecord = {
    v: RECORD_VERSION,
    key: listKey,
    url: target.list,
    status: 200,
    headers: listEntry?.headers ?? {},
    body: encodeBody(shown.rows()) ?? null,
    ...(layered ? { pending: rebased(layered, encodeBody(base.rows()) ?? null) } : {}),
    storedAt: now,
    expiresAt: now + client.ttlMs,
  };
  await writeCache(store, [entry, ...along.put], along.remove ?? []);
  return listEntry !== undefined;
}

const memberUrl = (target: Target, id: string) => `${target.list}/${encodeURIComponent(id)}`;

/**
 * A member's normalized URL (as cache keys and queued writes hold it) by id:
 * the list's own, normalized once, and the encoded id, which normalizing
 * would leave as it is; parsed in full only when the list has a query or a
 * fragment, or the id is a dot segment the parser would resolve.
 */
function normalMember(target: Target): (id: string) => string {
  const list = normalizeUrl(target.list);
  if (/[?#]/.test(target.list)) return (id) => normalizeUrl(memberUrl(target, id));
  return (id) =>
    id === '.' || id === '..'
      ? normalizeUrl(memberUrl(target, id))
      : `${list}/${encodeURIComponent(id)}`;
}

/** Which URLs have a write still queued, and which writes are (read in the cache's turn: another context may have settled some). */
async function queuedWrites(
  client: PluginClient,
): Promise<{ queued: Set<string>; live: Set<string> }> {
  const tasks = await client.store.listTasks(await client.store.pendingCount());
  return {
    queued: new Set(tasks.map((t) => normalizeUrl(t.url))),
    live: new Set(tasks.map((t) => t.id)),
  };
}

/** The rows of a cached list body (not an array: none). */
function rowsOf(body: CacheRecord['body']): unknown[] {
  const data = bodyData(body);
  return Array.isArray(data) ? data : [];
}

/** The server's version of an entry: the body under its optimistic layers. */
function serverBody(entry: CacheRecord): CacheRecord['body'] {
  return entry.pending?.[0]?.before ?? entry.body;
}

/** The layers over a new base: the first layer's `before` is the server's version. */
function rebased(
  pending: NonNullable<CacheRecord['pending']>,
  base: CacheRecord['body'],
): NonNullable<CacheRecord['pending']> {
  const [first, ...rest] = pending;
  return [{ ...first!, before: base }, ...rest];
}

/** A list's rows by id: replaced in place, appended, removed, in one pass. */
class Rows {
  readonly #rows: unknown[];
  readonly #at = new Map<string, number>();
  #removed = false;

  constructor(rows: unknown[], idField: string) {
    this.#rows = rows.slice();
    rows.forEach((r, i) => {
      if (typeof r === 'object' && r !== null)
        this.#at.set(String((r as Record<string, unknown>)[idField]), i);
    });
  }

  /** Replaces (or appends) the row of `id`; `undefined` removes it. */
  set(id: string, row: unknown): void {
    const at = this.#at.get(id);
    if (row === undefined) {
      if (at === undefined) return;
      this.#rows[at] = REMOVED;
      this.#at.delete(id);
      this.#removed = true;
    } else if (at === undefined) {
      this.#at.set(id, this.#rows.push(row) - 1);
    } else this.#rows[at] = row;
  }

  rows(): unknown[] {
    return this.#removed ? this.#rows.filter((r) => r !== REMOVED) : this.#rows;
  }
}

const REMOVED = Symbol('removed');
