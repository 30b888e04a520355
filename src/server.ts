// `qnox-offline-sync/server`: the server half (Node 20+, or wherever the Fetch API runs).

export { BATCH_PROBLEM, type BatchHandlerOptions, batchHandler } from './server/batch-handler.js';
export { type ChangesFeedOptions, changesFeed, type FeedPage } from './server/changes-feed.js';
export { idempotencyMiddleware } from './server/connect-middleware.js';
export { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, cors } from './server/cors.js';
export { PROBLEMS, parseKey } from './server/idempotency-key.js';
export {
  type BeginResult,
  type IdempotencyStore,
  memoryIdempotencyStore,
  type StoredResponse,
} from './server/idempotency-store.js';
export { toNodeListener } from './server/node-listener.js';
export {
  type PgQueryable,
  type PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
  postgresIdempotencyStore,
} from './server/postgres-store.js';
export { checkPreconditions, etagOf } from './server/preconditions.js';
export {
  type RedisClientLike,
  type RedisIdempotencyStoreOptions,
  redisIdempotencyStore,
} from './server/redis-store.js';
export { type HeldKey, heldKeyOf } from './server/stored-response.js';
export {
  type FetchHandler,
  type IdempotencyOptions,
  withIdempotency,
} from './server/with-idempotency.js';
