import type { CacheRecord, DeadLetterRecord, NewTaskRecord, TaskRecord } from '../model/records.js';
import type { ClearOptions, QnoxLocalStore } from '../stores/local-store.js';

/**
 * The reference store: only the members `QnoxLocalStore` requires (the
 * seed's nine, dead letters, `listTasks`, `clear`, `close`), written
 * the plainest way (arrays and maps, every query a scan), none of the
 * optional accelerators. The engine must deliver exactly as it does over the
 * real stores, only slower; the delivery suite runs over it to prove that.
 * Data lives in memory: `reopen()` gives a store over the same data, as a
 * restart would. Copies go in and out, so callers may change what they hold.
 *
 * @example
 * const store = new MinimalStore();
 * const sync = await QnoxSync.create({ baseUrl, store });
 */
export class MinimalStore implements QnoxLocalStore {
  #data: {
    seq: number;
    tasks: TaskRecord[];
    dead: DeadLetterRecord[];
    cache: Map<string, CacheRecord>;
  };

  constructor(data?: MinimalStore['data']) {
    this.#data = data ?? { seq: 0, tasks: [], dead: [], cache: new Map() };
  }

  /** The data, for {@link reopen}. */
  get data() {
    return this.#data;
  }

  /** A new store over the same data, as after a restart. */
  reopen(): MinimalStore {
    return new MinimalStore(this.#data);
  }

  async init(): Promise<void> {}

  async enqueue(task: NewTaskRecord): Promise<TaskRecord> {
    const stored = { ...copy(task), seq: ++this.#data.seq } as TaskRecord;
    this.#data.tasks.push(stored);
    return copy(stored);
  }

  async dueTasks(query: { readonly now: number; readonly limit: number }): Promise<TaskRecord[]> {
    return this.#heads()
      .filter((t) => t.nextAttemptAt <= query.now)
      .slice(0, query.limit)
      .map(copy);
  }

  async listTasks(limit: number): Promise<TaskRecord[]> {
    return this.#data.tasks.slice(0, limit).map(copy);
  }

  async updateTask(task: TaskRecord): Promise<void> {
    const i = this.#data.tasks.findIndex((t) => t.id === task.id);
    if (i >= 0) this.#data.tasks[i] = { ...copy(task), seq: this.#data.tasks[i]!.seq };
  }

  async removeTask(id: string): Promise<void> {
    this.#data.tasks = this.#data.tasks.filter((t) => t.id !== id);
  }

  async pendingCount(): Promise<number> {
    return this.#data.tasks.length;
  }

  async addDeadLetter(record: DeadLetterRecord): Promise<void> {
    await this.removeTask(record.task.id);
    this.#data.dead = [
      ...this.#data.dead.filter((d) => d.task.id !== record.task.id),
      copy(record),
    ];
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    return this.#data.dead.map(copy);
  }

  async removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    const found = this.#data.dead.find((d) => d.task.id === id);
    this.#data.dead = this.#data.dead.filter((d) => d.task.id !== id);
    return found && copy(found);
  }

  async putCache(entry: CacheRecord): Promise<void> {
    this.#data.cache.set(entry.key, copy(entry));
  }

  async getCache(key: string): Promise<CacheRecord | undefined> {
    const entry = this.#data.cache.get(key);
    return entry && copy(entry);
  }

  async purgeExpiredCache(now: number, keepStaleMs = 0): Promise<number> {
    let purged = 0;
    for (const [key, entry] of this.#data.cache)
      if (entry.expiresAt < now - keepStaleMs) {
        this.#data.cache.delete(key);
        purged++;
      }
    return purged;
  }

  async clear(options: ClearOptions): Promise<void> {
    if (options.cache) this.#data.cache.clear();
    if (options.outbox) {
      this.#data.tasks = [];
      this.#data.dead = [];
    }
  }

  async close(): Promise<void> {}

  /** The first task of each ordering key, earliest due first (ties by seq). */
  #heads(): TaskRecord[] {
    const seen = new Set<string>();
    const heads = this.#data.tasks.filter(
      (t) => !seen.has(t.orderingKey) && seen.add(t.orderingKey),
    );
    return heads.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.seq - b.seq);
  }
}

function copy<T>(value: T): T {
  return structuredClone(value);
}
