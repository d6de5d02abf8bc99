// Signals and terminals: what reaches CMD, and what warden reports back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SKIP_NO_BWRAP, WARDEN, tempDir, testEnv, waitFor, waitForOutput, wardenAsync } from './helpers.js';

const TRAP_SCRIPT = (signal: string, code: number) =>
  `trap 'echo got-${signal}; exit ${code}' ${signal}; echo ready; while :; do sleep 0.05; done`;

describe('signals reach CMD', { skip: SKIP_NO_BWRAP }, () => {
  for (const [signal, code] of [['TERM', 42], ['INT', 43], ['HUP', 44]] as const) {
    test(`SIG${signal} sent to warden is delivered to CMD`, async () => {
      const run = wardenAsync(['run', '--', 'sh', '-c', TRAP_SCRIPT(signal, code)]);
      await waitForOutput(run, 'ready');
      process.kill(run.pid, `SIG${signal}`);
      const result = await run.done;
      assert.equal(result.stdout, `ready\ngot-${signal}\n`);
      assert.equal(result.status, code);
    });
  }

  test('CMD killed by an untrapped SIGTERM gives 143', async () => {
    const run = wardenAsync(['run', '--', 'sh', '-c', 'echo ready; exec sleep 30']);
    await waitForOutput(run, 'ready');
    process.kill(run.pid, 'SIGTERM');
    assert.equal((await run.done).status, 143);
  });

  test('killing warden with SIGKILL takes the whole sandbox down', async () => {
    // Killed, warden cannot remove the temporary workdir it made: it makes it in a TMPDIR of
    // this test's, removed here.
    const tmp = tempDir('warden-e2e-sigkill-');
    chmodSync(tmp.dir, 0o755);
    try {
      const marker = `${200 + (process.pid % 500)}.${Date.now() % 10000}`;
      const run = wardenAsync(['run', '--', 'sh', '-c', `sleep ${marker} & echo ready; wait`], { env: { TMPDIR: tmp.dir } });
      await waitForOutput(run, 'ready');
      assert.equal(spawnSync('pgrep', ['-f', `sleep ${marker}`]).status, 0, 'the sandboxed process runs');
      process.kill(run.pid, 'SIGKILL');
      await run.done;
      await waitFor(() => spawnSync('pgrep', ['-f', `sleep ${marker}`]).status !== 0, 'the sandboxed sleep to die with warden');
    } finally {
      tmp.cleanup();
    }
  });
});

/**
 * Runs argv on a new pseudo-terminal and plays a script of steps: wait until a process whose
 * command line is exactly `process` runs (on the host, where the sandbox's processes are visible),
 * set the terminal's size to `resize` (the kernel sends SIGWINCH), type `send`, then wait until the output since the step began matches `expect`. Prints what the
 * terminal showed and the exit code; a step that times out ends with "driver-failed: ...".
 */
const PTY_SCRIPT_DRIVER = `
import fcntl, json, os, pty, re, select, struct, subprocess, sys, termios, time
steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out = b''
def read_some(timeout):
    global out
    if select.select([fd], [], [], timeout)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        out += chunk
    return True
def finish(note):
    global out
    deadline = time.time() + 30
    while time.time() < deadline and read_some(0.1):
        pass
    if time.time() >= deadline:
        os.kill(pid, 9)
        note += 'driver-failed: warden did not exit'
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors='replace') + note + '\\nexit=%d' % os.waitstatus_to_exitcode(status))
    sys.exit(0)
for step in steps:
    deadline = time.time() + 30
    if 'process' in step:
        while subprocess.run(['pgrep', '-f', '^' + step['process'] + '$'], stdout=subprocess.DEVNULL).returncode != 0:
            if time.time() > deadline:
                finish('\\ndriver-failed: no process ' + step['process'])
            read_some(0.05)
    mark = len(out)
    if 'resize' in step:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', step['resize'][0], step['resize'][1], 0, 0))
    if 'send' in step:
        os.write(fd, step['send'].encode())
    if 'expect' in step:
        while not re.search(step['expect'].encode(), out[mark:]):
            if time.time() > deadline or not read_some(0.1):
                finish('\\ndriver-failed: expected ' + step['expect'])
finish('')
`;

describe('terminals', { skip: SKIP_NO_BWRAP || (existsSync('/usr/bin/script') ? false : 'needs script(1)') }, () => {
  function underPty(command: string, input: string): string {
    return spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input, timeout: 30_000, env: testEnv() }).stdout;
  }

  test('CMD gets a terminal when stdin is one, and not otherwise', () => {
    const probe = `${process.execPath} ${WARDEN} run -- sh -c 'test -t 0 && echo tty-in; test -t 1 && echo tty-out; echo TERM=$TERM'`;
    const withPty = underPty(probe, '');
    assert.match(withPty, /tty-in/);
    assert.match(withPty, /tty-out/);
    assert.match(withPty, /TERM=\S+/);
    const piped = spawnSync('sh', ['-c', probe], { encoding: 'utf8', input: '', env: testEnv() }).stdout;
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

  test('Ctrl-C on the terminal reaches CMD and the processes it started, and warden returns its exit code', () => {
    // CMD notes the signal and waits for its child; the child leaves only on SIGINT, so only a
    // terminal-style delivery to the whole process group ends the run (else the driver gives up).
    const cmd = [
      'import os, signal, sys, time',
      'got = []',
      'signal.signal(signal.SIGINT, lambda *_: got.append(1))',
      'pid = os.fork()',
      'if pid == 0:',
      // os.write, not print: the signal may arrive while the main code is still inside print's
      // BufferedWriter ("ready"), and print from the handler would then raise "reentrant call".
      "    signal.signal(signal.SIGINT, lambda *_: (os.write(1, b'child-got-INT\\n'), os._exit(3)))",
      "    print('ready', flush=True)",
      '    while True: time.sleep(1)',
      '_, status = os.waitpid(pid, 0)',
      "print('parent-got-INT' if got else 'parent-missed-INT', 'child-exit=%d' % os.waitstatus_to_exitcode(status), flush=True)",
      'sys.exit(9)',
    ].join('\n');
    const steps = [{ expect: 'ready' }, { send: '\x03' }];
    const result = spawnSync('python3', ['-c', PTY_SCRIPT_DRIVER, JSON.stringify(steps), process.execPath, WARDEN, 'run', '--', 'python3', '-c', cmd],
      { encoding: 'utf8', timeout: 60_000, env: testEnv() });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /child-got-INT/);
    assert.match(result.stdout, /parent-got-INT child-exit=3/);
    assert.doesNotMatch(result.stdout, /driver-failed/);
    assert.match(result.stdout, /exit=9$/);
  });
});

describe('an interactive shell under warden run', { skip: SKIP_NO_BWRAP || (existsSync('/bin/bash') ? false : 'needs bash') }, () => {
  test('gets a terminal of its own: a /dev/pts tty, job control, Ctrl-C and Ctrl-Z for its jobs, window size, its exit code', () => {
    const sleeps = [0, 1, 2].map((i) => `sleep ${300 + (process.pid % 500)}.${i}`);
    const steps = [
      // $(tty) and $- are expanded by the shell: the echo of the typed line does not match. $-
      // holds m while job control is on.
      { send: 'echo "T=$(tty) FLAGS=$-"\n', expect: 'T=\\S+ FLAGS=[A-Za-z]+' },
      { send: `${sleeps[0]} &\njobs; echo "J=$((40+2))"\n`, expect: 'J=42' },
      { process: sleeps[1], send: '\x03' },
      { send: 'echo "INTERRUPTED=$((3+4))"\n', expect: 'INTERRUPTED=7' },
      { process: sleeps[2], send: '\x1a', expect: 'Stopped' },
      { send: 'kill -9 %1 %2; disown -a; echo "KILLED=$((5+5))"\n', expect: 'KILLED=10' },
      // The new size reaches the sandbox's terminal through warden's SIGWINCH, in its own time.
      { resize: [33, 101], send: 'for i in $(seq 300); do [ "$(stty size)" = "33 101" ] && break; sleep 0.1; done; echo "SIZE=$(stty size)"\n', expect: 'SIZE=\\d+ \\d+' },
      { send: 'exit 7\n' },
    ];
    // Ctrl-C is typed while sleeps[1] runs in the foreground: the steps put it there.
    steps.splice(2, 0, { send: `${sleeps[1]}\n` } as never);
    steps.splice(5, 0, { send: `${sleeps[2]}\n` } as never);
    const result = spawnSync('python3', ['-c', PTY_SCRIPT_DRIVER, JSON.stringify(steps), process.execPath, WARDEN, 'run', '--', 'bash', '--norc', '--noprofile', '-i'],
      { encoding: 'utf8', timeout: 240_000, env: testEnv() });
    assert.equal(result.status, 0, result.stderr);
    const shown = result.stdout;
    assert.doesNotMatch(shown, /driver-failed/, shown);
    assert.doesNotMatch(shown, /no job control/, shown);
    assert.match(shown, /T=\/dev\/pts\/\d+ FLAGS=[A-Za-z]*m/, shown);
    assert.match(shown, new RegExp(`\\[1\\]\\+\\s+Running\\s+${sleeps[0]!.replace('.', '\\.')} &`), shown);
    assert.match(shown, new RegExp(`Stopped\\s+${sleeps[2]!.replace('.', '\\.')}`), shown);
    assert.match(shown, /SIZE=33 101/, shown);
    assert.match(shown, /exit=7$/);
  });
});
