/**
 * The chaos tool as one bundle (dist/tools/chaos/main.js): workspace libraries (the client SDK, the
 * harness) are path aliases, so they are bundled; node_modules stay external.
 */
const path = require('node:path');
const nodeExternals = require('webpack-node-externals');
const { TsconfigPathsPlugin } = require('tsconfig-paths-webpack-plugin');

const workspaceRoot = path.resolve(__dirname, '../..');

module.exports = {
  mode: 'production',
  target: 'node20',
  context: workspaceRoot,
  entry: path.join(__dirname, 'src/main.ts'),
  output: { path: path.join(workspaceRoot, 'dist/tools/chaos'), filename: 'main.js', clean: true },
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
        options: { transpileOnly: true, configFile: path.join(__dirname, 'tsconfig.json') },
      },
    ],
  },
  externalsPresets: { node: true },
  externals: [nodeExternals({ modulesDir: path.join(workspaceRoot, 'node_modules') })],
  optimization: { minimize: false, nodeEnv: false },
  performance: { hints: false },
  stats: 'errors-warnings',
};
