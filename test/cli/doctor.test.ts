import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { jsonResult, SKIP_NO_BWRAP, tempDir, warden } from '../e2e/helpers.js';

interface DoctorReport { checks: Array<{ name: string; ok: boolean; detail: string; fix?: string }> }

test('doctor checks every prerequisite and passes on a working machine', { skip: SKIP_NO_BWRAP }, () => {
  const home = tempDir('warden-doctor-');
  try {
    chmodSync(home.dir, 0o711);
    const r = warden(['doctor', '--json'], { env: { WARDEN_HOME: home.dir } });
    const report = jsonResult<DoctorReport>(r);
    assert.deepEqual(report.checks.map((c) => c.name),
      ['bwrap', 'nsenter', 'native helpers', 'user namespaces', 'sandbox uid', 'cgroups', 'sandbox + seccomp', 'landlock', 'WARDEN_HOME', 'audit log']);
    assert.equal(r.status, report.checks.every((c) => c.ok) ? 0 : 1);
    for (const name of ['native helpers', 'sandbox + seccomp', 'WARDEN_HOME']) assert.ok(report.checks.find((c) => c.name === name)?.ok, `${name}: ${r.stdout}`);
  } finally {
    home.cleanup();
  }
});

test('doctor reports a WARDEN_HOME others can read, and its fix is what the gateway itself does', { skip: SKIP_NO_BWRAP }, async () => {
  const area = tempDir('warden-doctor-');
  const home = path.join(area.dir, 'home');
  try {
    chmodSync(area.dir, 0o711);
    assert.equal(warden(['gateway', 'start'], { env: { WARDEN_HOME: home } }).status, 0);
    // The gateway made WARDEN_HOME: doctor agrees with the mode it chose.
    const fresh = jsonResult<DoctorReport>(warden(['doctor', '--json'], { env: { WARDEN_HOME: home } }));
    assert.ok(fresh.checks.find((c) => c.name === 'WARDEN_HOME')?.ok, JSON.stringify(fresh.checks));
    chmodSync(home, 0o755);
    const r = warden(['doctor'], { env: { WARDEN_HOME: home } });
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`FAIL  WARDEN_HOME: ${home} is readable or writable by others \\(mode 755\\)\\n      fix: chmod 711 ${home}`));
    // Following the fix keeps warden working (it is the mode the gateway sets).
    chmodSync(home, 0o711);
    const created = warden(['sandbox', 'create', 'doc', '--json'], { env: { WARDEN_HOME: home } });
    assert.equal(created.status, 0, created.stderr);
    assert.equal(warden(['sandbox', 'delete', 'doc', '--purge'], { env: { WARDEN_HOME: home } }).status, 0);
  } finally {
    warden(['gateway', 'stop'], { env: { WARDEN_HOME: home } });
    area.cleanup();
  }
});

test('as root, doctor and the gateway share one rule: a WARDEN_HOME the sandbox uids cannot traverse is reported, and the gateway repairs it', { skip: SKIP_NO_BWRAP || (process.getuid?.() === 0 ? false : 'needs root') }, () => {
  const area = tempDir('warden-doctor-');
  const home = path.join(area.dir, 'home');
  try {
    chmodSync(area.dir, 0o711);
    assert.equal(warden(['gateway', 'start'], { env: { WARDEN_HOME: home } }).status, 0);
    chmodSync(home, 0o700);
    const r = warden(['doctor'], { env: { WARDEN_HOME: home } });
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`FAIL  WARDEN_HOME: ${home} is not traversable by the sandboxes' uids \\(mode 700\\).*\\n      fix: chmod 711 ${home}`));
    // Even without the fix, the running gateway applies the rule before it starts a sandbox.
    const created = warden(['sandbox', 'create', 'tight', '--json'], { env: { WARDEN_HOME: home } });
    assert.equal(created.status, 0, created.stderr + created.stdout);
    assert.equal(statSync(home).mode & 0o777, 0o711);
    assert.equal(warden(['sandbox', 'delete', 'tight', '--purge'], { env: { WARDEN_HOME: home } }).status, 0);
  } finally {
    warden(['gateway', 'stop'], { env: { WARDEN_HOME: home } });
    area.cleanup();
  }
});
