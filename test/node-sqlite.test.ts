import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encryptedStore } from '../src/encryption.js';
import { SqliteStore } from '../src/node.js';
import { runStoreConformance } from '../src/testing/index.js';
import { openRace } from './helpers/open-race.js';

/**
 * SqliteStore on Node's built-in `node:sqlite` (Node >= 22.5). Where the
 * running Node has it, the conformance suite runs here; on Node 20 this file
 * runs itself under the Node 22 binary that `scripts/ensure-node22.sh` fetched
 * (or `QNOX_NODE22`), so `npm test` proves the store on both drivers.
 */
const nodeSqlite = (await import('node:sqlite' as string).catch(() => undefined)) as
  | { DatabaseSync: new (path: string) => never }
  | undefined;

if (nodeSqlite) {
  const dir = mkdtempSync(join(tmpdir(), 'qnox-node-sqlite-'));
  let n = 0;
  runStoreConformance(
    'SqliteStore (node:sqlite handle)',
    {
      create: () =>
        new SqliteStore({ database: new nodeSqlite.DatabaseSync(join(dir, `a-${++n}.db`)) }),
    },
    { describe, it },
  );
  // By path: better-sqlite3 is built for another Node here, so the store must fall back.
  runStoreConformance(
    'SqliteStore (path; driver chosen by the store)',
    { create: () => new SqliteStore({ path: join(dir, `b-${++n}.db`) }) },
    { describe, it },
  );
  runStoreConformance(
    'encryptedStore(SqliteStore on node:sqlite)',
    {
      create: () =>
        encryptedStore(
          new SqliteStore({ database: new nodeSqlite.DatabaseSync(join(dir, `c-${++n}.db`)) }),
          {
            passphrase: 'pw',
            iterations: 1_000,
          },
        ),
    },
    { describe, it },
  );
  describe('SqliteStore on node:sqlite, several processes', () => {
    it('fresh files opened by three processes at the same instant: every open succeeds', async () => {
      expect(await openRace(mkdtempSync(join(dir, 'race-')))).toEqual(['[]', '[]', '[]']);
    });
  });
} else {
  describe('SqliteStore on node:sqlite', () => {
    it('passes the conformance suite under Node 22', () => {
      const root = fileURLToPath(new URL('..', import.meta.url));
      const node22 = process.env.QNOX_NODE22 ?? join(root, '.cache/node22/package/bin/node');
      const run = spawnSync(
        node22,
        [
          '--no-warnings',
          join(root, 'node_modules/vitest/vitest.mjs'),
          'run',
          'test/node-sqlite.test.ts',
        ],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1', CI: '1' },
          timeout: 120_000,
        },
      );
      const out = `${run.stdout}${run.stderr}`;
      expect(
        run.error,
        'run scripts/ensure-node22.sh (npm test does) or set QNOX_NODE22',
      ).toBeUndefined();
      const passed = Number(/Tests\s+(\d+) passed/.exec(out)?.[1] ?? 0);
      expect(run.status, out).toBe(0);
      expect(out).not.toMatch(/failed|skipped/);
      expect(passed).toBeGreaterThanOrEqual(30);
    }, 130_000);
  });
}
