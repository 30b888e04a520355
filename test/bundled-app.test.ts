import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawned } from './helpers/spawned.js';
import { TestServer } from './helpers/test-server.js';

/**
 * A Node app that uses the seed's quick start (`QnoxSync.create({ baseUrl })`,
 * no store) bundled as an app would be, from the package as published
 * (`dist/`, its `exports` map and `"sideEffects": false`), then run: the
 * default store (SQLite) must survive the bundler's tree-shaking.
 */
const root = new URL('..', import.meta.url).pathname;
const APP = `
import { QnoxSync } from 'qnox-offline-sync';
const sync = await QnoxSync.create({ baseUrl: process.env.API });
const write = await sync.post('/streams/bundled', { n: 1 });
const answer = await write.result;
console.log('status', answer.status);
await sync.dispose();
`;

let app: string;
let server: TestServer;
let api: string;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'qnox-bundled-'));
  mkdirSync(join(app, 'node_modules'));
  // The app depends on the package (this repository, as `npm pack` would ship it: dist/).
  symlinkSync(root, join(app, 'node_modules', 'qnox-offline-sync'), 'dir');
  // …and installed the driver it asks for (kept external, as a native module must be).
  for (const dep of ['better-sqlite3', 'bindings', 'file-uri-to-path'])
    symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
  writeFileSync(join(app, 'app.mjs'), APP);
  server = new TestServer();
  api = await server.start();
});

afterAll(async () => {
  await server?.stop();
  rmSync(app, { recursive: true, force: true });
});

/** Runs the bundled app in its own folder (the default store goes to ./.qnox there). */
async function runApp(entry: string): Promise<{ code: number | null; out: string }> {
  const run = spawned(process.execPath, [entry], { cwd: app, env: { API: api } });
  const code = await run.exited;
  return { code, out: run.output() };
}

describe('a bundled Node app gets SQLite as its default store', { timeout: 60_000 }, () => {
  it('Rollup 4 (node-resolve, "node" condition, sideEffects honoured)', async () => {
    // An import the bundler cannot place (the build once turned node:sqlite into `sqlite`).
    const unresolved: string[] = [];
    const bundle = await rollup({
      input: join(app, 'app.mjs'),
      plugins: [nodeResolve({ exportConditions: ['node'], preferBuiltins: true })],
      external: (id) => id === 'better-sqlite3' || id.startsWith('node:'),
      onwarn: (warning) => {
        if (warning.code === 'UNRESOLVED_IMPORT') unresolved.push(warning.message);
      },
    });
    expect(unresolved).toEqual([]);
    const dir = join(app, 'rollup-out');
    await bundle.write({ dir, format: 'esm', entryFileNames: 'app.mjs' });
    await bundle.close();
    const { code, out } = await runApp(join(dir, 'app.mjs'));
    expect(out).toContain('status 201');
    expect(code).toBe(0);
    expect(existsSync(join(app, '.qnox', 'sync.db'))).toBe(true);
  });

  it('esbuild (platform node, code splitting)', async () => {
    const dir = join(app, 'esbuild-out');
    await build({
      entryPoints: [join(app, 'app.mjs')],
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      external: ['better-sqlite3'],
      logLevel: 'silent',
    });
    const { code, out } = await runApp(join(dir, 'app.mjs'));
    expect(out).toContain('status 201');
    expect(code).toBe(0);
    expect(server.streams.get('bundled')).toEqual([1, 1]);
  });
});
