// Audit log throughput on a real SQLite file in a temporary WARDEN_HOME (issue 4, item 7):
// append rate with the hash chain (target >= 20,000 records/s, through the batching writer the
// gateway uses for proxy verdicts), single-record append rate (one fsync each: the CLI path),
// and verify rate over the whole log (target >= 200,000 records/s).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, createAuditWriter, exportAudit, verifyAudit, type AuditEntry } from '../src/audit/index.js';
import type { Store } from '../src/store/index.js';
// open.js rather than index.js: only a benchmark may open a store with synchronous=NORMAL.
import { openStore } from '../src/store/open.js';
import { median, type Row } from './table.js';

const GROUP = 'audit';
const BATCHED_RECORDS = 100_000;
const SINGLE_RECORDS = 1_000;
const RUNS = 3;

/** About the size and shape of a proxy verdict (src/egress EgressEvent). */
function verdict(i: number): AuditEntry {
  return {
    kind: 'egress.verdict',
    sandbox: 'bench',
    actor: 'proxy',
    payload: {
      verdict: i % 7 === 0 ? 'deny' : 'allow',
      code: i % 7 === 0 ? 'no_matching_endpoint' : 'allowed',
      layer: 'connect',
      binary: { path: '/usr/bin/python3', pid: 4000 + (i % 100), ancestors: ['/usr/bin/bash', '/usr/local/bin/claude'] },
      destination: { host: `files${i % 10}.pythonhosted.org`, port: 443, ip: '151.101.64.223' },
      policy: 'pypi',
      rule: 'access full',
      reason: i % 7 === 0 ? 'no endpoint matches files.pythonhosted.org:443' : 'allowed by network_policies.pypi',
      latency_ms: 0.42,
    },
  };
}

function perSecond(count: number, ms: number): number {
  return count / (ms / 1000);
}

async function batchedAppendRate(store: Store): Promise<number> {
  const writer = createAuditWriter(store);
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < BATCHED_RECORDS; i++) {
    pending.push(writer.append(verdict(i)));
    // Producers are network events: yield to the event loop now and then, as the proxy would.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(pending);
  await writer.close();
  return perSecond(BATCHED_RECORDS, performance.now() - start);
}

function singleAppendRate(store: Store): number {
  const start = performance.now();
  for (let i = 0; i < SINGLE_RECORDS; i++) appendAudit(store, verdict(i));
  return perSecond(SINGLE_RECORDS, performance.now() - start);
}

function tempHome(label: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), `warden-bench-audit-${label}-`)), 'home');
}

function spread(values: number[]): string {
  return `median of ${values.length}, ${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
}

export async function benchAudit(log: (line: string) => void): Promise<Row[]> {
  const home = tempHome('full');
  const normalHome = tempHome('normal');
  const store = openStore(home);
  const normal = openStore(normalHome, {}, { synchronous: 'NORMAL' });
  try {
    const batched: number[] = [];
    const single: number[] = [];
    const singleNormal: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      log(`audit: run ${run + 1}/${RUNS}: ${BATCHED_RECORDS} batched appends, ${SINGLE_RECORDS} single appends (FULL and NORMAL) ...`);
      batched.push(await batchedAppendRate(store));
      single.push(singleAppendRate(store));
      singleNormal.push(singleAppendRate(normal));
    }
    const total = store.auditRows.count();
    const verify: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      log(`audit: verify ${total} records, run ${run + 1}/${RUNS} ...`);
      const start = performance.now();
      const result = verifyAudit(store);
      const ms = performance.now() - start;
      if (!result.ok || result.records !== total) throw new Error(`benchmark log failed verification: ${JSON.stringify(result)}`);
      verify.push(perSecond(total, ms));
    }
    log(`audit: export ${total} records as JSONL ...`);
    let bytes = 0;
    const exportStart = performance.now();
    await exportAudit(store, 'jsonl', (line) => { bytes += line.length; });
    const exportRate = perSecond(total, performance.now() - exportStart);

    const batchedRate = median(batched);
    const verifyRate = median(verify);
    return [
      { group: GROUP, name: 'append rate with hash chain, batched (AuditWriter, synchronous=FULL)', value: batchedRate, unit: 'records/s', target: '>= 20000', pass: batchedRate >= 20_000, note: `${BATCHED_RECORDS} records per run, ${spread(batched)}` },
      { group: GROUP, name: 'append rate, one record per transaction (appendAudit, synchronous=FULL)', value: median(single), unit: 'records/s', note: `one fsync per record; ${spread(single)}` },
      { group: GROUP, name: 'reference: one record per transaction with synchronous=NORMAL (not used)', value: median(singleNormal), unit: 'records/s', note: `not durable across power loss; ${spread(singleNormal)}` },
      { group: GROUP, name: 'verify rate', value: verifyRate, unit: 'records/s', target: '>= 200000', pass: verifyRate >= 200_000, note: `${total} records, ${spread(verify)}` },
      { group: GROUP, name: 'JSONL export rate', value: exportRate, unit: 'records/s', note: `${(bytes / total).toFixed(0)} bytes/record` },
    ];
  } finally {
    store.close();
    normal.close();
    for (const dir of [home, normalHome]) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
}
