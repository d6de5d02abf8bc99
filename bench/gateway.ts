// The gateway (issue 4, item 7): `exec` latency on a warm gateway (target p50 < 15 ms) and the
// gateway's memory with 10 idle sandboxes (target < 150 MB), in a temporary WARDEN_HOME.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { callGateway, openExec } from '../src/gateway/index.js';
import { FRAME, FrameDecoder } from '../src/sandbox/index.js';
import { processTree, pssKb } from './sandbox.js';
import { median, percentile, type Row } from './table.js';

const GROUP = 'gateway';
const WARDEN = path.resolve('bin/warden.js');
const EXEC_RUNS = 60;
const CLI_RUNS = 20;
const IDLE_SANDBOXES = 10;

/** One exec of `true` through the gateway's socket API, as the CLI does it, minus Node's start-up. */
async function execTrue(home: string): Promise<number> {
  const started = performance.now();
  const { socket, rest } = await openExec(home, { name: 'bench0', argv: ['true'], env: {}, tty: null }, { autoStart: false });
  await new Promise<void>((resolve, reject) => {
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer) => {
      if (decoder.push(chunk).some((frame) => frame.type === FRAME.exit)) resolve();
    };
    onData(rest);
    socket.on('data', onData);
    socket.on('close', () => reject(new Error('exec ended without an exit frame')));
    socket.resume();
  });
  socket.destroy();
  return performance.now() - started;
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) / 1024;
}

/** The floor of the old supervisor: Node itself, idle in a sandbox (measured the same way). */
async function idleNodeInSandbox(env: NodeJS.ProcessEnv): Promise<{ rssKb: number; pssKb: number }> {
  const marker = `warden-bench-idle-${process.pid}`;
  const child = spawn(process.execPath, [WARDEN, 'run', '--', process.execPath, '-e', `setInterval(() => {}, 1e9) // ${marker}`], { env, stdio: 'ignore' });
  try {
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pid = Number(spawnSync('pgrep', ['-f', `^${process.execPath} -e .*${marker}`], { encoding: 'utf8' }).stdout.trim().split('\n')[0]) || undefined;
    }
    if (pid === undefined) throw new Error('the idle Node process did not start');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0), pssKb: pssKb(pid) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

function timeCommand(argv: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed with ${result.status}`);
  return performance.now() - started;
}

export async function benchGateway(log: (line: string) => void): Promise<Row[]> {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-gw-'));
  chmodSync(parent, 0o711);
  const home = path.join(parent, 'home');
  const env = { ...process.env, WARDEN_HOME: home };
  const gateway = spawn(process.execPath, [WARDEN, 'gateway', 'start', '--foreground'], { env, stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await callGateway(home, 'ping', {}, { autoStart: false });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const idleBefore = rssMiB(gateway.pid!);
    log(`creating ${IDLE_SANDBOXES} sandboxes ...`);
    for (let i = 0; i < IDLE_SANDBOXES; i++) timeCommand([process.execPath, WARDEN, 'sandbox', 'create', `bench${i}`], env);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const withSandboxes = rssMiB(gateway.pid!);
    // Everything a named sandbox keeps alive outside the gateway: bubblewrap, its init, the supervisor.
    const perSandbox = processTree(gateway.pid!).filter((p) => p.pid !== gateway.pid);
    const sandboxRss = perSandbox.reduce((sum, p) => sum + p.rssKb, 0) / IDLE_SANDBOXES / 1024;
    const sandboxPss = perSandbox.reduce((sum, p) => sum + pssKb(p.pid), 0) / IDLE_SANDBOXES / 1024;
    const supervisors = perSandbox.filter((p) => p.comm === 'supervisor');
    const supervisorRss = supervisors.reduce((sum, p) => sum + p.rssKb, 0) / Math.max(1, supervisors.length) / 1024;
    const nodeReference = await idleNodeInSandbox(env);

    log('exec latency ...');
    for (let i = 0; i < 5; i++) await execTrue(home);
    const api: number[] = [];
    for (let i = 0; i < EXEC_RUNS; i++) api.push(await execTrue(home));
    const cli: number[] = [];
    const nodeStart: number[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      cli.push(timeCommand([process.execPath, WARDEN, 'exec', 'bench0', '--', 'true'], env));
      nodeStart.push(timeCommand([process.execPath, '-e', ''], env));
    }
    const p50 = median(api);
    const rss = withSandboxes;
    return [
      { group: GROUP, name: 'exec `true` on a warm gateway, socket round trip p50', value: p50, unit: 'ms', target: '< 15', pass: p50 < 15,
        note: `p99 ${percentile(api, 99).toFixed(2)} ms over ${EXEC_RUNS}; what \`warden exec\` waits for once Node has started` },
      { group: GROUP, name: '`warden exec dev -- true` whole CLI, p50', value: median(cli), unit: 'ms',
        note: `of which bare \`node -e ''\` start-up is ${median(nodeStart).toFixed(1)} ms (same run)` },
      { group: GROUP, name: `gateway RSS with ${IDLE_SANDBOXES} idle sandboxes`, value: rss, unit: 'MiB', target: '< 150', pass: rss < 150,
        note: `${idleBefore.toFixed(0)} MiB with none` },
      { group: 'memory', name: 'per idle named sandbox outside the gateway (bubblewrap, its init, the native supervisor): RSS', value: sandboxRss, unit: 'MiB',
        note: `the supervisor alone ${supervisorRss.toFixed(2)} MiB RSS` },
      { group: 'memory', name: 'per idle named sandbox outside the gateway: PSS', value: sandboxPss, unit: 'MiB' },
      { group: 'memory', name: 'before: an idle Node process in a sandbox, as the Node supervisor was (RSS / PSS)', value: nodeReference.rssKb / 1024, unit: 'MiB',
        note: `PSS ${(nodeReference.pssKb / 1024).toFixed(1)} MiB; the review measured 44 MiB RSS, 9.5 MiB PSS for the old supervisor` },
      { group: 'memory', name: 'per idle named sandbox RSS: native / Node supervisor', value: sandboxRss / (nodeReference.rssKb / 1024), unit: 'ratio' },
    ];
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));
    rmSync(parent, { recursive: true, force: true });
  }
}
