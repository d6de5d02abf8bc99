// The identity service against fixture /proc trees: searches are bounded, sandboxes take turns,
// and a flood from one sandbox is refused at its queue, not served at the others' expense.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { IdentityService, MAX_PENDING_PER_SANDBOX } from '../../src/egress/identity-service.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, remote: string, inode: number): string => `   0: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-idsvc-'));
const service = new IdentityService(2);
after(async () => {
  await service.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/**
 * A /proc tree with `decoys` processes holding `fdsEach` descriptors, then the client (pid 900)
 * holding socket 777 for 127.0.0.1:40000 -> 127.0.0.1:8080. Listed through a cgroup.procs file.
 */
function fixture(name: string, decoys: number, fdsEach: number): { procRoot: string; procs: string } {
  const root = path.join(scratch, name);
  const bin = path.join(root, 'bin');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(bin, 'executable');
  const pids: number[] = [];
  const proc = (pid: number, fds: Record<string, string>) => {
    const d = path.join(root, String(pid));
    fs.mkdirSync(path.join(d, 'fd'), { recursive: true });
    fs.writeFileSync(path.join(d, 'stat'), `${pid} (p) S 1 ${pid} ${pid} 0 -1`);
    fs.symlinkSync(bin, path.join(d, 'exe'));
    for (const [fd, target] of Object.entries(fds)) fs.symlinkSync(target, path.join(d, 'fd', fd));
    pids.push(pid);
  };
  for (let i = 0; i < decoys; i++) proc(1000 + i, Object.fromEntries(Array.from({ length: fdsEach }, (_, fd) => [String(fd), '/dev/null'])));
  proc(900, { '3': 'socket:[777]' });
  fs.mkdirSync(path.join(root, '1', 'net'), { recursive: true });
  fs.writeFileSync(path.join(root, '1', 'net', 'tcp'), HEADER + row('0100007F:9C40', '0100007F:1F90', 777));
  const procs = path.join(root, 'cgroup.procs');
  // Decoys first: a search in listed order would read every one of their descriptors first.
  fs.writeFileSync(procs, [...pids.filter((p) => p !== 900), 900].join('\n') + '\n');
  return { procRoot: root, procs };
}

const connection = { peerAddress: '127.0.0.1', peerPort: 40000, localAddress: '127.0.0.1', localPort: 8080 };

describe('IdentityService', () => {
  test('finds the caller, off the event loop', async () => {
    const fx = fixture('small', 3, 5);
    const identity = await service.identify('small', { connection, netTablePid: 1, candidates: { cgroupProcs: fx.procs }, boundaries: [1], procRoot: fx.procRoot });
    assert.equal(identity.pid, 900);
  });

  test('a search over too many descriptors stops at its limit and refuses (fail closed)', async () => {
    const fx = fixture('heavy', 20, 200);
    await assert.rejects(
      service.identify('heavy', { connection, netTablePid: 1, candidates: { cgroupProcs: fx.procs }, boundaries: [1], procRoot: fx.procRoot, budget: { maxDescriptors: 1000, maxMs: 10_000 } }),
      /identification limit \(1000 descriptors/,
    );
    // With room enough, the same search succeeds: the limit is what refused it.
    const found = await service.identify('heavy', { connection, netTablePid: 1, candidates: { cgroupProcs: fx.procs }, boundaries: [1], procRoot: fx.procRoot, budget: { maxDescriptors: 10_000, maxMs: 10_000 } });
    assert.equal(found.pid, 900);
  });

  test('sandboxes take turns: a sandbox with a long queue does not delay another', async () => {
    const heavy = fixture('queue-heavy', 20, 200);
    const light = fixture('queue-light', 1, 1);
    const order: string[] = [];
    const slow = Array.from({ length: 12 }, () => service.identify('A', { connection, netTablePid: 1, candidates: { cgroupProcs: heavy.procs }, boundaries: [1], procRoot: heavy.procRoot })
      .then(() => order.push('A'), () => order.push('A')));
    const quick = service.identify('B', { connection, netTablePid: 1, candidates: { cgroupProcs: light.procs }, boundaries: [1], procRoot: light.procRoot })
      .then(() => order.push('B'));
    await Promise.all([...slow, quick]);
    assert.ok(order.indexOf('B') <= 2, `B was served after ${order.indexOf('B')} of A's searches: ${order.join('')}`);
  });

  test('a flood of connections from one sandbox is refused at its queue', async () => {
    const heavy = fixture('flood', 20, 200);
    const all = Array.from({ length: MAX_PENDING_PER_SANDBOX + 10 }, () =>
      service.identify('flood', { connection, netTablePid: 1, candidates: { cgroupProcs: heavy.procs }, boundaries: [1], procRoot: heavy.procRoot }).then(() => 'ok', (e: Error) => e.message));
    const results = await Promise.all(all);
    assert.ok(results.filter((r) => /connections waiting to be identified already/.test(r)).length >= 9, results.slice(-12).join('\n'));
  });
});
