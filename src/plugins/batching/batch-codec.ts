import { isPlainObject } from '../../model/merge-json.js';

/** One write inside a batch. */
export interface BatchSubRequest {
  /** Correlates the answer (the write's id). */
  readonly id: string;
  readonly method: string;
  /** Relative to the client's `baseUrl` (absolute for another allowed origin). */
  readonly url: string;
  /** The write's own headers: `Idempotency-Key`, `If-Match`, `Content-Type`, its custom ones. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON value (absent for a DELETE without body). */
  readonly body?: unknown;
  /** The previous write of its ordering key in this batch: run only if that one succeeded. */
  readonly dependsOn?: readonly string[];
}

/** One answer inside a batch's answer. */
export interface BatchSubResponse {
  readonly id: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/**
 * How a batch is spoken on the wire. The default, {@link jsonBatchCodec}, is
 * JSON batching as Microsoft Graph and OData 4.01 describe it.
 */
export interface BatchCodec {
  /** The JSON body of the batch request. */
  encode(requests: readonly BatchSubRequest[]): unknown;
  /** The sub-responses of a 200 answer's JSON body; throws when it is not one. */
  decode(body: unknown): BatchSubResponse[];
}

/** `{ requests: [...] }` out, `{ responses: [...] }` back, correlated by `id`, in any order. */
export const jsonBatchCodec: BatchCodec = {
  encode: (requests) => ({ requests }),
  decode(body) {
    const responses = isPlainObject(body) ? body.responses : undefined;
    if (!Array.isArray(responses)) throw new TypeError('no "responses" array');
    return responses.map((r: unknown) => {
      if (!isPlainObject(r) || typeof r.id !== 'string' || !Number.isInteger(r.status))
        throw new TypeError('a response without a string "id" and an integer "status"');
      const headers: Record<string, string> = {};
      if (isPlainObject(r.headers))
        for (const [name, value] of Object.entries(r.headers))
          if (typeof value === 'string') headers[name.toLowerCase()] = value;
      return { id: r.id, status: r.status as number, headers, body: r.body };
    });
  },
};
