import type { CacheRecord, DeadLetterRecord, NewTaskRecord, TaskRecord } from '../model/records.js';

/** A stored record that could not be decoded, moved aside so the rest of the queue keeps flowing. */
export interface QuarantineReport {
  /** The task id, when it could still be read. */
  readonly id?: string;
  readonly reason: string;
  readonly at: number;
  /** The record as found. */
  readonly raw: unknown;
}

/** Options of {@link QnoxLocalStore.clear}. */
export interface ClearOptions {
  /** Wipe cached GET responses. */
  readonly cache: boolean;
  /** Wipe queued tasks and dead letters too. */
  readonly outbox: boolean;
}

/**
 * Where the outbox and the cache live. Implement this to put them anywhere;
 * run `runStoreConformance` from `qnox-offline-sync/testing` to prove it.
 *
 * Ordering contract: tasks sharing an `orderingKey` form a FIFO by `seq`. Only
 * the first task of each key (its *head*) is ever returned by `dueTasks`.
 */
export interface QnoxLocalStore {
  /** Opens the store; called once by `QnoxSync.create`. */
  init(): Promise<void>;
  /** Durably adds a task, assigning it the next `seq`. Resolves only once it would survive a crash. */
  enqueue(task: NewTaskRecord): Promise<TaskRecord>;
  /** Heads of ordering keys with `nextAttemptAt <= now`, earliest due first, at most `limit`. */
  dueTasks(query: { readonly now: number; readonly limit: number }): Promise<TaskRecord[]>;
  /**
   * Optional accelerator: the earliest `nextAttemptAt` among heads, or
   * `undefined` with nothing queued (without it: the first of `dueTasks` at the end of time).
   */
  nextDueAt?(): Promise<number | undefined>;
  /** Optional accelerator: one task by id (without it: a scan of `listTasks`). */
  getTask?(id: string): Promise<TaskRecord | undefined>;
  /** Queued tasks in enqueue order, for display. */
  listTasks(limit: number): Promise<TaskRecord[]>;
  /** Replaces a queued task (same id, same seq); a missing task is ignored. */
  updateTask(task: TaskRecord): Promise<void>;
  /** Deletes a queued task; a missing task is ignored. */
  removeTask(id: string): Promise<void>;
  /** Number of queued tasks (dead letters not included), without reading them. */
  pendingCount(): Promise<number>;
  /** Atomically moves a queued task to the dead letters. */
  addDeadLetter(record: DeadLetterRecord): Promise<void>;
  /** Dead letters, oldest first. */
  deadLetters(): Promise<DeadLetterRecord[]>;
  /** Removes a dead letter and returns it. */
  removeDeadLetter(id: string): Promise<DeadLetterRecord | undefined>;
  /** Optional accelerator: number of dead letters (without it: `deadLetters().length`). */
  deadLetterCount?(): Promise<number>;
  putCache(entry: CacheRecord): Promise<void>;
  getCache(key: string): Promise<CacheRecord | undefined>;
  /** Optional: drops an entry that cannot be read (without it, the entry stays, and reads as a miss). */
  deleteCache?(key: string): Promise<void>;
  /**
   * Optional accelerator: puts `put` and deletes `remove` (cache keys) in one
   * atomic commit, all or nothing (a delta-sync page with its cursor). Without
   * it: `putCache` and `deleteCache` one by one, so a crash can leave part of
   * a page, which delta sync applies again on its next pull.
   */
  writeCache?(put: readonly CacheRecord[], remove: readonly string[]): Promise<void>;
  /** Deletes entries with `expiresAt < now - keepStaleMs`; returns how many. */
  purgeExpiredCache(now: number, keepStaleMs?: number): Promise<number>;
  clear(options: ClearOptions): Promise<void>;
  close(): Promise<void>;
  /**
   * Optional, for stores several processes can open: resolves true when this
   * store may drain now. The engine skips a drain (and tries again later) on false.
   */
  acquireDrainLock?(): Promise<boolean>;
  /**
   * Optional, with `acquireDrainLock`: false when the lock was lost since (a
   * frozen page lets it go). The drain then stops sending and tries again later.
   */
  holdsDrainLock?(): boolean;
  /**
   * Optional: a name for the data, set by stores that several contexts (tabs, a
   * service worker) open at once. Clients on the same `channelName` tell each other
   * of new writes and outcomes over a BroadcastChannel.
   */
  readonly channelName?: string;
  /**
   * Optional, for stores whose writes cost real I/O: up to `limit` tasks of
   * `orderingKey` after `afterSeq`, in order, so the drain can read a key ahead and
   * send each write while the previous ones' removals commit.
   * In-memory stores leave it out (pipelining would only add work).
   */
  tasksAfter?(orderingKey: string, afterSeq: number, limit: number): Promise<TaskRecord[]>;
  /**
   * Optional, for stores that hold removals back to batch them while a drain
   * streams them in: commit what is held now. The engine calls it when a lane
   * runs out of writes, so the last ones settle without waiting out the batch.
   */
  flush?(): void;
  /**
   * Optional accelerator: replaces several queued tasks in one durable commit
   * (same rules as `updateTask`). Without it the engine calls `updateTask` for
   * each; the outcome is the same, only with one commit per task.
   */
  updateTasks?(tasks: readonly TaskRecord[]): Promise<void>;
  /** Optional, enables coalescing: the last queued task of an ordering key (highest seq). */
  lastTask?(orderingKey: string): Promise<TaskRecord | undefined>;
  /** Optional small key-value area that `clear()` never touches (e.g. the encryption salt). */
  getMeta?(key: string): Promise<string | undefined>;
  putMeta?(key: string, value: string): Promise<void>;
  /** Optional, for stores that decode what they read: called when a record is quarantined. */
  onQuarantine?(listener: (report: QuarantineReport) => void): void;
  /** Optional: records moved to quarantine, oldest first. */
  quarantined?(): Promise<QuarantineReport[]>;
}
