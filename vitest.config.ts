import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (onnxruntime-node, sharp, better-sqlite3) are only safe in process forks.
    pool: 'forks',
    // One temporary folder per run, removed at its end (test/helpers/run-tmpdir.ts).
    globalSetup: ['test/helpers/run-tmpdir.ts'],
    // One fork per core: vitest's default leaves one core free, which on a 2-core machine runs the files
    // one at a time (npm test 364 s there; 284 s with both cores, docs/benchmarks.md "Test suite time").
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
