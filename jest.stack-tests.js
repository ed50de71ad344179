// The test files that run whole `npm start` stacks: run by jest.stack.config.js, left out of jest.config.js.
module.exports = ['test/start-restart.test.ts', 'test/shutdown.test.ts', 'test/temporal-ui.test.ts'];
