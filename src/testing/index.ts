export { ManualClock } from './manual-clock.js';
export { MinimalStore } from './minimal-store.js';
export {
  runStoreConformance,
  type StoreFactory,
  sampleTask,
  type TestRunner,
} from './store-conformance.js';
