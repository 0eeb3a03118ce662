module.exports = {
  displayName: 'client-react',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  // A hook renders: React needs a DOM.
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
