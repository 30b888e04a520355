/**
 * The count of queued tasks, kept as rows of signed deltas: an enqueue adds
 * `+n`, a removal `-n`, each a row of its own so no write has to read first.
 * `IDBObjectStore.count()` walks every record in Chromium (~130 ms at 100k
 * queued); summing the deltas costs what the rows since the last compaction
 * cost, and any context may fold them into one.
 */
import { request } from './idb-helpers.js';

export const TALLY = 'tally';

/** Past this many delta rows, a read folds them into one. */
export const TALLY_FOLD_AT = 16;

/** Records `delta` more (or fewer) queued tasks, in `tx`. */
export function addToTally(tx: IDBTransaction, delta: number): void {
  if (delta !== 0) tx.objectStore(TALLY).add(delta);
}

/** The queued count and how many delta rows make it up. */
export async function readTally(store: IDBObjectStore): Promise<{ count: number; rows: number }> {
  const deltas = (await request(store.getAll())) as number[];
  let count = 0;
  for (const delta of deltas) count += delta;
  return { count, rows: deltas.length };
}

/** Replaces the delta rows by their sum, atomically within `tx`. */
export async function foldTally(tx: IDBTransaction): Promise<void> {
  const store = tx.objectStore(TALLY);
  const { count } = await readTally(store);
  store.clear();
  addToTally(tx, count);
}
