// `npm run test:unit`: the pure specs beside the code (src/**/*.spec.ts), with no database, no
// Redis and no sandbox: the fast loop while changing boundary code. `npm test` runs them too.
const root = require('./jest.config.js');

module.exports = {
  ...root,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
