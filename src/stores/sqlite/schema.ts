import { StorageError } from '../../model/errors.js';
import type { SqliteDatabase } from './driver.js';

/**
 * Bump with a new step in {@link STEPS}; older files are upgraded in place,
 * and a file of a newer version than this build knows is refused.
 */
export const SQLITE_SCHEMA_VERSION = 1;

const V1 = `
  CREATE TABLE IF NOT EXISTS qnox_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    ordering_key TEXT NOT NULL,
    head_due INTEGER,
    record TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS qnox_tasks_key ON qnox_tasks (ordering_key, seq);
  CREATE INDEX IF NOT EXISTS qnox_tasks_due ON qnox_tasks (head_due, seq) WHERE head_due IS NOT NULL;
  CREATE TABLE IF NOT EXISTS qnox_dead (id TEXT PRIMARY KEY, failed_at INTEGER NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS qnox_cache (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS qnox_cache_expiry ON qnox_cache (expires_at);
  CREATE TABLE IF NOT EXISTS qnox_quarantine (n INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS qnox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- The drain lock's holder renews a lease: a pid can be reused (PID 1 in a container), a lease runs out.
  CREATE TABLE IF NOT EXISTS qnox_lock (slot INTEGER PRIMARY KEY CHECK (slot = 1), owner TEXT NOT NULL, pid INTEGER NOT NULL, renewed_at INTEGER NOT NULL);
  -- COUNT(*) walks a whole index; trigger-kept counters make pendingCount() flat however long the backlog.
  CREATE TABLE IF NOT EXISTS qnox_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
  INSERT OR IGNORE INTO qnox_counts (name, n) VALUES ('tasks', 0), ('dead', 0);
  CREATE TRIGGER IF NOT EXISTS qnox_tasks_ins AFTER INSERT ON qnox_tasks BEGIN UPDATE qnox_counts SET n = n + 1 WHERE name = 'tasks'; END;
  CREATE TRIGGER IF NOT EXISTS qnox_tasks_del AFTER DELETE ON qnox_tasks BEGIN UPDATE qnox_counts SET n = n - 1 WHERE name = 'tasks'; END;
  CREATE TRIGGER IF NOT EXISTS qnox_dead_ins AFTER INSERT ON qnox_dead BEGIN UPDATE qnox_counts SET n = n + 1 WHERE name = 'dead'; END;
  CREATE TRIGGER IF NOT EXISTS qnox_dead_del AFTER DELETE ON qnox_dead BEGIN UPDATE qnox_counts SET n = n - 1 WHERE name = 'dead'; END;
`;

/** Schema steps, one per version: step `n` takes a file from version `n - 1` to `n`. */
const STEPS = [V1];

/** How long a process waits for another holding the file (SQLite's busy timeout, and the WAL switch's retries). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Sets the pragmas (the busy timeout first: a second process opening a fresh
 * file at the same moment must wait, not fail), switches the file to WAL (see
 * {@link switchToWal}), then runs every schema step the file has not had yet,
 * each in its own transaction that re-reads the version, so two processes
 * never run a step twice. `secure_delete` overwrites deleted rows, so
 * `clear()` leaves no old body in free pages.
 */
export async function migrate(db: SqliteDatabase): Promise<void> {
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await switchToWal(db);
    prepare(db);
  } catch (cause) {
    throw cause instanceof StorageError
      ? cause
      : new StorageError('Cannot prepare the SQLite database', { cause });
  }
}

/**
 * `PRAGMA journal_mode = WAL` reads the file header, then upgrades to a write
 * lock. Two processes doing so on a fresh file at once deadlock, and SQLite
 * breaks that by failing one with SQLITE_BUSY at once, without waiting out the
 * busy timeout. So a busy answer is retried, after a short random pause, until
 * the timeout has passed.
 */
async function switchToWal(db: SqliteDatabase): Promise<void> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
  }
}

/** SQLITE_BUSY as `better-sqlite3` (`code`) and `node:sqlite` (`errcode`, possibly extended) report it. */
function isBusy(error: unknown): boolean {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  return (
    (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) ||
    (typeof errcode === 'number' && (errcode & 0xff) === 5)
  );
}

function prepare(db: SqliteDatabase): void {
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA secure_delete = ON');
  for (let version = 1; version <= STEPS.length; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const current = (db.prepare('PRAGMA user_version').get() as { user_version: number })
        .user_version;
      if (current > STEPS.length)
        throw new StorageError(
          `The SQLite file has schema version ${current}; this build knows up to ${STEPS.length}`,
        );
      if (current < version) db.exec(`${STEPS[version - 1]} PRAGMA user_version = ${version};`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
