module.exports = {
  displayName: 'web-console-e2e',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.browser-spec.ts'],
  testTimeout: 180000,
};
