// Runs only the sandbox's own tests, without the database global setup they do not need:
//   npx jest -c test/sandbox/jest.config.js
const root = require('../../jest.config.js');

const { globalSetup: _setup, globalTeardown: _teardown, ...rest } = root;
module.exports = {
  ...rest,
  rootDir: `${__dirname}/../..`,
  testMatch: ['<rootDir>/test/sandbox/**/*.e2e-spec.ts'],
};
