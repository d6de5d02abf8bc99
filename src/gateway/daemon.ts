import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { createAuditWriter, appendAudit, startAnchoring, type AuditWriter } from '../audit/index.js';
import { policyLoader } from '../policy/index.js';
import { ProviderStore } from '../inference/index.js';
import { openStore, secureHomeMode } from '../store/index.js';
import { isOp, parseArgs, type OpArgs } from './api.js';
import { GatewayError, readJsonLine, type GatewayReply, type GatewayRequest } from './protocol.js';
import { answers } from './client.js';
import { gatewayPaths } from './paths.js';
import { SandboxManager } from './manager.js';
import {
  decodeResize, decodeSignal, detectCgroups, encodeFrame, encodeStartFailed, encodeU32, FRAME, FrameDecoder, FrameError, namespaceOf,
  peerCredentials, removeAbandonedCgroups,
} from '../sandbox/index.js';
import type { ExecChannel } from './live.js';

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
  // The one rule for WARDEN_HOME's mode (the store's, which doctor checks too).
  secureHomeMode(home);
  const paths = gatewayPaths(home);
  // Leftovers of a gateway killed with -9: the sandboxes' processes died with it, their empty cgroups did not.
  removeAbandonedCgroups(detectCgroups());
  const store = openStore(home);
  const writer = createAuditWriter(store);
  // The head goes outside the database as the log grows: a truncated log is then still caught.
  const anchoring = startAnchoring(store, home);
  const manager = new SandboxManager(store, writer, await policyLoader(), home, log, new ProviderStore(home));
  // One sandbox's request must never take the gateway down for the others: a promise that fails
  // unhandled is logged, and the gateway goes on serving.
  process.on('unhandledRejection', (error) => log(`unhandled failure (the gateway goes on): ${(error as Error)?.stack ?? String(error)}`));
  let restored!: Promise<void>;
  // Calls wait until the sandboxes that were running run again, so none is seen half-restored.
  const server = net.createServer((socket) => void restored.then(() => serve(socket, manager, writer, () => void handle.stop(), log)));
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
        try {
          appendAudit(store, { kind: 'gateway.stopped', actor: 'gateway', payload: { pid: process.pid } });
        } catch (error) {
          // The sandboxes are stopped already; a log that refuses the record must not keep the gateway up.
          log(`could not record the stop in the audit log: ${(error as Error).message}`);
        }
        anchoring.stop();
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

/**
 * Who is calling, from the kernel (SO_PEERCRED), or why the call is refused. Security invariant:
 * the socket is the key to every sandbox, so a caller inside a sandbox (another PID or mount
 * namespace than the gateway's) is refused even if it could reach the socket file; and the actor
 * in the audit log is what the kernel says, never what the request claims.
 */
function identifyPeer(socket: net.Socket): { actor: string } | { refused: string } {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { refused: 'the connection has no descriptor' };
  let peer: { pid: number; uid: number };
  try {
    peer = peerCredentials(fd);
  } catch (error) {
    return { refused: `cannot read the caller's credentials: ${(error as Error).message}` };
  }
  if (peer.pid <= 0) return { refused: `the caller (uid ${peer.uid}) is in a PID namespace the gateway cannot see` };
  for (const ns of ['pid', 'mnt'] as const) {
    const theirs = namespaceOf(peer.pid, ns);
    if (theirs === undefined) return { refused: `cannot inspect the caller (pid ${peer.pid})` };
    if (theirs !== namespaceOf('self', ns)) return { refused: `the caller (pid ${peer.pid}, uid ${peer.uid}) runs in another ${ns} namespace, such as inside a sandbox` };
  }
  return { actor: `uid ${peer.uid}${accountName(peer.uid)} pid ${peer.pid}` };
}

function accountName(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.split(':')[2] === String(uid));
    return line ? ` (${line.split(':')[0]})` : '';
  } catch {
    return '';
  }
}

async function serve(socket: net.Socket, manager: SandboxManager, writer: AuditWriter, stopGateway: () => void, log: (line: string) => void): Promise<void> {
  socket.on('error', () => undefined);
  const peer = identifyPeer(socket);
  if ('refused' in peer) {
    writer.append({ kind: 'gateway.refused', actor: 'gateway', payload: { reason: peer.refused } }).catch(() => undefined);
    reply(socket, { ok: false, error: { code: 'forbidden', message: `the gateway refused this connection: ${peer.refused}` } });
    socket.end();
    return;
  }
  const actor = peer.actor;
  let request: GatewayRequest;
  let rest: Buffer;
  try {
    const line = await readJsonLine(socket);
    request = line.value as GatewayRequest;
    rest = line.rest;
    if (typeof request !== 'object' || request === null || typeof request.op !== 'string') throw new GatewayError('bad_request', 'a request needs an "op"');
    if (!isOp(request.op)) {
      throw new GatewayError('unknown_op', `the gateway has no operation ${JSON.stringify(request.op)}: is the CLI newer than the running gateway? Run \`warden gateway stop\` and retry.`);
    }
  } catch (error) {
    reply(socket, failure(error));
    socket.end();
    return;
  }
  const op = request.op;
  try {
    // Every argument is checked against the op's schema before anything acts on it.
    const parsed = parseArgs(op, request.args);
    if (!parsed.ok) throw new GatewayError('bad_request', parsed.message);
    if (op === 'exec') return startExec(socket, rest, manager, parsed.args as OpArgs<'exec'>, actor);
    if (op === 'approvals.watch') return startWatch(socket, manager, parsed.args as OpArgs<'approvals.watch'>);
    if (op === 'gateway.stop') {
      reply(socket, { ok: true, result: { pid: process.pid } });
      socket.end();
      stopGateway();
      return;
    }
    const result = await manager.call(op, parsed.args as OpArgs<typeof op>, actor);
    reply(socket, { ok: true, result });
  } catch (error) {
    if (!(error instanceof GatewayError)) log(`error in ${op}: ${(error as Error).stack ?? String(error)}`);
    reply(socket, failure(error));
  }
  socket.end();
}

/**
 * After the reply, the connection carries the exec's frames both ways until it exits. Flow
 * control end to end: output is acknowledged to the supervisor only once the client socket has
 * taken it (so a slow reader pauses the command), and the client socket is paused while the
 * exec's input window is full. Every client frame is checked; a bad one ends this exec with an
 * error, never the sandbox.
 */
function startExec(socket: net.Socket, rest: Buffer, manager: SandboxManager, args: OpArgs<'exec'>, actor: string): void {
  let unacknowledged = 0;
  let waitingForDrain = false;
  let finished = false;
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload: Buffer): boolean => !socket.destroyed && socket.write(encodeFrame(type, 0, payload));
  const finish = (type: typeof FRAME.exit | typeof FRAME.startFailed, payload: Buffer) => {
    if (finished) return;
    finished = true;
    send(type, payload);
    socket.end();
  };
  // Declared first: the sink's callbacks refer to the channel openExec returns.
  let exec!: ExecChannel;
  // eslint-disable-next-line prefer-const
  exec = manager.openExec(args, actor, {
    started: (pid) => void send(FRAME.started, encodeU32(pid)),
    output: (stream, data) => {
      if (send(stream === 'stdout' ? FRAME.stdout : FRAME.stderr, data)) {
        exec.consumed(data.length);
        return;
      }
      unacknowledged += data.length;
      if (waitingForDrain) return;
      waitingForDrain = true;
      socket.once('drain', () => {
        waitingForDrain = false;
        const bytes = unacknowledged;
        unacknowledged = 0;
        exec.consumed(bytes);
      });
    },
    failed: (code, message) => finish(FRAME.startFailed, encodeStartFailed({ code: code as 125 | 126 | 127, message })),
    exited: (code) => finish(FRAME.exit, encodeU32(code)),
    stdinReady: () => socket.resume(),
    // A terminal in raw mode needs the carriage return too.
    notice: (line) => void send(FRAME.stderr, Buffer.from(line + (args.tty ? '\r\n' : '\n'))),
  });
  reply(socket, { ok: true, result: { sandbox: (exec as ExecChannel & { sandbox: string }).sandbox } });
  const decoder = new FrameDecoder();
  const onData = (chunk: Buffer) => {
    try {
      for (const frame of decoder.push(chunk)) {
        switch (frame.type) {
          case FRAME.stdin:
            if (!exec.stdin(frame.payload)) socket.pause();
            break;
          case FRAME.stdinEnd: exec.endStdin(); break;
          case FRAME.resize: exec.resize(decodeResize(frame)); break;
          case FRAME.signal: exec.signal(decodeSignal(frame)); break;
          default: throw new FrameError(`frame type ${frame.type} is not sent by clients`);
        }
      }
    } catch (error) {
      exec.abandon();
      send(FRAME.stderr, Buffer.from(`warden: the gateway ended this exec: bad frame from the client: ${(error as Error).message}\n`));
      finish(FRAME.exit, encodeU32(125));
    }
  };
  if (rest.length > 0) onData(rest);
  socket.on('data', onData);
  socket.resume();
  socket.on('close', () => {
    if (!finished) exec.abandon();
  });
}

/**
 * After the reply, the gateway pushes one JSON line per approval event (a new pending request, one
 * more identical one, a client gone, a decision) until the client closes the connection. Nothing
 * polls: events are written as they happen (audit records once their transaction has committed). A subscriber that cannot keep up (its socket buffer
 * past WATCH_BUFFER_BYTES) is dropped rather than let the gateway's memory grow.
 */
function startWatch(socket: net.Socket, manager: SandboxManager, args: OpArgs<'approvals.watch'>): void {
  if (args.sandbox !== undefined) manager.requireSandbox(args.sandbox);
  reply(socket, { ok: true, result: { timeoutMs: manager.approvals.timeout } });
  const send = (sandbox: string, event: unknown) => {
    if (args.sandbox !== undefined && sandbox !== args.sandbox) return;
    if (socket.destroyed) return;
    if (socket.writableLength > WATCH_BUFFER_BYTES) {
      socket.destroy();
      return;
    }
    socket.write(JSON.stringify(event) + '\n');
  };
  const unsubscribe = manager.approvals.subscribe((event) => send(event.approval.sandbox, event));
  const unsubscribeDecisions = args.decisions === true ? manager.onDecision((record) => send(record.sandbox, { event: 'decision', record })) : () => undefined;
  // Records without a sandbox (gateway, providers) belong to no one sandbox: a filtered watch skips them.
  const unsubscribeAudit = args.audit === true
    ? manager.onAudit((records) => {
      for (const record of records) if (args.sandbox === undefined || record.sandbox === args.sandbox) send(args.sandbox ?? '', { event: 'audit', record });
    })
    : () => undefined;
  socket.resume();
  socket.on('close', () => {
    unsubscribe();
    unsubscribeDecisions();
    unsubscribeAudit();
  });
}

const WATCH_BUFFER_BYTES = 4 * 1024 * 1024;

function reply(socket: net.Socket, message: GatewayReply): void {
  if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n');
}

function failure(error: unknown): GatewayReply {
  if (error instanceof GatewayError) return { ok: false, error: { code: error.code, message: error.message } };
  return { ok: false, error: { code: 'internal', message: (error as Error)?.message ?? String(error) } };
}
