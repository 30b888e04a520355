import type { CacheWrites } from '../cache/cache-writes.js';
import type { SyncEngine } from '../engine/sync-engine.js';
import type { WriteResults } from '../engine/write-results.js';
import { resolveUrl } from '../http/url.js';
import { encodeBody } from '../model/body.js';
import type { ConflictStrategy } from '../model/conflict-types.js';
import { ConfigError, StorageError, storeCall } from '../model/errors.js';
import { type SyncEvent, summarize } from '../model/events.js';
import {
  decodeTask,
  type MutationMethod,
  type NewTaskRecord,
  type TaskRecord,
} from '../model/records.js';
import type { QnoxResponse } from '../model/responses.js';
import type { Clock } from '../platform/clock.js';
import { isCrossOrigin } from '../platform/page-origin.js';
import type { Emitter } from '../status/subscribable.js';
import type { StatusController } from '../status/sync-status.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { buildTask, snapshotBody } from './build-task.js';
import type { MutationOptions } from './mutation-options.js';
import type { PluginPorts } from './plugin-interface.js';
import { needsPlugin, type QueueContext } from './write-ports.js';

/** What `post/put/patch/delete` resolve with, once the write is durably queued. */
export interface MutationHandle {
  readonly id: string;
  readonly idempotencyKey: string;
  /** Settles with the server's answer, or rejects with a typed error if the write is dead-lettered or cancelled. */
  readonly result: Promise<QnoxResponse>;
}

/** How `retryDeadLetter` changes the write it puts back. */
export interface RetryEdit {
  /** New data: a new write, under a new idempotency key. */
  readonly data?: unknown;
  /** The strategy for its next conflict (a function lives in memory only). */
  readonly conflict?: ConflictStrategy;
}

export interface WriterDeps {
  readonly store: QnoxLocalStore;
  readonly engine: SyncEngine;
  readonly settlements: WriteResults;
  readonly status: StatusController;
  readonly events: Emitter<SyncEvent>;
  readonly cacheWrites: CacheWrites;
  readonly options: {
    readonly base: URL;
    readonly allowed: ReadonlySet<string>;
    readonly clock: Clock;
  };
  /** What plug-ins take over on the write path. */
  readonly ports: {
    readonly coalesce: PluginPorts['coalesce'] | undefined;
    readonly cancelCreate: PluginPorts['cancelCreate'] | undefined;
  };
  readonly defaultOrderingKey: string;
  readonly perCallConflict: Map<string, ConflictStrategy>;
  /** Tells other contexts sharing the store that a write was queued. */
  readonly onQueued: () => void;
}

/** The write path: preconditions, the durable enqueue, coalescing, optimistic updates, dead-letter retries. */
export class OutboxWriter {
  #warnedUnvalidated = false;
  readonly #context: QueueContext;

  constructor(private readonly deps: WriterDeps) {
    this.#context = {
      deps,
      enqueue: (record) => this.#enqueue(record),
      queued: (task) => this.#queued(task),
    };
  }

  async write(
    method: MutationMethod,
    path: string,
    data: unknown,
    options: MutationOptions,
  ): Promise<MutationHandle> {
    const { base, allowed, clock } = this.deps.options;
    const url = resolveUrl(base, path, allowed);
    if (options.conflict !== undefined)
      this.deps.engine.checkConflict('conflict', options.conflict);
    const { coalesce, cancelCreate } = this.deps.ports;
    if (options.coalesce && !coalesce) throw needsPlugin('coalesce', 'coalescing', 'coalescing');
    if (options.cancels !== undefined) {
      if (method !== 'DELETE')
        throw new ConfigError('cancels', 'only a DELETE cancels a local create');
      if (!cancelCreate) throw needsPlugin('cancels', 'cancelCreate', 'cancel-create');
      const answered = await cancelCreate.cancel(this.#context, options.cancels, url);
      if (answered) {
        const id = crypto.randomUUID();
        return { id, idempotencyKey: id, result: Promise.resolve(answered) };
      }
    }
    const pre =
      method !== 'POST' && options.ifMatch === undefined
        ? await this.deps.cacheWrites.precondition(url)
        : { headers: {} };
    const preconditions =
      typeof options.ifMatch === 'string' ? { 'if-match': options.ifMatch } : pre.headers;
    if ('unvalidated' in pre && options.ifMatch === undefined) this.#warnUnvalidated(url);
    const built = buildTask(
      method,
      url,
      data,
      { ...options, headers: { ...preconditions, ...options.headers } },
      {
        now: clock.now(),
        defaultOrderingKey: this.deps.defaultOrderingKey,
        newId: () => crypto.randomUUID(),
      },
    );
    const record: NewTaskRecord = {
      ...built,
      ...('base' in pre && pre.base !== undefined ? { base: pre.base } : {}),
      ...(typeof options.conflict === 'string' ? { conflict: options.conflict } : {}),
    };
    if (typeof options.conflict === 'function')
      this.deps.perCallConflict.set(record.id, options.conflict);
    if (coalesce && (options.coalesce ?? coalesce.byDefault)) {
      const merged = await coalesce.coalesce(this.#context, record);
      if (merged) return merged;
    }
    const task = await this.#enqueue(record);
    if (options.optimistic) {
      // The write is queued whatever the update does; a throwing updater only loses the optimistic view.
      await this.deps.cacheWrites.applyOptimistic(task, options.optimistic).catch(() => false);
    }
    return this.#queued(task);
  }

  /**
   * Puts a dead letter back at the end of its ordering key. Unedited, it keeps
   * its idempotency key (the server may have acted on an earlier attempt);
   * with new `data` it is a new write and gets a new key. With `conflict`, that
   * strategy resolves its next conflict (`'client-wins'` sends it over the
   * server's current version).
   */
  async retryDeadLetter(id: string, edit?: RetryEdit): Promise<MutationHandle> {
    if (edit?.conflict !== undefined) this.deps.engine.checkConflict('conflict', edit.conflict);
    const edited = edit !== undefined && 'data' in edit;
    const dead = (await this.deps.store.deadLetters()).find((d) => d.task.id === id);
    if (!dead) throw new ConfigError('id', `no dead letter with id ${id}`);
    // Quarantine is reversible: once the record reads again (a store repaired, the right key), it may go.
    if (dead.reason === 'quarantined' && !isReadable(dead.task))
      throw new StorageError(`Write ${id} is quarantined: its record cannot be read`);
    const {
      seq: _seq,
      lastError: _lastError,
      body: oldBody,
      conflictRounds: _rounds,
      sentAt,
      inFlightAt: _inFlight,
      ...rest
    } = dead.task;
    const body = edited ? encodeBody(snapshotBody(edit.data)) : oldBody;
    // Enqueue before removing: a crash in between leaves a duplicate with the same key, never a lost write.
    const task = await this.#enqueue({
      ...rest,
      ...(body ? { body } : {}),
      // An edited write is a new write under a new key: nothing of it has left yet.
      ...(sentAt !== undefined && !edited ? { sentAt } : {}),
      ...(typeof edit?.conflict === 'string' ? { conflict: edit.conflict } : {}),
      idempotencyKey: edited ? crypto.randomUUID() : dead.task.idempotencyKey,
      attempts: 0,
      nextAttemptAt: this.deps.options.clock.now(),
    });
    if (typeof edit?.conflict === 'function') this.deps.perCallConflict.set(task.id, edit.conflict);
    await this.deps.store.removeDeadLetter(id);
    return this.#queued(task);
  }

  /** Once per client: a write over a cached read that carried no validator can only overwrite. */
  #warnUnvalidated(url: string): void {
    if (this.#warnedUnvalidated) return;
    this.#warnedUnvalidated = true;
    this.deps.events.emit({
      type: 'warning',
      code: 'no-validators',
      url,
      message: `No If-Match on a write to ${url}: its cached copy had no ETag or Last-Modified, so the last writer wins${
        isCrossOrigin(url) ? ' (cross-origin: does the API expose ETag?)' : ''
      }`,
    });
  }

  #enqueue(record: NewTaskRecord): Promise<TaskRecord> {
    return storeCall('queue the write', () => this.deps.store.enqueue(record));
  }

  #queued(task: TaskRecord): MutationHandle {
    const result = this.deps.settlements.create(task.id);
    this.deps.status.adjustPending(1);
    this.deps.events.emit({ type: 'queued', task: summarize(task) });
    this.deps.engine.kick();
    this.deps.onQueued();
    return { id: task.id, idempotencyKey: task.idempotencyKey, result };
  }
}

function isReadable(task: TaskRecord): boolean {
  try {
    decodeTask(task);
    return URL.canParse(task.url);
  } catch {
    return false;
  }
}
