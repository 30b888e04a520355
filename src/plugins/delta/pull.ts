import { cacheKey } from '../../cache/cache-key.js';
import type { WireResponse } from '../../http/transport.js';
import { bodyData } from '../../model/body.js';
import { HttpError } from '../../model/errors.js';
import { type CacheRecord, RECORD_VERSION } from '../../model/records.js';
import type { PluginClient } from '../../outbox/plugin-interface.js';
import { applyMembers, foldList, type Target } from './apply-changes.js';
import type { Change, ChangeCodec, ChangePage } from './change-codec.js';

/** One collection's feed, as a pull reads it. */
export interface Feed extends Target {
  /** Absolute URL of the change feed. */
  readonly feed: string;
  readonly pageSize: number;
  readonly codec: ChangeCodec;
}

/** What a pull did. */
export interface PullResult {
  /** Changes applied (deletions included). */
  readonly applied: number;
  /** Where the next pull starts; `null` before the first page. */
  readonly cursor: string | null;
}

/**
 * Where a feed was read to, kept as a cache entry per scope. `logged`: pages
 * applied to the members but not yet folded into the list (their changes are
 * the log entries `#1`…`#logged`); `fresh`: the pull that logged them started
 * from the beginning (so they fold onto an empty list).
 */
interface Cursor {
  readonly cursor: string | null;
  readonly etag?: string;
  readonly logged?: number;
  readonly fresh?: boolean;
}

/**
 * Pulls every page of `feed`. Each page is one store commit: its members, its
 * changes in a log entry and the cursor after it, so a crash resumes from the
 * last applied page. The list is rewritten once, at the end of the pull (or
 * of what it got before failing), from the logged changes, in one commit with
 * the cursor that drops the log; a pull that finds a log left by a crash folds
 * it first. Rewriting the list per page would cost the whole list each page.
 */
export async function pullFeed(c: PluginClient, f: Feed): Promise<PullResult & Counts> {
  const metaKey = cacheKey(c.scope(), 'QNOX-DELTA', f.feed);
  const logKey = (n: number) => `${metaKey}#${n}`;
  const entry = (key: string, value: unknown): CacheRecord => ({
    v: RECORD_VERSION,
    key,
    url: f.feed,
    status: 200,
    headers: {},
    body: { kind: 'json', value },
    storedAt: c.clock.now(),
    expiresAt: Number.MAX_SAFE_INTEGER,
  });
  const turn = <T>(run: () => Promise<T>) => c.cacheTurn(run);
  let at = (bodyData((await c.store.getCache(metaKey))?.body) as Cursor | null) ?? {
    cursor: null,
  };
  const stale = at.logged ?? 0;
  const pending: Change[] = [];
  for (let n = 1; n <= stale; n++)
    pending.push(...((bodyData((await c.store.getCache(logKey(n)))?.body) as Change[]) ?? []));
  const listed = (await c.store.getCache(cacheKey(c.scope(), 'GET', f.list))) !== undefined;
  if (at.cursor !== null && !listed && !(stale > 0 && at.fresh)) {
    // A cursor without its list (purged as too old) would only bring what is newer: start over.
    at = { cursor: null };
    pending.length = 0;
  }
  const fresh = at.fresh ?? at.cursor === null;
  const counts: Counts = { applied: 0, deleted: 0, pages: 0 };
  let logged = pending.length > 0 ? stale : 0;
  const fold = () => {
    const done: Cursor = { cursor: at.cursor, ...(at.etag ? { etag: at.etag } : {}) };
    const logs = Array.from({ length: Math.max(logged, stale) }, (_, i) => logKey(i + 1));
    return turn(() => foldList(c, f, pending, { put: [entry(metaKey, done)], remove: logs }));
  };
  try {
    for (let more = true; more; ) {
      const response = await c.transport.send({
        method: 'GET',
        url: f.codec.url(f.feed, at.cursor, f.pageSize),
        headers: {
          accept: 'application/json',
          ...(counts.pages === 0 && at.etag ? { 'if-none-match': at.etag } : {}),
        },
        timeoutMs: c.timeoutMs,
      });
      // A 304: nothing new (the fold below still restarts the list's TTL and drops settled layers).
      if (response.status === 304) break;
      const page = decode(response, f.codec, f.feed);
      const etag = response.headers.etag;
      const next: Cursor = {
        cursor: page.cursor,
        ...(etag ? { etag } : {}),
        logged: logged + 1,
        fresh,
      };
      counts.deleted += await turn(() =>
        applyMembers(c, f, page.changes, {
          put: [entry(logKey(logged + 1), page.changes), entry(metaKey, next)],
        }),
      );
      logged++;
      at = next;
      pending.push(...page.changes);
      counts.pages++;
      counts.applied += page.changes.length;
      more = page.hasMore && page.changes.length > 0;
    }
  } catch (error) {
    // A failed page: what was applied before it reaches the list now, not at the next pull.
    if (logged > 0 || stale > 0) await fold().catch(() => {});
    throw error;
  }
  await fold();
  return { ...counts, cursor: at.cursor };
}

/** How much a pull brought. */
export interface Counts {
  applied: number;
  deleted: number;
  pages: number;
}

/** The page in a 2xx answer; any other answer, or a body that is no page, is an HttpError. */
function decode(response: WireResponse, codec: ChangeCodec, feed: string): ChangePage {
  const failed = (message?: string) =>
    new HttpError(
      { status: response.status, headers: response.headers, data: bodyData(response.body) },
      message,
    );
  if (response.status < 200 || response.status > 299) throw failed();
  try {
    return codec.decode(bodyData(response.body));
  } catch (cause) {
    throw failed(`Not a page of changes from ${feed}: ${(cause as Error).message}`);
  }
}
