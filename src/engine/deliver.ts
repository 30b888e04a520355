import { classifyStatus, isInProgress, parseRetryAfter } from '../http/classify.js';
import type { Transport, WireResponse } from '../http/transport.js';
import { bodyData } from '../model/body.js';
import {
  AuthError,
  ConflictError,
  type ErrorResponse,
  HttpError,
  isQnoxError,
  NetworkError,
  OriginError,
  type QnoxError,
  StorageError,
} from '../model/errors.js';
import type { TaskRecord } from '../model/records.js';

/** What one delivery attempt of a task came to. */
export type Verdict =
  | { readonly kind: 'delivered'; readonly response: WireResponse }
  | { readonly kind: 'retry'; readonly error: QnoxError; readonly retryAfterMs?: number }
  /** Retry later without charging an attempt: the server is still processing this very key. */
  | { readonly kind: 'in-progress'; readonly error: HttpError; readonly retryAfterMs?: number }
  | { readonly kind: 'unreachable'; readonly error: NetworkError }
  | { readonly kind: 'auth'; readonly error: AuthError }
  | { readonly kind: 'conflict'; readonly error: ConflictError }
  | { readonly kind: 'precondition'; readonly error: HttpError }
  | { readonly kind: 'permanent'; readonly error: HttpError | OriginError }
  | { readonly kind: 'cancelled'; readonly error: QnoxError }
  /** The task itself cannot be sent (a damaged record: its URL or headers are unusable). */
  | { readonly kind: 'damaged'; readonly error: StorageError };

/**
 * Sends a task once, with its idempotency key, and classifies the answer.
 * `onDelivered` is called at a 2xx status, before the body is read: the
 * verdict is then `delivered` whatever happens to the body.
 */
export async function deliver(
  transport: Transport,
  task: TaskRecord,
  defaultTimeoutMs: number,
  now: () => number,
  onDelivered?: () => void,
): Promise<Verdict> {
  let response: WireResponse;
  try {
    response = await transport.send(
      {
        method: task.method,
        url: task.url,
        headers: { ...task.headers, 'idempotency-key': task.idempotencyKey },
        body: task.body,
        timeoutMs: task.timeoutMs ?? defaultTimeoutMs,
      },
      onDelivered,
    );
  } catch (error) {
    return sendFailure(task, error);
  }
  return classifyAnswer(task, response, now);
}

/** What a send that got no HTTP answer means for the write (a network error, a timeout, a redirect…). */
export function sendFailure(task: TaskRecord, error: unknown): Verdict {
  if (error instanceof NetworkError) return { kind: 'unreachable', error };
  // The allow-list changed since this write was queued: it must never go out.
  if (error instanceof OriginError) return { kind: 'permanent', error };
  // A redirect is never a delivery: a captive portal passes, so the write is retried;
  // so is a write whose token could not be had (the provider threw).
  if (
    isQnoxError(error) &&
    (error.code === 'timeout' || error.code === 'redirect' || error.code === 'auth')
  )
    return { kind: 'retry', error };
  if (isQnoxError(error) && error.code === 'cancelled') return { kind: 'cancelled', error };
  return {
    kind: 'damaged',
    error: new StorageError(`Write ${task.id} cannot be sent: its record is damaged`, {
      cause: error,
    }),
  };
}

/** Classifies one answer to a write: the same rules for a single send and a batch's sub-response. */
export function classifyAnswer(
  task: TaskRecord,
  response: WireResponse,
  now: () => number,
): Verdict {
  const view = toErrorResponse(response);
  // The same key is still being processed (another sender's request, or our own timed-out one): wait, never a conflict.
  if (isInProgress(response.status, response.headers, view.data)) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now());
    const error = new HttpError(
      view,
      'The server is still processing this write (409 in progress)',
    );
    return retryAfterMs === undefined
      ? { kind: 'in-progress', error }
      : { kind: 'in-progress', error, retryAfterMs };
  }
  switch (classifyStatus(response.status)) {
    case 'success':
      return { kind: 'delivered', response };
    case 'retry': {
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now());
      const error = new HttpError(view);
      return retryAfterMs === undefined
        ? { kind: 'retry', error }
        : { kind: 'retry', error, retryAfterMs };
    }
    case 'auth':
      return {
        kind: 'auth',
        error: new AuthError(`Server answered 401 to ${task.method} ${task.url}`),
      };
    case 'conflict':
      return { kind: 'conflict', error: new ConflictError(view) };
    case 'precondition-required':
      return { kind: 'precondition', error: new HttpError(view) };
    default:
      return { kind: 'permanent', error: new HttpError(view) };
  }
}

export function toErrorResponse(response: WireResponse): ErrorResponse {
  return { status: response.status, headers: response.headers, data: bodyData(response.body) };
}
