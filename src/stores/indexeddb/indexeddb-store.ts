import { StorageError } from '../../errors.js';
import {
  type CacheRecord,
  type DeadLetterRecord,
  decodeTask,
  type NewTaskRecord,
  type TaskRecord,
} from '../../outbox/records.js';
import type { ClearOptions, QnoxLocalStore, QuarantineReport } from '../local-store.js';
import { committed, isQuotaError, request, walk } from './idb-helpers.js';
import type { IndexedDbStoreOptions } from './indexeddb-options.js';
import { openDatabase } from './schema.js';
import { addRows, removeRow, removeRowBySeq, type TaskRow } from './task-rows.js';
import { WebLock } from './web-lock.js';

export type { IndexedDbStoreOptions } from './indexeddb-options.js';

const T = 'tasks';
const D = 'dead';
const C = 'cache';
const Q = 'quarantine';

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
  #db: Promise<IDBDatabase> | undefined;
  #batch: {
    input: NewTaskRecord;
    resolve: (t: TaskRecord) => void;
    reject: (e: unknown) => void;
  }[] = [];
  #quarantineListener: ((report: QuarantineReport) => void) | undefined;
  #range: typeof IDBKeyRange | undefined;

  #lock: WebLock | undefined;

  constructor(options: IndexedDbStoreOptions = {}) {
    this.#options = options;
    this.#name = options.name ?? 'qnox-offline-sync';
  }

  get shareKey(): string {
    return `idb:${this.#name}`;
  }

  /**
   * One drainer per database across tabs and workers: a Web Lock held until
   * `close()` (or the tab goes away). Without Web Locks, every context drains;
   * idempotency keys still keep the effect single.
   */
  acquireDrainLock(): Promise<boolean> {
    this.#lock ??= new WebLock(`qnox-drain:${this.#name}`);
    return this.#lock.acquire();
  }

  async init(): Promise<void> {
    await this.#open();
    const storage = (
      globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }
    ).navigator?.storage;
    if (this.#options.persist !== false) await storage?.persist?.().catch(() => false);
  }

  onQuarantine(listener: (report: QuarantineReport) => void): void {
    this.#quarantineListener = listener;
  }

  enqueue(input: NewTaskRecord): Promise<TaskRecord> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ input, resolve, reject });
      if (this.#batch.length === 1) queueMicrotask(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    try {
      const stored = await this.#write(
        [T],
        (tx) =>
          addRows(
            tx.objectStore(T),
            batch.map((b) => b.input),
            this.#keys(),
          ),
        'strict',
      );
      for (const [i, b] of batch.entries()) b.resolve(stored[i]!);
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }

  async dueTasks(query: { now: number; limit: number }): Promise<TaskRecord[]> {
    const range = this.#keys().upperBound([query.now, Number.POSITIVE_INFINITY]);
    const rows = await this.#read<unknown[]>(T, (s) => s.index('due').getAll(range, query.limit));
    return this.#decodeAll(rows);
  }

  async nextDueAt(): Promise<number | undefined> {
    const key = await this.#read<IDBCursor | null>(T, (s) => s.index('due').openKeyCursor());
    return key ? (key.key as [number, number])[0] : undefined;
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const row = await this.#read<unknown>(T, (s) => s.index('byId').get(id));
    return row === undefined ? undefined : (await this.#decodeAll([row]))[0];
  }

  async nextInKey(orderingKey: string, afterSeq: number): Promise<TaskRecord | undefined> {
    const range = this.#keys().bound(
      [orderingKey, afterSeq],
      [orderingKey, Number.POSITIVE_INFINITY],
      true,
    );
    const cursor = await this.#read<IDBCursorWithValue | null>(T, (s) =>
      s.index('byKey').openCursor(range),
    );
    return cursor ? (await this.#decodeAll([cursor.value]))[0] : undefined;
  }

  async lastTask(orderingKey: string): Promise<TaskRecord | undefined> {
    const range = this.#keys().bound([orderingKey, 0], [orderingKey, Number.POSITIVE_INFINITY]);
    const cursor = await this.#read<IDBCursorWithValue | null>(T, (s) =>
      s.index('byKey').openCursor(range, 'prev'),
    );
    return cursor ? (await this.#decodeAll([cursor.value]))[0] : undefined;
  }

  async listTasks(limit: number): Promise<TaskRecord[]> {
    return this.#decodeAll(await this.#read<unknown[]>(T, (s) => s.getAll(null, limit)));
  }

  async updateTask(task: TaskRecord): Promise<void> {
    await this.#write([T], async (tx) => {
      const tasks = tx.objectStore(T);
      const old = (await request(tasks.index('byId').get(task.id))) as TaskRow | undefined;
      if (!old) return;
      const row: TaskRow = { ...task, seq: old.seq, orderingKey: old.orderingKey };
      if (old.headDue !== undefined) row.headDue = task.nextAttemptAt;
      else delete row.headDue;
      await request(tasks.put(row));
    });
  }

  async removeTask(id: string): Promise<void> {
    await this.#write([T], (tx) => removeRow(tx.objectStore(T), id, this.#keys()));
  }

  pendingCount(): Promise<number> {
    return this.#read(T, (s) => s.count());
  }

  async addDeadLetter(record: DeadLetterRecord): Promise<void> {
    await this.#write([T, D], async (tx) => {
      await removeRow(tx.objectStore(T), record.task.id, this.#keys());
      await request(tx.objectStore(D).put({ id: record.task.id, record }));
    });
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    const rows = await this.#read<{ record: DeadLetterRecord }[]>(D, (s) => s.getAll());
    return rows
      .map((r) => r.record)
      .sort((a, b) => a.failedAt - b.failedAt || a.task.seq - b.task.seq);
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.#write([D], async (tx) => {
      const row = (await request(tx.objectStore(D).get(id))) as
        | { record: DeadLetterRecord }
        | undefined;
      if (row) await request(tx.objectStore(D).delete(id));
      return row?.record;
    });
  }

  deadLetterCount(): Promise<number> {
    return this.#read(D, (s) => s.count());
  }

  async putCache(entry: CacheRecord): Promise<void> {
    await this.#write([C], (tx) => request(tx.objectStore(C).put(entry)));
  }

  getCache(key: string): Promise<CacheRecord | undefined> {
    return this.#read(C, (s) => s.get(key));
  }

  async deleteCache(key: string): Promise<void> {
    await this.#write([C], (tx) => request(tx.objectStore(C).delete(key)));
  }

  purgeExpiredCache(now: number, keepStaleMs = 0): Promise<number> {
    return this.#write([C], async (tx) => {
      let removed = 0;
      const range = this.#keys().upperBound(now - keepStaleMs, true);
      await walk(tx.objectStore(C).index('expiresAt').openCursor(range), (cursor) => {
        cursor.delete();
        removed++;
        return true;
      });
      return removed;
    });
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.#read('meta', (s) => s.get(key));
  }

  async putMeta(key: string, value: string): Promise<void> {
    await this.#write(['meta'], (tx) => request(tx.objectStore('meta').put(value, key)), 'strict');
  }

  async quarantined(): Promise<QuarantineReport[]> {
    return this.#read(Q, (s) => s.getAll());
  }

  async clear(options: ClearOptions): Promise<void> {
    const names = [...(options.cache ? [C] : []), ...(options.outbox ? [T, D] : [])];
    if (names.length === 0) return;
    await this.#write(
      names,
      async (tx) => {
        for (const name of names) await request(tx.objectStore(name).clear());
      },
      'strict',
    );
  }

  async close(): Promise<void> {
    this.#lock?.release();
    const db = this.#db;
    this.#db = undefined;
    (await db?.catch(() => undefined))?.close();
  }

  #keys(): typeof IDBKeyRange {
    this.#range ??=
      this.#options.IDBKeyRange ?? (globalThis as { IDBKeyRange?: typeof IDBKeyRange }).IDBKeyRange;
    if (!this.#range)
      throw new StorageError('IDBKeyRange is not available here; pass options.IDBKeyRange');
    return this.#range;
  }

  #open(): Promise<IDBDatabase> {
    const factory = this.#options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    this.#db ??= openDatabase(factory, this.#name, () => {
      this.#db = undefined;
    }).catch((error: unknown) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  async #read<R = never>(name: string, run: (store: IDBObjectStore) => IDBRequest): Promise<R> {
    const db = await this.#open();
    try {
      return (await request(run(db.transaction(name, 'readonly').objectStore(name)))) as R;
    } catch (error) {
      throw wrap(error, `read ${name}`);
    }
  }

  /**
   * Strict durability only where a promise acknowledges durability (enqueue, the salt,
   * a logout wipe). Losing any other write to a crash is safe: a removal or retry
   * bookkeeping lost means a replay under the same idempotency key.
   */
  async #write<R>(
    names: string[],
    run: (tx: IDBTransaction) => Promise<R>,
    durability: IDBTransactionDurability = 'relaxed',
  ): Promise<R> {
    const db = await this.#open();
    const tx = db.transaction(names, 'readwrite', { durability });
    const done = committed(tx);
    try {
      const result = await run(tx);
      await done;
      return result;
    } catch (error) {
      done.catch(() => {});
      try {
        tx.abort();
      } catch {}
      if (isQuotaError(error) && names.includes(T))
        await this.clear({ cache: true, outbox: false }).catch(() => {});
      throw wrap(error, `write ${names.join('+')}`);
    }
  }

  async #decodeAll(rows: unknown[]): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const row of rows) {
      try {
        const { headDue: _headDue, ...task } = row as TaskRow;
        out.push(decodeTask(task));
      } catch (error) {
        await this.#quarantine(row, error);
      }
    }
    return out;
  }

  async #quarantine(row: unknown, error: unknown): Promise<void> {
    const seq = (row as { seq?: unknown } | null)?.seq;
    const id = (row as { id?: unknown } | null)?.id;
    const report: QuarantineReport = {
      ...(typeof id === 'string' ? { id } : {}),
      reason: error instanceof Error ? error.message : String(error),
      at: Date.now(),
      raw: row,
    };
    await this.#write([T, Q], async (tx) => {
      const tasks = tx.objectStore(T);
      if (typeof seq === 'number') await removeRowBySeq(tasks, seq, this.#keys());
      await request(tx.objectStore(Q).add(report));
    });
    this.#quarantineListener?.(report);
  }
}

function wrap(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const quota = isQuotaError(error) ? ' (storage quota exceeded)' : '';
  return new StorageError(`IndexedDB could not ${what}${quota}`, { cause: error });
}
