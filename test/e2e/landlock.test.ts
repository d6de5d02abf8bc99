/**
 * Proves the Landlock helper (dist/native/landlock-exec) makes the kernel refuse what its rules
 * do not grant. It runs directly on the host, as the unprivileged sandbox uid when the tests run
 * as root, so file permissions allow everything tried here and only Landlock can refuse it.
 * Every refusal is paired with the same command run without the helper (or with a rule that
 * grants it), which must succeed.
 *
 * "Landlock unavailable" is produced honestly: bubblewrap's seccomp filter makes the Landlock
 * system calls answer exactly what a kernel without Landlock answers (ENOSYS, EOPNOTSUPP).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BpfAssembler } from '../../src/sandbox/bpf-assembler.js';
import { probeLandlockAbi } from '../../src/sandbox/landlock.js';
import { AUDIT_ARCH, hostSeccompArch, SECCOMP_RET } from '../../src/sandbox/seccomp.js';
import { syscallNumber } from '../../src/sandbox/syscalls.js';
import { IS_ROOT, REPO_ROOT, tempDir, testEnv, waitFor } from './helpers.js';

const HELPER = path.join(REPO_ROOT, 'dist', 'native', 'landlock-exec');
const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].find((candidate) => fs.existsSync(candidate));
const NOBODY = 65534;
const RUN_AS = IS_ROOT ? { uid: NOBODY, gid: NOBODY } : { uid: process.getuid?.() ?? NOBODY, gid: process.getgid?.() ?? NOBODY };
const SYSTEM = ['--ro', '/usr', '--ro', '/lib', '--ro', '/lib64', '--ro', '/bin', '--ro', '/etc'];
const EXIT_SETUP = 125;
const ENOSYS = 38;
const EOPNOTSUPP = 95;
const EPERM = 1;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function abiOrSkipReason(): number | string {
  if (!fs.existsSync(HELPER)) return `${HELPER} is not built (needs gcc and libc6-dev; see scripts/build-native.mjs)`;
  const result = spawnSync(HELPER, ['--abi'], { encoding: 'utf8' });
  if (result.status !== 0) return `the kernel has no usable Landlock: ${result.stderr.trim()}`;
  return Number(result.stdout.trim());
}

const ABI = abiOrSkipReason();
const SKIP = typeof ABI === 'string' ? ABI : false;
const abi = typeof ABI === 'number' ? ABI : 0;

/** Runs argv as the sandbox uid (setpriv when root), with a minimal environment. */
function asSandboxUser(argv: string[], options: { stdio?: Array<number | 'ignore' | 'pipe'> } = {}): Result {
  const full = IS_ROOT ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : argv;
  const result = spawnSync(full[0]!, full.slice(1), {
    encoding: 'utf8', timeout: 20_000, cwd: '/', env: { PATH: '/usr/bin:/bin', LANG: 'C' },
    ...(options.stdio ? { stdio: options.stdio } : {}),
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function confined(rules: string[], command: string[]): Result {
  return asSandboxUser([HELPER, ...rules, '--', ...command]);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function sh(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

let area: { dir: string; cleanup: () => void };
let secret: string;

before(() => {
  if (SKIP) return;
  // /var/tmp rather than /tmp: nothing in the rules below covers it by accident.
  area = tempDir('warden-landlock-e2e-', '/var/tmp');
  fs.chmodSync(area.dir, 0o755);
  secret = path.join(area.dir, 'secret.txt');
  fs.writeFileSync(secret, 'the secret\n', { mode: 0o644 });
});
after(() => area?.cleanup());

/** A fresh directory every uid may write: only Landlock can refuse a write there. */
function openDir(name: string): string {
  const dir = path.join(area.dir, name);
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o777);
  return dir;
}

/** A file with exactly `mode` (writeFileSync's mode is filtered by the umask). */
function fileWithMode(file: string, content: string, mode: number): string {
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
  return file;
}

describe('landlock-exec on the host', { skip: SKIP }, () => {
  test('the helper reports the ABI warden probes', () => {
    assert.ok(abi >= 1);
    assert.equal(probeLandlockAbi(HELPER), abi);
  });

  test('a file outside the rules cannot be read; with a rule for its directory it can', () => {
    const outside = asSandboxUser(['cat', secret]);
    assert.equal(outside.status, 0, outside.stderr);
    assert.equal(outside.stdout, 'the secret\n');

    const refused = confined(SYSTEM, ['cat', secret]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /Permission denied/);
    assert.equal(refused.stdout, '');

    const granted = confined([...SYSTEM, '--ro', area.dir], ['cat', secret]);
    assert.equal(granted.status, 0, granted.stderr);
    assert.equal(granted.stdout, 'the secret\n');
  });

  test('a read-only directory refuses writes; a read-write one accepts them', () => {
    const ro = openDir('ro');
    const rw = openDir('rw');
    const unconfined = asSandboxUser(sh(`echo x > ${ro}/plain`));
    assert.equal(unconfined.status, 0, unconfined.stderr);

    const result = confined([...SYSTEM, '--ro', ro, '--rw', rw],
      sh(`echo x > ${ro}/f && echo ro-written; echo y > ${rw}/f && echo rw-written; mkdir ${rw}/d && echo rw-mkdir; ` +
        `rm ${ro}/plain && echo ro-removed; cat ${ro}/plain`));
    assert.equal(result.stdout, 'rw-written\nrw-mkdir\nx\n');
    assert.ok(!fs.existsSync(path.join(ro, 'f')));
    assert.equal(fs.readFileSync(path.join(rw, 'f'), 'utf8'), 'y\n');
  });

  test('a program outside the rules cannot be executed; with a read-only rule it can', () => {
    const bin = openDir('bin');
    const tool = path.join(bin, 'tool');
    fs.copyFileSync('/bin/true', tool);
    fs.chmodSync(tool, 0o755);
    assert.equal(asSandboxUser([tool]).status, 0);

    const refused = confined(SYSTEM, [tool]);
    assert.equal(refused.status, 126);
    assert.match(refused.stderr, /cannot execute .*tool: Permission denied/);
    const viaShell = confined(SYSTEM, sh(tool));
    assert.equal(viaShell.status, 126, viaShell.stderr);

    assert.equal(confined([...SYSTEM, '--ro', bin], [tool]).status, 0);
  });

  test('--rofile grants one file, not its neighbours', () => {
    const dir = openDir('files');
    fileWithMode(path.join(dir, 'a'), 'A\n', 0o666);
    fileWithMode(path.join(dir, 'b'), 'B\n', 0o644);
    const result = confined([...SYSTEM, '--rofile', path.join(dir, 'a')], sh(`cat ${dir}/a; cat ${dir}/b; echo z >> ${dir}/a`));
    assert.equal(result.stdout, 'A\n');
    assert.match(result.stderr, /b: Permission denied/);
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'A\n');
  });

  test('--rwfile makes one file writable without allowing new files beside it', () => {
    const dir = openDir('rwfile');
    const file = path.join(dir, 'log');
    fileWithMode(file, 'one\n', 0o666);
    const result = confined([...SYSTEM, '--rwfile', file], sh(`echo two >> ${file} && echo appended; echo n > ${dir}/new || echo no-new`));
    assert.equal(result.stdout, 'appended\nno-new\n');
    assert.equal(fs.readFileSync(file, 'utf8'), 'one\ntwo\n');
    assert.ok(!fs.existsSync(path.join(dir, 'new')));
  });

  test('--ro and --rw accept a single file, with file rights only', () => {
    const dir = openDir('single');
    const file = path.join(dir, 'data');
    fileWithMode(file, 'data\n', 0o666);
    const read = confined([...SYSTEM, '--ro', file], ['cat', file]);
    assert.equal(read.status, 0, read.stderr);
    assert.equal(read.stdout, 'data\n');
    const write = confined([...SYSTEM, '--rw', file], sh(`echo more >> ${file}`));
    assert.equal(write.status, 0, write.stderr);
    assert.equal(fs.readFileSync(file, 'utf8'), 'data\nmore\n');
  });

  test('a rule is never moved through a symbolic link: the link gets no rule', () => {
    const target = openDir('link-target');
    const link = path.join(area.dir, 'link');
    fs.symlinkSync(target, link);
    const viaLink = confined([...SYSTEM, '--rw', link], sh(`echo x > ${target}/via-link`));
    assert.notEqual(viaLink.status, 0);
    assert.ok(!fs.existsSync(path.join(target, 'via-link')));
    const direct = confined([...SYSTEM, '--rw', target], sh(`echo x > ${target}/direct`));
    assert.equal(direct.status, 0, direct.stderr);
    assert.ok(fs.existsSync(path.join(target, 'direct')));
  });

  test('missing paths are skipped', () => {
    const result = confined([...SYSTEM, '--ro', '/nonexistent/warden/path', '--rw', '/nonexistent/too'], ['echo', 'ran']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'ran\n');
  });

  test('--rofile naming a directory refuses to run anything', () => {
    const result = confined([...SYSTEM, '--rofile', area.dir], ['echo', 'ran']);
    assert.equal(result.status, EXIT_SETUP);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /is a directory, but was given as a single file; refusing to run the command/);
  });

  test('usage errors exit 125 without running the command', () => {
    for (const argv of [
      ['--ro', 'relative/path', '--', 'echo', 'ran'],
      ['--frobnicate', '--', 'echo', 'ran'],
      ['--ro', '/usr', 'echo', 'ran'],
      ['--ro', '/usr', '--'],
      ['--ro'],
    ]) {
      const result = asSandboxUser([HELPER, ...argv]);
      assert.equal(result.status, EXIT_SETUP, argv.join(' '));
      assert.equal(result.stdout, '', argv.join(' '));
      assert.match(result.stderr, /^warden: landlock-exec: /, argv.join(' '));
    }
  });

  test('a command that does not exist exits 127, one that is not executable 126', () => {
    const missing = confined(SYSTEM, ['/usr/bin/warden-no-such-program']);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /No such file or directory/);
    // Granted by Landlock, refused by its mode bits (0644).
    const notExecutable = confined([...SYSTEM, '--ro', area.dir], [secret]);
    assert.equal(notExecutable.status, 126);
    assert.match(notExecutable.stderr, /Permission denied/);
  });

  test('scoping: no signal reaches a process outside the Landlock domain', { skip: abi < 6 ? `ABI ${abi} has no scoping` : false }, async () => {
    const sleeper = IS_ROOT
      ? spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sleep', '30'], { stdio: 'ignore' })
      : spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid;
      assert.ok(pid);
      // setpriv changes uid before it execs sleep: once the process is sleep, the sandbox uid may signal it.
      await waitFor(() => readOrEmpty(`/proc/${pid}/comm`) === 'sleep\n', 'setpriv to exec sleep');
      const unconfined = asSandboxUser(sh(`kill -0 ${pid} && echo signalled`));
      assert.equal(unconfined.stdout, 'signalled\n', unconfined.stderr);
      const refused = confined(SYSTEM, sh(`kill -0 ${pid} && echo signalled`));
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /Operation not permitted/);
      // Inside the domain, signals still work: the shell signals its own child.
      // (sh gives a background job /dev/null as stdin when it has no terminal: allow it.)
      const inside = confined([...SYSTEM, '--rwfile', '/dev/null'], sh('sleep 30 & kill $! && wait $!; echo "status $?"'));
      assert.equal(inside.stdout, 'status 143\n', inside.stderr);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('scoping: abstract Unix sockets outside the domain are unreachable', { skip: abi < 6 ? `ABI ${abi} has no scoping` : false }, async () => {
    const name = `\0warden-landlock-e2e-${process.pid}`;
    const server = net.createServer((socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(name, resolve));
    try {
      const client = `require("net").connect(${JSON.stringify(name)}).on("data", (d) => process.stdout.write(d))` +
        '.on("error", (e) => { console.error(e.code); process.exit(3); })';
      const node = fs.realpathSync(process.execPath);
      const run = (withHelper: boolean) => new Promise<Result>((resolve) => {
        const argv = [...(withHelper ? [HELPER, ...SYSTEM, '--ro', path.dirname(node), '--'] : []), node, '-e', client];
        const full = IS_ROOT ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : argv;
        const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
        child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
        child.on('exit', (status) => resolve({ status, stdout, stderr }));
      });
      const unconfined = await run(false);
      assert.equal(unconfined.stdout, 'hello\n', unconfined.stderr);
      const refused = await run(true);
      assert.equal(refused.status, 3, refused.stderr);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /EPERM/);
    } finally {
      server.close();
    }
  });
});

/** A seccomp program that makes one system call fail with `errno`, as a kernel would. */
function failingSyscall(name: string, errno: number): Buffer {
  const arch = hostSeccompArch();
  const nr = syscallNumber(arch, name);
  assert.ok(nr !== undefined);
  return new BpfAssembler()
    .loadWord(4).jumpIfEqual(AUDIT_ARCH[arch], 'native', 'allow')
    .label('native').loadWord(0).jumpIfEqual(nr, 'fail', 'allow')
    .label('fail').ret(SECCOMP_RET.ERRNO | errno)
    .label('allow').ret(SECCOMP_RET.ALLOW)
    .assemble();
}

/** Runs the helper in a bubblewrap sandbox whose seccomp filter fails `syscall` with `errno`. */
function withFailingSyscall(syscall: string, errno: number, helperArgs: string[]): Result {
  assert.ok(BWRAP);
  const filterFile = path.join(area.dir, `filter-${syscall}-${errno}.bpf`);
  fs.writeFileSync(filterFile, failingSyscall(syscall, errno), { mode: 0o600 });
  const fd = fs.openSync(filterFile, 'r');
  try {
    const args = ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc',
      '--seccomp', '3', '--', HELPER, ...helperArgs];
    const result = spawnSync(BWRAP, args, {
      stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8', timeout: 20_000, cwd: '/',
      env: { PATH: '/usr/bin:/bin', LANG: 'C' }, ...(IS_ROOT ? RUN_AS : {}),
    });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    fs.closeSync(fd);
  }
}

describe('landlock-exec when the kernel has no Landlock', { skip: SKIP || (BWRAP === undefined ? 'bwrap is not installed' : false) }, () => {
  const command = [...SYSTEM, '--', 'echo', 'ran'];

  test('the simulation is honest: with the filter answering nothing unusual, Landlock applies', () => {
    const result = withFailingSyscall('getpriority', EPERM, command);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'ran\n');
    assert.equal(result.stderr, '');
  });

  for (const [errno, name] of [[ENOSYS, 'ENOSYS'], [EOPNOTSUPP, 'EOPNOTSUPP']] as const) {
    test(`${name}: hard requirement refuses with 125 and runs nothing`, () => {
      const result = withFailingSyscall('landlock_create_ruleset', errno, command);
      assert.equal(result.status, EXIT_SETUP);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^warden: landlock: not available on this kernel \\(${name}: .*\\); ` +
        'landlock.compatibility is hard_requirement: refusing to run the command\\n$'));
    });

    test(`${name}: best effort warns in one line and runs the command`, () => {
      const result = withFailingSyscall('landlock_create_ruleset', errno, ['--best-effort', ...command]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, 'ran\n');
      assert.match(result.stderr, new RegExp(`^warden: landlock: not available on this kernel \\(${name}: [^\\n]*\\); ` +
        'filesystem confined by the mount namespace only\\n$'));
    });
  }

  test('--abi reports the missing Landlock with exit 1', () => {
    const result = withFailingSyscall('landlock_create_ruleset', ENOSYS, ['--abi']);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /not available on this kernel \(ENOSYS/);
  });

  for (const syscall of ['landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self']) {
    test(`any other failure (${syscall} refused) is fatal even with --best-effort`, () => {
      const result = withFailingSyscall(syscall, EPERM, ['--best-effort', ...command]);
      assert.equal(result.status, EXIT_SETUP, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^warden: landlock: .*: Operation not permitted; refusing to run the command\n$/);
    });
  }
});

/** The helper inside real `warden run` sandboxes: the default filesystem, with and without Landlock. */
describe('Landlock inside warden sandboxes', { skip: SKIP || (BWRAP === undefined ? 'bwrap is not installed' : false) }, () => {
  function inSandbox(script: string, compatibility?: 'best_effort' | 'hard_requirement'): Result {
    const file = path.join(area.dir, `policy-${compatibility ?? 'none'}.yaml`);
    fs.writeFileSync(file, compatibility ? `version: 1\nlandlock:\n  compatibility: ${compatibility}\n` : 'version: 1\n');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'warden.js'), 'run', '--policy', file, '--', 'sh', '-c', script],
      { encoding: 'utf8', timeout: 30_000, env: testEnv() });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  const ORDINARY_WORK = [
    'echo x > /dev/null', 'head -c 4 /dev/urandom > /tmp/r', 'echo w > /sandbox/w', 'cat /sandbox/w > /dev/null',
    'mkdir /tmp/d && mv /tmp/r /tmp/d/r', 'grep -q sandbox /etc/passwd', 'cat /proc/self/status > /dev/null',
    'ls /usr/bin > /dev/null',
  ].join(' && ') + ' && echo ok';

  test('ordinary work keeps working: /dev, /tmp, /sandbox, /proc, the account files', () => {
    for (const compatibility of ['best_effort', 'hard_requirement'] as const) {
      const result = inSandbox(ORDINARY_WORK, compatibility);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, 'ok\n');
      assert.equal(result.stderr, '', 'Landlock applied: no warning');
    }
  });

  test('what the mount namespace shows but the policy does not list is refused, by default too', () => {
    // The sandbox's root directory exists for the mount points; the policy does not list it.
    const script = 'ls / > /dev/null && echo root-listed; true';
    // Control: the same mount namespace without Landlock (bare bubblewrap) lists it.
    const bare = spawnSync(BWRAP!, ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
      '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', 'sh', '-c', script], { encoding: 'utf8' });
    assert.equal(bare.stdout, 'root-listed\n', bare.stderr);
    for (const compatibility of [undefined, 'best_effort', 'hard_requirement'] as const) {
      const result = inSandbox(script, compatibility);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, '', `compatibility ${compatibility ?? '(no landlock section)'}`);
      assert.match(result.stderr, /cannot open directory '\/': Permission denied/);
    }
  });

  test('nothing under /dev can be executed, while a copy in /tmp can', () => {
    const script = 'cp /usr/bin/true /dev/shm/t && cp /usr/bin/true /tmp/t && /tmp/t && echo tmp-ran; /dev/shm/t && echo shm-ran; true';
    const result = inSandbox(script);
    assert.equal(result.stdout, 'tmp-ran\n', result.stderr);
    assert.match(result.stderr, /\/dev\/shm\/t: Permission denied/);
  });
});
