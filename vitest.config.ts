import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Daemon tests spawn real processes and bind real sockets: run each file in its own fork.
    pool: 'forks',
    fileParallelism: true,
    // test/helpers/daemon.ts derives per-worker media port blocks from VITEST_POOL_ID and
    // assumes at most 2 concurrent workers.
    maxWorkers: 2,
  },
});
