/**
 * `npm start`: a local API, a client that loses the network, queues writes,
 * reads from its cache, gets the network back and delivers everything once.
 */
import { QnoxSync, type SyncEvent } from '../src/index.node.js';
import { TestServer } from '../test/helpers/test-server.js';

const server = new TestServer();
const baseUrl = await server.start();
const started = Date.now();
const log = (line: string) =>
  console.log(`${String(Date.now() - started).padStart(5)} ms  ${line}`);
log(`API listening on ${baseUrl}`);

const sync = await QnoxSync.create({
  baseUrl,
  retry: { baseDelayMs: 250, maxDelayMs: 2_000 },
  delivery: { timeoutMs: 2_000 },
});
// The status also changes in fields not shown here (lastSyncAt, nextRetryAt): print each line once.
let lastStatus = '';
sync.onSyncStatus.subscribe((s) => {
  const line = `status  ${s.phase.padEnd(20)} pending=${s.pending} online=${s.online}`;
  if (line !== lastStatus) log(line);
  lastStatus = line;
});
sync.events.subscribe((e: SyncEvent) => {
  if ('task' in e)
    log(`event   ${e.type.padEnd(20)} ${e.task.method} ${new URL(e.task.url).pathname}`);
  else if (e.type === 'cache-hit') log(`event   cache-hit            stale=${e.stale}`);
  else log(`event   ${e.type}`);
});

const apples = await sync.post('/items', { name: 'apples', qty: 3 });
const created = (await apples.result).data as { id: string };
log(`created item ${created.id}`);
await sync.get('/items');

log('--- the network goes down ---');
server.down = true;
server.dropConnections();
const writes = [
  await sync.patch(`/items/${created.id}`, { qty: 5 }),
  await sync.post('/items', { name: 'pears', qty: 2 }),
  await sync.post('/items', { name: 'plums', qty: 9 }),
];
await new Promise((resolve) => setTimeout(resolve, 300));
const offlineRead = await sync.get<unknown[]>('/items');
log(`offline read: ${offlineRead.data.length} item(s), fromCache=${offlineRead.fromCache}`);
log(`queued while offline: ${await sync.pendingCount()}`);

await new Promise((resolve) => setTimeout(resolve, 1_500));
log('--- the network is back ---');
server.down = false;
await Promise.all(writes.map((w) => w.result));
log(`server state: ${JSON.stringify((await sync.get('/items')).data)}`);
log(
  `server saw ${server.effects.length} effects for 4 writes; duplicates: ${server.effects.length - new Set(server.effects.map((e) => e.key)).size}`,
);
await sync.dispose();
await server.stop();
