import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { stringify } from 'yaml';
import { defaultPolicy } from '../../src/policy/default.js';
import { defaultPolicy as exported } from '../../src/policy/index.js';
import { parsePolicy } from '../../src/policy/loader.js';

suite('default policy', () => {
  test('system directories read-only, workdir and /tmp writable, no network, unprivileged user', () => {
    const policy = defaultPolicy();
    assert.deepEqual(policy, {
      version: 1,
      filesystem_policy: { include_workdir: true, read_only: ['/usr', '/lib', '/lib64', '/bin', '/sbin', '/etc'], read_write: ['/tmp'] },
      landlock: {},
      process: { run_as_user: 'sandbox' },
      network_policies: {},
    });
    assert.equal(policy.landlock.compatibility, undefined);
    assert.equal(Object.keys(policy.network_policies).length, 0);
    assert.ok(!policy.filesystem_policy.read_only.some((p) => ['/', '/root', '/home', '/var'].includes(p)));
  });

  test('each call returns a fresh deep copy', () => {
    const first = defaultPolicy();
    first.filesystem_policy.read_only.push('/home');
    first.filesystem_policy.read_write.length = 0;
    first.process.run_as_user = 'someone';
    first.network_policies.leak = { endpoints: [], binaries: [] };
    const second = defaultPolicy();
    assert.equal(second.filesystem_policy.read_only.includes('/home'), false);
    assert.deepEqual(second.filesystem_policy.read_write, ['/tmp']);
    assert.equal(second.process.run_as_user, 'sandbox');
    assert.deepEqual(second.network_policies, {});
    assert.notEqual(first.filesystem_policy, second.filesystem_policy);
  });

  test('the default is itself a valid policy and survives a round trip through the loader', () => {
    const policy = defaultPolicy();
    assert.deepEqual(parsePolicy(stringify(policy), 'default.yaml'), policy);
  });

  test('index.ts exports the same function', () => {
    assert.equal(exported, defaultPolicy);
  });
});
