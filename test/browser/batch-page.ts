/** An app on the default (IndexedDB) store that sends its outbox in batches and pulls /items' changes. */
import { batching } from '../../src/batching.js';
import { deltaSync } from '../../src/delta.js';
import { QnoxSync, type SyncEvent } from '../../src/index.js';

const items = deltaSync({ collection: '/items', pageSize: 50, intervalMs: 0 });
const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  retry: { baseDelayMs: 200, maxDelayMs: 2_000 },
  plugins: [batching({ maxRequests: 10 }), items],
});
const seen: SyncEvent['type'][] = [];
sync.events.subscribe((e) => seen.push(e.type));
Object.assign(window, { qnox: sync, seen, items });
document.title = 'ready';
