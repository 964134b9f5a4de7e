import { defineConfig } from 'vitest/config';

// Forks, not threads: the DuckDB and Temporal native bindings misbehave in worker threads.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One Temporal dev server and one workflow bundle for the whole suite.
    globalSetup: ['test/global-setup.ts'],
  },
});
