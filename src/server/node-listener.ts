import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyBytes, withKnownBody } from './known-body.js';
import type { FetchHandler } from './with-idempotency.js';

/**
 * A `node:http` request listener that serves a Fetch-API handler: the request
 * becomes a `Request` (its URL from the `Host` header), the `Response` is
 * written back. A handler that throws answers 500.
 *
 * @example http.createServer(toNodeListener(withIdempotency(app.fetch, { store }))).listen(8080);
 */
export function toNodeListener(handler: FetchHandler) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = headersOf(req);
      const method = req.method ?? 'GET';
      const body =
        chunks.length > 0 && method !== 'GET' && method !== 'HEAD' ? Buffer.concat(chunks) : null;
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
        method,
        headers,
        body,
      });
      if (body) withKnownBody(request, body);
      const response = await handler(request);
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        out[name] = value;
      });
      res.writeHead(response.status, out);
      res.end(await bodyBytes(response));
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    }
  };
}

/** A node:http request's headers as Fetch-API `Headers` (repeated ones joined). */
export function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  return headers;
}
