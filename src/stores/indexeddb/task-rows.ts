import type { NewTaskRecord, TaskRecord } from '../../outbox/records.js';
import { request } from './idb-helpers.js';

/** A task row: the record plus `headDue`, present only on the head of its ordering key (the due index). */
export type TaskRow = TaskRecord & { headDue?: number };

/**
 * Adds a batch of tasks in one transaction; a task becomes the head of its key
 * when the key has no task yet. Every request is issued before any is awaited:
 * two round trips per batch, not two per task.
 */
export async function addRows(
  tasks: IDBObjectStore,
  inputs: readonly NewTaskRecord[],
  keyRange: typeof IDBKeyRange,
): Promise<TaskRecord[]> {
  const keys = [...new Set(inputs.map((input) => input.orderingKey))];
  const counts = await Promise.all(
    keys.map((k) =>
      request(tasks.index('byKey').count(keyRange.bound([k, 0], [k, Number.POSITIVE_INFINITY]))),
    ),
  );
  const occupied = new Set(keys.filter((_, i) => counts[i]! > 0));
  const seqs = await Promise.all(
    inputs.map((input) => {
      const isHead = !occupied.has(input.orderingKey);
      occupied.add(input.orderingKey);
      return request(tasks.add(isHead ? { ...input, headDue: input.nextAttemptAt } : { ...input }));
    }),
  );
  return inputs.map((input, i) => ({ ...input, seq: seqs[i] as number }));
}

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
