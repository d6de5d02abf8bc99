// warden's own process start for the sandbox launcher (posix_spawn through the addon): what the
// child gets must be what child_process.spawn with `detached: true` gave it, and nothing more.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, closeSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { launch, type LaunchedProcess } from '../../src/sandbox/launch.js';

function exited(child: LaunchedProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function output(child: LaunchedProcess): Promise<string> {
  let text = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => { text += chunk; });
  await Promise.all([exited(child), new Promise((resolve) => child.stdout!.once('close', resolve))]);
  return text;
}

const sh = (script: string, fds: Array<'pipe' | 'inherit' | 'ignore' | number> = ['ignore', 'pipe', 'inherit']) =>
  launch('/bin/sh', ['-c', script], { env: { PATH: '/usr/bin:/bin' }, fds });

describe('launch (posix_spawn)', () => {
  test('exit codes and signals are reported as child_process reports them', async () => {
    assert.deepEqual(await exited(sh('exit 7')), { code: 7, signal: null });
    assert.deepEqual(await exited(sh('kill -TERM $$')), { code: null, signal: 'SIGTERM' });
  });

  test('the child gets exactly the environment given', async () => {
    const child = launch('/usr/bin/env', [], { env: { PATH: '/bin', ONLY: 'this' }, fds: ['ignore', 'pipe', 'inherit'] });
    assert.deepEqual((await output(child)).trim().split('\n').sort(), ['ONLY=this', 'PATH=/bin']);
  });

  test('it runs in a session of its own, so that warden can signal its whole process group', async () => {
    const child = sh('read -r _ _ _ _ _ session _ < /proc/self/stat; echo "$$ $session"');
    const [pid, session] = (await output(child)).trim().split(' ').map(Number);
    assert.equal(pid, child.pid);
    assert.equal(session, child.pid, 'the child leads a new session');
  });

  test('no signal is ignored or blocked in the child, though Node ignores SIGPIPE', async () => {
    const child = sh('grep -E "^Sig(Ign|Blk):" /proc/self/status');
    const masks = Object.fromEntries((await output(child)).trim().split('\n').map((line) => line.split(/:\s+/)).map(([name, hex]) => [name, BigInt(`0x${hex}`)]));
    const SIGPIPE_BIT = 1n << 12n;
    assert.equal(masks.SigIgn! & SIGPIPE_BIT, 0n, 'SIGPIPE is back to its default');
    assert.equal(masks.SigBlk, 0n);
    // glibc's two internal signals (32, 33) are left ignored by posix_spawn; sandbox-exec resets them.
    assert.equal(masks.SigIgn! & ~(3n << 31n), 0n, `only glibc's internal signals may be ignored: ${masks.SigIgn!.toString(16)}`);
  });

  test('descriptors: pipes both ways, a descriptor of warden\'s placed at its number, nothing else (not even the caller\'s)', async () => {
    const file = openSync('/etc/hostname', 'r');
    try {
      const child = sh('cat <&3 >&4; readlink /proc/self/fd/5; ls /proc/self/fd', ['ignore', 'pipe', 'inherit', 'pipe', 'pipe', file]);
      child.stdio[3]!.end('through fd 3');
      let echoed = '';
      child.stdio[4]!.setEncoding('utf8').on('data', (chunk: string) => { echoed += chunk; });
      const [readLink, ...fds] = (await output(child)).trim().split('\n');
      assert.equal(echoed, 'through fd 3');
      assert.equal(readLink, '/etc/hostname');
      assert.deepEqual(fds.filter((fd) => fd !== '6').map(Number).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], 'ls itself holds 6; 0 is /dev/null ("ignore")');
    } finally {
      closeSync(file);
    }
  });

  test('a descriptor warden\'s caller left open (not close-on-exec) does not reach the child', () => {
    // A Node process that inherited fd 9, as from `exec 9</etc/hostname` in a shell.
    const script = `import('${new URL('../../src/sandbox/launch.js', import.meta.url).href}').then(({ launch }) => ` +
      "launch('/bin/ls', ['/proc/self/fd'], { env: {}, fds: ['ignore', 'inherit', 'inherit'] }))";
    const r = spawnSync(process.execPath, ['-e', `require('fs').readlinkSync('/proc/self/fd/9'); ${script}`],
      { stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map(Number), [0, 1, 2, 3], 'ls holds 3 itself; the inherited 9 is gone');
  });

  test('a program that cannot be started throws at once, and leaves no descriptor open in warden', () => {
    const before = readdirSync('/proc/self/fd').length;
    assert.throws(() => launch('/nonexistent/program', [], { env: {}, fds: ['ignore', 'pipe', 'pipe', 'pipe'] }), /cannot start \/nonexistent\/program: No such file/);
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });
});
