import { problem } from './idempotency-key.js';
import type { FetchHandler } from './with-idempotency.js';

/** Problem type of a batch that is too large (413) or not a batch (400). */
export const BATCH_PROBLEM = 'urn:qnox-offline-sync:problem:batch-invalid';

/** Options of {@link batchHandler}. */
export interface BatchHandlerOptions {
  /**
   * Sub-requests per batch at most; more is a 413.
   * @default 100
   * @example 20
   */
  maxRequests?: number;
  /**
   * Bytes of the batch body at most; more is a 413.
   * @default 1_048_576 (1 MiB)
   * @example 256 * 1024
   */
  maxBytes?: number;
  /**
   * What sub-request URLs are relative to.
   * @default the batch URL's parent (`/api/batch` → `/api`)
   * @example 'https://api.example.com/v1'
   */
  base?: string;
}

interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

/** Headers of the batch request that each sub-request inherits (the caller's identity). */
const INHERITED = ['authorization', 'cookie'];

/**
 * Serves the `batching()` plug-in's wire format (JSON batching as Microsoft
 * Graph and OData 4.01 describe it): each sub-request runs through `handler`
 * (wrap it in `withIdempotency` first, so each keeps its own key), in order,
 * after the ones it `dependsOn`; one whose dependency did not succeed answers
 * 424 without running. Too many sub-requests or bytes: 413.
 *
 * @example
 * const api = withIdempotency(app.fetch, { store });
 * const batch = batchHandler(api, { maxRequests: 50 }); // mount at POST /batch
 */
export function batchHandler(
  handler: FetchHandler,
  options: BatchHandlerOptions = {},
): FetchHandler {
  const maxRequests = options.maxRequests ?? 100;
  const maxBytes = options.maxBytes ?? 1_048_576;
  return async (request) => {
    if (request.method !== 'POST') return problem(405, BATCH_PROBLEM, 'A batch is a POST');
    const text = await request.text();
    if (text.length > maxBytes)
      return problem(413, BATCH_PROBLEM, `A batch carries ${maxBytes} bytes at most`);
    let requests: SubRequest[];
    try {
      requests = (JSON.parse(text) as { requests: SubRequest[] }).requests;
      if (
        !Array.isArray(requests) ||
        requests.some((r) => typeof r?.id !== 'string' || typeof r.url !== 'string')
      )
        throw new TypeError('not a batch');
    } catch {
      return problem(
        400,
        BATCH_PROBLEM,
        'A batch is { "requests": [ { "id", "method", "url", … } ] }',
      );
    }
    if (requests.length > maxRequests)
      return problem(413, BATCH_PROBLEM, `A batch carries ${maxRequests} requests at most`);
    const base = options.base ?? new URL('.', request.url).href.replace(/\/$/, '');
    const statuses = new Map<string, number>();
    const responses = [];
    for (const sub of requests) {
      const failed = (sub.dependsOn ?? []).some((id) => {
        const status = statuses.get(id);
        return status === undefined || status < 200 || status > 299;
      });
      if (failed) {
        statuses.set(sub.id, 424);
        responses.push({ id: sub.id, status: 424 });
        continue;
      }
      const headers = new Headers(sub.headers ?? {});
      for (const name of INHERITED) {
        const value = request.headers.get(name);
        if (value !== null && !headers.has(name)) headers.set(name, value);
      }
      const url = /^https?:\/\//.test(sub.url)
        ? sub.url
        : `${base}${sub.url.startsWith('/') ? '' : '/'}${sub.url}`;
      const method = (sub.method ?? 'GET').toUpperCase();
      let answer: Response;
      try {
        answer = await handler(
          new Request(url, {
            method,
            headers,
            ...(sub.body === undefined || method === 'GET'
              ? {}
              : { body: JSON.stringify(sub.body) }),
          }),
        );
      } catch {
        answer = new Response(null, { status: 500 });
      }
      statuses.set(sub.id, answer.status);
      responses.push({ id: sub.id, status: answer.status, ...(await partOf(answer)) });
    }
    return Response.json({ responses });
  };
}

/** A sub-response's headers and body (JSON when it says so, else text). */
async function partOf(
  answer: Response,
): Promise<{ headers: Record<string, string>; body?: unknown }> {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const text = await answer.text();
  if (text === '') return { headers };
  if (/[/+]json\b/i.test(headers['content-type'] ?? '')) {
    try {
      return { headers, body: JSON.parse(text) };
    } catch {
      return { headers, body: text };
    }
  }
  return { headers, body: text };
}
