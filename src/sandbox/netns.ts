import { spawn } from 'node:child_process';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { findNativeHelper, nativeHelperPath } from './native.js';
import { findTool } from './tools.js';

export class NetworkBridgeError extends Error {}

const LISTENER_SCRIPT = new URL('./netns-listener.js', import.meta.url);
const CONNECTOR_SCRIPT = new URL('./netns-connector.js', import.meta.url);
const TIMEOUT_MS = 10_000;

export interface SandboxListeners {
  servers: net.Server[];
  datagrams: dgram.Socket[];
}

/**
 * Opens TCP listeners on 127.0.0.1 at each of `ports` (and UDP sockets at each of `datagramPorts`)
 * inside the network namespace of the sandbox whose init process is `initPid` (one helper process
 * for all), and returns them, in the order of the ports, as sockets owned by this process.
 *
 * Security invariant: the listener is created before CMD runs (bubblewrap is held on its
 * block fd meanwhile), so no sandboxed process can bind the port first and pose as the proxy;
 * and because the proxy accepts the sandboxed client's own TCP connection, the kernel's
 * socket tables name the real calling process.
 */
export function openListenersInSandbox(initPid: number, ports: readonly number[], privileged: boolean, datagramPorts: readonly number[] = []): Promise<SandboxListeners> {
  const listener = [process.execPath, fileURLToPath(LISTENER_SCRIPT), ...ports.map(String), ...datagramPorts.map((port) => `${port}/udp`)];
  const expected = ports.length + datagramPorts.length;
  const [command, ...args] = privileged
    ? [findTool('nsenter', 'util-linux'), '--target', String(initPid), '--net', '--', ...listener]
    : [unprivilegedEnterHelper(), String(initPid), '--', ...listener];
  const helper = spawn(command!, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  let stderr = '';
  helper.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      helper.kill('SIGKILL');
      reject(new NetworkBridgeError('timed out opening the proxy listener inside the sandbox'));
    }, TIMEOUT_MS);
    const received: Array<net.Server | dgram.Socket> = [];
    helper.on('message', (message, handle) => {
      if (message !== 'listening' || !handle) {
        clearTimeout(timer);
        for (const server of received) server.close();
        reject(new NetworkBridgeError('the proxy listener helper sent no socket'));
        return;
      }
      received.push(handle as net.Server | dgram.Socket);
      if (received.length < expected) return;
      clearTimeout(timer);
      resolve({ servers: received.slice(0, ports.length) as net.Server[], datagrams: received.slice(ports.length) as dgram.Socket[] });
      helper.send('received', () => undefined);
    });
    helper.once('exit', (code) => {
      clearTimeout(timer);
      // After a successful hand-over the promise is settled already and this does nothing.
      reject(new NetworkBridgeError(`could not open the proxy listener inside the sandbox (exit ${code}): ${stderr.trim()}`));
    });
    helper.once('error', (error) => {
      clearTimeout(timer);
      reject(new NetworkBridgeError(`cannot start nsenter: ${error.message}`));
    });
  });
}

/** Connects to ports on the loopback of one sandbox's network namespace, from the host side. */
export interface SandboxConnector {
  /** A socket connected to 127.0.0.1:port inside the sandbox, or a rejection naming why (ECONNREFUSED). */
  connect(port: number): Promise<net.Socket>;
  close(): void;
}

/**
 * A helper process in the network namespace of the sandbox whose init is `initPid`, dialling its
 * loopback for the host (port forwarding). It lives until `close()` or until this process goes.
 */
export function openSandboxConnector(initPid: number, privileged: boolean): SandboxConnector {
  const script = [process.execPath, fileURLToPath(CONNECTOR_SCRIPT)];
  const [command, ...args] = privileged
    ? [findTool('nsenter', 'util-linux'), '--target', String(initPid), '--net', '--', ...script]
    : [unprivilegedEnterHelper(), String(initPid), '--', ...script];
  const helper = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  let stderr = '';
  helper.stderr?.setEncoding('utf8').on('data', (chunk: string) => { if (stderr.length < 4096) stderr += chunk; });
  const waiting = new Map<number, { resolve: (socket: net.Socket) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  let next = 1;
  let gone: Error | undefined;
  const failAll = (error: Error) => {
    gone ??= error;
    for (const [id, entry] of waiting) {
      clearTimeout(entry.timer);
      entry.reject(error);
      waiting.delete(id);
    }
  };
  helper.on('message', (message: { id?: number; ok?: boolean; error?: string }, handle) => {
    const entry = typeof message?.id === 'number' ? waiting.get(message.id) : undefined;
    if (!entry) {
      (handle as net.Socket | undefined)?.destroy();
      return;
    }
    waiting.delete(message.id!);
    clearTimeout(entry.timer);
    if (message.ok === true && handle instanceof Object) entry.resolve(handle as net.Socket);
    else entry.reject(new NetworkBridgeError(message.error ?? 'no socket'));
  });
  helper.once('exit', (code) => failAll(new NetworkBridgeError(`the sandbox's connector ended (exit ${code}): ${stderr.trim()}`)));
  helper.once('error', (error) => failAll(new NetworkBridgeError(`cannot start the sandbox's connector: ${error.message}`)));
  return {
    connect: (port) => new Promise((resolve, reject) => {
      if (gone) return reject(gone);
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new NetworkBridgeError('timed out'));
      }, TIMEOUT_MS);
      waiting.set(id, { resolve, reject, timer });
      helper.send({ id, port });
    }),
    close: () => {
      failAll(new NetworkBridgeError('closed'));
      helper.kill('SIGKILL');
    },
  };
}

/**
 * Without privilege, joining the network namespace needs the user namespace that owns it, which
 * is not the one the sandbox's processes are in (bubblewrap's --disable-userns nests another):
 * nsenter cannot find it, warden's netns-enter helper asks the kernel.
 */
function unprivilegedEnterHelper(): string {
  const helper = findNativeHelper('netns-enter');
  if (helper === undefined) {
    throw new NetworkBridgeError(
      `network policies need warden's netns-enter helper when warden does not run as root, and it is not built (${nativeHelperPath('netns-enter')} is missing). ` +
        'Install a C compiler and static libc (Debian/Ubuntu: apt-get install gcc libc6-dev) and run `npm run build`.',
    );
  }
  return helper;
}
