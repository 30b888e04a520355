import type { NewTaskRecord, TaskRecord } from '../../model/records.js';

/** An enqueue waiting for the group commit it will share. */
export interface PendingEnqueue {
  readonly input: NewTaskRecord;
  readonly resolve: (task: TaskRecord) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Commits enqueues issued together in one transaction (`insert`, which returns
 * their seqs in order). One bad write never rolls back its neighbours: a write
 * that cannot be serialised fails before the transaction, and when the shared
 * transaction fails, each write goes again on its own.
 */
export function commitBatch(
  batch: readonly PendingEnqueue[],
  insert: (rows: readonly { input: NewTaskRecord; json: string }[]) => number[],
  fail: (error: unknown) => unknown,
): void {
  const ready: { pending: PendingEnqueue; input: NewTaskRecord; json: string }[] = [];
  for (const pending of batch) {
    try {
      ready.push({ pending, input: pending.input, json: JSON.stringify(pending.input) });
    } catch (error) {
      pending.reject(fail(error));
    }
  }
  const commit = (rows: typeof ready) => {
    const seqs = insert(rows);
    for (const [i, row] of rows.entries()) row.pending.resolve({ ...row.input, seq: seqs[i]! });
  };
  try {
    commit(ready);
  } catch (error) {
    if (ready.length === 1) {
      ready[0]!.pending.reject(fail(error));
      return;
    }
    for (const row of ready) {
      try {
        commit([row]);
      } catch (alone) {
        row.pending.reject(fail(alone));
      }
    }
  }
}
