import { ConfigError } from '../../model/errors.js';
import type { SqliteDatabase } from './driver.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Database file, created with its folder if missing. Ignored when `database` is given.
   * @default './.qnox/sync.db'
   * @example '/var/lib/kiosk/outbox.db'
   */
  path?: string;
  /**
   * Allow `path: ':memory:'`, a database gone when the process ends. Without it,
   * `':memory:'` and an empty path (which SQLite opens as a temporary file) are
   * refused with a `ConfigError`: writes the library calls durable would vanish.
   * @default false
   * @example new SqliteStore({ path: ':memory:', ephemeral: true }) // tests only
   */
  ephemeral?: boolean;
  /**
   * A handle the app opened itself: a `better-sqlite3` Database or a `node:sqlite` DatabaseSync.
   * The store closes it on `close()`.
   * @default none (the store opens `path` with whichever driver is installed)
   * @example new Database('app.db')
   */
  database?: SqliteDatabase;
  /**
   * When another live process drains this file: `'wait'` leaves this client's writes
   * to it (and looks again every 5 s); `'error'` makes every drain of this client
   * fail with a `StorageError` (status `error`, a `storage-error` event).
   * @default 'wait'
   * @example 'error'
   */
  onLocked?: 'wait' | 'error';
}

/** Refuses a path whose database would not survive a restart (an empty path, `:memory:`) unless `ephemeral`. */
export function checkPath(options: SqliteStoreOptions): void {
  const path = options.path;
  if (options.database || path === undefined) return;
  if (typeof path !== 'string' || path.trim() === '')
    throw new ConfigError(
      'path',
      'must name a database file (an empty path is a temporary database)',
    );
  if (isMemoryPath(path) && options.ephemeral !== true)
    throw new ConfigError(
      'path',
      `"${path}" does not survive a restart; pass ephemeral: true to allow it`,
    );
}

export function isMemoryPath(path: string): boolean {
  return (
    path === ':memory:' ||
    (path.startsWith('file:') && /[?&]mode=memory\b|^file::memory:/.test(path))
  );
}
