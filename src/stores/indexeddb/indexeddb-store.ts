import {
  type CacheRecord,
  type DeadLetterRecord,
  decodeDeadLetter,
  decodeTask,
  type NewTaskRecord,
  type TaskRecord,
} from '../../model/records.js';
import { lazyClock, systemClock } from '../../platform/clock.js';
import { askPersistentStorage } from '../../platform/persist.js';
import { GroupCommit } from '../group-commit.js';
import type { ClearOptions, QnoxLocalStore, QuarantineReport } from '../local-store.js';
import { Connection } from './connection.js';
import { request, walk } from './idb-helpers.js';
import type { IndexedDbStoreOptions } from './indexeddb-options.js';
import {
  clearRemovals,
  FOLD_REMOVALS_AT,
  foldRemovals,
  REMOVALS,
  readRemovals,
} from './removal-log.js';
import { RowAddresses } from './row-addresses.js';
import { Schedule } from './schedule.js';
import {
  addRows,
  HEADS,
  lastRowOf,
  removeRowBySeq,
  removeRows,
  rowsAfter,
  TASKS,
  updateRows,
} from './task-rows.js';

export type { IndexedDbStoreOptions } from './indexeddb-options.js';

const DEAD = 'dead';
const CACHE = 'cache';
const QUARANTINE = 'quarantine';

/**
 * The browser store: pages, workers and service workers. `dueTasks` reads an
 * index holding only ordering-key heads, `pendingCount` is an index count, and
 * writes that acknowledge an enqueue commit with strict durability. Enqueues
 * issued together share one transaction (group commit).
 *
 * @example
 * import { IndexedDbStore } from 'qnox-offline-sync/indexeddb';
 * const sync = await QnoxSync.create({ baseUrl, store: new IndexedDbStore({ name: 'orders-app' }) });
 */
export class IndexedDbStore implements QnoxLocalStore {
  readonly #name: string;
  readonly #options: IndexedDbStoreOptions;
  readonly #conn: Connection;
  // The store's clock, read at each use: its options are set after the fields.
  readonly #time = lazyClock(() => this.#options.clock ?? systemClock);
  readonly #adds = new GroupCommit<NewTaskRecord, TaskRecord>((inputs) =>
    this.#conn.write([TASKS, HEADS], (tx) => addRows(tx, inputs), 'strict'),
  );
  /**
   * Removals linger up to 200 ms while they stream in (a batch starting within
   * 200 ms of the last), so a backlog costs a transaction per ~40 writes, not
   * per write; the drain flushes them when a lane runs dry, so only writes with
   * more queued behind them settle later (at most by the linger).
   */
  readonly #removals = new GroupCommit<string, void>(
    async (ids) => {
      await this.#remove(ids);
      return [];
    },
    200,
    200,
    this.#time,
  );
  readonly #schedule: Schedule;
  /** What this store read of the queue recently, so a drain's removals need no reads. */
  readonly #known = new RowAddresses();
  #quarantineListener: ((report: QuarantineReport) => void) | undefined;

  constructor(options: IndexedDbStoreOptions = {}) {
    this.#options = options;
    this.#name = options.name ?? 'qnox-offline-sync';
    // Out of room while writing the queue: evict the cache (never a queued write), then fail.
    this.#conn = new Connection(this.#name, options, async (names) => {
      if (names.includes(TASKS)) await this.clear({ cache: true, outbox: false });
    });
    this.#schedule = new Schedule(this.#conn);
  }

  get channelName(): string {
    return `idb:${this.#name}`;
  }

  async init(): Promise<void> {
    await this.#conn.open();
    if (this.#options.persist !== false) await askPersistentStorage();
  }

  onQuarantine(listener: (report: QuarantineReport) => void): void {
    this.#quarantineListener = listener;
  }

  /** Enqueues issued together (or while the previous batch commits) share one strict transaction. */
  enqueue(input: NewTaskRecord): Promise<TaskRecord> {
    return this.#adds.add(input);
  }

  async dueTasks(query: { now: number; limit: number }): Promise<TaskRecord[]> {
    const tasks = await this.#decodeAll(await this.#schedule.due(query.now, query.limit));
    for (const task of tasks) this.#known.rememberFirst(task);
    return tasks;
  }

  nextDueAt(): Promise<number | undefined> {
    return this.#schedule.nextDueAt();
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const row = await this.#conn.read<unknown>(TASKS, (s) => s.index('byId').get(id));
    return row === undefined ? undefined : (await this.#decodeAll([row]))[0];
  }

  async tasksAfter(orderingKey: string, afterSeq: number, limit: number): Promise<TaskRecord[]> {
    const rows = await this.#conn.read<unknown[]>(TASKS, (s) =>
      rowsAfter(s, orderingKey, afterSeq, limit, this.#conn.keys()),
    );
    this.#known.rememberRun(afterSeq, rows as TaskRecord[]);
    return this.#decodeAll(rows);
  }

  async lastTask(orderingKey: string): Promise<TaskRecord | undefined> {
    const cursor = await this.#conn.read<IDBCursorWithValue | null>(TASKS, (s) =>
      lastRowOf(s, orderingKey, this.#conn.keys()),
    );
    return cursor ? (await this.#decodeAll([cursor.value]))[0] : undefined;
  }

  async listTasks(limit: number): Promise<TaskRecord[]> {
    return this.#decodeAll(await this.#conn.read<unknown[]>(TASKS, (s) => s.getAll(null, limit)));
  }

  updateTask(task: TaskRecord): Promise<void> {
    return this.updateTasks([task]);
  }

  /** All in one transaction: a lane's marks written ahead commit together. */
  async updateTasks(tasks: readonly TaskRecord[]): Promise<void> {
    await this.#conn.write([TASKS, HEADS], (tx) => updateRows(tx, tasks, this.#conn.keys()));
  }

  /** Removals issued together (or while the previous batch commits) share one transaction. */
  removeTask(id: string): Promise<void> {
    return this.#removals.add(id);
  }

  /** Commits removals held back to gather a batch. */
  flush(): void {
    this.#removals.flush();
  }

  /** From the last seq and the removal rows (see `removal-log.ts`); past 16 rows, folded in the background. */
  async pendingCount(): Promise<number> {
    const { count, rows } = await this.#conn.readAll([TASKS, REMOVALS], readRemovals);
    if (rows > FOLD_REMOVALS_AT) this.#conn.write([REMOVALS], foldRemovals).catch(() => {});
    return count;
  }

  async addDeadLetter(record: DeadLetterRecord): Promise<void> {
    const seqs = await this.#conn.write([TASKS, HEADS, DEAD, REMOVALS], async (tx) => {
      await request(tx.objectStore(DEAD).put({ id: record.task.id, record }));
      return removeRows(tx, [record.task.id], this.#conn.keys(), this.#known);
    });
    this.#known.forget([record.task.id], seqs);
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    const rows = await this.#conn.read<{ id?: string; record: unknown }[]>(DEAD, (s) => s.getAll());
    const out: DeadLetterRecord[] = [];
    for (const row of rows) {
      try {
        out.push(decodeDeadLetter(row?.record));
      } catch (error) {
        // Left in place (removeDeadLetter(id) still discards it), reported, skipped.
        this.#quarantineListener?.({
          ...(typeof row?.id === 'string' ? { id: row.id } : {}),
          reason: (error as Error).message,
          at: this.#time.now(),
          raw: row,
        });
      }
    }
    return out.sort((a, b) => a.failedAt - b.failedAt || a.task.seq - b.task.seq);
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.#conn.write([DEAD], async (tx) => {
      const row = (await request(tx.objectStore(DEAD).get(id))) as
        | { record: DeadLetterRecord }
        | undefined;
      if (row) await request(tx.objectStore(DEAD).delete(id));
      return row?.record;
    });
  }

  deadLetterCount(): Promise<number> {
    return this.#conn.read(DEAD, (s) => s.count());
  }

  putCache(entry: CacheRecord): Promise<void> {
    return this.writeCache([entry], []);
  }

  getCache(key: string): Promise<CacheRecord | undefined> {
    // Decoded (and a damaged entry dropped) by the cache reader, the one place for every store.
    return this.#conn.read<CacheRecord | undefined>(CACHE, (s) => s.get(key));
  }

  deleteCache(key: string): Promise<void> {
    return this.writeCache([], [key]);
  }

  async writeCache(put: readonly CacheRecord[], remove: readonly string[]): Promise<void> {
    await this.#conn.write([CACHE], async (tx) => {
      const cache = tx.objectStore(CACHE);
      for (const key of remove) cache.delete(key);
      for (const entry of put) cache.put(entry);
    });
  }

  purgeExpiredCache(now: number, keepStaleMs = 0): Promise<number> {
    return this.#conn.write([CACHE], async (tx) => {
      let removed = 0;
      const range = this.#conn.keys().upperBound(now - keepStaleMs, true);
      await walk(tx.objectStore(CACHE).index('expiresAt').openCursor(range), (cursor) => {
        cursor.delete();
        removed++;
        return true;
      });
      return removed;
    });
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.#conn.read('meta', (s) => s.get(key));
  }

  async putMeta(key: string, value: string): Promise<void> {
    await this.#conn.write(
      ['meta'],
      (tx) => request(tx.objectStore('meta').put(value, key)),
      'strict',
    );
  }

  async quarantined(): Promise<QuarantineReport[]> {
    return this.#conn.read(QUARANTINE, (s) => s.getAll());
  }

  async clear(options: ClearOptions): Promise<void> {
    const cleared = [
      ...(options.cache ? [CACHE] : []),
      ...(options.outbox ? [TASKS, HEADS, DEAD] : []),
    ];
    if (cleared.length === 0) return;
    if (options.outbox) this.#known.clear();
    await this.#conn.write(
      options.outbox ? [...cleared, REMOVALS] : cleared,
      async (tx) => {
        if (options.outbox) await clearRemovals(tx);
        for (const name of cleared) await request(tx.objectStore(name).clear());
      },
      'strict',
    );
  }

  async close(): Promise<void> {
    await this.#conn.close();
  }

  async #decodeAll(rows: unknown[]): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const row of rows) {
      try {
        this.#known.remember(row as TaskRecord);
        out.push(decodeTask(row));
      } catch (error) {
        await this.#quarantine(row, error);
      }
    }
    return out;
  }

  async #remove(ids: string[]): Promise<void> {
    const seqs = await this.#conn.write([TASKS, HEADS, REMOVALS], (tx) =>
      removeRows(tx, ids, this.#conn.keys(), this.#known),
    );
    this.#known.forget(ids, seqs);
  }

  async #quarantine(row: unknown, error: unknown): Promise<void> {
    const seq = (row as { seq?: unknown } | null)?.seq;
    const id = (row as { id?: unknown } | null)?.id;
    const report: QuarantineReport = {
      ...(typeof id === 'string' ? { id } : {}),
      reason: error instanceof Error ? error.message : String(error),
      at: this.#time.now(),
      raw: row,
    };
    await this.#conn.write([TASKS, HEADS, QUARANTINE, REMOVALS], async (tx) => {
      if (typeof seq === 'number') await removeRowBySeq(tx, seq, this.#conn.keys());
      await request(tx.objectStore(QUARANTINE).add(report));
    });
    this.#quarantineListener?.(report);
  }
}
