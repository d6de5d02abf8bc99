#!/usr/bin/env node
// The CLI is bundled into dist/bundle by `npm run build` (which `npm install` runs).
import('../dist/bundle/main.js').then(
  ({ main }) => main(process.argv.slice(2)).then((code) => { process.exitCode = code; }),
  (error) => {
    const notBuilt = error?.code === 'ERR_MODULE_NOT_FOUND';
    process.stderr.write(notBuilt
      ? 'warden: not built yet: run `npm install` (or `npm run build`) in the warden directory\n'
      : `warden: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 125;
  },
);
