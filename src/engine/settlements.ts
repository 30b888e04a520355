import type { QnoxError } from '../errors.js';
import type { QnoxResponse } from '../options.js';

interface Deferred {
  resolve(response: QnoxResponse): void;
  reject(error: QnoxError): void;
}

/**
 * The `result` promises of writes enqueued by this client, by task id; several
 * callers may wait on one task (coalesced writes). A write delivered by another
 * tab or after a restart has no entry: its outcome is on `sync.events`.
 */
export class Settlements {
  readonly #pending = new Map<string, Deferred[]>();

  create(id: string): Promise<QnoxResponse> {
    const promise = new Promise<QnoxResponse>((resolve, reject) => {
      const list = this.#pending.get(id) ?? [];
      list.push({ resolve, reject });
      this.#pending.set(id, list);
    });
    // Callers who never read `result` must not get an unhandled rejection.
    promise.catch(() => {});
    return promise;
  }

  /** The callers waiting on `from` now wait on `to` (a write superseded by another). */
  transfer(from: string, to: string): void {
    const moved = this.#pending.get(from);
    if (!moved) return;
    this.#pending.delete(from);
    this.#pending.set(to, [...(this.#pending.get(to) ?? []), ...moved]);
  }

  resolve(id: string, response: QnoxResponse): void {
    for (const d of this.#pending.get(id) ?? []) d.resolve(response);
    this.#pending.delete(id);
  }

  reject(id: string, error: QnoxError): void {
    for (const d of this.#pending.get(id) ?? []) d.reject(error);
    this.#pending.delete(id);
  }

  rejectAll(error: QnoxError): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error);
  }
}
