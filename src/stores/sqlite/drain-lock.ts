import type { SqliteDatabase } from './driver.js';

/**
 * One drainer per database file, across processes. The owner row is taken in
 * an IMMEDIATE transaction, so two processes can never both take it; a row
 * left by a process that died (SIGKILL, power loss) is taken over.
 */
export class DrainLock {
  readonly #owner = `${process.pid}:${crypto.randomUUID()}`;
  #held = false;

  constructor(private readonly db: SqliteDatabase) {}

  acquire(): boolean {
    if (this.#held) return true;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const row = this.db.prepare('SELECT owner, pid FROM qnox_lock WHERE slot = 1').get() as
        | { owner: string; pid: number }
        | undefined;
      if (!row || (row.owner !== this.#owner && !isAlive(row.pid, row.owner))) {
        this.db
          .prepare('INSERT OR REPLACE INTO qnox_lock (slot, owner, pid) VALUES (1, ?, ?)')
          .run(this.#owner, process.pid);
        this.#held = true;
      } else {
        this.#held = row.owner === this.#owner;
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    return this.#held;
  }

  release(): void {
    if (!this.#held) return;
    this.db.prepare('DELETE FROM qnox_lock WHERE slot = 1 AND owner = ?').run(this.#owner);
    this.#held = false;
  }
}

function isAlive(pid: number, owner: string): boolean {
  // Another store in this very process holds it: alive by definition.
  if (pid === process.pid) return owner.startsWith(`${pid}:`);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
