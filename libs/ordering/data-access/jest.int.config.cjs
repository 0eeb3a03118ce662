module.exports = {
  displayName: 'ordering-data-access:integration',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.int.spec.ts'],
  testTimeout: 60000,
};
