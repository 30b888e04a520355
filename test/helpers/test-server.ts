import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runBatch } from './batch-endpoint.js';
import { type LoggedChange, serveChanges } from './change-feed.js';

/** The in-progress problem type, spelled out here so the server shares no code with the client. */
const IN_PROGRESS = 'urn:qnox-offline-sync:problem:idempotency-key-in-progress';

/** A fault the server injects into one request. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'commit-then-drop' }
  | { kind: 'slow'; ms: number }
  /** The handler runs for `ms` before it applies the write, whatever becomes of the connection. */
  | { kind: 'slow-handler'; ms: number }
  /** The status and the first half of the body at once, the rest after `ms` (or never: the connection is cut). */
  | { kind: 'slow-body'; ms: number }
  | { kind: 'cut-body' };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly idempotencyKey: string | undefined;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Resource {
  value: unknown;
  version: number;
}

/**
 * A real HTTP API on 127.0.0.1 for tests and the demo: records every request,
 * honours `Idempotency-Key` (a repeated key replays the stored answer with no
 * second effect), serves ETags, and injects faults on demand.
 *
 * Routes: `HEAD|GET /` (health), `POST /streams/:name` (append `body.n`),
 * `GET|PUT|PATCH|DELETE /items/:id` and `POST /items` (versioned resources with ETag
 * and If-Match), `GET /status/:code` (answers that status), `GET /text` (text/plain),
 * `GET /nostore` (Cache-Control: no-store), `GET /headers?name=value` (answers with those headers);
 * any other GET echoes its path and query.
 */
export class TestServer {
  /** @param prefix path under which the API lives, e.g. '/api'; recorded paths are relative to it. */
  constructor(readonly prefix = '') {}

  readonly requests: RecordedRequest[] = [];
  /** One entry per applied effect (replays not counted), by idempotency key. */
  readonly effects: { key: string | undefined; method: string; path: string }[] = [];
  readonly streams = new Map<string, number[]>();
  readonly items = new Map<string, Resource>();
  /** Tokens accepted when `requireAuth` is on. */
  readonly validTokens = new Set<string>();
  requireAuth = false;
  /** Writes to /items/:id without If-Match get 428 Precondition Required. */
  requireIfMatch = false;
  /** For each `slow-body` answer, how many requests had arrived when its body ended. */
  readonly bodiesEndedAt: number[] = [];
  /** Requests being handled right now, and the most seen at once. */
  inflight = 0;
  maxInflight = 0;
  #down = false;
  /** When set, each row of `GET /items` carries its ETag in this field (`"v3"`), as many REST APIs list versions. */
  rowEtagField: string | undefined;
  /**
   * CORS for pages on other origins: `'off'` (none), `'partial'` (the common
   * misconfiguration: `Access-Control-Allow-Origin` on answers, a preflight
   * that allows no method or header, nothing exposed), `'full'` (what the
   * README asks for).
   */
  cors: 'off' | 'partial' | 'full' = 'off';
  /** Preflights (OPTIONS) seen under the prefix. */
  preflights = 0;
  /** While true, every API request has its connection cut; other routes still answer (a partial outage). */
  outage = false;
  /** Requests outside `prefix` (pages, admin switches) go here; resolve true when handled. */
  onOtherRequest:
    | ((req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>)
    | undefined;
  #port = 0;
  /** Decides a fault per request; return undefined for none. */
  faultPolicy: ((req: RecordedRequest) => Fault | undefined) | undefined;
  readonly #queuedFaults: Fault[] = [];
  readonly #idempotent = new Map<string, Answer>();
  /** Keys whose first request is still being handled, and when that ends. */
  readonly #processing = new Map<string, Promise<void>>();
  /**
   * While true, a request whose key is still being handled gets a 409 in-progress
   * problem (as the Idempotency-Key draft asks) instead of waiting for the replay.
   */
  answerInProgress = false;
  /**
   * Whether the server itself honours `Idempotency-Key` (replays, holds a
   * repeat). Off, every request takes effect: for a front that deduplicates
   * (the demo puts `withIdempotency` before it).
   */
  dedupe = true;
  readonly #redirects = new Map<string, { status: number; location: string }>();
  readonly #sockets = new Set<Socket>();
  readonly #held = new Set<() => void>();
  #server: Server | undefined;
  #nextItem = 1;
  url = '';

  async start(port = 0): Promise<string> {
    this.#server = createServer((req, res) => {
      this.inflight++;
      this.maxInflight = Math.max(this.maxInflight, this.inflight);
      // A request cut while its body is read (a client gone, stop()) drops its connection:
      // it must never become an unhandled rejection in the test run.
      this.#handle(req, res)
        .catch(() => res.destroy())
        .finally(() => {
          this.inflight--;
        });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.#port}`;
    return this.url;
  }

  /** While true the port is closed and open connections are cut: the server is unreachable. */
  get down(): boolean {
    return this.#down;
  }

  set down(value: boolean) {
    if (value === this.#down || !this.#server) return;
    this.#down = value;
    if (value) {
      this.#server.close();
      this.dropConnections();
    } else {
      // Binding to an IP address happens synchronously, so the port is open when this returns.
      this.#server.listen(this.#port, '127.0.0.1');
    }
  }

  async stop(): Promise<void> {
    for (const release of this.#held) release();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  /** Where the JSON batch endpoint answers (`POST`), e.g. '/batch'; none by default (a 404). */
  batchPath: string | undefined;
  /** The statuses of each batch's sub-answers, by sub-request id, in the order the batches came. */
  readonly batches: Map<string, number>[] = [];

  /** Faults applied to the next requests, in order (before `faultPolicy`). */
  fail(...faults: Fault[]): void {
    this.#queuedFaults.push(...faults);
  }

  /** Cuts every open connection (keep-alive included), e.g. together with `down = true`. */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Changes an item behind the client's back (a concurrent edit by someone else). */
  editItem(id: string, value: unknown): void {
    const current = this.items.get(id);
    this.items.set(id, { value, version: (current?.version ?? 0) + 1 });
    this.#logChange(id);
  }

  /** Deletes an item behind the clients' backs (it shows in the change feed). */
  deleteItem(id: string): void {
    this.items.delete(id);
    this.#logChange(id);
  }

  /** Every change of an item, in order: the feed `GET /items/changes` serves. */
  readonly changeLog: LoggedChange[] = [];

  #logChange(id: string): void {
    const item = this.items.get(id);
    const seq = (this.changeLog.at(-1)?.seq ?? 0) + 1;
    this.changeLog.push(
      item
        ? { seq, id, data: { id, ...(item.value as object) }, etag: etag(item.version) }
        : { seq, id, deleted: true },
    );
  }

  /** Answers every request to `path` with a redirect (as a captive portal or a moved API would). */
  redirect(path: string, status: number, location: string): void {
    this.#redirects.set(path, { status, location });
  }

  /** Sets the CORS headers of the answer; true when the request was a preflight, now answered. */
  #corsHeaders(req: IncomingMessage, res: ServerResponse): boolean {
    res.setHeader('access-control-allow-origin', String(req.headers.origin));
    res.setHeader('vary', 'Origin');
    if (this.cors === 'full')
      res.setHeader('access-control-expose-headers', 'ETag, Last-Modified, Retry-After');
    if (req.method !== 'OPTIONS') return false;
    this.preflights++;
    if (this.cors === 'full') {
      res.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
      res.setHeader(
        'access-control-allow-headers',
        'Authorization, Content-Type, Idempotency-Key, If-Match, If-Unmodified-Since, If-None-Match',
      );
    }
    res.writeHead(204).end();
    return true;
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (!url.startsWith(this.prefix)) {
      if (!(await this.onOtherRequest?.(req, res))) send(res, json(404, { error: 'not found' }));
      return;
    }
    if (this.outage) return void req.socket.destroy();
    if (this.cors !== 'off' && req.headers.origin && this.#corsHeaders(req, res)) return;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const key = this.dedupe ? header(req, 'idempotency-key') : undefined;
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.slice(this.prefix.length) || '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      idempotencyKey: header(req, 'idempotency-key'),
    };
    this.requests.push(recorded);
    if (recorded.method === 'HEAD' && recorded.path === '/')
      return send(res, { status: 204, headers: {}, body: '' });

    const running = key ? this.#processing.get(key) : undefined;
    if (running && this.answerInProgress) {
      return send(res, {
        status: 409,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
        body: JSON.stringify({
          type: IN_PROGRESS,
          title: 'A request with this key is in progress',
        }),
      });
    }
    // A deduplicating server holds a repeat until the first is done, then replays its answer.
    if (running) await running;
    let done = () => {};
    if (key && !running)
      this.#processing.set(key, new Promise<void>((resolve) => (done = resolve)));
    try {
      await this.#answer(req, res, recorded, key);
    } finally {
      if (key && !running) this.#processing.delete(key);
      done();
    }
  }

  async #answer(
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
    key: string | undefined,
  ): Promise<void> {
    const redirect = this.#redirects.get(recorded.path);
    if (redirect)
      return send(res, {
        status: redirect.status,
        headers: { location: redirect.location },
        body: '',
      });
    const fault = this.#queuedFaults.shift() ?? this.faultPolicy?.(recorded);
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {
        ...fault.headers,
        ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
      };
      return send(res, { status: fault.status, headers, body: '' });
    }
    if (
      this.requireAuth &&
      !this.validTokens.has((header(req, 'authorization') ?? '').replace(/^Bearer /, ''))
    ) {
      return send(res, json(401, { error: 'unauthorized' }));
    }

    if (fault?.kind === 'slow-handler')
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (recorded.method === 'POST' && recorded.path === this.batchPath) {
      const answer = await runBatch((part) => this.runPart(part), parseJson(recorded.body), req);
      const parts = (parseJson(answer.body) as { responses?: { id: string; status: number }[] })
        .responses;
      this.batches.push(new Map((parts ?? []).map((r) => [r.id, r.status])));
      if (fault?.kind === 'commit-then-drop') return void req.socket.destroy();
      return send(res, answer);
    }
    const answer = this.#execute(recorded, req, key);
    if (fault?.kind === 'commit-then-drop') return void req.socket.destroy();
    if (fault?.kind === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => release(), fault.ms);
        const release = () => {
          clearTimeout(timer);
          this.#held.delete(release);
          req.socket.off('close', release);
          resolve();
        };
        this.#held.add(release);
        req.socket.once('close', release);
      });
      if (req.socket.destroyed) return;
    }
    if (fault?.kind === 'slow-body' || fault?.kind === 'cut-body') {
      const half = Math.ceil(answer.body.length / 2);
      res.writeHead(answer.status, {
        ...answer.headers,
        'content-length': String(Buffer.byteLength(answer.body)),
      });
      res.write(answer.body.slice(0, half));
      if (fault.kind === 'cut-body') return void setTimeout(() => req.socket.destroy(), 20);
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      this.bodiesEndedAt.push(this.requests.length);
      return void res.end(answer.body.slice(half));
    }
    send(res, answer);
  }

  /** Replays a key's stored answer, or routes the request and remembers what took effect. */
  #execute(recorded: RecordedRequest, req: IncomingMessage, key: string | undefined): Answer {
    const replay = key ? this.#idempotent.get(key) : undefined;
    if (replay) return { ...replay, headers: { ...replay.headers, 'idempotent-replayed': 'true' } };
    let answer: Answer;
    // A body the route cannot use is the server's 400, never a handler crash that leaves the request hanging.
    try {
      answer = this.#route(recorded, req);
    } catch {
      answer = json(400, { error: 'bad request' });
    }
    const mutating = recorded.method !== 'GET' && recorded.method !== 'HEAD';
    // Like Stripe: only requests that took effect are remembered under their key.
    if (mutating && answer.status < 400) {
      this.effects.push({
        key: recorded.idempotencyKey,
        method: recorded.method,
        path: recorded.path,
      });
      if (key) this.#idempotent.set(key, answer);
    }
    return answer;
  }

  /**
   * Runs one part of a batch in-process, as a batch endpoint runs its parts:
   * recorded, faulted, authorized and deduplicated like a request of its own;
   * a reset or a dropped connection is a 502 (after the effect, for a drop).
   */
  runPart(recorded: RecordedRequest): Answer {
    this.requests.push(recorded);
    const fault = this.#queuedFaults.shift() ?? this.faultPolicy?.(recorded);
    if (fault?.kind === 'reset') return json(502, { error: 'connection reset' });
    if (fault?.kind === 'status')
      return {
        status: fault.status,
        headers: {
          ...fault.headers,
          ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
        },
        body: '',
      };
    const req = { headers: recorded.headers } as IncomingMessage;
    if (
      this.requireAuth &&
      !this.validTokens.has((header(req, 'authorization') ?? '').replace(/^Bearer /, ''))
    )
      return json(401, { error: 'unauthorized' });
    const answer = this.#execute(recorded, req, this.dedupe ? recorded.idempotencyKey : undefined);
    return fault?.kind === 'commit-then-drop' ? json(502, { error: 'connection dropped' }) : answer;
  }

  #route(r: RecordedRequest, req: IncomingMessage): Answer {
    const url = new URL(r.path, 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    const body = parseJson(r.body);
    if (parts[0] === 'status') return json(Number(parts[1]), { status: Number(parts[1]) });
    if (parts[0] === 'streams' && parts[1] && r.method === 'POST') {
      const list = this.streams.get(parts[1]) ?? [];
      list.push((body as { n: number }).n);
      this.streams.set(parts[1], list);
      return json(201, { index: list.length - 1 });
    }
    if (parts[0] === 'text')
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'plain words' };
    if (parts[0] === 'nostore') return json(200, { secret: true }, { 'cache-control': 'no-store' });
    // Answers with the response headers its query names (`?set-cookie=a%3D1&vary=accept`), echoing Accept.
    if (parts[0] === 'headers')
      return json(
        200,
        { accept: header(req, 'accept') ?? null },
        Object.fromEntries(url.searchParams),
      );
    if (parts[0] === 'items' && parts[1] === 'changes' && r.method === 'GET')
      return serveChanges(this.changeLog, url.searchParams, header(req, 'if-none-match'));
    if (parts[0] === 'items') return this.#items(r.method, parts[1], body, req);
    if (r.method === 'GET')
      return json(200, { path: url.pathname, query: Object.fromEntries(url.searchParams) });
    return json(404, { error: 'not found' });
  }

  #items(method: string, id: string | undefined, body: unknown, req: IncomingMessage): Answer {
    if (id === undefined) {
      if (method === 'GET')
        return json(
          200,
          [...this.items].map(([itemId, r]) => ({
            id: itemId,
            ...(r.value as object),
            ...(this.rowEtagField ? { [this.rowEtagField]: etag(r.version) } : {}),
          })),
        );
      if (method !== 'POST') return json(405, { error: 'method not allowed' });
      while (this.items.has(String(this.#nextItem))) this.#nextItem++;
      const newId = String(this.#nextItem++);
      this.items.set(newId, { value: body, version: 1 });
      this.#logChange(newId);
      return json(
        201,
        { id: newId, ...(body as object) },
        { etag: etag(1), location: `/items/${newId}` },
      );
    }
    const current = this.items.get(id);
    const ifMatch = header(req, 'if-match');
    if (this.requireIfMatch && method !== 'GET' && !ifMatch)
      return json(428, { error: 'precondition required' });
    if (ifMatch && ifMatch !== '*' && (!current || ifMatch !== etag(current.version))) {
      return json(
        412,
        { error: 'precondition failed', current: current?.value ?? null },
        current ? { etag: etag(current.version) } : {},
      );
    }
    if (method === 'GET') {
      if (!current) return json(404, { error: 'not found' });
      const tag = etag(current.version);
      if (header(req, 'if-none-match') === tag)
        return { status: 304, headers: { etag: tag }, body: '' };
      return json(200, current.value, { etag: tag });
    }
    if (method === 'DELETE') {
      if (!current) return json(404, { error: 'not found' });
      this.items.delete(id);
      this.#logChange(id);
      return { status: 204, headers: {}, body: '' };
    }
    if (method === 'PUT' || method === 'PATCH') {
      if (method === 'PATCH' && !current) return json(404, { error: 'not found' });
      const value = method === 'PUT' ? body : mergePatch(current?.value, body);
      const version = (current?.version ?? 0) + 1;
      this.items.set(id, { value, version });
      this.#logChange(id);
      return json(200, value, { etag: etag(version) });
    }
    return json(405, { error: 'method not allowed' });
  }
}

/** RFC 7396, written out here so the server does not share code with the client it tests. */
function mergePatch(target: unknown, patch: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function etag(version: number): string {
  return `"v${version}"`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
