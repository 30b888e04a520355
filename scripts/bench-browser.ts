/** Browser figures for `npm run bench`: one Chromium run with an on-disk profile. */
import { launchPersistent } from '../test/helpers/browser.js';
import { startPageServer } from '../test/helpers/page-server.js';
import { heapFigure } from './bench-fixtures.js';

const { server, url } = await startPageServer({ bench: '../../scripts/bench-page.ts' });
server.batchPath = '/batch';
// Exact heap figures for the memory row: unrounded `performance.memory` and a callable `gc()`.
const context = await launchPersistent(undefined, [
  '--enable-precise-memory-info',
  '--js-flags=--expose-gc',
]);
try {
  const page = await context.newPage();
  await page.goto(`${url}/bench.html`);
  await page.waitForFunction(() => document.title === 'ready');
  const figures = await page.evaluate(() =>
    (window as unknown as { runBench: () => Promise<Record<string, [number, number]>> }).runBench(),
  );
  const rows: [string, string, number][] = [
    ['enqueue', 'Chromium: awaited durable enqueue vs bare strict IndexedDB add', 1.2],
    ['burst', 'Chromium: burst of 1,000 enqueues, per record', 2],
    ['drain1', 'Chromium: drain, 1 ordering key vs raw sequential fetch', 1.15],
    ['drain6', 'Chromium: drain, 6 keys vs raw 6-way parallel fetch', 1.2],
    // Not a target: the same drain on MemoryStore, to tell engine cost from IndexedDB cost.
    ['drain1Memory', '(diagnostic) drain, 1 key, MemoryStore vs raw fetch', Number.NaN],
    // Nor this: the same IndexedDB drain with hotCache(), whose known misses spare the cache upkeep's reads.
    ['drain1Hot', '(diagnostic) drain, 1 key, IndexedDB + hotCache() vs raw fetch', Number.NaN],
    ['batched1', 'Chromium: batched drain (20 per batch), 1 key vs raw loop', 0.1],
    ['batched20', 'Chromium: batched drain (20 per batch), 20 keys vs raw loop', 0.1],
    // The floor under both: the same writes as prepared batches sent with bare fetch.
    ['floor', '(diagnostic) prepared batches of 20, bare fetch, vs raw loop', Number.NaN],
    ['dueTasks', 'Chromium: dueTasks(20) with 100k queued vs 1k', 1.5],
    ['pendingCount', 'Chromium: pendingCount() with 100k queued vs 1k', 1.5],
    ['cacheHit', 'Chromium: cache hit vs bare IndexedDB get of the same record', 1.2],
    ['hotHit', 'Chromium: cache hit, hot in memory, vs the same bare get', 0.1],
  ];
  console.log(
    '\nbrowser (Debian Chromium, on-disk profile; 2,000 operations per enqueue and cache figure, drains: median of 5 alternating rounds of ~100 writes):',
  );
  for (const [key, label, target] of rows) {
    const [raw, ours] = figures[key]!;
    const ratio = ours / raw;
    console.log(
      `${label.padEnd(58)} ${(ours * 1000).toFixed(0).padStart(7)} µs  raw ${(raw * 1000).toFixed(0).padStart(7)} µs  ratio ${ratio.toFixed(2)}${Number.isNaN(target) ? '' : `  target ≤ ${target}  ${ratio <= target ? 'ok' : 'OVER'}`}`,
    );
  }
  const mb = figures.heap![1];
  console.log(
    `${'Chromium: JS heap held per 10k queued 200-byte tasks'.padEnd(58)} ${heapFigure(mb).padStart(10)}  target ≤ 5  ${mb <= 5 ? 'ok' : 'OVER'}`,
  );
} finally {
  await context.close();
  await server.stop();
}
