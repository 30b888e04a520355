// `qnox-offline-sync/server`: the server half (Node 20+, or wherever the Fetch API runs).
export { PROBLEMS, parseKey } from './server/idempotency-key.js';
export {
  type BeginResult,
  type IdempotencyStore,
  memoryIdempotencyStore,
  type StoredResponse,
} from './server/idempotency-store.js';
export { toNodeListener } from './server/node-listener.js';
export {
  type FetchHandler,
  type IdempotencyOptions,
  withIdempotency,
} from './server/with-idempotency.js';
