import type {
  CacheRecord,
  DeadLetterRecord,
  NewTaskRecord,
  TaskRecord,
} from '../../model/records.js';
import { RECORD_VERSION } from '../../model/records.js';
import type { ClearOptions, QnoxLocalStore, QuarantineReport } from '../local-store.js';
import { deadLetterCount, dropCache, nextDueAt, taskById, writeCache } from '../store-access.js';
import { Cipher, type EncryptionKeyOptions } from './cipher.js';

/** What is sealed of a task: everything but the fields the indexes need. */
type SealedTaskPart = Pick<
  TaskRecord,
  | 'idempotencyKey'
  | 'method'
  | 'url'
  | 'headers'
  | 'body'
  | 'lastError'
  | 'orderingKey'
  | 'timeoutMs'
>;

/**
 * Wraps any store so bodies, URLs, headers and cached payloads are encrypted at
 * rest with AES-GCM (WebCrypto), a fresh random IV per record. Only ids, times,
 * attempts and sequence stay in clear; ordering and cache keys are blinded.
 * A record that fails authentication is quarantined (dead-lettered with reason
 * `quarantined`) and reported, never a crash.
 *
 * @example
 * const store = encryptedStore(new IndexedDbStore(), { passphrase: userSecret });
 * const sync = await QnoxSync.create({ baseUrl, store });
 */
export function encryptedStore(
  inner: QnoxLocalStore,
  options: EncryptionKeyOptions,
): QnoxLocalStore {
  return new EncryptedStore(inner, options);
}

class EncryptedStore implements QnoxLocalStore {
  #cipher: Cipher | undefined;
  #listener: ((report: QuarantineReport) => void) | undefined;

  constructor(
    private readonly inner: QnoxLocalStore,
    private readonly options: EncryptionKeyOptions,
  ) {
    inner.onQuarantine?.((report) => this.#listener?.(report));
    const { tasksAfter, lastTask, acquireDrainLock, holdsDrainLock, flush, updateTasks } = inner;
    // Which context drains, and who hears of changes, is the wrapped store's business.
    if (acquireDrainLock) this.acquireDrainLock = () => acquireDrainLock.call(inner);
    if (holdsDrainLock) this.holdsDrainLock = () => holdsDrainLock.call(inner);
    if (flush) this.flush = () => flush.call(inner);
    if (inner.channelName !== undefined) this.channelName = inner.channelName;
    if (tasksAfter) {
      this.tasksAfter = async (key, afterSeq, limit) =>
        this.#openAll(await tasksAfter.call(inner, await this.#c().blind(key), afterSeq, limit));
    }
    if (updateTasks) {
      this.updateTasks = async (tasks) =>
        updateTasks.call(
          inner,
          await Promise.all(tasks.map(async (t) => ({ ...(await this.#sealTask(t)), seq: t.seq }))),
        );
    }
    if (lastTask) {
      this.lastTask = async (key) =>
        this.#openOne(await lastTask.call(inner, await this.#c().blind(key)));
    }
  }

  /** Present only when the wrapped store has it: optional capabilities stay optional. */
  readonly tasksAfter?: (
    orderingKey: string,
    afterSeq: number,
    limit: number,
  ) => Promise<TaskRecord[]>;
  readonly lastTask?: (orderingKey: string) => Promise<TaskRecord | undefined>;
  readonly updateTasks?: (tasks: readonly TaskRecord[]) => Promise<void>;
  readonly acquireDrainLock?: () => Promise<boolean>;
  readonly holdsDrainLock?: () => boolean;
  readonly flush?: () => void;
  readonly channelName?: string;

  async init(): Promise<void> {
    await this.inner.init();
    this.#cipher = await Cipher.create(this.inner, this.options);
  }

  onQuarantine(listener: (report: QuarantineReport) => void): void {
    this.#listener = listener;
  }

  async enqueue(task: NewTaskRecord): Promise<TaskRecord> {
    const stored = await this.inner.enqueue(await this.#sealTask(task));
    return { ...task, seq: stored.seq };
  }

  async dueTasks(query: { now: number; limit: number }): Promise<TaskRecord[]> {
    return this.#openAll(await this.inner.dueTasks(query));
  }

  nextDueAt(): Promise<number | undefined> {
    return nextDueAt(this.inner);
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const row = await taskById(this.inner, id);
    return row ? (await this.#openAll([row]))[0] : undefined;
  }

  async listTasks(limit: number): Promise<TaskRecord[]> {
    return this.#openAll(await this.inner.listTasks(limit));
  }

  async updateTask(task: TaskRecord): Promise<void> {
    await this.inner.updateTask({ ...(await this.#sealTask(task)), seq: task.seq });
  }

  removeTask(id: string): Promise<void> {
    return this.inner.removeTask(id);
  }

  pendingCount(): Promise<number> {
    return this.inner.pendingCount();
  }

  async addDeadLetter(record: DeadLetterRecord): Promise<void> {
    const task = { ...(await this.#sealTask(record.task)), seq: record.task.seq };
    const lastResponse = record.lastResponse
      ? { status: record.lastResponse.status, data: await this.#c().seal(record.lastResponse.data) }
      : undefined;
    await this.inner.addDeadLetter({ ...record, task, ...(lastResponse ? { lastResponse } : {}) });
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    const out: DeadLetterRecord[] = [];
    for (const record of await this.inner.deadLetters()) out.push(await this.#openDead(record));
    return out;
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    const record = await this.inner.removeDeadLetter(id);
    return record ? this.#openDead(record) : undefined;
  }

  /** Rows the wrapped store could not decode; a record that fails decryption is a `quarantined` dead letter instead. */
  async quarantined(): Promise<QuarantineReport[]> {
    return (await this.inner.quarantined?.()) ?? [];
  }

  deadLetterCount(): Promise<number> {
    return deadLetterCount(this.inner);
  }

  async putCache(entry: CacheRecord): Promise<void> {
    await this.inner.putCache(await this.#sealCache(entry));
  }

  async writeCache(put: readonly CacheRecord[], remove: readonly string[]): Promise<void> {
    const [sealed, blinded] = await Promise.all([
      Promise.all(put.map((entry) => this.#sealCache(entry))),
      Promise.all(remove.map((key) => this.#c().blind(key))),
    ]);
    await writeCache(this.inner, sealed, blinded);
  }

  async #sealCache(entry: CacheRecord): Promise<CacheRecord> {
    // Optimistic layers keep the bodies they replaced: sealed with the rest.
    const { pending, ...clear } = entry;
    const sealed = await this.#c().seal({
      url: entry.url,
      headers: entry.headers,
      body: entry.body,
      ...(pending ? { pending } : {}),
    });
    return {
      ...clear,
      key: await this.#c().blind(entry.key),
      url: '',
      headers: {},
      body: { kind: 'text', value: sealed },
    };
  }

  async getCache(key: string): Promise<CacheRecord | undefined> {
    const blindKey = await this.#c().blind(key);
    const row = await this.inner.getCache(blindKey);
    if (!row) return undefined;
    try {
      const part = await this.#c().open<Pick<CacheRecord, 'url' | 'headers' | 'body' | 'pending'>>(
        row.body?.value,
      );
      return { ...row, key, ...part };
    } catch {
      // A cache entry is only a copy: drop it and read from the network instead.
      await dropCache(this.inner, blindKey);
      return undefined;
    }
  }

  async deleteCache(key: string): Promise<void> {
    await dropCache(this.inner, await this.#c().blind(key));
  }

  purgeExpiredCache(now: number, keepStaleMs?: number): Promise<number> {
    return this.inner.purgeExpiredCache(now, keepStaleMs);
  }

  clear(options: ClearOptions): Promise<void> {
    return this.inner.clear(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #c(): Cipher {
    if (!this.#cipher) throw new Error('encryptedStore used before init()');
    return this.#cipher;
  }

  async #sealTask<T extends NewTaskRecord>(task: T): Promise<NewTaskRecord> {
    const part: SealedTaskPart = {
      idempotencyKey: task.idempotencyKey,
      method: task.method,
      url: task.url,
      headers: task.headers,
      orderingKey: task.orderingKey,
      ...(task.body ? { body: task.body } : {}),
      ...(task.lastError ? { lastError: task.lastError } : {}),
      ...(task.timeoutMs !== undefined ? { timeoutMs: task.timeoutMs } : {}),
      ...(task.base !== undefined ? { base: task.base } : {}),
      ...(task.conflict !== undefined ? { conflict: task.conflict } : {}),
      ...(task.conflictRounds !== undefined ? { conflictRounds: task.conflictRounds } : {}),
    };
    return {
      v: RECORD_VERSION,
      id: task.id,
      idempotencyKey: '',
      method: 'POST',
      url: '',
      headers: {},
      body: { kind: 'text', value: await this.#c().seal(part) },
      orderingKey: await this.#c().blind(task.orderingKey),
      createdAt: task.createdAt,
      attempts: task.attempts,
      nextAttemptAt: task.nextAttemptAt,
      ...(task.sentAt !== undefined ? { sentAt: task.sentAt } : {}),
      ...(task.inFlightAt !== undefined ? { inFlightAt: task.inFlightAt } : {}),
    };
  }

  async #openTask(row: TaskRecord): Promise<TaskRecord> {
    const part = await this.#c().open<SealedTaskPart>(row.body?.value);
    const { body: _sealed, ...clear } = row;
    return { ...clear, ...part };
  }

  async #openOne(row: TaskRecord | undefined): Promise<TaskRecord | undefined> {
    return row ? (await this.#openAll([row]))[0] : undefined;
  }

  async #openAll(rows: TaskRecord[]): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const row of rows) {
      try {
        out.push(await this.#openTask(row));
      } catch (error) {
        const message = (error as Error).message;
        await this.inner.addDeadLetter({
          v: RECORD_VERSION,
          task: { ...row, lastError: { code: 'storage', message } },
          reason: 'quarantined',
          failedAt: Date.now(),
        });
        this.#listener?.({
          id: row.id,
          reason: message,
          at: Date.now(),
          raw: row,
        });
      }
    }
    return out;
  }

  async #openDead(record: DeadLetterRecord): Promise<DeadLetterRecord> {
    try {
      const task = await this.#openTask(record.task);
      const lastResponse = record.lastResponse
        ? {
            status: record.lastResponse.status,
            data: await this.#c().open(record.lastResponse.data),
          }
        : undefined;
      return { ...record, task, ...(lastResponse ? { lastResponse } : {}) };
    } catch {
      return { ...record, reason: 'quarantined' };
    }
  }
}
