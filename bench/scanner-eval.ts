// `npm run eval:scanner`: warden's directive scanner against the JavaScript detectors on npm, on
// the held-out split of the dev set (rows training never sees: bench/scanner/dev-set.ts), and
// for speed on the same machine in the same run. Prints a Markdown report and writes it to
// bench/scanner-results.md and as a section of bench/RESULTS.md. Nothing here feeds back into
// training or thresholds.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_THRESHOLDS } from '../src/governance/index.js';
import { devSetAvailable, devSetPath, heldOutRows, loadDevSet, REPO_ROOT, sourceOf, type DevRow } from './scanner/dev-set.js';
import { peerDetectors, wardenDetector, type Detector } from './scanner/peers.js';
import { writeScannerSection } from './results-file.js';
import { percentile } from './table.js';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'scanner-results.md');
const BENCH_RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'RESULTS.md');
const TARGET_RECALL = 0.9;
const TARGET_FPR = 0.02;
const TARGET_THROUGHPUT = 50; // MB/s
const TARGET_P99 = 0.5; // ms, 10 KB text
const LARGE_BYTES = 1 << 20;
const SMALL_BYTES = 10 * 1024;

const log = (line: string) => process.stderr.write(`eval:scanner: ${line}\n`);

interface Rates { recall: number; fpr: number; positives: number; negatives: number }

function rates(rows: readonly DevRow[], flagged: ReadonlyMap<string, boolean>): Rates {
  const positives = rows.filter((r) => r.label === 1);
  const negatives = rows.filter((r) => r.label === 0);
  return {
    recall: positives.filter((r) => flagged.get(r.id)).length / Math.max(1, positives.length),
    fpr: negatives.filter((r) => flagged.get(r.id)).length / Math.max(1, negatives.length),
    positives: positives.length,
    negatives: negatives.length,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** A text of at most `bytes` UTF-8 bytes made of the held-out texts in order (benign and injected). */
function corpusText(rows: readonly DevRow[], bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const part = rows[i % rows.length]!.text + '\n\n';
    parts.push(part);
    size += Buffer.byteLength(part);
  }
  let text = parts.join('');
  while (Buffer.byteLength(text) > bytes) text = text.slice(0, text.length - Math.max(1, Math.floor((Buffer.byteLength(text) - bytes) / 3)));
  return text;
}

interface Speed {
  throughput: number;
  p99: number;
  p50: number;
  /** Throughput per second of this process's CPU time (median of the runs): what scheduling on a busy machine does not change. */
  cpuThroughput: number;
  /** Mean CPU time of one 10 KB call. */
  cpuPerSmall: number;
}

/** CPU time of this process (all its threads, garbage collection included) spent in `run`, in ms. */
function cpuTime(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** CPU time of the whole machine (all processes), in clock ticks, from /proc/stat: [busy, total]; null off Linux. */
function machineTicks(): [number, number] | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return [total - idle, total];
  } catch {
    return null;
  }
}

/** Interleaves detectors run by run, so that load from elsewhere on the machine hits them alike. */
function measureSpeed(detectors: readonly Detector[], rows: readonly DevRow[]): Map<string, Speed> {
  const large = corpusText(rows, LARGE_BYTES);
  const corpus = corpusText(rows, 2 * LARGE_BYTES);
  const smalls: string[] = [];
  for (let i = 0; smalls.length < 400; i++) {
    const from = (i * 4099) % (corpus.length - SMALL_BYTES * 2);
    smalls.push(corpusText([{ id: '', text: corpus.slice(from, from + SMALL_BYTES * 2), label: 0, category: null, source: '' }], SMALL_BYTES));
  }
  const largeTimes = new Map<string, number[]>(detectors.map((d) => [d.name, []]));
  const largeCpu = new Map<string, number[]>(detectors.map((d) => [d.name, []]));
  const smallCpu = new Map<string, number>(detectors.map((d) => [d.name, 0]));
  const smallTimes = new Map<string, number[]>(detectors.map((d) => [d.name, []]));
  for (const d of detectors) { d.detectUnlimited(large); for (const s of smalls.slice(0, 50)) d.detectUnlimited(s); } // warm up
  for (let run = 0; run < 7; run++) {
    for (const d of detectors) {
      const t = process.hrtime.bigint();
      const used = cpuTime(() => d.detectUnlimited(large));
      largeTimes.get(d.name)!.push(Number(process.hrtime.bigint() - t) / 1e6);
      largeCpu.get(d.name)!.push(used);
    }
  }
  for (let round = 0; round < 5; round++) {
    for (const d of detectors) {
      const used = cpuTime(() => {
        for (const s of smalls) {
          const t = process.hrtime.bigint();
          d.detectUnlimited(s);
          smallTimes.get(d.name)!.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      });
      smallCpu.set(d.name, smallCpu.get(d.name)! + used);
    }
  }
  const speeds = new Map<string, Speed>();
  for (const d of detectors) {
    const median = percentile(largeTimes.get(d.name)!, 50);
    speeds.set(d.name, {
      throughput: LARGE_BYTES / 1e6 / (median / 1000),
      p99: percentile(smallTimes.get(d.name)!, 99),
      p50: percentile(smallTimes.get(d.name)!, 50),
      cpuThroughput: LARGE_BYTES / 1e6 / (percentile(largeCpu.get(d.name)!, 50) / 1000),
      cpuPerSmall: smallCpu.get(d.name)! / smallTimes.get(d.name)!.length,
    });
  }
  return speeds;
}

/** warden's recall at the highest threshold whose pooled false-positive rate is at most `maxFpr` (an operating point, for comparison only). */
function recallAtFpr(rows: readonly DevRow[], scores: ReadonlyMap<string, number>, maxFpr: number): { recall: number; fpr: number; threshold: number } {
  const candidates = [...new Set(rows.map((r) => scores.get(r.id)!))].sort((a, b) => a - b);
  let best = { recall: 0, fpr: 0, threshold: 1.0001 };
  for (const threshold of candidates) {
    const flagged = new Map(rows.map((r) => [r.id, scores.get(r.id)! >= threshold]));
    const r = rates(rows, flagged);
    if (r.fpr <= maxFpr && r.recall > best.recall) best = { recall: r.recall, fpr: r.fpr, threshold };
  }
  return best;
}

async function main(): Promise<void> {
  if (!devSetAvailable()) {
    process.stderr.write(`eval:scanner: the dev set is not at ${devSetPath()} (set WARDEN_INJECTION_DEV to its path)\n`);
    process.exitCode = 2;
    return;
  }
  const all = loadDevSet();
  const rows = heldOutRows(all);
  const warden = wardenDetector();
  const { detectors: peers, unavailable } = await peerDetectors();
  const detectors = [warden, ...peers];
  log(`held-out rows: ${rows.length} of ${all.length}; detectors: ${detectors.map((d) => d.name).join(', ')}`);

  const flaggedBy = new Map<string, Map<string, boolean>>();
  for (const d of detectors) flaggedBy.set(d.name, new Map(rows.map((r) => [r.id, d.detect(r.text)])));
  const scores = new Map(rows.map((r) => [r.id, warden.score!(r.text)]));
  const bySource = (source: 'deepset' | 'bipia' | 'all') => rows.filter((r) => source === 'all' || sourceOf(r) === source);

  log('timing ...');
  const ticks0 = machineTicks(), cpu0 = process.cpuUsage(), wall0 = process.hrtime.bigint();
  const speeds = measureSpeed(detectors, rows);
  const ticks1 = machineTicks(), cpu = process.cpuUsage(cpu0), wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  // How busy the machine was while timing: all of it, and the part that was not this process.
  const cores = os.cpus().length;
  const machineBusy = ticks0 && ticks1 ? (ticks1[0] - ticks0[0]) / Math.max(1, ticks1[1] - ticks0[1]) : NaN;
  const ownBusy = (cpu.user + cpu.system) / 1e6 / wall / cores;

  const lines: string[] = ['# Directive scanner: evaluation', ''];
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  lines.push(
    `- held-out split of \`dev.jsonl\`: ${rows.length} of ${all.length} rows (deepset ${bySource('deepset').length}, BIPIA ${bySource('bipia').length}); training never reads them (bench/scanner/dev-set.ts)`,
    `- warden thresholds: flag ${DEFAULT_THRESHOLDS.flag}, quarantine ${DEFAULT_THRESHOLDS.quarantine}, block ${DEFAULT_THRESHOLDS.block}; "detected" = verdict is not pass`,
    `- machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, load average ${load} (other work on the machine slows every detector alike: runs are interleaved)`,
    `- speed: throughput on a ${LARGE_BYTES / 1024 / 1024} MiB text made of held-out texts (median of 7), by the wall clock and per second of this process's CPU time (the CPU figure does not count time the process waited for a core, so it is what load from other processes changes least); latency over ${5 * 400} calls on 10 KB texts after warm-up by the wall clock, and their mean CPU time; no forced garbage collection; vard's 10,000-character input limit is lifted for speed runs only`,
    `- while timing, the machine's ${cores} cores were ${Number.isNaN(machineBusy) ? 'of unknown load' : `${(machineBusy * 100).toFixed(0)}% busy, ${(Math.max(0, machineBusy - ownBusy) * 100).toFixed(0)} points of it other processes`} (a shared machine: other work slows every detector and lengthens the tail of the latencies)`,
    '',
    '| detector | deepset recall | deepset FPR | BIPIA recall | BIPIA FPR | pooled recall | pooled FPR | throughput (MB/s) | throughput, CPU time (MB/s) | p50 10 KB (ms) | p99 10 KB (ms) | mean CPU 10 KB (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const pooled = new Map<string, Rates>();
  for (const d of detectors) {
    const flagged = flaggedBy.get(d.name)!;
    const ds = rates(bySource('deepset'), flagged);
    const bp = rates(bySource('bipia'), flagged);
    const all = rates(bySource('all'), flagged);
    pooled.set(d.name, all);
    const sp = speeds.get(d.name)!;
    lines.push(`| ${d.name} | ${pct(ds.recall)} | ${pct(ds.fpr)} | ${pct(bp.recall)} | ${pct(bp.fpr)} | ${pct(all.recall)} | ${pct(all.fpr)} | ${sp.throughput.toFixed(1)} | ${sp.cpuThroughput.toFixed(1)} | ${sp.p50.toFixed(3)} | ${sp.p99.toFixed(3)} | ${sp.cpuPerSmall.toFixed(3)} |`);
  }
  for (const u of unavailable) lines.push(`| ${u.name} | not installable: ${u.reason.replace(/\|/g, '/')} | | | | | | | | | | |`);
  const p = pooled.get(warden.name)!;
  lines.push('', `Rows: deepset ${rates(bySource('deepset'), new Map()).positives} injected / ${rates(bySource('deepset'), new Map()).negatives} benign; BIPIA ${rates(bySource('bipia'), new Map()).positives} / ${rates(bySource('bipia'), new Map()).negatives}. How each detector was called:`, '');
  for (const d of detectors) lines.push(`- ${d.name}: \`${d.how}\``);

  lines.push('', '## BIPIA recall per attack category (held-out rows)', '', `| category | rows | ${detectors.map((d) => d.name).join(' | ')} |`, `|---|---:|${detectors.map(() => '---:').join('|')}|`);
  const categories = [...new Set(bySource('bipia').filter((r) => r.label === 1).map((r) => r.category!))];
  for (const category of categories) {
    const inCategory = rows.filter((r) => r.category === category);
    lines.push(`| ${category} | ${inCategory.length} | ${detectors.map((d) => pct(rates(inCategory, flaggedBy.get(d.name)!).recall)).join(' | ')} |`);
  }

  lines.push('', '## Targets', '');
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  lines.push(`- pooled recall >= ${pct(TARGET_RECALL)} at pooled FPR <= ${pct(TARGET_FPR)}: recall ${pct(p.recall)}, FPR ${pct(p.fpr)}: ${verdict(p.recall >= TARGET_RECALL && p.fpr <= TARGET_FPR)}` +
    (p.recall < TARGET_RECALL ? ` (recall ${((TARGET_RECALL - p.recall) * 100).toFixed(1)} points short)` : '') + (p.fpr > TARGET_FPR ? ` (FPR ${((p.fpr - TARGET_FPR) * 100).toFixed(1)} points over)` : ''));
  for (const d of peers) {
    const peer = pooled.get(d.name)!;
    const atDefault = p.fpr <= peer.fpr && p.recall > peer.recall;
    const matched = recallAtFpr(bySource('all'), scores, peer.fpr);
    lines.push(`- vs ${d.name} (recall ${pct(peer.recall)}, FPR ${pct(peer.fpr)}): at default thresholds warden has recall ${pct(p.recall)} at FPR ${pct(p.fpr)}: ${verdict(atDefault)}` +
      `${p.fpr > peer.fpr ? ` (warden's FPR is ${((p.fpr - peer.fpr) * 100).toFixed(1)} points higher)` : ''}; at warden's operating point with FPR <= the peer's (threshold ${matched.threshold.toFixed(4)}, read off the held-out scores, comparison only): recall ${pct(matched.recall)}, FPR ${pct(matched.fpr)}: ${verdict(matched.recall > peer.recall)}`);
  }
  const ws = speeds.get(warden.name)!;
  lines.push(`- throughput >= ${TARGET_THROUGHPUT} MB/s: ${ws.throughput.toFixed(1)} MB/s by the wall clock: ${verdict(ws.throughput >= TARGET_THROUGHPUT)}${ws.throughput < TARGET_THROUGHPUT ? ` (${(TARGET_THROUGHPUT - ws.throughput).toFixed(1)} MB/s short)` : ''}; ` +
    `${ws.cpuThroughput.toFixed(1)} MB/s per second of CPU time: ${verdict(ws.cpuThroughput >= TARGET_THROUGHPUT)}${ws.cpuThroughput < TARGET_THROUGHPUT ? ` (${(TARGET_THROUGHPUT - ws.cpuThroughput).toFixed(1)} MB/s short)` : ''}`);
  lines.push(`- p99 < ${TARGET_P99} ms for a 10 KB text: ${ws.p99.toFixed(3)} ms: ${verdict(ws.p99 < TARGET_P99)}${ws.p99 >= TARGET_P99 ? ` (${(ws.p99 - TARGET_P99).toFixed(3)} ms over)` : ''}; p50 ${ws.p50.toFixed(3)} ms, mean CPU time per call ${ws.cpuPerSmall.toFixed(3)} ms`);
  for (const d of peers) {
    const sp = speeds.get(d.name)!;
    lines.push(`- speed vs ${d.name}: ${sp.throughput.toFixed(1)} MB/s (${sp.cpuThroughput.toFixed(1)} MB/s per CPU second), p99 ${sp.p99.toFixed(3)} ms; warden faster per CPU second: ${ws.cpuThroughput > sp.cpuThroughput ? 'yes' : '**no**'}`);
  }
  const report = lines.join('\n') + '\n';
  writeFileSync(RESULTS_FILE, report);
  // The same report as a section of bench/RESULTS.md (headings one level down).
  writeScannerSection(BENCH_RESULTS_FILE, report.replace(/^## /gm, '### ').replace(/^# Directive scanner: evaluation$/m,
    '## Directive scanner (`npm run eval:scanner`; also in bench/scanner-results.md, method in docs/scanner.md)'));
  process.stdout.write(report);
}

main().catch((error) => {
  process.stderr.write(`eval:scanner failed: ${(error as Error)?.stack ?? error}\n`);
  process.exitCode = 1;
});
