// The gateway under load (issue 8): many sandboxes' worth of concurrent proxy connections and execs
// against one gateway for a while, and one sandbox attacking the gateway (thousands of descriptors
// to search) while another sandbox's requests are timed. Everything on loopback, in a temporary
// WARDEN_HOME. WARDEN_LOAD_SANDBOXES (default 100) and WARDEN_LOAD_SECONDS (default 60) shrink it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { callGateway, openExec } from '../src/gateway/index.js';
import { decodeExit, FRAME, FrameDecoder } from '../src/sandbox/index.js';
import { median, percentile, type Row } from './table.js';

const WARDEN = path.resolve('bin/warden.js');
const SANDBOXES = Number(process.env.WARDEN_LOAD_SANDBOXES ?? 100);
const SECONDS = Number(process.env.WARDEN_LOAD_SECONDS ?? 60);
/** What the gateway may grow by over the run: its memory is bounded, not growing with traffic. */
const RSS_GROWTH_BOUND_MIB = 64;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WARDEN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** One exec through the gateway's socket API; resolves with its exit code and its output. */
async function exec(home: string, name: string, argv: string[], onOutput?: (text: string) => void): Promise<number> {
  const { socket, rest } = await openExec(home, { name, argv, env: {}, tty: null }, { autoStart: false });
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    let code: number | undefined;
    const onData = (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.type === FRAME.stdout) onOutput?.(frame.payload.toString());
        if (frame.type === FRAME.exit) code = decodeExit(frame);
        if (frame.type === FRAME.startFailed) code = 125;
      }
    };
    onData(rest);
    socket.on('data', onData);
    socket.on('close', () => (code === undefined ? reject(new Error(`exec in ${name} ended without an exit`)) : resolve(code)));
    socket.resume();
  });
}

interface Setup {
  home: string;
  env: NodeJS.ProcessEnv;
  gateway: ChildProcess;
  server: http.Server;
  port: number;
  policy: string;
  done(): Promise<void>;
}

async function setUp(): Promise<Setup> {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-load-'));
  chmodSync(parent, 0o711);
  const home = path.join(parent, 'home');
  const env = { ...process.env, WARDEN_HOME: home };
  const server = http.createServer((_req, res) => res.end('ok\n'));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const policy = path.join(parent, 'policy.yaml');
  writeFileSync(policy, `version: 1\nnetwork_policies:\n  local:\n    endpoints:\n      - { host: 127.0.0.1, port: ${port}, allowed_ips: [127.0.0.1] }\n    binaries:\n      - { path: /usr/bin/curl }\n`);
  const gateway = spawn(process.execPath, [WARDEN, 'gateway', 'start', '--foreground'], { env, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await callGateway(home, 'ping', {}, { autoStart: false });
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    home, env, gateway, server, port, policy,
    done: async () => {
      gateway.kill('SIGTERM');
      await new Promise((resolve) => gateway.once('exit', resolve));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** Many sandboxes, each running a loop of proxied requests, while execs are timed across them. */
async function loadRows(log: (line: string) => void): Promise<Row[]> {
  const s = await setUp();
  try {
    log(`load: creating ${SANDBOXES} sandboxes ...`);
    for (let i = 0; i < SANDBOXES; i += 10) {
      const batch = Array.from({ length: Math.min(10, SANDBOXES - i) }, (_, j) => cli(['sandbox', 'create', `load${i + j}`, '--policy', s.policy], s.env));
      for (const r of await Promise.all(batch)) if (r.status !== 0) throw new Error(`sandbox create failed: ${r.stderr}`);
    }
    const rssStart = rssMiB(s.gateway.pid!);
    log(`load: ${SECONDS} s of traffic from ${SANDBOXES} sandboxes ...`);
    const url = `http://127.0.0.1:${s.port}/`;
    const codes = new Map<string, number>();
    const loop = `end=$(( $(date +%s) + ${SECONDS} )); while [ $(date +%s) -lt $end ]; do curl -s -o /dev/null -w '%{http_code}\\n' ${url}; done`;
    const loops = Array.from({ length: SANDBOXES }, (_, i) => exec(s.home, `load${i}`, ['sh', '-c', loop], (text) => {
      for (const code of text.split('\n').filter(Boolean)) codes.set(code, (codes.get(code) ?? 0) + 1);
    }));
    const execLatencies: number[] = [];
    let execErrors = 0;
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      const t = performance.now();
      try {
        if ((await exec(s.home, `load${Math.floor(Math.random() * SANDBOXES)}`, ['true'])) !== 0) execErrors++;
      } catch {
        execErrors++;
      }
      execLatencies.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const loopCodes = await Promise.all(loops.map((p) => p.catch(() => -1)));
    const elapsed = (performance.now() - started) / 1000;
    const rssEnd = rssMiB(s.gateway.pid!);
    const ok = codes.get('200') ?? 0;
    const failed = [...codes].filter(([code]) => code !== '200').reduce((sum, [, n]) => sum + n, 0) + loopCodes.filter((c) => c !== 0).length + execErrors;
    return [
      { group: 'load', name: `proxied requests/s from ${SANDBOXES} sandboxes at once (${ok} in ${elapsed.toFixed(0)} s)`, value: ok / elapsed, unit: 'req/s' },
      { group: 'load', name: `exec \`true\` during the load, p50 (p99 ${percentile(execLatencies, 99).toFixed(1)} ms over ${execLatencies.length})`, value: median(execLatencies), unit: 'ms' },
      { group: 'load', name: 'errors (non-200 answers, failed execs)', value: failed, unit: 'count', target: '0', pass: failed === 0 },
      { group: 'load', name: `gateway RSS at the end (${rssStart.toFixed(0)} MiB at the start)`, value: rssEnd, unit: 'MiB', target: `start + ${RSS_GROWTH_BOUND_MIB}`, pass: rssEnd - rssStart <= RSS_GROWTH_BOUND_MIB },
    ];
  } finally {
    await s.done();
  }
}

/** Another sandbox's request latency, idle and while one sandbox makes its callers expensive to find. */
async function freezeRows(log: (line: string) => void): Promise<Row[]> {
  const s = await setUp();
  try {
    for (const name of ['victim', 'attacker']) {
      const r = await cli(['sandbox', 'create', name, '--policy', s.policy], s.env);
      if (r.status !== 0) throw new Error(r.stderr);
    }
    const curl = ['curl', '-s', '-o', '/dev/null', `http://127.0.0.1:${s.port}/`];
    const timeVictim = async (runs: number) => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await exec(s.home, 'victim', curl);
        times.push(performance.now() - t);
      }
      return times;
    };
    await timeVictim(3);
    const idle = await timeVictim(15);
    log('freeze: 100 processes x 4,000 descriptors and 30 connections at once in the attacking sandbox ...');
    let ready!: () => void;
    const hoarding = new Promise<void>((resolve) => { ready = resolve; });
    void exec(s.home, 'attacker', ['python3', '-c', `
import os, time
for i in range(100):
    if os.fork() == 0:
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(4000)]
        time.sleep(120); os._exit(0)
time.sleep(2); print("ready", flush=True); time.sleep(120)
`], (text) => { if (text.includes('ready')) ready(); }).catch(() => undefined);
    await hoarding;
    const flood = exec(s.home, 'attacker', ['sh', '-c', `while :; do for i in $(seq 30); do curl -s -o /dev/null http://127.0.0.1:${s.port}/ & done; wait; done`]).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const attacked = await timeVictim(15);
    const listStart = performance.now();
    await callGateway(s.home, 'sandbox.list', {}, { autoStart: false });
    const list = performance.now() - listStart;
    void flood;
    const ratio = median(attacked) / median(idle);
    return [
      { group: 'isolation', name: 'another sandbox\'s request, idle (p50 of 15, through exec)', value: median(idle), unit: 'ms' },
      { group: 'isolation', name: `the same while one sandbox runs the descriptor attack (p99 ${percentile(attacked, 99).toFixed(1)} ms; \`sandbox list\` ${list.toFixed(1)} ms)`, value: median(attacked), unit: 'ms' },
      { group: 'isolation', name: 'attacked / idle', value: ratio, unit: 'ratio', target: '<= 2', pass: ratio <= 2 },
    ];
  } finally {
    await s.done();
  }
}

export async function benchLoad(log: (line: string) => void): Promise<Row[]> {
  return [...await freezeRows(log), ...await loadRows(log)];
}
