import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // The manual API's leak guard is proved by forcing a collection.
    execArgv: ['--expose-gc'],
    reporters: ['default'],
  },
});
