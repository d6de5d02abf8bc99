import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs, FD } from '../../src/sandbox/bwrap.js';

const base = {
  hostname: 'warden-t', uid: 1000, gid: 1000, cwd: '/sandbox', env: { PATH: '/usr/bin' }, command: ['/usr/bin/true', '--flag'], firstPinFd: 20,
};
const emptyPlan = { steps: [], skipped: [], placeholders: [], unprotected: [] };

test('every namespace is unshared and privileges are dropped', () => {
  const { args } = bwrapArgs({ ...base, plan: emptyPlan });
  for (const flag of ['--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent', '--disable-userns', '--new-session', '--clearenv']) {
    assert.ok(args.includes(flag), flag);
  }
  assert.deepEqual(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
  assert.deepEqual(args.slice(args.indexOf('--seccomp'), args.indexOf('--seccomp') + 2), ['--seccomp', String(FD.seccomp)]);
  assert.deepEqual(args.slice(-3), ['--', '/usr/bin/true', '--flag']);
});

test('host binds go by pinned descriptor, never by path; each bind has a descriptor of its own', () => {
  const { args, pins } = bwrapArgs({ ...base, plan: { ...emptyPlan, steps: [
    { kind: 'ro-bind', source: '/usr', dest: '/usr' },
    { kind: 'bind', source: '/srv/work', dest: '/sandbox' },
    { kind: 'ro-bind', source: '/srv/work/.git/hooks', dest: '/sandbox/.git/hooks' },
  ] } });
  assert.deepEqual(pins, [{ fd: 20, path: '/usr' }, { fd: 21, path: '/srv/work' }, { fd: 22, path: '/srv/work/.git/hooks' }]);
  assert.ok(!args.includes('--bind') && !args.includes('--ro-bind') || args.filter((a) => a === '--ro-bind').length === 0);
  const at = (flag: string, value: string) => args.findIndex((a, i) => a === flag && args[i + 1] === value);
  assert.deepEqual(args.slice(at('--ro-bind-fd', '20'), at('--ro-bind-fd', '20') + 3), ['--ro-bind-fd', '20', '/usr']);
  assert.deepEqual(args.slice(at('--bind-fd', '21'), at('--bind-fd', '21') + 3), ['--bind-fd', '21', '/sandbox']);
  for (const source of ['/usr', '/srv/work']) assert.ok(!args.includes(source) || args[args.indexOf(source) - 2] !== '--bind', source);
});

test('mount steps keep their order and masks come after binds; root is remounted read-only last', () => {
  const { args } = bwrapArgs({ ...base, plan: { ...emptyPlan, steps: [
    { kind: 'ro-bind', source: '/', dest: '/' },
    { kind: 'proc', dest: '/proc' },
    { kind: 'dev', dest: '/dev' },
    { kind: 'tmpfs', dest: '/dev/shm', sizeBytes: 1024 },
    { kind: 'remount-ro', dest: '/dev' },
    { kind: 'tmpfs', dest: '/root/.ssh', secret: true },
    { kind: 'mask-file', dest: '/etc/shadow' },
  ] } });
  const at = (flag: string, value: string) => args.findIndex((a, i) => a === flag && args[i + 1] === value);
  assert.ok(at('--ro-bind-fd', '20') < at('--proc', '/proc'));
  assert.ok(at('--size', '1024') === at('--tmpfs', '/dev/shm') - 2, 'the size goes right before its tmpfs');
  assert.ok(at('--tmpfs', '/dev/shm') < at('--remount-ro', '/dev'));
  assert.ok(at('--proc', '/proc') < at('--tmpfs', '/root/.ssh'));
  assert.ok(args.lastIndexOf('/etc/shadow') > at('--tmpfs', '/root/.ssh'));
  assert.ok(at('--remount-ro', '/') > args.lastIndexOf('/etc/shadow'));
});

test('secret masks and protected placeholders are empty read-only tmpfs mounts', () => {
  const { args } = bwrapArgs({ ...base, plan: { ...emptyPlan, steps: [
    { kind: 'tmpfs', dest: '/root/.ssh', secret: true },
    { kind: 'tmpfs', dest: '/sandbox/.vscode', placeholder: true },
  ] } });
  const text = args.join(' ');
  assert.match(text, /--perms 0000 --size 4096 --tmpfs \/root\/.ssh --remount-ro \/root\/.ssh/);
  assert.match(text, /--perms 0555 --size 4096 --tmpfs \/sandbox\/.vscode --remount-ro \/sandbox\/.vscode/);
});
