import { defineConfig } from 'vitest/config';

// `npm run test:slow`: end-to-end runs too long for `npm test`'s 60 s per file (the slow pytest marker's
// counterpart): test/slow/*.slow-test.ts.
export default defineConfig({
  test: {
    include: ['test/slow/**/*.slow-test.ts'],
    pool: 'forks',
    // One temporary folder per run, removed at its end (test/helpers/run-tmpdir.ts).
    globalSetup: ['test/helpers/run-tmpdir.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
