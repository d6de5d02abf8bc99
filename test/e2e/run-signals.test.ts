// Signals and terminals: what reaches CMD, and what warden reports back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SKIP_NO_BWRAP, WARDEN, waitFor, wardenAsync } from './helpers.js';

const TRAP_SCRIPT = (signal: string, code: number) =>
  `trap 'echo got-${signal}; exit ${code}' ${signal}; echo ready; while :; do sleep 0.05; done`;

describe('signals reach CMD', { skip: SKIP_NO_BWRAP }, () => {
  for (const [signal, code] of [['TERM', 42], ['INT', 43], ['HUP', 44]] as const) {
    test(`SIG${signal} sent to warden is delivered to CMD`, async () => {
      const run = wardenAsync(['run', '--', 'sh', '-c', TRAP_SCRIPT(signal, code)]);
      await waitFor(() => run.stdout().includes('ready'));
      process.kill(run.pid, `SIG${signal}`);
      const result = await run.done;
      assert.equal(result.stdout, `ready\ngot-${signal}\n`);
      assert.equal(result.status, code);
    });
  }

  test('CMD killed by an untrapped SIGTERM gives 143', async () => {
    const run = wardenAsync(['run', '--', 'sh', '-c', 'echo ready; exec sleep 30']);
    await waitFor(() => run.stdout().includes('ready'));
    process.kill(run.pid, 'SIGTERM');
    assert.equal((await run.done).status, 143);
  });

  test('killing warden with SIGKILL takes the whole sandbox down', async () => {
    const marker = `${200 + (process.pid % 500)}.${Date.now() % 10000}`;
    const run = wardenAsync(['run', '--', 'sh', '-c', `sleep ${marker} & echo ready; wait`]);
    await waitFor(() => run.stdout().includes('ready'));
    assert.equal(spawnSync('pgrep', ['-f', `sleep ${marker}`]).status, 0, 'the sandboxed process runs');
    process.kill(run.pid, 'SIGKILL');
    await run.done;
    await waitFor(() => spawnSync('pgrep', ['-f', `sleep ${marker}`]).status !== 0, 5000);
  });
});

describe('terminals', { skip: SKIP_NO_BWRAP || (existsSync('/usr/bin/script') ? false : 'needs script(1)') }, () => {
  function underPty(command: string, input: string): string {
    return spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input, timeout: 30_000 }).stdout;
  }

  test('CMD gets a terminal when stdin is one, and not otherwise', () => {
    const probe = `${process.execPath} ${WARDEN} run -- sh -c 'test -t 0 && echo tty-in; test -t 1 && echo tty-out; echo TERM=$TERM'`;
    const withPty = underPty(probe, '');
    assert.match(withPty, /tty-in/);
    assert.match(withPty, /tty-out/);
    assert.match(withPty, /TERM=\S+/);
    const piped = spawnSync('sh', ['-c', probe], { encoding: 'utf8', input: '' }).stdout;
    assert.doesNotMatch(piped, /tty-in|tty-out/);
    assert.match(piped, /TERM=$/m);
  });

  test('terminal settings the sandbox changes are put back when it exits', () => {
    const check = "stty -a | grep -o -- ' -\\?echo ' | head -1";
    const control = underPty(`sh -c 'stty -echo'; ${check}`, '');
    assert.match(control, / -echo /, 'without warden the change sticks');
    const out = underPty(`${process.execPath} ${WARDEN} run -- sh -c 'stty -echo'; ${check}`, '');
    assert.match(out, / echo /);
    assert.doesNotMatch(out, / -echo /);
  });

  test('Ctrl-C on the terminal reaches CMD and warden returns its exit code', () => {
    const command = `${process.execPath} ${WARDEN} run -- sh -c "trap 'echo got-INT; exit 9' INT; echo ready; sleep 5; echo no-signal"; echo "exit=$?"`;
    const result = spawnSync('sh', ['-c', `(sleep 1.5; printf '\\003'; sleep 2) | script -qec '${command.replace(/'/g, `'"'"'`)}' /dev/null`],
      { encoding: 'utf8', timeout: 30_000 });
    assert.match(result.stdout, /got-INT/);
    assert.match(result.stdout, /exit=9/);
    assert.doesNotMatch(result.stdout, /no-signal/);
  });
});
