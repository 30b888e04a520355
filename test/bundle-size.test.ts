import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a browser app ships, bundled as Vite or Rollup do it (minified, split
 * into chunks at dynamic imports), gzipped chunk by chunk. `loaded` counts the
 * entry chunk and what it imports statically (what runs at start); `all`
 * counts every chunk, the lazily loaded default store included.
 *
 * Each row has the redesign's target and a guard. The guards of the first
 * three rows were set at 19.62, 23.64 and 28.17 kB and rose only by what the
 * redesign issue asked for (the plug-in interface 0.42 kB, option groups
 * 0.37, the wiring split with coalescing without `lastTask` and
 * `quarantined()` 0.17, renames 0.08, the store contract's fallbacks 0.13,
 * the group commit's `Clock` 0.06, encryption's entry point 0.03); then the
 * features that became plug-ins left the core (conflicts, coalescing,
 * cancel-create), and each guard was fixed at the figure reached (the
 * redesign issue: "fix the row at the figure reached"). The batching issue's
 * drain port (a plug-in may send what is due another way; the lane moved to
 * `engine/lane.ts`, the classification split from the send) added 0.16 kB to
 * the core and the quick start, and taking the cache's read-modify-writes
 * one at a time (two writes settled together lost one's layer removal) 0.06,
 * and the attach port delta sync needs (plug-ins that work beside the
 * outbox get the client's store, transport and clock, and detach at
 * `dispose()`) 0.09. The hot cache and the BroadcastChannel election left
 * the IndexedDB chunk as plug-ins, and the drain lock moved from the
 * IndexedDB store to the platform layer, keyed by the store's name (the
 * redesign issue): the Web Lock now sits in the core row (+0.34 kB) for
 * every store shared by contexts, and the quick start fell by 0.78 kB. One
 * list of quarantined writes (`sync.quarantined()` reads both places) cost
 * 0.07 kB, and the batching issue's one commit per delta page (the
 * `writeCache` accelerator, in MemoryStore too) 0.03; delta sync's log (a
 * page commits its members, its changes and the cursor; the list is folded
 * once per pull instead of rewritten per page, which took the pull bench row
 * from 2.9× to about 1.4× its raw limit) 0.29 on its own row; IndexedDB
 * reads issued together sharing one transaction (the cache upkeep of a
 * delivered write: the Chromium drains 1.27-1.59× → 1.25-1.29×) 0.11 in the
 * quick start and everything rows; settling the writes a batch delivered
 * together in one cache turn with one round of reads (the Chromium batched
 * rows 0.46/0.55× → 0.37/0.49×) 0.18 in the core (the cache's write side
 * is there) and the drain port, and making the drain lock at the first drain 0.02.
 * The batching row's guard went from 2.75 to 2.8 (its target stays 2.75): the
 * follower scan for stores without `tasksAfter` now groups each key's writes
 * in place, where it copied the key's array once per write (quadratic in a
 * key's queue), and that cost 3 bytes, 2.753 kB; written more tightly it
 * measured larger, and the quadratic copy is not worth 3 bytes. A plug-in's row is
 * what it adds over the core row. The last row includes every plug-in, so it
 * grows by the ports and option checks a split costs. A guard is never
 * raised without an issue saying so; CHANGELOG, "Known gaps", says what
 * stands between each row and its target.
 */
const CORE =
  "import { QnoxSync, MemoryStore } from 'SRC/index.ts'; QnoxSync.create({ baseUrl: 'https://a.example', store: new MemoryStore() });";

const ROWS: readonly Row[] = [
  {
    name: 'QnoxSync + MemoryStore (core), loaded',
    source: CORE,
    count: 'loaded',
    targetKb: 7.5,
    guardKb: 20.25,
  },
  {
    name: 'quick start QnoxSync.create({ baseUrl }), all chunks (IndexedDB lazily)',
    source:
      "import { QnoxSync } from 'SRC/index.ts'; QnoxSync.create({ baseUrl: 'https://a.example' });",
    count: 'all',
    targetKb: 10,
    guardKb: 23.25,
  },
  {
    name: 'conflicts() plug-in, over the core row',
    source: `${CORE} import { conflicts } from 'SRC/conflicts.ts'; conflicts();`,
    count: 'loaded',
    over: CORE,
    targetKb: 1.5,
    guardKb: 1.5,
  },
  {
    name: 'coalescing() plug-in, over the core row',
    source: `${CORE} import { coalescing } from 'SRC/coalescing.ts'; coalescing();`,
    count: 'loaded',
    over: CORE,
    targetKb: 1,
    guardKb: 0.75,
  },
  {
    name: 'cancelCreate() plug-in, over the core row',
    source: `${CORE} import { cancelCreate } from 'SRC/cancel-create.ts'; cancelCreate();`,
    count: 'loaded',
    over: CORE,
    targetKb: 1,
    guardKb: 0.4,
  },
  {
    name: 'batching() plug-in, over the core row',
    source: `${CORE} import { batching } from 'SRC/batching.ts'; batching();`,
    count: 'loaded',
    over: CORE,
    targetKb: 2.75,
    guardKb: 2.8,
  },
  {
    name: 'deltaSync() plug-in, over the core row',
    source: `${CORE} import { deltaSync } from 'SRC/delta.ts'; deltaSync({ collection: '/o' });`,
    count: 'loaded',
    over: CORE,
    targetKb: 2,
    guardKb: 2.3,
  },
  {
    name: 'hotCache() plug-in, over the core row',
    source: `${CORE} import { hotCache } from 'SRC/hot-cache.ts'; hotCache();`,
    count: 'loaded',
    over: CORE,
    targetKb: 1,
    guardKb: 0.6,
  },
  {
    name: 'channelElection() plug-in, over the core row',
    source: `${CORE} import { channelElection } from 'SRC/election.ts'; channelElection();`,
    count: 'loaded',
    over: CORE,
    targetKb: 1,
    guardKb: 0.5,
  },
  {
    name: 'everything: root + IndexedDB + service worker + React + encryption + every plug-in, all chunks',
    source:
      "export * from 'SRC/index.ts'; export * from 'SRC/indexeddb.ts'; export * from 'SRC/service-worker.ts'; export * from 'SRC/react.ts'; export * from 'SRC/encryption.ts'; export * from 'SRC/conflicts.ts'; export * from 'SRC/coalescing.ts'; export * from 'SRC/cancel-create.ts'; export * from 'SRC/batching.ts'; export * from 'SRC/delta.ts'; export * from 'SRC/hot-cache.ts'; export * from 'SRC/election.ts';",
    count: 'all',
    targetKb: 15,
    guardKb: 36.35,
  },
];

interface Row {
  readonly name: string;
  readonly source: string;
  readonly count: 'loaded' | 'all';
  /** A plug-in's row: what it adds over the app that is this source without it. */
  readonly over?: string;
  readonly targetKb: number;
  readonly guardKb: number;
}

const src = new URL('../src/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'qnox-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Chunk {
  readonly gz: number;
  readonly text: string;
  readonly staticImports: readonly string[];
}

/** Bundles `source` with code splitting; returns each chunk by file name, and the entry's name. */
async function bundle(source: string): Promise<{ entry: string; chunks: Map<string, Chunk> }> {
  const dir = mkdtempSync(join(work, 'b-'));
  writeFileSync(join(dir, 'entry.ts'), source.replaceAll('SRC/', src));
  const out = await build({
    entryPoints: [join(dir, 'entry.ts')],
    outdir: join(dir, 'out'),
    bundle: true,
    splitting: true,
    minify: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['react'],
  });
  const name = (path: string) => path.split('/').pop()!;
  const chunks = new Map<string, Chunk>();
  for (const file of out.outputFiles) {
    const meta = Object.entries(out.metafile.outputs).find(
      ([p]) => name(p) === name(file.path),
    )![1];
    chunks.set(name(file.path), {
      gz: gzipSync(file.contents).length,
      text: file.text,
      staticImports: meta.imports
        .filter((i) => i.kind === 'import-statement' && !i.external)
        .map((i) => name(i.path)),
    });
  }
  return { entry: 'entry.js', chunks };
}

/** The entry chunk and every chunk it imports statically, transitively. */
function loaded(entry: string, chunks: Map<string, Chunk>): Chunk[] {
  const seen = new Set<string>([entry]);
  for (const file of seen) for (const next of chunks.get(file)!.staticImports) seen.add(next);
  return [...seen].map((file) => chunks.get(file)!);
}

const kb = (bytes: number) => bytes / 1024;

/** kB min+gz of what `source` ships: loaded at start, or every chunk. */
async function measure(source: string, count: Row['count']): Promise<number> {
  const { entry, chunks } = await bundle(source);
  const counted = count === 'loaded' ? loaded(entry, chunks) : [...chunks.values()];
  return kb(counted.reduce((sum, c) => sum + c.gz, 0));
}

describe('bundle rows (min+gz)', () => {
  for (const row of ROWS) {
    it(`${row.name}: at most ${row.guardKb} kB (target ${row.targetKb} kB)`, async () => {
      const size =
        (await measure(row.source, row.count)) -
        (row.over ? await measure(row.over, row.count) : 0);
      console.log(
        `${row.name}: ${size.toFixed(2)} kB (guard ${row.guardKb}, target ${row.targetKb})`,
      );
      expect(size).toBeLessThanOrEqual(row.guardKb);
    });
  }

  it('an app that passes its own store loads no IndexedDB code, and no Node code is bundled', async () => {
    const { entry, chunks } = await bundle(CORE);
    const start = loaded(entry, chunks)
      .map((c) => c.text)
      .join('\n');
    expect(start).not.toContain('IDBKeyRange');
    const all = [...chunks.values()].map((c) => c.text).join('\n');
    expect(all).toContain('IDBKeyRange'); // the lazy default is there, in its own chunk
    expect(all).not.toMatch(/better-sqlite3|node:fs/);
  });

  it('collection() costs nothing to an app that does not import it', async () => {
    const text = async (source: string) =>
      [...(await bundle(source)).chunks.values()].map((c) => c.text).join('\n');
    expect(await text("export { QnoxSync } from 'SRC/index.ts';")).not.toContain(
      'collections etag',
    );
    expect(await text("export { QnoxSync, collection } from 'SRC/index.ts';")).toContain(
      'collections etag',
    );
  });
});
