import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { createAuditWriter, appendAudit } from '../audit/index.js';
import { openStore } from '../store/index.js';
import { GatewayError, readJsonLine, type GatewayReply, type GatewayRequest } from './protocol.js';
import { answers } from './client.js';
import { gatewayPaths } from './paths.js';
import { SandboxManager } from './manager.js';
import { FRAME, FrameDecoder, encodeFrame } from '../sandbox/index.js';

export interface GatewayHandle {
  /** Resolves when the gateway has stopped (after `gateway stop` or a signal). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the gateway of WARDEN_HOME `home` in this process: takes the socket (refusing if another
 * gateway answers on it), restarts the sandboxes that were running, and serves until stopped.
 */
export async function runGateway(home: string, log: (line: string) => void): Promise<GatewayHandle> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // Search-only for others: the sandbox uid must reach the default workdirs below it; nothing
  // in it can be listed, and its files are 0600.
  chmodSync(home, 0o711);
  const paths = gatewayPaths(home);
  const store = openStore(home);
  const writer = createAuditWriter(store);
  const manager = new SandboxManager(store, writer, home, log);
  let restored!: Promise<void>;
  // Calls wait until the sandboxes that were running run again, so none is seen half-restored.
  const server = net.createServer((socket) => void restored.then(() => serve(socket, manager, () => void handle.stop(), log)));
  await listenExclusively(server, paths.socket, paths.lock);
  appendAudit(store, { kind: 'gateway.started', actor: 'gateway', payload: { pid: process.pid } });
  log(`gateway ${process.pid} listening on ${paths.socket}`);
  restored = manager.restoreRunning();
  await restored;

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => { resolveDone = resolve; });
  let stopping: Promise<void> | undefined;
  const handle: GatewayHandle = {
    done,
    stop: () => {
      stopping ??= (async () => {
        server.close();
        await manager.shutdown();
        await writer.close();
        appendAudit(store, { kind: 'gateway.stopped', actor: 'gateway', payload: { pid: process.pid } });
        store.close();
        rmSync(paths.socket, { force: true });
        log('gateway stopped');
        resolveDone();
      })();
      return stopping;
    },
  };
  return handle;
}

/**
 * Binds the socket so that exactly one gateway serves a WARDEN_HOME. A socket file nobody
 * answers on is stale (a gateway killed with -9) and is replaced, under a lock file so that two
 * gateways starting together cannot both replace it.
 */
async function listenExclusively(server: net.Server, socketPath: string, lockPath: string): Promise<void> {
  const lock = takeLock(lockPath);
  try {
    if (await answers(socketPath)) throw new GatewayError('already_running', `a gateway is already running on ${socketPath}`);
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Only the owner of WARDEN_HOME may talk to the gateway: it can run anything in any sandbox.
    chmodSync(socketPath, 0o600);
  } finally {
    closeSync(lock);
    unlinkSync(lockPath);
  }
}

function takeLock(lockPath: string): number {
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      return fd;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockHolderGone(lockPath) || attempt > 50) rmSync(lockPath, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

function lockHolderGone(lockPath: string): boolean {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(lockPath).mtimeMs > 5_000;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' || (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

async function serve(socket: net.Socket, manager: SandboxManager, stopGateway: () => void, log: (line: string) => void): Promise<void> {
  socket.on('error', () => undefined);
  let request: GatewayRequest;
  let rest: Buffer;
  try {
    const line = await readJsonLine(socket);
    request = line.value as GatewayRequest;
    rest = line.rest;
    if (typeof request !== 'object' || request === null || typeof request.op !== 'string') throw new GatewayError('bad_request', 'a request needs an "op"');
  } catch (error) {
    reply(socket, failure(error));
    socket.end();
    return;
  }
  const actor = typeof request.actor === 'string' ? request.actor.slice(0, 200) : 'unknown';
  try {
    if (request.op === 'exec') return startExec(socket, rest, manager, request.args ?? {}, actor);
    if (request.op === 'gateway.stop') {
      reply(socket, { ok: true, result: { pid: process.pid } });
      socket.end();
      stopGateway();
      return;
    }
    const result = await manager.call(request.op, request.args ?? {}, actor);
    reply(socket, { ok: true, result });
  } catch (error) {
    if (!(error instanceof GatewayError)) log(`error in ${request.op}: ${(error as Error).stack ?? String(error)}`);
    reply(socket, failure(error));
  }
  socket.end();
}

/** After the reply, the connection carries the exec's frames both ways until it exits. */
function startExec(socket: net.Socket, rest: Buffer, manager: SandboxManager, args: Record<string, unknown>, actor: string): void {
  const exec = manager.openExec(args, actor, {
    frame: (frame) => {
      if (socket.destroyed) return;
      socket.write(encodeFrame(frame.type as typeof FRAME.stdout, 0, frame.payload));
      if (frame.type === FRAME.exit || frame.type === FRAME.startFailed) socket.end();
    },
  });
  reply(socket, { ok: true, result: { sandbox: exec.sandbox } });
  exec.start();
  const decoder = new FrameDecoder();
  const onData = (chunk: Buffer) => {
    try {
      for (const frame of decoder.push(chunk)) exec.input(frame.type, frame.payload);
    } catch {
      socket.destroy();
    }
  };
  if (rest.length > 0) onData(rest);
  socket.on('data', onData);
  socket.resume();
  socket.on('close', () => exec.close());
}

function reply(socket: net.Socket, message: GatewayReply): void {
  if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n');
}

function failure(error: unknown): GatewayReply {
  if (error instanceof GatewayError) return { ok: false, error: { code: error.code, message: error.message } };
  return { ok: false, error: { code: 'internal', message: (error as Error)?.message ?? String(error) } };
}

