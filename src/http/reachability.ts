import type { Clock, TimerHandle } from '../platform/clock.js';
import type { ConnectivityMonitor } from '../platform/connectivity.js';

export interface ReachabilityDeps {
  readonly monitor: ConnectivityMonitor;
  readonly clock: Clock;
  /** Resolves true when the server answered anything at all. */
  readonly probe: () => Promise<boolean>;
  readonly probeDelayMs: number;
  readonly probeMaxDelayMs: number;
  readonly onChange: (state: { online: boolean; checking: boolean }) => void;
}

/**
 * Online means the platform says so and the server was reachable last time we
 * looked. A network failure triggers one probe (shared by every caller); while
 * it fails, probes repeat with capped exponential backoff on the clock.
 */
export class Reachability {
  #platformOnline: boolean;
  #reachable = true;
  #checking: Promise<boolean> | undefined;
  #probing = false;
  #timer: TimerHandle | undefined;
  #probeAttempt = 0;
  #disposed = false;
  readonly #unsubscribe: () => void;

  constructor(private readonly deps: ReachabilityDeps) {
    this.#platformOnline = deps.monitor.isOnline();
    this.#unsubscribe = deps.monitor.subscribe((online) => {
      this.#platformOnline = online;
      if (online) {
        this.#reachable = true;
        this.#clearTimer();
      }
      this.#publish();
    });
  }

  get online(): boolean {
    return this.#platformOnline && this.#reachable;
  }

  get checking(): boolean {
    return this.#probing;
  }

  /** A request got through: the server is reachable. */
  reportSuccess(): void {
    if (this.#reachable) return;
    this.#reachable = true;
    this.#probeAttempt = 0;
    this.#clearTimer();
    this.#publish();
  }

  /** A request failed without an answer: is the server reachable right now? */
  confirm(): Promise<boolean> {
    if (!this.#platformOnline || this.#disposed) return Promise.resolve(false);
    this.#checking ??= this.#runProbe();
    return this.#checking;
  }

  /**
   * Looks again now, whatever the backoff says: re-reads the platform's
   * online flag and probes the server (when the platform vouches for the
   * network, e.g. a Background Sync event).
   */
  recheck(): Promise<boolean> {
    this.#platformOnline = this.deps.monitor.isOnline();
    if (this.online) return Promise.resolve(true);
    this.#clearTimer();
    return this.confirm();
  }

  dispose(): void {
    this.#disposed = true;
    this.#unsubscribe();
    this.#clearTimer();
  }

  async #runProbe(): Promise<boolean> {
    this.#probing = true;
    this.#publish();
    let ok = false;
    try {
      ok = await this.deps.probe();
    } catch {
      ok = false;
    }
    this.#checking = undefined;
    this.#probing = false;
    this.#reachable = ok;
    if (ok) {
      this.#probeAttempt = 0;
    } else {
      this.#scheduleProbe();
    }
    this.#publish();
    return ok;
  }

  #scheduleProbe(): void {
    this.#clearTimer();
    // A probe that was in flight at dispose() must not start the next one.
    if (this.#disposed) return;
    const delay = Math.min(
      this.deps.probeMaxDelayMs,
      this.deps.probeDelayMs * 2 ** this.#probeAttempt,
    );
    this.#probeAttempt++;
    this.#timer = this.deps.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.confirm();
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #publish(): void {
    this.deps.onChange({ online: this.online, checking: this.checking });
  }
}
