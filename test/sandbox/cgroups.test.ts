// Cgroup detection and setup against fixture trees shaped like /proc and /sys/fs/cgroup, so that
// v1, v2 and "none" are all covered whatever this machine has. (Real cgroups are exercised by the
// e2e isolation tests.)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createSandboxCgroup, detectCgroups } from '../../src/sandbox/cgroups.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-cgroups-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

function fixture(name: string, mountinfo: string[], cgroup: string[]): { proc: string; root: string } {
  const root = path.join(scratch, name);
  const proc = path.join(root, 'proc');
  mkdirSync(path.join(proc, 'self'), { recursive: true });
  writeFileSync(path.join(proc, 'self', 'mountinfo'), mountinfo.map((line) => line.replaceAll('ROOT', root)).join('\n') + '\n');
  writeFileSync(path.join(proc, 'self', 'cgroup'), cgroup.join('\n') + '\n');
  return { proc, root };
}

describe('detectCgroups', () => {
  test('v1: memory, pids and cpu mounted apart, nested below this process\'s own cgroups', { skip: isRoot ? false : 'the fixture directories must be writable like root\'s' }, () => {
    const { proc, root } = fixture('v1', [
      '30 25 0:26 / ROOT/cg/memory rw,relatime - cgroup cgroup rw,memory',
      '31 25 0:27 / ROOT/cg/pids rw,relatime - cgroup cgroup rw,pids',
      '32 25 0:28 / ROOT/cg/cpu rw,relatime - cgroup cgroup rw,cpu',
      '33 25 0:29 / ROOT/cg/cpuset rw,relatime - cgroup cgroup rw,cpuset',
    ], ['4:memory:/session', '3:pids:/', '2:cpu:/', '1:cpuset:/', '0::/']);
    for (const dir of ['memory/session', 'pids', 'cpu']) mkdirSync(path.join(root, 'cg', dir), { recursive: true });
    const support = detectCgroups(proc);
    assert.deepEqual(support, { kind: 'v1', parents: { memory: path.join(root, 'cg/memory/session'), pids: path.join(root, 'cg/pids'), cpu: path.join(root, 'cg/cpu') } });
  });

  test('v1 without the cpu controller, and no v2: none, with the reason', () => {
    const { proc } = fixture('v1-partial', [
      '30 25 0:26 / ROOT/cg/memory rw - cgroup cgroup rw,memory',
      '31 25 0:27 / ROOT/cg/pids rw - cgroup cgroup rw,pids',
    ], ['4:memory:/', '3:pids:/']);
    const support = detectCgroups(proc);
    assert.equal(support.kind, 'none');
    assert.match(support.kind === 'none' ? support.reason : '', /cgroup v2: not mounted; cgroup v1: no cpu controller mounted/);
  });

  test('v2 whose controllers are bound to v1 (this kind of VM) is not used', () => {
    const { proc, root } = fixture('v2-empty', ['40 25 0:30 / ROOT/unified rw - cgroup2 cgroup2 rw'], ['0::/']);
    mkdirSync(path.join(root, 'unified'), { recursive: true });
    writeFileSync(path.join(root, 'unified', 'cgroup.controllers'), '\n');
    const support = detectCgroups(proc);
    assert.equal(support.kind, 'none');
    assert.match(support.kind === 'none' ? support.reason : '', /controllers memory, pids, cpu are not available/);
  });

  test('v2 with the controllers', () => {
    const { proc, root } = fixture('v2', ['40 25 0:30 / ROOT/fs/cgroup rw - cgroup2 cgroup2 rw'], ['0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope']);
    const base = path.join(root, 'fs', 'cgroup');
    const delegated = path.join(base, 'user.slice/user-1000.slice/user@1000.service/app.slice');
    mkdirSync(path.join(delegated, 'x.scope'), { recursive: true });
    writeFileSync(path.join(base, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(path.join(delegated, 'cgroup.subtree_control'), 'cpu memory pids\n');
    const support = detectCgroups(proc);
    if (isRoot) assert.deepEqual(support, { kind: 'v2', parent: path.join(base, 'warden') });
    else assert.deepEqual(support, { kind: 'v2', parent: delegated });
  });
});

describe('createSandboxCgroup', () => {
  test('v2: controllers passed down, one directory with memory.max, pids.max and cpu.max', () => {
    const base = path.join(scratch, 'v2-create');
    mkdirSync(base, { recursive: true });
    writeFileSync(path.join(base, 'cgroup.subtree_control'), 'cpu');
    const parent = path.join(base, 'warden');
    const cgroup = createSandboxCgroup({ kind: 'v2', parent }, 's1', { memoryBytes: 512 * 1024 * 1024, cpus: 1.5, pids: 99 });
    const dir = path.join(parent, 'warden-s1');
    assert.deepEqual(cgroup.directories, [dir]);
    // The missing controllers are enabled where the sandbox's cgroup gets its interface files.
    assert.equal(readFileSync(path.join(base, 'cgroup.subtree_control'), 'utf8'), '+memory +pids');
    assert.equal(readFileSync(path.join(parent, 'cgroup.subtree_control'), 'utf8'), '+memory +pids +cpu');
    assert.equal(readFileSync(path.join(dir, 'memory.max'), 'utf8'), String(512 * 1024 * 1024));
    assert.equal(readFileSync(path.join(dir, 'pids.max'), 'utf8'), '99');
    assert.equal(readFileSync(path.join(dir, 'cpu.max'), 'utf8'), '150000 100000');
    assert.equal(cgroup.procsFds.length, 1);
    cgroup.closeFds();
    assert.throws(() => createSandboxCgroup({ kind: 'v2', parent }, 'bad/name', { memoryBytes: 1, cpus: 1, pids: 1 }), /bad cgroup name/);
  });

  test('v1: one directory per controller with its limits', () => {
    const base = path.join(scratch, 'v1-create');
    const parents = { memory: path.join(base, 'memory'), pids: path.join(base, 'pids'), cpu: path.join(base, 'cpu') };
    // Plain directories stand in for cgroupfs: mkdir makes the directory, the limit files are written, cgroup.procs must exist.
    for (const parent of Object.values(parents)) mkdirSync(parent, { recursive: true });
    const cgroup = createSandboxCgroup({ kind: 'v1', parents }, 'sb', { memoryBytes: 300 * 1024 * 1024, cpus: 0.5, pids: 77 });
    assert.equal(readFileSync(path.join(parents.memory, 'warden/sb/memory.limit_in_bytes'), 'utf8'), String(300 * 1024 * 1024));
    assert.equal(readFileSync(path.join(parents.pids, 'warden/sb/pids.max'), 'utf8'), '77');
    assert.equal(readFileSync(path.join(parents.cpu, 'warden/sb/cpu.cfs_quota_us'), 'utf8'), '50000');
    assert.equal(readFileSync(path.join(parents.cpu, 'warden/sb/cpu.cfs_period_us'), 'utf8'), '100000');
    assert.equal(cgroup.procsFds.length, 3);
    cgroup.closeFds();
    assert.ok(existsSync(path.join(parents.memory, 'warden/sb')));
  });
});
