import { problem } from './idempotency-key.js';
import type { FetchHandler } from './with-idempotency.js';

/** One page of changes, as the app's query returns it. */
export interface FeedPage {
  readonly changes: readonly {
    readonly id: string;
    readonly deleted?: boolean;
    readonly data?: unknown;
    readonly etag?: string;
  }[];
  /** Where the next page starts. */
  readonly cursor: string;
  readonly hasMore: boolean;
}

/** Options of {@link changesFeed}. */
export interface ChangesFeedOptions {
  /**
   * The changes after `since` (`null`: from the beginning), at most `limit`.
   * @example ({ since, limit }) => db.changesAfter(since, limit)
   */
  query(args: { since: string | null; limit: number }): Promise<FeedPage> | FeedPage;
  /**
   * The largest `limit` a client may ask for (and the default).
   * @default 1_000
   * @example 500
   */
  maxLimit?: number;
}

/**
 * Serves the `deltaSync()` plug-in's change feed from the app's `query`:
 * `GET ?since=&limit=` → `{ changes, cursor, hasMore }`, each page tagged
 * with its cursor (`ETag: "c:<cursor>"`); a request whose `If-None-Match` is
 * the tag of `since` and that finds nothing new answers 304.
 *
 * @example const feed = changesFeed({ query: ({ since, limit }) => orders.changesAfter(since, limit) });
 */
export function changesFeed(options: ChangesFeedOptions): FetchHandler {
  const maxLimit = options.maxLimit ?? 1_000;
  return async (request) => {
    if (request.method !== 'GET')
      return problem(405, 'about:blank', 'The change feed is read with GET');
    const params = new URL(request.url).searchParams;
    const since = params.get('since');
    const asked = Number(params.get('limit') ?? maxLimit);
    const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, maxLimit) : maxLimit;
    const page = await options.query({ since, limit });
    const tag = (cursor: string) => `"c:${cursor}"`;
    if (
      since !== null &&
      page.changes.length === 0 &&
      request.headers.get('if-none-match') === tag(since)
    )
      return new Response(null, { status: 304, headers: { etag: tag(since) } });
    return Response.json(page, { headers: { etag: tag(page.cursor) } });
  };
}
