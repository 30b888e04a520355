import { StorageError } from '../errors.js';

/** Version written into every persisted record; bump it with a migration in {@link decodeTask}. */
export const RECORD_VERSION = 1;

export type MutationMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body as persisted: JSON values and text survive a restart unchanged. */
export type StoredBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly value: string };

/** Why a task was moved to the dead-letter list. */
export type DeadLetterReason = 'rejected' | 'conflict' | 'max-attempts' | 'quarantined';

/** What a task remembers of its last failed attempt. */
export interface AttemptError {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
}

/** A queued mutation as the store keeps it: plain, versioned JSON. */
export interface TaskRecord {
  readonly v: number;
  readonly id: string;
  /** Store-assigned, strictly increasing: the enqueue order. */
  readonly seq: number;
  readonly idempotencyKey: string;
  readonly method: MutationMethod;
  /** Absolute URL, checked against the allowed origins at enqueue and at send. */
  readonly url: string;
  /** Request headers chosen by the caller; never auth headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: StoredBody;
  readonly orderingKey: string;
  readonly createdAt: number;
  readonly attempts: number;
  /** Earliest time (clock ms) of the next attempt. */
  readonly nextAttemptAt: number;
  readonly lastError?: AttemptError;
  readonly timeoutMs?: number;
  /** The cached representation the write was made against, for a three-way merge. */
  readonly base?: unknown;
  /** A named conflict strategy chosen for this write. */
  readonly conflict?: 'park' | 'server-wins' | 'client-wins' | 'merge';
  /** How many times a conflict of this write was resolved and re-sent. */
  readonly conflictRounds?: number;
}

/** What the engine hands to `enqueue`; the store assigns `seq`. */
export type NewTaskRecord = Omit<TaskRecord, 'seq'>;

/** A task the engine gave up on, kept with why, for the app to retry, edit or discard. */
export interface DeadLetterRecord {
  readonly v: number;
  readonly task: TaskRecord;
  readonly reason: DeadLetterReason;
  readonly failedAt: number;
  readonly lastResponse?: { readonly status: number; readonly data: unknown };
}

/** A cached GET response. */
export interface CacheRecord {
  readonly v: number;
  readonly key: string;
  readonly url: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: StoredBody | null;
  readonly storedAt: number;
  readonly expiresAt: number;
  /** Optimistic layers of writes not yet acknowledged, oldest first, each with the body before it. */
  readonly pending?: readonly { readonly taskId: string; readonly before: StoredBody | null }[];
}

const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Checks a task read back from storage. Stores that serialise call this on
 * every read so one damaged record is quarantined instead of breaking the queue.
 */
export function decodeTask(raw: unknown): TaskRecord {
  if (typeof raw !== 'object' || raw === null) throw corrupt('task is not an object');
  const r = raw as Record<string, unknown>;
  if (r.v !== RECORD_VERSION) throw corrupt(`unknown task record version ${String(r.v)}`);
  if (typeof r.id !== 'string' || typeof r.idempotencyKey !== 'string')
    throw corrupt('task id missing');
  if (typeof r.method !== 'string' || !METHODS.has(r.method)) throw corrupt('task method invalid');
  if (typeof r.url !== 'string' || typeof r.orderingKey !== 'string')
    throw corrupt('task url invalid');
  for (const field of ['seq', 'createdAt', 'attempts', 'nextAttemptAt'] as const) {
    if (typeof r[field] !== 'number' || !Number.isFinite(r[field]))
      throw corrupt(`task ${field} invalid`);
  }
  if (typeof r.headers !== 'object' || r.headers === null) throw corrupt('task headers invalid');
  return raw as TaskRecord;
}

function corrupt(message: string): StorageError {
  return new StorageError(`Corrupt record: ${message}`);
}
