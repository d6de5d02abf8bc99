// The native supervisor (src/sandbox/native/supervisor.c) run on the host through pipes, as the
// gateway drives it inside a sandbox: frames in on its stdin, frames out on its stdout.
// WARDEN_SUPERVISOR_SWEEP=1 must never be set here: on a host it would kill(-1) everything.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../wait.js';
import {
  decodeExit, decodeStartFailed, decodeU32, encodeFrame, encodeResize, encodeSignal, encodeStart, encodeU32,
  FRAME, FrameDecoder, MAX_CHANNELS, MAX_FRAME_PAYLOAD, OUTPUT_WINDOW, STDIN_WINDOW,
  type ExecSignal, type Frame, type FrameType, type StartFailedPayload, type TtySize,
} from '../../src/sandbox/frames.js';

// Compiled to dist/test/sandbox/: the repository is three levels up.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SUPERVISOR = process.env.WARDEN_SUPERVISOR_BIN || path.join(REPO_ROOT, 'dist', 'native', 'supervisor');
const SKIP = existsSync(SUPERVISOR) ? false : `${SUPERVISOR} is not built (node scripts/build-native.mjs), or set WARDEN_SUPERVISOR_BIN`;
const PATH_ENV = '/usr/local/bin:/usr/bin:/bin';
/** Stands in for the environment bubblewrap gives the supervisor inside a sandbox. */
const SANDBOX_ENV = { PATH: PATH_ENV, LANG: 'C', SANDBOX_BASE: 'from-sandbox', ONLY: 'overridden', WARDEN_SUPERVISOR_SWEEP: '0' };
const OUTPUT_CHUNK = 64 * 1024;
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-supervisor-test-'));
chmodSync(scratch, 0o755); // the non-dumpable test runs the supervisor from here as nobody
const running = new Set<Harness>();
const markers: string[] = [];
after(async () => {
  try {
    // A supervisor that does not end on its own is SIGKILLed by close(), which then throws.
    for (const harness of running) await harness.close().catch(() => {});
  } finally {
    // A safety net only: every test checks that its processes are gone.
    for (const marker of markers) for (const pid of pidsOf(marker)) killQuietly(pid);
    rmSync(scratch, { recursive: true, force: true });
  }
});

function pidsOf(marker: string): number[] {
  const found = spawnSync('pgrep', ['-f', `sleep ${marker}`], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean).map(Number);
}

/** Whether any process with the marker on its command line (the sleep, or a shell that runs it) lives. */
function processRuns(marker: string): boolean {
  return pidsOf(marker).length > 0;
}

/** The `sleep <marker>` processes themselves, once exec'd. */
function sleepers(marker: string): number[] {
  return pidsOf(marker).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${marker}\0`;
    } catch {
      return false;
    }
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A unique `sleep` argument, so that pgrep finds exactly the processes this test started. */
function sleepMarker(): string {
  const marker = `${3000 + (process.pid % 5000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '1')}`;
  markers.push(marker);
  return marker;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(state);
  } catch {
    return false;
  }
}

const WRITE_SYSCALL = process.arch === 'x64' ? '1' : process.arch === 'arm64' ? '64' : undefined;

/** The process is blocked writing to a full pipe (wchan is pipe_write or anon_pipe_write). */
function blockedWriting(pid: number): boolean {
  try {
    const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
    if (wchan !== '0' && wchan !== '') return /pipe_write/.test(wchan);
    // A kernel that hides wchan: sleeping inside write(2) will do.
    const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
    return syscall === WRITE_SYSCALL && / S /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/s, ' '));
  } catch {
    return false;
  }
}

function statusField(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  assert.ok(line, `${field} in /proc/${pid}/status`);
  return line.slice(field.length + 1).trim();
}

function rssKiB(pid: number): number {
  return Number(statusField(pid, 'VmRSS').replace(/ kB$/, ''));
}

interface StartOptions { env?: Record<string, string>; cwd?: string; tty?: TtySize | null }
interface HarnessOptions {
  /** Send OUTPUT_ACK for every output frame received (as a client that keeps up does). */
  autoAck?: boolean;
  /** Run the supervisor through this command (e.g. setpriv), from this copy of the binary. */
  wrapper?: string[];
  binary?: string;
}

let barrierChannel = 100_000;

/** One supervisor process and the frames it sent back. */
class Harness {
  readonly process: ChildProcess;
  readonly frames: Frame[] = [];
  stderr = '';
  exitCode: number | null | undefined;
  /** It has exited and its output has all been read. */
  private closed = false;
  decodeError: unknown;
  autoAck: boolean;
  private readonly decoder = new FrameDecoder();

  constructor(options: HarnessOptions = {}) {
    this.autoAck = options.autoAck ?? true;
    const binary = options.binary ?? SUPERVISOR;
    const [command, ...args] = options.wrapper ? [...options.wrapper, binary] : [binary];
    this.process = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: SANDBOX_ENV });
    this.process.stdout!.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.decoder.push(chunk)) this.receive(frame);
      } catch (error) {
        this.decodeError = error;
      }
    });
    this.process.stderr!.on('data', (chunk: Buffer) => { this.stderr += chunk.toString(); });
    this.process.stdin!.on('error', () => {}); // a supervisor that ended on bad input closes its stdin
    this.process.on('exit', (code) => { this.exitCode = code; running.delete(this); });
    this.process.on('close', () => { this.closed = true; });
    running.add(this);
  }

  private receive(frame: Frame): void {
    this.frames.push(frame);
    const output = frame.type === FRAME.stdout || frame.type === FRAME.stderr;
    if (this.autoAck && output && frame.payload.length > 0) this.send(FRAME.outputAck, frame.channel, encodeU32(frame.payload.length));
  }

  get pid(): number {
    return this.process.pid!;
  }

  write(bytes: Buffer): void {
    if (this.exitCode === undefined) this.process.stdin!.write(bytes);
  }

  send(type: FrameType, channel: number, payload: Buffer = Buffer.alloc(0)): void {
    this.write(encodeFrame(type, channel, payload));
  }

  start(channel: number, argv: string[], options: StartOptions = {}): void {
    this.send(FRAME.start, channel, encodeStart({ argv, env: options.env ?? {}, cwd: options.cwd ?? scratch, tty: options.tty ?? null }));
  }

  stdin(channel: number, data: string | Buffer): void {
    this.send(FRAME.stdin, channel, Buffer.from(data));
  }

  signal(channel: number, signal: ExecSignal): void {
    this.send(FRAME.signal, channel, encodeSignal(signal));
  }

  of(channel: number, type?: FrameType): Frame[] {
    return this.frames.filter((frame) => frame.channel === channel && (type === undefined || frame.type === type));
  }

  bytes(channel: number, type: FrameType = FRAME.stdout): number {
    return this.of(channel, type).reduce((sum, frame) => sum + frame.payload.length, 0);
  }

  text(channel: number, type: FrameType = FRAME.stdout): string {
    return Buffer.concat(this.of(channel, type).map((frame) => frame.payload)).toString('utf8');
  }

  stdinAcked(channel: number): number {
    return this.of(channel, FRAME.stdinAck).reduce((sum, frame) => sum + decodeU32(frame, 'stdinAck'), 0);
  }

  private describe(): string {
    return `supervisor exit ${String(this.exitCode)}; stderr: ${this.stderr}; decode error: ${String(this.decodeError)}`;
  }

  /** Waits for `condition`; fails at once if the supervisor has ended (all its output read) without it. */
  async until(condition: () => boolean, what: string): Promise<void> {
    await waitFor(() => {
      if (condition()) return true;
      if (this.closed) throw new Error(`the supervisor ended before ${what} (${this.describe()})`);
      return false;
    }, () => `${what} (${this.describe()})`);
  }

  async started(channel: number): Promise<number> {
    await this.until(() => this.of(channel).length > 0, `an answer on channel ${channel}`);
    const first = this.of(channel)[0]!;
    assert.equal(first.type, FRAME.started, `channel ${channel} started: ${first.payload.toString()}`);
    const pid = decodeU32(first, 'started');
    assert.ok(pid > 0);
    return pid;
  }

  async exitOf(channel: number): Promise<number> {
    await this.until(() => this.of(channel, FRAME.exit).length > 0, `exit on channel ${channel}`);
    const frames = this.of(channel);
    assert.equal(frames[0]!.type, FRAME.started, 'started is the first frame of its channel');
    assert.equal(frames.at(-1)!.type, FRAME.exit, 'exit is the last frame of its channel');
    assert.equal(this.of(channel, FRAME.exit).length, 1);
    return decodeExit(frames.at(-1)!);
  }

  async startFailure(channel: number): Promise<StartFailedPayload> {
    await this.until(() => this.of(channel).length > 0, `an answer on channel ${channel}`);
    const frames = this.of(channel);
    assert.deepEqual(frames.map((frame) => frame.type), [FRAME.startFailed]);
    return decodeStartFailed(frames[0]!);
  }

  /** Returns once the supervisor has handled every frame sent before (and sent their output). */
  async barrier(): Promise<void> {
    const channel = barrierChannel++;
    this.start(channel, ['true'], { env: { PATH: PATH_ENV } });
    assert.equal(await this.exitOf(channel), 0);
  }

  /** Its exit code, once it has exited and all it wrote (stderr too) has been read. */
  async ended(): Promise<number | null> {
    await this.until(() => this.closed, 'the supervisor to exit');
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

/** A START payload built by hand, to be malformed in one precise way. */
function rawStart(parts: { flags?: number; rows?: number; cols?: number; argc: number; envc: number; strings: string[]; tail?: Buffer }): Buffer {
  const head = Buffer.alloc(13);
  head.writeUInt8(parts.flags ?? 0, 0);
  head.writeUInt16BE(parts.rows ?? 0, 1);
  head.writeUInt16BE(parts.cols ?? 0, 3);
  head.writeUInt32BE(parts.argc, 5);
  head.writeUInt32BE(parts.envc, 9);
  return Buffer.concat([head, ...parts.strings.map((s) => Buffer.from(`${s}\0`)), parts.tail ?? Buffer.alloc(0)]);
}

const ENV = { PATH: PATH_ENV };

describe('supervisor: starting commands', { skip: SKIP }, () => {
  test('streams stdout and stderr separately and reports the exit code', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'echo out; echo err >&2; exit 7'], { env: ENV });
    assert.equal(await supervisor.exitOf(1), 7);
    assert.equal(supervisor.text(1, FRAME.stdout), 'out\n');
    assert.equal(supervisor.text(1, FRAME.stderr), 'err\n');
    supervisor.start(2, ['echo', 'hello', 'world'], { env: ENV });
    assert.equal(await supervisor.exitOf(2), 0);
    assert.equal(supervisor.text(2), 'hello world\n');
    assert.equal(await supervisor.close(), 0);
    assert.match(supervisor.stderr, /^warden-supervisor: the control channel ended; killing every command and exiting\n$/);
  });

  test('argv reaches the command as sent: argv[0] is not replaced by the resolved path', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'tr "\\000" "\\n" < /proc/$$/cmdline', 'zero', 'one two', ''], { env: ENV });
    assert.equal(await supervisor.exitOf(1), 0);
    assert.deepEqual(supervisor.text(1).split('\n'), ['sh', '-c', 'tr "\\000" "\\n" < /proc/$$/cmdline', 'zero', 'one two', '', '']);
    await supervisor.close();
  });

  test('the environment is the supervisor\'s own with the variables sent on top, and nothing else', async () => {
    const supervisor = new Harness();
    const env = { ONLY: 'this', ADDED: 'a=b', EMPTY: '', UTF8: 'h\u00e9', PATH: '/usr/bin:/bin' };
    supervisor.start(1, ['env'], { env });
    assert.equal(await supervisor.exitOf(1), 0);
    const lines = supervisor.text(1).split('\n').filter(Boolean).sort();
    // WARDEN_SUPERVISOR_SWEEP configures the supervisor; it is not part of the sandbox's environment.
    assert.deepEqual(lines, ['ADDED=a=b', 'EMPTY=', 'LANG=C', 'ONLY=this', 'PATH=/usr/bin:/bin', 'SANDBOX_BASE=from-sandbox', 'UTF8=h\u00e9']);
    await supervisor.close();
  });

  test('the command runs in the requested directory, which relative PATH entries are resolved against', async () => {
    const dir = mkdtempSync(path.join(scratch, 'cwd-'));
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'in-bin'), '#!/bin/sh\necho in-bin "$PWD"\n', { mode: 0o755 });
    writeFileSync(path.join(dir, 'in-cwd'), '#!/bin/sh\necho in-cwd\n', { mode: 0o755 });
    const supervisor = new Harness();
    supervisor.start(1, ['pwd'], { env: ENV, cwd: '/usr' });
    supervisor.start(2, ['in-bin'], { env: { PATH: 'bin:/usr/bin:/bin' }, cwd: dir });
    supervisor.start(3, ['in-cwd'], { env: { PATH: ':/usr/bin:/bin' }, cwd: dir }); // empty entry: the cwd
    supervisor.start(4, ['./in-cwd'], { env: {}, cwd: dir });
    supervisor.start(5, ['in-cwd'], { env: ENV, cwd: dir }); // not in PATH
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), '/usr\n');
    assert.equal(await supervisor.exitOf(2), 0);
    assert.equal(supervisor.text(2), `in-bin ${dir}\n`);
    assert.equal(await supervisor.exitOf(3), 0);
    assert.equal(supervisor.text(3), 'in-cwd\n');
    assert.equal(await supervisor.exitOf(4), 0);
    assert.equal(supervisor.text(4), 'in-cwd\n');
    assert.equal((await supervisor.startFailure(5)).code, 127);
    await supervisor.close();
  });

  test('127 for a missing command, 126 for a file that is not executable, like a shell', async () => {
    const bin = mkdtempSync(path.join(scratch, 'bin-'));
    writeFileSync(path.join(bin, 'plain'), '#!/bin/sh\necho ran-plain\n', { mode: 0o644 });
    writeFileSync(path.join(bin, 'tool'), '#!/bin/sh\necho ran-tool\n', { mode: 0o755 });
    mkdirSync(path.join(bin, 'adir'));
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const supervisor = new Harness();
    supervisor.start(1, ['no-such-command-warden'], { env });
    supervisor.start(2, [path.join(bin, 'missing')], { env });
    supervisor.start(3, ['plain'], { env });
    supervisor.start(4, [path.join(bin, 'plain')], { env });
    supervisor.start(5, ['tool'], { env });
    supervisor.start(6, ['sh', '-c', 'true'], { env: {} }); // none sent: the sandbox's PATH applies
    supervisor.start(7, ['adir'], { env });
    const notFound = await supervisor.startFailure(1);
    assert.deepEqual(notFound, { code: 127, message: 'no-such-command-warden: command not found' });
    assert.equal((await supervisor.startFailure(2)).code, 127);
    const plain = await supervisor.startFailure(3);
    assert.deepEqual(plain, { code: 126, message: 'plain: permission denied (not an executable file)' });
    assert.equal((await supervisor.startFailure(4)).code, 126);
    assert.equal(await supervisor.exitOf(5), 0, 'found through PATH and run');
    assert.equal(supervisor.text(5), 'ran-tool\n');
    assert.equal(await supervisor.exitOf(6), 0, 'the sandbox PATH applies when the start sends none');
    assert.equal((await supervisor.startFailure(7)).code, 126, 'a directory is found but not executable');
    await supervisor.close();
  });

  test('without any PATH nothing is searched', () => {
    // A supervisor whose own environment has no PATH, sent a start without one.
    const bare = spawnSync(SUPERVISOR, [], {
      env: {}, input: encodeFrame(FRAME.start, 1, encodeStart({ argv: ['sh'], env: {}, cwd: '/', tty: null })), timeout: 15_000,
    });
    const frames = new FrameDecoder().push(bare.stdout);
    assert.equal(frames.length, 1);
    assert.deepEqual(decodeStartFailed(frames[0]!), { code: 127, message: 'sh: command not found' });
    assert.equal(bare.status, 0, 'the end of its input ends it cleanly');
  });

  test('an execve failure is reported as a start failure with the code a shell would give', async () => {
    const bin = mkdtempSync(path.join(scratch, 'exec-'));
    writeFileSync(path.join(bin, 'garbage'), 'this is not a program\n', { mode: 0o755 }); // ENOEXEC
    writeFileSync(path.join(bin, 'orphan-script'), '#!/no/such/interpreter\n', { mode: 0o755 }); // ENOENT
    const supervisor = new Harness();
    supervisor.start(1, [path.join(bin, 'garbage')], { env: ENV });
    supervisor.start(2, [path.join(bin, 'orphan-script')], { env: ENV });
    const garbage = await supervisor.startFailure(1);
    assert.equal(garbage.code, 126);
    assert.match(garbage.message, /garbage: Exec format error/);
    const orphan = await supervisor.startFailure(2);
    assert.equal(orphan.code, 127);
    assert.match(orphan.message, /orphan-script: No such file or directory/);
    await supervisor.close();
  });

  test('a malformed start request gets 125, and the supervisor keeps serving', async () => {
    const cwd = scratch;
    const malformed: Array<[string, Buffer, RegExp]> = [
      ['too short', Buffer.alloc(12), /too short/],
      ['unknown flags', rawStart({ flags: 2, argc: 1, envc: 0, strings: [cwd, 'true'] }), /unknown flags 2/],
      ['no argv', rawStart({ argc: 0, envc: 0, strings: [cwd] }), /argv must be a non-empty list/],
      ['empty argv[0]', rawStart({ argc: 1, envc: 0, strings: [cwd, ''] }), /argv\[0\] is empty/],
      ['a bad variable name', rawStart({ argc: 1, envc: 1, strings: [cwd, 'true', '1X=y'] }), /bad environment variable name "1X"/],
      ['a variable without a name', rawStart({ argc: 1, envc: 1, strings: [cwd, 'true', '=y'] }), /without a name/],
      ['a variable without =', rawStart({ argc: 1, envc: 1, strings: [cwd, 'true', 'NOVALUE'] }), /without a name/],
      ['a relative cwd', rawStart({ argc: 1, envc: 0, strings: ['tmp', 'true'] }), /cwd must be an absolute path/],
      ['a missing cwd', rawStart({ argc: 1, envc: 0, strings: [path.join(cwd, 'no-such-dir'), 'true'] }), /is not a directory/],
      ['a file as cwd', rawStart({ argc: 1, envc: 0, strings: ['/etc/passwd', 'true'] }), /is not a directory/],
      ['a zero tty size', rawStart({ flags: 1, rows: 0, cols: 80, argc: 1, envc: 0, strings: [cwd, 'true'] }), /tty must be/],
      ['fewer strings than counted', rawStart({ argc: 2, envc: 0, strings: [cwd, 'true'] }), /do not match argc and envc/],
      ['more strings than counted', rawStart({ argc: 1, envc: 0, strings: [cwd, 'true', 'extra'] }), /do not match argc and envc/],
      ['trailing bytes', rawStart({ argc: 1, envc: 0, strings: [cwd, 'true'], tail: Buffer.from('x') }), /do not match argc and envc/],
      ['too many strings', rawStart({ argc: 70_000, envc: 0, strings: [cwd, 'true'] }), /too many strings/],
      ['counts that overflow 32 bits', rawStart({ argc: 0xffff_ffff, envc: 2, strings: [cwd, 'true'] }), /too many strings/],
    ];
    const supervisor = new Harness();
    malformed.forEach(([, payload], index) => supervisor.send(FRAME.start, index + 1, payload));
    for (const [index, [what, , message]] of malformed.entries()) {
      const failure = await supervisor.startFailure(index + 1);
      assert.equal(failure.code, 125, what);
      assert.match(failure.message, message, what);
    }
    supervisor.start(100, ['echo', 'still serving'], { env: ENV });
    assert.equal(await supervisor.exitOf(100), 0);
    assert.equal(supervisor.text(100), 'still serving\n');
    assert.equal(supervisor.exitCode, undefined);
    await supervisor.close();
  });

  test('a channel in use cannot be started again; it can after its exit', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['cat'], { env: ENV });
    await supervisor.started(1);
    supervisor.start(1, ['echo', 'intruder'], { env: ENV });
    await supervisor.until(() => supervisor.of(1, FRAME.startFailed).length > 0, 'the second start to be refused');
    const refusal = decodeStartFailed(supervisor.of(1, FRAME.startFailed)[0]!);
    assert.deepEqual(refusal, { code: 125, message: 'channel 1 is already in use' });
    supervisor.send(FRAME.stdinEnd, 1);
    await supervisor.until(() => supervisor.of(1, FRAME.exit).length > 0, 'cat to exit');
    assert.equal(decodeExit(supervisor.of(1, FRAME.exit)[0]!), 0);
    assert.equal(supervisor.text(1), '', 'the refused command never ran');
    supervisor.frames.length = 0;
    supervisor.start(1, ['echo', 'again'], { env: ENV });
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), 'again\n');
    await supervisor.close();
  });

  test('the command holds no descriptor but its stdio (the control channel never leaks)', async () => {
    // `; true`: the shell itself lists its descriptors instead of exec'ing ls in its place.
    const listing = ['sh', '-c', 'ls -1 /proc/$$/fd; true'];
    const supervisor = new Harness();
    supervisor.start(1, listing, { env: ENV });
    supervisor.start(2, listing, { env: ENV, tty: { rows: 5, cols: 80 } });
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(await supervisor.exitOf(2), 0);
    // dash keeps a copy of its input on fd 10; anything else would come from the supervisor.
    const descriptors = (text: string) => text.split(/\s+/).filter((fd) => fd !== '' && fd !== '10').join(' ');
    assert.equal(descriptors(supervisor.text(1)), '0 1 2');
    assert.equal(descriptors(supervisor.text(2)), '0 1 2');
    await supervisor.close();
  });

  test('many commands at once do not mix, and at most MAX_CHANNELS run', async () => {
    const supervisor = new Harness();
    const channels = Array.from({ length: MAX_CHANNELS }, (_, i) => i + 1);
    for (const channel of channels) supervisor.start(channel, ['cat'], { env: ENV });
    for (const channel of channels) await supervisor.started(channel);
    supervisor.start(MAX_CHANNELS + 1, ['true'], { env: ENV });
    const refused = await supervisor.startFailure(MAX_CHANNELS + 1);
    assert.equal(refused.code, 125);
    assert.match(refused.message, /too many/);
    for (const channel of channels) {
      supervisor.stdin(channel, `input for ${channel}\n`);
      supervisor.send(FRAME.stdinEnd, channel);
    }
    for (const channel of channels) {
      assert.equal(await supervisor.exitOf(channel), 0);
      assert.equal(supervisor.text(channel), `input for ${channel}\n`);
    }
    // Room again once they ended.
    supervisor.start(MAX_CHANNELS + 2, ['true'], { env: ENV });
    assert.equal(await supervisor.exitOf(MAX_CHANNELS + 2), 0);
    await supervisor.close();
  });
});

describe('supervisor: input', { skip: SKIP }, () => {
  test('stdin reaches the command, every byte written is acknowledged, and stdinEnd closes its input', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['cat'], { env: ENV });
    await supervisor.started(1);
    supervisor.stdin(1, 'hello ');
    supervisor.stdin(1, 'world\n');
    await supervisor.until(() => supervisor.text(1) === 'hello world\n', 'cat to echo its input');
    await supervisor.until(() => supervisor.stdinAcked(1) === 12, 'the input to be acknowledged');
    await supervisor.barrier();
    assert.equal(supervisor.of(1, FRAME.exit).length, 0, 'cat still runs while its input is open');
    supervisor.send(FRAME.stdinEnd, 1);
    assert.equal(await supervisor.exitOf(1), 0);
    await supervisor.close();
  });

  test('input larger than the window flows as it is acknowledged', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sha256sum'], { env: ENV });
    await supervisor.started(1);
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    let sent = 0;
    while (sent < data.length) {
      // Never more than STDIN_WINDOW unacknowledged, as the gateway does.
      await supervisor.until(() => sent - supervisor.stdinAcked(1) < STDIN_WINDOW, 'room in the input window');
      const room = Math.min(STDIN_WINDOW - (sent - supervisor.stdinAcked(1)), 100_000, data.length - sent);
      supervisor.stdin(1, data.subarray(sent, sent + room));
      sent += room;
    }
    supervisor.send(FRAME.stdinEnd, 1);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.stdinAcked(1), data.length);
    const expected = spawnSync('sha256sum', { input: data, encoding: 'utf8' }).stdout;
    assert.equal(supervisor.text(1), expected);
    await supervisor.close();
  });

  test('input that can no longer be written is acknowledged all the same', async () => {
    const supervisor = new Harness();
    const marker = sleepMarker();
    // Closes its input at once, then stays.
    supervisor.start(1, ['sh', '-c', `exec 0<&-; echo closed; exec sleep ${marker}`], { env: ENV });
    await supervisor.until(() => supervisor.text(1) === 'closed\n', 'the command to close its input');
    const chunk = Buffer.alloc(100_000, 0x61);
    supervisor.stdin(1, chunk);
    supervisor.stdin(1, chunk);
    await supervisor.until(() => supervisor.stdinAcked(1) === 200_000, 'input written to a closed pipe to be acknowledged');
    // After stdinEnd, input is dropped and acknowledged.
    supervisor.start(2, ['sleep', '1000'], { env: ENV });
    await supervisor.started(2);
    supervisor.send(FRAME.stdinEnd, 2);
    supervisor.stdin(2, 'late');
    await supervisor.until(() => supervisor.stdinAcked(2) === 4, 'input after stdinEnd to be acknowledged');
    supervisor.signal(1, 'SIGKILL');
    supervisor.signal(2, 'SIGKILL');
    assert.equal(await supervisor.exitOf(1), 137);
    assert.equal(await supervisor.exitOf(2), 137);
    await supervisor.close();
  });

  test('frames for unknown channels are ignored', async () => {
    const supervisor = new Harness();
    supervisor.stdin(42, 'nobody');
    supervisor.send(FRAME.stdinEnd, 42);
    supervisor.signal(42, 'SIGKILL');
    supervisor.send(FRAME.resize, 42, encodeResize({ rows: 1, cols: 1 }));
    supervisor.send(FRAME.outputAck, 42, encodeU32(1000));
    supervisor.start(1, ['cat'], { env: ENV });
    supervisor.send(FRAME.resize, 1, encodeResize({ rows: 10, cols: 10 })); // not a tty exec: ignored
    supervisor.stdin(1, 'fine\n');
    supervisor.send(FRAME.stdinEnd, 1);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.text(1), 'fine\n');
    assert.equal(supervisor.of(42).length, 0);
    assert.equal(await supervisor.close(), 0);
  });
});

describe('supervisor: signals', { skip: SKIP }, () => {
  test('SIGINT reaches the whole process group: a shell script and the sleep it waits for', async () => {
    const marker = sleepMarker();
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', `sleep ${marker}; echo after`], { env: ENV });
    await supervisor.started(1);
    await waitFor(() => sleepers(marker).length > 0, 'the sleep to run');
    supervisor.signal(1, 'SIGINT');
    assert.equal(await supervisor.exitOf(1), 130);
    assert.equal(supervisor.text(1), '');
    await waitFor(() => !processRuns(marker), 'the sleep to die');
    await supervisor.close();
  });

  test('a trapped signal reaches the command and its child alike', async () => {
    const supervisor = new Harness();
    const child = `trap 'echo child-usr1; exit 3' USR1; echo ready; while :; do sleep 0.05; done`;
    supervisor.start(1, ['sh', '-c', `trap 'echo parent-usr1' USR1; sh -c "${child}"; echo child-exit=$?; exit 9`], { env: ENV });
    await supervisor.until(() => supervisor.text(1).includes('ready'), 'ready');
    supervisor.signal(1, 'SIGUSR1');
    assert.equal(await supervisor.exitOf(1), 9);
    assert.match(supervisor.text(1), /child-usr1\n/);
    assert.match(supervisor.text(1), /parent-usr1\n/);
    assert.match(supervisor.text(1), /child-exit=3\n/);
    await supervisor.close();
  });

  test('SIGKILL also reaches a descendant that moved to a session of its own', async () => {
    const marker = sleepMarker();
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', `setsid sleep ${marker} & echo ready; wait`], { env: ENV });
    await supervisor.until(() => supervisor.text(1).includes('ready'), 'ready');
    await waitFor(() => sleepers(marker).length > 0, 'the sleep to run');
    const [sleeper] = pidsOf(marker).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0'));
    assert.ok(sleeper);
    assert.notEqual(statusField(sleeper, 'NSsid'), String(await supervisor.started(1)), 'the sleep left the session');
    supervisor.signal(1, 'SIGKILL');
    // The sleep holds the command's stdout: exit comes once it died too.
    assert.equal(await supervisor.exitOf(1), 137);
    assert.ok(!alive(sleeper));
    await waitFor(() => !processRuns(marker), 'the sleep to die');
    await supervisor.close();
  });
});

describe('supervisor: terminals', { skip: SKIP }, () => {
  const TTY = { rows: 24, cols: 81 };

  test('a tty command runs on a terminal of the requested size; everything arrives as stdout', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['tty'], { env: ENV, tty: TTY });
    supervisor.start(2, ['sh', '-c', 'stty size; echo to-stderr >&2; exit 5'], { env: ENV, tty: TTY });
    assert.equal(await supervisor.exitOf(1), 0);
    assert.match(supervisor.text(1), /^\/dev\/pts\/\d+\r\n$/);
    assert.equal(await supervisor.exitOf(2), 5);
    assert.equal(supervisor.text(2), '24 81\r\nto-stderr\r\n');
    assert.equal(supervisor.of(2, FRAME.stderr).length, 0);
    await supervisor.close();
  });

  test('a resize changes the terminal size', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', 'stty size; read line; stty size'], { env: ENV, tty: TTY });
    await supervisor.until(() => supervisor.text(1).includes('24 81'), 'the first size');
    supervisor.send(FRAME.resize, 1, encodeResize({ rows: 40, cols: 123 }));
    supervisor.stdin(1, '\n'); // after the resize: frames are handled in order
    assert.equal(await supervisor.exitOf(1), 0);
    assert.match(supervisor.text(1), /40 123\r\n$/);
    await supervisor.close();
  });

  test('Ctrl-C typed on the terminal interrupts the command; Ctrl-D ends its input', async () => {
    const marker = sleepMarker();
    const supervisor = new Harness();
    supervisor.start(1, ['sh', '-c', `echo ready; exec sleep ${marker}`], { env: ENV, tty: TTY });
    await supervisor.until(() => supervisor.text(1).includes('ready'), 'ready');
    await waitFor(() => sleepers(marker).length > 0, 'the sleep to run');
    supervisor.stdin(1, '\x03');
    assert.equal(await supervisor.exitOf(1), 130);
    assert.equal(supervisor.stdinAcked(1), 1);
    supervisor.start(2, ['cat'], { env: ENV, tty: TTY });
    supervisor.stdin(2, 'typed\n\x04');
    assert.equal(await supervisor.exitOf(2), 0);
    assert.equal(supervisor.text(2), 'typed\r\ntyped\r\n');
    await supervisor.close();
  });

  test('stdinEnd on a terminal stops the input but leaves the command running', async () => {
    const supervisor = new Harness();
    supervisor.start(1, ['cat'], { env: ENV, tty: TTY });
    supervisor.stdin(1, 'one\n');
    supervisor.send(FRAME.stdinEnd, 1);
    supervisor.stdin(1, 'two\n');
    await supervisor.until(() => supervisor.stdinAcked(1) === 8, 'every input byte to be acknowledged');
    await supervisor.until(() => supervisor.text(1) === 'one\r\none\r\n', 'the line typed before the end');
    await supervisor.barrier();
    assert.equal(supervisor.of(1, FRAME.exit).length, 0, 'cat still runs');
    supervisor.signal(1, 'SIGTERM');
    assert.equal(await supervisor.exitOf(1), 143);
    await supervisor.close();
  });

  test('exit waits for the terminal to drain, but not for a background process holding it', async () => {
    const supervisor = new Harness();
    const marker = sleepMarker();
    // Deaf to the hang-up its session leader's exit sends to the terminal's foreground group.
    supervisor.start(1, ['sh', '-c', `trap '' HUP; sleep ${marker} & head -c 300000 /dev/zero | tr '\\0' x; echo; echo done`], { env: ENV, tty: TTY });
    assert.equal(await supervisor.exitOf(1), 0);
    assert.match(supervisor.text(1), /^x{300000}\r\ndone\r\n$/);
    const orphans = sleepers(marker);
    assert.ok(orphans.length > 0, 'the background process still runs');
    // Its parent is gone, so the supervisor cannot find it on a host; in a sandbox the sweep does.
    for (const pid of orphans) killQuietly(pid);
    await supervisor.close();
  });
});

/**
 * Lets every command go and only then stops reading the supervisor. Each command's "go" must have
 * been written to it (STDIN_ACK) first: once its outgoing queue is full, the supervisor takes no
 * more frames, so a "go" still in flight would leave that command waiting to read, not to write.
 */
async function goAndStopReading(supervisor: Harness, channels: number[]): Promise<void> {
  for (const channel of channels) supervisor.stdin(channel, 'go\n');
  await waitFor(() => channels.every((channel) => supervisor.of(channel, FRAME.stdinAck).length > 0), 'every "go" to be written');
  supervisor.process.stdout!.pause();
}

describe('supervisor: output flow control', { skip: SKIP }, () => {
  test('a command whose output is not acknowledged is paused after OUTPUT_WINDOW bytes, and resumes on acks', async () => {
    const supervisor = new Harness({ autoAck: false });
    const total = 5_000_000;
    supervisor.start(1, ['head', '-c', String(total), '/dev/zero'], { env: ENV });
    const pid = await supervisor.started(1);
    await waitFor(() => blockedWriting(pid), 'the command to block on its full pipe');
    await supervisor.barrier(); // every frame sent before it has arrived
    const received = supervisor.bytes(1);
    assert.ok(received > 0 && received <= OUTPUT_WINDOW + OUTPUT_CHUNK, `received ${received} bytes`);
    assert.ok(alive(pid) && supervisor.of(1, FRAME.exit).length === 0, 'the command is paused, not ended');
    supervisor.autoAck = true;
    supervisor.send(FRAME.outputAck, 1, encodeU32(received));
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(supervisor.bytes(1), total);
    assert.ok(supervisor.of(1, FRAME.stdout).every((frame) => frame.payload.length <= OUTPUT_CHUNK), 'output frames are at most 64 KiB');
    await supervisor.close();
  });

  test('a gateway that stops reading pauses every command; the supervisor\'s memory stays bounded', async (t) => {
    const supervisor = new Harness();
    const channels = Array.from({ length: 12 }, (_, i) => i + 1);
    const size = 1_000_000;
    // Each waits for a line before it writes, so that every STARTED is read first.
    for (const channel of channels) supervisor.start(channel, ['sh', '-c', `read go; exec head -c ${size} /dev/zero`], { env: ENV });
    const pids = await Promise.all(channels.map((channel) => supervisor.started(channel)));
    await goAndStopReading(supervisor, channels);
    // 12 windows (3 MiB) would fit if only the windows counted; the outgoing queue is bounded too.
    await waitFor(() => pids.every(blockedWriting), 'every command to block on its full pipe');
    const rss = rssKiB(supervisor.pid);
    t.diagnostic(`supervisor VmRSS with 12 paused commands: ${rss} kB`);
    assert.ok(rss < 2048, `VmRSS ${rss} kB`);
    supervisor.process.stdout!.resume();
    for (const channel of channels) {
      assert.equal(await supervisor.exitOf(channel), 0);
      assert.equal(supervisor.bytes(channel), size);
    }
    await supervisor.close();
  });

  test('a gateway that stops reading and then goes away still ends everything', async () => {
    const supervisor = new Harness();
    const channels = Array.from({ length: 12 }, (_, i) => i + 1);
    for (const channel of channels) supervisor.start(channel, ['sh', '-c', 'read go; exec head -c 1000000 /dev/zero'], { env: ENV });
    const pids = await Promise.all(channels.map((channel) => supervisor.started(channel)));
    await goAndStopReading(supervisor, channels);
    await waitFor(() => pids.every(blockedWriting), 'every command to block on its full pipe');
    // The supervisor takes no frame now; it must notice the end of its input all the same.
    supervisor.process.stdin!.end();
    assert.equal(await supervisor.ended(), 0);
    await waitFor(() => !pids.some(alive), 'every command to be killed');
    assert.match(supervisor.stderr, /the control channel ended; killing every command and exiting/);
  });
});

describe('supervisor: ending', { skip: SKIP }, () => {
  /** Commands that try to outlive the supervisor in different ways; resolves once all run. */
  async function stubbornCommands(supervisor: Harness): Promise<string[]> {
    const m = [sleepMarker(), sleepMarker(), sleepMarker(), sleepMarker()];
    supervisor.start(1, ['sh', '-c', `sleep ${m[0]} & echo ready; wait`], { env: ENV });
    // A descendant that left the process group and the session.
    supervisor.start(2, ['sh', '-c', `setsid sleep ${m[1]} & echo ready; wait`], { env: ENV });
    // On a terminal, and deaf to the hang-up the terminal's end would send.
    supervisor.start(3, ['sh', '-c', `trap '' HUP; sleep ${m[2]} & echo ready; wait`], { env: ENV, tty: { rows: 10, cols: 40 } });
    supervisor.start(4, ['sh', '-c', `trap '' TERM HUP INT; echo ready; exec sleep ${m[3]}`], { env: ENV });
    await supervisor.until(() => [1, 2, 3, 4].every((channel) => supervisor.text(channel).includes('ready')), 'every command to be ready');
    for (const marker of m) await waitFor(() => sleepers(marker).length > 0, `sleep ${marker} to run`);
    return m;
  }

  test('the end of the control channel kills everything it started, and exits 0', async () => {
    const supervisor = new Harness();
    const m = await stubbornCommands(supervisor);
    assert.equal(await supervisor.close(), 0);
    for (const marker of m) await waitFor(() => !processRuns(marker), `sleep ${marker} to be killed`);
    assert.match(supervisor.stderr, /^warden-supervisor: the control channel ended; killing every command and exiting\n$/);
  });

  for (const [name, signal, code] of [['SIGTERM', 'SIGTERM', 143], ['SIGHUP', 'SIGHUP', 129], ['SIGINT', 'SIGINT', 130]] as const) {
    test(`${name} to the supervisor kills everything it started, and exits ${code}`, async () => {
      const supervisor = new Harness();
      const m = await stubbornCommands(supervisor);
      supervisor.process.kill(signal);
      assert.equal(await supervisor.ended(), code);
      for (const marker of m) await waitFor(() => !processRuns(marker), `sleep ${marker} to be killed`);
      assert.match(supervisor.stderr, new RegExp(`^warden-supervisor: received ${name}; killing every command and exiting\\n$`));
    });
  }

  const start = (channel: number) => encodeFrame(FRAME.start, channel, encodeStart({ argv: ['true'], env: ENV, cwd: '/', tty: null }));
  const header = (type: number, channel: number, length: number) => {
    const bytes = Buffer.alloc(9);
    bytes.writeUInt8(type, 0);
    bytes.writeUInt32BE(channel, 1);
    bytes.writeUInt32BE(length, 5);
    return bytes;
  };
  // [what, bytes, why; true: the control channel ends right after them]
  const protocolErrors: Array<[string, Buffer, RegExp, boolean?]> = [
    ['an unknown frame type', Buffer.from('GET / HTTP/1.1\r\n'), /unknown frame type 71/],
    ['an oversized frame', header(FRAME.stdin, 1, MAX_FRAME_PAYLOAD + 1), /over the 1048576-byte limit/],
    ['channel 0', start(0), /channel 0/],
    ['a frame only the supervisor sends', encodeFrame(FRAME.exit, 1, encodeU32(0)), /only travels from the supervisor/],
    ['a signal outside the allowed set', encodeFrame(FRAME.signal, 1, Buffer.from([11])), /signal 11 cannot be sent/],
    ['a signal frame of the wrong size', encodeFrame(FRAME.signal, 1, Buffer.from([2, 0])), /signal frame must carry 1 bytes/],
    ['a resize with a zero dimension', encodeFrame(FRAME.resize, 1, Buffer.from([0, 0, 0, 80])), /zero dimension/],
    ['an outputAck of the wrong size', encodeFrame(FRAME.outputAck, 1, Buffer.from([1])), /outputAck frame must carry 4 bytes/],
    ['a stdinEnd with a payload', encodeFrame(FRAME.stdinEnd, 1, Buffer.from([1])), /stdinEnd frame must carry 0 bytes/],
    ['one stdin frame bigger than the window', encodeFrame(FRAME.stdin, 1, Buffer.alloc(STDIN_WINDOW + 1)), /beyond its 262144-byte window/],
    // The command does not read: at most a pipe's worth (64 KiB) can be written and acknowledged.
    ['input beyond the window', Buffer.concat([0, 1, 2].map(() => encodeFrame(FRAME.stdin, 1, Buffer.alloc(200_000)))), /beyond its 262144-byte window/],
    ['a frame cut short by the end of the channel', header(FRAME.stdin, 1, 10), /ended inside a frame/, true],
  ];
  for (const [name, garbage, reason, thenEnd] of protocolErrors) {
    test(`${name} is a protocol error: the supervisor kills its commands and exits 1`, async () => {
      const marker = sleepMarker();
      const victim = new Harness();
      const bystander = new Harness();
      bystander.start(1, ['cat'], { env: ENV });
      victim.start(1, ['sh', '-c', `sleep ${marker} & echo ready; wait`], { env: ENV });
      await victim.until(() => victim.text(1).includes('ready'), 'ready');
      await waitFor(() => sleepers(marker).length > 0, 'the sleep to run');
      victim.write(garbage);
      if (thenEnd) victim.process.stdin!.end();
      assert.equal(await victim.ended(), 1);
      assert.match(victim.stderr, /^warden-supervisor: protocol error: .*; killing every command and exiting\n$/);
      assert.match(victim.stderr, reason);
      await waitFor(() => !processRuns(marker), 'the victim\'s command to be killed');
      // Nothing else was touched.
      bystander.stdin(1, 'still here\n');
      await bystander.until(() => bystander.text(1) === 'still here\n', 'the bystander to echo');
      await bystander.close();
    });
  }
});

describe('supervisor: process hardening', { skip: SKIP }, () => {
  test('the supervisor is not dumpable: a process of its uid cannot open its memory, but can a command\'s', async (t) => {
    const asRoot = process.getuid?.() === 0;
    let supervisor: Harness;
    let canOpen: (file: string) => boolean;
    if (asRoot) {
      // Root could open anything (CAP_SYS_PTRACE): run the supervisor and the probe as nobody.
      const binary = path.join(scratch, 'supervisor-copy');
      copyFileSync(SUPERVISOR, binary);
      chmodSync(binary, 0o755);
      supervisor = new Harness({ wrapper: ['setpriv', ...NOBODY, '--'], binary });
      canOpen = (file) => spawnSync('setpriv', [...NOBODY, '--', 'sh', '-c', `exec 3< ${file}`]).status === 0;
    } else {
      supervisor = new Harness();
      canOpen = (file) => {
        try {
          closeSync(openSync(file, 'r'));
          return true;
        } catch {
          return false;
        }
      };
    }
    const marker = sleepMarker();
    supervisor.start(1, ['sleep', marker], { env: ENV, cwd: '/' });
    const command = await supervisor.started(1);
    const uid = statusField(supervisor.pid, 'Uid').split(/\s+/)[0];
    assert.equal(statusField(command, 'Uid').split(/\s+/)[0], uid, 'the command runs as the supervisor\'s uid');
    if (asRoot) assert.equal(uid, '65534');
    // Yama (ptrace_scope >= 1) lets only ancestors open /proc/<pid>/mem, and the probe as nobody is
    // none; environ and fd need read access only, which Yama leaves alone.
    let yama = 0;
    try {
      yama = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8'));
    } catch {
      // no Yama
    }
    if (!asRoot || yama === 0) {
      assert.ok(canOpen(`/proc/${command}/mem`), 'control: the memory of a process of the same uid can be opened');
      assert.ok(!canOpen(`/proc/${supervisor.pid}/mem`), 'the supervisor\'s memory cannot');
    } else {
      t.diagnostic(`Yama ptrace_scope ${yama}: /proc/<pid>/mem not probed`);
    }
    assert.ok(canOpen(`/proc/${command}/environ`), 'control: the environment of a process of the same uid can be read');
    assert.ok(!canOpen(`/proc/${supervisor.pid}/environ`), 'the supervisor\'s cannot');
    assert.ok(canOpen(`/proc/${command}/fd/1`), 'control: a descriptor of a process of the same uid can be opened');
    assert.ok(!canOpen(`/proc/${supervisor.pid}/fd/0`), 'the supervisor\'s control channel cannot');
    assert.equal(await supervisor.close(), 0);
    await waitFor(() => !processRuns(marker), 'the command to be killed');
  });

  test('the supervisor stays small: VmRSS under 2 MB after a mixed workload', async (t) => {
    const supervisor = new Harness();
    supervisor.start(1, ['head', '-c', '3000000', '/dev/urandom'], { env: ENV });
    supervisor.start(2, ['sh', '-c', 'stty size; tty'], { env: ENV, tty: { rows: 5, cols: 5 } });
    supervisor.start(3, ['wc', '-c'], { env: ENV });
    const input = Buffer.alloc(STDIN_WINDOW, 0x62);
    supervisor.stdin(3, input);
    await supervisor.until(() => supervisor.stdinAcked(3) === input.length, 'the input to be written');
    supervisor.send(FRAME.stdinEnd, 3);
    assert.equal(await supervisor.exitOf(1), 0);
    assert.equal(await supervisor.exitOf(2), 0);
    assert.equal(await supervisor.exitOf(3), 0);
    assert.equal(supervisor.text(3).trim(), String(STDIN_WINDOW));
    const rss = rssKiB(supervisor.pid);
    t.diagnostic(`supervisor VmRSS: ${rss} kB`);
    assert.ok(rss < 2048, `VmRSS ${rss} kB`);
    await supervisor.close();
  });
});
