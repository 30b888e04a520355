import type { QnoxError } from '../model/errors.js';
import { ValueStream } from './subscribable.js';

/**
 * Where delivery stands. `idle`: nothing due. `checkingConnectivity`: probing
 * after a network failure. `syncing`: a drain is running. `backoff`: writes
 * wait for a retry time. `offline`: the network is down. `authRequired`:
 * refresh failed, delivery paused until `resume()`. `error`: the store failed.
 */
export type SyncPhase =
  | 'idle'
  | 'checkingConnectivity'
  | 'syncing'
  | 'backoff'
  | 'offline'
  | 'authRequired'
  | 'error';

/** The snapshot `onSyncStatus` holds and emits. */
export interface SyncStatus {
  readonly phase: SyncPhase;
  /** Queued writes, not counting dead letters. */
  readonly pending: number;
  readonly deadLetters: number;
  /** Clock time of the last acknowledged write, or `null`. */
  readonly lastSyncAt: number | null;
  /** The most recent failure (network, http, auth, storage), or `null` once a write goes through. */
  readonly lastError: QnoxError | null;
  /** When the next queued write becomes due, if it is in the future. */
  readonly nextRetryAt: number | null;
  readonly online: boolean;
}

/** The facts the phase is derived from; the phase itself is never set directly. */
export interface StatusFacts {
  readonly online: boolean;
  readonly checking: boolean;
  readonly draining: boolean;
  readonly authRequired: boolean;
  readonly storageFault: boolean;
  readonly pending: number;
  readonly deadLetters: number;
  readonly lastSyncAt: number | null;
  readonly lastError: QnoxError | null;
  readonly nextRetryAt: number | null;
}

export function derivePhase(f: StatusFacts): SyncPhase {
  if (f.authRequired) return 'authRequired';
  if (f.storageFault) return 'error';
  if (f.checking) return 'checkingConnectivity';
  if (!f.online) return 'offline';
  if (f.draining) return 'syncing';
  if (f.pending > 0 && f.nextRetryAt !== null) return 'backoff';
  return 'idle';
}

const INITIAL: StatusFacts = {
  online: true,
  checking: false,
  draining: false,
  authRequired: false,
  storageFault: false,
  pending: 0,
  deadLetters: 0,
  lastSyncAt: null,
  lastError: null,
  nextRetryAt: null,
};

/** Holds the facts and publishes a new {@link SyncStatus} only when something visible changed. */
export class StatusController {
  #facts: StatusFacts = INITIAL;
  readonly stream: ValueStream<SyncStatus>;

  constructor(onListenerError?: (error: unknown) => void) {
    this.stream = new ValueStream(toStatus(INITIAL), onListenerError);
  }

  get facts(): StatusFacts {
    return this.#facts;
  }

  /** Moves the shown pending count by `delta` (never below 0) without a store read. */
  adjustPending(delta: number, patch: Partial<StatusFacts> = {}): void {
    this.update({ ...patch, pending: Math.max(0, this.#facts.pending + delta) });
  }

  update(patch: Partial<StatusFacts>): void {
    this.#facts = { ...this.#facts, ...patch };
    const next = toStatus(this.#facts);
    const current = this.stream.value;
    if (!sameStatus(current, next)) this.stream.set(next);
  }
}

function toStatus(f: StatusFacts): SyncStatus {
  return {
    phase: derivePhase(f),
    pending: f.pending,
    deadLetters: f.deadLetters,
    lastSyncAt: f.lastSyncAt,
    lastError: f.lastError,
    nextRetryAt: f.nextRetryAt,
    online: f.online,
  };
}

function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  return (
    a.phase === b.phase &&
    a.pending === b.pending &&
    a.deadLetters === b.deadLetters &&
    a.lastSyncAt === b.lastSyncAt &&
    a.lastError === b.lastError &&
    a.nextRetryAt === b.nextRetryAt &&
    a.online === b.online
  );
}
