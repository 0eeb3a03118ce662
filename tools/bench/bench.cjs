#!/usr/bin/env node
/**
 * Entry point of `npm run bench -- <scenario> [options]`: runs the TypeScript sources directly
 * (SWC transpilation, the workspace's path aliases), so there is no build step to forget.
 */
require('./register.cjs');
require('./src/cli.ts');
