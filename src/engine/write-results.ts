import { ConflictError, HttpError, QnoxError, type QnoxErrorCode } from '../model/errors.js';
import type { QnoxResponse } from '../model/responses.js';
import type { ChannelMessage } from '../platform/broadcast.js';

interface Deferred {
  resolve(response: QnoxResponse): void;
  reject(error: QnoxError): void;
}

/**
 * The `result` promises of writes enqueued by this client, by task id; several
 * callers may wait on one task (serialPasses writes). A write delivered by another
 * tab or after a restart has no entry: its outcome is on `sync.events`.
 */
export class WriteResults {
  readonly #pending = new Map<string, Deferred[]>();
  /** Set when other tabs share the store: they learn of every outcome too. */
  announce: ((message: ChannelMessage) => void) | undefined;

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

  /**
   * Tells other tabs at once that the server acknowledged `id`, before this
   * tab's bookkeeping commits: should this tab close meanwhile, their callers
   * still hear (a replay by the next sender would only announce it again).
   * `resolve` announces once more when the bookkeeping is done, so their
   * counts are read after the removal.
   */
  acknowledged(id: string, response: QnoxResponse): void {
    if (!this.#pending.has(id)) this.#post(id, response);
  }

  resolve(id: string, response: QnoxResponse): void {
    for (const d of this.#pending.get(id) ?? []) d.resolve(response);
    this.#pending.delete(id);
    this.#post(id, response);
  }

  #post(id: string, response: QnoxResponse): void {
    this.announce?.({
      t: 'settled',
      id,
      response: { status: response.status, data: response.data, headers: { ...response.headers } },
    });
  }

  reject(id: string, error: QnoxError, local = false): void {
    for (const d of this.#pending.get(id) ?? []) d.reject(error);
    this.#pending.delete(id);
    if (local) return;
    const response = (error as { response?: { status: number; data: unknown } }).response;
    this.announce?.({
      t: 'settled',
      id,
      error: {
        code: error.code,
        message: error.message,
        ...(response ? { status: response.status, data: response.data } : {}),
      },
    });
  }

  /** An outcome another tab announced for a write this tab enqueued. */
  receive(message: Extract<ChannelMessage, { t: 'settled' }>): void {
    const waiting = this.#pending.get(message.id);
    if (!waiting) return;
    this.#pending.delete(message.id);
    if (message.response) {
      const response = {
        ...message.response,
        fromCache: false,
        stale: false,
        pendingWrites: false,
      };
      for (const d of waiting) d.resolve(response);
      return;
    }
    const e = message.error ?? { code: 'cancelled', message: 'Settled in another tab' };
    const view = { status: e.status ?? 0, headers: {}, data: e.data };
    const error =
      e.code === 'conflict'
        ? new ConflictError(view, e.message)
        : e.code === 'http'
          ? new HttpError(view, e.message)
          : new QnoxError(e.code as QnoxErrorCode, e.message);
    for (const d of waiting) d.reject(error);
  }

  /** Rejects every promise of this tab only (dispose, clear): the writes themselves are not settled. */
  rejectAll(error: QnoxError): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error, true);
  }
}
