/**
 * The count of queued tasks without walking them (`IDBObjectStore.count()`
 * walks every record in Chromium: ~130 ms at 100k queued), and without a write
 * at enqueue. Task seqs come from the store's key generator, which hands out
 * 1, 2, 3… and is reverted when a transaction aborts, and the store never
 * writes a seq of its own above it: so the tasks ever added are the highest
 * seq ever given. Removals write rows of how many tasks they removed and the
 * highest seq among them; queued = max(last seq queued, highest seq removed)
 * − removed. Any context may fold the rows into one.
 */
import { request } from './idb-helpers.js';

export const REMOVALS = 'removals';
const TASKS = 'tasks';

/** Past this many removal rows, a read folds them into one. */
export const FOLD_REMOVALS_AT = 16;

interface Removal {
  readonly removed: number;
  readonly maxSeq: number;
}

/** Records that `removed` tasks left the queue, the highest of their seqs `maxSeq`. */
export function recordRemoval(tx: IDBTransaction, removed: number, maxSeq: number): void {
  if (removed !== 0) tx.objectStore(REMOVALS).add({ removed, maxSeq } satisfies Removal);
}

/** The queued count, the tasks ever added, and how many removal rows there are. */
export async function readRemovals(
  tx: IDBTransaction,
): Promise<{ count: number; given: number; rows: number }> {
  const [last, rows] = await Promise.all([
    request(tx.objectStore(TASKS).openKeyCursor(null, 'prev')),
    request(tx.objectStore(REMOVALS).getAll()) as Promise<Removal[]>,
  ]);
  const { removed, maxSeq } = sum(rows);
  const given = Math.max((last?.key as number | undefined) ?? 0, maxSeq);
  return { count: given - removed, given, rows: rows.length };
}

/** Replaces the removal rows by their sum, atomically within `tx`. */
export async function foldRemovals(tx: IDBTransaction): Promise<void> {
  const store = tx.objectStore(REMOVALS);
  const { removed, maxSeq } = sum((await request(store.getAll())) as Removal[]);
  store.clear();
  recordRemoval(tx, removed, maxSeq);
}

/** Before the queue is cleared in `tx`: every task given so far counts as removed. */
export async function clearRemovals(tx: IDBTransaction): Promise<void> {
  const { given } = await readRemovals(tx);
  tx.objectStore(REMOVALS).clear();
  recordRemoval(tx, given, given);
}

function sum(rows: readonly Removal[]): Removal {
  let removed = 0;
  let maxSeq = 0;
  for (const row of rows) {
    removed += row.removed;
    maxSeq = Math.max(maxSeq, row.maxSeq);
  }
  return { removed, maxSeq };
}
