import type { QnoxError } from '../errors.js';
import type { QnoxResponse } from '../options.js';

interface Deferred {
  resolve(response: QnoxResponse): void;
  reject(error: QnoxError): void;
}

/**
 * The `result` promises of writes enqueued by this client, by task id. A write
 * delivered by another tab or after a restart has no entry: its outcome is on
 * `sync.events`.
 */
export class Settlements {
  readonly #pending = new Map<string, Deferred>();

  create(id: string): Promise<QnoxResponse> {
    const promise = new Promise<QnoxResponse>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    // Callers who never read `result` must not get an unhandled rejection.
    promise.catch(() => {});
    return promise;
  }

  resolve(id: string, response: QnoxResponse): void {
    this.#pending.get(id)?.resolve(response);
    this.#pending.delete(id);
  }

  reject(id: string, error: QnoxError): void {
    this.#pending.get(id)?.reject(error);
    this.#pending.delete(id);
  }

  rejectAll(error: QnoxError): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error);
  }
}
