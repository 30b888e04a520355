import type { TaskRecord } from '../model/records.js';
import type { QnoxLocalStore } from '../stores/local-store.js';

/** Tasks read per look ahead, and how few left in hand trigger the next read. */
const BATCH = 32;
const LOW = 8;

/** A task read ahead, with the engine epoch at which its read started. */
export interface AheadTask {
  readonly task: TaskRecord;
  readonly epoch: number;
}

/**
 * The rest of one ordering key, read in batches ahead of the lane that sends
 * it, so no send waits on a store read. Inactive for stores without `tasksAfter`.
 */
export class ReadAhead {
  readonly #queue: AheadTask[] = [];
  readonly #key: string;
  #reading: Promise<void> | undefined;
  #lastSeq: number;
  #done: boolean;

  /** `mark` returns a fresh epoch; a task changed after its read's epoch is not sent from here. */
  constructor(
    private readonly store: Pick<QnoxLocalStore, 'tasksAfter'> | undefined,
    first: TaskRecord,
    private readonly mark: () => number,
  ) {
    this.#key = first.orderingKey;
    this.#lastSeq = first.seq;
    this.#done = !store?.tasksAfter;
  }

  get active(): boolean {
    return this.store?.tasksAfter !== undefined;
  }

  /** Starts the next read when few tasks are left in hand. */
  fill(): void {
    const read = this.store?.tasksAfter;
    if (!read || this.#done || this.#reading || this.#queue.length > LOW) return;
    const epoch = this.mark();
    this.#reading = read
      .call(this.store, this.#key, this.#lastSeq, BATCH)
      .then(
        (tasks) => {
          for (const task of tasks) this.#queue.push({ task, epoch });
          this.#lastSeq = tasks.at(-1)?.seq ?? this.#lastSeq;
          // The key ran out: later writes to it come back through `dueTasks`.
          if (tasks.length < BATCH) this.#done = true;
        },
        () => {
          this.#done = true;
        },
      )
      .finally(() => {
        this.#reading = undefined;
      });
  }

  /** The tasks in hand, not taken yet. */
  peek(): readonly AheadTask[] {
    return this.#queue;
  }

  /** The next task of the key, or `undefined` when none was read. */
  async take(): Promise<AheadTask | undefined> {
    if (this.#queue.length === 0) await this.#reading;
    return this.#queue.shift();
  }
}
