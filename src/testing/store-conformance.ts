import type { QnoxLocalStore } from '../stores/local-store.js';
import { cases } from './conformance-cases.js';

export { sampleTask } from './conformance-cases.js';

/** How the suite gets stores to test. */
export interface StoreFactory {
  /** A new, empty, not yet initialised store. */
  create(): QnoxLocalStore | Promise<QnoxLocalStore>;
  /** For durable stores: closes `store` and opens the same data again. Omit for in-memory stores. */
  reopen?(store: QnoxLocalStore): Promise<QnoxLocalStore>;
  /** For stores that serialise: overwrite the stored task `id` with undecodable data. */
  corrupt?(store: QnoxLocalStore, id: string): Promise<void>;
}

/** The two functions of any test runner the suite needs (vitest, jest, mocha, node:test). */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
}

/**
 * Registers the conformance suite with your test runner. Every store shipped
 * with the library passes it unchanged; yours should too.
 *
 * @example
 * import { describe, it } from 'vitest';
 * import { runStoreConformance } from 'qnox-offline-sync/testing';
 * runStoreConformance('MyStore', { create: () => new MyStore() }, { describe, it });
 */
export function runStoreConformance(name: string, factory: StoreFactory, runner: TestRunner): void {
  runner.describe(`${name} conforms to QnoxLocalStore`, () => {
    for (const c of cases) {
      if (c.needs && !factory[c.needs]) continue;
      runner.it(c.name, async () => {
        const store = await factory.create();
        await store.init();
        let last: QnoxLocalStore = store;
        try {
          last = (await c.run(store, factory)) ?? store;
        } finally {
          await last.close();
        }
      });
    }
  });
}
