import type { TaskRecord } from '../../model/records.js';
import type { Connection } from './connection.js';
import { dueRows, HEADS, type HeadRow, isScheduleOf, rehead, TASKS } from './task-rows.js';

/** Heads in due order, and the first task of each one's key (`undefined` where none). */
type Heads = { heads: HeadRow[]; firsts: unknown[] };

/**
 * Reads the `heads` store: which keys' first tasks are due. An enqueue marks
 * its key's head due before any time, so a head is never later than its key's
 * first task, only earlier (or stale after another tab's removal); heads are
 * checked against the first tasks they point at, and mended where they differ.
 */
export class Schedule {
  constructor(private readonly conn: Connection) {}

  /**
   * The first tasks (as stored rows, not decoded) of the keys due by `now`,
   * earliest first, at most `limit`. One head more than asked tells whether
   * every head due by `now` was read: then the first tasks alone give the
   * answer, mended or not. So do the first `limit` heads when all are exact;
   * otherwise the heads are mended and read again.
   */
  async due(now: number, limit: number): Promise<TaskRecord[]> {
    const read = await this.#read(now, limit + 1);
    const { firsts } = read.heads.length <= limit ? read : await this.#exact(now, limit, read);
    return (
      (firsts.filter((row) => row !== undefined) as TaskRecord[])
        // Not `<= now`: a row too damaged to say must still reach decoding (quarantine).
        .filter((row) => !(row.nextAttemptAt > now))
        .sort(
          (a, b) =>
            a.nextAttemptAt - b.nextAttemptAt ||
            a.createdAt - b.createdAt ||
            (a.orderingKey < b.orderingKey ? -1 : 1),
        )
        .slice(0, limit)
    );
  }

  async nextDueAt(): Promise<number | undefined> {
    return (await this.#exact(Number.POSITIVE_INFINITY, 1)).heads[0]?.due;
  }

  /**
   * The heads due by `now` (at most `limit`) and each key's first task, once
   * the first `limit` heads are exactly their keys' schedules. Heads that are
   * not (see `isScheduleOf`) sort first; they are mended, up to 64 a round, and
   * the heads read again (`first`: a read already made stands for the first
   * round); after 4 rounds (another tab keeps adding them) the
   * heads are answered as they stand, which can only make a key look due early.
   */
  async #exact(now: number, limit: number, first?: Heads): Promise<Heads> {
    for (let round = 1; ; round++) {
      const read =
        round === 1
          ? (first ?? (await this.#read(now, limit)))
          : await this.#read(now, Math.max(limit, 64));
      const exact = (head: HeadRow, i: number) => isScheduleOf(head, read.firsts[i]);
      if (read.heads.slice(0, limit).every(exact) || round === 4)
        return { heads: read.heads.slice(0, limit), firsts: read.firsts.slice(0, limit) };
      const stale = read.heads.filter((head, i) => !exact(head, i));
      await this.conn.write([TASKS, HEADS], async (tx) => {
        for (const head of stale) await rehead(tx, head.orderingKey, this.conn.keys());
      });
    }
  }

  #read(now: number, limit: number): Promise<Heads> {
    return this.conn.readAll([HEADS, TASKS], (tx) => dueRows(tx, now, limit, this.conn.keys()));
  }
}
