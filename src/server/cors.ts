import type { FetchHandler } from './with-idempotency.js';

/** What a cross-origin client must be allowed to send, and to read, for the library to work. */
export const CORS_ALLOW_HEADERS =
  'authorization, content-type, idempotency-key, if-match, if-none-match, if-unmodified-since';
export const CORS_EXPOSE_HEADERS =
  'etag, last-modified, retry-after, idempotent-replayed, location';

/**
 * Lets pages on `origins` use the API from another origin: answers the
 * preflight (`OPTIONS`, 204) and adds to every answer the headers the client
 * needs (the request headers it sends allowed, `ETag`, `Retry-After`,
 * `Idempotent-Replayed`… exposed). Other origins get no CORS headers.
 *
 * @example const api = cors(withIdempotency(app.fetch, { store }), { origins: ['https://app.example.com'] });
 */
export function cors(handler: FetchHandler, options: { origins: readonly string[] }): FetchHandler {
  const allowed = new Set(options.origins);
  return async (request) => {
    const origin = request.headers.get('origin');
    const ok = origin !== null && (allowed.has(origin) || allowed.has('*'));
    const headers: Record<string, string> = ok
      ? {
          'access-control-allow-origin': origin,
          'access-control-expose-headers': CORS_EXPOSE_HEADERS,
          vary: 'origin',
        }
      : {};
    if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method'))
      return new Response(null, {
        status: 204,
        headers: ok
          ? {
              ...headers,
              'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
              'access-control-allow-headers': CORS_ALLOW_HEADERS,
              'access-control-max-age': '600',
            }
          : {},
      });
    const response = await handler(request);
    if (!ok) return response;
    const out = new Response(response.body, response);
    for (const [name, value] of Object.entries(headers)) out.headers.set(name, value);
    return out;
  };
}
