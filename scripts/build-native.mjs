// Compiles warden's native helpers into dist/native/ (sources in src/sandbox/native/):
//   landlock-exec  the Landlock layer inside sandboxes
//   netns-enter    joins a sandbox's network namespace to open the proxy listener (non-root)
//   sandbox-exec   the last step before bubblewrap: cgroup, rlimits, pinned mounts, no stray fds
//   idmap-mount    (root) shows a user's project to a sandbox uid as its own, files staying the user's
//   supervisor     the long-lived process of each named sandbox: starts the commands of
//                  `warden exec` / `warden connect` for the gateway (frames: src/sandbox/frames.ts)
//   host.node      a Node-API addon: starts every sandbox's launcher (posix_spawn), peer
//                  credentials of gateway clients, link-safe mkdir
//
// A missing compiler or static C library does not fail `npm install`, so that the rest of warden
// (policy validation, presets, audit) still installs; but no sandbox can start without the
// helpers, and warden says so with this fix on every attempt. Set WARDEN_REQUIRE_NATIVE=1 (in CI)
// to make it a build failure. Needs on Debian/Ubuntu: `apt-get install gcc libc6-dev`, and Node's
// headers for the addon (Node's own include directory, or `libnode-dev`).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const HELPERS = ['landlock-exec', 'netns-enter', 'sandbox-exec', 'idmap-mount', 'supervisor'];
const ADDON = 'host.node';
// Static: the helper runs inside sandboxes whose filesystem may not have this host's libc.
const FLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2', '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong', '-static', '-s'];
const required = process.env.WARDEN_REQUIRE_NATIVE === '1';

function warnLoudly(problem) {
  const lines = [
    `warden: the native helpers were NOT built: ${problem}`,
    'warden: sandboxes cannot start until they are (warden run, sandbox create and',
    'warden: doctor will say so); policy validation, presets and audit still work.',
    'warden: fix: install a C compiler and static libc (Debian/Ubuntu: apt-get install gcc libc6-dev),',
    'warden: then run `npm run build` again.',
  ];
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${lines.join('\n')}\n${bar}\n\n`);
  process.exit(required ? 1 : 0);
}

function findCompiler() {
  for (const candidate of [process.env.CC, 'cc', 'gcc'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

// A stale helper from an earlier build must not outlive a failed one.
for (const name of [...HELPERS, ADDON]) rmSync(`dist/native/${name}`, { force: true });
if (process.platform !== 'linux') warnLoudly(`they use Linux system calls (this is ${process.platform})`);
const compiler = findCompiler();
if (compiler === undefined) warnLoudly('no C compiler found (tried $CC, cc, gcc)');

/** Node's own headers (node_api.h) for the addon: next to this Node, or where npm puts them. */
function nodeIncludeDir() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(process.config.variables.node_prefix ?? '/usr', 'include', 'node'),
    path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
}

function compile(name, output, args) {
  const partial = `${output}.partial-${process.pid}`;
  const result = spawnSync(compiler, [...args, '-o', partial, `src/sandbox/native/${name}.c`], { encoding: 'utf8' });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    const message = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
    warnLoudly(`${compiler} failed on ${name}${result.error ? ` (${result.error.message})` : ''}:\n${message}`);
  }
  chmodSync(partial, 0o755);
  renameSync(partial, output);
}

mkdirSync('dist/native', { recursive: true });
for (const name of HELPERS) compile(name, `dist/native/${name}`, FLAGS);
const include = nodeIncludeDir();
if (include === undefined) warnLoudly("Node's headers (node_api.h) were not found; install them (Debian: apt-get install libnode-dev) or set npm_config_nodedir");
compile('host-addon', `dist/native/${ADDON}`, ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2', '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong', '-shared', '-fPIC', '-s', '-I', include]);
