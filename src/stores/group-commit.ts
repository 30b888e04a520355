/**
 * Gathers calls into batches, one batch in flight at a time: calls made while a
 * batch commits go together in the next one. Each call settles with its batch.
 *
 * With `lingerMs`, a batch that starts soon after the previous one (a stream
 * of calls, such as a drain's removals) waits that long for more calls first:
 * fewer, larger transactions while busy, no added wait for a call after a lull.
 */
export class GroupCommit<I, O> {
  #waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #busy = false;
  #lastFlush = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly commit: (items: I[]) => Promise<O[]>,
    private readonly lingerMs = 0,
  ) {}

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#busy) return;
      this.#busy = true;
      const streaming = Date.now() - this.#lastFlush < this.lingerMs * 4;
      if (streaming) setTimeout(() => void this.#flush(), this.lingerMs);
      else queueMicrotask(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    this.#lastFlush = Date.now();
    const batch = this.#waiting;
    this.#waiting = [];
    try {
      const out = await this.commit(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(out[i]!);
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
    if (this.#waiting.length > 0) void this.#flush();
    else this.#busy = false;
  }
}
