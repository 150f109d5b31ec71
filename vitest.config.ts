import { defineConfig } from 'vitest/config';
// Node 20 lacks Map.groupBy, which vitest's reporter needs to print failures.
import './test/support/node20-polyfills.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration tests open real sockets, TLS and stores; 2 cores run them side by side.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // An unhandled rejection anywhere fails the run.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
