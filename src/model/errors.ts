/**
 * Every error the library raises is a {@link QnoxError} with a literal `code`,
 * so callers can branch on `err.code` without `instanceof` (which fails across
 * realms, e.g. between a page and a service worker bundle).
 */
export type QnoxErrorCode =
  | 'network'
  | 'timeout'
  | 'http'
  | 'auth'
  | 'conflict'
  | 'storage'
  | 'config'
  | 'origin'
  | 'cache-miss'
  | 'cancelled'
  | 'redirect'
  | 'cors'
  | 'callback';

export class QnoxError extends Error {
  readonly code: QnoxErrorCode;

  constructor(code: QnoxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'QnoxError';
  }
}

/** Minimal view of a response kept on errors: never the live `Response`. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: unknown;
}

/** The request never got an HTTP answer: DNS, refused, reset, offline. */
export class NetworkError extends QnoxError {
  declare readonly code: 'network';
  constructor(message: string, options?: { cause?: unknown }) {
    super('network', message, options);
    this.name = 'NetworkError';
  }
}

/** No answer within `timeoutMs`; the server may still have acted on it. */
export class TimeoutError extends QnoxError {
  declare readonly code: 'timeout';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('timeout', `Request timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The server answered with a status the caller must see as a failure. */
export class HttpError extends QnoxError {
  declare readonly code: 'http';
  readonly response: ErrorResponse;
  constructor(response: ErrorResponse, message?: string) {
    super('http', message ?? `Request failed with status ${response.status}`);
    this.name = 'HttpError';
    this.response = response;
  }
}

/** Authentication failed and could not be refreshed; delivery is paused. */
export class AuthError extends QnoxError {
  declare readonly code: 'auth';
  constructor(message: string, options?: { cause?: unknown }) {
    super('auth', message, options);
    this.name = 'AuthError';
  }
}

/** The server rejected a write because the resource changed (409/412). */
export class ConflictError extends QnoxError {
  declare readonly code: 'conflict';
  readonly response: ErrorResponse;
  constructor(response: ErrorResponse, message?: string) {
    super('conflict', message ?? `Conflict (status ${response.status})`);
    this.name = 'ConflictError';
    this.response = response;
  }
}

/** The store failed to read or write, or a record could not be decoded. */
export class StorageError extends QnoxError {
  declare readonly code: 'storage';
  constructor(message: string, options?: { cause?: unknown }) {
    super('storage', message, options);
    this.name = 'StorageError';
  }
}

/** An option passed to `QnoxSync.create` (or a call) is invalid. */
export class ConfigError extends QnoxError {
  declare readonly code: 'config';
  readonly option: string;
  constructor(option: string, message: string) {
    super('config', `Invalid option "${option}": ${message}`);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/** A URL pointed outside `baseUrl`'s origin and the allow-list; nothing was sent. */
export class OriginError extends QnoxError {
  declare readonly code: 'origin';
  readonly url: string;
  constructor(url: string) {
    super('origin', `Refusing to send to ${url}: origin is not allowed`);
    this.name = 'OriginError';
    this.url = url;
  }
}

/**
 * The server answered with a redirect the library will not follow: to an origin
 * outside the allow-list (a captive portal, a moved API), one a browser hides
 * (`opaqueredirect`), a write redirected with a method change, or too many hops.
 * Nothing was sent to the redirect's target, and a redirect is never a delivery.
 */
export class RedirectError extends QnoxError {
  declare readonly code: 'redirect';
  readonly status: number;
  /** Where the server pointed, when it could be read. */
  readonly location: string | undefined;
  constructor(status: number, location: string | undefined, why: string) {
    super(
      'redirect',
      `Redirect ${status}${location ? ` to ${location}` : ''} not followed: ${why}`,
    );
    this.name = 'RedirectError';
    this.status = status;
    this.location = location;
  }
}

/**
 * A request to another origin failed before any answer while the server was
 * reachable: almost always CORS (the browser refused the preflight or hid the
 * answer). The message says what the API must allow and expose.
 */
export class CorsError extends QnoxError {
  declare readonly code: 'cors';
  readonly url: string;
  constructor(url: string, pageOrigin: string, options?: { cause?: unknown }) {
    super(
      'cors',
      `Request to ${url} from ${pageOrigin} failed before any answer while the server is reachable: likely CORS. ` +
        'The API must allow the methods POST, PUT, PATCH, DELETE and the headers Authorization, Content-Type, ' +
        'Idempotency-Key, If-Match, If-Unmodified-Since, and expose ETag, Last-Modified, Retry-After',
      options,
    );
    this.name = 'CorsError';
    this.url = url;
  }
}

/** A `cacheOnly` read found nothing cached. */
export class CacheMissError extends QnoxError {
  declare readonly code: 'cache-miss';
  constructor(key: string) {
    super('cache-miss', `No cached response for ${key}`);
    this.name = 'CacheMissError';
  }
}

/** The write was withdrawn (discarded, cleared) or its client disposed before it settled. */
export class CancelledError extends QnoxError {
  declare readonly code: 'cancelled';
  constructor(message: string) {
    super('cancelled', message);
    this.name = 'CancelledError';
  }
}

/**
 * An app callback (`cacheScope`, `invalidates`, `conflictDetector`, `merge`, a
 * conflict resolver) threw; `callback` names it, `cause` is what it threw. It
 * fails only the call or write concerned; the engine keeps going.
 */
export class CallbackError extends QnoxError {
  declare readonly code: 'callback';
  readonly callback: string;
  constructor(callback: string, cause: unknown) {
    super('callback', `The ${callback} callback threw: ${String(cause)}`, { cause });
    this.name = 'CallbackError';
    this.callback = callback;
  }
}

/** `fn`, with whatever it throws (or rejects with) turned into a {@link CallbackError}. */
export function guarded<A extends unknown[], R>(
  callback: string,
  fn: (...args: A) => R,
): (...args: A) => R {
  return (...args) => {
    try {
      const out = fn(...args);
      if (out instanceof Promise)
        return out.catch((cause: unknown) => {
          throw new CallbackError(callback, cause);
        }) as R;
      return out;
    } catch (cause) {
      throw new CallbackError(callback, cause);
    }
  };
}

/** Runs a store call; anything but a library error it throws becomes a {@link StorageError} saying what failed. */
export async function storeCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isQnoxError(error)) throw error;
    throw new StorageError(`Could not ${what}`, { cause: error });
  }
}

/** True for any library error, also one thrown in another realm. */
export function isQnoxError(value: unknown): value is QnoxError {
  return (
    value instanceof QnoxError ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { code?: unknown }).code === 'string' &&
      typeof (value as { name?: unknown }).name === 'string' &&
      (value as { message?: unknown }).message !== undefined &&
      ERROR_CODES.has((value as { code: string }).code))
  );
}

const ERROR_CODES = new Set<string>([
  'network',
  'timeout',
  'http',
  'auth',
  'conflict',
  'storage',
  'config',
  'origin',
  'cache-miss',
  'cancelled',
  'redirect',
  'cors',
  'callback',
]);
