import { readBody, toFetchBody } from '../model/body.js';
import {
  CancelledError,
  isQnoxError,
  NetworkError,
  RedirectError,
  TimeoutError,
} from '../model/errors.js';
import type { StoredBody } from '../model/records.js';
import type { Clock } from '../platform/clock.js';
import { isCrossOrigin } from '../platform/page-origin.js';
import type { AuthGate } from './auth.js';
import { classifyStatus } from './classify.js';
import { checkHeaders } from './headers.js';
import { assertAllowed } from './url.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A request as the engine builds it; converted to `fetch` arguments only here. */
export interface WireRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: StoredBody | undefined;
  readonly timeoutMs: number;
  /** A probe to another origin than the page's: an opaque answer proves the server is there. */
  readonly noCors?: boolean;
}

/** A response read in full; the live `Response` never leaves this file. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: StoredBody | null;
}

export interface TransportDeps {
  readonly fetch: FetchLike;
  readonly clock: Clock;
  readonly auth: AuthGate;
  readonly allowedOrigins: ReadonlySet<string>;
}

/**
 * Sends one request: origin check, auth header, timeout through the clock,
 * one refresh-and-resend on 401. Throws only {@link NetworkError},
 * {@link TimeoutError}, {@link CancelledError} or an origin error.
 */
export class Transport {
  readonly #controllers = new Set<AbortController>();
  #closed = false;

  constructor(private readonly deps: TransportDeps) {}

  /**
   * With `onSuccess`, it is called as soon as the server's status is 2xx (the
   * write took effect), before the body is read; a body lost after that point
   * reads as `null` instead of failing the request, so a 2xx status always
   * ends in a 2xx response.
   */
  async send(request: WireRequest, onSuccess?: () => void): Promise<WireResponse> {
    assertAllowed(request.url, this.deps.allowedOrigins);
    const generation = this.deps.auth.generation;
    const first = await this.#runLane(request, onSuccess);
    if (first.status !== 401 || !this.deps.auth.canRefresh) return first;
    if (!(await this.deps.auth.refresh(generation))) return first;
    return this.#runLane(request, onSuccess);
  }

  /** The auth generation now: pass it to {@link reauthorize} after a 401 to a request sent at it. */
  get authGeneration(): number {
    return this.deps.auth.generation;
  }

  /** After a 401 that `send` could not answer itself (one inside a batch): the shared refresh. */
  reauthorize(sentGeneration: number): Promise<boolean> {
    return this.deps.auth.refresh(sentGeneration);
  }

  /** True when the server answered anything at all (a connectivity probe); redirects are not followed. */
  async reach(url: string, timeoutMs: number): Promise<boolean> {
    try {
      // Cross-origin, a CORS-less API must still count as reachable (a refused write is then CORS).
      const noCors = isCrossOrigin(url);
      await this.#runLane(
        { method: 'HEAD', url, headers: {}, timeoutMs, noCors },
        undefined,
        false,
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Aborts every request in flight with a {@link CancelledError}; later sends fail the same way. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#controllers) controller.abort();
  }

  async #runLane(
    request: WireRequest,
    onSuccess?: () => void,
    follow = true,
  ): Promise<WireResponse> {
    if (this.#closed) throw new CancelledError('Client disposed');
    // Checked at the call already; a stored record may still have been damaged since.
    const headers = checkHeaders(request.headers);
    // A probe only asks whether the server answers; a caller's own Authorization (a GET) wins.
    if (follow && !hasHeader(headers, 'authorization')) {
      const pending = this.deps.auth.header();
      const authorization = pending === undefined ? undefined : await pending;
      if (authorization) headers.authorization = authorization;
    }
    const { body, contentType } = toFetchBody(request.body);
    if (contentType && !hasHeader(headers, 'content-type')) headers['content-type'] = contentType;

    const controller = new AbortController();
    let timedOut = false;
    const timer = this.deps.clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, request.timeoutMs);
    this.#controllers.add(controller);
    try {
      // Redirects are never left to fetch: each hop is checked here before anything goes out.
      const init: RequestInit = {
        method: request.method,
        headers,
        signal: controller.signal,
        // No-cors fetches must follow redirects; a probe reads nothing of what it gets.
        redirect: request.noCors ? 'follow' : 'manual',
      };
      if (request.noCors) init.mode = 'no-cors';
      if (body !== undefined) init.body = body;
      let url = request.url;
      let response: Response;
      for (let hop = 0; ; hop++) {
        response = await this.deps.fetch(url, init);
        if (!follow || !isRedirect(response)) break;
        url = nextHop(request.method, url, response, hop);
        await response.body?.cancel().catch(() => {});
      }
      const answer = { status: response.status, headers: headersOf(response.headers) };
      if (onSuccess && classifyStatus(response.status) === 'success') {
        onSuccess();
        return { ...answer, body: await readBody(response).catch(() => null) };
      }
      return { ...answer, body: await readBody(response) };
    } catch (error) {
      if (timedOut) throw new TimeoutError(request.timeoutMs);
      if (this.#closed) throw new CancelledError('Client disposed');
      if (isQnoxError(error) && error.code === 'redirect') throw error;
      throw new NetworkError(`Request to ${request.url} failed`, { cause: error });
    } finally {
      this.deps.clock.clearTimeout(timer);
      this.#controllers.delete(controller);
    }
  }
}

const MAX_HOPS = 5;

function isRedirect(response: Response): boolean {
  return (
    response.type === 'opaqueredirect' ||
    (response.status >= 300 && response.status < 400 && response.status !== 304)
  );
}

/**
 * The URL of the next hop, or a {@link RedirectError}: only a same-origin hop
 * is followed, a write only when it keeps its method and body (307, 308), and
 * at most {@link MAX_HOPS} of them. A browser hides the target of a manual
 * redirect (`opaqueredirect`), so there no redirect can be followed safely.
 */
function nextHop(method: string, url: string, response: Response, hop: number): string {
  const { status } = response;
  const location = response.headers.get('location') ?? undefined;
  if (response.type === 'opaqueredirect' || location === undefined)
    throw new RedirectError(status, undefined, 'its target cannot be read');
  let target: URL;
  try {
    target = new URL(location, url);
  } catch {
    throw new RedirectError(status, location, 'its target is not a URL');
  }
  if (target.origin !== new URL(url).origin)
    throw new RedirectError(status, target.href, 'it leads to another origin');
  const keepsMethod = status === 307 || status === 308;
  if (!keepsMethod && method !== 'GET' && method !== 'HEAD')
    throw new RedirectError(status, target.href, `it would turn the ${method} into a GET`);
  if (!keepsMethod && status !== 301 && status !== 302 && status !== 303)
    throw new RedirectError(status, target.href, 'the status is not a redirect to follow');
  if (hop + 1 >= MAX_HOPS) throw new RedirectError(status, target.href, 'too many redirects');
  target.hash = '';
  return target.href;
}

function headersOf(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

export function hasHeader(headers: Readonly<Record<string, string>>, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((key) => key.toLowerCase() === lower);
}
