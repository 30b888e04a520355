import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of `src/`, bottom up (README, "Architecture"). A file may import
 * its own folder and any folder below it, never one above: that also rules
 * out any cycle between folders. Entry points (the files directly in `src/`)
 * sit on top; nothing imports them.
 */
const LAYERS = [
  'model', // records, bodies, responses, events, errors, merge patch: plain data
  'platform', // clock, connectivity, channels, page lifecycle: the only globals
  'status', // read-only streams and the status value
  'stores', // where records live: imports only model and platform
  'http', // transport, auth, classification, reachability
  'cache', // reads (strategies) and the cache side of writes
  'engine', // the drain: lanes, retries, results
  'outbox', // the write path: build, coalesce, cancel-create, enqueue
  'plugins', // features as plug-ins, each in its own entry point (conflicts, coalescing, cancel-create)
  'client', // the facade and its options
  'testing', // the public test kit
  'server', // the server half: Idempotency-Key for any Fetch-API or node:http handler
  '.', // entry points
] as const;

const src = new URL('../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

const layerOf = (file: string) => {
  const rel = relative(src, file);
  return rel.includes(sep) ? rel.split(sep)[0]! : '.';
};

/** Every relative import of a file: `import`, `import type`, `export … from`, `import()`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom|\bimport\(|^import)\s*['"](\.{1,2}\/[^'"]+)['"]/gm)];
  return specs.map((m) => normalize(join(dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
}

const edges = sources(src).flatMap((file) =>
  importsOf(file).map((target) => ({
    from: relative(src, file),
    to: relative(src, target),
    fromLayer: layerOf(file),
    toLayer: layerOf(target),
  })),
);

describe('the layers of src/', () => {
  it('every folder is a known layer', () => {
    const unknown = [...new Set(edges.map((e) => e.fromLayer))].filter(
      (layer) => !(LAYERS as readonly string[]).includes(layer),
    );
    expect(unknown).toEqual([]);
  });

  it('no import runs up the stack (type imports included), so no folders form a cycle', () => {
    const rank = (layer: string) => (LAYERS as readonly string[]).indexOf(layer);
    const upward = edges
      .filter((e) => rank(e.toLayer) > rank(e.fromLayer))
      .map((e) => `${e.from} -> ${e.to}`);
    expect(upward).toEqual([]);
  });

  it('reads the imports it judges (type-only and re-exports too)', () => {
    const seen = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    expect(seen('index.ts', 'client/qnox-sync.ts')).toBe(true); // export … from
    expect(seen('stores/local-store.ts', 'model/records.ts')).toBe(true); // import type
    expect(edges.length).toBeGreaterThan(200);
  });
});
