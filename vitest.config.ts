import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The crash test spawns hundreds of processes and the browser tests drive Chromium: on two
    // cores, running files one at a time keeps timing-sensitive tests honest.
    fileParallelism: false,
    // After the summary, a few lines per failure (CI logs are often read from the end).
    reporters: ['default', './test/helpers/failure-digest.ts'],
  },
});
