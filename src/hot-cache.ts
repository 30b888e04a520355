// `qnox-offline-sync/hot-cache`: the most recently read cache records in memory, in front of any store.
export { type HotCacheOptions, hotCache } from './plugins/hot-cache/hot-cache-plugin.js';
