/**
 * The tests that run whole `npm start` stacks (Temporal dev server, PostgreSQL, worker and API as
 * child processes) and send them signals: one file at a time, after the rest of `npm test`, so that
 * those stacks do not starve the time-skipping tests of the 2 cores (timeouts that are not bugs).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

const stackTests = require('./jest.stack-tests.js');

module.exports = {
  ...base,
  testMatch: stackTests.map((file) => `<rootDir>/${file}`),
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
