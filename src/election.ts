// `qnox-offline-sync/election`: one drainer across tabs where Web Locks are missing (a BroadcastChannel election).
export { channelElection } from './plugins/election/election-plugin.js';
