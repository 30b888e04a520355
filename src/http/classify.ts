/** What the engine does with an HTTP status. */
export type StatusClass =
  | 'success'
  | 'retry'
  | 'auth'
  | 'conflict'
  | 'precondition-required'
  | 'permanent';

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** The one place statuses are classified (invariant 4 of the design). */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'success';
  if (status === 401) return 'auth';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 428) return 'precondition-required';
  if (RETRYABLE.has(status)) return 'retry';
  return 'permanent';
}

/**
 * `Retry-After` as a delay in ms from `now`: delta-seconds or an HTTP-date.
 * Anything else (fractions, signs, bare numbers Date.parse would take for a
 * year) is ignored (`undefined`); past dates mean "now". The result is finite;
 * the engine caps it by `retry.maxDelayMs`.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000;
    return Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER;
  }
  // An HTTP-date always names its day or month; a bare number here is not one.
  if (!/^[a-z]{3}/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The problem `type` an Idempotency-Key server (this package's server half among
 * them) answers with, as a 409, while a request with the same key is still
 * being processed: retry later, it is no conflict.
 */
export const IN_PROGRESS_PROBLEM = 'urn:qnox-offline-sync:problem:idempotency-key-in-progress';

/**
 * A 409 that says "this key is still being processed" (the in-progress problem
 * type, or any 409 carrying `Retry-After`) rather than "the resource changed".
 */
export function isInProgress(
  status: number,
  headers: Readonly<Record<string, string>>,
  data: unknown,
): boolean {
  if (status !== 409) return false;
  if (headers['retry-after'] !== undefined) return true;
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === IN_PROGRESS_PROBLEM
  );
}
