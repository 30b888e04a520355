import { ConfigError } from '../model/errors.js';
import type { NewTaskRecord, TaskRecord } from '../model/records.js';
import type { QnoxResponse } from '../model/responses.js';
import type { MutationHandle, WriterDeps } from './outbox-writer.js';

/** What the write path lends a plug-in that changes what is queued. */
export interface QueueContext {
  readonly deps: WriterDeps;
  /** Stores a new write durably. */
  enqueue(record: NewTaskRecord): Promise<TaskRecord>;
  /** Announces a stored write (pending count, `queued` event, drain) and returns its handle. */
  queued(task: TaskRecord): MutationHandle;
}

/** The `coalescing()` plug-in's port: merges a write into the last queued, never-sent one of its key. */
export interface CoalescePort {
  /** Whether a write that does not say (`coalesce` unset) coalesces. */
  readonly byDefault: boolean;
  /** The write's handle when it was merged or queued here; `undefined` to queue it as usual. */
  coalesce(ctx: QueueContext, record: NewTaskRecord): Promise<MutationHandle | undefined>;
}

/** The `cancelCreate()` plug-in's port: a DELETE of a resource only created locally. */
export interface CancelCreatePort {
  /** The DELETE's local answer when everything was dropped; `undefined` to queue it as usual. */
  cancel(ctx: QueueContext, creatorId: string, url: string): Promise<QnoxResponse | undefined>;
}

/** The error for a per-call option whose plug-in the client was not given. */
export function needsPlugin(option: string, plugin: string, entry: string): ConfigError {
  return new ConfigError(option, `needs the ${plugin}() plug-in (qnox-offline-sync/${entry})`);
}
