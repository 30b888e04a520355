import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * Size of what a browser app ships: the root entry plus the IndexedDB store,
 * minified and gzipped, tree-shaken from a real import. This guard only stops
 * growth until the redesign's per-entry rows replace it: ~17.09 kB before the
 * hardening of delivery at the edges, ~20.5 kB after it (hop-by-hop redirects,
 * input, header and option validation, typed callback errors, damaged-row
 * decoding, the possibly-delivered mark; see CHANGELOG), 21.46 kB with the
 * marks written ahead a batch per commit (about 0.6 kB, the drain bench's fix)
 * and the cross-context change events (about 0.3 kB, first-use item 2), 22.5 kB
 * with first-use items 4 and 5 (about 1 kB: validators and optimistic rows of
 * list members in the cache's write path, CORS detection with its advice and
 * the no-cors probe, the no-validators warning, retrying a conflict with a
 * strategy; `collection()` itself is tree-shaken away). Raised by exactly
 * that; the redesign's per-entry rows replace this guard.
 */
const BUDGET_BYTES = 22.55 * 1024;

async function gzippedSize(source: string): Promise<number> {
  return gzipSync(await bundled(source)).length;
}

async function bundled(source: string): Promise<Uint8Array> {
  const out = await build({
    stdin: { contents: source, resolveDir: new URL('..', import.meta.url).pathname, loader: 'ts' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
  });
  return out.outputFiles[0]!.contents;
}

describe('bundle budget', () => {
  it(`root entry + IndexedDB store stays under ${BUDGET_BYTES / 1024} kB min+gz, and pulls in no Node code`, async () => {
    const size = await gzippedSize(
      "import { QnoxSync } from './src/index.ts'; import { IndexedDbStore } from './src/indexeddb.ts'; export { QnoxSync, IndexedDbStore };",
    );
    console.log(`root + indexeddb: ${(size / 1024).toFixed(2)} kB min+gz`);
    expect(size).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('collection() costs nothing to an app that does not import it', async () => {
    const text = (source: string) => bundled(source).then((b) => new TextDecoder().decode(b));
    expect(await text("export { QnoxSync } from './src/index.ts';")).not.toContain(
      'collections etag',
    );
    expect(await text("export { QnoxSync, collection } from './src/index.ts';")).toContain(
      'collections etag',
    );
  });

  it('the service-worker and react entries add little on top of the root', async () => {
    const root = await gzippedSize("export { QnoxSync } from './src/index.ts';");
    const withSw = await gzippedSize(
      "export { QnoxSync } from './src/index.ts'; export * from './src/service-worker.ts';",
    );
    expect(withSw - root).toBeLessThan(1024);
  });
});
