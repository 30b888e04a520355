import { cacheKey } from '../../cache/cache-key.js';
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

/**
 * Applies one page of changes to the cache: each member's own entry (its
 * `etag` as validator) and its row in the cached list (replaced by id, new
 * ones appended, deleted ones removed). A member with a write still queued
 * keeps what the write shows on screen: the pulled version becomes the base
 * under its optimistic layer, and a layer of the list whose write settled
 * elsewhere (another tab, the service worker) is dropped. The page and
 * `cursor` (the entry saying how far the feed was read) are one store commit
 * where the store has `writeCache`; elsewhere a page is idempotent, so one
 * applied twice (a crash before its cursor was stored) ends the same.
 * `listed`: the list was cached before this page; with `needsList`, a page
 * for a list that is not cached writes nothing.
 */
export async function applyPage(
  client: PluginClient,
  target: Target,
  changes: readonly Change[],
  cursor: CacheRecord | undefined,
  needsList: boolean,
): Promise<{ deleted: number; listed: boolean }> {
  const { store, clock } = client;
  const scope = client.scope();
  const now = clock.now();
  const listKey = cacheKey(scope, 'GET', target.list);
  // Read in the cache's turn: which writes are still queued (another context may have settled some).
  const tasks = await store.listTasks(await store.pendingCount());
  const queued = new Set(tasks.map((t) => normalizeUrl(t.url)));
  const live = new Set(tasks.map((t) => t.id));
  const listEntry = await store.getCache(listKey);
  if (needsList && !listEntry) return { deleted: 0, listed: false };
  const put: CacheRecord[] = [];
  const remove: string[] = [];
  const base = new Rows(rowsOf(listEntry ? serverBody(listEntry) : null), target.idField);
  const shown = new Rows(rowsOf(listEntry?.body ?? null), target.idField);
  let deleted = 0;
  for (const change of changes) {
    const url = `${target.list}/${encodeURIComponent(change.id)}`;
    const key = cacheKey(scope, 'GET', url);
    const mine = queued.has(normalizeUrl(url));
    // Optimistic layers exist only under writes still queued: other entries need no read.
    const entry = mine ? await store.getCache(key) : undefined;
    if (change.deleted) {
      deleted++;
      if (!entry?.pending?.length) remove.push(key);
    } else {
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
    const row = change.deleted ? undefined : change.data;
    base.set(change.id, row);
    if (!mine) shown.set(change.id, row);
  }
  // A layer whose write is no longer queued settled elsewhere (a tab, the service worker): it goes.
  const kept = listEntry?.pending?.filter((layer) => live.has(layer.taskId)) ?? [];
  const layered = kept.length > 0 ? kept : undefined;
  const entry: CacheRecord = {
    v: RECORD_VERSION,
    key: listKey,
    url: target.list,
    status: 200,
    headers: listEntry?.headers ?? {},
    body: encodeBody((layered ? shown : base).rows()) ?? null,
    ...(layered ? { pending: rebased(layered, encodeBody(base.rows()) ?? null) } : {}),
    storedAt: now,
    expiresAt: now + client.ttlMs,
  };
  put.push(entry, ...(cursor ? [cursor] : []));
  await writeCache(store, put, remove);
  return { deleted, listed: listEntry !== undefined };
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

/** A list's rows by id: replaced in place, appended, removed, in one pass per page. */
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
