import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { leaseRunUid, leaseSandboxUid, releaseSandboxUid, uidRange, UidLeaseError } from '../../src/sandbox/uids.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-uids-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const range = { base: 2_000_000, size: 4 };
let counter = 0;
function registry(): string {
  return path.join(scratch, `registry-${++counter}`);
}

describe('uid leases', () => {
  test('a named sandbox keeps its uid across leases; another sandbox or home gets another', () => {
    const dir = registry();
    const home = path.join(scratch, 'home-a');
    mkdirSync(home, { recursive: true });
    const first = leaseSandboxUid(home, 'dev', dir, range);
    assert.deepEqual(leaseSandboxUid(home, 'dev', dir, range), first);
    const other = leaseSandboxUid(home, 'other', dir, range);
    assert.notEqual(other.uid, first.uid);
    mkdirSync(path.join(scratch, 'home-b'), { recursive: true });
    assert.notEqual(leaseSandboxUid(path.join(scratch, 'home-b'), 'dev', dir, range).uid, first.uid);
    assert.equal(first.gid, first.uid);
  });

  test('runs never start as the uid the run before them had (the range goes round first)', () => {
    const dir = registry();
    const seen = [0, 1, 2, 3, 4].map(() => {
      const lease = leaseRunUid('r', dir, range);
      lease.release();
      return lease.uid;
    });
    assert.deepEqual(seen, [2_000_000, 2_000_001, 2_000_002, 2_000_003, 2_000_000]);
  });

  test('a full range is an error that says what to do; releasing a purged sandbox frees its uid', () => {
    const dir = registry();
    const home = path.join(scratch, 'home-full');
    mkdirSync(home, { recursive: true });
    for (const name of ['a', 'b', 'c', 'd']) leaseSandboxUid(home, name, dir, range);
    assert.throws(() => leaseSandboxUid(home, 'e', dir, range), (error: Error) => error instanceof UidLeaseError && /purge sandboxes/.test(error.message));
    releaseSandboxUid(home, 'b', dir, range);
    assert.equal(leaseSandboxUid(home, 'e', dir, range).uid, range.base + 1);
  });

  test('stale leases are taken back: a dead run\'s, and a sandbox\'s whose WARDEN_HOME is gone', async () => {
    const dir = registry();
    const home = path.join(scratch, 'home-gone');
    mkdirSync(home, { recursive: true });
    for (const name of ['a', 'b', 'c']) leaseSandboxUid(home, name, dir, range);
    // A run lease held by a process that has exited.
    const child = spawn(process.execPath, ['-e', `
      import(${JSON.stringify(new URL('../../src/sandbox/uids.js', import.meta.url).href)}).then((m) => {
        m.leaseRunUid('dead', ${JSON.stringify(dir)}, ${JSON.stringify(range)});
      });`], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const deadRunUid = range.base + 3;
    assert.equal(JSON.parse(readFileSync(path.join(dir, String(deadRunUid)), 'utf8')).holder.name, 'dead', 'the run left its lease behind');
    assert.equal(leaseSandboxUid(home, 'd', dir, range).uid, deadRunUid, 'the dead run\'s uid is taken back');
    assert.throws(() => leaseSandboxUid(home, 'e', dir, range), UidLeaseError, 'now all four are held');
    rmSync(home, { recursive: true });
    const lease = leaseRunUid('alive', dir, range);
    assert.ok(lease.uid >= range.base && lease.uid < range.base + range.size, 'a gone WARDEN_HOME frees its sandboxes\' uids');
    lease.release();
  });

  test('a lock left by a killed process is broken; a run\'s lease names its process and goes with release()', () => {
    const dir = registry();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '.lock'), '999999999 1');
    const lease = leaseRunUid('x', dir, range);
    const file = path.join(dir, String(lease.uid));
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).holder.pid, process.pid);
    lease.release();
    assert.ok(!readdirSync(dir).includes('.lock'));
    assert.ok(!readdirSync(dir).includes(String(lease.uid)));
  });

  test('WARDEN_UID_BASE is checked', () => {
    assert.deepEqual(uidRange({}), { base: 1_800_000_000, size: 65_536 });
    assert.deepEqual(uidRange({ WARDEN_UID_BASE: '3000000' }), { base: 3_000_000, size: 65_536 });
    for (const bad of ['0', '1000', 'abc', '2147480000']) assert.throws(() => uidRange({ WARDEN_UID_BASE: bad }), UidLeaseError, bad);
  });
});
