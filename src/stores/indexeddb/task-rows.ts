import type { TaskRecord } from '../../outbox/records.js';
import { request } from './idb-helpers.js';

/** A task row: the record plus `headDue`, present only on the head of its ordering key (the due index). */
export type TaskRow = TaskRecord & { headDue?: number };

export async function removeRow(
  tasks: IDBObjectStore,
  id: string,
  keys: typeof IDBKeyRange,
): Promise<void> {
  const seq = await request(tasks.index('byId').getKey(id));
  if (seq !== undefined) await removeRowBySeq(tasks, seq as number, keys);
}

/** Deletes a row; if it was the head of its key, the next task of that key becomes the head. */
export async function removeRowBySeq(
  tasks: IDBObjectStore,
  seq: number,
  keys: typeof IDBKeyRange,
): Promise<void> {
  const row = (await request(tasks.get(seq))) as TaskRow | undefined;
  if (!row) return;
  await request(tasks.delete(seq));
  if (row.headDue === undefined || typeof row.orderingKey !== 'string') return;
  const range = keys.bound(
    [row.orderingKey, seq],
    [row.orderingKey, Number.POSITIVE_INFINITY],
    true,
  );
  const cursor = await request(tasks.index('byKey').openCursor(range));
  if (cursor) {
    const next = cursor.value as TaskRow;
    await request(cursor.update({ ...next, headDue: next.nextAttemptAt }));
  }
}
