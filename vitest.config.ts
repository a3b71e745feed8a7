import { defineConfig } from 'vitest/config';

// Three projects: unit tests are pure and fast; integration tests talk to the real local stack
// (`npx polaris stack up`); e2e tests start the services and drive them over HTTP from outside.
// Worker threads, not child processes, in every project: on Node 24 the forks pool of vitest 3
// (tinypool) can lose its IPC channel while recycling a worker and fail a passing run with an
// unhandled ERR_IPC_CHANNEL_CLOSED (tinylibs/tinypool#130). Threads have no IPC channel to lose;
// every process a test needs (services, stores) is spawned explicitly anyway.
const pool = 'threads';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          pool,
          include: ['**/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.integration.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          pool,
          include: ['**/*.integration.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          pool,
          include: ['e2e/**/*.e2e.test.ts'],
          globalSetup: ['e2e/global-setup.ts'],
          // Every sink a test starts inherits this (the launchers pass the environment on): the
          // suites date events up to a century back (E2E_EVENT_MAX_AGE_DAYS), and a sink refuses
          // events older than its dedup window. e2e/support/e2e-config.ts holds the same number.
          env: { SINK_DEDUP_WINDOW_DAYS: '36501' },
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
