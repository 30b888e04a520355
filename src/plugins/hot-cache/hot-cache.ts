import type { CacheRecord } from '../../model/records.js';

type Invalidation = { readonly key: string } | { readonly all: true };

/**
 * The most recently used cache records of one store, and the keys known to
 * have none, kept in memory so a hot read costs no I/O. Other contexts sharing
 * the store (tabs, a service worker) say over the BroadcastChannel
 * `channelName` which keys they changed; a read that raced such a change is
 * not kept. Without `channelName`, no other context writes the store.
 */
export class HotCache {
  /** Records as JSON (they are JSON-safe): parsing a fresh copy is cheaper than cloning one. */
  readonly #entries = new Map<string, string | null>();
  #generation = 0;
  #channel: BroadcastChannel | undefined;

  constructor(
    private readonly limit: number,
    channelName?: string,
  ) {
    const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
    if (limit <= 0 || !Channel || channelName === undefined) return;
    this.#channel = new Channel(channelName);
    this.#channel.onmessage = (event: MessageEvent<Invalidation>) => this.#drop(event.data);
    // A store left open must not keep a Node process alive.
    (this.#channel as { unref?: () => void }).unref?.();
  }

  /** Reads through `load` unless held; keeps the answer unless the key changed meanwhile. */
  read(
    key: string,
    load: () => Promise<CacheRecord | undefined>,
  ): Promise<CacheRecord | undefined> {
    const held = this.#entries.get(key);
    if (held === undefined) return this.#load(key, load);
    this.#entries.delete(key);
    this.#entries.set(key, held);
    return Promise.resolve(held === null ? undefined : (JSON.parse(held) as CacheRecord));
  }

  /** Around a write of `key` (or of everything): nothing stale is served meanwhile or kept after. */
  async write<R>(key: string | null, run: () => Promise<R>, after?: CacheRecord): Promise<R> {
    const change: Invalidation = key === null ? { all: true } : { key };
    this.#drop(change);
    let done = false;
    try {
      const result = await run();
      done = true;
      return result;
    } finally {
      // Again after: a read that started during the write must not keep what it saw.
      this.#drop(change);
      this.#channel?.postMessage(change);
      if (done && after && key !== null) this.#keep(key, JSON.stringify(after));
    }
  }

  close(): void {
    this.#channel?.close();
    this.#channel = undefined;
    this.#entries.clear();
  }

  async #load(
    key: string,
    load: () => Promise<CacheRecord | undefined>,
  ): Promise<CacheRecord | undefined> {
    const generation = this.#generation;
    const loaded = await load();
    if (generation === this.#generation) this.#keep(key, loaded ? JSON.stringify(loaded) : null);
    return loaded;
  }

  #keep(key: string, value: string | null): void {
    if (this.limit <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  #drop(change: Invalidation): void {
    this.#generation++;
    if ('all' in change) this.#entries.clear();
    else this.#entries.delete(change.key);
  }
}
