// Sandbox start-up: `warden run -- true` against bare `true`, raw bubblewrap and Anthropic's
// sandbox-runtime (srt), measured in the same run, interleaved so that machine noise hits all
// of them alike. Also the memory warden adds per running sandbox.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, type Row } from './table.js';

const WARDEN = path.resolve('bin/warden.js');
const SRT = path.resolve('node_modules/.bin/srt');
const RUNS = Number(process.env.WARDEN_BENCH_RUNS ?? 25);

interface Contender {
  name: string;
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

function timeOnce(c: Contender): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(c.argv[0]!, c.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], cwd: c.cwd, ...(c.env !== undefined ? { env: c.env } : {}) });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name} failed (exit ${r.status}): ${r.stderr.toString().slice(0, 500)}`);
  return ms;
}

function srtContender(dir: string): Contender | string {
  if (!existsSync(SRT)) return 'srt not installed (npm install)';
  for (const tool of ['socat', 'rg']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `srt needs ${tool}: apt-get install -y socat ripgrep`;
  }
  // No network allowed at all, writes only to its working directory: the closest match to
  // warden's default policy.
  writeFileSync(path.join(dir, 'srt-settings.json'), JSON.stringify({
    network: { allowedDomains: [], deniedDomains: [] },
    filesystem: { denyRead: [], allowWrite: ['.'], denyWrite: [] },
  }));
  return { name: 'srt (sandbox-runtime), no network', argv: [SRT, '--settings', path.join(dir, 'srt-settings.json'), 'true'], cwd: dir };
}

function withoutExtraCaCerts(contenders: Contender[], srt: Contender | string): Contender[] {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined || typeof srt === 'string') return [];
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const warden = contenders.find((c) => c.name === 'warden run -- true')!;
  return [warden, srt].map((c) => ({ ...c, name: `${c.name}, without NODE_EXTRA_CA_CERTS`, env }));
}

export async function benchSandbox(log: (line: string) => void): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-'));
  try {
    const contenders: Contender[] = [
      { name: 'bare true', argv: ['true'] },
      { name: 'raw bwrap true', argv: ['bwrap', '--unshare-all', '--unshare-user', '--die-with-parent', '--ro-bind', '/usr', '/usr',
        '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/bin', '/bin', '--proc', '/proc', '--dev', '/dev', 'true'] },
      // As users run it (and as srt is run below): the executable, through its #! line.
      { name: 'warden run -- true', argv: [WARDEN, 'run', '--', 'true'] },
    ];
    const srt = srtContender(dir);
    if (typeof srt === 'string') log(`skipping srt: ${srt}`);
    else contenders.push(srt);
    // Node parses every certificate NODE_EXTRA_CA_CERTS names before running any code (this
    // machine's environment points it at the system bundle): both contenders are Node programs,
    // so they are also timed without it, as on a machine that does not set it.
    const withoutExtraCa = withoutExtraCaCerts(contenders, srt);
    contenders.push(...withoutExtraCa);

    const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    for (const c of contenders) timeOnce(c); // warm caches
    for (let i = 0; i < RUNS; i++) {
      for (const c of contenders) samples.get(c.name)!.push(timeOnce(c));
      if ((i + 1) % 5 === 0) log(`start-up: ${i + 1}/${RUNS} rounds`);
    }
    const med = (name: string) => median(samples.get(name) ?? []);
    const rows: Row[] = contenders.map((c) => ({ group: 'sandbox start-up', name: `${c.name} (median of ${RUNS})`, value: med(c.name), unit: 'ms' }));
    const warden = med('warden run -- true');
    if (typeof srt !== 'string') {
      rows.push({ group: 'sandbox start-up', name: 'warden / srt wall time', value: warden / med(srt.name), unit: 'ratio', target: '<= 0.33',
        pass: warden / med(srt.name) <= 1 / 3 });
    }
    rows.push({ group: 'sandbox start-up', name: 'warden overhead over raw bwrap', value: warden - med('raw bwrap true'), unit: 'ms' });
    if (withoutExtraCa.length === 2) {
      const [w, s] = withoutExtraCa.map((c) => med(c.name)) as [number, number];
      rows.push({ group: 'sandbox start-up', name: `warden / srt wall time, both without NODE_EXTRA_CA_CERTS (this environment sets it; warden ${w.toFixed(0)} ms, srt ${s.toFixed(0)} ms)`, value: w / s, unit: 'ratio' });
    }
    rows.push(...await memoryRows());
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resident memory of everything warden keeps alive for one sandbox, excluding CMD itself. */
async function memoryRows(): Promise<Row[]> {
  const child = spawn(process.execPath, [WARDEN, 'run', '--', 'sleep', '3'], { stdio: 'ignore' });
  let peakKb = 0;
  const deadline = Date.now() + 2500;
  await new Promise((r) => setTimeout(r, 600));
  while (Date.now() < deadline) {
    const tree = processTree(child.pid!);
    const overhead = tree.filter((p) => p.comm !== 'sleep').reduce((sum, p) => sum + p.rssKb, 0);
    peakKb = Math.max(peakKb, overhead);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => child.on('exit', r));
  return [{ group: 'memory', name: 'RSS warden adds per `warden run` (the CLI process, sandbox-exec/bubblewrap)', value: peakKb / 1024, unit: 'MiB' }];
}

/** Proportional set size (shared pages split between their users) in kB, from smaps_rollup. */
export function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export function processTree(root: number): Array<{ pid: number; comm: string; rssKb: number }> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* exited */ }
  }
  const inTree = (pid: number): boolean => pid === root || (parents.has(pid) && pid !== 1 && inTree(parents.get(pid)!));
  const result: Array<{ pid: number; comm: string; rssKb: number }> = [];
  for (const pid of parents.keys()) {
    if (!inTree(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      result.push({ pid, comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), rssKb: rss });
    } catch { /* exited */ }
  }
  return result;
}
