// A process pulling a collection's changes, which the delta crash test kills with SIGKILL mid-pull.
// Usage: node pull-child.mjs <dbPath> <baseUrl>; prints the cached list's ids once the pull ended.

import { deltaSync } from '../../dist/delta.js';
import { QnoxSync } from '../../dist/index.js';
import { SqliteStore } from '../../dist/node.js';

const [dbPath, baseUrl] = process.argv.slice(2);
const items = deltaSync({ collection: '/items', pageSize: 100, intervalMs: 0 });
const sync = await QnoxSync.create({
  baseUrl,
  store: new SqliteStore({ path: dbPath }),
  plugins: [items],
});
await items.pull();
const list = await sync.get('/items', { strategy: 'cacheOnly' });
process.stdout.write(`${JSON.stringify(list.data.map((row) => row.id))}\n`);
await sync.dispose();
