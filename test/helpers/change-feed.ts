/** One entry of the test server's change log: what happened to an item, in order. */
export interface LoggedChange {
  readonly seq: number;
  readonly id: string;
  readonly deleted?: true;
  readonly data?: unknown;
  readonly etag?: string;
}

/**
 * A change feed over the log, as the delta-sync plug-in expects one:
 * `?since={cursor}&limit={n}` → `{ changes, cursor, hasMore }`, the cursor
 * being the last sequence number served; no `since` starts from the
 * beginning. Each page carries the feed's head as its ETag, and a request
 * whose `If-None-Match` is the head now answers 304.
 */
export function serveChanges(
  log: readonly LoggedChange[],
  query: URLSearchParams,
  ifNoneMatch: string | undefined,
): { status: number; headers: Record<string, string>; body: string } {
  const head = log.at(-1)?.seq ?? 0;
  const etag = `"feed-${head}"`;
  const since = Number(query.get('since') ?? 0);
  const limit = Math.max(1, Math.min(Number(query.get('limit') ?? 100), 5_000));
  if (ifNoneMatch === etag && since >= head) return { status: 304, headers: { etag }, body: '' };
  // The log is in seq order: find the first entry after `since` (binary search).
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (log[mid]!.seq <= since) lo = mid + 1;
    else hi = mid;
  }
  const page = log.slice(lo, lo + limit);
  const cursor = String(page.at(-1)?.seq ?? since);
  return {
    status: 200,
    headers: { 'content-type': 'application/json', etag },
    body: JSON.stringify({
      changes: page.map(({ seq: _seq, ...change }) => change),
      cursor,
      hasMore: lo + limit < log.length,
    }),
  };
}
