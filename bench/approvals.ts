// Operator approvals: time from the operator's approve to the held request's first byte at the
// upstream server (issue 13: p50 < 20 ms), and the gateway's memory with 1,000 pending drafts.
// In-process, like the gateway runs them: a real proxy, checkpoint, store and approvals inbox.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { approvalStage, createCheckpoint } from '../src/checkpoint/index.js';
import { createEgressProxy, createSandboxCA, descendantIdentifier } from '../src/egress/index.js';
import { Approvals, type ApprovalEvent } from '../src/gateway/approvals.js';
import { defaultPolicy, policyLoader } from '../src/policy/index.js';
import { openStore } from '../src/store/index.js';
import { median, percentile, type Row } from './table.js';

const GROUP = 'approvals';
const ROUNDS = 60;
const PENDING = 1000;

export async function benchApprovals(log: (line: string) => void = () => undefined): Promise<Row[]> {
  const loader = await policyLoader();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-approvals-'));
  const store = openStore(path.join(dir, 'home'));
  store.sandboxes.create({ name: 'bench', workdir: dir, policy: defaultPolicy(), author: 'bench', approvalMode: 'ask' });
  const policy = defaultPolicy();
  const approvals = new Approvals({
    store, policyOf: () => policy, withChanges: (p, changes) => loader.applyPolicyChanges(p, changes),
    revise: () => Promise.reject(new Error('not in this benchmark')), audit: () => undefined, log: () => undefined, timeoutMs: 600_000,
  });
  const checkpoint = createCheckpoint({ sandbox: 'bench', policy: () => policy, stages: [approvalStage(() => 'ask')] });
  const proxy = createEgressProxy({ checkpoint, identify: descendantIdentifier(process.pid), ca: createSandboxCA({ name: 'bench' }), hooks: { hold: (ctx) => approvals.hold('bench', ctx) } });
  const { port: proxyPort } = await proxy.listen(0, '127.0.0.1');
  let arrived: (() => void) | undefined;
  const server = http.createServer((_req, res) => {
    arrived?.();
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (server.address() as net.AddressInfo).port;
  const nextEvent = () => new Promise<ApprovalEvent>((resolve) => {
    const off = approvals.subscribe((e) => {
      off();
      resolve(e);
    });
  });
  const viaProxy = (port: number) => new Promise<number>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: `http://127.0.0.1:${port}/`, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
  const rows: Row[] = [];
  try {
    log(`approve -> first byte upstream, ${ROUNDS} rounds ...`);
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const shown = nextEvent();
      const done = viaProxy(upstreamPort);
      const { approval } = await shown;
      const reached = new Promise<number>((resolve) => { arrived = () => resolve(performance.now()); });
      const t0 = performance.now();
      await approvals.approve(approval.id, { always: false }, 'bench');
      times.push((await reached) - t0);
      if ((await done) !== 200) throw new Error('an approved request did not succeed');
    }
    const p50 = median(times);
    rows.push({ group: GROUP, name: 'approve once -> held request\'s first byte upstream, p50', value: p50, unit: 'ms', target: '< 20', pass: p50 < 20, note: `${ROUNDS} rounds, in-process proxy + checkpoint + SQLite inbox` });
    rows.push({ group: GROUP, name: 'approve once -> first byte upstream, p99', value: percentile(times, 99), unit: 'ms' });

    log(`${PENDING} pending drafts ...`);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    const answered: Promise<number>[] = [];
    // Distinct destinations (nothing listens there: held or refused, never dialled): one draft each,
    // the first MAX_HELD_PER_SANDBOX held, the rest refused at once and kept as pending drafts.
    for (let i = 0; i < PENDING; i++) {
      const shown = nextEvent();
      answered.push(viaProxy(20_000 + i));
      await shown;
    }
    (globalThis as { gc?: () => void }).gc?.();
    const after = process.memoryUsage();
    const pending = approvals.list({ sandbox: 'bench', state: 'pending' });
    const held = pending.reduce((n, a) => n + a.waiting, 0);
    const mib = (after.rss - before.rss) / 1024 ** 2;
    rows.push({ group: GROUP, name: `memory with ${PENDING} pending drafts (${held} requests held)`, value: mib, unit: 'MiB', note: `RSS growth of the process (proxy, inbox and the benchmark's own ${held} open client sockets); heap +${((after.heapUsed - before.heapUsed) / 1024 ** 2).toFixed(1)} MiB` });
    for (const a of pending) approvals.deny(a.id, 'bench');
    await Promise.all(answered);
  } finally {
    await proxy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
