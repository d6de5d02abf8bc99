// Compiles warden's native helpers into dist/native/ (sources in src/sandbox/native/):
//   landlock-exec  the Landlock layer inside sandboxes
//   netns-enter    joins a sandbox's network namespace to open the proxy listener (non-root)
//   pty-exec       runs a command on a new pseudo-terminal for `warden connect` / `exec -t`
//
// A missing compiler or static C library is not a build failure: warden then runs without its
// Landlock layer and says so (best_effort warns, hard_requirement refuses), and refuses network
// policies when not run as root. Set WARDEN_REQUIRE_NATIVE=1 (in CI) to make it one, so a helper
// can never go missing silently. Needs on Debian/Ubuntu: `apt-get install gcc libc6-dev`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';

const HELPERS = ['landlock-exec', 'netns-enter', 'pty-exec'];
// Static: the helper runs inside sandboxes whose filesystem may not have this host's libc.
const FLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2', '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong', '-static', '-s'];
const required = process.env.WARDEN_REQUIRE_NATIVE === '1';

function warnLoudly(problem) {
  const lines = [
    `warden: the native helpers were NOT built: ${problem}`,
    'warden: sandboxes will be confined by the mount namespace only; policies with',
    'warden: `landlock.compatibility: hard_requirement` will refuse to start, and',
    'warden: network policies will be refused unless warden runs as root.',
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
for (const name of HELPERS) rmSync(`dist/native/${name}`, { force: true });
if (process.platform !== 'linux') warnLoudly(`they use Linux system calls (this is ${process.platform})`);
const compiler = findCompiler();
if (compiler === undefined) warnLoudly('no C compiler found (tried $CC, cc, gcc)');

mkdirSync('dist/native', { recursive: true });
for (const name of HELPERS) {
  const output = `dist/native/${name}`;
  const partial = `${output}.partial-${process.pid}`;
  const result = spawnSync(compiler, [...FLAGS, '-o', partial, `src/sandbox/native/${name}.c`], { encoding: 'utf8' });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    const message = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
    warnLoudly(`${compiler} failed on ${name}${result.error ? ` (${result.error.message})` : ''}:\n${message}`);
  }
  chmodSync(partial, 0o755);
  renameSync(partial, output);
}
