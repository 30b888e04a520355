import type { NewTaskRecord, TaskRecord } from '../../model/records.js';

/** One enqueue's outcome in a shared commit: its stored task, or why it alone failed. */
export type EnqueueOutcome = { readonly task: TaskRecord } | { readonly error: unknown };

/**
 * Commits enqueues issued together in one transaction (`insert`, which returns
 * their seqs in order), for the shared group commit. One bad write never rolls
 * back its neighbours: a write that cannot be serialised fails before the
 * transaction, and when the shared transaction fails, each write goes again on
 * its own.
 */
export function commitBatch(
  inputs: readonly NewTaskRecord[],
  insert: (rows: readonly { input: NewTaskRecord; json: string }[]) => number[],
  fail: (error: unknown) => unknown,
): EnqueueOutcome[] {
  const out: EnqueueOutcome[] = new Array(inputs.length);
  const ready: { at: number; input: NewTaskRecord; json: string }[] = [];
  for (const [at, input] of inputs.entries()) {
    try {
      ready.push({ at, input, json: JSON.stringify(input) });
    } catch (error) {
      out[at] = { error: fail(error) };
    }
  }
  const commit = (rows: typeof ready) => {
    const seqs = insert(rows);
    for (const [i, row] of rows.entries()) out[row.at] = { task: { ...row.input, seq: seqs[i]! } };
  };
  try {
    commit(ready);
  } catch (error) {
    if (ready.length === 1) out[ready[0]!.at] = { error: fail(error) };
    else
      for (const row of ready) {
        try {
          commit([row]);
        } catch (alone) {
          out[row.at] = { error: fail(alone) };
        }
      }
  }
  return out;
}
