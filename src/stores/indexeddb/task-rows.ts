import type { NewTaskRecord, TaskRecord } from '../../model/records.js';
import { request } from './idb-helpers.js';
import { recordRemoval } from './removal-log.js';
import type { RowAddress, RowAddresses } from './row-addresses.js';

/**
 * The schedule of one ordering key, kept in the `heads` store: when its first
 * task is due. A key has a row here exactly while it has queued tasks, so
 * `dueTasks` reads one row per key however long the queues behind them are.
 */
export interface HeadRow {
  readonly orderingKey: string;
  readonly due: number;
  /** Creation time of the first task: breaks ties between keys due together. */
  readonly at: number;
}

export const TASKS = 'tasks';
export const HEADS = 'heads';

const inKey = (keys: typeof IDBKeyRange, key: string, afterSeq = Number.NEGATIVE_INFINITY) =>
  keys.bound([key, afterSeq], [key, Number.POSITIVE_INFINITY], true);

const headOf = (
  task: Pick<TaskRecord, 'orderingKey' | 'nextAttemptAt' | 'createdAt'>,
): HeadRow => ({
  orderingKey: task.orderingKey,
  due: task.nextAttemptAt,
  at: task.createdAt,
});

/**
 * Adds a batch of tasks in one transaction without reading first: each key in
 * the batch also puts its `heads` row, marked due before any time (`due` and
 * `at` -Infinity).
 * A head so marked is never later than its key's first task, only earlier, so
 * it sorts ahead of every exact head: `dueTasks` and `nextDueAt` check the
 * heads they read against the keys' first tasks and mend any that is not
 * exact, and a write is never sent early. No request here can fail by design,
 * so the transaction is told to commit at once: an enqueue is one round trip
 * whatever the queue holds.
 */
export async function addRows(
  tx: IDBTransaction,
  inputs: readonly NewTaskRecord[],
): Promise<TaskRecord[]> {
  const tasks = tx.objectStore(TASKS);
  const heads = tx.objectStore(HEADS);
  // Requests of a transaction complete in order: the last one's answer means all are in.
  const seqs: number[] = [];
  let last: IDBRequest<IDBValidKey> | undefined;
  for (const [i, input] of inputs.entries()) {
    const added = tasks.add(input);
    added.onsuccess = () => {
      seqs[i] = added.result as number;
    };
    last = added;
  }
  const marked = new Set<string>();
  for (const input of inputs) {
    if (marked.has(input.orderingKey)) continue;
    marked.add(input.orderingKey);
    // One index position for every mark of a key: each enqueue re-puts the same `due`
    // index entry instead of leaving the last one's behind (in Chromium a deleted index
    // entry lingers until compaction, and every `dueTasks` scan from the start walked them).
    heads.put({
      orderingKey: input.orderingKey,
      due: Number.NEGATIVE_INFINITY,
      at: Number.NEGATIVE_INFINITY,
    } satisfies HeadRow);
  }
  tx.commit?.();
  if (last) seqs[inputs.length - 1] = (await request(last)) as number;
  return inputs.map((input, i) => ({ ...input, seq: seqs[i]! }));
}

/**
 * Deletes the tasks `ids` and re-points the schedule of every key they were in.
 * With `known` rows (what a drain read ahead), a known task costs no lookup
 * and a key whose next task is known is re-pointed without reading it: a drain
 * removal is deletes and puts in one round trip.
 */
export async function removeRows(
  tx: IDBTransaction,
  ids: readonly string[],
  keys: typeof IDBKeyRange,
  known?: RowAddresses,
): Promise<number[]> {
  const byId = tx.objectStore(TASKS).index('byId');
  const unsure = new Set<number>();
  const rows = await Promise.all(
    ids.map((id) => {
      const address = known?.get(id);
      if (!address) return request(byId.get(id) as IDBRequest<TaskRecord | undefined>);
      unsure.add(address.seq);
      return address;
    }),
  );
  return dropRows(tx, rows, keys, known, unsure);
}

/** Deletes a row by its key (it may not decode) and re-points its key's schedule. */
export async function removeRowBySeq(
  tx: IDBTransaction,
  seq: number,
  keys: typeof IDBKeyRange,
): Promise<void> {
  const row = (await request(tx.objectStore(TASKS).get(seq))) as TaskRecord | undefined;
  await dropRows(tx, [row], keys);
}

/**
 * Deletes `rows` and re-points the keys they were in. Rows in `unsure` were
 * not read in this transaction (another tab may have removed them): each is
 * looked up just before its delete, so the count of queued tasks only drops by
 * what was really there.
 */
async function dropRows(
  tx: IDBTransaction,
  rows: readonly (Pick<RowAddress, 'seq' | 'orderingKey'> | undefined)[],
  keys: typeof IDBKeyRange,
  known?: RowAddresses,
  unsure: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const tasks = tx.objectStore(TASKS);
  /** Per key touched, the seqs removed from it. */
  const touched = new Map<string, Set<number>>();
  const deleted = new Set<number>();
  const checks: Promise<unknown>[] = [];
  let certain = 0;
  for (const row of rows) {
    if (!row || deleted.has(row.seq)) continue;
    deleted.add(row.seq);
    if (unsure.has(row.seq)) checks.push(request(tasks.getKey(row.seq)));
    else certain++;
    tasks.delete(row.seq);
    if (typeof row.orderingKey !== 'string') continue;
    const seqs = touched.get(row.orderingKey) ?? new Set<number>();
    touched.set(row.orderingKey, seqs.add(row.seq));
  }
  // Issued after the deletes, so each lookup sees what is left of its key.
  const reheads = Promise.all(
    [...touched].map(([key, seqs]) => {
      // A drain removes a key's first task and has read the one behind it:
      // that one's schedule is known, so no read is needed.
      const next = known?.promote(key, seqs);
      if (next) return request(tx.objectStore(HEADS).put(headOf(next)));
      return rehead(tx, key, keys);
    }),
  );
  // Counted as removed now; the rare row that was already gone is given back
  // after its check, so the usual removal needs no round trip more.
  const maxSeq = Math.max(0, ...deleted);
  recordRemoval(tx, certain + checks.length, maxSeq);
  const gone = (await Promise.all(checks)).filter((key) => key === undefined).length;
  recordRemoval(tx, -gone, maxSeq);
  await reheads;
  return [...touched.values()].flatMap((seqs) => [...seqs]);
}

/** Points `key`'s schedule at its first task, or drops it when the key is empty. */
export async function rehead(
  tx: IDBTransaction,
  key: string,
  keys: typeof IDBKeyRange,
): Promise<void> {
  const first = (await request(tx.objectStore(TASKS).index('byKey').get(inKey(keys, key)))) as
    | TaskRecord
    | undefined;
  const heads = tx.objectStore(HEADS);
  // The commit waits for these; nothing here needs their answer.
  if (first) heads.put(headOf(first));
  else heads.delete(key);
}

/**
 * Replaces queued tasks (missing ones are ignored) in one transaction: one read
 * per key (its rows between the batch's first and last seq), and a key's head is
 * mended only when its first task's schedule changed.
 */
export async function updateRows(
  tx: IDBTransaction,
  batch: readonly TaskRecord[],
  keys: typeof IDBKeyRange,
): Promise<void> {
  const byKey = new Map<string, TaskRecord[]>();
  for (const task of batch) {
    const group = byKey.get(task.orderingKey);
    if (group) group.push(task);
    else byKey.set(task.orderingKey, [task]);
  }
  const tasks = tx.objectStore(TASKS);
  await Promise.all(
    [...byKey].map(async ([key, group]) => {
      const seqs = group.map((t) => t.seq);
      const range = keys.bound([key, Math.min(...seqs)], [key, Math.max(...seqs)]);
      const rows = (await request(tasks.index('byKey').getAll(range))) as TaskRecord[];
      const old = new Map(rows.map((row) => [row.seq, row]));
      let moved = false;
      for (const task of group) {
        const row = old.get(task.seq);
        // Gone (delivered, cancelled, cleared): a missing task is ignored.
        if (row?.id !== task.id) continue;
        tasks.put({ ...task, seq: row.seq, orderingKey: row.orderingKey });
        moved ||= row.nextAttemptAt !== task.nextAttemptAt || row.createdAt !== task.createdAt;
      }
      if (moved) await rehead(tx, key, keys);
    }),
  );
}

/**
 * Whether `head` is exactly the schedule of `first`, its key's first task. A
 * head that is not (an enqueue marked it due, another tab moved the queue, or
 * the key emptied) is mended with {@link rehead} before anyone trusts it.
 */
export function isScheduleOf(head: HeadRow, first: unknown): boolean {
  const task = first as TaskRecord | undefined;
  return task !== undefined && head.due === task.nextAttemptAt && head.at === task.createdAt;
}

/** The heads due by `now` (earliest first, at most `limit`) and the first task of each key. */
export async function dueRows(
  tx: IDBTransaction,
  now: number,
  limit: number,
  keys: typeof IDBKeyRange,
): Promise<{ heads: HeadRow[]; firsts: unknown[] }> {
  const heads = (await request(
    tx
      .objectStore(HEADS)
      .index('due')
      .getAll(keys.upperBound([now, Number.POSITIVE_INFINITY]), limit),
  )) as HeadRow[];
  const byKey = tx.objectStore(TASKS).index('byKey');
  const firsts = await Promise.all(
    heads.map((h) => request(byKey.get(inKey(keys, h.orderingKey)))),
  );
  return { heads, firsts };
}

/** The last task of `orderingKey` (highest seq), through a backwards cursor. */
export function lastRowOf(
  tasks: IDBObjectStore,
  orderingKey: string,
  keys: typeof IDBKeyRange,
): IDBRequest<IDBCursorWithValue | null> {
  return tasks.index('byKey').openCursor(inKey(keys, orderingKey), 'prev');
}

/** Up to `limit` tasks of `orderingKey` after `afterSeq`, in order. */
export function rowsAfter(
  tasks: IDBObjectStore,
  orderingKey: string,
  afterSeq: number,
  limit: number,
  keys: typeof IDBKeyRange,
): IDBRequest<unknown[]> {
  return tasks.index('byKey').getAll(inKey(keys, orderingKey, afterSeq), limit);
}
