import { type Clock, systemClock } from '../platform/clock.js';

/** A response as it is kept under its key, to be replayed. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  /** The body, base64. */
  readonly body: string;
}

/** What `begin` found under a key. */
export type BeginResult =
  /** The key is this request's now: run the handler, then `complete` or `release` with `token`. */
  | { readonly state: 'acquired'; readonly token: string }
  /** Another request with this key runs now (its lease holds). */
  | { readonly state: 'running'; readonly fingerprint: string }
  /** A request with this key ran; its response is kept. */
  | { readonly state: 'done'; readonly fingerprint: string; readonly response: StoredResponse };

/**
 * Where keys, their leases and their responses live. Every operation is
 * atomic on its key: two processes calling `begin` at once, one acquires.
 */
export interface IdempotencyStore {
  /** Takes the key for `leaseMs` unless it is running or done. */
  begin(key: string, fingerprint: string, leaseMs: number): Promise<BeginResult>;
  /** Keeps the lease of a handler still running; false when the lease was lost. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Stores the response under the key for `ttlMs`, if `token` still holds it. */
  complete(key: string, token: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Gives the key up (the handler failed): the next request with it runs. */
  release(key: string, token: string): Promise<void>;
}

interface Entry {
  fingerprint: string;
  token?: string;
  until: number;
  response?: StoredResponse;
}

/**
 * Keys in this process's memory: for tests and single-process apps (a
 * restart forgets them; several processes need Redis or PostgreSQL).
 *
 * @example const store = memoryIdempotencyStore();
 */
export function memoryIdempotencyStore(options: { clock?: Clock } = {}): IdempotencyStore {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, Entry>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.until <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    async begin(key, fingerprint, leaseMs) {
      const entry = live(key);
      if (entry?.response)
        return { state: 'done', fingerprint: entry.fingerprint, response: entry.response };
      if (entry) return { state: 'running', fingerprint: entry.fingerprint };
      const token = crypto.randomUUID();
      entries.set(key, { fingerprint, token, until: clock.now() + leaseMs });
      return { state: 'acquired', token };
    },
    async renew(key, token, leaseMs) {
      const entry = live(key);
      if (entry?.token !== token || entry.response) return false;
      entry.until = clock.now() + leaseMs;
      return true;
    },
    async complete(key, token, response, ttlMs) {
      const entry = live(key);
      if (entry?.token !== token) return;
      entries.set(key, { fingerprint: entry.fingerprint, response, until: clock.now() + ttlMs });
    },
    async release(key, token) {
      if (live(key)?.token === token) entries.delete(key);
    },
  };
}
