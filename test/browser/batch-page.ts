/** An app on the default (IndexedDB) store that sends its outbox in batches. */
import { batching } from '../../src/batching.js';
import { QnoxSync, type SyncEvent } from '../../src/index.js';

const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  retry: { baseDelayMs: 200, maxDelayMs: 2_000 },
  plugins: [batching({ maxRequests: 10 })],
});
const seen: SyncEvent['type'][] = [];
sync.events.subscribe((e) => seen.push(e.type));
Object.assign(window, { qnox: sync, seen });
document.title = 'ready';
