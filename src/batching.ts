// `qnox-offline-sync/batching`: many queued writes in one request, as a plug-in.
export {
  type BatchCodec,
  type BatchSubRequest,
  type BatchSubResponse,
  jsonBatchCodec,
} from './plugins/batching/batch-codec.js';
export { type BatchingOptions, batching } from './plugins/batching/batching-plugin.js';
