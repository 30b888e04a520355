import type { Transport } from '../http/transport.js';
import type { ConflictStrategy } from '../model/conflict-types.js';
import {
  ConfigError,
  ConflictError,
  type ErrorResponse,
  type HttpError,
  type QnoxError,
} from '../model/errors.js';
import { type SyncEvent, summarize } from '../model/events.js';
import type { TaskRecord } from '../model/records.js';
import type { CurrentVersion } from '../model/responses.js';
import type { Emitter } from '../status/subscribable.js';

/** What the engine does after a conflict was handled: nothing more, or retry with this error. */
export type ConflictFollowUp = { readonly retry: QnoxError } | undefined;

/** What the engine lends whoever resolves its conflicts. */
export interface ConflictPortDeps {
  readonly transport: Transport;
  readonly events: Emitter<SyncEvent>;
  readonly timeoutMs: number;
  /** Per-call strategies of writes queued by this client (functions cannot be persisted). */
  readonly perCall: ReadonlyMap<string, ConflictStrategy>;
  readonly newId: () => string;
  /** Stores the write to be sent again (a new body, key and `If-Match`). */
  readonly update: (task: TaskRecord) => Promise<void>;
  /** Keeps the write in the dead letters, reason `conflict`. */
  readonly park: (task: TaskRecord, error: QnoxError) => Promise<void>;
  /** Drops the write for good, the server's version standing. */
  readonly serverWins: (
    task: TaskRecord,
    error: ConflictError,
    current: CurrentVersion,
  ) => Promise<void>;
}

/**
 * How the engine's conflicts are resolved. The core parks every conflict; the
 * `conflicts()` plug-in (`qnox-offline-sync/conflicts`) brings the strategies.
 */
export interface ConflictPort {
  /** Whether a 2xx answer is a conflict all the same; absent, none is. */
  readonly detect?: (response: ErrorResponse) => boolean;
  /** Checks a per-call strategy (`conflict` of a write or of `retryDeadLetter`). */
  check(option: string, strategy: ConflictStrategy): void;
  /** A 409/412 (or a detected conflict). */
  handle(task: TaskRecord, error: ConflictError): Promise<ConflictFollowUp>;
  /** A 428 (Precondition Required). */
  requirePrecondition(task: TaskRecord, error: HttpError): Promise<ConflictFollowUp>;
}

/** Builds a {@link ConflictPort} from the engine's parts. */
export type ConflictPortFactory = (deps: ConflictPortDeps) => ConflictPort;

/** Reports a conflict's outcome as a `conflict` event. */
export function reportConflict(
  events: Emitter<SyncEvent>,
  task: TaskRecord,
  error: ConflictError,
  outcome: string,
  server: unknown,
): void {
  events.emit({
    type: 'conflict',
    task: summarize(task),
    status: error.response.status,
    outcome,
    local: task.body?.value,
    server,
  });
}

const NEEDS_PLUGIN = 'needs the conflicts() plug-in (qnox-offline-sync/conflicts)';

/** The core's conflicts, without the plug-in: every one is parked for the user to decide. */
export const parkConflicts: ConflictPortFactory = (deps) => ({
  check(option, strategy) {
    if (strategy !== 'park') throw new ConfigError(option, `"${String(strategy)}" ${NEEDS_PLUGIN}`);
  },
  async handle(task, error) {
    reportConflict(deps.events, task, error, 'park', undefined);
    await deps.park(task, error);
    return undefined;
  },
  async requirePrecondition(task, error) {
    await deps.park(
      task,
      new ConflictError(
        error.response,
        `Server requires a precondition; answering it ${NEEDS_PLUGIN}`,
      ),
    );
    return undefined;
  },
});
