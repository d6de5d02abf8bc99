import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs, FD } from '../../src/sandbox/bwrap.js';

const base = {
  hostname: 'warden-t', uid: 1000, gid: 1000, cwd: '/sandbox', env: { PATH: '/usr/bin' }, command: ['/usr/bin/true', '--flag'],
};

test('every namespace is unshared and privileges are dropped', () => {
  const args = bwrapArgs({ ...base, plan: { steps: [], skipped: [] } });
  for (const flag of ['--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent', '--disable-userns', '--new-session', '--clearenv']) {
    assert.ok(args.includes(flag), flag);
  }
  assert.deepEqual(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
  assert.deepEqual(args.slice(args.indexOf('--seccomp'), args.indexOf('--seccomp') + 2), ['--seccomp', String(FD.seccomp)]);
  assert.deepEqual(args.slice(-3), ['--', '/usr/bin/true', '--flag']);
});

test('mount steps keep their order and masks come after binds; root is remounted read-only last', () => {
  const args = bwrapArgs({ ...base, plan: { skipped: [], steps: [
    { kind: 'ro-bind', source: '/', dest: '/' },
    { kind: 'proc', dest: '/proc' },
    { kind: 'tmpfs', dest: '/root/.ssh', secret: true },
    { kind: 'mask-file', dest: '/etc/shadow' },
  ] } });
  const at = (flag: string, value: string) => args.findIndex((a, i) => a === flag && args[i + 1] === value);
  assert.ok(at('--ro-bind', '/') < at('--proc', '/proc'));
  assert.ok(at('--proc', '/proc') < at('--tmpfs', '/root/.ssh'));
  assert.ok(args.lastIndexOf('/etc/shadow') > at('--tmpfs', '/root/.ssh'));
  assert.ok(at('--remount-ro', '/') > args.lastIndexOf('/etc/shadow'));
});
