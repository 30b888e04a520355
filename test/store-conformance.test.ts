import { describe, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { MinimalStore, runStoreConformance } from '../src/testing/index.js';

runStoreConformance('MemoryStore', { create: () => new MemoryStore() }, { describe, it });
runStoreConformance(
  'MinimalStore (required members only)',
  { create: () => new MinimalStore(), reopen: async (s) => (s as MinimalStore).reopen() },
  { describe, it },
);
