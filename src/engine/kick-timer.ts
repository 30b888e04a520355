import type { Clock, TimerHandle } from '../platform/clock.js';

/** The drain's one pending wake-up on the clock: setting it replaces the previous one. */
export class KickTimer {
  #timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly kick: () => void,
  ) {}

  at(time: number): void {
    this.clear();
    this.#timer = this.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.kick();
      },
      Math.max(0, time - this.clock.now()),
    );
  }

  clear(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
