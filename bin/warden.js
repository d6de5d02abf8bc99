#!/usr/bin/env node
import('../dist/src/cli/main.js').then(({ main }) => main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (error) => { process.stderr.write(`warden: internal error: ${error?.stack ?? error}\n`); process.exitCode = 125; },
);
