// The host side of the supervisor's protocol (frames.ts, native/supervisor.c): commands started
// over one control channel, each on a channel of its own, with both flow-control windows kept.
// Used by the gateway for named sandboxes and by `warden run` for a command on a terminal.
import type { Writable } from 'node:stream';
import {
  decodeExit, decodeStartFailed, decodeU32, encodeFrame, encodeResize, encodeSignal, encodeStart, encodeU32, FRAME, MAX_CHANNELS, STDIN_WINDOW,
  type ExecSignal, type Frame, type FrameType, type TtySize,
} from './frames.js';

/** Largest stdin chunk sent in one frame (several fit in the window). */
const STDIN_CHUNK = 64 * 1024;

export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  tty: TtySize | null;
}

/** Where one command's events go (a client connection, the main command's log, a terminal). */
export interface ExecSink {
  started(pid: number): void;
  /** Output of the command; the sink calls `channel.consumed(n)` once it has passed n bytes on. */
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** The command did not start: 127 not found, 126 not executable, 125 anything else. */
  failed(code: number, message: string): void;
  exited(code: number): void;
  /** The stdin window has room again after `stdin()` returned false. */
  stdinReady(): void;
  /**
   * A line from warden itself for the client's stderr (a network denial of the sandbox while
   * this exec runs): not the command's output, so outside its flow control.
   */
  notice?(line: string): void;
}

/** One running command, as its owner drives it. */
export interface ExecChannel {
  readonly id: number;
  /** Queues input; false when the window is full (stop reading until sink.stdinReady()). */
  stdin(data: Buffer): boolean;
  endStdin(): void;
  resize(size: TtySize): void;
  signal(signal: ExecSignal): void;
  /** The sink has passed on this many output bytes: the supervisor may read that much more. */
  consumed(bytes: number): void;
  /** The client went away: the command is killed, like a closed ssh session's. */
  abandon(): void;
}

interface Channel {
  sink: ExecSink;
  /** Input sent to the supervisor and not yet acknowledged as written. */
  stdinInFlight: number;
  /** Input waiting for window. */
  stdinQueue: Buffer[];
  stdinEnding: boolean;
  waitingForWindow: boolean;
  done: boolean;
}

/**
 * The channels of one supervisor. Frames from it go to `route`, which throws on any frame that
 * fails its layout: the supervisor is warden's own code, so its owner treats that as a subverted
 * sandbox and ends it.
 */
export class SupervisorConnection {
  private readonly channels = new Map<number, Channel>();
  private nextChannel = 1;

  constructor(private readonly control: Writable) {}

  get size(): number {
    return this.channels.size;
  }

  /** Starts a command; its events go to `sink`. */
  exec(request: ExecRequest, sink: ExecSink): ExecChannel {
    if (this.channels.size >= MAX_CHANNELS - 1) throw new Error(`${this.channels.size} commands run in the sandbox already`);
    const id = this.nextChannel++;
    const channel: Channel = { sink, stdinInFlight: 0, stdinQueue: [], stdinEnding: false, waitingForWindow: false, done: false };
    this.channels.set(id, channel);
    this.send(FRAME.start, id, encodeStart(request));
    return {
      id,
      stdin: (data) => this.queueStdin(id, data),
      endStdin: () => {
        channel.stdinEnding = true;
        this.flushStdin(id);
      },
      resize: (size) => this.sendIfOpen(id, FRAME.resize, encodeResize(size)),
      signal: (signal) => this.sendIfOpen(id, FRAME.signal, encodeSignal(signal)),
      consumed: (bytes) => {
        if (bytes > 0) this.sendIfOpen(id, FRAME.outputAck, encodeU32(bytes));
      },
      abandon: () => {
        if (channel.done) return;
        this.sendIfOpen(id, FRAME.signal, encodeSignal('SIGKILL'));
        channel.sink = discardingSink((bytes) => this.sendIfOpen(id, FRAME.outputAck, encodeU32(bytes)));
      },
    };
  }

  /** A frame from the supervisor; any that fails its layout throws (a protocol error). */
  route(frame: Frame): void {
    const channel = this.channels.get(frame.channel);
    switch (frame.type) {
      case FRAME.started: {
        const pid = decodeU32(frame, 'started');
        channel?.sink.started(pid);
        return;
      }
      case FRAME.stdout:
      case FRAME.stderr:
        if (channel) channel.sink.output(frame.type === FRAME.stdout ? 'stdout' : 'stderr', frame.payload);
        return;
      case FRAME.stdinAck: {
        const bytes = decodeU32(frame, 'stdinAck');
        if (channel) {
          channel.stdinInFlight = Math.max(0, channel.stdinInFlight - bytes);
          this.flushStdin(frame.channel);
        }
        return;
      }
      case FRAME.exit: {
        const code = decodeExit(frame);
        this.finish(frame.channel, (sink) => sink.exited(code));
        return;
      }
      case FRAME.startFailed: {
        const failure = decodeStartFailed(frame);
        this.finish(frame.channel, (sink) => sink.failed(failure.code, failure.message));
        return;
      }
      default:
        throw new Error(`frame type ${frame.type} does not travel from the supervisor`);
    }
  }

  /** The supervisor is gone: every command still open ends with `code` (137 for 0). */
  endAll(code: number): void {
    for (const id of [...this.channels.keys()]) this.finish(id, (sink) => sink.exited(code || 137));
  }

  private send(type: FrameType, channel: number, payload: Buffer): void {
    this.control.write(encodeFrame(type, channel, payload));
  }

  private sendIfOpen(id: number, type: FrameType, payload: Buffer): void {
    const channel = this.channels.get(id);
    if (channel && !channel.done) this.send(type, id, payload);
  }

  private queueStdin(id: number, data: Buffer): boolean {
    const channel = this.channels.get(id);
    if (!channel || channel.done || channel.stdinEnding) return true;
    for (let offset = 0; offset < data.length; offset += STDIN_CHUNK) channel.stdinQueue.push(data.subarray(offset, offset + STDIN_CHUNK));
    this.flushStdin(id);
    const full = channel.stdinQueue.length > 0;
    if (full) channel.waitingForWindow = true;
    return !full;
  }

  /** Sends queued input while the window has room; the end of input goes after the last byte. */
  private flushStdin(id: number): void {
    const channel = this.channels.get(id);
    if (!channel || channel.done) return;
    while (channel.stdinQueue.length > 0 && channel.stdinInFlight + channel.stdinQueue[0]!.length <= STDIN_WINDOW) {
      const chunk = channel.stdinQueue.shift()!;
      channel.stdinInFlight += chunk.length;
      this.send(FRAME.stdin, id, chunk);
    }
    if (channel.stdinQueue.length === 0 && channel.stdinEnding) {
      channel.stdinEnding = false;
      this.send(FRAME.stdinEnd, id, Buffer.alloc(0));
    }
    if (channel.stdinQueue.length === 0 && channel.waitingForWindow) {
      channel.waitingForWindow = false;
      channel.sink.stdinReady();
    }
  }

  private finish(id: number, tell: (sink: ExecSink) => void): void {
    const channel = this.channels.get(id);
    if (!channel || channel.done) return;
    channel.done = true;
    this.channels.delete(id);
    tell(channel.sink);
  }
}

function discardingSink(release: (bytes: number) => void): ExecSink {
  return { started: () => undefined, output: (_stream, data) => release(data.length), failed: () => undefined, exited: () => undefined, stdinReady: () => undefined };
}
