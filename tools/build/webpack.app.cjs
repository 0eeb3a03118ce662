/**
 * Webpack config shared by the three services. Libraries are bundled (they are path aliases, not
 * packages); node_modules stay external and are listed in a generated package.json so a container
 * image can `npm ci --omit=dev` exactly what the bundle requires.
 *
 * ts-loader with transpileOnly keeps decorator metadata (Nest DI and TypeORM need it; esbuild drops
 * it); type-checking is the separate `typecheck` target.
 */
const path = require('node:path');
const nodeExternals = require('webpack-node-externals');
const { TsconfigPathsPlugin } = require('tsconfig-paths-webpack-plugin');

const workspaceRoot = path.resolve(__dirname, '../..');
const rootPackage = require(path.join(workspaceRoot, 'package.json'));

/** Loaded with a computed require() (Nest's HTTP adapter, TypeORM's driver) or peers: webpack cannot see them. */
const RUNTIME_DEPENDENCIES = ['@nestjs/platform-express', 'pg', 'reflect-metadata', 'rxjs', 'tslib'];

/** Emits dist/apps/<name>/package.json with the external packages the bundle actually requires. */
class RuntimePackageJsonPlugin {
  constructor(name) {
    this.name = name;
  }

  apply(compiler) {
    compiler.hooks.thisCompilation.tap('RuntimePackageJsonPlugin', (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: 'RuntimePackageJsonPlugin', stage: compilation.constructor.PROCESS_ASSETS_STAGE_ADDITIONAL },
        () => {
          const used = new Set(RUNTIME_DEPENDENCIES);
          for (const module of compilation.modules) {
            if (module.constructor.name !== 'ExternalModule' || typeof module.request !== 'string') continue;
            if (module.request.startsWith('node:')) continue;
            const parts = module.request.split('/');
            const pkg = module.request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
            if (rootPackage.dependencies[pkg]) used.add(pkg);
            else if (!require('node:module').isBuiltin(pkg)) {
              compilation.errors.push(new Error(`${this.name}: "${pkg}" is required at run time but is not in package.json dependencies`));
            }
          }
          const manifest = {
            name: `@seqcast/${this.name}`,
            version: rootPackage.version,
            private: true,
            main: 'main.js',
            engines: rootPackage.engines,
            dependencies: Object.fromEntries([...used].sort().map((d) => [d, rootPackage.dependencies[d]])),
          };
          compilation.emitAsset('package.json', new compiler.webpack.sources.RawSource(JSON.stringify(manifest, null, 2) + '\n'));
        },
      );
    });
  }
}

module.exports = function appWebpackConfig(name) {
  const appRoot = path.join(workspaceRoot, 'apps', name);
  return {
    mode: 'production',
    target: 'node20',
    context: workspaceRoot,
    entry: path.join(appRoot, 'src/main.ts'),
    output: { path: path.join(workspaceRoot, 'dist/apps', name), filename: 'main.js', clean: true },
    devtool: 'source-map',
    resolve: {
      extensions: ['.ts', '.js'],
      plugins: [new TsconfigPathsPlugin({ configFile: path.join(workspaceRoot, 'tsconfig.base.json') })],
    },
    module: {
      rules: [
        {
          test: /\.ts$/,
          loader: 'ts-loader',
          options: { transpileOnly: true, configFile: path.join(appRoot, 'tsconfig.json') },
        },
      ],
    },
    externalsPresets: { node: true },
    externals: [nodeExternals({ modulesDir: path.join(workspaceRoot, 'node_modules') })],
    // Readable stack traces at 3 a.m. matter more than bytes in a server bundle.
    optimization: { minimize: false, nodeEnv: false },
    performance: { hints: false },
    plugins: [new RuntimePackageJsonPlugin(name)],
    stats: 'errors-warnings',
  };
};
