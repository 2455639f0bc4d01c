/** What both layers share: TypeScript through ts-jest, Node's environment. */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      // No server: pure domain, config, templates, payload parsing, clients' pure parts. `npm run test:unit`.
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      // The real servers, started once per run by the global setup: Temporal dev server, Postgres, Redis.
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/workflows/**/*.test.ts',
        '<rootDir>/test/browser/**/*.test.ts',
        // Crashes, outages and redeliveries, each ending with the same exactly-once checks (test/chaos/harness.ts).
        '<rootDir>/test/chaos/**/*.test.ts',
      ],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
  testTimeout: 60_000,
  // Two cores: two test files at a time share the one Temporal dev server, Postgres and Redis.
  maxWorkers: 2,
};
