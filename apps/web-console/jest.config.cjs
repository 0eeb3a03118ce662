module.exports = {
  displayName: 'web-console',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/server/**/*.spec.ts'],
};
