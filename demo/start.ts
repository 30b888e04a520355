/** `npm start`: the demo app on 127.0.0.1 (PORT, default 8787); Ctrl-C stops it. */
import { startDemoServer } from './demo-server.js';

const demo = await startDemoServer(Number(process.env.PORT ?? 8787), {
  redisUrl: process.env.REDIS_URL,
  databaseUrl: process.env.DATABASE_URL,
});
console.log(`qnox-offline-sync demo: open ${demo.url}/`);
console.log(`  idempotency keys: ${demo.keys} (REDIS_URL or DATABASE_URL to share them)`);
console.log(`  outage on:  curl -X POST '${demo.url}/admin/outage?on=1'`);
console.log(`  outage off: curl -X POST '${demo.url}/admin/outage?on=0'`);
console.log(`  conflict:   curl -X POST ${demo.url}/admin/edit/1   (then press +1 on that order)`);
console.log(
  `  add order:  curl -X POST ${demo.url}/admin/add      (it shows at the page's next pull)`,
);
const stop = async () => {
  await demo.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// `npm start` may be stopped without passing the signal on: when the parent goes, so does the demo.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, 500).unref();
