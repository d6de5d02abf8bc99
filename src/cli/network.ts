import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Socket } from 'node:net';
import { createEgressProxy, createSandboxCA, descendantPids, socketIdentifier, type EgressEvent, type ProcessIdentity } from '../egress/index.js';
import type { Policy } from '../policy/index.js';
import type { NetworkBridge, SandboxFile } from '../sandbox/index.js';
import { printLine } from './output.js';

/** The loopback port inside every sandbox where its egress proxy listens. */
export const PROXY_PORT = 3128;
const CA_FILE = '/.warden/ca.pem';
const CA_BUNDLE_FILE = '/.warden/ca-bundle.pem';
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

export interface SandboxNetworkSetup {
  network: NetworkBridge;
  env: Record<string, string>;
  files: SandboxFile[];
  close: () => Promise<void>;
}

/**
 * The egress proxy of a one-shot `warden run`, living in warden's own process: a per-sandbox
 * CA for inspected (L7) endpoints, the proxy variables programs follow, and an event log.
 * Denials are also printed on stderr, one line each, as they happen.
 */
export function prepareSandboxNetwork(policy: Policy, sandbox: string, eventLog: string): SandboxNetworkSetup {
  const ca = createSandboxCA();
  let identify: ((socket: Socket) => Promise<ProcessIdentity>) | undefined;
  mkdirSync(path.dirname(eventLog), { recursive: true, mode: 0o700 });
  const proxy = createEgressProxy({
    sandbox,
    policy: () => policy.network_policies,
    identify: (socket) => identify ? identify(socket) : Promise.reject(new Error('sandbox not attached')),
    ca,
    onEvent: (event) => recordEvent(event, eventLog),
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
  return {
    env,
    // Tunnelled (not inspected) endpoints present the real servers' certificates, so the
    // bundle is the host's trusted roots plus the sandbox CA.
    files: [{ path: CA_FILE, content: ca.certPem }, { path: CA_BUNDLE_FILE, content: systemRoots() + ca.certPem }],
    network: {
      port: PROXY_PORT,
      attach: (listener, { initPid }) => {
        identify = socketIdentifier({ netTablePid: initPid, candidatePids: () => descendantPids(initPid), ancestorBoundary: initPid });
        listener.on('connection', (socket) => proxy.handleConnection(socket));
      },
    },
    close: () => proxy.close(),
  };
}

function systemRoots(): string {
  const bundle = SYSTEM_CA_BUNDLES.find((file) => existsSync(file));
  if (!bundle) return '';
  const text = readFileSync(bundle, 'utf8');
  return text.endsWith('\n') ? text : text + '\n';
}

function recordEvent(event: EgressEvent, eventLog: string): void {
  appendFileSync(eventLog, JSON.stringify(event) + '\n', { mode: 0o600 });
  if (event.verdict === 'deny') printLine(2, denialLine(event));
}

/** One line per denial on warden's stderr: who, where, why. */
export function denialLine(event: EgressEvent): string {
  const what = event.method ? `${event.method} ${event.destination.host}:${event.destination.port}${event.path ?? ''}` : `${event.destination.host}:${event.destination.port}`;
  return `warden: denied ${event.binary.path || 'unknown binary'} (pid ${event.binary.pid}) -> ${what}: ${event.reason}`;
}
