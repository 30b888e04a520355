/**
 * One "tab" of an app using the library on the default (IndexedDB) store; its id rides in the token.
 * With the hot cache, and the election for the test that takes Web Locks away.
 */
import { channelElection } from '../../src/election.js';
import { hotCache } from '../../src/hot-cache.js';
import { QnoxSync } from '../../src/index.js';

const tab = new URLSearchParams(location.search).get('tab') ?? '?';
const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  authTokenProvider: () => `tab-${tab}`,
  retry: { baseDelayMs: 200, maxDelayMs: 2_000, maxAttempts: 1_000 },
  timeoutMs: 5_000,
  plugins: [hotCache(), channelElection()],
});
Object.assign(window, { qnox: sync, settled: [] as string[] });
document.title = 'ready';
