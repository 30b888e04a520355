import type { SqliteDatabase } from './driver.js';

/** How long a holder's claim lasts without renewal. */
export const LOCK_LEASE_MS = 30_000;
/** A holder renews once this much of its lease has passed. */
const RENEW_AFTER_MS = 5_000;

/**
 * One drainer per database file, across processes. The owner row is taken in
 * an IMMEDIATE transaction, so two processes can never both take it. The owner
 * is a random id (a pid can be reused: PID 1 in every container) and holds a
 * lease it renews while draining: a row whose process is gone, or whose lease
 * ran out, is taken over.
 */
export class DrainLock {
  readonly #owner = crypto.randomUUID();
  #held = false;
  #renewedAt = 0;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly now: () => number = () => Date.now(),
  ) {}

  acquire(): boolean {
    const now = this.now();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const row = this.db
        .prepare('SELECT owner, pid, renewed_at FROM qnox_lock WHERE slot = 1')
        .get() as { owner: string; pid: number; renewed_at: number } | undefined;
      this.#held = !row || row.owner === this.#owner || !isLive(row, now);
      if (this.#held) {
        this.db
          .prepare(
            'INSERT OR REPLACE INTO qnox_lock (slot, owner, pid, renewed_at) VALUES (1, ?, ?, ?)',
          )
          .run(this.#owner, process.pid, now);
        this.#renewedAt = now;
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    return this.#held;
  }

  /** True while this store holds the lock; renews the lease as it goes, false once it was taken over. */
  holds(): boolean {
    if (!this.#held) return false;
    const now = this.now();
    if (now - this.#renewedAt < RENEW_AFTER_MS) return true;
    const renewed = this.db
      .prepare('UPDATE qnox_lock SET renewed_at = ? WHERE slot = 1 AND owner = ?')
      .run(now, this.#owner);
    this.#held = Number(renewed.changes) === 1;
    this.#renewedAt = now;
    return this.#held;
  }

  release(): void {
    if (!this.#held) return;
    this.db.prepare('DELETE FROM qnox_lock WHERE slot = 1 AND owner = ?').run(this.#owner);
    this.#held = false;
  }
}

function isLive(row: { pid: number; renewed_at: number }, now: number): boolean {
  // Renewed further ahead than a lease: the wall clock went back, and no live holder did that.
  if (now - row.renewed_at >= LOCK_LEASE_MS || row.renewed_at - now > LOCK_LEASE_MS) return false;
  if (row.pid === process.pid) return true;
  try {
    process.kill(row.pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
