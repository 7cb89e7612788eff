import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'testkit/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own app and databases; two cores here, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
