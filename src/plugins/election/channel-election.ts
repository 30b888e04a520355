import { type Clock, systemClock, type TimerHandle } from '../../platform/clock.js';
import { onPageInactive } from '../../platform/page-lifecycle.js';

/** How often a leader says so, how long its word holds, how long a claim waits for rivals. */
const HEARTBEAT_MS = 1_000;
const LEASE_MS = 5_000;
const CLAIM_MS = 300;

type Message =
  | { readonly t: 'claim'; readonly id: string }
  | { readonly t: 'lead'; readonly id: string }
  | { readonly t: 'bye'; readonly id: string };

/**
 * Leader election over a BroadcastChannel, for platforms without Web Locks.
 * The leader repeats itself every second; a context that has heard no leader
 * for five seconds claims, and wins unless a leader answers or a rival with a
 * lower id claims within 300 ms (room for a busy leader to answer). Two leaders that hear each other keep the
 * lower id. A leader that closes says goodbye; one that is frozen goes quiet
 * and loses its lease. Leadership is best effort (a race can briefly yield two
 * senders); idempotency keys keep every effect single regardless.
 */
export class ChannelElection {
  readonly #id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  #leading = false;
  /** Until when another context's leadership holds, as far as we heard. */
  #otherUntil = 0;
  #claim: { lost: boolean; settled: Promise<boolean> } | undefined;
  #heartbeat: TimerHandle | undefined;
  #unwatch: (() => void) | undefined;

  constructor(
    private readonly channel: BroadcastChannel,
    private readonly clock: Clock = systemClock,
  ) {
    channel.onmessage = (event: MessageEvent<Message>) => this.#hear(event.data);
    (channel as { unref?: () => void }).unref?.();
  }

  get held(): boolean {
    return this.#leading;
  }

  acquire(): Promise<boolean> {
    if (this.#leading) return Promise.resolve(true);
    if (this.clock.now() < this.#otherUntil) return Promise.resolve(false);
    this.#claim ??= this.#startClaim();
    return this.#claim.settled;
  }

  #startClaim(): { lost: boolean; settled: Promise<boolean> } {
    const claim = { lost: false, settled: Promise.resolve(false) };
    claim.settled = new Promise<boolean>((resolve) => {
      this.clock.setTimeout(() => {
        this.#claim = undefined;
        if (!claim.lost && this.clock.now() >= this.#otherUntil) this.#lead();
        resolve(this.#leading);
      }, CLAIM_MS);
    });
    this.#post({ t: 'claim', id: this.#id });
    return claim;
  }

  release(): void {
    if (this.#leading) this.#post({ t: 'bye', id: this.#id });
    this.#stepDown();
  }

  /** Stops taking part; a leader hands over first. */
  close(): void {
    this.release();
    this.channel.close();
  }

  #lead(): void {
    this.#leading = true;
    this.#post({ t: 'lead', id: this.#id });
    this.#beat();
    this.#unwatch = onPageInactive(() => this.release());
  }

  /** Says so again every {@link HEARTBEAT_MS} while leading (on the clock, so tests need not wait). */
  #beat(): void {
    this.#heartbeat = this.clock.setTimeout(() => {
      if (!this.#leading) return;
      this.#post({ t: 'lead', id: this.#id });
      this.#beat();
    }, HEARTBEAT_MS);
  }

  #stepDown(): void {
    this.#leading = false;
    if (this.#heartbeat !== undefined) this.clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  #hear(message: Message): void {
    if (message.id === this.#id) return;
    switch (message.t) {
      case 'claim':
        // A leader answers at once; a rival claim with a lower id wins over ours.
        if (this.#leading) this.#post({ t: 'lead', id: this.#id });
        else if (this.#claim && message.id < this.#id) this.#claim.lost = true;
        return;
      case 'lead':
        if (this.#leading && this.#id < message.id) {
          this.#post({ t: 'lead', id: this.#id });
          return;
        }
        if (this.#leading) this.#stepDown();
        if (this.#claim) this.#claim.lost = true;
        this.#otherUntil = this.clock.now() + LEASE_MS;
        return;
      case 'bye':
        this.#otherUntil = 0;
        return;
    }
  }

  #post(message: Message): void {
    try {
      this.channel.postMessage(message);
    } catch {
      // A closed channel: this context is going away anyway.
    }
  }
}
