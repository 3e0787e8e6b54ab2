import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: many tests assert real latencies and spawn real servers, and on a
    // 2-core machine parallel files would measure each other's load instead.
    fileParallelism: false,
    // The manual API's leak guard is proved by forcing a collection.
    execArgv: ['--expose-gc'],
    reporters: ['default'],
  },
});
