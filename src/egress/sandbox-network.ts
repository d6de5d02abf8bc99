import { existsSync, lstatSync, readFileSync } from 'node:fs';
import type dgram from 'node:dgram';
import type { Server, Socket } from 'node:net';
import type { Checkpoint } from '../checkpoint/index.js';
import type { Policy, ProcessIdentity } from '../policy/index.js';
import { createSandboxCA } from './ca.js';
import { identityService, type CandidateSource } from './identity-service.js';
import { inspectContent } from './content.js';
import { LOOKUP_TRAP_PORT, RESOLV_CONF, serveLookupTrap } from './lookup-trap.js';
import { createEgressProxy } from './proxy.js';
import type { EgressHooks } from './types.js';

/** The loopback port inside every sandbox where its egress proxy listens. */
export const PROXY_PORT = 3128;
const CA_FILE = '/.warden/ca.pem';
const CA_BUNDLE_FILE = '/.warden/ca-bundle.pem';
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

/** Where warden's own names (inference.local) are served straight, without the proxy, on the sandbox's loopback. */
const LOCAL_TLS_PORT = 443;
const HOSTS_FILE = '/etc/hosts';
const RESOLV_FILE = '/etc/resolv.conf';

/** What the sandbox runtime needs (structurally its NetworkBridge and SandboxFile). */
export interface SandboxNetworkSetup {
  network: {
    ports: number[];
    datagramPorts: number[];
    attach: (listeners: Server[], sandbox: { initPid: number; candidates: CandidateSource; datagrams: dgram.Socket[] }) => void;
  };
  env: Record<string, string>;
  files: Array<{ path: string; content: string }>;
  /** Re-checks open connections after the policy changed; resolves with how many were closed. */
  revalidate: () => Promise<number>;
  close: () => Promise<void>;
}

export interface SandboxNetworkOptions {
  /** Decides (and records) every connection and request; its sandbox names the proxy's. */
  checkpoint: Checkpoint;
  /** The policy in force (the paths the sandbox can write matter to identification). */
  policy: () => Policy;
  hooks?: EgressHooks;
  /**
   * Processes that are never a caller's ancestor for policy purposes (a named sandbox's
   * supervisor); the sandbox's init always is one.
   */
  boundaries?: () => number[];
  /**
   * A program in the sandbox looked a name up itself rather than leaving it to the proxy: it
   * ignores the proxy variables, and its connection will fail (see lookup-trap.ts).
   */
  onDirectLookup?: (name: string) => void;
  /** The roots re-originated TLS must chain to, instead of Node's (see EgressProxyOptions). */
  upstreamCA?: string[] | undefined;
}

/**
 * A sandbox's egress proxy, living in the process that supervises it (`warden run` or the
 * gateway): a per-sandbox CA for inspected (L7) endpoints, and the proxy variables programs
 * follow. The listener itself is opened inside the sandbox by the runtime and attached here.
 */
export function prepareSandboxNetwork(options: SandboxNetworkOptions): SandboxNetworkSetup {
  const ca = createSandboxCA();
  let identify: ((socket: Socket, signal?: AbortSignal) => Promise<ProcessIdentity>) | undefined;
  const sandbox = options.checkpoint.sandbox;
  const proxy = createEgressProxy({
    checkpoint: options.checkpoint,
    identify: (socket, signal) => identify ? identify(socket, signal) : Promise.reject(new Error('sandbox not attached')),
    ca,
    hooks: { transformResponse: inspectContent(options.checkpoint, options.hooks?.hold), ...options.hooks },
    ...(options.upstreamCA ? { upstreamCA: options.upstreamCA } : {}),
  });
  const proxyUrl = `http://127.0.0.1:${PROXY_PORT}`;
  const env: Record<string, string> = {
    HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ALL_PROXY: proxyUrl,
    http_proxy: proxyUrl, https_proxy: proxyUrl, all_proxy: proxyUrl,
    // Empty on purpose: the sandbox's loopback has nothing of the host's, so a policy that
    // allows `localhost` (a model server on the host, say) must be reached through the proxy.
    // A program that serves and calls itself inside the sandbox can set NO_PROXY=localhost.
    NO_PROXY: '', no_proxy: '',
    NODE_USE_ENV_PROXY: '1',
    SSL_CERT_FILE: CA_BUNDLE_FILE, REQUESTS_CA_BUNDLE: CA_BUNDLE_FILE, CURL_CA_BUNDLE: CA_BUNDLE_FILE,
    GIT_SSL_CAINFO: CA_BUNDLE_FILE, PIP_CERT: CA_BUNDLE_FILE, NODE_EXTRA_CA_CERTS: CA_FILE,
  };
  // warden's own names resolve to the sandbox's loopback, where they are served straight over TLS
  // too: programs that ignore proxy variables (Node 20's fetch) still reach https://inference.local.
  const localNames = Object.keys(options.hooks?.localServices ?? {});
  return {
    env,
    // Tunnelled (not inspected) endpoints present the real servers' certificates, so the
    // bundle is the host's trusted roots plus the sandbox CA.
    files: [
      { path: CA_FILE, content: ca.certPem }, { path: CA_BUNDLE_FILE, content: systemRoots() + ca.certPem },
      ...(localNames.length > 0 ? [{ path: HOSTS_FILE, content: hostsFile(localNames) }] : []),
      ...(plainFile(RESOLV_FILE) ? [{ path: RESOLV_FILE, content: RESOLV_CONF }] : []),
    ],
    network: {
      ports: localNames.length > 0 ? [PROXY_PORT, LOCAL_TLS_PORT] : [PROXY_PORT],
      datagramPorts: [LOOKUP_TRAP_PORT],
      attach: ([listener, direct], { initPid, candidates, datagrams: [trap] }) => {
        if (trap) serveLookupTrap(trap, (name) => options.onDirectLookup?.(name));
        identify = (socket, signal) => {
          const { remoteAddress, remotePort, localAddress, localPort } = socket;
          if (!remoteAddress || !remotePort || !localAddress || !localPort) return Promise.reject(new Error('socket is not a connected TCP socket'));
          return identityService().identify(sandbox, {
            connection: { peerAddress: remoteAddress, peerPort: remotePort, localAddress, localPort },
            netTablePid: initPid,
            candidates,
            boundaries: [initPid, ...(options.boundaries?.() ?? [])],
            writable: writablePaths(options.policy()),
          }, signal);
        };
        listener!.on('connection', (socket) => proxy.handleConnection(socket));
        direct?.on('connection', (socket) => proxy.handleDirect(socket, localNames));
      },
    },
    revalidate: () => proxy.revalidate(),
    close: async () => {
      identityService().forget(sandbox);
      await proxy.close();
    },
  };
}

/**
 * What the sandbox can write, as it sees it: code mapped from below these makes a caller
 * untrusted (identity.ts, taintOf). /dev/shm is the writable part of /dev; /proc is not a place
 * files can be put.
 */
function writablePaths(policy: Policy): string[] {
  return [...policy.filesystem_policy.read_write, ...(policy.filesystem_policy.include_workdir ? ['/sandbox'] : []), '/tmp', '/dev/shm'];
}

/** The sandbox's /etc/hosts: localhost, and warden's own names on its loopback. */
function hostsFile(localNames: string[]): string {
  return ['127.0.0.1 localhost', '::1 localhost', ...localNames.map((name) => `127.0.0.1 ${name}`)].join('\n') + '\n';
}

/**
 * Whether the host's file is a plain file that bubblewrap can cover: a symlink (systemd-resolved's
 * resolv.conf) may point where the sandbox has nothing, and a missing file would have to be
 * created in a read-only /etc. Without it, the lookup trap just gets no queries.
 */
function plainFile(file: string): boolean {
  try {
    return lstatSync(file).isFile();
  } catch {
    return false;
  }
}

function systemRoots(): string {
  const bundle = SYSTEM_CA_BUNDLES.find((file) => existsSync(file));
  if (!bundle) return '';
  const text = readFileSync(bundle, 'utf8');
  return text.endsWith('\n') ? text : text + '\n';
}
