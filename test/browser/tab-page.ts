/** One "tab" of an app using the library on the default (IndexedDB) store; its id rides in the token. */
import { QnoxSync } from '../../src/index.js';

const tab = new URLSearchParams(location.search).get('tab') ?? '?';
const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  authTokenProvider: () => `tab-${tab}`,
  retry: { baseDelayMs: 200, maxDelayMs: 2_000, maxAttempts: 1_000 },
  timeoutMs: 5_000,
});
Object.assign(window, { qnox: sync, settled: [] as string[] });
document.title = 'ready';
