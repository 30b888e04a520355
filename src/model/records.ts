import { StorageError } from './errors.js';

/** Version written into every persisted record; bump it with a migration in {@link decodeTask}. */
export const RECORD_VERSION = 1;

export type MutationMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body as persisted: JSON values and text survive a restart unchanged. */
export type StoredBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly value: string };

/** Why a task was moved to the dead-letter list. */
export type DeadLetterReason =
  | 'rejected'
  | 'conflict'
  | 'max-attempts'
  /** Every attempt was answered by a redirect the library does not follow. */
  | 'redirected'
  | 'quarantined';

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
  /**
   * Clock time at which a request carrying this write first left, stored
   * durably *before* it left. Once set, the write may have reached the server:
   * it is never serialPasses, cancelled locally or edited under its idempotency key.
   */
  readonly sentAt?: number;
  /**
   * Clock time the latest request for it left, while no answer to it has been
   * stored yet: a sender that finds it set (a closed tab's, a crashed
   * process's) waits out that request's window before repeating it.
   */
  readonly inFlightAt?: number;
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
  /** For a response with `Vary`: the request's values of the headers it names (lower-case). */
  readonly vary?: Readonly<Record<string, string>>;
  /** Optimistic layers of writes not yet acknowledged, oldest first, each with the body before it. */
  readonly pending?: readonly { readonly taskId: string; readonly before: StoredBody | null }[];
}

/**
 * True once a request with this write may have reached the server (see
 * {@link TaskRecord.sentAt}); the one fact coalescing, cancel-create and
 * dead-letter edits consult before changing a write locally.
 */
export function mayHaveReachedServer(task: Pick<TaskRecord, 'sentAt' | 'attempts'>): boolean {
  return task.sentAt !== undefined || task.attempts > 0;
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
  // Not parsed here: a sealed record (encryptedStore) keeps its URL inside; an unusable
  // URL is caught before sending and quarantines that write alone.
  if (typeof r.url !== 'string' || typeof r.orderingKey !== 'string')
    throw corrupt('task url invalid');
  for (const field of ['seq', 'createdAt', 'attempts', 'nextAttemptAt'] as const) {
    if (typeof r[field] !== 'number' || !Number.isFinite(r[field]))
      throw corrupt(`task ${field} invalid`);
  }
  for (const field of ['sentAt', 'inFlightAt'] as const) {
    if (r[field] !== undefined && (typeof r[field] !== 'number' || !Number.isFinite(r[field])))
      throw corrupt(`task ${field} invalid`);
  }
  if (typeof r.headers !== 'object' || r.headers === null) throw corrupt('task headers invalid');
  return raw as TaskRecord;
}

/** Checks a dead letter read back from storage (see {@link decodeTask}); its task must at least name its id. */
export function decodeDeadLetter(raw: unknown): DeadLetterRecord {
  if (typeof raw !== 'object' || raw === null) throw corrupt('dead letter is not an object');
  const r = raw as Record<string, unknown>;
  const task = r.task as Record<string, unknown> | null | undefined;
  if (r.v !== RECORD_VERSION) throw corrupt(`unknown dead letter version ${String(r.v)}`);
  if (typeof task !== 'object' || task === null || typeof task.id !== 'string')
    throw corrupt('dead letter task missing');
  if (typeof r.reason !== 'string' || typeof r.failedAt !== 'number')
    throw corrupt('dead letter reason invalid');
  return raw as DeadLetterRecord;
}

/** Checks a cache record read back from storage; a damaged one is dropped (it is only a copy). */
export function decodeCache(raw: unknown): CacheRecord {
  if (typeof raw !== 'object' || raw === null) throw corrupt('cache entry is not an object');
  const r = raw as Record<string, unknown>;
  if (r.v !== RECORD_VERSION) throw corrupt(`unknown cache entry version ${String(r.v)}`);
  if (typeof r.key !== 'string' || typeof r.url !== 'string' || typeof r.status !== 'number')
    throw corrupt('cache entry key invalid');
  if (typeof r.expiresAt !== 'number' || typeof r.storedAt !== 'number')
    throw corrupt('cache entry times invalid');
  if (typeof r.headers !== 'object' || r.headers === null)
    throw corrupt('cache entry headers invalid');
  return raw as CacheRecord;
}

/** `JSON.parse`, failing as a corrupt record instead of a raw `SyntaxError`. */
export function parseRecord(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
}

function corrupt(message: string): StorageError {
  return new StorageError(`Corrupt record: ${message}`);
}
