/** What the engine does with an HTTP status. */
export type Outcome =
  | 'success'
  | 'retry'
  | 'auth'
  | 'conflict'
  | 'precondition-required'
  | 'permanent';

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** The one place statuses are classified (invariant 4 of the design). */
export function classifyStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'success';
  if (status === 401) return 'auth';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 428) return 'precondition-required';
  if (RETRYABLE.has(status)) return 'retry';
  return 'permanent';
}

/**
 * `Retry-After` as a delay in ms from `now`: delta-seconds or an HTTP-date.
 * Unparseable values are ignored (`undefined`), past dates mean "now".
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
