/** Retry policy. Every field has a default; see `QnoxSyncOptions.retry`. */
export interface RetryPolicy {
  /** First backoff ceiling. @default 1000 */
  readonly baseDelayMs: number;
  /** Largest backoff ceiling. @default 300000 (5 minutes) */
  readonly maxDelayMs: number;
  /** Attempts (the first included) before a write is dead-lettered. @default 10 */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  maxAttempts: 10,
};

/**
 * Capped exponential backoff with full jitter: a uniform delay in
 * [0, min(max, base * 2^(attempt-1))). `attempt` counts from 1.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
