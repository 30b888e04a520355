/** A Web Lock taken without waiting and held until `release()` (or the page goes away). */
export class WebLock {
  #release: (() => void) | undefined;

  constructor(private readonly name: string) {}

  /** True when this context holds the lock; also true where Web Locks do not exist. */
  acquire(): Promise<boolean> {
    if (this.#release) return Promise.resolve(true);
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (!locks) return Promise.resolve(true);
    return new Promise((resolve) => {
      void locks
        .request(this.name, { ifAvailable: true }, (lock) => {
          if (!lock) return resolve(false);
          resolve(true);
          return new Promise<void>((release) => {
            this.#release = release;
          });
        })
        .catch(() => resolve(false));
    });
  }

  release(): void {
    this.#release?.();
    this.#release = undefined;
  }
}
