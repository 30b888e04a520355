// `qnox-offline-sync/conflicts`: conflict strategies and the three-way JSON merge, as a plug-in.
export type {
  ConflictContext,
  ConflictDecision,
  ConflictDetector,
  ConflictResolver,
  ConflictStrategy,
} from './model/conflict-types.js';
export { type MergeInput, type MergeOptions, mergeJson } from './model/merge-json.js';
export { type ConflictsOptions, conflicts } from './plugins/conflicts/conflicts-plugin.js';
