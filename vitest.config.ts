import { defineConfig } from 'vitest/config';

// Forks, not threads: the DuckDB and Temporal native bindings misbehave in worker threads.
export default defineConfig({
  test: {
    pool: 'forks',
    // Two files at once on the 2-core machines (vitest's default is cores - 1 = one): most
    // tests wait on subprocesses, Temporal or the databases. Tests that need background work
    // to happen during a run wait for it rather than for time to pass.
    maxWorkers: 2,
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One Temporal dev server and one workflow bundle for the whole suite.
    globalSetup: ['test/global-setup.ts'],
  },
});
