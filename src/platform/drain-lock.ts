import type { Clock } from './clock.js';
import { onPageInactive } from './page-lifecycle.js';

/** Who drains a database shared by tabs and workers. */
export interface DrainLock {
  /** True when this context may drain now; never waits for another holder. */
  acquire(): Promise<boolean>;
  /** Lets another context take over. */
  release(): void;
  /** Releases and stops taking part (the store closes). */
  close(): void;
  /** Whether this context holds it now (it can be lost: a frozen page lets go). */
  readonly held: boolean;
}

/** What stands in for Web Locks where the platform has none (the `channelElection()` plug-in). */
export type DrainLockFallback = (name: string, clock: Clock) => DrainLock | undefined;

/**
 * The lock named `name`: a Web Lock where the platform has them, else what
 * `fallback` gives, else none (every context drains; idempotency keys keep
 * effects single).
 */
export function drainLock(name: string, clock: Clock, fallback?: DrainLockFallback): DrainLock {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks) return new WebLock(locks, name);
  return (
    fallback?.(name, clock) ?? {
      acquire: () => Promise.resolve(true),
      release: () => {},
      close: () => {},
      held: true,
    }
  );
}

/**
 * A Web Lock taken without waiting and held until `release()`, the context
 * ends, or the page is frozen (a frozen tab would otherwise keep it while
 * sending nothing).
 */
class WebLock implements DrainLock {
  #release: (() => void) | undefined;
  #unwatch: (() => void) | undefined;

  constructor(
    private readonly locks: LockManager,
    private readonly name: string,
  ) {}

  get held(): boolean {
    return this.#release !== undefined;
  }

  acquire(): Promise<boolean> {
    if (this.#release) return Promise.resolve(true);
    return new Promise((resolve) => {
      void this.locks
        .request(this.name, { ifAvailable: true }, (lock) => {
          if (!lock) return resolve(false);
          resolve(true);
          return new Promise<void>((release) => {
            this.#release = release;
            this.#unwatch = onPageInactive(() => this.release());
          });
        })
        .catch(() => resolve(false));
    });
  }

  release(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#release?.();
    this.#release = undefined;
  }

  close(): void {
    this.release();
  }
}
