// `warden exec` and `warden connect`: a thin client relaying a terminal or pipes to a command
// running inside a named sandbox, through the gateway.
import {
  decodeExit, decodeStartFailed, encodeFrame, encodeResize, encodeSignal, FRAME, FrameDecoder, parseEnvAssignments, type ExecSignal,
} from '../sandbox/index.js';
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
    return await new Promise<number>((resolve, reject) => {
      const decoder = new FrameDecoder();
      let code: number | undefined;
      const onData = (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === FRAME.stdout) process.stdout.write(frame.payload);
          else if (frame.type === FRAME.stderr) process.stderr.write(frame.payload);
          else if (frame.type === FRAME.exit) code = decodeExit(frame);
          else if (frame.type === FRAME.startFailed) {
            const failed = decodeStartFailed(frame);
            printLine(2, `warden: ${failed.message}`);
            code = failed.code;
          }
        }
      };
      try {
        if (rest.length > 0) onData(rest);
      } catch (error) {
        reject(error);
      }
      socket.on('data', (chunk: Buffer) => {
        try {
          onData(chunk);
        } catch (error) {
          reject(error);
        }
      });
      socket.resume();
      socket.on('close', () => {
        if (code === undefined) reject(new CliError('gateway_lost', 'the connection to the gateway ended before the command did (the gateway stopped?)', 125));
        else resolve(code);
      });
    });
  } finally {
    process.stdin.off('data', onInput);
    process.stdin.off('end', onInputEnd);
    process.stdin.pause();
    process.stdout.off('resize', onResize);
    for (const signal of signals) process.off(signal, onSignal);
    if (rawMode) process.stdin.setRawMode(false);
  }
}
