export { type CollectionRule, collection } from './cache/collection.js';
export type { CollectionSpec, ListedCollection } from './cache/collections.js';
export type {
  AuthOptions,
  CacheOptions,
  DeliveryOptions,
  OptionGroups,
  PlatformOptions,
} from './client/option-groups.js';
export type {
  CacheStrategy,
  FlatOptions,
  GetOptions,
  MutationOptions,
  QnoxResponse,
  QnoxSyncOptions,
} from './client/options.js';
export { type MutationHandle, QnoxSync, type RetryEdit } from './client/qnox-sync.js';
export type { RetryPolicy } from './engine/backoff.js';
export type { SyncReport } from './engine/sync-engine.js';
export type { DrainedOptions } from './engine/until-drained.js';
export { IN_PROGRESS_PROBLEM } from './http/classify.js';
export type { FetchLike } from './http/transport.js';
export type { ConflictStrategy } from './model/conflict-types.js';
export {
  AuthError,
  CacheMissError,
  CallbackError,
  CancelledError,
  ConfigError,
  ConflictError,
  CorsError,
  type ErrorResponse,
  HttpError,
  isQnoxError,
  NetworkError,
  OriginError,
  QnoxError,
  type QnoxErrorCode,
  RedirectError,
  StorageError,
  TimeoutError,
} from './model/errors.js';
export type { SyncEvent, TaskSummary } from './model/events.js';
export {
  type AttemptError,
  type CacheRecord,
  type DeadLetterReason,
  type DeadLetterRecord,
  decodeTask,
  type MutationMethod,
  type NewTaskRecord,
  RECORD_VERSION,
  type StoredBody,
  type TaskRecord,
} from './model/records.js';
export type { PluginResponse, PluginWrite, QnoxPlugin } from './outbox/plugin-interface.js';
export { type Clock, systemClock, type TimerHandle } from './platform/clock.js';
export {
  type ConnectivityMonitor,
  defaultConnectivity,
  manualConnectivity,
} from './platform/connectivity.js';
export type { EventStream, LiveValue, Subscribable } from './status/subscribable.js';
export type { SyncPhase, SyncStatus } from './status/sync-status.js';
export type { ClearOptions, QnoxLocalStore, QuarantineReport } from './stores/local-store.js';
export { MemoryStore } from './stores/memory-store.js';
