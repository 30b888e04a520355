import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, StorageError } from '../../errors.js';
import {
  type CacheRecord,
  type DeadLetterRecord,
  decodeCache,
  decodeDeadLetter,
  decodeTask,
  type NewTaskRecord,
  parseRecord,
  type TaskRecord,
} from '../../outbox/records.js';
import type { ClearOptions, QnoxLocalStore, QuarantineReport } from '../local-store.js';
import { DrainLock } from './drain-lock.js';
import { openDatabase, type SqliteDatabase, type SqliteStatement } from './driver.js';
import { migrate } from './schema.js';
import type { SqliteStoreOptions } from './sqlite-options.js';

export type { SqliteStoreOptions } from './sqlite-options.js';

interface Row {
  seq: number;
  id: string;
  record: string;
}

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
  #batch: {
    input: NewTaskRecord;
    resolve: (t: TaskRecord) => void;
    reject: (e: unknown) => void;
  }[] = [];
  #listener: ((report: QuarantineReport) => void) | undefined;

  constructor(private readonly options: SqliteStoreOptions = {}) {
    const path = options.path;
    if (options.database || path === undefined) return;
    if (typeof path !== 'string' || path.trim() === '')
      throw new ConfigError(
        'path',
        'must name a database file (an empty path is a temporary database)',
      );
    if (isMemoryPath(path) && options.ephemeral !== true)
      throw new ConfigError(
        'path',
        `"${path}" does not survive a restart; pass ephemeral: true to allow it`,
      );
  }

  async init(): Promise<void> {
    if (this.options.database) {
      this.#db = this.options.database;
    } else {
      const path = this.options.path ?? './.qnox/sync.db';
      if (!isMemoryPath(path)) mkdirSync(dirname(path), { recursive: true });
      this.#db = await openDatabase(path);
    }
    try {
      migrate(this.#db);
    } catch (cause) {
      throw new StorageError('Cannot prepare the SQLite database', { cause });
    }
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

  enqueue(input: NewTaskRecord): Promise<TaskRecord> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ input, resolve, reject });
      if (this.#batch.length === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    // A write that cannot be serialised fails alone, before the shared transaction.
    const ready: { b: (typeof batch)[number]; json: string }[] = [];
    for (const b of batch) {
      try {
        ready.push({ b, json: JSON.stringify(b.input) });
      } catch (error) {
        b.reject(wrap(error, 'queue the write'));
      }
    }
    try {
      this.#insert(ready);
    } catch (error) {
      if (ready.length === 1) {
        ready[0]!.b.reject(wrap(error, 'queue the write'));
        return;
      }
      // One bad write must not roll back its neighbours: each goes again on its own.
      for (const one of ready) {
        try {
          this.#insert([one]);
        } catch (alone) {
          one.b.reject(wrap(alone, 'queue the write'));
        }
      }
    }
  }

  #insert(
    ready: { b: { input: NewTaskRecord; resolve: (t: TaskRecord) => void }; json: string }[],
  ): void {
    const stored = this.#tx(() =>
      ready.map(({ b: { input }, json }) => {
        const hasHead = this.#q('SELECT 1 FROM qnox_tasks WHERE ordering_key = ? LIMIT 1').get(
          input.orderingKey,
        );
        const result = this.#q(
          'INSERT INTO qnox_tasks (id, ordering_key, head_due, record) VALUES (?, ?, ?, ?)',
        ).run(input.id, input.orderingKey, hasHead ? null : input.nextAttemptAt, json);
        return { ...input, seq: Number(result.lastInsertRowid) };
      }),
    );
    for (const [i, { b }] of ready.entries()) b.resolve(stored[i]!);
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

  async nextInKey(orderingKey: string, afterSeq: number, limit: number): Promise<TaskRecord[]> {
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

  async updateTask(task: TaskRecord): Promise<void> {
    this.#tx(() => {
      const old = this.#q('SELECT seq, ordering_key, head_due FROM qnox_tasks WHERE id = ?').get(
        task.id,
      ) as { seq: number; ordering_key: string; head_due: number | null } | undefined;
      if (!old) return;
      const record = JSON.stringify({ ...task, seq: old.seq, orderingKey: old.ordering_key });
      this.#q('UPDATE qnox_tasks SET record = ?, head_due = ? WHERE seq = ?').run(
        record,
        old.head_due === null ? null : task.nextAttemptAt,
        old.seq,
      );
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
      const record = this.#readDead(row);
      if (record) out.push(record);
    }
    return out;
  }

  /**
   * A damaged dead letter is left where it is (so `removeDeadLetter(id)` still
   * discards it), reported, and skipped.
   */
  #readDead(row: { id: string; record: string }): DeadLetterRecord | undefined {
    try {
      return decodeDeadLetter(parseRecord(row.record));
    } catch (error) {
      this.#listener?.({ id: row.id, reason: reasonOf(error), at: Date.now(), raw: row.record });
      return undefined;
    }
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.#tx(() => {
      const row = this.#q('SELECT id, record FROM qnox_dead WHERE id = ?').get(id) as
        | { id: string; record: string }
        | undefined;
      if (row) this.#q('DELETE FROM qnox_dead WHERE id = ?').run(id);
      return row ? this.#readDead(row) : undefined;
    });
  }

  async deadLetterCount(): Promise<number> {
    return (this.#q("SELECT n FROM qnox_counts WHERE name = 'dead'").get() as { n: number }).n;
  }

  async putCache(entry: CacheRecord): Promise<void> {
    this.#tx(() =>
      this.#q('INSERT OR REPLACE INTO qnox_cache (key, expires_at, record) VALUES (?, ?, ?)').run(
        entry.key,
        entry.expiresAt,
        JSON.stringify(entry),
      ),
    );
  }

  async getCache(key: string): Promise<CacheRecord | undefined> {
    const row = this.#q('SELECT record FROM qnox_cache WHERE key = ?').get(key) as
      | { record: string }
      | undefined;
    if (!row) return undefined;
    try {
      return decodeCache(parseRecord(row.record));
    } catch (error) {
      // A cache entry is only a copy: a damaged one is dropped and read again from the network.
      this.#q('DELETE FROM qnox_cache WHERE key = ?').run(key);
      this.#listener?.({ reason: reasonOf(error), at: Date.now(), raw: row.record });
      return undefined;
    }
  }

  async deleteCache(key: string): Promise<void> {
    this.#q('DELETE FROM qnox_cache WHERE key = ?').run(key);
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
    if (next) {
      let due: unknown;
      try {
        due = (JSON.parse(next.record) as { nextAttemptAt?: unknown }).nextAttemptAt;
      } catch {
        // Damaged: due now, so the next read decodes (and quarantines) it.
      }
      this.#q('UPDATE qnox_tasks SET head_due = ? WHERE seq = ?').run(
        typeof due === 'number' ? due : 0,
        next.seq,
      );
    }
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
    const report: QuarantineReport = {
      id: row.id,
      reason: reasonOf(error),
      at: Date.now(),
      raw: row.record,
    };
    this.#tx(() => {
      this.#remove(row.id);
      this.#q('INSERT INTO qnox_quarantine (record) VALUES (?)').run(JSON.stringify(report));
    });
    this.#listener?.(report);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function wrap(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  return new StorageError(`SQLite could not ${what}`, { cause: error });
}

function isMemoryPath(path: string): boolean {
  return (
    path === ':memory:' ||
    (path.startsWith('file:') && /[?&]mode=memory\b|^file::memory:/.test(path))
  );
}
