import { describe, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { runStoreConformance } from '../src/testing/index.js';

runStoreConformance('MemoryStore', { create: () => new MemoryStore() }, { describe, it });
