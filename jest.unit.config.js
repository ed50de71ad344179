/**
 * The unit lane (`npm run test:unit`): the pure tests in test/unit/, with no Temporal server, no
 * PostgreSQL and no workflow bundle, in seconds. `npm test` runs them too, with everything else.
 * A test belongs in test/unit/ when it starts no server and opens no database.
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/unit'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 30_000,
};
