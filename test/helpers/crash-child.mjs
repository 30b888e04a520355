// A syncing process the crash test kills with SIGKILL at random points.
// Usage: node crash-child.mjs <dbPath> <baseUrl> <firstN> <count>
import { QnoxSync } from '../../dist/index.js';
import { SqliteStore } from '../../dist/node.js';

const [dbPath, baseUrl, first, count] = process.argv.slice(2);
const sync = await QnoxSync.create({
  baseUrl,
  store: new SqliteStore({ path: dbPath }),
  retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 1_000 },
  timeoutMs: 2_000,
});
for (let i = Number(first); i < Number(first) + Number(count); i++) {
  const m = await sync.post('/streams/crash', { n: i }, { orderingKey: 'crash' });
  process.stdout.write(`ack ${i} ${m.idempotencyKey}\n`);
}
while ((await sync.pendingCount()) > 0) {
  await sync.sync();
  await new Promise((resolve) => setTimeout(resolve, 5));
}
process.stdout.write('drained\n');
await sync.dispose();
