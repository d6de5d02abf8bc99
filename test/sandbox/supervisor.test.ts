// The supervisor run on the host through pipes, as the gateway drives it inside a sandbox.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeFrame, FRAME, FrameDecoder, frameJson, type Frame, type FrameType, type StartFailedPayload, type TtySize } from '../../src/sandbox/frames.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SUPERVISOR = path.join(REPO_ROOT, 'dist', 'src', 'sandbox', 'supervisor.js');
const BUNDLED_SUPERVISOR = path.join(REPO_ROOT, 'dist', 'bundle', 'supervisor.js');
const PTY_HELPER = path.join(REPO_ROOT, 'dist', 'native', 'pty-exec');
const SKIP_NO_PTY_HELPER = existsSync(PTY_HELPER) ? false : 'dist/native/pty-exec is not built (npm run build)';
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C' };

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-supervisor-test-'));
const running = new Set<Harness>();
after(async () => {
  for (const harness of running) await harness.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function processRuns(marker: string): boolean {
  return spawnSync('pgrep', ['-f', marker]).status === 0;
}

/** A unique `sleep` argument, so pgrep finds exactly the processes this test started. */
function sleepMarker(): string {
  return `${300 + (process.pid % 500)}.${Math.floor(Math.random() * 1e6)}`;
}

interface StartOptions { env?: Record<string, string>; cwd?: string; tty?: TtySize | null }

/** One supervisor process and the frames it sent back. */
class Harness {
  readonly process: ChildProcess;
  readonly frames: Frame[] = [];
  stderr = '';
  exitCode: number | null | undefined;
  private readonly decoder = new FrameDecoder();

  constructor(script = SUPERVISOR, ptyHelper = PTY_HELPER) {
    this.process = spawn(process.execPath, [script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Stands in for the environment bubblewrap gives the supervisor inside a sandbox.
      env: { SANDBOX_BASE: 'from-sandbox', ONLY: 'overridden', WARDEN_PTY_HELPER: ptyHelper },
    });
    this.process.stdout!.on('data', (chunk: Buffer) => this.frames.push(...this.decoder.push(chunk)));
    this.process.stderr!.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.process.stdin!.on('error', () => {}); // a supervisor that ended on bad input closes its stdin
    this.process.on('exit', (code) => { this.exitCode = code; running.delete(this); });
    running.add(this);
  }

  send(type: FrameType, channel: number, payload: Buffer | string | object = Buffer.alloc(0)): void {
    this.process.stdin!.write(encodeFrame(type, channel, payload));
  }

  start(channel: number, argv: string[], options: StartOptions = {}): void {
    this.send(FRAME.start, channel, { argv, env: options.env ?? ENV, cwd: options.cwd ?? scratch, tty: options.tty ?? null });
  }

  of(channel: number, type?: FrameType): Frame[] {
    return this.frames.filter((frame) => frame.channel === channel && (type === undefined || frame.type === type));
  }

  text(channel: number, type: FrameType = FRAME.stdout): string {
    return Buffer.concat(this.of(channel, type).map((frame) => frame.payload)).toString('utf8');
  }

  async exitOf(channel: number): Promise<number> {
    await waitFor(() => this.of(channel, FRAME.exit).length > 0, `exit on channel ${channel}; stderr: ${this.stderr}`);
    const frames = this.of(channel);
    assert.equal(frames.at(-1)!.type, FRAME.exit, 'exit is the last frame of its channel');
    return frameJson<{ code: number }>(frames.at(-1)!).code;
  }

  async startFailure(channel: number): Promise<StartFailedPayload> {
    await waitFor(() => this.of(channel).length > 0, `an answer on channel ${channel}`);
    const frames = this.of(channel);
    assert.deepEqual(frames.map((frame) => frame.type), [FRAME.startFailed]);
    return frameJson<StartFailedPayload>(frames[0]!);
  }

  async ended(): Promise<number | null> {
    await waitFor(() => this.exitCode !== undefined, 'the supervisor to exit');
    return this.exitCode!;
  }

  /** Ends the control channel (which must make the supervisor kill everything and exit 0). */
  async close(): Promise<number | null> {
    if (this.exitCode === undefined) this.process.stdin!.end();
    try {
      return await this.ended();
    } finally {
      if (this.exitCode === undefined) this.process.kill('SIGKILL');
    }
  }
}

describe('supervisor: commands without a terminal', () => {
  test('streams stdout and stderr separately and reports the exit code', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(await supervisor.exitOf(1), 7);
    assert.equal(supervisor.of(1)[0]!.type, FRAME.started);
    assert.ok(frameJson<{ pid: number }>(supervisor.of(1)[0]!).pid > 0);
    assert.equal(supervisor.text(1, FRAME.stdout), 'out\n');
    assert.equal(supervisor.text(1, FRAME.stderr), 'err\n');
    assert.equal(await supervisor.close(), 0);
  });

  test('stdin frames reach the command, and stdinEnd closes its input', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['cat']);
    supervisor.send(FRAME.stdin, 1, 'hello ');
    supervisor.send(FRAME.stdin, 1, Buffer.from('world\n'));
    await waitFor(() => supervisor.text(1) === 'hello world\n', 'cat to echo its input');
    assert.equal(supervisor.of(1, FRAME.exit).length, 0, 'cat still runs while its input is open');
    supervisor.send(FRAME.stdinEnd, 1);
    assert.equal(await supervisor.exitOf(1), 0);
    await supervisor.close();
  });

  test('the command gets the sandbox environment with what it was sent on top, and the working directory', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'env; pwd'], { env: { PATH: '/usr/bin:/bin', ONLY: 'this' }, cwd: '/usr' });
    assert.equal(await supervisor.exitOf(1), 0);
    const lines = supervisor.text(1).trim().split('\n');
    assert.equal(lines.at(-1), '/usr');
    assert.ok(lines.includes('ONLY=this'));
    assert.ok(lines.includes('SANDBOX_BASE=from-sandbox'));
    assert.ok(!lines.includes('ONLY=overridden'));
    assert.ok(!lines.some((line) => line.startsWith('HOME=') || line.startsWith('WARDEN_PTY_HELPER=')), lines.join('\n'));
    await supervisor.close();
  });

  test('the command holds no descriptor but its stdio (the control channel never leaks)', async () => {
    // No pipeline: a shell holds the pipe's descriptors for a moment while it starts one.
    const listing = 'ls -1 /proc/$$/fd';
    const descriptors = (text: string) => text.split(/\s+/).filter(Boolean).join(' ');
    // Descriptors this test runner itself inherited without close-on-exec reach any child it
    // starts; anything beyond those would be the supervisor's own.
    const baseline = descriptors(spawnSync('sh', ['-c', listing], { encoding: 'utf8' }).stdout);
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', listing]);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(descriptors(supervisor.text(1)), baseline);
    if (!SKIP_NO_PTY_HELPER) {
      // The PTY helper closes everything above fd 2, inherited or not.
      supervisor.start(2, ['sh', '-c', listing], { tty: { rows: 5, cols: 80 } });
      assert.equal(await supervisor.exitOf(2), 0);
      assert.equal(descriptors(supervisor.text(2)), '0 1 2');
    }
    await supervisor.close();
  });

  test('a large output arrives whole (backpressure keeps frames intact)', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['head', '-c', '5000000', '/dev/urandom']);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.of(1, FRAME.stdout).reduce((sum, frame) => sum + frame.payload.length, 0), 5_000_000);
    await supervisor.close();
  });

  test('127 for a missing command, 126 for a file that is not executable, like a shell', async () => {
    const bin = mkdtempSync(path.join(scratch, 'bin-'));
    writeFileSync(path.join(bin, 'plain'), '#!/bin/sh\necho ran-plain\n', { mode: 0o644 });
    writeFileSync(path.join(bin, 'tool'), '#!/bin/sh\necho ran-tool\n', { mode: 0o755 });
    chmodSync(path.join(bin, 'tool'), 0o755);
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const supervisor = new Harness();
    supervisor.start(1, ['no-such-command-warden'], { env });
    supervisor.start(2, [path.join(bin, 'missing')], { env });
    supervisor.start(3, ['plain'], { env });
    supervisor.start(4, [path.join(bin, 'plain')], { env });
    supervisor.start(5, ['tool'], { env });
    supervisor.start(6, ['sh', '-c', 'true'], { env: {} });
    assert.equal((await supervisor.startFailure(1)).code, 127);
    assert.equal((await supervisor.startFailure(2)).code, 127);
    assert.equal((await supervisor.startFailure(3)).code, 126);
    assert.equal((await supervisor.startFailure(4)).code, 126);
    assert.equal(await supervisor.exitOf(5), 0, 'found through PATH and run');
    assert.equal(supervisor.text(5), 'ran-tool\n');
    assert.equal((await supervisor.startFailure(6)).code, 127, 'no PATH: nothing is searched');
    await supervisor.close();
  });

  test('a malformed start request gets 125 and leaves the supervisor running', async () => {
    const supervisor = new Harness();
    supervisor.send(FRAME.start, 1, { argv: [], env: {}, cwd: '/', tty: null });
    supervisor.send(FRAME.start, 2, { argv: ['true'], env: { PATH: 1 }, cwd: '/', tty: null });
    supervisor.start(3, ['true'], { cwd: path.join(scratch, 'no-such-dir') });
    supervisor.start(4, ['true'], { tty: { rows: 0, cols: 80 } });
    for (const channel of [1, 2, 3, 4]) assert.equal((await supervisor.startFailure(channel)).code, 125);
    supervisor.start(5, ['true']);
    assert.equal(await supervisor.exitOf(5), 0);
    await supervisor.close();
  });

  test('two concurrent execs on different channels do not mix', async () => {
    const supervisor = new Harness();
    const script = (name: string) => `for i in 1 2 3 4 5; do echo ${name}-$i; echo ${name}-err-$i >&2; sleep 0.02; done; cat`;
    supervisor.start(11, ['sh', '-c', script('one')]);
    supervisor.start(22, ['sh', '-c', script('two')]);
    supervisor.send(FRAME.stdin, 22, 'input-for-two\n');
    supervisor.send(FRAME.stdin, 11, 'input-for-one\n');
    supervisor.send(FRAME.stdinEnd, 11);
    supervisor.send(FRAME.stdinEnd, 22);
    assert.equal(await supervisor.exitOf(11), 0);
    assert.equal(await supervisor.exitOf(22), 0);
    const expected = (name: string) => [1, 2, 3, 4, 5].map((i) => `${name}-${i}\n`).join('') + `input-for-${name}\n`;
    assert.equal(supervisor.text(11), expected('one'));
    assert.equal(supervisor.text(22), expected('two'));
    assert.equal(supervisor.text(11, FRAME.stderr), [1, 2, 3, 4, 5].map((i) => `one-err-${i}\n`).join(''));
    await supervisor.close();
  });

  test('a channel in use cannot be started again; it can after its exit', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['cat']);
    await waitFor(() => supervisor.of(1).length > 0, 'started');
    supervisor.start(1, ['echo', 'intruder']);
    await waitFor(() => supervisor.of(1, FRAME.startFailed).length > 0, 'the second start to be refused');
    supervisor.send(FRAME.stdinEnd, 1);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), '', 'the refused command never ran');
    supervisor.frames.length = 0;
    supervisor.start(1, ['echo', 'again']);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), 'again\n');
    await supervisor.close();
  });
});

describe('supervisor: signals', () => {
  test('SIGINT reaches the command and the child it waits for (the whole process group)', async () => {
    const supervisor = new Harness();
    const child = `trap 'echo child-int; exit 3' INT; echo ready; while :; do sleep 0.05; done`;
    supervisor.start(1, ['sh', '-c', `trap 'echo parent-int' INT; sh -c "${child}"; echo child-exit=$?; exit 9`]);
    await waitFor(() => supervisor.text(1).includes('ready'), 'ready');
    supervisor.send(FRAME.signal, 1, { signal: 'SIGINT' });
    assert.equal(await supervisor.exitOf(1), 9);
    assert.match(supervisor.text(1), /child-int\n/);
    assert.match(supervisor.text(1), /parent-int\n/);
    assert.match(supervisor.text(1), /child-exit=3\n/);
    await supervisor.close();
  });

  test('signals outside the allowed set are ignored; a killed command reports 128+N', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sleep', '30']);
    await waitFor(() => supervisor.of(1, FRAME.started).length > 0, 'started');
    supervisor.send(FRAME.signal, 1, { signal: 'SIGSEGV' });
    supervisor.send(FRAME.signal, 1, { signal: 'SIGSTOP' });
    supervisor.send(FRAME.signal, 1, { signal: 'nonsense' });
    supervisor.send(FRAME.signal, 1, { signal: 9 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(supervisor.of(1, FRAME.exit).length, 0, 'still running');
    supervisor.send(FRAME.signal, 1, { signal: 'SIGTERM' });
    assert.equal(await supervisor.exitOf(1), 143);
    await supervisor.close();
  });
});

describe('supervisor: terminals', { skip: SKIP_NO_PTY_HELPER }, () => {
  test('a tty exec runs on a terminal of the requested size, and follows a resize', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'test -t 0 && test -t 1 && echo on-a-tty; stty size; while read line; do stty size; done'],
      { tty: { rows: 24, cols: 81 }, env: { ...ENV, TERM: 'dumb' } });
    await waitFor(() => /24 81/.test(supervisor.text(1)), 'the first size');
    assert.match(supervisor.text(1), /on-a-tty/);
    supervisor.send(FRAME.resize, 1, { rows: 40, cols: 123 });
    // Each line typed prints the size; the resize travels on another pipe, so type until it shows.
    await waitFor(() => {
      supervisor.send(FRAME.stdin, 1, '\n');
      return /40 123/.test(supervisor.text(1));
    }, 'the new size');
    supervisor.send(FRAME.stdin, 1, '\x04'); // Ctrl-D: end of input on the terminal
    assert.equal(await supervisor.exitOf(1), 0);
    await supervisor.close();
  });

  test('without a tty the command has no terminal', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'test -t 0 || test -t 1 || echo no-tty']);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), 'no-tty\n');
    await supervisor.close();
  });

  test('a missing PTY helper is a setup failure (125), not a missing command', async () => {
    const supervisor = new Harness(SUPERVISOR, path.join(scratch, 'no-pty-exec'));
    supervisor.start(1, ['true'], { tty: { rows: 10, cols: 10 } });
    const failure = await supervisor.startFailure(1);
    assert.equal(failure.code, 125);
    assert.match(failure.message, /PTY helper/);
    await supervisor.close();
  });

  test('exit code and signals pass through the PTY helper', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'exit 5'], { tty: { rows: 10, cols: 10 } });
    assert.equal(await supervisor.exitOf(1), 5);
    supervisor.start(2, ['sh', '-c', 'echo ready; exec sleep 30'], { tty: { rows: 10, cols: 10 } });
    await waitFor(() => supervisor.text(2).includes('ready'), 'ready');
    supervisor.send(FRAME.signal, 2, { signal: 'SIGTERM' });
    assert.equal(await supervisor.exitOf(2), 143);
    await supervisor.close();
  });
});

describe('supervisor: ending', () => {
  test('closing the control channel kills everything it started, terminals included', async () => {
    const markers = [sleepMarker(), sleepMarker(), sleepMarker(), sleepMarker()];
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', `sleep ${markers[0]} & echo ready; wait`]);
    // A descendant that left the process group is still found and killed.
    supervisor.start(2, ['sh', '-c', `setsid sleep ${markers[1]} & echo ready; wait`]);
    if (!SKIP_NO_PTY_HELPER) {
      // On a terminal, and deaf to the hang-up the terminal's end would send.
      supervisor.start(3, ['sh', '-c', `trap '' HUP; sleep ${markers[2]} & echo ready; wait`], { tty: { rows: 10, cols: 40 } });
    }
    supervisor.start(4, ['sh', '-c', `trap '' TERM HUP INT; echo ready; exec sleep ${markers[3]}`]);
    const channels = SKIP_NO_PTY_HELPER ? [1, 2, 4] : [1, 2, 3, 4];
    await waitFor(() => channels.every((channel) => supervisor.text(channel).includes('ready')), 'every command to be ready');
    const started = SKIP_NO_PTY_HELPER ? [markers[0]!, markers[1]!, markers[3]!] : markers;
    for (const marker of started) await waitFor(() => processRuns(`sleep ${marker}`), `sleep ${marker} to run`);
    assert.equal(await supervisor.close(), 0);
    for (const marker of started) await waitFor(() => !processRuns(`sleep ${marker}`), `sleep ${marker} to be killed`, 5000);
  });

  for (const [name, garbage] of [
    ['an unknown frame type', Buffer.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54, 0x54, 0x50])],
    ['an oversized frame', Buffer.from([FRAME.stdin, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff])],
    ['channel 0', encodeFrame(FRAME.start, 0, { argv: ['true'], env: ENV, cwd: '/', tty: null })],
    ['a start payload that is not JSON', encodeFrame(FRAME.start, 5, 'not json')],
    ['a frame only the supervisor may send', encodeFrame(FRAME.exit, 1, { code: 0 })],
  ] as const) {
    test(`${name} ends the supervisor, its commands with it, and nothing else`, async () => {
      const marker = sleepMarker();
      const victim = new Harness();
      const bystander = new Harness();
      victim.start(1, ['sh', '-c', `sleep ${marker} & echo ready; wait`]);
      await waitFor(() => victim.text(1).includes('ready'), 'ready');
      victim.process.stdin!.write(garbage);
      assert.equal(await victim.ended(), 1);
      assert.match(victim.stderr, /protocol error/);
      await waitFor(() => !processRuns(`sleep ${marker}`), 'the victim\'s command to be killed', 5000);
      bystander.start(1, ['echo', 'still-here']);
      assert.equal(await bystander.exitOf(1), 0);
      assert.equal(bystander.text(1), 'still-here\n');
      await bystander.close();
    });
  }

  test('frames for unknown channels and junk in optional frames are ignored', async () => {
    const supervisor = new Harness();
    supervisor.send(FRAME.stdin, 42, 'nobody');
    supervisor.send(FRAME.stdinEnd, 42);
    supervisor.send(FRAME.signal, 42, { signal: 'SIGKILL' });
    supervisor.send(FRAME.resize, 42, { rows: 1, cols: 1 });
    supervisor.start(1, ['cat']);
    supervisor.send(FRAME.resize, 1, { rows: 'x' }); // not a tty exec, and malformed: ignored
    supervisor.send(FRAME.stdin, 1, 'fine\n');
    supervisor.send(FRAME.stdinEnd, 1);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), 'fine\n');
    assert.equal(await supervisor.close(), 0);
  });
});

describe('supervisor bundle', { skip: existsSync(BUNDLED_SUPERVISOR) ? false : 'dist/bundle/supervisor.js is not built (npm run build)' }, () => {
  test('the bundled supervisor starts and runs a command', async () => {
    const supervisor = new Harness(BUNDLED_SUPERVISOR);
    supervisor.start(1, ['sh', '-c', 'echo bundled; exit 4']);
    assert.equal(await supervisor.exitOf(1), 4);
    assert.equal(supervisor.text(1), 'bundled\n');
    assert.equal(await supervisor.close(), 0);
  });

  test('importing the supervisor module does not start a supervisor', () => {
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const m = await import(${JSON.stringify(SUPERVISOR)}); process.stdout.write(m.PTY_HELPER_INSIDE);`],
    { input: encodeFrame(FRAME.start, 1, { argv: ['echo', 'leak'], env: ENV, cwd: '/', tty: null }), encoding: 'utf8', timeout: 10_000 });
    assert.equal(probe.status, 0, probe.stderr);
    assert.equal(probe.stdout, '/.warden/pty-exec');
  });
});
