import type { TaskRecord } from '../model/records.js';

/** What the index needs of a head. */
export type HeadEntry = Pick<TaskRecord, 'id' | 'seq' | 'nextAttemptAt'>;

/**
 * Heads of ordering keys sorted by (nextAttemptAt, seq): what `dueTasks` and
 * `nextDueAt` read in O(log n + limit), however long the backlog is.
 */
export class HeadIndex {
  readonly #items: HeadEntry[] = [];

  get size(): number {
    return this.#items.length;
  }

  insert(task: HeadEntry): void {
    this.#items.splice(this.#position(task), 0, task);
  }

  remove(task: HeadEntry): void {
    const i = this.#position(task);
    if (this.#items[i]?.id === task.id) this.#items.splice(i, 1);
  }

  first(): HeadEntry | undefined {
    return this.#items[0];
  }

  due(now: number, limit: number): HeadEntry[] {
    const out: HeadEntry[] = [];
    for (const task of this.#items) {
      if (out.length >= limit || task.nextAttemptAt > now) break;
      out.push(task);
    }
    return out;
  }

  clear(): void {
    this.#items.length = 0;
  }

  #position(task: HeadEntry): number {
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#items[mid]!;
      if (
        other.nextAttemptAt < task.nextAttemptAt ||
        (other.nextAttemptAt === task.nextAttemptAt && other.seq < task.seq)
      ) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
