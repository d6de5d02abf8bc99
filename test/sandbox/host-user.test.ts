import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSandboxUser, sandboxAccountFiles, SandboxUserError } from '../../src/sandbox/host-user.js';

const isRoot = process.getuid?.() === 0;

describe('resolveSandboxUser', () => {
  test('root is refused by name and by number', () => {
    for (const p of [{ run_as_user: 'root' }, { run_as_user: '0' }, { run_as_group: 'root' }, { run_as_group: '0' }]) {
      assert.throws(() => resolveSandboxUser(p, { uid: 5000, gid: 5000 }), SandboxUserError);
    }
    assert.doesNotThrow(() => resolveSandboxUser({ run_as_user: 'sandbox' }, { uid: 5000, gid: 5000 }));
  });

  test('as root, runs as the leased uid, and refuses to start without one or with 0', { skip: isRoot ? false : 'only meaningful as root' }, () => {
    const user = resolveSandboxUser({}, { uid: 1_800_000_007, gid: 1_800_000_007 });
    assert.equal(user.dropsPrivileges, true);
    assert.deepEqual([user.uid, user.gid], [1_800_000_007, 1_800_000_007]);
    assert.throws(() => resolveSandboxUser({}), SandboxUserError);
    assert.throws(() => resolveSandboxUser({}, { uid: 0, gid: 5 }), SandboxUserError);
    assert.throws(() => resolveSandboxUser({}, { uid: 5, gid: 0 }), SandboxUserError);
  });

  test('without root, the sandbox keeps the caller uid', { skip: isRoot ? 'runs as root' : false }, () => {
    const user = resolveSandboxUser({});
    assert.equal(user.uid, process.getuid!());
    assert.equal(user.dropsPrivileges, false);
  });
});

test('sandbox account files name the sandbox user and nothing of the host', () => {
  const files = sandboxAccountFiles({ uid: 1234, gid: 1235, name: 'sandbox', group: 'sandbox', dropsPrivileges: true });
  assert.equal(files.passwd.split('\n')[0], 'sandbox:x:1234:1235:warden sandbox:/home/sandbox:/bin/sh');
  assert.doesNotMatch(files.passwd, /^root:/m);
  assert.match(files.group, /^sandbox:x:1235:$/m);
});
