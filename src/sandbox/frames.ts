// The wire format between the gateway and a sandbox's supervisor: binary frames on a byte stream,
//   [u8 type][u32be channel][u32be length][payload]
// Channel is the id the gateway picked for one exec (non-zero; 0 is reserved). JSON payloads are
// UTF-8. This module is bundled into the in-sandbox supervisor, so it may import node: builtins only.

export const FRAME = {
  // gateway -> supervisor
  start: 1,
  stdin: 2,
  stdinEnd: 3,
  resize: 4,
  signal: 5,
  // supervisor -> gateway
  started: 16,
  startFailed: 17,
  stdout: 18,
  stderr: 19,
  exit: 20,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const FRAME_HEADER_BYTES = 9;
/** A bigger payload is a protocol error: it bounds what one frame can make either side buffer. */
export const MAX_FRAME_PAYLOAD = 1024 * 1024;
const MAX_CHANNEL = 0xffff_ffff;

/** Where the PTY helper is placed inside every long-lived sandbox. */
export const PTY_HELPER_INSIDE = '/.warden/pty-exec';

/** The only signals a `signal` frame may deliver; anything else is ignored by the supervisor. */
export const EXEC_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;
export type ExecSignal = (typeof EXEC_SIGNALS)[number];

export interface TtySize {
  rows: number;
  cols: number;
}

export interface StartPayload {
  argv: string[];
  /** The command's whole environment: nothing is inherited from the supervisor. */
  env: Record<string, string>;
  cwd: string;
  /** Non-null: the command runs on a new pseudo-terminal of this size. */
  tty: TtySize | null;
}

export type ResizePayload = TtySize;
export interface SignalPayload { signal: string }
export interface StartedPayload { pid: number }
/** 127 not found, 126 not executable, 125 any other reason the command did not start. */
export interface StartFailedPayload { code: 125 | 126 | 127; message: string }
/** The exit status, 128+N when the process was killed by signal N. */
export interface ExitPayload { code: number }

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

export function encodeFrame(type: FrameType, channel: number, payload: Buffer | string | object = Buffer.alloc(0)): Buffer {
  if (!isFrameType(type)) throw new FrameError(`unknown frame type ${String(type)}`);
  if (!Number.isInteger(channel) || channel < 0 || channel > MAX_CHANNEL) throw new FrameError(`bad channel ${String(channel)}`);
  const body = payloadBytes(payload);
  if (body.length > MAX_FRAME_PAYLOAD) throw new FrameError(`frame payload of ${body.length} bytes is over the ${MAX_FRAME_PAYLOAD}-byte limit`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(channel, 1);
  frame.writeUInt32BE(body.length, 5);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

function payloadBytes(payload: Buffer | string | object): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(JSON.stringify(payload), 'utf8');
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

/** A frame's JSON payload; the caller still checks its shape. Throws FrameError when it is not JSON. */
export function frameJson<T>(frame: Frame): T {
  try {
    return JSON.parse(frame.payload.toString('utf8')) as T;
  } catch {
    throw new FrameError(`frame of type ${frame.type} on channel ${frame.channel} does not carry JSON`);
  }
}
