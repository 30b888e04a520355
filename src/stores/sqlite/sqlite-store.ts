import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from '../../model/errors.js';
import {
  type CacheRecord,
  type DeadLetterRecord,
  decodeTask,
  type NewTaskRecord,
  parseRecord,
  type TaskRecord,
} from '../../model/records.js';
import { GroupCommit } from '../group-commit.js';
import type { ClearOptions, QnoxLocalStore, QuarantineReport } from '../local-store.js';
import { DrainLock } from './drain-lock.js';
import { openDatabase, type SqliteDatabase, type SqliteStatement } from './driver.js';
import { commitBatch, type EnqueueOutcome } from './enqueue-batch.js';
import { migrate } from './schema.js';
import { checkPath, isMemoryPath, type SqliteStoreOptions } from './sqlite-options.js';
import { damaged, dueOf, type RecordRow, readDeadLetter, wrap } from './sqlite-records.js';

export type { SqliteStoreOptions } from './sqlite-options.js';

/** A task row: its record with the key columns it is read by. */
type Row = RecordRow & { readonly seq: number };

/**
 * The Node store: SQLite in WAL mode with `synchronous=FULL`. Enqueues issued
 * together share one transaction (group commit); `dueTasks` reads a partial
 * index over ordering-key heads; one process at a time drains a file.
 *
 * @example
 * import { SqliteStore } from 'qnox-offline-sync/node';
 * const sync = await QnoxSync.create({ baseUrl, store: new SqliteStore({ path: './data/outbox.db' }) });
 */
export class SqliteStore implements QnoxLocalStore {
  #db: SqliteDatabase | undefined;
  #lock: DrainLock | undefined;
  #statements = new Map<string, SqliteStatement>();
  readonly #adds = new GroupCommit<NewTaskRecord, EnqueueOutcome>(async (inputs) =>
    commitBatch(
      inputs,
      (rows) => this.#insert(rows),
      (error) => wrap(error, 'queue the write'),
    ),
  );
  #listener: ((report: QuarantineReport) => void) | undefined;

  constructor(private readonly options: SqliteStoreOptions = {}) {
    checkPath(options);
  }

  async init(): Promise<void> {
    if (this.options.database) {
      this.#db = this.options.database;
    } else {
      const path = this.options.path ?? './.qnox/sync.db';
      if (!isMemoryPath(path)) mkdirSync(dirname(path), { recursive: true });
      this.#db = await openDatabase(path);
    }
    await migrate(this.#db);
    this.#lock = new DrainLock(this.#db);
  }

  onQuarantine(listener: (report: QuarantineReport) => void): void {
    this.#listener = listener;
  }

  /** True when this store may drain; false while another live process or store holds the file. */
  async acquireDrainLock(): Promise<boolean> {
    const held = this.#lock?.acquire() ?? false;
    if (!held && this.options.onLocked === 'error') {
      throw new StorageError(
        'Another live process is draining this database; this client only queues',
      );
    }
    return held;
  }

  /** False once another process took the lock over (this one's lease ran out); renews the lease meanwhile. */
  holdsDrainLock(): boolean {
    return this.#lock?.holds() ?? false;
  }

  /** Enqueues issued together (or while the previous batch commits) share one transaction. */
  async enqueue(input: NewTaskRecord): Promise<TaskRecord> {
    const outcome = await this.#adds.add(input);
    if ('error' in outcome) throw outcome.error;
    return outcome.task;
  }

  #insert(rows: readonly { input: NewTaskRecord; json: string }[]): number[] {
    return this.#tx(() =>
      rows.map(({ input, json }) => {
        const hasHead = this.#q('SELECT 1 FROM qnox_tasks WHERE ordering_key = ? LIMIT 1').get(
          input.orderingKey,
        );
        const result = this.#q(
          'INSERT INTO qnox_tasks (id, ordering_key, head_due, record) VALUES (?, ?, ?, ?)',
        ).run(input.id, input.orderingKey, hasHead ? null : input.nextAttemptAt, json);
        return Number(result.lastInsertRowid);
      }),
    );
  }

  async dueTasks(query: { now: number; limit: number }): Promise<TaskRecord[]> {
    const rows = this.#q(
      'SELECT seq, id, record FROM qnox_tasks WHERE head_due IS NOT NULL AND head_due <= ? ORDER BY head_due, seq LIMIT ?',
    ).all(query.now, query.limit) as Row[];
    return this.#decode(rows);
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = this.#q(
      'SELECT head_due FROM qnox_tasks WHERE head_due IS NOT NULL ORDER BY head_due, seq LIMIT 1',
    ).get() as { head_due: number } | undefined;
    return row?.head_due;
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const row = this.#q('SELECT seq, id, record FROM qnox_tasks WHERE id = ?').get(id) as
      | Row
      | undefined;
    return row ? this.#decode([row])[0] : undefined;
  }

  async tasksAfter(orderingKey: string, afterSeq: number, limit: number): Promise<TaskRecord[]> {
    return this.#decode(
      this.#q(
        'SELECT seq, id, record FROM qnox_tasks WHERE ordering_key = ? AND seq > ? ORDER BY seq LIMIT ?',
      ).all(orderingKey, afterSeq, limit) as Row[],
    );
  }

  async lastTask(orderingKey: string): Promise<TaskRecord | undefined> {
    const row = this.#q(
      'SELECT seq, id, record FROM qnox_tasks WHERE ordering_key = ? ORDER BY seq DESC LIMIT 1',
    ).get(orderingKey) as Row | undefined;
    return row ? this.#decode([row])[0] : undefined;
  }

  async listTasks(limit: number): Promise<TaskRecord[]> {
    return this.#decode(
      this.#q('SELECT seq, id, record FROM qnox_tasks ORDER BY seq LIMIT ?').all(limit) as Row[],
    );
  }

  updateTask(task: TaskRecord): Promise<void> {
    return this.updateTasks([task]);
  }

  /** All in one transaction: a lane's marks written ahead commit together. */
  async updateTasks(tasks: readonly TaskRecord[]): Promise<void> {
    this.#tx(() => {
      for (const task of tasks) {
        const old = this.#q('SELECT seq, ordering_key, head_due FROM qnox_tasks WHERE id = ?').get(
          task.id,
        ) as { seq: number; ordering_key: string; head_due: number | null } | undefined;
        if (!old) continue;
        const record = JSON.stringify({ ...task, seq: old.seq, orderingKey: old.ordering_key });
        this.#q('UPDATE qnox_tasks SET record = ?, head_due = ? WHERE seq = ?').run(
          record,
          old.head_due === null ? null : task.nextAttemptAt,
          old.seq,
        );
      }
    });
  }

  async removeTask(id: string): Promise<void> {
    this.#tx(() => this.#remove(id));
  }

  async pendingCount(): Promise<number> {
    return (this.#q("SELECT n FROM qnox_counts WHERE name = 'tasks'").get() as { n: number }).n;
  }

  async addDeadLetter(record: DeadLetterRecord): Promise<void> {
    this.#tx(() => {
      this.#remove(record.task.id);
      // Delete then insert (not OR REPLACE), so the counting triggers see both.
      this.#q('DELETE FROM qnox_dead WHERE id = ?').run(record.task.id);
      this.#q('INSERT INTO qnox_dead (id, failed_at, seq, record) VALUES (?, ?, ?, ?)').run(
        record.task.id,
        record.failedAt,
        record.task.seq,
        JSON.stringify(record),
      );
    });
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    const rows = this.#q('SELECT id, record FROM qnox_dead ORDER BY failed_at, seq').all() as {
      id: string;
      record: string;
    }[];
    const out: DeadLetterRecord[] = [];
    for (const row of rows) {
      const record = readDeadLetter(row, this.#listener);
      if (record) out.push(record);
    }
    return out;
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.#tx(() => {
      const row = this.#q('SELECT id, record FROM qnox_dead WHERE id = ?').get(id) as
        | { id: string; record: string }
        | undefined;
      if (row) this.#q('DELETE FROM qnox_dead WHERE id = ?').run(id);
      return row ? readDeadLetter(row, this.#listener) : undefined;
    });
  }

  async deadLetterCount(): Promise<number> {
    return (this.#q("SELECT n FROM qnox_counts WHERE name = 'dead'").get() as { n: number }).n;
  }

  putCache(entry: CacheRecord): Promise<void> {
    return this.writeCache([entry], []);
  }

  async getCache(key: string): Promise<CacheRecord | undefined> {
    const row = this.#q('SELECT record FROM qnox_cache WHERE key = ?').get(key) as
      | { record: string }
      | undefined;
    // A damaged entry throws a typed corrupt-record error; the cache reader drops and reports it.
    return row ? (parseRecord(row.record) as CacheRecord) : undefined;
  }

  deleteCache(key: string): Promise<void> {
    return this.writeCache([], [key]);
  }

  async writeCache(put: readonly CacheRecord[], remove: readonly string[]): Promise<void> {
    const insert = this.#q(
      'INSERT OR REPLACE INTO qnox_cache (key, expires_at, record) VALUES (?, ?, ?)',
    );
    const drop = this.#q('DELETE FROM qnox_cache WHERE key = ?');
    this.#tx(() => {
      for (const key of remove) drop.run(key);
      for (const entry of put) insert.run(entry.key, entry.expiresAt, JSON.stringify(entry));
    });
  }

  async purgeExpiredCache(now: number, keepStaleMs = 0): Promise<number> {
    return Number(
      this.#q('DELETE FROM qnox_cache WHERE expires_at < ?').run(now - keepStaleMs).changes,
    );
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (
      this.#q('SELECT value FROM qnox_meta WHERE key = ?').get(key) as { value: string } | undefined
    )?.value;
  }

  async putMeta(key: string, value: string): Promise<void> {
    this.#q('INSERT OR REPLACE INTO qnox_meta (key, value) VALUES (?, ?)').run(key, value);
  }

  async quarantined(): Promise<QuarantineReport[]> {
    const rows = this.#q('SELECT record FROM qnox_quarantine ORDER BY n').all() as {
      record: string;
    }[];
    return rows.map((r) => parseRecord(r.record) as QuarantineReport);
  }

  async clear(options: ClearOptions): Promise<void> {
    this.#tx(() => {
      if (options.cache) this.#db!.exec('DELETE FROM qnox_cache');
      if (options.outbox)
        this.#db!.exec(
          'DELETE FROM qnox_tasks; DELETE FROM qnox_dead; DELETE FROM qnox_quarantine',
        );
    });
    // secure_delete zeroed the freed pages; the checkpoint moves that into the file and
    // empties the WAL, which still held the old pages: after clear(), the data is gone from disk.
    this.#db!.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    if (!this.#db) return;
    this.#lock?.release();
    this.#db.close();
    this.#db = undefined;
    this.#statements.clear();
  }

  #q(sql: string): SqliteStatement {
    if (!this.#db) throw new StorageError('SqliteStore used before init() or after close()');
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #tx<R>(run: () => R): R {
    const db = this.#db;
    if (!db) throw new StorageError('SqliteStore used before init() or after close()');
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = run();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      db.exec('ROLLBACK');
      throw wrap(error, 'write');
    }
  }

  /** Deletes a task; if it was a head, the next task of its key becomes the head. Call inside #tx. */
  #remove(id: string): void {
    const row = this.#q('SELECT seq, ordering_key, head_due FROM qnox_tasks WHERE id = ?').get(
      id,
    ) as { seq: number; ordering_key: string; head_due: number | null } | undefined;
    if (!row) return;
    this.#q('DELETE FROM qnox_tasks WHERE seq = ?').run(row.seq);
    if (row.head_due === null) return;
    const next = this.#q(
      'SELECT seq, id, record FROM qnox_tasks WHERE ordering_key = ? ORDER BY seq LIMIT 1',
    ).get(row.ordering_key) as Row | undefined;
    if (next)
      this.#q('UPDATE qnox_tasks SET head_due = ? WHERE seq = ?').run(dueOf(next.record), next.seq);
  }

  #decode(rows: Row[]): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const row of rows) {
      try {
        out.push(decodeTask({ ...(parseRecord(row.record) as object), seq: row.seq }));
      } catch (error) {
        this.#quarantine(row, error);
      }
    }
    return out;
  }

  #quarantine(row: Row, error: unknown): void {
    const report = damaged(row, error);
    this.#tx(() => {
      this.#remove(row.id);
      this.#q('INSERT INTO qnox_quarantine (record) VALUES (?)').run(JSON.stringify(report));
    });
    this.#listener?.(report);
  }
}
