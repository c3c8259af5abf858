// NestJS 12 ships ES modules; Jest on Node 20 cannot require() them, so SWC transforms
// those packages to CommonJS (see docs/stack.md#nestjs-12-under-jest).
const esm = ['@nestjs', 'file-type', 'strtok3', 'token-types', '@tokenizer', '@borewit', 'uint8array-extras', '@standard-schema'];
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.medium-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    '^.+\\.(m|c)?js$': ['@swc/jest', { ...swc, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // A ceiling for hangs, not a speed check: the tests wait for conditions, and on a loaded two-core
  // machine starting a service process (ts-node, an embedded PostgreSQL) took more than a minute.
  testTimeout: 180000,
  maxWorkers: 2,
};
