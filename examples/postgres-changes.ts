/**
 * A keyset-paged change feed over PostgreSQL for `changesFeed({ query })`: the
 * deltaSync() plug-in's feed served from an `orders` table.
 *
 * - Every insert and update sets `updated_at`; a delete keeps the row as a
 *   tombstone (`deleted = true`, `data = NULL`) so clients can drop it.
 * - Pages walk `(updated_at, id)` in order, so rows that share an
 *   `updated_at` (one statement, one timestamp) are neither skipped nor
 *   repeated; the cursor is the last row's `(updated_at, id)`.
 * - Rows newer than `settleMs` are held back a moment: a transaction that
 *   started earlier but commits later gets an earlier `updated_at`, and would
 *   be skipped if the feed had already walked past it.
 *
 * Schema (see `migrateOrders`); purge tombstones older than your clients' longest offline spell.
 */
import type { FeedPage } from '../src/server.js';

/** The part of a `pg` Pool the example uses. */
interface Pool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export async function migrateOrders(pool: Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS orders (
    id text PRIMARY KEY,
    data jsonb,
    deleted boolean NOT NULL DEFAULT false,
    version int NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await pool.query('CREATE INDEX IF NOT EXISTS orders_feed ON orders (updated_at, id)');
}

/** The cursor: the last row's `updated_at` (ISO 8601, UTC, microseconds: exact) and its id. */
const START = '1970-01-01T00:00:00.000000Z';
function decode(cursor: string | null): [string, string] {
  const bar = cursor?.indexOf('|') ?? -1;
  if (cursor === null || !/^\d{4}-\d\d-\d\dT[\d:.]+Z\|/.test(cursor)) return [START, ''];
  return [cursor.slice(0, bar), cursor.slice(bar + 1)];
}

export function ordersChanges(pool: Pool, settleMs = 1_000) {
  return async ({ since, limit }: { since: string | null; limit: number }): Promise<FeedPage> => {
    const [at, id] = decode(since);
    const { rows } = await pool.query(
      `SELECT id, data, deleted, version,
              to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
       FROM orders
       WHERE (updated_at, id) > ($1::timestamptz, $2)
         AND updated_at < clock_timestamp() - $3 * interval '1 millisecond'
       ORDER BY updated_at, id
       LIMIT $4`,
      [at, id, settleMs, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      changes: page.map((row) =>
        row.deleted
          ? { id: row.id as string, deleted: true }
          : { id: row.id as string, data: row.data, etag: `"v${row.version}"` },
      ),
      cursor: last ? `${last.at as string}|${last.id as string}` : (since ?? `${START}|`),
      hasMore: rows.length > limit,
    };
  };
}
