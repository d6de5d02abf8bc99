import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { test } from 'node:test';
import { SKIP_NO_BWRAP, tempDir, warden } from '../e2e/helpers.js';

interface DoctorReport { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string; fix?: string }> }

test('doctor checks every prerequisite and passes on a working machine', { skip: SKIP_NO_BWRAP }, () => {
  const home = tempDir('warden-doctor-');
  try {
    chmodSync(home.dir, 0o700);
    const r = warden(['doctor', '--json'], { env: { WARDEN_HOME: home.dir } });
    const report = JSON.parse(r.stdout) as DoctorReport;
    assert.deepEqual(report.checks.map((c) => c.name),
      ['bwrap', 'prlimit', 'nsenter', 'user namespaces', 'sandbox uid', 'sandbox + seccomp', 'landlock', 'WARDEN_HOME']);
    assert.equal(r.status, report.ok ? 0 : 1);
    assert.ok(report.checks.find((c) => c.name === 'sandbox + seccomp')?.ok, r.stdout);
  } finally {
    home.cleanup();
  }
});

test('doctor reports a WARDEN_HOME others can read, with the fix, and exits 1', () => {
  const home = tempDir('warden-doctor-');
  try {
    chmodSync(home.dir, 0o755);
    const r = warden(['doctor'], { env: { WARDEN_HOME: home.dir } });
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`FAIL  WARDEN_HOME: ${home.dir} is readable by others \\(mode 755\\)\\n      fix: chmod 700 ${home.dir}`));
  } finally {
    home.cleanup();
  }
});
