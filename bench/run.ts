// `npm run bench`: runs every benchmark and writes bench/RESULTS.md (keeping the section
// `npm run eval:scanner` writes there).
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchSandbox } from './sandbox.js';
import { writeBenchTable } from './results-file.js';
import { renderTable, type Row } from './table.js';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<void> {
  const only = process.argv[2];
  const rows: Row[] = [];
  if (!only || only === 'sandbox') {
    log('sandbox start-up and memory ...');
    rows.push(...await benchSandbox(log));
  }
  if (!only || only === 'egress') {
    const egressModule = path.resolve('dist/bench/egress.js');
    if (existsSync(egressModule)) {
      log('egress proxy ...');
      const { benchEgress } = await import(egressModule) as { benchEgress: (log: (l: string) => void) => Promise<Row[]> };
      rows.push(...await benchEgress(log));
    }
  }
  if (!only || only === 'inference') {
    log('inference.local ...');
    const { benchInference } = await import('./inference.js');
    rows.push(...await benchInference(log));
  }
  if (!only || only === 'audit') {
    log('audit log ...');
    const { benchAudit } = await import('./audit.js');
    rows.push(...await benchAudit(log));
  }
  if (!only || only === 'gateway') {
    log('gateway ...');
    const { benchGateway } = await import('./gateway.js');
    rows.push(...await benchGateway(log));
  }
  if (!only || only === 'approvals') {
    log('operator approvals ...');
    const { benchApprovals } = await import('./approvals.js');
    rows.push(...await benchApprovals(log));
  }
  if (!only || only === 'load') {
    log('gateway under load and under attack ...');
    const { benchLoad } = await import('./load.js');
    rows.push(...await benchLoad(log));
  }
  if (!only || only === 'launch') {
    log('warden launch openclaw (the real OpenClaw; the first run provisions it from the npm registry) ...');
    const { benchLaunch } = await import('./launch.js');
    rows.push(...await benchLaunch(log));
  }
  const context = [
    `date: ${new Date().toISOString()}`,
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
    `node ${process.version}; run as ${process.getuid?.() === 0 ? 'root (sandboxes drop to an unprivileged uid)' : 'an unprivileged user'}`,
    'times are wall-clock medians over interleaved runs in the same process; ratios compare contenders from this same run',
  ];
  const table = renderTable(rows, context);
  if (!only) writeBenchTable(path.resolve('bench/RESULTS.md'), table);
  process.stdout.write(table);
  const missed = rows.filter((r) => r.pass === false);
  if (missed.length > 0) log(`targets missed: ${missed.map((r) => r.name).join('; ')}`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
});
