// `qnox-offline-sync/delta`: a collection kept current from its change feed, as a plug-in.
export {
  type Change,
  type ChangeCodec,
  type ChangePage,
  jsonChangeCodec,
} from './plugins/delta/change-codec.js';
export {
  type DeltaSyncOptions,
  type DeltaSyncPlugin,
  deltaSync,
  type PullResult,
} from './plugins/delta/delta-plugin.js';
