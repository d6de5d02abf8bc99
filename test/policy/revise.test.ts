import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPolicyChanges, diffPolicies, parseEndpointSpec, PolicyChangeError, renderDiff, staticChanges } from '../../src/policy/loader.js';
import type { Policy, PolicyChange } from '../../src/policy/index.js';
import { accept, yaml } from './helpers.js';

function base(): Policy {
  return accept(yaml(
    'version: 1',
    'filesystem_policy:',
    '  include_workdir: true',
    '  read_only: [/usr, /etc]',
    '  read_write: [/tmp]',
    'process: { run_as_user: sandbox }',
    'network_policies:',
    '  npm:',
    '    endpoints:',
    '      - { host: registry.npmjs.org, port: 443, protocol: rest, access: read-only }',
    '    binaries: [{ path: /usr/bin/node }, { path: /usr/bin/npm }]',
    '  github:',
    '    endpoints:',
    '      - host: github.com',
    '        port: 443',
    '        protocol: rest',
    '        rules:',
    '          - allow: { method: GET, path: "/**/info/refs*" }',
    '          - allow: { method: POST, path: "/**/git-upload-pack" }',
    '      - { host: codeload.github.com, ports: [443, 8443] }',
    '    binaries: [{ path: /usr/bin/git }]',
    '  docs:',
    '    endpoints:',
    '      - { host: "*.readthedocs.io", port: 443 }',
    '    binaries: [{ path: /usr/bin/curl }]',
  ));
}

/** The PolicyChangeError `changes` raise; fails the test if they are accepted. */
function refused(policy: Policy, changes: PolicyChange[]): PolicyChangeError {
  try {
    applyPolicyChanges(policy, changes);
  } catch (error) {
    assert.ok(error instanceof PolicyChangeError, `expected a PolicyChangeError, got ${String(error)}`);
    return error;
  }
  return assert.fail(`expected the changes to be refused: ${JSON.stringify(changes)}`);
}

function assertMessage(error: Error, ...fragments: string[]): void {
  for (const f of fragments) assert.ok(error.message.includes(f), `message "${error.message}" should contain "${f}"`);
}

describe('parseEndpointSpec', () => {
  test('host:port and a bracketed IPv6 address', () => {
    assert.deepEqual(parseEndpointSpec('pypi.org:443'), { host: 'pypi.org', port: 443 });
    assert.deepEqual(parseEndpointSpec('[::1]:11434'), { host: '::1', port: 11434 });
    assert.deepEqual(parseEndpointSpec('*.readthedocs.io:8443'), { host: '*.readthedocs.io', port: 8443 });
  });

  test('refuses specs without a usable port or with a bare IPv6 address, saying why', () => {
    const cases: Array<[string, string]> = [
      ['pypi.org', 'the port is missing'],
      ['pypi.org:https', 'the port must be a number'],
      ['pypi.org:0', '1..65535'],
      ['pypi.org:65536', '1..65535'],
      ['::1:11434', 'IPv6 address must be written in brackets'],
      ['[]:80', 'the host is empty'],
      [':443', 'expected host:port'],
    ];
    for (const [spec, fragment] of cases) {
      assert.throws(() => parseEndpointSpec(spec), (e: Error) => e instanceof PolicyChangeError && e.message.includes(fragment), spec);
    }
  });
});

describe('add-endpoint', () => {
  test('creates a network policy named after the endpoint, for the given binaries', () => {
    const before = base();
    const after = applyPolicyChanges(before, [{ op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['/usr/bin/python3'] }]);
    assert.deepEqual(after.network_policies.pypi_org_443, {
      endpoints: [{ host: 'pypi.org', ports: [443] }],
      binaries: [{ path: '/usr/bin/python3' }],
    });
    assert.equal(before.network_policies.pypi_org_443, undefined, 'the input policy is not modified');
  });

  test('picks a unique name when the generated one is taken', () => {
    const once = applyPolicyChanges(base(), [{ op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['/usr/bin/python3'] }]);
    const twice = applyPolicyChanges(once, [{ op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['/usr/bin/pip'] }]);
    assert.deepEqual(twice.network_policies.pypi_org_443_2?.binaries, [{ path: '/usr/bin/pip' }]);
    assert.deepEqual(twice.network_policies.pypi_org_443, once.network_policies.pypi_org_443);
  });

  test('requires at least one binary for a new network policy', () => {
    const error = refused(base(), [{ op: 'add-endpoint', host: 'pypi.org', port: 443 }]);
    assertMessage(error, 'change 1 (add-endpoint pypi.org:443)', 'at least one binary', '--binary');
  });

  test('an endpoint already allowed for the same binaries is refused as already allowed', () => {
    const error = refused(base(), [{ op: 'add-endpoint', host: 'GitHub.com', port: 443, protocol: 'rest', binaries: ['/usr/bin/git'] }]);
    assertMessage(error, 'already allowed by network_policies.github');
    // The same host for another binary is a new grant, not a duplicate.
    const after = applyPolicyChanges(base(), [{ op: 'add-endpoint', host: 'github.com', port: 443, binaries: ['/usr/bin/curl'] }]);
    assert.deepEqual(after.network_policies.github_com_443?.binaries, [{ path: '/usr/bin/curl' }]);
    // A plain tunnel where only inspected requests were allowed widens access: not a duplicate.
    const tunnel = applyPolicyChanges(base(), [{ op: 'add-endpoint', host: 'github.com', port: 443, binaries: ['/usr/bin/git'] }]);
    assert.deepEqual(tunnel.network_policies.github_com_443?.endpoints, [{ host: 'github.com', ports: [443] }]);
  });

  test('allowed_ips opens an exact loopback address, and the schema still refuses metadata addresses', () => {
    const after = applyPolicyChanges(base(), [
      { op: 'add-endpoint', host: 'localhost', port: 11434, allowedIps: ['127.0.0.1'], binaries: ['/**'] },
    ]);
    assert.deepEqual(after.network_policies.localhost_11434?.endpoints, [{ host: 'localhost', ports: [11434], allowed_ips: ['127.0.0.1'] }]);
    const error = refused(base(), [{ op: 'add-endpoint', host: 'meta.internal', port: 80, allowedIps: ['169.254.169.254'], binaries: ['/usr/bin/curl'] }]);
    assertMessage(error, 'allowed_ips[0]', 'link-local');
    assert.ok(error.diagnostics.length > 0, 'schema diagnostics are kept');
  });

  test('host rules of policy files apply: bare and top-level wildcards are refused', () => {
    assertMessage(refused(base(), [{ op: 'add-endpoint', host: '*', port: 443, binaries: ['/usr/bin/curl'] }]), 'bare wildcard would allow every host');
    assertMessage(refused(base(), [{ op: 'add-endpoint', host: '*.com', port: 443, binaries: ['/usr/bin/curl'] }]), 'covers a whole top-level domain');
    const ok = applyPolicyChanges(base(), [{ op: 'add-endpoint', host: '*.pythonhosted.org', port: 443, binaries: ['/usr/bin/pip'] }]);
    assert.equal(ok.network_policies.pythonhosted_org_443?.endpoints[0]?.host, '*.pythonhosted.org');
  });

  test('binary paths must be absolute', () => {
    assertMessage(refused(base(), [{ op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['python3'] }]), 'binaries[0].path', 'absolute path');
  });

  test('protocol rest with an access preset; access without a protocol is refused by the schema', () => {
    const after = applyPolicyChanges(base(), [
      { op: 'add-endpoint', host: 'pypi.org', port: 443, protocol: 'rest', access: 'read-only', binaries: ['/usr/bin/pip'] },
    ]);
    assert.deepEqual(after.network_policies.pypi_org_443?.endpoints[0], { host: 'pypi.org', ports: [443], protocol: 'rest', access: 'read-only' });
    const error = refused(base(), [{ op: 'add-endpoint', host: 'pypi.org', port: 443, access: 'read-only', binaries: ['/usr/bin/pip'] }]);
    assertMessage(error, 'plain tunnel');
  });

  test('with policyName the endpoint and any new binaries join that policy', () => {
    const after = applyPolicyChanges(base(), [
      { op: 'add-endpoint', host: 'api.github.com', port: 443, binaries: ['/usr/bin/gh'], policyName: 'github' },
    ]);
    const github = after.network_policies.github!;
    assert.deepEqual(github.endpoints.map((e) => e.host), ['github.com', 'codeload.github.com', 'api.github.com']);
    assert.deepEqual(github.binaries, [{ path: '/usr/bin/git' }, { path: '/usr/bin/gh' }]);
    const again = refused(after, [{ op: 'add-endpoint', host: 'api.github.com', port: 443, policyName: 'github' }]);
    assertMessage(again, 'already allowed by network_policies.github');
  });

  test('a policy name that would set a prototype is refused', () => {
    assertMessage(refused(base(), [{ op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['/usr/bin/pip'], policyName: '__proto__' }]), 'cannot be a network policy name');
  });
});

describe('remove-endpoint', () => {
  test('removes the endpoint, and the network policy when it was its last', () => {
    const after = applyPolicyChanges(base(), [{ op: 'remove-endpoint', host: '*.readthedocs.io', port: 443 }]);
    assert.equal(Object.hasOwn(after.network_policies, 'docs'), false);
    const npm = applyPolicyChanges(base(), [{ op: 'remove-endpoint', host: 'registry.npmjs.org', port: 443 }]);
    assert.deepEqual(Object.keys(npm.network_policies).sort(), ['docs', 'github']);
  });

  test('removes one port of a multi-port endpoint and keeps the others', () => {
    const after = applyPolicyChanges(base(), [{ op: 'remove-endpoint', host: 'codeload.github.com', port: 8443 }]);
    assert.deepEqual(after.network_policies.github?.endpoints[1], { host: 'codeload.github.com', ports: [443] });
    assert.equal(after.network_policies.github?.endpoints.length, 2);
  });

  test('an absent endpoint is refused with the list of existing ones', () => {
    const error = refused(base(), [{ op: 'remove-endpoint', host: 'pypi.org', port: 443 }]);
    assertMessage(error, 'no such endpoint', 'registry.npmjs.org:443 (npm)', 'codeload.github.com:443,8443 (github)');
    assertMessage(refused(base(), [{ op: 'remove-endpoint', host: 'github.com', port: 80 }]), 'no such endpoint');
  });
});

describe('add-binary and remove-binary', () => {
  test('add-binary appends to the named policy', () => {
    const after = applyPolicyChanges(base(), [{ op: 'add-binary', path: '/usr/lib/git-core/*', policyName: 'github' }]);
    assert.deepEqual(after.network_policies.github?.binaries, [{ path: '/usr/bin/git' }, { path: '/usr/lib/git-core/*' }]);
  });

  test('add-binary refuses duplicates, unknown policies and relative paths', () => {
    assertMessage(refused(base(), [{ op: 'add-binary', path: '/usr/bin/git', policyName: 'github' }]), 'already allowed', 'already lists /usr/bin/git');
    assertMessage(refused(base(), [{ op: 'add-binary', path: '/usr/bin/git', policyName: 'gitlab' }]), 'no network policy named "gitlab"', 'existing: npm, github, docs');
    assertMessage(refused(base(), [{ op: 'add-binary', path: 'git', policyName: 'github' }]), 'absolute path');
  });

  test('remove-binary without a policy name removes it everywhere', () => {
    const twice = applyPolicyChanges(base(), [{ op: 'add-binary', path: '/usr/bin/node', policyName: 'docs' }]);
    const after = applyPolicyChanges(twice, [{ op: 'remove-binary', path: '/usr/bin/node' }]);
    assert.deepEqual(after.network_policies.npm?.binaries, [{ path: '/usr/bin/npm' }]);
    assert.deepEqual(after.network_policies.docs?.binaries, [{ path: '/usr/bin/curl' }]);
    const scoped = applyPolicyChanges(twice, [{ op: 'remove-binary', path: '/usr/bin/node', policyName: 'docs' }]);
    assert.deepEqual(scoped.network_policies.npm?.binaries, [{ path: '/usr/bin/node' }, { path: '/usr/bin/npm' }]);
  });

  test('remove-binary of an unlisted binary names the listed ones', () => {
    assertMessage(refused(base(), [{ op: 'remove-binary', path: '/usr/bin/python3' }]), 'no network policy lists it', '/usr/bin/curl (docs)');
    assertMessage(refused(base(), [{ op: 'remove-binary', path: '/usr/bin/git', policyName: 'npm' }]), 'network_policies.npm does not list it', '/usr/bin/npm (npm)');
  });
});

describe('add-rule and remove-rule', () => {
  test('add-rule appends an allow rule, with the method upper-cased', () => {
    const after = applyPolicyChanges(base(), [{ op: 'add-rule', host: 'github.com', port: 443, method: 'get', path: '/api/**' }]);
    assert.deepEqual(after.network_policies.github?.endpoints[0]?.rules?.at(-1), { allow: { method: 'GET', path: '/api/**' } });
  });

  test('add-rule refuses tunnels, access endpoints, duplicates and bad paths', () => {
    assertMessage(refused(base(), [{ op: 'add-rule', host: 'codeload.github.com', port: 443, method: 'GET', path: '/**' }]), 'plain tunnel', 'protocol rest');
    assertMessage(refused(base(), [{ op: 'add-rule', host: 'registry.npmjs.org', port: 443, method: 'PUT', path: '/**' }]), 'uses access read-only', 'cannot be combined');
    assertMessage(refused(base(), [{ op: 'add-rule', host: 'github.com', port: 443, method: 'get', path: '/**/info/refs*' }]), 'already allowed');
    assertMessage(refused(base(), [{ op: 'add-rule', host: 'github.com', port: 443, method: 'GET', path: 'api' }]), 'rules[2].allow.path', 'starting with "/"');
    assertMessage(refused(base(), [{ op: 'add-rule', host: 'pypi.org', port: 443, method: 'GET', path: '/**' }]), 'no such endpoint');
  });

  test('add-rule on an endpoint present in two policies needs the policy name', () => {
    const two = applyPolicyChanges(base(), [
      { op: 'add-endpoint', host: 'github.com', port: 443, protocol: 'rest', binaries: ['/usr/bin/curl'], policyName: 'curl_github' },
    ]);
    assertMessage(refused(two, [{ op: 'add-rule', host: 'github.com', port: 443, method: 'GET', path: '/x' }]), 'more than one place', 'network_policies.github', 'network_policies.curl_github');
    const after = applyPolicyChanges(two, [{ op: 'add-rule', host: 'github.com', port: 443, method: 'GET', path: '/x', policyName: 'curl_github' }]);
    assert.deepEqual(after.network_policies.curl_github?.endpoints[0]?.rules, [{ allow: { method: 'GET', path: '/x' } }]);
  });

  test('remove-rule removes the matching rule; the last one takes the rules key with it', () => {
    const one = applyPolicyChanges(base(), [{ op: 'remove-rule', host: 'github.com', port: 443, method: 'post', path: '/**/git-upload-pack' }]);
    assert.deepEqual(one.network_policies.github?.endpoints[0]?.rules, [{ allow: { method: 'GET', path: '/**/info/refs*' } }]);
    const none = applyPolicyChanges(one, [{ op: 'remove-rule', host: 'github.com', port: 443, method: 'GET', path: '/**/info/refs*' }]);
    assert.equal(Object.hasOwn(none.network_policies.github!.endpoints[0]!, 'rules'), false);
  });

  test('remove-rule of an absent rule lists the existing ones', () => {
    const error = refused(base(), [{ op: 'remove-rule', host: 'github.com', port: 443, method: 'DELETE', path: '/**' }]);
    assertMessage(error, 'has no rule DELETE /**', 'GET /**/info/refs*, POST /**/git-upload-pack');
  });
});

describe('revisions as a whole', () => {
  test('never modify the input, also when a later change fails', () => {
    const before = base();
    const snapshot = structuredClone(before);
    const ok = applyPolicyChanges(before, [
      { op: 'add-binary', path: '/usr/bin/gh', policyName: 'github' },
      { op: 'add-rule', host: 'github.com', port: 443, method: 'GET', path: '/x' },
    ]);
    assert.notEqual(ok, before);
    assert.deepEqual(before, snapshot);
    const error = refused(before, [
      { op: 'add-binary', path: '/usr/bin/gh', policyName: 'github' },
      { op: 'remove-endpoint', host: 'nowhere.example', port: 443 },
    ]);
    assertMessage(error, 'change 2 (remove-endpoint nowhere.example:443)');
    assert.deepEqual(before, snapshot);
  });

  test('the result is in the loader\'s normal form', () => {
    const after = applyPolicyChanges(base(), [{ op: 'add-endpoint', host: 'PyPI.org.', port: 443, binaries: ['/usr/bin/pip'] }]);
    assert.equal(after.network_policies.pypi_org_443?.endpoints[0]?.host, 'pypi.org');
  });

  test('changes apply in order, so an endpoint added first can take rules', () => {
    const after = applyPolicyChanges(base(), [
      { op: 'add-endpoint', host: 'api.example.com', port: 443, protocol: 'rest', binaries: ['/usr/bin/curl'] },
      { op: 'add-rule', host: 'api.example.com', port: 443, method: 'GET', path: '/v1/**' },
    ]);
    assert.deepEqual(after.network_policies.api_example_com_443?.endpoints[0]?.rules, [{ allow: { method: 'GET', path: '/v1/**' } }]);
  });
});

describe('diffPolicies and renderDiff', () => {
  test('an added network policy, a removed rule and a changed port', () => {
    const before = base();
    const after = applyPolicyChanges(before, [
      { op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['/usr/bin/python3'] },
      { op: 'remove-rule', host: 'github.com', port: 443, method: 'GET', path: '/**/info/refs*' },
      { op: 'remove-endpoint', host: 'codeload.github.com', port: 8443 },
    ]);
    const diff = diffPolicies(before, after);
    assert.deepEqual(diff.changes, [
      { path: 'network_policies.github.endpoints[0].rules[0]', before: { allow: { method: 'GET', path: '/**/info/refs*' } } },
      { path: 'network_policies.github.endpoints[1].ports[1]', before: 8443 },
      { path: 'network_policies.pypi_org_443', after: { endpoints: [{ host: 'pypi.org', ports: [443] }], binaries: [{ path: '/usr/bin/python3' }] } },
    ]);
    assert.equal(renderDiff(diff), [
      '- network_policies.github.endpoints[0].rules[0]: {"allow":{"method":"GET","path":"/**/info/refs*"}}',
      '- network_policies.github.endpoints[1].ports[1]: 8443',
      '+ network_policies.pypi_org_443: {"endpoints":[{"host":"pypi.org","ports":[443]}],"binaries":[{"path":"/usr/bin/python3"}]}',
    ].join('\n'));
  });

  test('a value changed in place is one ~ line, with the key path quoted when needed', () => {
    const before = base();
    const after = structuredClone(before);
    after.filesystem_policy.read_only[1] = '/opt';
    after.network_policies['odd.name'] = { endpoints: [], binaries: [] };
    const diff = diffPolicies(before, after);
    assert.equal(renderDiff(diff), [
      '~ filesystem_policy.read_only[1]: "/etc" -> "/opt"',
      '+ network_policies["odd.name"]: {"endpoints":[],"binaries":[]}',
    ].join('\n'));
  });

  test('identical policies give no changes; key order does not matter', () => {
    const before = base();
    const reordered = { ...before, network_policies: Object.fromEntries(Object.entries(before.network_policies).reverse()) };
    assert.deepEqual(diffPolicies(before, reordered), { changes: [] });
    assert.equal(renderDiff(diffPolicies(before, base())), '(no changes)');
    const after = applyPolicyChanges(before, [{ op: 'remove-binary', path: '/usr/bin/curl' }, { op: 'remove-binary', path: '/usr/bin/node' }]);
    const paths = diffPolicies(reordered, after).changes.map((c) => c.path);
    assert.deepEqual(paths, ['network_policies.docs.binaries[0]', 'network_policies.npm.binaries[0]'], 'sorted by key, whatever the order of either side');
    assert.deepEqual(diffPolicies(reordered, after), diffPolicies(before, after));
  });

  test('removing the first of two list elements is one removal, not a shift', () => {
    const before = base();
    const after = applyPolicyChanges(before, [{ op: 'remove-binary', path: '/usr/bin/node' }]);
    assert.deepEqual(diffPolicies(before, after).changes, [{ path: 'network_policies.npm.binaries[0]', before: { path: '/usr/bin/node' } }]);
  });
});

describe('staticChanges', () => {
  test('network-only changes are dynamic', () => {
    const before = base();
    const after = applyPolicyChanges(before, [{ op: 'add-endpoint', host: 'pypi.org', port: 443, binaries: ['/usr/bin/pip'] }]);
    assert.deepEqual(staticChanges(before, after), []);
  });

  test('governance and inference are dynamic', () => {
    const before = base();
    const after: Policy = { ...structuredClone(before), governance: { scanner: { on_detect: 'block' } }, inference: { allowed_routes: ['local'] } };
    assert.deepEqual(staticChanges(before, after), []);
  });

  test('filesystem, landlock and process changes are reported, in a fixed order', () => {
    const before = base();
    const fs = structuredClone(before);
    fs.filesystem_policy.read_write.push('/var/tmp');
    assert.deepEqual(staticChanges(before, fs), ['filesystem_policy']);
    const all = structuredClone(fs);
    all.process = { run_as_user: '1000' };
    all.landlock = { compatibility: 'hard_requirement' };
    assert.deepEqual(staticChanges(before, all), ['filesystem_policy', 'landlock', 'process']);
    assert.deepEqual(staticChanges(all, before), ['filesystem_policy', 'landlock', 'process']);
  });
});
