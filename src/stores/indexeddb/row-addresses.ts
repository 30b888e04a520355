import type { TaskRecord } from '../../model/records.js';

/** Where a task was last seen, and what its key's schedule would be were it first. */
export type RowAddress = Pick<TaskRecord, 'seq' | 'orderingKey' | 'nextAttemptAt' | 'createdAt'>;

/**
 * What this store has recently read of the queue (a drain reads each key's
 * first task, then the tasks behind it): where tasks are, which task was read
 * as its key's first, and which task followed which. A removal uses it to skip
 * looking a task up and, when it removes a key's first task, to re-point the
 * key's schedule at the next one without reading it.
 *
 * Knowledge may go stale (another tab removed a task). A `seq` is never reused,
 * so a stale delete deletes nothing; no task is ever inserted ahead of one
 * already read, so the task found here behind a removed first one is the next
 * unless another context removed it; and `dueTasks` checks every schedule
 * against its key's real first task, so a stale one costs a re-read, never an
 * early send. Each map is bounded.
 */
export class RowAddresses {
  readonly #byId = new Map<string, RowAddress>();
  /** seq → the task that followed it in its key when read. */
  readonly #next = new Map<number, RowAddress>();
  /** key → seq of the task last read as its first. */
  readonly #first = new Map<string, number>();

  constructor(private readonly limit = 1_000) {}

  get(id: string): RowAddress | undefined {
    return this.#byId.get(id);
  }

  /** `row` was read (any read). */
  remember(row: TaskRecord): void {
    const address = addressOf(row);
    if (address) bounded(this.#byId, this.limit).set(row.id, address);
  }

  /** `row` was read as its key's first task. */
  rememberFirst(row: TaskRecord): void {
    if (addressOf(row)) bounded(this.#first, this.limit).set(row.orderingKey, row.seq);
  }

  /** `rows` were read as the tasks that follow `afterSeq` in their key, in order. */
  rememberRun(afterSeq: number, rows: readonly TaskRecord[]): void {
    let previous = afterSeq;
    for (const row of rows) {
      const address = addressOf(row);
      if (!address) return;
      bounded(this.#next, this.limit).set(previous, address);
      previous = address.seq;
    }
  }

  /**
   * The new first task of `key` once `removed` are gone, when its first task
   * is among them and the task behind is known; otherwise `undefined` (read it).
   */
  promote(key: string, removed: ReadonlySet<number>): RowAddress | undefined {
    let seq = this.#first.get(key);
    if (seq === undefined || !removed.has(seq)) return undefined;
    let next: RowAddress | undefined;
    while (seq !== undefined && removed.has(seq)) {
      next = this.#next.get(seq);
      seq = next?.seq;
    }
    if (!next) {
      this.#first.delete(key);
      return undefined;
    }
    this.#first.set(key, next.seq);
    return next;
  }

  /** The rows of `ids` / `seqs` are gone. */
  forget(ids: Iterable<string>, seqs: Iterable<number>): void {
    for (const id of ids) this.#byId.delete(id);
    for (const seq of seqs) this.#next.delete(seq);
  }

  clear(): void {
    this.#byId.clear();
    this.#next.clear();
    this.#first.clear();
  }
}

function addressOf(row: TaskRecord): RowAddress | undefined {
  if (typeof row?.id !== 'string' || typeof row.seq !== 'number') return undefined;
  if (typeof row.orderingKey !== 'string' || typeof row.nextAttemptAt !== 'number')
    return undefined;
  const { seq, orderingKey, nextAttemptAt, createdAt } = row;
  return { seq, orderingKey, nextAttemptAt, createdAt };
}

/** `map`, with its oldest entry dropped when it is full. */
function bounded<K, V>(map: Map<K, V>, limit: number): Map<K, V> {
  if (map.size >= limit) map.delete(map.keys().next().value as K);
  return map;
}
