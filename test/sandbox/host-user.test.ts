import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSandboxUser, sandboxAccountFiles, SandboxUserError } from '../../src/sandbox/host-user.js';

const isRoot = process.getuid?.() === 0;

describe('resolveSandboxUser', () => {
  test('root is refused by name and by number', () => {
    for (const p of [{ run_as_user: 'root' }, { run_as_user: '0' }, { run_as_group: 'root' }, { run_as_group: '0' }]) {
      assert.throws(() => resolveSandboxUser(p), SandboxUserError);
    }
    assert.doesNotThrow(() => resolveSandboxUser({ run_as_user: 'sandbox' }));
  });

  test('as root, drops to an unprivileged uid; WARDEN_SANDBOX_UID overrides', { skip: isRoot ? false : 'only meaningful as root' }, () => {
    const user = resolveSandboxUser({}, {});
    assert.equal(user.dropsPrivileges, true);
    assert.ok(user.uid > 0 && user.gid > 0);
    const custom = resolveSandboxUser({}, { WARDEN_SANDBOX_UID: '4242', WARDEN_SANDBOX_GID: '4343' });
    assert.deepEqual([custom.uid, custom.gid], [4242, 4343]);
    assert.throws(() => resolveSandboxUser({}, { WARDEN_SANDBOX_UID: '0' }), /not a usable id/);
    assert.throws(() => resolveSandboxUser({}, { WARDEN_SANDBOX_UID: 'abc' }), /not a usable id/);
  });

  test('without root, the sandbox keeps the caller uid', { skip: isRoot ? 'runs as root' : false }, () => {
    const user = resolveSandboxUser({}, {});
    assert.equal(user.uid, process.getuid!());
    assert.equal(user.dropsPrivileges, false);
  });
});

test('sandbox account files name the sandbox user and nothing of the host', () => {
  const files = sandboxAccountFiles({ uid: 1234, gid: 1235, name: 'sandbox', group: 'sandbox', dropsPrivileges: true });
  assert.equal(files.passwd.split('\n')[0], 'sandbox:x:1234:1235:warden sandbox:/sandbox:/bin/sh');
  assert.doesNotMatch(files.passwd, /^root:/m);
  assert.match(files.group, /^sandbox:x:1235:$/m);
});
