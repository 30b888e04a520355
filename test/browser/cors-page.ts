/**
 * A plain page (no bundler dev server) of an app whose API lives on another
 * origin, named by `?api=`: the fixture of the CORS tests. Its events are kept
 * on `window.seen` for the test to read.
 */
import { QnoxSync, type SyncEvent } from '../../src/index.js';
import { IndexedDbStore } from '../../src/indexeddb.js';

const params = new URLSearchParams(location.search);
const sync = await QnoxSync.create({
  baseUrl: params.get('api') ?? '',
  store: new IndexedDbStore({ name: `cors-${params.get('run') ?? '0'}`, persist: false }),
  retry: { baseDelayMs: 100, maxDelayMs: 500, maxAttempts: 3 },
  timeoutMs: 5_000,
});
const seen: { type: string; code?: string; message?: string }[] = [];
sync.events.subscribe((e: SyncEvent) => {
  const error = 'error' in e ? e.error : undefined;
  seen.push({
    type: e.type,
    ...(error ? { code: error.code, message: error.message } : {}),
    ...(e.type === 'warning' ? { code: e.code, message: e.message } : {}),
  });
});
Object.assign(window, { qnox: sync, seen });
document.title = 'ready';
