/**
 * Gathers calls into batches, one batch in flight at a time: calls made while a
 * batch commits go together in the next one. Each call settles with its batch.
 */
export class GroupCommit<I, O> {
  #waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #busy = false;

  constructor(private readonly commit: (items: I[]) => Promise<O[]>) {}

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#busy) {
        this.#busy = true;
        queueMicrotask(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
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
