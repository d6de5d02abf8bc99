/**
 * Proves the real kernel accepts warden's seccomp program through bubblewrap and enforces it.
 * Each refusal is paired with the same command run without the filter, so every assertion
 * could fail: where the unfiltered run succeeds (or fails differently), the filter made the
 * difference. bwrap runs as an unprivileged uid even when the tests run as root.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSeccompFilter, hostSeccompArch } from '../../src/sandbox/seccomp.js';

const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].find((candidate) => fs.existsSync(candidate));
const PYTHON = '/usr/bin/python3';
const UNSHARE = '/usr/bin/unshare';
const NOBODY = 65534;
const EPERM = 1;
const EINVAL = 22;
const ENOSYS = 38;

interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  filter: boolean;
  /** Extra bwrap options placed before the command (same for both runs of a pair). */
  bwrapArgs?: readonly string[];
}

const filterFile = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-seccomp-e2e-'));
  const file = path.join(dir, 'filter.bpf');
  fs.writeFileSync(file, buildSeccompFilter(hostSeccompArch()), { mode: 0o600 });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
})();

function runSandboxed(command: readonly string[], options: RunOptions): RunResult {
  if (BWRAP === undefined) throw new Error('bwrap missing');
  // The program reaches bwrap as fd 3, opened by us: the unprivileged uid never needs to read the file.
  const programFd = fs.openSync(filterFile, 'r');
  try {
    const args = [
      '--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc',
      ...(options.bwrapArgs ?? []),
      ...(options.filter ? ['--seccomp', '3'] : []),
      '--', ...command,
    ];
    const asRoot = process.getuid?.() === 0;
    const result = spawnSync(BWRAP, args, {
      stdio: ['ignore', 'pipe', 'pipe', programFd],
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      encoding: 'utf8',
      timeout: 20_000,
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    if (result.error) throw result.error;
    return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  } finally {
    fs.closeSync(programFd);
  }
}

function python(script: string, options: RunOptions): RunResult {
  return runSandboxed([PYTHON, '-c', script], options);
}

/** Runs a python probe that prints one line; returns it, failing loudly on a crash. */
function probe(script: string, options: RunOptions): string {
  const result = python(script, options);
  assert.equal(result.status, 0, `probe crashed (filter=${options.filter}): ${result.stderr}`);
  return result.stdout.trim();
}

function whyUnavailable(): string | false {
  if (BWRAP === undefined) return 'bwrap is not installed';
  if (!fs.existsSync(PYTHON)) return `${PYTHON} is not installed`;
  const result = runSandboxed(['/bin/true'], { filter: false });
  if (result.status !== 0) return `bwrap cannot create a sandbox here: ${result.stderr.trim()}`;
  return false;
}

const skip = whyUnavailable();

// Calls made through libc with errno captured; prints "<return> <errno>".
const LIBC = 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long\n';
const report = (expression: string) => `${LIBC}r = ${expression}\nprint(r, ctypes.get_errno())`;

function socketProbe(family: string, type: string, protocol: number): string {
  return [
    'import socket',
    'try:',
    `    socket.socket(socket.${family}, socket.${type}, ${protocol}).close()`,
    '    print("created")',
    'except OSError as e:',
    '    print("errno", e.errno)',
  ].join('\n');
}

// Own a pty as controlling terminal, then push a byte into its input with TIOCSTI.
const TIOCSTI_PROBE = [
  'import os, fcntl, termios',
  'master, slave = os.openpty()',
  'name = os.ttyname(slave)',
  'os.setsid()',
  'tty = os.open(name, os.O_RDWR)',
  'try:',
  '    fcntl.ioctl(tty, termios.TIOCSTI, b"x")',
  '    print("injected", os.read(master, 1).decode())',
  'except OSError as e:',
  '    print("errno", e.errno)',
].join('\n');

// Ordinary work that must keep functioning under the filter.
const ORDINARY_WORK_PROBE = [
  'import ctypes, fcntl, os, socket, subprocess, termios, threading',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'results = []',
  't = threading.Thread(target=lambda: results.append("thread")); t.start(); t.join()',
  'results.append(subprocess.run(["/bin/sh", "-c", "echo child"], capture_output=True, text=True).stdout.strip())',
  'socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()',
  'socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()',
  'a, b = socket.socketpair(); a.close(); b.close()',
  'socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()',
  'assert libc.unshare(0x400) == 0, ctypes.get_errno()  # CLONE_FILES',
  'assert libc.personality(0xffffffff) >= 0',
  'r, w = os.pipe()',
  'try:',
  '    fcntl.ioctl(r, termios.TCGETS, bytes(64))',
  'except OSError as e:',
  '    assert e.errno != 1, "TCGETS refused by the filter"',
  'print(" ".join(results), "ok")',
].join('\n');

describe('seccomp filter enforced by the kernel through bwrap', { skip }, () => {
  test('bwrap loads the program: the sandbox runs in seccomp filter mode, unprivileged', () => {
    const status = (filter: boolean) => runSandboxed(['/bin/cat', '/proc/self/status'], { filter }).stdout;
    assert.match(status(true), /^Seccomp:\s+2$/m);
    assert.match(status(false), /^Seccomp:\s+0$/m);
    assert.match(status(true), /^NoNewPrivs:\s+1$/m);
    if (process.getuid?.() === 0) assert.match(status(true), new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
  });

  test('ordinary commands run under the filter', () => {
    const echo = runSandboxed(['/bin/sh', '-c', 'echo ok'], { filter: true });
    assert.equal(echo.status, 0, echo.stderr);
    assert.equal(echo.stdout, 'ok\n');
    assert.equal(probe(ORDINARY_WORK_PROBE, { filter: true }), 'thread child ok');
  });

  test('unshare -U (new user namespace) is refused', { skip: !fs.existsSync(UNSHARE) && 'unshare not installed' }, () => {
    const unfiltered = runSandboxed([UNSHARE, '-U', '/bin/true'], { filter: false });
    assert.equal(unfiltered.status, 0, `without the filter unshare -U should work: ${unfiltered.stderr}`);
    const filtered = runSandboxed([UNSHARE, '-U', '/bin/true'], { filter: true });
    assert.notEqual(filtered.status, 0);
    assert.match(filtered.stderr, /Operation not permitted/);
  });

  // As root of the sandbox's own user namespace with CAP_NET_RAW, the kernel itself would allow
  // these sockets (they only reach the sandbox's empty network namespace): only the filter refuses.
  const withNetRaw = ['--uid', '0', '--gid', '0', '--cap-add', 'CAP_NET_RAW'];

  test('AF_PACKET raw sockets are refused with EPERM', () => {
    const script = socketProbe('AF_PACKET', 'SOCK_RAW', 0);
    assert.equal(probe(script, { filter: false, bwrapArgs: withNetRaw }), 'created');
    assert.equal(probe(script, { filter: true, bwrapArgs: withNetRaw }), `errno ${EPERM}`);
  });

  test('AF_INET raw sockets are refused with EPERM', () => {
    const script = socketProbe('AF_INET', 'SOCK_RAW', 1);
    assert.equal(probe(script, { filter: false, bwrapArgs: withNetRaw }), 'created');
    assert.equal(probe(script, { filter: true, bwrapArgs: withNetRaw }), `errno ${EPERM}`);
  });

  test('ptrace(PTRACE_TRACEME) is refused with EPERM', () => {
    const script = report('libc.ptrace(0, 0, None, None)');
    assert.equal(probe(script, { filter: false }), '0 0');
    assert.equal(probe(script, { filter: true }), `-1 ${EPERM}`);
  });

  test('clone3 answers ENOSYS (the kernel alone would say EINVAL for these arguments)', () => {
    const script = report('libc.syscall(435, None, 0)');
    assert.equal(probe(script, { filter: false }), `-1 ${EINVAL}`);
    assert.equal(probe(script, { filter: true }), `-1 ${ENOSYS}`);
  });

  test('personality(ADDR_NO_RANDOMIZE) is refused with EPERM', () => {
    const script = report('libc.personality(0x0040000)');
    assert.equal(probe(script, { filter: false }), '0 0');
    assert.equal(probe(script, { filter: true }), `-1 ${EPERM}`);
  });

  test('TIOCSTI into the controlling terminal is refused with EPERM', () => {
    const unfiltered = probe(TIOCSTI_PROBE, { filter: false });
    // Kernels with dev.tty.legacy_tiocsti=0 already answer EIO; the filter's EPERM still differs.
    assert.ok(unfiltered === 'injected x' || unfiltered === 'errno 5', unfiltered);
    assert.equal(probe(TIOCSTI_PROBE, { filter: true }), `errno ${EPERM}`);
  });

  test('x32 syscalls are refused with EPERM', { skip: process.arch !== 'x64' && 'x32 exists only on x86_64' }, () => {
    const script = report('libc.syscall(0x40000000 | 39)'); // x32 getpid
    const unfiltered = probe(script, { filter: false });
    assert.notEqual(unfiltered, `-1 ${EPERM}`, 'without the filter: a pid, or ENOSYS where x32 is compiled out');
    assert.equal(probe(script, { filter: true }), `-1 ${EPERM}`);
  });
});
