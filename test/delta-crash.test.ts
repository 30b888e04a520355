import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './helpers/harness.js';
import { spawned } from './helpers/spawned.js';
import { TestServer } from './helpers/test-server.js';

const child = new URL('./helpers/pull-child.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'qnox-delta-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('delta sync across a real process kill (SQLite)', () => {
  it('a pull SIGKILLed mid-way twice resumes from its stored cursor: every item once, none missing', async () => {
    if (!existsSync(new URL('../dist/delta.js', import.meta.url)))
      throw new Error('run `npm run build` first');
    const server = new TestServer();
    const baseUrl = await server.start();
    try {
      for (let i = 1; i <= 2_000; i++) server.editItem(String(i), { name: `item ${i}`, qty: i });
      // Each page takes a little while, so the kills land between pages and inside them.
      server.faultPolicy = (req) =>
        req.path.startsWith('/items/changes') ? { kind: 'slow', ms: 15 } : undefined;
      const db = join(dir, 'pull.db');
      const feed = () => server.requestsTo('GET', '/items/changes');
      const starts: string[] = [];
      for (const killAt of [5, 12]) {
        const before = feed().length;
        const run = spawned(process.execPath, [child, db, baseUrl], { cwd: dir });
        await until(() => feed().length >= killAt, 30_000);
        run.child.kill('SIGKILL');
        await run.exited;
        starts.push(feed()[before]!.path);
      }
      const last = spawned(process.execPath, [child, db, baseUrl], { cwd: dir });
      const before = feed().length;
      expect(await last.exited).toBe(0);
      starts.push(feed()[before]!.path);
      const ids = JSON.parse(last.output().trim().split('\n').at(-1)!) as string[];
      expect(ids).toHaveLength(2_000);
      expect(new Set(ids).size).toBe(2_000);
      expect(ids).toEqual(Array.from({ length: 2_000 }, (_, i) => String(i + 1)));
      // The first run started from the beginning; each later one from where the one before it stopped.
      expect(starts[0]).toBe('/items/changes?limit=100');
      expect(
        Number(new URLSearchParams(starts[1]!.split('?')[1]).get('since')),
      ).toBeGreaterThanOrEqual(300);
      expect(
        Number(new URLSearchParams(starts[2]!.split('?')[1]).get('since')),
      ).toBeGreaterThanOrEqual(
        Number(new URLSearchParams(starts[1]!.split('?')[1]).get('since')) + 500,
      );
      // Pages re-read after a kill: at most the one in flight per kill.
      expect(feed().length).toBeLessThanOrEqual(20 + 2 * 2);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
