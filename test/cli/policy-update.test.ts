// `warden policy update` in OpenShell's syntax (issue 10): --add-endpoint host:port[:access[:protocol
// [:enforcement]]], --add-allow / --add-deny host:port:METHOD:glob, --to scoping every change, and
// --dry-run (run as the real CLI against a WARDEN_HOME written through the store: no gateway).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { updateChanges } from '../../src/cli/gateway-commands.js';
import { CliError } from '../../src/cli/output.js';
import { applyPolicyChanges } from '../../src/policy/loader.js';
import { defaultPolicy, type Policy } from '../../src/policy/index.js';
import { warden } from '../e2e/helpers.js';
import { auditHome, withStore } from './audit-fixture.js';

function twoPolicies(): Policy {
  return {
    ...defaultPolicy(),
    network_policies: {
      a: { endpoints: [{ host: 'api.example.com', ports: [443], protocol: 'rest', access: 'read-only' }], binaries: [{ path: '/usr/bin/curl' }] },
      b: { endpoints: [{ host: 'api.example.com', ports: [443], protocol: 'rest', rules: [{ allow: { method: 'GET', path: '/**' } }] }], binaries: [{ path: '/usr/bin/git' }] },
    },
  };
}

describe('policy update options', () => {
  test('--to scopes --remove-endpoint to that policy: the other keeps its endpoint', async () => {
    const changes = await updateChanges({ removeEndpoint: ['api.example.com:443'], to: 'b' });
    assert.deepEqual(changes, [{ op: 'remove-endpoint', host: 'api.example.com', port: 443, policyName: 'b' }]);
    const after = applyPolicyChanges(twoPolicies(), changes);
    assert.ok(after.network_policies.a);
    assert.equal(after.network_policies.b, undefined);
  });

  test('--to scopes --add-endpoint, --add-allow, --add-deny and --add-rule too', async () => {
    const changes = await updateChanges({
      addEndpoint: ['x.example.com:443'], binary: ['/usr/bin/curl'], addAllow: ['api.example.com:443:POST:/v1/**'],
      addDeny: ['api.example.com:443:delete:/v1/admin/**'], addRule: ['PUT /v2/**'], endpoint: 'api.example.com:443', to: 'b',
    });
    assert.ok(changes.every((c) => 'policyName' in c && c.policyName === 'b'), JSON.stringify(changes));
  });

  test('--add-endpoint takes access, protocol and enforcement after host:port, fields may be empty', async () => {
    const [full] = await updateChanges({ addEndpoint: ['api.github.com:443:read-only:rest:audit'], binary: ['/usr/bin/gh'] });
    assert.deepEqual(full, { op: 'add-endpoint', host: 'api.github.com', port: 443, access: 'read-only', protocol: 'rest', enforcement: 'audit', binaries: ['/usr/bin/gh'] });
    const [skipped] = await updateChanges({ addEndpoint: ['[::1]:11434::rest'], binary: ['/usr/bin/curl'] });
    assert.deepEqual(skipped, { op: 'add-endpoint', host: '::1', port: 11434, protocol: 'rest', binaries: ['/usr/bin/curl'] });
    const policy = applyPolicyChanges(defaultPolicy(), [full!]);
    assert.deepEqual(policy.network_policies.api_github_com_443?.endpoints[0], {
      host: 'api.github.com', ports: [443], protocol: 'rest', access: 'read-only', enforcement: 'audit',
    });
  });

  test('--add-deny adds a deny rule; the schema still needs rules or access to deny from', async () => {
    const after = applyPolicyChanges(twoPolicies(), await updateChanges({ addDeny: ['api.example.com:443:DELETE:/**'], to: 'a' }));
    assert.deepEqual(after.network_policies.a?.endpoints[0]?.deny_rules, [{ method: 'DELETE', path: '/**' }]);
    assert.throws(() => applyPolicyChanges(twoPolicies(), [{ op: 'add-deny', host: 'api.example.com', port: 443, method: 'DELETE', path: '/**', policyName: 'a' },
      { op: 'add-deny', host: 'api.example.com', port: 443, method: 'DELETE', path: '/**', policyName: 'a' }]), /already denied/);
  });

  test('malformed specs are usage errors that say the expected form', async () => {
    for (const opts of [
      { addEndpoint: ['api.example.com:443:readonly'] },
      { addEndpoint: ['api.example.com:443:read-only:grpc'] },
      { addEndpoint: ['api.example.com:443:full:rest:warn'] },
      { addAllow: ['api.example.com:443:GET'] },
      { addDeny: ['api.example.com:GET:/x'] },
    ]) {
      await assert.rejects(updateChanges(opts), (error: unknown) => error instanceof CliError && /expected host:port/.test(error.message), JSON.stringify(opts));
    }
  });
});

describe('policy update --dry-run', () => {
  test('prints the diff and stores nothing', () => {
    const home = auditHome('warden-cli-dry-run-');
    try {
      withStore(home.home, (store) => store.sandboxes.create({ name: 'dev', workdir: '/w/dev', policy: twoPolicies(), author: 'test', state: 'stopped' }));
      const r = warden(['policy', 'update', 'dev', '--add-endpoint', 'pypi.org:443:read-only:rest', '--binary', '/usr/bin/pip', '--dry-run'], { env: home.env });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /dry run, nothing was changed/);
      assert.match(r.stdout, /pypi/);
      withStore(home.home, (store) => assert.equal(store.policies.current('dev')?.rev, 1));
      const bad = warden(['policy', 'update', 'dev', '--add-allow', 'pypi.org:443:GET:/simple/**', '--dry-run'], { env: home.env });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /no such endpoint|Nothing was changed \(dry run\)/);
    } finally {
      home.cleanup();
    }
  });
});
