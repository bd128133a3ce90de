import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (onnxruntime-node, sharp, better-sqlite3) are only safe in process forks.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
