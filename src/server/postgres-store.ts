import { ConfigError, StorageError } from '../model/errors.js';
import { hashedKey } from './idempotency-key.js';
import type { BeginResult, IdempotencyStore, StoredResponse } from './idempotency-store.js';
import { heldKeyOf, keep } from './stored-response.js';

/** The part of a `pg` Pool or Client the store uses (node-postgres, or anything with its `query`). */
export interface PgQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** Options of {@link postgresIdempotencyStore}. */
export interface PostgresIdempotencyStoreOptions {
  /**
   * A `pg` Pool (or Client). Give it a `query_timeout` (or `statement_timeout`)
   * so a database that hangs fails the command instead of holding it.
   * @example new pg.Pool({ connectionString: process.env.DATABASE_URL, query_timeout: 2_000 })
   */
  pool: PgQueryable;
  /**
   * The table's name (created on first use, or by {@link PostgresIdempotencyStore.migrate}).
   * @default 'qnox_idempotency'
   * @example 'api.idempotency_keys'
   */
  table?: string;
}

/** {@link IdempotencyStore} in PostgreSQL, with its table and the in-transaction completion. */
export interface PostgresIdempotencyStore extends IdempotencyStore {
  /** Creates the table (and its index) if it is missing: for apps that run migrations up front. */
  migrate(): Promise<void>;
  /**
   * Stores `response` under the key `request` holds, on `client`: call it in
   * the handler's own transaction, before its `COMMIT`, so the effect and the
   * stored response commit together (a crash between them cannot run the
   * request twice). Rejects with a `StorageError` when the key's lease was
   * lost meanwhile (roll back: another attempt owns the key now). Does
   * nothing for a request without a key.
   *
   * @example
   * await tx.query('BEGIN');
   * await tx.query('INSERT INTO orders …');
   * const res = Response.json(order, { status: 201 });
   * await store.completeWithin(tx, request, res);
   * await tx.query('COMMIT');
   * return res;
   */
  completeWithin(client: PgQueryable, request: Request, response: Response): Promise<void>;
  /** Deletes expired keys (they are otherwise reused in place): run it from a scheduled job. */
  purge(): Promise<number>;
}

/**
 * Keys in one PostgreSQL table, shared by every process of the API. A key is
 * taken by `INSERT … ON CONFLICT` (an expired row is taken over in the same
 * statement), its lease and expiry run on the database's clock, and the key
 * kept is a SHA-256 of scope and key (a scope never lands in the table).
 *
 * @example
 * import pg from 'pg';
 * const store = postgresIdempotencyStore({ pool: new pg.Pool({ connectionString: url }) });
 * const api = withIdempotency(app.fetch, { store });
 */
export function postgresIdempotencyStore(
  options: PostgresIdempotencyStoreOptions,
): PostgresIdempotencyStore {
  const { pool, table = 'qnox_idempotency' } = options;
  if (typeof pool?.query !== 'function')
    throw new ConfigError('pool', 'must be a pg Pool or Client (an object with query())');
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i.test(table))
    throw new ConfigError(
      'table',
      `must be a plain (optionally schema-qualified) name, got ${table}`,
    );
  const later = (n: number) => `clock_timestamp() + $${n} * interval '1 millisecond'`;
  // Processes creating the table at once take turns on an advisory lock named after it; the
  // statements go as one simple query, which PostgreSQL runs as one transaction.
  let lock = 0;
  for (const char of `qnox:${table}`) lock = (Math.imul(lock, 31) + char.charCodeAt(0)) | 0;
  const migrate = async () => {
    await pool.query(`SELECT pg_advisory_xact_lock(${lock});
      CREATE TABLE IF NOT EXISTS ${table} (
        key text PRIMARY KEY, fingerprint text NOT NULL, token text, response text,
        expires_at timestamptz NOT NULL);
      CREATE INDEX IF NOT EXISTS ${table.replace('.', '_')}_expires ON ${table} (expires_at)`);
  };
  let ready: Promise<void> | undefined;
  const query = async (text: string, values: unknown[], on: PgQueryable = pool) => {
    ready ??= migrate().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    await ready;
    return on.query(text, values);
  };
  const completeOn = async (
    on: PgQueryable,
    key: string,
    token: string,
    stored: StoredResponse,
    ttlMs: number,
  ) =>
    (
      await query(
        `UPDATE ${table} SET response = $3, token = NULL, expires_at = ${later(4)}
         WHERE key = $1 AND token = $2`,
        [await hashedKey(key), token, JSON.stringify(stored), ttlMs],
        on,
      )
    ).rowCount === 1;

  return {
    migrate,
    async begin(key, fingerprint, leaseMs): Promise<BeginResult> {
      const hashed = await hashedKey(key);
      const token = crypto.randomUUID();
      // One round trip: take the key (or an expired row), else read who holds it.
      for (let attempt = 0; attempt < 5; attempt++) {
        const { rows } = await query(
          `WITH took AS (
             INSERT INTO ${table} AS i (key, fingerprint, token, expires_at)
             VALUES ($1, $2, $3, ${later(4)})
             ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
               token = EXCLUDED.token, response = NULL, expires_at = EXCLUDED.expires_at
             WHERE i.expires_at <= clock_timestamp()
             RETURNING token)
           SELECT token, NULL AS fingerprint, NULL AS response FROM took
           UNION ALL
           SELECT NULL, fingerprint, response FROM ${table}
           WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM took)`,
          [hashed, fingerprint, token, leaseMs],
        );
        const row = rows[0];
        if (row?.token === token) return { state: 'acquired', token };
        if (row?.fingerprint === undefined || row.fingerprint === null) continue; // committed after our snapshot: look again
        const print = row.fingerprint as string;
        if (row.response === null) return { state: 'running', fingerprint: print };
        return {
          state: 'done',
          fingerprint: print,
          response: JSON.parse(row.response as string) as StoredResponse,
        };
      }
      throw new StorageError('The idempotency key kept changing hands; try again');
    },
    async renew(key, token, leaseMs) {
      const { rowCount } = await query(
        `UPDATE ${table} SET expires_at = ${later(3)}
         WHERE key = $1 AND token = $2 AND response IS NULL`,
        [await hashedKey(key), token, leaseMs],
      );
      return rowCount === 1;
    },
    async complete(key, token, response, ttlMs) {
      await completeOn(pool, key, token, response, ttlMs);
    },
    async release(key, token) {
      await query(`DELETE FROM ${table} WHERE key = $1 AND token = $2 AND response IS NULL`, [
        await hashedKey(key),
        token,
      ]);
    },
    async completeWithin(client, request, response) {
      const hold = heldKeyOf(request);
      if (!hold) return;
      const { stored } = await keep(response.clone());
      if (!(await completeOn(client, hold.key, hold.token, stored, hold.ttlMs)))
        throw new StorageError(
          'The idempotency key’s lease was lost before the response was stored: roll back',
        );
      hold.completed = true;
    },
    async purge() {
      const { rowCount } = await query(
        `DELETE FROM ${table} WHERE expires_at <= clock_timestamp()`,
        [],
      );
      return rowCount ?? 0;
    },
  };
}
