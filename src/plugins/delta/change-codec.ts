import { isPlainObject } from '../../model/merge-json.js';

/** One change of a collection's feed. */
export interface Change {
  readonly id: string;
  /** The member was deleted: it leaves the cached list and its own entry. */
  readonly deleted?: boolean;
  /** The member as it is now (absent for a deletion). */
  readonly data?: unknown;
  /** Its validator: later writes to it send `If-Match` with it. */
  readonly etag?: string;
}

/** One page of the feed. */
export interface ChangePage {
  readonly changes: readonly Change[];
  /** Where the next pull starts (`since`). */
  readonly cursor: string;
  /** More pages follow now. */
  readonly hasMore: boolean;
}

/**
 * How a change feed is spoken. The default, {@link jsonChangeCodec}:
 * `GET {changes}?since={cursor}&limit={pageSize}` (no `since` on the first
 * pull) answering `{ "changes": [ { "id", "deleted"?, "data"?, "etag"? } ], "cursor", "hasMore" }`.
 */
export interface ChangeCodec {
  /** The feed URL of one page (absolute, from the absolute `changes` URL). */
  url(changes: string, cursor: string | null, limit: number): string;
  /** The page in a 200 answer's body; throws when it is not one. */
  decode(body: unknown): ChangePage;
}

export const jsonChangeCodec: ChangeCodec = {
  url(changes, cursor, limit) {
    const url = new URL(changes);
    if (cursor !== null) url.searchParams.set('since', cursor);
    url.searchParams.set('limit', String(limit));
    return url.href;
  },
  decode(body) {
    if (!isPlainObject(body) || !Array.isArray(body.changes) || typeof body.cursor !== 'string')
      throw new TypeError('not a page of changes ({ changes: [], cursor, hasMore })');
    const changes = body.changes.map((c: unknown): Change => {
      if (!isPlainObject(c) || (typeof c.id !== 'string' && typeof c.id !== 'number'))
        throw new TypeError('a change without an "id"');
      return {
        id: String(c.id),
        ...(c.deleted === true ? { deleted: true } : { data: c.data }),
        ...(typeof c.etag === 'string' ? { etag: c.etag } : {}),
      };
    });
    return { changes, cursor: body.cursor, hasMore: body.hasMore === true };
  },
};
