import type { TaskRecord } from '../../outbox/records.js';
import { request } from './idb-helpers.js';

/** A task row: the record plus `headDue`, present only on the head of its ordering key (the due index). */
export type TaskRow = TaskRecord & { headDue?: number };

/** Deletes the task `id` (two round trips when it was a head, one otherwise). */
export async function removeRow(
  tasks: IDBObjectStore,
  id: string,
  keys: typeof IDBKeyRange,
): Promise<void> {
  const cursor = await request(tasks.index('byId').openCursor(id));
  if (!cursor) return;
  const row = cursor.value as TaskRow;
  cursor.delete();
  await promoteNext(tasks, row, keys);
}

/** Deletes a row by its key; if it was the head of its ordering key, the next task becomes the head. */
export async function removeRowBySeq(
  tasks: IDBObjectStore,
  seq: number,
  keys: typeof IDBKeyRange,
): Promise<void> {
  const row = (await request(tasks.get(seq))) as TaskRow | undefined;
  if (!row) return;
  tasks.delete(seq);
  await promoteNext(tasks, row, keys);
}

async function promoteNext(
  tasks: IDBObjectStore,
  removed: TaskRow,
  keys: typeof IDBKeyRange,
): Promise<void> {
  if (removed.headDue === undefined || typeof removed.orderingKey !== 'string') return;
  const range = keys.bound(
    [removed.orderingKey, removed.seq],
    [removed.orderingKey, Number.POSITIVE_INFINITY],
    true,
  );
  const next = await request(tasks.index('byKey').openCursor(range));
  // Requests in one transaction run in order and the commit waits for them: no need to await the update.
  if (next)
    next.update({ ...(next.value as TaskRow), headDue: (next.value as TaskRow).nextAttemptAt });
}
