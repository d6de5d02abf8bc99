// Test fixtures for the egress proxy: local upstream servers, a proxy wired to the real /proc
// identity of this machine, and a runner for real client programs.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { DecisionRecord } from '../../src/audit/index.js';
import { createCheckpoint, type Checkpoint, type CheckpointOptions } from '../../src/checkpoint/index.js';
import { createEgressProxy, createSandboxCA, descendantIdentifier } from '../../src/egress/index.js';
import type { EgressProxy, EgressProxyOptions, SandboxCA } from '../../src/egress/index.js';
import { defaultPolicy, type NetworkPolicy, type Policy } from '../../src/policy/index.js';

/**
 * A checkpoint over network policies given as a function (tests swap them). Each new object is
 * wrapped once, so the checkpoint sees one Policy per revision, as in a sandbox.
 */
export function checkpointFor(policies: () => Record<string, NetworkPolicy>, options: Partial<CheckpointOptions> = {}): Checkpoint {
  let last: Record<string, NetworkPolicy> | undefined;
  let full: Policy | undefined;
  return createCheckpoint({
    sandbox: 'test',
    policy: () => {
      const current = policies();
      if (current !== last || full === undefined) {
        last = current;
        full = { ...defaultPolicy(), network_policies: current };
      }
      return full;
    },
    ...options,
  });
}

export interface Started {
  port: number;
  close(): Promise<void>;
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startHttp(handler: http.RequestListener): Promise<Started & { server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, close: () => closeServer(server) };
}

/** An HTTPS server that answers for any server name with a leaf from `ca` (default: hostname). */
export async function startHttps(ca: SandboxCA, hostname: string, handler: http.RequestListener): Promise<Started & { server: https.Server }> {
  const leaf = ca.leafFor(hostname);
  const server = https.createServer(
    {
      key: leaf.key,
      cert: leaf.cert,
      SNICallback: (name, cb) => cb(null, tls.createSecureContext(ca.leafFor(name))),
    },
    handler,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, close: () => closeServer(server) };
}

/** The CA that signs the test upstream servers' certificates (plays the public web PKI). */
export const upstreamCA = createSandboxCA({ name: 'test upstream' });

export interface ProxyFixture {
  proxy: EgressProxy;
  port: number;
  url: string;
  ca: SandboxCA;
  events: DecisionRecord[];
  setPolicy(p: Record<string, NetworkPolicy>): void;
  /** A file holding the sandbox CA and the upstream CA, for clients' trust settings. */
  caBundle: string;
  dir: string;
  close(): Promise<void>;
}

/** Names used by tests, resolved by the injected resolver only. */
export const TEST_NAMES: Record<string, string[]> = {
  'api.test': ['127.0.0.1'],
  'git.test': ['127.0.0.1'],
  'ws.test': ['127.0.0.1'],
  'other.test': ['127.0.0.1'],
  'raw.test': ['127.0.0.1'],
  'plain.test': ['127.0.0.1'],
  'internal.test': ['127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['93.184.216.34', '10.0.0.5'],
};

export async function startProxy(initial: Record<string, NetworkPolicy>, extra: Partial<EgressProxyOptions> = {}): Promise<ProxyFixture> {
  let policy = initial;
  const events: DecisionRecord[] = [];
  const ca = createSandboxCA({ name: 'test sandbox' });
  const proxy = createEgressProxy({
    checkpoint: checkpointFor(() => policy, { recorder: (e) => void events.push(e) }),
    // Only this test process and its children can be callers: no other process on the machine
    // is looked at.
    identify: descendantIdentifier(process.pid),
    ca,
    resolve: async (host) => {
      const a = TEST_NAMES[host];
      if (!a) throw new Error(`test resolver: unknown name ${host}`);
      return a;
    },
    upstreamCA: upstreamCA.certPem,
    ...extra,
  });
  const addr = await proxy.listen(0, '127.0.0.1');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-egress-'));
  const caBundle = path.join(dir, 'ca.pem');
  fs.writeFileSync(caBundle, ca.certPem + upstreamCA.certPem);
  return {
    proxy,
    port: addr.port,
    url: `http://127.0.0.1:${addr.port}`,
    ca,
    events,
    setPolicy: (p) => {
      policy = p;
    },
    caBundle,
    dir,
    close: async () => {
      await proxy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A client that exits without reading its input closes the pipe first: not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A clean environment pointing every proxy variable at the fixture. */
export function proxyEnv(fx: ProxyFixture, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: fx.dir,
    HTTP_PROXY: fx.url,
    HTTPS_PROXY: fx.url,
    http_proxy: fx.url,
    https_proxy: fx.url,
    NO_PROXY: '',
    no_proxy: '',
    ...extra,
  };
}

export function policy(name: string, endpoints: NetworkPolicy['endpoints'], binaries: string[]): Record<string, NetworkPolicy> {
  return { [name]: { endpoints, binaries: binaries.map((p) => ({ path: p })) } };
}
