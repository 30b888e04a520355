import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyBytes, withKnownBody } from './known-body.js';
import { headersOf } from './node-listener.js';
import { type IdempotencyOptions, withIdempotency } from './with-idempotency.js';

/** What Express and Connect pass a middleware (the parts it reads). */
type Req = IncomingMessage & { body?: unknown; rawBody?: unknown; originalUrl?: string };
type Next = (error?: unknown) => void;

/** The body bytes a body parser left: `req.rawBody`, else `req.body` (bytes, text, or JSON). */
function bodyOf(req: Req): Uint8Array | null {
  const raw = req.rawBody ?? req.body;
  if (raw === undefined || raw === null) return null;
  if (raw instanceof Uint8Array) return raw;
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return new TextEncoder().encode(text);
}

/**
 * `withIdempotency` as an Express / Connect middleware: the rest of the
 * chain runs at most once per key, and its answer (status, headers, body)
 * is kept and replayed like the Fetch form's. Mount it after a body parser:
 * the request is bound to `req.rawBody` when a parser keeps it (e.g.
 * `express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`),
 * else to `req.body` (a Buffer or string as is, an object as its JSON).
 * An error passed on by the chain (`next(error)`) frees the key.
 *
 * @example
 * app.use(express.json({ verify: (req, _res, buf) => { req.rawBody = buf; } }));
 * app.use(idempotencyMiddleware({ store: redisIdempotencyStore({ client }) }));
 */
export function idempotencyMiddleware(options: IdempotencyOptions) {
  // The rest of the chain of each request, found by the Request the handler is given (the same one).
  const chains = new WeakMap<Request, { res: ServerResponse; next: Next }>();
  const guarded = withIdempotency((request) => {
    const chain = chains.get(request)!;
    return runRest(chain.res, chain.next);
  }, options);
  return (req: Req, res: ServerResponse, next: Next): void => {
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? null : bodyOf(req);
    const request = new Request(
      `http://${req.headers.host ?? 'localhost'}${req.originalUrl ?? req.url ?? '/'}`,
      { method, headers: headersOf(req), body: body as BodyInit | null },
    );
    // Its bytes are in hand: the middleware passes this very request on, unread.
    withKnownBody(request, body ?? new Uint8Array());
    chains.set(request, { res, next });
    Promise.resolve(guarded(request)).then(
      async (response) => {
        // The chain ran and answered itself: its answer was captured, now it goes out.
        res.statusCode = response.status;
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        response.headers.forEach((value, name) => {
          res.setHeader(name, value);
        });
        res.end(await bodyBytes(response));
      },
      (error: unknown) => next(error),
    );
  };
}

/** Runs the rest of the chain with its answer captured (not sent) until it ends. */
function runRest(res: ServerResponse, next: Next): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const write = res.write;
    const end = res.end;
    const writeHead = res.writeHead;
    const restore = () => {
      res.write = write;
      res.end = end;
      res.writeHead = writeHead;
    };
    const take = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array),
      );
    };
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      res.statusCode = status;
      const headers = rest.find((r) => r && typeof r === 'object') as
        | Record<string, string | string[] | number>
        | undefined;
      for (const [name, value] of Object.entries(headers ?? {}))
        res.setHeader(name, value as string);
      return res;
    }) as typeof res.writeHead;
    res.write = ((chunk: unknown, encoding?: unknown) => {
      take(chunk, encoding);
      return true;
    }) as typeof res.write;
    res.end = ((chunk?: unknown, encoding?: unknown) => {
      take(chunk, encoding);
      restore();
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.getHeaders()))
        if (value !== undefined)
          headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      const status = res.statusCode;
      const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
      resolve(new Response(body, { status, headers }));
      return res;
    }) as typeof res.end;
    try {
      next();
    } catch (error) {
      restore();
      reject(error);
    }
  });
}
