import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { homeMountPoint, hostPathOf, MountPlanError, planMounts, type MountStep } from '../../src/sandbox/mounts.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'warden-mounts-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fs(readOnly: string[], readWrite: string[] = [], includeWorkdir = true) {
  return { include_workdir: includeWorkdir, read_only: readOnly, read_write: readWrite };
}

function dests(steps: MountStep[]): string[] {
  return steps.map((s) => `${s.kind} ${s.dest}`);
}

describe('planMounts', () => {
  test('parents are mounted before children, warden-managed mounts in place', () => {
    const workdir = mkdtempSync(path.join(scratch, 'wd-'));
    mkdirSync(path.join(workdir, '.agent-config'));
    const plan = planMounts({ filesystem: fs(['/usr', '/etc', '/sandbox/.agent-config'], ['/tmp']), workdir, wardenHome: path.join(scratch, 'home') });
    const binds = plan.steps.filter((s) => s.kind !== 'mask-file' && !(s.kind === 'tmpfs' && (s.secret || s.placeholder)));
    assert.deepEqual(dests(binds), [
      'dev /dev', 'tmpfs /dev/shm', 'remount-ro /dev', 'ro-bind /etc', 'proc /proc', 'bind /sandbox', 'tmpfs /tmp', 'ro-bind /usr',
      'ro-bind /sandbox/.agent-config',
    ]);
    const sandboxBind = plan.steps.find((s) => s.dest === '/sandbox');
    assert.deepEqual(sandboxBind, { kind: 'bind', source: workdir, dest: '/sandbox' });
  });

  test('a path in both lists is mounted read-only', () => {
    const plan = planMounts({ filesystem: fs(['/usr'], ['/usr'], false), wardenHome: '/nonexistent' });
    assert.deepEqual(plan.steps.filter((s) => s.dest === '/usr').map((s) => s.kind), ['ro-bind']);
  });

  test('a whole-root bind is followed by /proc, /dev and /tmp so they are not hidden', () => {
    const plan = planMounts({ filesystem: fs(['/'], [], false), wardenHome: '/nonexistent' });
    const order = plan.steps.map((s) => s.dest);
    assert.equal(order[0], '/');
    for (const managed of ['/proc', '/dev', '/tmp']) assert.ok(order.indexOf(managed) > 0, managed);
  });

  test('missing host paths are skipped with a reason, not failed', () => {
    const plan = planMounts({ filesystem: fs(['/does/not/exist'], [], false), wardenHome: '/nonexistent' });
    assert.deepEqual(plan.skipped, [{ path: '/does/not/exist', reason: 'does not exist on this host' }]);
  });

  test('symlinked system directories are recreated as links', () => {
    const plan = planMounts({ filesystem: fs(['/usr', '/bin'], [], false), wardenHome: '/nonexistent' });
    const bin = plan.steps.find((s) => s.dest === '/bin');
    if (bin?.kind === 'symlink') assert.equal(hostPathOf(plan, '/bin/sh'), '/usr/bin/sh');
    else assert.equal(bin?.kind, 'ro-bind', 'on a system without merged /usr /bin is a directory');
  });

  test('a planted symlink under /sandbox that leads outside the workdir is refused', () => {
    const workdir = mkdtempSync(path.join(scratch, 'wd-'));
    symlinkSync('/etc', path.join(workdir, '.agent-config'));
    assert.throws(() => planMounts({ filesystem: fs(['/sandbox/.agent-config']), workdir, wardenHome: '/nonexistent' }), MountPlanError);
    // Control: a real directory there is accepted.
    rmSync(path.join(workdir, '.agent-config'));
    mkdirSync(path.join(workdir, '.agent-config'));
    assert.doesNotThrow(() => planMounts({ filesystem: fs(['/sandbox/.agent-config']), workdir, wardenHome: '/nonexistent' }));
  });

  test('WARDEN_HOME and home secrets inside a bound tree are masked', () => {
    const root = mkdtempSync(path.join(scratch, 'tree-'));
    const wardenHome = path.join(root, 'state');
    mkdirSync(wardenHome);
    const plan = planMounts({ filesystem: fs([root], [], false), wardenHome });
    assert.deepEqual(plan.steps.filter((s) => s.kind === 'tmpfs' && s.dest === wardenHome).length, 1);
    // Control: when WARDEN_HOME is not under any bind, nothing is masked for it.
    const other = planMounts({ filesystem: fs(['/usr'], [], false), wardenHome });
    assert.equal(other.steps.some((s) => s.dest === wardenHome), false);
  });

  test('secret files get an unreadable node, and hostPathOf does not see through masks', () => {
    const plan = planMounts({ filesystem: fs(['/etc'], [], false), wardenHome: '/nonexistent' });
    assert.ok(plan.steps.some((s) => s.kind === 'mask-file' && s.dest === '/etc/shadow'));
    assert.equal(hostPathOf(plan, '/etc/shadow'), undefined);
    assert.equal(hostPathOf(plan, '/etc/hostname'), '/etc/hostname');
  });

  test('include_workdir without a workdir is an error', () => {
    assert.throws(() => planMounts({ filesystem: fs(['/usr']), wardenHome: '/x' }), /no workdir/);
  });

  test('files work as bind sources', () => {
    const file = path.join(scratch, 'single-file');
    writeFileSync(file, 'x');
    const plan = planMounts({ filesystem: fs([file], [], false), wardenHome: '/nonexistent' });
    assert.ok(plan.steps.some((s) => s.kind === 'ro-bind' && s.dest === file));
  });
});

test('a symlink planted below another writable path is refused too, not followed', () => {
  const rw = mkdtempSync(path.join(scratch, 'rw-'));
  const elsewhere = mkdtempSync(path.join(scratch, 'private-'));
  mkdirSync(path.join(elsewhere, 'cfg'));
  symlinkSync(elsewhere, path.join(rw, 'sub'));
  const policy = { include_workdir: false, read_only: [path.join(rw, 'sub', 'cfg')], read_write: [rw] };
  assert.throws(() => planMounts({ filesystem: policy, wardenHome: '/nonexistent' }), /symbolic link below the writable path/);
  // Control: a real directory at the same place is bound.
  rmSync(path.join(rw, 'sub'));
  mkdirSync(path.join(rw, 'sub', 'cfg'), { recursive: true });
  const plan = planMounts({ filesystem: policy, wardenHome: '/nonexistent' });
  assert.ok(plan.steps.some((s) => s.kind === 'ro-bind' && s.dest === path.join(rw, 'sub', 'cfg')));
});

test("the sandbox's home is /home/NAME unless the policy binds the host's /home without NAME in it", () => {
  const none = { read_only: ['/usr', '/etc'], read_write: [] };
  assert.equal(homeMountPoint(none, '/home/sandbox'), '/home/sandbox');
  assert.equal(homeMountPoint({ read_only: ['/home/sandbox'], read_write: [] }, '/home/sandbox'), '/home/sandbox', 'its own home replaces the bind');
  assert.equal(homeMountPoint({ read_only: ['/tmp'], read_write: [] }, '/home/sandbox'), '/home/sandbox');
  const missing = `/home/warden-no-such-user-${process.pid}`;
  assert.equal(homeMountPoint({ read_only: ['/home'], read_write: [] }, missing), `/tmp/home-warden-no-such-user-${process.pid}`);
  assert.equal(homeMountPoint({ read_only: [], read_write: ['/'] }, missing), `/tmp/home-warden-no-such-user-${process.pid}`);
});

describe('planMounts: extra binds (a blueprint\'s layer)', () => {
  const layer = mkdtempSync(path.join(scratch, 'layer-'));

  test('a layer is bound read-only at its own place, after its parents, and is not a host secret', () => {
    const plan = planMounts({ filesystem: fs(['/usr'], [], false), wardenHome: path.dirname(layer), binds: [{ source: layer, dest: '/opt/warden/agent' }] });
    assert.deepEqual(plan.steps.find((s) => s.dest === '/opt/warden/agent'), { kind: 'ro-bind', source: layer, dest: '/opt/warden/agent' });
    // Below WARDEN_HOME, yet not masked: what is masked is WARDEN_HOME where a bind would show it.
    assert.equal(plan.steps.some((s) => s.dest.startsWith('/opt/warden/agent/') || (s.kind === 'tmpfs' && s.dest === '/opt/warden/agent')), false);
  });

  test('writable only when asked (the setup sandbox of provisioning)', () => {
    const plan = planMounts({ filesystem: fs(['/usr'], [], false), wardenHome: '/nonexistent', binds: [{ source: layer, dest: '/opt/warden/agent', writable: true }] });
    assert.equal(plan.steps.find((s) => s.dest === '/opt/warden/agent')?.kind, 'bind');
  });

  test('a bind where the policy binds the host, or in warden\'s own places, is refused', () => {
    for (const [policy, dest] of [[['/opt'], '/opt/warden/agent'], [['/'], '/opt/warden/agent'], [['/opt/warden/agent/x'], '/opt/warden/agent']] as const) {
      assert.throws(() => planMounts({ filesystem: fs([...policy], [], false), wardenHome: '/nonexistent', binds: [{ source: layer, dest }] }),
        (error: Error) => error instanceof MountPlanError && /filesystem_policy binds/.test(error.message), `${policy} ${dest}`);
    }
    for (const dest of ['/', '/tmp/layer', '/proc/x', '/sandbox/layer', '/dev/layer', 'relative']) {
      assert.throws(() => planMounts({ filesystem: fs(['/usr']), workdir: layer, wardenHome: '/nonexistent', binds: [{ source: layer, dest }] }), MountPlanError, dest);
    }
  });
});
