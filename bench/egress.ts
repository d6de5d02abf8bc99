// Egress proxy benchmarks, proxy against direct in the same run, on loopback:
//   (a) 1 GiB HTTPS download through a CONNECT tunnel (curl), throughput ratio
//   (b) the same with TLS terminated and re-originated by the proxy (inspected endpoint)
//   (c) small keep-alive requests: added latency p50/p99 and requests per second
//   (d) connection decision time with 10 / 1,000 / 10,000 endpoint rules
// The upstream servers and the clients run in their own processes, so the proxy's event loop
// is not shared with them. Run standalone: node dist/bench/egress.js

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createCheckpoint } from '../src/checkpoint/index.js';
import { createEgressProxy, createSandboxCA, descendantIdentifier } from '../src/egress/index.js';
import { governanceStages } from '../src/governance/index.js';
import { BinaryLedger, compileNetworkPolicies, defaultPolicy, type NetworkPolicy, type Policy, type ProcessIdentity } from '../src/policy/index.js';
import { type Row, median, percentile } from './table.js';

const GIB = 1024 ** 3;
const GROUP = 'egress proxy';

const SERVER_SCRIPT = `
const https = require('node:https');
const http = require('node:http');
const tls = require('node:tls');
const fs = require('node:fs');
const { keyFile, certFile, leafKeys } = JSON.parse(process.argv[1]);
const leaves = JSON.parse(fs.readFileSync(leafKeys, 'utf8'));
const chunk = Buffer.alloc(1 << 20, 97);
function handler(req, res) {
  req.resume();
  if (req.url.startsWith('/big')) {
    const total = Number(new URL(req.url, 'http://x').searchParams.get('bytes'));
    res.writeHead(200, { 'Content-Length': total, 'Content-Type': 'application/octet-stream' });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(200, { 'Content-Length': 2, 'Content-Type': 'text/plain' });
  res.end('ok');
}
const s = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile),
  SNICallback: (name, cb) => { const l = leaves[name]; cb(null, l ? tls.createSecureContext(l) : undefined); } }, handler);
const p = http.createServer(handler);
s.keepAliveTimeout = p.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => p.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ https: s.address().port, http: p.address().port }));
}));
`;

// Sequential keep-alive requests; prints per-request latencies in microseconds.
const LATENCY_SCRIPT = `
const http = require('node:http');
const tls = require('node:tls');
const fs = require('node:fs');
const { mode, n, proxyPort, host, port, ca, proxyAuth } = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function once(opts) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(opts, (res) => { res.resume(); res.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1000)); });
    req.on('error', reject);
    req.end();
  });
}
async function tunnel() {
  return new Promise((resolve, reject) => {
    const c = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: host + ':' + port, headers: { Host: host + ':' + port } });
    c.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return reject(new Error('CONNECT ' + res.statusCode));
      const s = tls.connect({ socket, servername: host, ca: fs.readFileSync(ca) }, () => resolve(s));
      s.on('error', reject);
    });
    c.on('error', reject);
    c.end();
  });
}
(async () => {
  let make;
  if (mode === 'direct-http') make = () => ({ host: '127.0.0.1', port, path: '/small', agent, headers: { Host: host } });
  else if (mode === 'proxy-http') make = () => ({ host: '127.0.0.1', port: proxyPort, path: 'http://' + host + ':' + port + '/small', agent,
    headers: { Host: host + ':' + port, ...(proxyAuth ? { 'Proxy-Authorization': proxyAuth } : {}) } });
  else {
    // One TLS connection, reused: direct to the server, or inside an inspected CONNECT tunnel.
    let sock;
    if (mode === 'direct-https') sock = await new Promise((resolve, reject) => { const s = tls.connect({ host: '127.0.0.1', port, servername: host, ca: fs.readFileSync(ca) }, () => resolve(s)); s.on('error', reject); });
    else sock = await tunnel();
    const one = new http.Agent({ keepAlive: true, maxSockets: 1 });
    one.createConnection = () => sock;
    make = () => ({ path: '/small', agent: one, headers: { Host: host + ':' + port } });
  }
  const out = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) out.push(await once(make()));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ latencies: out, seconds }));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`;

interface Upstream {
  httpsPort: number;
  httpPort: number;
  child: ChildProcess;
}

function startUpstream(dir: string, ca: ReturnType<typeof createSandboxCA>, names: string[]): Promise<Upstream> {
  const leaf = ca.leafFor(names[0]!);
  const keyFile = path.join(dir, 'up.key');
  const certFile = path.join(dir, 'up.crt');
  const leafKeys = path.join(dir, 'leaves.json');
  fs.writeFileSync(keyFile, leaf.key);
  fs.writeFileSync(certFile, leaf.cert);
  fs.writeFileSync(leafKeys, JSON.stringify(Object.fromEntries(names.map((n) => [n, ca.leafFor(n)]))));
  const child = spawn(process.execPath, ['-e', SERVER_SCRIPT, JSON.stringify({ keyFile, certFile, leafKeys })], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => {
      const ports = JSON.parse(d.toString()) as { https: number; http: number };
      resolve({ httpsPort: ports.https, httpPort: ports.http, child });
    });
    child.once('exit', (code) => reject(new Error(`upstream server exited (${code})`)));
  });
}

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 500)}`))));
  });
}

/** Download `bytes` with curl; returns bytes per second. */
async function curlDownload(url: string, extra: string[], bundle: string, bytes: number): Promise<number> {
  const out = await runChild('curl', ['-sS', '--fail', '-o', '/dev/null', '--cacert', bundle, '-w', '%{size_download} %{time_total}', ...extra, url]);
  const [size, seconds] = out.trim().split(' ').map(Number);
  if (size !== bytes) throw new Error(`download returned ${size} bytes, expected ${bytes}`);
  return size! / seconds!;
}

/**
 * Reference point for (b): a bare TLS-to-TLS relay with Node (decrypt from upstream, encrypt to
 * the client, nothing else: no HTTP parsing, no policy). Returns bytes per second seen by curl.
 */
async function bareTlsRelay(upstreamPort: number, upstreamCA: ReturnType<typeof createSandboxCA>, sandboxCA: ReturnType<typeof createSandboxCA>, bundle: string, bytes: number): Promise<number> {
  const leaf = sandboxCA.leafFor('relay.bench');
  const relay = tls.createServer({ key: leaf.key, cert: leaf.cert }, (client) => {
    client.once('data', () => {
      const up = tls.connect({ host: '127.0.0.1', port: upstreamPort, servername: 'tunnel.bench', ca: upstreamCA.certPem }, () => {
        up.write(`GET /big?bytes=${bytes} HTTP/1.1\r\nHost: tunnel.bench\r\nConnection: close\r\n\r\n`);
      });
      up.pipe(client);
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const port = (relay.address() as net.AddressInfo).port;
  try {
    // curl reads the upstream's own response (head and body) straight through the relay.
    const out = await runChild('curl', ['-sS', '-o', '/dev/null', '--cacert', bundle, '--noproxy', '*', '--resolve', `relay.bench:${port}:127.0.0.1`, '-w', '%{size_download} %{time_total}', `https://relay.bench:${port}/`]);
    const [size, seconds] = out.trim().split(' ').map(Number);
    if (size !== bytes) throw new Error(`bare relay returned ${size} bytes`);
    return size! / seconds!;
  } finally {
    relay.close();
  }
}

function who(exe: string): ProcessIdentity {
  return { pid: 1, exe, exeSha256: 'f'.repeat(64), ancestors: [{ pid: 0, exe: '/bin/bash', exeSha256: 'e'.repeat(64) }] };
}

/** A policy with `count` single-endpoint rules: half exact names, a quarter `*.`, a quarter `**.`. */
function syntheticPolicy(count: number): { policy: Record<string, NetworkPolicy>; hosts: string[] } {
  const policy: Record<string, NetworkPolicy> = {};
  const hosts: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    const pattern = kind < 2 ? `svc${i}.example${i % 97}.com` : kind === 2 ? `*.zone${i}.example.net` : `**.deep${i}.example.org`;
    const host = kind < 2 ? pattern : kind === 2 ? `api.zone${i}.example.net` : `a.b.deep${i}.example.org`;
    policy[`rule_${i}`] = { endpoints: [{ host: pattern, ports: [443] }], binaries: [{ path: '/usr/bin/curl' }, { path: '/usr/lib/tool/*' }] };
    hosts.push(host);
  }
  return { policy, hosts };
}

/**
 * Median nanoseconds per decision, over batches of lookups spread across all rules (or, with
 * `hot`, the same host every time).
 */
function decisionTime(count: number, hot = false): number {
  const synthetic = syntheticPolicy(count);
  const policy = synthetic.policy;
  const hosts = hot ? [synthetic.hosts[synthetic.hosts.length >> 1]!] : synthetic.hosts;
  const compiled = compileNetworkPolicies(policy);
  const ledger = new BinaryLedger();
  const id = who('/usr/bin/curl');
  const batch = 20_000;
  const samples: number[] = [];
  let sink = 0;
  for (let round = 0; round < 25; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) {
      const d = compiled.decideConnection(hosts[(i * 7919 + round) % hosts.length]!, 443, id, ledger);
      if (d.verdict === 'allow') sink++;
    }
    samples.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  if (sink !== 25 * batch) throw new Error('decision benchmark: every lookup should have been allowed');
  return median(samples.slice(5)); // the first rounds warm the JIT
}

/**
 * Median nanoseconds per decision of the whole checkpoint (identity, policy with an IP-literal
 * destination so no resolver is involved, the governance stages), not recorded.
 */
async function pipelineTime(count: number): Promise<number> {
  const synthetic = syntheticPolicy(count);
  const policy: Policy = { ...defaultPolicy(), network_policies: { ...synthetic.policy, literal: { endpoints: [{ host: '93.184.216.34', ports: [443] }], binaries: [{ path: '/usr/bin/curl' }] } } };
  const checkpoint = createCheckpoint({ sandbox: 'bench', policy: () => policy, stages: governanceStages() });
  const subject = { sandbox: 'bench', process: who('/usr/bin/curl') };
  const action = { type: 'connection', layer: 'connect', host: '93.184.216.34', port: 443 } as const;
  const batch = 20_000;
  const samples: number[] = [];
  let sink = 0;
  for (let round = 0; round < 25; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) {
      const d = await checkpoint.decide(action, subject, { record: false });
      if (d.verdict.verdict === 'allow') sink++;
    }
    samples.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  if (sink !== 25 * batch) throw new Error('pipeline benchmark: every decision should have been allowed');
  return median(samples.slice(5));
}

export async function benchEgress(log: (line: string) => void = () => undefined): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bench-egress-'));
  const upstreamCA = createSandboxCA({ name: 'bench upstream' });
  const sandboxCA = createSandboxCA({ name: 'bench sandbox' });
  const bundle = path.join(dir, 'bundle.pem');
  fs.writeFileSync(bundle, sandboxCA.certPem + upstreamCA.certPem);
  const names = ['tunnel.bench', 'inspect.bench', 'plain.bench'];
  const upstream = await startUpstream(dir, upstreamCA, names);
  const nodeExe = fs.realpathSync(process.execPath);
  const local = ['127.0.0.1'];
  const policy: Record<string, NetworkPolicy> = {
    bench: {
      endpoints: [
        { host: 'tunnel.bench', ports: [upstream.httpsPort], allowed_ips: local },
        { host: 'inspect.bench', ports: [upstream.httpsPort], protocol: 'rest', access: 'read-only', allowed_ips: local },
        { host: 'plain.bench', ports: [upstream.httpPort], allowed_ips: local },
      ],
      binaries: [{ path: '/usr/bin/curl' }, { path: nodeExe }],
    },
  };
  let events = 0;
  const fullPolicy: Policy = { ...defaultPolicy(), network_policies: policy };
  const checkpoint = createCheckpoint({ sandbox: 'bench', policy: () => fullPolicy, recorder: () => { events++; }, stages: governanceStages() });
  const proxy = createEgressProxy({
    checkpoint,
    identify: descendantIdentifier(process.pid),
    ca: sandboxCA,
    resolve: async () => local,
    upstreamCA: upstreamCA.certPem,
  });
  const { port: proxyPort } = await proxy.listen(0, '127.0.0.1');
  const proxyArgs = ['--proxy', `http://127.0.0.1:${proxyPort}`, '--noproxy', ''];

  try {
    // ---- (a), (b): 1 GiB downloads, interleaved ------------------------------------------
    const bytes = GIB;
    const rounds = 6;
    const speeds: Record<'direct' | 'tunnel' | 'inspect', number[]> = { direct: [], tunnel: [], inspect: [] };
    // Ratios are taken per round, between downloads run back to back, so slow drifts of this
    // (virtual) machine hit both sides of a ratio alike; the order alternates for the same reason.
    const tunnelRatios: number[] = [];
    const inspectRatios: number[] = [];
    const big = (host: string): string => `https://${host}:${upstream.httpsPort}/big?bytes=${bytes}`;
    const directArgs = ['--noproxy', '*', '--resolve', `tunnel.bench:${upstream.httpsPort}:127.0.0.1`];
    const viaDirect = (): Promise<number> => curlDownload(big('tunnel.bench'), directArgs, bundle, bytes);
    const viaTunnel = (): Promise<number> => curlDownload(big('tunnel.bench'), proxyArgs, bundle, bytes);
    await viaTunnel(); // warm-up: hashes curl, JIT
    for (let r = 0; r < rounds; r++) {
      let d: number;
      let t: number;
      if (r % 2 === 0) {
        d = await viaDirect();
        t = await viaTunnel();
      } else {
        t = await viaTunnel();
        d = await viaDirect();
      }
      speeds.direct.push(d);
      speeds.tunnel.push(t);
      tunnelRatios.push(t / d);
      if (r % 3 === 0) {
        const i = await curlDownload(big('inspect.bench'), proxyArgs, bundle, bytes);
        speeds.inspect.push(i);
        inspectRatios.push(i / d);
      }
      log(`1 GiB downloads: round ${r + 1}/${rounds}`);
    }
    const ceiling = await bareTlsRelay(upstream.httpsPort, upstreamCA, sandboxCA, bundle, bytes);
    const mbps = (v: number): number => v / 1e6;
    const direct = median(speeds.direct);
    const tunnel = median(speeds.tunnel);
    const inspect = median(speeds.inspect);
    const spread = (v: number[]): string => `${v.length} runs, ${Math.min(...v.map(mbps)).toFixed(0)}-${Math.max(...v.map(mbps)).toFixed(0)} MB/s`;
    rows.push({ group: GROUP, name: '1 GiB HTTPS download, direct (curl)', value: mbps(direct), unit: 'MB/s', note: spread(speeds.direct) });
    rows.push({ group: GROUP, name: '1 GiB download through CONNECT tunnel', value: mbps(tunnel), unit: 'MB/s', note: spread(speeds.tunnel) });
    const tunnelRatio = median(tunnelRatios);
    const inspectRatio = median(inspectRatios);
    rows.push({ group: GROUP, name: 'CONNECT tunnel throughput / direct', value: tunnelRatio, unit: 'ratio', target: '>= 0.7', pass: tunnelRatio >= 0.7, note: `median of ${tunnelRatios.length} paired runs, ${Math.min(...tunnelRatios).toFixed(2)}-${Math.max(...tunnelRatios).toFixed(2)}` });
    rows.push({ group: GROUP, name: '1 GiB download with TLS terminated (L7)', value: mbps(inspect), unit: 'MB/s', note: spread(speeds.inspect) });
    rows.push({ group: GROUP, name: 'L7 (TLS terminated) throughput / direct', value: inspectRatio, unit: 'ratio', target: '>= 0.4', pass: inspectRatio >= 0.4, note: `median of ${inspectRatios.length} paired runs` });
    rows.push({ group: GROUP, name: 'reference: bare Node TLS-to-TLS relay (no HTTP, no policy) / direct', value: ceiling / direct, unit: 'ratio', note: `${mbps(ceiling).toFixed(0)} MB/s; the ceiling for any L7 relay in Node on this machine` });

    // ---- (c): small keep-alive requests ----------------------------------------------------
    const n = 3000;
    const blocks = 3;
    const lat: Record<string, number[]> = { 'direct-http': [], 'proxy-http': [], 'direct-https': [], 'proxy-https': [] };
    const secs: Record<string, number> = {};
    for (let b = 0; b < blocks; b++) {
      for (const mode of Object.keys(lat)) {
        const https = mode.endsWith('https');
        const out = await runChild(process.execPath, [
          '-e',
          LATENCY_SCRIPT,
          JSON.stringify({ mode, n, proxyPort, host: https ? 'inspect.bench' : 'plain.bench', port: https ? upstream.httpsPort : upstream.httpPort, ca: bundle }),
        ]);
        const parsed = JSON.parse(out) as { latencies: number[]; seconds: number };
        lat[mode]!.push(...parsed.latencies.slice(b === 0 ? 200 : 0)); // drop the first block's warm-up
        secs[mode] = (secs[mode] ?? 0) + parsed.seconds;
      }
      log(`keep-alive requests: block ${b + 1}/${blocks}`);
    }
    const p = (mode: string, q: number): number => percentile(lat[mode]!, q);
    const added50 = (p('proxy-http', 50) - p('direct-http', 50)) / 1000;
    const added99 = (p('proxy-http', 99) - p('direct-http', 99)) / 1000;
    rows.push({ group: GROUP, name: 'keep-alive request latency p50, direct (http)', value: p('direct-http', 50) / 1000, unit: 'ms' });
    rows.push({ group: GROUP, name: 'keep-alive request latency p50, through proxy (http)', value: p('proxy-http', 50) / 1000, unit: 'ms' });
    rows.push({ group: GROUP, name: 'added latency p50 (http, absolute-form)', value: added50, unit: 'ms', target: '< 1', pass: added50 < 1 });
    rows.push({ group: GROUP, name: 'added latency p99 (http, absolute-form)', value: added99, unit: 'ms' });
    rows.push({ group: GROUP, name: 'requests/s through proxy, one connection (http)', value: (n * blocks) / secs['proxy-http']!, unit: 'req/s', note: `direct ${((n * blocks) / secs['direct-http']!).toFixed(0)} req/s` });
    rows.push(...await srtProxyRows(upstream.httpPort, (n * blocks) / secs['proxy-http']!, n, blocks, log));
    const l7added50 = (p('proxy-https', 50) - p('direct-https', 50)) / 1000;
    rows.push({ group: GROUP, name: 'added latency p50 (https, inspected: TLS terminated + re-originated)', value: l7added50, unit: 'ms', note: `p99 +${((p('proxy-https', 99) - p('direct-https', 99)) / 1000).toFixed(2)} ms` });
    rows.push({ group: GROUP, name: 'requests/s through proxy, one connection (https, inspected)', value: (n * blocks) / secs['proxy-https']!, unit: 'req/s', note: `direct ${((n * blocks) / secs['direct-https']!).toFixed(0)} req/s` });

    // ---- (d): decision time -------------------------------------------------------------
    const t10 = decisionTime(10);
    const t1k = decisionTime(1_000);
    const t10k = decisionTime(10_000);
    const t10kHot = decisionTime(10_000, true);
    const pipeline1k = await pipelineTime(1_000);
    log('decision timing done');
    rows.push({ group: GROUP, name: 'connection decision, 10 rules (median)', value: t10 / 1000, unit: 'µs' });
    rows.push({ group: GROUP, name: 'connection decision, 1,000 rules (median)', value: t1k / 1000, unit: 'µs', target: '< 5', pass: t1k / 1000 < 5 });
    rows.push({ group: GROUP, name: 'connection decision, 10,000 rules (median)', value: t10k / 1000, unit: 'µs', target: '< 5', pass: t10k / 1000 < 5 });
    rows.push({ group: GROUP, name: 'connection decision, 10,000 rules, one host looked up repeatedly', value: t10kHot / 1000, unit: 'µs', note: 'same cost as 10 rules: what grows is cache misses, not work' });
    rows.push({ group: GROUP, name: 'decision time, 10,000 rules / 10 rules', value: t10k / t10, unit: 'ratio', note: 'a linear scan would be ~1000' });
    rows.push({ group: GROUP, name: 'checkpoint decision (identity, policy, governance stages), 1,000 rules (median)', value: pipeline1k / 1000, unit: 'µs', target: '< 5', pass: pipeline1k / 1000 < 5 });
    if (events === 0) throw new Error('the proxy emitted no events');
  } finally {
    await proxy.close();
    upstream.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const started = Date.now();
  benchEgress((l) => process.stderr.write(`bench egress: ${l}\n`)).then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${r.name}: ${r.value.toFixed(3)} ${r.unit}${r.target ? ` (target ${r.target}: ${r.pass ? 'met' : 'MISSED'})` : ''}${r.note ? ` [${r.note}]` : ''}\n`);
      process.stderr.write(`bench egress: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
    (err: unknown) => {
      process.stderr.write(`bench egress failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/**
 * The same keep-alive requests through Anthropic's sandbox-runtime proxy (srt), started through
 * its library API with only this host allowed, for the "ahead of srt" comparison.
 */
async function srtProxyRows(upstreamPort: number, wardenRps: number, n: number, blocks: number, log: (line: string) => void): Promise<Row[]> {
  let manager: {
    initialize(config: unknown): Promise<void>;
    getProxyPort(): number | undefined;
    getProxyAuthToken(): string | undefined;
    reset?(): Promise<void>;
  };
  try {
    ({ SandboxManager: manager } = await import('@anthropic-ai/sandbox-runtime') as unknown as { SandboxManager: typeof manager });
    await manager.initialize({ network: { allowedDomains: ['localhost'], deniedDomains: [] }, filesystem: { denyRead: [], allowWrite: [], denyWrite: [] } });
  } catch (error) {
    log(`skipping the srt proxy comparison: ${(error as Error).message}`);
    return [];
  }
  try {
    const port = manager.getProxyPort();
    const token = manager.getProxyAuthToken();
    if (port === undefined) return [];
    const proxyAuth = token ? `Basic ${Buffer.from(`srt:${token}`).toString('base64')}` : undefined;
    let seconds = 0;
    for (let b = 0; b < blocks; b++) {
      const out = await runChild(process.execPath, ['-e', LATENCY_SCRIPT,
        JSON.stringify({ mode: 'proxy-http', n, proxyPort: port, host: 'localhost', port: upstreamPort, ca: '', proxyAuth })]);
      seconds += (JSON.parse(out) as { seconds: number }).seconds;
    }
    const srtRps = (n * blocks) / seconds;
    log(`srt proxy: ${srtRps.toFixed(0)} req/s`);
    return [
      { group: GROUP, name: 'requests/s through srt\'s proxy, one connection (http)', value: srtRps, unit: 'req/s' },
      { group: GROUP, name: 'warden proxy / srt proxy requests/s', value: wardenRps / srtRps, unit: 'ratio', target: '> 1', pass: wardenRps > srtRps },
    ];
  } finally {
    await manager.reset?.();
  }
}
