import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSecretName } from '../audit/index.js';
import { gatewayPaths } from './paths.js';
import { parseArgs, parseReply, type Op, type OpArgs, type OpReply, type OpRequest } from './api.js';
import { GatewayError, readJsonLine, type GatewayReply } from './protocol.js';

const START_TIMEOUT_MS = 15_000;

export interface ClientOptions {
  /** Start the gateway when none answers (default true). */
  autoStart?: boolean;
  /** Told once when starting the gateway takes a moment. */
  progress?: (message: string) => void;
}

/** Sends one request to the gateway of `home` and returns its result, or throws GatewayError. */
export async function callGateway<O extends Op>(home: string, op: O, args: OpRequest<O>, options: ClientOptions = {}): Promise<OpReply<O>> {
  const checked = checkedArgs(op, args);
  const socket = await connectGateway(home, options);
  try {
    socket.write(JSON.stringify({ op, args: checked }) + '\n');
    const { value } = await readJsonLine(socket);
    return checkedReply(op, unwrap(value));
  } finally {
    socket.destroy();
  }
}

/**
 * Starts an exec: resolves once the gateway accepted it, with the connection (now carrying
 * frames) and any frame bytes that arrived with the reply.
 */
export async function openExec(home: string, args: OpRequest<'exec'>, options: ClientOptions = {}): Promise<{ socket: net.Socket; rest: Buffer }> {
  const checked = checkedArgs('exec', args);
  const socket = await connectGateway(home, options);
  socket.write(JSON.stringify({ op: 'exec', args: checked }) + '\n');
  try {
    const { value, rest } = await readJsonLine(socket);
    checkedReply('exec', unwrap(value));
    return { socket, rest };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/**
 * Subscribes to approval events: resolves once the gateway accepted, with the connection (now
 * carrying one JSON line per event) and any bytes that arrived with the reply.
 */
export async function openWatch(home: string, args: OpRequest<'approvals.watch'>, options: ClientOptions = {}): Promise<{ socket: net.Socket; rest: Buffer; timeoutMs: number }> {
  const checked = checkedArgs('approvals.watch', args);
  const socket = await connectGateway(home, options);
  socket.write(JSON.stringify({ op: 'approvals.watch', args: checked }) + '\n');
  try {
    const { value, rest } = await readJsonLine(socket);
    const { timeoutMs } = checkedReply('approvals.watch', unwrap(value));
    return { socket, rest, timeoutMs };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

function checkedArgs<O extends Op>(op: O, args: OpRequest<O>): OpArgs<O> {
  const parsed = parseArgs(op, args);
  if (!parsed.ok) throw new GatewayError('bad_request', parsed.message);
  return parsed.args;
}

function checkedReply<O extends Op>(op: O, result: unknown): OpReply<O> {
  const reply = parseReply(op, result);
  if (reply === undefined) {
    throw new GatewayError('bad_reply', `the gateway answered ${op} in a form this warden does not know: is the running gateway of another version? Run \`warden gateway stop\` and retry.`);
  }
  return reply;
}

export async function gatewayRunning(home: string): Promise<boolean> {
  return answers(gatewayPaths(home).socket);
}

/** Connects, starting the gateway in the background first when none answers. */
export async function connectGateway(home: string, options: ClientOptions = {}): Promise<net.Socket> {
  const socketPath = gatewayPaths(home).socket;
  const first = await tryConnect(socketPath);
  if (first) return first;
  if (options.autoStart === false) {
    throw new GatewayError('not_running', `no gateway is running for ${home}: start it with \`warden gateway start\``);
  }
  startGatewayProcess(home);
  const progressTimer = setTimeout(() => options.progress?.('warden: starting the gateway...'), 1_000);
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const socket = await tryConnect(socketPath);
      if (socket) return socket;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    clearTimeout(progressTimer);
  }
  throw new GatewayError('start_failed', `the gateway did not start within ${START_TIMEOUT_MS / 1000} s: see ${gatewayPaths(home).log}, or run \`warden gateway start --foreground\` to watch it`);
}

function tryConnect(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => { socket.removeAllListeners('error'); socket.on('error', () => undefined); resolve(socket); });
    socket.once('error', () => resolve(undefined));
  });
}

/** `warden gateway start --foreground` in its own session, its output appended to gateway.log. */
export function startGatewayProcess(home: string): number {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const log = openSync(gatewayPaths(home).log, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [wardenBin(), 'gateway', 'start', '--foreground'], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...withoutSecrets(process.env), WARDEN_HOME: home },
      cwd: '/',
    });
    child.unref();
    return child.pid ?? 0;
  } finally {
    closeSync(log);
  }
}

/**
 * The caller's environment minus what looks like a secret (API keys, tokens, passwords): the
 * gateway outlives the command that started it, and keys belong in providers, not in its environ.
 */
function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isSecretName(name)));
}

/** bin/warden.js of this installation: from dist/bundle/ or dist/src/gateway/, up to dist/, then ../bin. */
function wardenBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== 'dist' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(path.dirname(dir), 'bin', 'warden.js');
}

function unwrap(value: unknown): unknown {
  const reply = value as GatewayReply;
  if (reply && reply.ok === true) return reply.result;
  if (reply && reply.ok === false) throw new GatewayError(reply.error.code, reply.error.message);
  throw new GatewayError('bad_reply', 'the gateway sent an unreadable reply');
}

/** Whether a gateway accepts connections on `socketPath`. */
export function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
