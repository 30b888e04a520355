import type { WireResponse } from '../http/transport.js';
import type { TaskRecord } from '../model/records.js';
import type { DrainLock } from '../platform/drain-lock.js';
import type { DrainPort } from './drain-port.js';
import type { VerdictDeps } from './verdicts.js';

/** What one `sync()` did. */
export interface SyncReport {
  readonly delivered: number;
  readonly retried: number;
  readonly deadLettered: number;
}

export interface EngineDeps extends Omit<VerdictDeps, 'pause'> {
  readonly concurrency: number;
  /** When false, only explicit `sync()` calls drain. */
  readonly autoSync: boolean;
  /** Called synchronously on a 2xx, before the next write of the key can go out. */
  readonly onAcknowledged: (task: TaskRecord, response: WireResponse) => void;
  /** The client's base URL. */
  readonly base: URL;
  /** A plug-in that sends writes another way (batching); the lanes send what it leaves. */
  readonly drain?: DrainPort | undefined;
  /**
   * One drainer among the contexts or processes sharing the store: the
   * engine drains only while it holds it (absent: always).
   */
  readonly drainLock?: Pick<DrainLock, 'acquire' | 'held'> | undefined;
  /** Last look at a task before it goes out (e.g. to follow If-Match across our own writes). */
  readonly beforeSend: (task: TaskRecord) => TaskRecord;
}
