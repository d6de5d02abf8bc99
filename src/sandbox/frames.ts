// The wire format between the gateway and a sandbox's supervisor (src/sandbox/native/supervisor.c),
// and between `warden exec` and the gateway: binary frames on a byte stream,
//   [u8 type][u32be channel][u32be length][payload]
// Channel is the id the gateway picked for one exec (non-zero; 0 is used on the client link,
// which carries one exec). Payloads are binary and fixed-layout, so that the supervisor, a small
// C program, parses them without a JSON parser; every one is checked against its layout here
// (decode*) and there before it is acted on.
//
// Flow control: each channel has a window in each direction. The supervisor stops reading a
// command's output once OUTPUT_WINDOW bytes are unacknowledged (outputAck credits it back when
// the client has taken them); the gateway sends at most STDIN_WINDOW bytes of input that the
// supervisor has not yet acknowledged (stdinAck) as written to the command. So a slow reader
// pauses the command instead of making anyone buffer its output, and memory per exec is bounded.
//
// This module may import node: builtins only.

export const FRAME = {
  // gateway -> supervisor (and client -> gateway for stdin, stdinEnd, resize, signal)
  start: 1,
  stdin: 2,
  stdinEnd: 3,
  resize: 4,
  signal: 5,
  outputAck: 6,
  // supervisor -> gateway (and gateway -> client for started..exit)
  started: 16,
  startFailed: 17,
  stdout: 18,
  stderr: 19,
  exit: 20,
  stdinAck: 21,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const FRAME_HEADER_BYTES = 9;
/** A bigger payload is a protocol error: it bounds what one frame can make either side buffer. */
export const MAX_FRAME_PAYLOAD = 1024 * 1024;
/** Unacknowledged output bytes per channel before the supervisor stops reading the command. */
export const OUTPUT_WINDOW = 256 * 1024;
/** Unacknowledged input bytes per channel the gateway may have sent to the supervisor. */
export const STDIN_WINDOW = 256 * 1024;
/** The supervisor refuses more concurrent execs than this (start fails with 125). */
export const MAX_CHANNELS = 256;
const MAX_CHANNEL = 0xffff_ffff;

/** Where the supervisor is placed inside every long-lived sandbox. */
export const SUPERVISOR_INSIDE = '/.warden/supervisor';

/**
 * The only signals a `signal` frame may deliver, by name and Linux number (the same on x86_64 and
 * arm64). Anything else is a malformed frame.
 */
export const EXEC_SIGNALS = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGCONT: 18, SIGWINCH: 28,
} as const;
export type ExecSignal = keyof typeof EXEC_SIGNALS;

export interface TtySize {
  rows: number;
  cols: number;
}

export interface StartPayload {
  argv: string[];
  /** Variables set on top of the sandbox's own environment (the supervisor's). */
  env: Record<string, string>;
  cwd: string;
  /** Non-null: the command runs on a new pseudo-terminal of this size. */
  tty: TtySize | null;
}

/** 127 not found, 126 not executable, 125 any other reason the command did not start. */
export interface StartFailedPayload { code: 125 | 126 | 127; message: string }

export interface Frame {
  type: FrameType;
  channel: number;
  payload: Buffer;
}

export class FrameError extends Error {}

const KNOWN_TYPES = new Set<number>(Object.values(FRAME));

export function isFrameType(value: number): value is FrameType {
  return KNOWN_TYPES.has(value);
}

export function encodeFrame(type: FrameType, channel: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  if (!isFrameType(type)) throw new FrameError(`unknown frame type ${String(type)}`);
  if (!Number.isInteger(channel) || channel < 0 || channel > MAX_CHANNEL) throw new FrameError(`bad channel ${String(channel)}`);
  if (payload.length > MAX_FRAME_PAYLOAD) throw new FrameError(`frame payload of ${payload.length} bytes is over the ${MAX_FRAME_PAYLOAD}-byte limit`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(channel, 1);
  frame.writeUInt32BE(payload.length, 5);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Cuts a byte stream into frames. After a FrameError the stream is out of sync for good, so the
 * decoder refuses everything that follows instead of guessing where the next frame starts.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: FrameError | undefined;

  push(chunk: Buffer): Frame[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    try {
      for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    } catch (error) {
      this.failure = error instanceof FrameError ? error : new FrameError(String(error));
      this.chunks = [];
      this.buffered = 0;
      throw this.failure;
    }
    return frames;
  }

  /** Bytes received that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private next(): Frame | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined;
    const header = this.peek(FRAME_HEADER_BYTES);
    const type = header.readUInt8(0);
    const length = header.readUInt32BE(5);
    // Checked on the header alone, before any of an oversized payload is buffered.
    if (!isFrameType(type)) throw new FrameError(`unknown frame type ${type}`);
    if (length > MAX_FRAME_PAYLOAD) throw new FrameError(`frame payload of ${length} bytes is over the ${MAX_FRAME_PAYLOAD}-byte limit`);
    if (this.buffered < FRAME_HEADER_BYTES + length) return undefined;
    const whole = this.take(FRAME_HEADER_BYTES + length);
    return { type, channel: header.readUInt32BE(1), payload: whole.subarray(FRAME_HEADER_BYTES) };
  }

  private peek(count: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= count) return first.subarray(0, count);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, count);
  }

  private take(count: number): Buffer {
    let first = this.chunks[0]!;
    if (first.length < count) {
      first = Buffer.concat(this.chunks);
      this.chunks = [first];
    }
    const taken = first.subarray(0, count);
    const rest = first.subarray(count);
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    this.buffered -= count;
    return taken;
  }
}

// ---------------------------------------------------------------------------------------------
// Payloads. Each encoder has a decoder that refuses anything but the exact layout.

const MAX_TTY_DIMENSION = 0xffff;
const MAX_START_STRINGS = 65_536;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fail(what: string): never {
  throw new FrameError(what);
}

function exactLength(frame: Frame, length: number, what: string): void {
  if (frame.payload.length !== length) fail(`${what} frame must carry ${length} bytes, not ${frame.payload.length}`);
}

/**
 * start: [u8 flags: bit 0 = tty][u16be rows][u16be cols][u32be argc][u32be envc]
 *        cwd\0 argv[0]\0 ... argv[argc-1]\0 NAME=VALUE\0 ... (envc entries)
 * rows and cols are 0 without a terminal.
 */
export function encodeStart(start: StartPayload): Buffer {
  const problem = startProblem(start);
  if (problem) fail(`bad start request: ${problem}`);
  const strings = [start.cwd, ...start.argv, ...Object.entries(start.env).map(([key, value]) => `${key}=${value}`)];
  const head = Buffer.alloc(13);
  head.writeUInt8(start.tty ? 1 : 0, 0);
  head.writeUInt16BE(start.tty?.rows ?? 0, 1);
  head.writeUInt16BE(start.tty?.cols ?? 0, 3);
  head.writeUInt32BE(start.argv.length, 5);
  head.writeUInt32BE(Object.keys(start.env).length, 9);
  return Buffer.concat([head, ...strings.map((s) => Buffer.from(s + '\0', 'utf8'))]);
}

export function decodeStart(frame: Frame): StartPayload {
  const p = frame.payload;
  if (p.length < 13) fail('start frame is too short');
  const flags = p.readUInt8(0);
  if ((flags & ~1) !== 0) fail(`start frame has unknown flags ${flags}`);
  const rows = p.readUInt16BE(1);
  const cols = p.readUInt16BE(3);
  const argc = p.readUInt32BE(5);
  const envc = p.readUInt32BE(9);
  if (argc + envc + 1 > MAX_START_STRINGS) fail('start frame has too many strings');
  const strings = p.subarray(13).toString('utf8').split('\0');
  // The payload ends with a NUL, so splitting leaves one empty string after the last.
  if (strings.pop() !== '' || strings.length !== 1 + argc + envc) fail('start frame strings do not match argc and envc');
  const [cwd, ...rest] = strings as [string, ...string[]];
  const env: Record<string, string> = {};
  for (const entry of rest.slice(argc)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) fail('start frame environment entry without a name');
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const start: StartPayload = { cwd, argv: rest.slice(0, argc), env, tty: flags & 1 ? { rows, cols } : null };
  const problem = startProblem(start);
  if (problem) fail(`bad start request: ${problem}`);
  return start;
}

/** Why a start request cannot be used, or undefined when it is well formed. */
export function startProblem(start: StartPayload): string | undefined {
  if (!Array.isArray(start.argv) || start.argv.length === 0) return 'argv must be a non-empty list';
  if (!start.argv.every((arg) => typeof arg === 'string' && !arg.includes('\0'))) return 'argv must hold strings without NUL';
  if (start.argv[0] === '') return 'argv[0] is empty';
  if (typeof start.env !== 'object' || start.env === null) return 'env must map names to strings';
  for (const [key, value] of Object.entries(start.env)) {
    if (!ENV_NAME.test(key)) return `bad environment variable name ${JSON.stringify(key)}`;
    if (typeof value !== 'string' || value.includes('\0')) return `environment variable ${key} must be a string without NUL`;
  }
  if (typeof start.cwd !== 'string' || !start.cwd.startsWith('/') || start.cwd.includes('\0')) return 'cwd must be an absolute path';
  if (start.tty !== null && !isTtySize(start.tty)) return `tty must be null or {rows, cols} between 1 and ${MAX_TTY_DIMENSION}`;
  return undefined;
}

export function isTtySize(value: unknown): value is TtySize {
  if (typeof value !== 'object' || value === null) return false;
  const { rows, cols } = value as Record<string, unknown>;
  const dimension = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TTY_DIMENSION;
  return dimension(rows) && dimension(cols);
}

/** resize: [u16be rows][u16be cols], each 1..65535. */
export function encodeResize(size: TtySize): Buffer {
  if (!isTtySize(size)) fail(`bad terminal size ${JSON.stringify(size)}`);
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(size.rows, 0);
  payload.writeUInt16BE(size.cols, 2);
  return payload;
}

export function decodeResize(frame: Frame): TtySize {
  exactLength(frame, 4, 'resize');
  const size = { rows: frame.payload.readUInt16BE(0), cols: frame.payload.readUInt16BE(2) };
  if (!isTtySize(size)) fail('resize frame has a zero dimension');
  return size;
}

/** signal: [u8 signal number], one of EXEC_SIGNALS. */
export function encodeSignal(signal: ExecSignal): Buffer {
  const number = EXEC_SIGNALS[signal];
  if (number === undefined) fail(`signal ${String(signal)} cannot be sent to an exec`);
  return Buffer.from([number]);
}

export function decodeSignal(frame: Frame): ExecSignal {
  exactLength(frame, 1, 'signal');
  const number = frame.payload.readUInt8(0);
  const name = (Object.keys(EXEC_SIGNALS) as ExecSignal[]).find((key) => EXEC_SIGNALS[key] === number);
  if (name === undefined) fail(`signal ${number} cannot be sent to an exec`);
  return name;
}

/** started, exit, outputAck, stdinAck: [u32be value] (pid, exit code, bytes). */
export function encodeU32(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) fail(`bad value ${value}`);
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(value, 0);
  return payload;
}

export function decodeU32(frame: Frame, what: string): number {
  exactLength(frame, 4, what);
  return frame.payload.readUInt32BE(0);
}

/** The exit status: 0..255, or 128+N when the command was killed by signal N. */
export function decodeExit(frame: Frame): number {
  const code = decodeU32(frame, 'exit');
  if (code > 255) fail(`exit code ${code} is out of range`);
  return code;
}

/** startFailed: [u8 code: 125 | 126 | 127][UTF-8 message]. */
export function encodeStartFailed(failure: StartFailedPayload): Buffer {
  return Buffer.concat([Buffer.from([failure.code]), Buffer.from(failure.message, 'utf8')]);
}

export function decodeStartFailed(frame: Frame): StartFailedPayload {
  if (frame.payload.length < 1) fail('startFailed frame is empty');
  const code = frame.payload.readUInt8(0);
  if (code !== 125 && code !== 126 && code !== 127) fail(`startFailed code ${code} is not 125, 126 or 127`);
  return { code, message: frame.payload.subarray(1, 1 + 4096).toString('utf8') };
}
