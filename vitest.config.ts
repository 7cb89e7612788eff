import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // e2e/: the admin panel in Chromium (skipped with a message when Chromium is missing).
    include: ['src/**/*.test.ts', 'testkit/src/**/*.test.ts', 'scripts/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own app and databases; two cores here, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
