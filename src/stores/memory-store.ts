import type { CacheRecord, DeadLetterRecord, NewTaskRecord, TaskRecord } from '../model/records.js';
import { type HeadEntry, HeadIndex } from './head-index.js';
import type { ClearOptions, QnoxLocalStore } from './local-store.js';
import { exactCopy, packTask, unpackTask } from './packed-task.js';

/**
 * Keeps everything in memory: for tests, for server-side rendering, and as the
 * model every other store is checked against. Nothing survives a restart.
 *
 * @example
 * const sync = await QnoxSync.create({ baseUrl, store: new MemoryStore() });
 */
export class MemoryStore implements QnoxLocalStore {
  #seq = 0;
  /** Tasks packed as positional JSON (see `packTask`), in seq order: compact, and a copy no caller can change. */
  readonly #tasks = new Map<string, string>();
  /** Per ordering key, task ids in seq order; `start` skips removed heads without shifting. */
  readonly #queues = new Map<string, { ids: string[]; start: number }>();
  readonly #heads = new HeadIndex();
  readonly #dead = new Map<string, DeadLetterRecord>();
  readonly #cache = new Map<string, string>();
  readonly #meta = new Map<string, string>();

  async init(): Promise<void> {}

  async enqueue(input: NewTaskRecord): Promise<TaskRecord> {
    const task: TaskRecord = { ...input, seq: ++this.#seq };
    this.#tasks.set(task.id, packTask(task));
    let queue = this.#queues.get(task.orderingKey);
    if (!queue) {
      queue = { ids: [], start: 0 };
      this.#queues.set(task.orderingKey, queue);
    }
    queue.ids.push(task.id);
    if (queue.ids.length - queue.start === 1) this.#heads.insert(headOf(task));
    return task;
  }

  async dueTasks(query: { now: number; limit: number }): Promise<TaskRecord[]> {
    return this.#heads.due(query.now, query.limit).map((head) => this.#task(head.id)!);
  }

  async nextDueAt(): Promise<number | undefined> {
    return this.#heads.first()?.nextAttemptAt;
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    return this.#task(id);
  }

  async lastTask(orderingKey: string): Promise<TaskRecord | undefined> {
    const queue = this.#queues.get(orderingKey);
    const id = queue?.ids[queue.ids.length - 1];
    return id === undefined ? undefined : this.#task(id);
  }

  async listTasks(limit: number): Promise<TaskRecord[]> {
    // A Map keeps insertion order, which is seq order: updates replace in place.
    const out: TaskRecord[] = [];
    for (const [id, packed] of this.#tasks) {
      if (out.length >= limit) break;
      out.push(unpackTask(id, packed));
    }
    return out;
  }

  async updateTask(task: TaskRecord): Promise<void> {
    const old = this.#task(task.id);
    if (!old) return;
    const next: TaskRecord = { ...task, seq: old.seq, orderingKey: old.orderingKey };
    this.#tasks.set(task.id, packTask(next));
    if (this.#isHead(old)) {
      this.#heads.remove(headOf(old));
      this.#heads.insert(headOf(next));
    }
  }

  async removeTask(id: string): Promise<void> {
    const task = this.#task(id);
    if (!task) return;
    this.#tasks.delete(id);
    const queue = this.#queues.get(task.orderingKey)!;
    if (queue.ids[queue.start] !== id) {
      queue.ids.splice(queue.ids.indexOf(id, queue.start), 1);
      return;
    }
    this.#heads.remove(headOf(task));
    queue.start++;
    if (queue.start === queue.ids.length) {
      this.#queues.delete(task.orderingKey);
      return;
    }
    if (queue.start > 1024 && queue.start * 2 > queue.ids.length) {
      queue.ids.splice(0, queue.start);
      queue.start = 0;
    }
    this.#heads.insert(headOf(this.#task(queue.ids[queue.start]!)!));
  }

  async pendingCount(): Promise<number> {
    return this.#tasks.size;
  }

  async addDeadLetter(record: DeadLetterRecord): Promise<void> {
    await this.removeTask(record.task.id);
    this.#dead.set(record.task.id, record);
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    return [...this.#dead.values()];
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    const record = this.#dead.get(id);
    this.#dead.delete(id);
    return record;
  }

  async deadLetterCount(): Promise<number> {
    return this.#dead.size;
  }

  async putCache(entry: CacheRecord): Promise<void> {
    this.#cache.set(entry.key, exactCopy(JSON.stringify(entry)));
  }

  async getCache(key: string): Promise<CacheRecord | undefined> {
    const json = this.#cache.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as CacheRecord);
  }

  async deleteCache(key: string): Promise<void> {
    this.#cache.delete(key);
  }

  async writeCache(put: readonly CacheRecord[], remove: readonly string[]): Promise<void> {
    // Encoded first: an entry that cannot be written changes nothing.
    const encoded = put.map((entry) => [entry.key, exactCopy(JSON.stringify(entry))] as const);
    for (const key of remove) this.#cache.delete(key);
    for (const [key, json] of encoded) this.#cache.set(key, json);
  }

  async purgeExpiredCache(now: number, keepStaleMs = 0): Promise<number> {
    let removed = 0;
    for (const [key, json] of this.#cache) {
      if ((JSON.parse(json) as CacheRecord).expiresAt + keepStaleMs < now) {
        this.#cache.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async clear(options: ClearOptions): Promise<void> {
    if (options.cache) this.#cache.clear();
    if (options.outbox) {
      this.#tasks.clear();
      this.#queues.clear();
      this.#heads.clear();
      this.#dead.clear();
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.#meta.get(key);
  }

  async putMeta(key: string, value: string): Promise<void> {
    this.#meta.set(key, value);
  }

  async close(): Promise<void> {}

  #task(id: string): TaskRecord | undefined {
    const packed = this.#tasks.get(id);
    return packed === undefined ? undefined : unpackTask(id, packed);
  }

  #isHead(task: TaskRecord): boolean {
    const queue = this.#queues.get(task.orderingKey);
    return queue !== undefined && queue.ids[queue.start] === task.id;
  }
}

const headOf = (task: TaskRecord): HeadEntry => ({
  id: task.id,
  seq: task.seq,
  nextAttemptAt: task.nextAttemptAt,
});
