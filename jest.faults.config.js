/**
 * The fault-injection tests (`npm run test:faults`): hundreds of cases each, a worker killed with
 * SIGKILL, the Temporal dev server and PostgreSQL stopped mid-run. Minutes, not seconds, so they
 * run apart from `npm test`, one file at a time, on the same global setup (Temporal dev server,
 * PostgreSQL, prebuilt workflow bundle).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 10 * 60_000,
  maxWorkers: 1,
};
