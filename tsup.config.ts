import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'index.node': 'src/index.node.ts',
    indexeddb: 'src/indexeddb.ts',
    node: 'src/node.ts',
    testing: 'src/testing/index.ts',
    'service-worker': 'src/service-worker.ts',
    react: 'src/react.ts',
    encryption: 'src/encryption.ts',
    conflicts: 'src/conflicts.ts',
    coalescing: 'src/coalescing.ts',
    'cancel-create': 'src/cancel-create.ts',
    batching: 'src/batching.ts',
    delta: 'src/delta.ts',
    'hot-cache': 'src/hot-cache.ts',
    election: 'src/election.ts',
    server: 'src/server.ts',
  },
  external: ['better-sqlite3', 'node:sqlite', 'react'],
  // Keep \`node:\` on built-in imports: tsup strips it by default, and
  // \`node:sqlite\` exists only under that name (\`import('sqlite')\` fails).
  removeNodeProtocol: false,
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
});
