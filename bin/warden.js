#!/bin/sh
':' //; [ -n "$NODE_EXTRA_CA_CERTS" ] && export WARDEN_DEFERRED_CA_CERTS="$NODE_EXTRA_CA_CERTS" && unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"
// ^ For the shell, then Node (to which that line is a string and a comment). Node parses every
// certificate NODE_EXTRA_CA_CERTS names before it runs any code: with a system bundle, 40 ms of
// every command, most of which never make a TLS connection. The shell hands the file over under
// another name; warden gives it back to the programs it starts (they load it themselves) and adds
// it to the roots of its own TLS connections when it makes them (src/cli/trust.ts).
import { closeSync, readdirSync, readFileSync } from 'node:fs';

// Security invariant: nothing warden's caller left open may outlive this point. A descriptor
// inherited from the shell (`exec 200</`) would otherwise pass on to every program warden starts,
// among them the gateway and, through it, sandboxes. Node opens all of its own descriptors
// close-on-exec, so any descriptor above 2 without that flag came from the caller.
// (sandbox-exec closes everything it was not told to keep as well: two layers.)
const CLOSE_ON_EXEC = 0o2000000;
for (const entry of readdirSync('/proc/self/fd')) {
  const fd = Number(entry);
  if (fd <= 2) continue;
  try {
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (flags && (parseInt(flags[1], 8) & CLOSE_ON_EXEC) === 0) closeSync(fd);
  } catch {
    // gone already (the directory listing's own descriptor)
  }
}

// The reader of warden's output went away (`warden sandbox list | head -1`, `warden exec dev -- cat
// big | head`): end quietly with 0, as output that was wanted only up to there. A closed stderr
// is ignored: there is nobody left to tell. (Synchronous writes are handled in src/cli/output.ts.)
process.stdout.on('error', (error) => {
  if (error?.code === 'EPIPE') process.exit(0);
  throw error;
});
process.stderr.on('error', (error) => {
  if (error?.code !== 'EPIPE') throw error;
});

const deferredCaFile = process.env.NODE_EXTRA_CA_CERTS === undefined ? process.env.WARDEN_DEFERRED_CA_CERTS : undefined;
delete process.env.WARDEN_DEFERRED_CA_CERTS;
if (deferredCaFile) process.env.NODE_EXTRA_CA_CERTS = deferredCaFile;

// The CLI is bundled into dist/bundle by `npm run build` (which `npm install` runs).
import('../dist/bundle/main.js').then(
  // Exit as soon as the command is done: a handle left open (a sandbox process that outlived
  // its supervisor, say) must not keep warden waiting forever. stdout and stderr are
  // synchronous for files, pipes and terminals on Linux, so nothing written is lost.
  ({ main }) => main(process.argv.slice(2), { deferredCaFile }).then((code) => process.exit(code)),
  (error) => {
    const notBuilt = error?.code === 'ERR_MODULE_NOT_FOUND';
    process.stderr.write(notBuilt
      ? 'warden: not built yet: run `npm install` (or `npm run build`) in the warden directory\n'
      : `warden: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 125;
  },
);
