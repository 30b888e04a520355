import { StorageError } from '../../model/errors.js';

/** A prepared statement, as both `better-sqlite3` and `node:sqlite` shape it. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * The slice of a SQLite handle the store uses. A `better-sqlite3` `Database`
 * (12.x) and a `node:sqlite` `DatabaseSync` (Node >= 22.5) both satisfy it.
 */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  close(): unknown;
}

/**
 * Opens `path` with whichever driver is installed: `better-sqlite3` first,
 * then the built-in `node:sqlite`. Throws a `StorageError` saying how to get one.
 */
export async function openDatabase(path: string): Promise<SqliteDatabase> {
  const errors: unknown[] = [];
  try {
    const mod = (await import('better-sqlite3' as string)) as {
      default: new (file: string) => SqliteDatabase;
    };
    return new mod.default(path);
  } catch (error) {
    errors.push(error);
  }
  try {
    const mod = (await import('node:sqlite' as string)) as {
      DatabaseSync: new (file: string) => SqliteDatabase;
    };
    return new mod.DatabaseSync(path);
  } catch (error) {
    errors.push(error);
  }
  throw new StorageError(
    'No SQLite driver found: run `npm install better-sqlite3` (Node 20+), or use Node >= 22.5 for node:sqlite, or pass { database }',
    { cause: new AggregateError(errors) },
  );
}
