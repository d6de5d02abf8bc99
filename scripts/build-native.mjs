// Compiles warden's native helper, dist/native/landlock-exec (src/sandbox/native/landlock-exec.c).
//
// A missing compiler or static C library is not a build failure: warden then runs without its
// Landlock layer and says so (best_effort warns, hard_requirement refuses). Set
// WARDEN_REQUIRE_NATIVE=1 (in CI) to make it one, so the helper can never go missing silently.
// Needs on Debian/Ubuntu: `apt-get install gcc libc6-dev`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const SOURCE = 'src/sandbox/native/landlock-exec.c';
const OUTPUT = 'dist/native/landlock-exec';
// Static: the helper runs inside sandboxes whose filesystem may not have this host's libc.
const FLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2', '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong', '-static', '-s'];
const required = process.env.WARDEN_REQUIRE_NATIVE === '1';

function warnLoudly(problem) {
  const lines = [
    `warden: the Landlock helper was NOT built: ${problem}`,
    'warden: sandboxes will be confined by the mount namespace only; policies with',
    'warden: `landlock.compatibility: hard_requirement` will refuse to start.',
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
rmSync(OUTPUT, { force: true });
if (process.platform !== 'linux') warnLoudly(`Landlock exists on Linux only (this is ${process.platform})`);
const compiler = findCompiler();
if (compiler === undefined) warnLoudly('no C compiler found (tried $CC, cc, gcc)');

mkdirSync(path.dirname(OUTPUT), { recursive: true });
const partial = `${OUTPUT}.partial-${process.pid}`;
const result = spawnSync(compiler, [...FLAGS, '-o', partial, SOURCE], { encoding: 'utf8' });
if (result.status !== 0) {
  rmSync(partial, { force: true });
  const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
  warnLoudly(`${compiler} failed${result.error ? ` (${result.error.message})` : ''}:\n${output}`);
}
chmodSync(partial, 0o755);
renameSync(partial, OUTPUT);
