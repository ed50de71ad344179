/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // test/unit/ is also the unit lane (`npm run test:unit`, jest.unit.config.js), without the global setup.
  testMatch: ['**/*.test.ts'],
  // The fault-injection tests take minutes: `npm run test:faults` (jest.faults.config.js).
  // The whole-stack tests run after the rest, one at a time: `jest --config jest.stack.config.js`.
  testPathIgnorePatterns: ['/node_modules/', '/test/faults/', ...require('./jest.stack-tests.js').map((f) => `/${f}$`)],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // A retry timer of a closed Temporal connection must not fail the next test file (see the file).
  setupFiles: ['<rootDir>/test/support/grpc-shutdown-guard.ts'],
  // Every answer of the in-process API is checked against /openapi.json: a mismatch fails its test.
  setupFilesAfterEnv: ['<rootDir>/test/support/response-validation-hooks.ts'],
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120_000,
  // Every test file runs its own Temporal workers (and time-skipping servers) on 2 cores.
  maxWorkers: 2,
};
