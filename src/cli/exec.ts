// `warden exec` and `warden connect`: a thin client relaying a terminal or pipes to a command
// running inside a named sandbox, through the gateway.
import {
  decodeExit, decodeStartFailed, encodeFrame, encodeResize, encodeSignal, FRAME, FrameDecoder, parseEnvAssignments, type ExecSignal,
} from '../sandbox/index.js';
import type { Socket } from 'node:net';
import { openExec } from '../gateway/index.js';
import { wardenHome } from '../store/index.js';
import { CliError, printLine } from './output.js';

const CONNECT_SHELL = 'if [ -x /bin/bash ]; then exec /bin/bash -i; else exec /bin/sh -i; fi';

export async function execCommand(name: string, argv: string[], opts: { env: string[]; tty?: boolean; denials?: boolean }): Promise<number> {
  let env: Record<string, string>;
  try {
    env = parseEnvAssignments(opts.env);
  } catch (error) {
    throw new CliError('usage', (error as Error).message, 2);
  }
  const tty = opts.tty ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return relay(name, argv, env, tty, opts.denials !== false);
}

export async function connectCommand(name: string, shell: string | undefined, denials = true): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new CliError('usage', '`warden connect` needs a terminal; use `warden exec NAME -- CMD` from scripts', 2);
  }
  return relay(name, shell ? [shell, '-i'] : ['/bin/sh', '-c', CONNECT_SHELL], {}, true, denials);
}

async function relay(name: string, argv: string[], env: Record<string, string>, tty: boolean, denials: boolean): Promise<number> {
  const size = () => ({ rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 });
  const termEnv: Record<string, string> = tty && process.env.TERM ? { TERM: process.env.TERM } : {};
  const { socket, rest } = await openExec(wardenHome(), { name, argv, env: { ...termEnv, ...env }, tty: tty ? size() : null, ...(denials ? {} : { denials: false }) },
    { progress: (message) => printLine(2, message) });
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload: Buffer = Buffer.alloc(0)) => {
    // Backpressure: while the gateway is not taking input (the command reads slowly), stop reading ours.
    if (!socket.destroyed && !socket.write(encodeFrame(type, 0, payload))) {
      process.stdin.pause();
      socket.once('drain', () => process.stdin.resume());
    }
  };
  const rawMode = tty && process.stdin.isTTY;
  if (rawMode) process.stdin.setRawMode(true);
  const onInput = (chunk: Buffer) => send(FRAME.stdin, chunk);
  const onInputEnd = () => send(FRAME.stdinEnd);
  const onResize = () => send(FRAME.resize, encodeResize(size()));
  // Without a terminal, signals warden receives go on to the command's process group.
  const onSignal = (signal: NodeJS.Signals) => send(FRAME.signal, encodeSignal(signal as ExecSignal));
  const signals: NodeJS.Signals[] = rawMode ? [] : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  process.stdin.on('data', onInput);
  process.stdin.on('end', onInputEnd);
  process.stdin.on('error', onInputEnd);
  if (tty) process.stdout.on('resize', onResize);
  for (const signal of signals) process.on(signal, onSignal);
  try {
    return await execFrames(socket, rest, {
      stdout: (data) => process.stdout.write(data),
      stderr: (data) => process.stderr.write(data),
      startFailed: (message) => printLine(2, `warden: ${message}`),
    }, 'the command');
  } finally {
    process.stdin.off('data', onInput);
    process.stdin.off('end', onInputEnd);
    process.stdin.pause();
    process.stdout.off('resize', onResize);
    for (const signal of signals) process.off(signal, onSignal);
    if (rawMode) process.stdin.setRawMode(false);
  }
}

export interface ExecSinks {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** The command did not start (its exit code follows from the frame). */
  startFailed(message: string): void;
  /** The stream ended (before the exit code is settled). */
  closed?(): void;
}

/**
 * Reads an exec's frames from the gateway: output to `sinks`, until the connection closes. Resolves
 * with the command's exit code; rejects when the stream breaks its layout, or ends before the exit
 * code came (the gateway stopped), naming `what` did not end.
 */
export function execFrames(socket: Socket, rest: Buffer, sinks: ExecSinks, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const decoder = new FrameDecoder();
    let code: number | undefined;
    const onData = (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === FRAME.stdout) sinks.stdout(frame.payload);
          else if (frame.type === FRAME.stderr) sinks.stderr(frame.payload);
          else if (frame.type === FRAME.exit) code = decodeExit(frame);
          else if (frame.type === FRAME.startFailed) {
            const failed = decodeStartFailed(frame);
            sinks.startFailed(failed.message);
            code = failed.code;
          }
        }
      } catch (error) {
        reject(error);
      }
    };
    if (rest.length > 0) onData(rest);
    socket.on('data', onData);
    socket.resume();
    socket.on('close', () => {
      sinks.closed?.();
      if (code === undefined) reject(new CliError('gateway_lost', `the connection to the gateway ended before ${what} did (the gateway stopped?)`, 125));
      else resolve(code);
    });
  });
}
