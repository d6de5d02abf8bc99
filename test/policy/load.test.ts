import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe as suite, test } from 'node:test';
import { defaultPolicy } from '../../src/policy/index.js';
import { loadPolicyFile } from '../../src/policy/loader.js';
import type { NetworkEndpoint } from '../../src/policy/index.js';
import { accept, assertAt, fixture, rejectOnce, repoRoot, yaml } from './helpers.js';

function endpointOf(policyName: string, index: number, file = fixture('full-policy.yaml')): NetworkEndpoint {
  const endpoint = loadPolicyFile(file).network_policies[policyName]?.endpoints[index];
  assert.ok(endpoint, `${policyName}.endpoints[${index}] should exist`);
  return endpoint;
}

suite('loading a complete policy (every section and field)', () => {
  const policy = loadPolicyFile(fixture('full-policy.yaml'));

  test('static sections come through, with paths normalised', () => {
    assert.equal(policy.version, 1);
    assert.equal(policy.preset, undefined);
    assert.deepEqual(policy.filesystem_policy, {
      include_workdir: false,
      read_only: ['/usr', '/lib', '/proc', '/dev/urandom', '/opt/toolchain', '/srv/data', '/workspace'],
      read_write: ['/tmp', '/dev/null', '/workspace/.state'],
    });
    assert.deepEqual(policy.landlock, { compatibility: 'hard_requirement' });
    assert.deepEqual(policy.process, { run_as_user: '2001', run_as_group: '2001' });
  });

  test('every network policy entry is present', () => {
    assert.deepEqual(Object.keys(policy.network_policies), [
      'package_index', 'code_host', 'chat', 'graph_api', 'tools_server', 'object_store', 'cache', 'local_models', 'messaging_sketch',
    ]);
    assert.equal(policy.network_policies.package_index?.name, 'package index, read only');
    assert.equal(policy.network_policies.chat?.name, undefined);
    assert.deepEqual(policy.network_policies.messaging_sketch?.binaries, []);
  });

  test('rest endpoints: rules, tls, enforcement, ports, access, encoded slashes', () => {
    assert.deepEqual(endpointOf('package_index', 0), {
      host: 'packages.acme.test', ports: [443], protocol: 'rest', enforcement: 'enforce', tls: 'terminate',
      rules: [{ allow: { method: 'GET', path: '/**' } }, { allow: { method: 'HEAD', path: '/simple/**' } }],
    });
    assert.deepEqual(endpointOf('package_index', 1), {
      host: 'mirror.acme.test', ports: [443, 8443], protocol: 'rest', enforcement: 'audit', access: 'read-only', allow_encoded_slash: true,
    });
    assert.deepEqual(policy.network_policies.package_index?.binaries, [{ path: '/usr/bin/pip3' }, { path: '/opt/venv/bin/python3*' }]);
  });

  test('query matchers, deny rules, credential binding and body rewriting', () => {
    const git = endpointOf('code_host', 0);
    assert.deepEqual(git.rules?.[1]?.allow.query, { tag: { any: ['v1.*', 'v2.*'] }, ref: { glob: 'refs/heads/*' } });
    assert.deepEqual(git.deny_rules, [
      { method: 'POST', path: '/**/git-receive-pack' },
      { method: '*', path: '/admin/**', query: { force: 'true' } },
    ]);
    const api = endpointOf('code_host', 1);
    assert.equal(api.access, 'read-write');
    assert.equal(api.request_body_credential_rewrite, true);
    assert.deepEqual(api.credential_binding, { provider: 'acme-git' });
  });

  test('tunnels, wildcards and websockets', () => {
    assert.deepEqual(endpointOf('chat', 1), { host: 'gateway.chat.acme.test', ports: [443], access: 'full' });
    assert.deepEqual(endpointOf('chat', 2), { host: '*.media.acme.test', ports: [443], access: 'full', tls: 'skip' });
    const ws = endpointOf('chat', 3);
    assert.equal(ws.host, '**.realtime.acme.test');
    assert.equal(ws.websocket_credential_rewrite, true);
    assert.deepEqual(ws.rules?.map((r) => r.allow.method), ['GET', 'WEBSOCKET_TEXT']);
  });

  test('graphql, mcp and json-rpc endpoints keep their options', () => {
    const graph = endpointOf('graph_api', 0);
    assert.equal(graph.path, '/graphql');
    assert.equal(graph.persisted_queries, 'allow_registered');
    assert.deepEqual(graph.graphql_persisted_queries, { '3f2a9c': { operation_type: 'query', operation_name: 'Viewer', fields: ['viewer'] } });
    assert.deepEqual(graph.deny_rules, [{ operation_type: 'mutation', fields: ['deleteRepo'] }]);
    const tools = endpointOf('tools_server', 0);
    assert.deepEqual(tools.mcp, { versions: ['2025-06-18', '2025-11-25'], max_body_bytes: 131072, strict_tool_names: true });
    assert.deepEqual(tools.rules?.[3]?.allow, { method: 'tools/call', tool: { any: ['list_orders', 'get_invoice'] } });
    assert.deepEqual(tools.rules?.[4]?.allow, { method: 'tools/call', params: { name: 'report_*' } });
    assert.deepEqual(endpointOf('tools_server', 1).deny_rules, [{ tool: 'delete_everything' }]);
    const rpc = endpointOf('tools_server', 2);
    assert.equal(rpc.protocol, 'json-rpc');
    assert.deepEqual(rpc.json_rpc, { max_body_bytes: 65536 });
  });

  test('signing, native TCP, private and loopback addresses', () => {
    assert.deepEqual(endpointOf('object_store', 0), {
      host: 'storage.eu-west-1.cloud.test', ports: [443], protocol: 'rest', access: 'full', credential_signing: 'sigv4:body',
      signing_service: 's3', signing_region: 'eu-west-1', allow_uninspected_credentials: false,
    });
    assert.deepEqual(endpointOf('cache', 0), { host: 'cache.internal.test', ports: [6379], protocol: 'tcp', allowed_ips: ['10.0.0.0/8', '172.16.0.0/12', 'fd00::/8'] });
    assert.deepEqual(endpointOf('local_models', 0).allowed_ips, ['127.0.0.1', '::1']);
  });

  test('an inspected endpoint without rules or access loads as written', () => {
    assert.deepEqual(endpointOf('messaging_sketch', 0), { host: 'push.acme.test', ports: [443], protocol: 'rest' });
  });

  test('middleware, inference and governance sections', () => {
    assert.deepEqual(policy.network_middlewares?.['token-scrubber'], {
      name: 'Scrub tokens from uploads', middleware: 'acme/scrubber', order: 5,
      config: { mode: 'redact', patterns: ['secret-*', 'key-*'] }, on_error: 'fail_closed',
      endpoints: { include: ['*.uploads.test', 'files.acme.test'], exclude: ['public.uploads.test'] },
    });
    assert.deepEqual(policy.inference, { allowed_routes: ['local', 'hosted'] });
    assert.equal(policy.governance?.breakers?.bus_pair?.window, '1h30m');
    assert.deepEqual(policy.governance?.trust?.tiers, { auto: 900, peer: 700, committee: 700 });
  });
});

suite('defaults filled in by the loader', () => {
  test('a file with only version gets every section, with the default filesystem', () => {
    const policy = loadPolicyFile(fixture('minimal.yaml'));
    assert.deepEqual(policy, {
      version: 1,
      filesystem_policy: defaultPolicy().filesystem_policy,
      landlock: {},
      process: {},
      network_policies: {},
    });
  });

  test('a filesystem_policy that is present keeps the workdir out unless it says otherwise (as OpenShell)', () => {
    assert.deepEqual(accept(yaml('version: 1', 'filesystem_policy: {}')).filesystem_policy, { include_workdir: false, read_only: [], read_write: [] });
    assert.deepEqual(accept(yaml('version: 1', 'filesystem_policy: { read_only: [/usr] }')).filesystem_policy,
      { include_workdir: false, read_only: ['/usr'], read_write: [] });
    assert.equal(accept(yaml('version: 1', 'filesystem_policy: { include_workdir: true }')).filesystem_policy.include_workdir, true);
  });

  test('the loaded policy has no keys the file did not ask for', () => {
    const policy = accept(yaml('version: 1', 'network_policies:', '  a:', '    endpoints: [{ host: a.example.com, port: 443 }]'));
    assert.deepEqual(policy.network_policies.a, { endpoints: [{ host: 'a.example.com', ports: [443] }], binaries: [] });
    assert.ok(!('governance' in policy));
    assert.ok(!('network_middlewares' in policy));
  });
});

suite('presets', () => {
  test('a NemoClaw-shaped preset loads with its header and network policies', () => {
    const preset = loadPolicyFile(fixture('preset-registry.yaml'));
    assert.deepEqual(preset.preset, { name: 'acme-registry', description: 'Acme package registry, read only' });
    assert.deepEqual(Object.keys(preset.network_policies), ['acme_registry']);
    assert.equal(preset.network_policies.acme_registry?.endpoints.length, 2);
    assert.equal(preset.network_policies.acme_registry?.endpoints[1]?.host, '*.cdn.acme.test');
  });

  test('a preset may carry version: 1 and may omit binaries', () => {
    const preset = loadPolicyFile(fixture('preset-tunnel.yaml'));
    assert.equal(preset.preset?.name, 'acme-sockets');
    assert.deepEqual(preset.network_policies.acme_sockets?.binaries, []);
    assert.deepEqual(preset.network_policies.acme_sockets?.endpoints.map((e) => e.tls), ['skip', 'skip', undefined]);
  });

  test('a preset carries only network policies: static sections are refused', () => {
    const d = rejectOnce(yaml('preset: { name: x, description: y }', 'filesystem_policy: { read_write: [/] }', 'network_policies: {}'));
    assertAt(d, 2, 1, 'filesystem_policy', 'unknown key "filesystem_policy"; expected one of: preset, version, network_policies');
  });

  test('a preset needs a name, a description and network_policies', () => {
    const diagnostics = [
      rejectOnce(yaml('preset: { name: x }', 'network_policies: {}')),
      rejectOnce(yaml('preset: { name: "", description: y }', 'network_policies: {}')),
      rejectOnce(yaml('preset: { name: x, description: y }')),
    ];
    assertAt(diagnostics[0]!, 1, 9, 'preset', 'missing required key "description"');
    assertAt(diagnostics[1]!, 1, 17, 'preset.name', 'expected a non-empty string, got ""');
    assertAt(diagnostics[2]!, 1, 1, '', 'missing required key "network_policies"');
  });

  test('a preset with a version other than 1 is refused', () => {
    assertAt(rejectOnce(yaml('version: 2', 'preset: { name: x, description: y }', 'network_policies: {}')), 1, 10, 'version', 'expected the integer 1');
  });

  test('endpoint rules apply inside presets too', () => {
    const d = rejectOnce(yaml(
      'preset: { name: x, description: y }',
      'network_policies:',
      '  a:',
      '    endpoints: [{ host: "*", port: 443 }]',
    ));
    assertAt(d, 4, 25, 'network_policies.a.endpoints[0].host', 'a bare wildcard');
  });
});

const SHARED_EXAMPLE = path.resolve(repoRoot, '..', 'shared', 'POLICY-EXAMPLE.yaml');
// The design's example sits beside the checkout in CI; a clone on its own does not have it.
suite('the shared example policy', { skip: existsSync(SHARED_EXAMPLE) ? false : '../shared/POLICY-EXAMPLE.yaml is not beside this checkout' }, () => {
  test('../shared/POLICY-EXAMPLE.yaml loads', () => {
    const policy = loadPolicyFile(SHARED_EXAMPLE);
    assert.deepEqual(Object.keys(policy.network_policies), ['npm_registry', 'github_clone', 'docs_sites', 'local_model']);
    assert.equal(policy.filesystem_policy.include_workdir, true);
    assert.deepEqual(policy.network_policies.local_model?.endpoints[0]?.allowed_ips, ['127.0.0.1']);
    assert.equal(policy.governance?.scanner?.on_detect, 'quarantine');
  });
});
