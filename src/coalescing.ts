// `qnox-offline-sync/coalescing`: merging a write into the last queued, never-sent one, as a plug-in.
export { type CoalescingOptions, coalescing } from './plugins/coalescing/coalescing-plugin.js';
