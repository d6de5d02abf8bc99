#!/usr/bin/env node
// The CLI is bundled into dist/bundle by `npm run build` (which `npm install` runs).
import('../dist/bundle/main.js').then(
  // Exit as soon as the command is done: a handle left open (a sandbox process that outlived
  // its supervisor, say) must not keep warden waiting forever. stdout and stderr are
  // synchronous for files, pipes and terminals on Linux, so nothing written is lost.
  ({ main }) => main(process.argv.slice(2)).then((code) => process.exit(code)),
  (error) => {
    const notBuilt = error?.code === 'ERR_MODULE_NOT_FOUND';
    process.stderr.write(notBuilt
      ? 'warden: not built yet: run `npm install` (or `npm run build`) in the warden directory\n'
      : `warden: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 125;
  },
);
