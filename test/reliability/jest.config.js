// `npm run test:reliability`: the fault and abuse suite, on the database of
// DATABASE_URL (CI: the machine's PostgreSQL) or the embedded one.
const root = require('../../jest.config.js');

module.exports = {
  ...root,
  rootDir: `${__dirname}/../..`,
  testMatch: ['<rootDir>/test/reliability/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
};
