export { ManualClock } from './manual-clock.js';
export {
  runStoreConformance,
  type StoreFactory,
  sampleTask,
  type TestRunner,
} from './store-conformance.js';
