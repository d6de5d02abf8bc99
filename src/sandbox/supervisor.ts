// The supervisor: the long-lived program every named sandbox runs as its command. It starts
// commands on the gateway's request (`warden exec`, `warden connect`), since bubblewrap cannot
// join a sandbox that is already running. Its stdin and stdout are its only control channel
// (frames, see frames.ts); its stderr goes to the gateway's log.
//
// Security invariants:
// - Everything it starts inherits the sandbox's confinement; it adds no privilege. Each command
//   gets the sandbox's environment (the one bubblewrap gave the supervisor) with the variables
//   it was sent on top, and nothing else.
// - Fail closed: a protocol error, a broken control channel or the end of fd 0 kills every
//   process group it started and ends the supervisor.
// - It imports node: builtins and ./frames.js only: it is bundled alone into the sandbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, createWriteStream, fstatSync, readdirSync, readFileSync, realpathSync, statSync, writeSync } from 'node:fs';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import {
  EXEC_SIGNALS, FRAME, FrameDecoder, FrameError, frameJson, PTY_HELPER_INSIDE, encodeFrame,
  type ExecSignal, type Frame, type StartFailedPayload, type StartPayload, type TtySize,
} from './frames.js';

export { PTY_HELPER_INSIDE };

/**
 * Stdin bytes the supervisor holds for commands that are not reading: beyond this it stops
 * reading the control channel until they catch up. Below it, control frames (signals, other
 * channels) keep flowing even when one command ignores its input.
 */
const MAX_PENDING_STDIN = 4 * 1024 * 1024;
const MAX_TTY_DIMENSION = 0xffff;

interface Exec {
  channel: number;
  child: ChildProcess;
  /** The PTY helper's control pipe (resize lines); null for a command without a terminal. */
  control: Writable | null;
  outputs: Readable[];
}

type Outcome = { kind: 'ok'; resolved: string } | { kind: 'failed'; failure: StartFailedPayload };

function log(message: string): void {
  try {
    writeSync(2, `warden-supervisor: ${message}\n`);
  } catch {
    // stderr gone: nothing left to tell
  }
}

/** A writable stream on fd 1 with real backpressure (process.stdout blocks on pipes). */
function openControlOutput(): Writable {
  const stat = fstatSync(1);
  if (stat.isFIFO() || stat.isSocket()) return new net.Socket({ fd: 1, readable: false, writable: true });
  return createWriteStream('', { fd: 1, autoClose: false });
}

class Supervisor {
  private readonly execs = new Map<number, Exec>();
  private readonly decoder = new FrameDecoder();
  private outputPaused = false;
  private inputPaused = false;
  private ended = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly ptyHelper: string,
    private readonly exit: (code: number) => void,
    /** The sandbox's environment: every command starts from it. */
    private readonly baseEnv: Record<string, string> = {},
  ) {}

  start(): void {
    this.input.on('data', (chunk: Buffer) => this.receive(chunk));
    this.input.on('end', () => this.shutdown(0));
    this.input.on('error', (error) => this.fail(`control channel read failed: ${error.message}`));
    this.output.on('error', (error) => this.fail(`control channel write failed: ${error.message}`));
    this.output.on('drain', () => this.resumeOutputs());
  }

  /** Kills every process group started and ends; used on channel end, errors and signals. */
  shutdown(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.input.pause();
    killEverything([...this.execs.values()]);
    this.execs.clear();
    this.exit(code);
  }

  private fail(reason: string): void {
    if (this.ended) return;
    log(`${reason}; killing every command and exiting`);
    this.shutdown(1);
  }

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    try {
      for (const frame of this.decoder.push(chunk)) {
        this.handle(frame);
        if (this.ended) return;
      }
    } catch (error) {
      if (error instanceof FrameError) this.fail(`protocol error: ${error.message}`);
      else this.fail(`internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
  }

  private handle(frame: Frame): void {
    if (frame.channel === 0) throw new FrameError('channel 0 is reserved');
    switch (frame.type) {
      case FRAME.start: return this.startExec(frame.channel, frameJson<unknown>(frame));
      case FRAME.stdin: return this.writeStdin(frame.channel, frame.payload);
      case FRAME.stdinEnd: return this.endStdin(frame.channel);
      case FRAME.resize: return this.resize(frame.channel, frameJson<unknown>(frame));
      case FRAME.signal: return this.signal(frame.channel, frameJson<unknown>(frame));
      default: throw new FrameError(`frame type ${frame.type} only travels from the supervisor to the gateway`);
    }
  }

  private send(type: (typeof FRAME)[keyof typeof FRAME], channel: number, payload: Buffer | object): void {
    if (this.ended) return;
    // One write per frame: the stream keeps writes whole and in order, so frames never interleave.
    if (!this.output.write(encodeFrame(type, channel, payload))) this.pauseOutputs();
  }

  private pauseOutputs(): void {
    if (this.outputPaused) return;
    this.outputPaused = true;
    for (const exec of this.execs.values()) for (const stream of exec.outputs) stream.pause();
  }

  private resumeOutputs(): void {
    this.outputPaused = false;
    for (const exec of this.execs.values()) for (const stream of exec.outputs) stream.resume();
  }

  private startExec(channel: number, request: unknown): void {
    if (this.execs.has(channel)) return this.send(FRAME.startFailed, channel, { code: 125, message: `channel ${channel} is already in use` });
    const problem = startPayloadProblem(request);
    if (problem) return this.send(FRAME.startFailed, channel, { code: 125, message: `bad start request: ${problem}` });
    const sent = request as StartPayload;
    const start: StartPayload = { ...sent, env: { ...this.baseEnv, ...sent.env } };
    const outcome = resolveExecutable(start.argv[0]!, start.env.PATH, start.cwd);
    if (outcome.kind === 'failed') return this.send(FRAME.startFailed, channel, outcome.failure);
    let child: ChildProcess;
    try {
      child = this.spawnCommand(start, outcome.resolved);
    } catch (error) {
      return this.send(FRAME.startFailed, channel, { code: 125, message: errorMessage(error) });
    }
    if (child.pid === undefined) {
      // The exec failed (libuv reports it synchronously); 'error' carries the reason.
      const failure = (error: NodeJS.ErrnoException): StartFailedPayload => start.tty === null
        ? spawnFailure(start.argv[0]!, error)
        : { code: 125, message: `the PTY helper ${this.ptyHelper} cannot run: ${error.message}` };
      child.once('error', (error: NodeJS.ErrnoException) => this.send(FRAME.startFailed, channel, failure(error)));
      return;
    }
    this.track(channel, child, start.tty !== null);
  }

  private spawnCommand(start: StartPayload, resolved: string): ChildProcess {
    // detached: a new session and process group, so a signal frame reaches the whole group.
    if (start.tty === null) {
      return spawn(resolved, start.argv.slice(1), {
        argv0: start.argv[0], env: start.env, cwd: start.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
      });
    }
    const args = ['--rows', String(start.tty.rows), '--cols', String(start.tty.cols), '--argv0', start.argv[0]!, '--', resolved, ...start.argv.slice(1)];
    return spawn(this.ptyHelper, args, { env: start.env, cwd: start.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  }

  private track(channel: number, child: ChildProcess, tty: boolean): void {
    const exec: Exec = {
      channel,
      child,
      control: tty ? (child.stdio[3] as Writable) : null,
      outputs: [child.stdout!, child.stderr!],
    };
    this.execs.set(channel, exec);
    this.send(FRAME.started, channel, { pid: child.pid! });
    child.stdout!.on('data', (chunk: Buffer) => this.send(FRAME.stdout, channel, chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.send(FRAME.stderr, channel, chunk));
    if (this.outputPaused) for (const stream of exec.outputs) stream.pause();
    // A command that exits without reading its input is normal; EPIPE on its stdin is not an error.
    child.stdin!.on('error', () => {});
    child.stdin!.on('drain', () => this.updateInputFlow());
    exec.control?.on('error', () => {});
    child.on('error', (error) => log(`channel ${channel}: ${error.message}`));
    // 'close' comes after the process exited AND its stdout/stderr reached end of file.
    child.once('close', (code, signal) => this.finish(exec, exitCodeOf(code, signal)));
  }

  private finish(exec: Exec, code: number): void {
    if (this.execs.get(exec.channel) !== exec) return;
    this.execs.delete(exec.channel);
    exec.control?.destroy();
    exec.child.stdin?.destroy();
    this.send(FRAME.exit, exec.channel, { code });
    this.updateInputFlow();
  }

  private writeStdin(channel: number, data: Buffer): void {
    const stdin = this.execs.get(channel)?.child.stdin;
    // Input for a command that already exited, or whose input was closed, has nowhere to go.
    if (!stdin || stdin.writableEnded || stdin.destroyed) return;
    stdin.write(data);
    this.updateInputFlow();
  }

  private endStdin(channel: number): void {
    const stdin = this.execs.get(channel)?.child.stdin;
    if (stdin && !stdin.writableEnded) stdin.end();
  }

  private updateInputFlow(): void {
    if (this.ended) return;
    let pending = 0;
    for (const exec of this.execs.values()) pending += exec.child.stdin?.writableLength ?? 0;
    if (pending > MAX_PENDING_STDIN && !this.inputPaused) {
      this.inputPaused = true;
      this.input.pause();
    } else if (pending <= MAX_PENDING_STDIN && this.inputPaused) {
      this.inputPaused = false;
      this.input.resume();
    }
  }

  private resize(channel: number, request: unknown): void {
    const exec = this.execs.get(channel);
    if (!exec?.control || exec.control.destroyed) return;
    if (!isTtySize(request)) return log(`channel ${channel}: ignoring a malformed resize request`);
    exec.control.write(`${request.rows} ${request.cols}\n`);
  }

  private signal(channel: number, request: unknown): void {
    const exec = this.execs.get(channel);
    if (!exec) return;
    const name = isRecord(request) ? request.signal : undefined;
    if (!isExecSignal(name)) return log(`channel ${channel}: ignoring a request for signal ${JSON.stringify(name)}`);
    // A terminal's command lives in the helper's child session; SIGKILL cannot be forwarded.
    if (name === 'SIGKILL' && exec.control) return killEverything([exec]);
    killGroup(exec.child.pid!, name);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

/**
 * SIGKILLs each exec's process group and every process descending from it, found before the
 * kill (afterwards orphans are re-parented and lost): this reaches the session the PTY helper
 * made for its command, and children that moved to a process group of their own.
 */
function killEverything(execs: Exec[]): void {
  const roots = execs.map((exec) => exec.child.pid).filter((pid): pid is number => pid !== undefined);
  const descendants = descendantsOf(roots);
  for (const pid of roots) killGroup(pid, 'SIGKILL');
  for (const pid of descendants) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function descendantsOf(roots: number[]): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentPidOf(entry);
    if (parent === undefined) continue;
    const siblings = childrenOf.get(parent) ?? [];
    siblings.push(Number(entry));
    childrenOf.set(parent, siblings);
  }
  const found: number[] = [];
  const queue = [...roots];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of childrenOf.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function parentPidOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const parent = Number(fields[1]);
    return Number.isInteger(parent) ? parent : undefined;
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Finds the file argv[0] names the way a shell would, in the command's own PATH and cwd, so that
 * "not found" (127) and "not executable" (126) are answered before anything starts.
 */
function resolveExecutable(command: string, searchPath: string | undefined, cwd: string): Outcome {
  let sawNonExecutable = false;
  for (const candidate of candidatePaths(command, searchPath, cwd)) {
    const stat = statOrUndefined(candidate);
    if (!stat) continue;
    if (stat.isFile() && isExecutable(candidate)) return { kind: 'ok', resolved: candidate };
    sawNonExecutable = true;
  }
  return sawNonExecutable
    ? { kind: 'failed', failure: { code: 126, message: `${command}: permission denied (not an executable file)` } }
    : { kind: 'failed', failure: { code: 127, message: `${command}: command not found` } };
}

/** An empty PATH entry means the working directory, as in a shell; without PATH nothing is searched. */
function candidatePaths(command: string, searchPath: string | undefined, cwd: string): string[] {
  if (command.includes('/')) return [path.resolve(cwd, command)];
  if (searchPath === undefined) return [];
  return searchPath.split(':').map((dir) => path.resolve(cwd, dir === '' ? '.' : dir, command));
}

function statOrUndefined(file: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function spawnFailure(command: string, error: NodeJS.ErrnoException): StartFailedPayload {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return { code: 127, message: `${command}: ${error.message}` };
  if (error.code === 'EACCES' || error.code === 'ENOEXEC' || error.code === 'EPERM') return { code: 126, message: `${command}: ${error.message}` };
  return { code: 125, message: `${command}: ${error.message}` };
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? osConstants.signals[signal] : undefined;
  return number === undefined ? 125 : 128 + number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isExecSignal(value: unknown): value is ExecSignal {
  return typeof value === 'string' && (EXEC_SIGNALS as readonly string[]).includes(value);
}

function isTtySize(value: unknown): value is TtySize {
  if (!isRecord(value)) return false;
  const dimension = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TTY_DIMENSION;
  return dimension(value.rows) && dimension(value.cols);
}

/** Why a start payload cannot be used, or undefined when it is well formed. */
function startPayloadProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  const { argv, env, cwd, tty } = value;
  if (!Array.isArray(argv) || argv.length === 0) return 'argv must be a non-empty array';
  if (!argv.every((arg) => typeof arg === 'string' && !arg.includes('\0'))) return 'argv must hold strings without NUL';
  if (argv[0] === '') return 'argv[0] is empty';
  if (!isRecord(env)) return 'env must be an object';
  for (const [key, val] of Object.entries(env)) {
    if (key === '' || key.includes('=') || key.includes('\0')) return `bad environment variable name ${JSON.stringify(key)}`;
    if (typeof val !== 'string' || val.includes('\0')) return `environment variable ${key} must be a string without NUL`;
  }
  if (typeof cwd !== 'string' || !path.isAbsolute(cwd) || cwd.includes('\0')) return 'cwd must be an absolute path';
  if (!statOrUndefined(cwd)?.isDirectory()) return `cwd ${cwd} is not a directory`;
  if (tty !== null && !isTtySize(tty)) return 'tty must be null or {rows, cols} between 1 and 65535';
  return undefined;
}

function runAsProgram(): void {
  // Read once: the path is fixed for the supervisor's whole life.
  const ptyHelper = process.env.WARDEN_PTY_HELPER || PTY_HELPER_INSIDE;
  const { WARDEN_PTY_HELPER: _helper, ...sandboxEnv } = process.env;
  const supervisor = new Supervisor(process.stdin, openControlOutput(), ptyHelper, (code) => process.exit(code), sandboxEnv as Record<string, string>);
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    process.on(signal, () => supervisor.shutdown(128 + osConstants.signals[signal]));
  }
  process.on('uncaughtException', (error) => {
    log(`internal error: ${error.stack ?? error.message}; killing every command and exiting`);
    supervisor.shutdown(1);
  });
  supervisor.start();
}

function invokedAsProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedAsProgram()) runAsProgram();
