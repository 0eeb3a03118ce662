// kubernetes-models and its @kubernetes-models/* packages are ESM-only: their package exports offer
// only an "import" condition, which Jest's CommonJS resolver never asks for. Ask for it for those
// packages alone (others keep their CommonJS entry points); jest.config.cjs transpiles them and the
// other ESM-only packages they load.
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/)/;

module.exports = (request, options) =>
  ESM_ONLY.test(request)
    ? options.defaultResolver(request, { ...options, conditions: ['import', 'default'] })
    : options.defaultResolver(request, options);
