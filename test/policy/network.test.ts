import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { allowedIpProblem } from '../../src/policy/addresses.js';
import { normaliseEndpointHost } from '../../src/policy/hosts.js';
import { accept, assertAt, endpointPolicy, reject, rejectOnce, yaml } from './helpers.js';

suite('endpoint hosts', () => {
  const accepted: Array<[string, string]> = [
    ['registry.npmjs.org', 'registry.npmjs.org'],
    ['Registry.NPMJS.org', 'registry.npmjs.org'],
    ['registry.npmjs.org.', 'registry.npmjs.org'],
    ['"*.example.com"', '*.example.com'],
    ['"**.example.com"', '**.example.com'],
    ['"*.Monitoring.svc.cluster.local"', '*.monitoring.svc.cluster.local'],
    ['host_1.internal.test', 'host_1.internal.test'],
    ['localhost', 'localhost'],
    ['10.1.2.3', '10.1.2.3'],
    ['"2001:DB8::1"', '2001:db8::1'],
    ['"[::1]"', '::1'],
    // OpenShell's provider forms: a "*" inside the first label, and whole "*" labels after a wildcard first label.
    ['"*-aiplatform.googleapis.com"', '*-aiplatform.googleapis.com'],
    ['"*.s3.*.amazonaws.com"', '*.s3.*.amazonaws.com'],
    ['"*.*.example.com"', '*.*.example.com'],
  ];
  for (const [written, normalised] of accepted) {
    test(`accepts ${written} as ${normalised}`, () => {
      const policy = accept(endpointPolicy(written, 'port: 443'));
      assert.equal(policy.network_policies.p?.endpoints[0]?.host, normalised);
    });
  }

  const refused: Array<[string, string | RegExp]> = [
    ['"*"', 'a bare wildcard would allow every host'],
    ['"**"', 'a bare wildcard would allow every host'],
    ['"*.com"', '"*.com" covers a whole top-level domain'],
    ['"**.com"', '"**.com" covers a whole top-level domain'],
    ['"*.COM."', '"*.com" covers a whole top-level domain'],
    ['"api.*.example.com"', 'a wildcard may be the first label'],
    ['"***.example.com"', 'a wildcard may be the first label'],
    ['"foo**.example.com"', 'a wildcard may be the first label'],
    ['"*.s3.us-*.amazonaws.com"', 'a wildcard may be the first label'],
    ['"*.**.example.com"', 'a wildcard may be the first label'],
    ['"example.*"', 'a wildcard may be the first label'],
    ['"*com"', '"*com" covers a whole top-level domain'],
    ['"*-api.com"', '"*-api.com" covers a whole top-level domain'],
    ['"*.*.com"', 'the last two labels are always literal'],
    ['"*.example.*"', 'a wildcard may be the first label'],
    ['""', 'expected a host name without spaces, got ""'],
    ['" a.example.com"', 'without spaces'],
    ['"bücher.example"', 'punycode'],
    ['999.1.1.1', 'expected a valid IP address or host name'],
    ['-bad.example.com', 'labels of letters, digits'],
    ['"a..b.example.com"', 'labels of letters, digits'],
    ['"{a,b}.example.com"', 'labels of letters, digits'],
    ['"[10.0.0.1]"', 'expected an IPv6 address inside [ ]'],
    ['443', 'expected a host name, got 443'],
  ];
  for (const [written, message] of refused) {
    test(`refuses ${written}`, () => {
      assertAt(rejectOnce(endpointPolicy(written, 'port: 443')), 5, 15, 'network_policies.p.endpoints[0].host', message);
    });
  }

  test('normaliseEndpointHost is the function behind both lists', () => {
    assert.deepEqual(normaliseEndpointHost('A.Example.COM.'), { host: 'a.example.com' });
    assert.ok('error' in normaliseEndpointHost('*.org'));
    assert.ok('error' in normaliseEndpointHost('*'));
    assert.deepEqual(normaliseEndpointHost('*.example.org'), { host: '*.example.org' });
    assert.deepEqual(normaliseEndpointHost('[2001:DB8:0:0::1]'), { host: '2001:db8::1' }, 'IP literals take the one canonical form');
    assert.ok('error' in normaliseEndpointHost('fe80::1%eth0'), 'a zone names an interface of the proxy host');
  });
});

suite('endpoint ports', () => {
  test('port 1 and port 65535 are the bounds, and port becomes ports', () => {
    const low = accept(endpointPolicy('a.example.com', 'port: 1')).network_policies.p!.endpoints[0]!;
    const high = accept(endpointPolicy('a.example.com', 'port: 65535')).network_policies.p!.endpoints[0]!;
    assert.deepEqual(low.ports, [1]);
    assert.deepEqual(high.ports, [65535]);
    assert.ok(!('port' in low));
  });

  test('ports keeps order and drops duplicates', () => {
    const endpoint = accept(endpointPolicy('a.example.com', 'ports: [8443, 443, 8443]')).network_policies.p!.endpoints[0]!;
    assert.deepEqual(endpoint.ports, [8443, 443]);
  });

  const refused: Array<[string, number, string]> = [
    ['port: 0', 15, 'expected an integer 1..65535, got 0'],
    ['port: 65536', 15, 'expected an integer 1..65535, got 65536'],
    ['port: -1', 15, 'expected an integer 1..65535, got -1'],
    ['port: 443.5', 15, 'expected an integer 1..65535, got 443.5'],
    ['port: "443"', 15, 'expected an integer 1..65535, got "443"'],
    ['port: https', 15, 'expected an integer 1..65535, got "https"'],
    ['ports: []', 16, 'expected at least one port, got a list'],
    ['ports: 443', 16, 'expected a list of ports, got 443'],
  ];
  for (const [field, column, message] of refused) {
    test(`refuses ${field}`, () => {
      const d = rejectOnce(endpointPolicy('a.example.com', field));
      assert.equal(d.line, 6);
      assert.equal(d.column, column);
      assert.equal(d.message, message);
    });
  }

  test('a port out of range inside ports is pointed at exactly', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'ports: [443, 0]')), 6, 22, 'network_policies.p.endpoints[0].ports[1]', 'got 0');
  });

  test('port and ports together are refused; so is neither', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'ports: [8443]')), 7, 9,
      'network_policies.p.endpoints[0].ports', 'either "port" or "ports", not both');
    assertAt(rejectOnce(endpointPolicy('a.example.com')), 5, 9,
      'network_policies.p.endpoints[0]', 'every endpoint needs at least one port');
  });
});

suite('allowed_ips', () => {
  const accepted = ['10.0.0.0/8', '172.16.0.0/12', '192.168.1.10', '127.0.0.1', '127.0.0.53', '::1', 'fd00::/8', '2001:db8::/32', '100.64.0.0/10'];
  for (const entry of accepted) {
    test(`accepts ${entry}`, () => {
      const endpoint = accept(endpointPolicy('a.example.com', 'port: 443', `allowed_ips: ["${entry}"]`)).network_policies.p!.endpoints[0]!;
      assert.deepEqual(endpoint.allowed_ips, [entry]);
    });
  }

  const refused: Array<[string, string]> = [
    ['127.0.0.0/8', 'loopback can be allowed only as one exact address'],
    ['127.0.0.0/24', 'loopback can be allowed only as one exact address'],
    ['::1/127', 'overlaps addresses that can never be allowed (the unspecified address)'],
    ['::ffff:127.0.0.0/104', 'loopback can be allowed only as one exact address'],
    ['0.0.0.0/0', 'overlaps addresses that can never be allowed'],
    ['::/0', 'overlaps addresses that can never be allowed'],
    ['169.254.169.254', 'link-local addresses (cloud metadata among them) can never be allowed'],
    ['169.254.0.0/16', 'overlaps addresses that can never be allowed'],
    ['::ffff:169.254.169.254', 'link-local addresses'],
    ['fe80::1', 'link-local addresses'],
    ['0.0.0.0', 'the unspecified address can never be allowed'],
    ['::', 'the unspecified address can never be allowed'],
    ['10.0.0.0/33', 'expected an IP address or CIDR block'],
    ['300.1.1.1', 'expected an IP address or CIDR block'],
    ['10.0.0.0/8/1', 'expected an IP address or CIDR block'],
    ['10.0.0.0/', 'expected an IP address or CIDR block'],
    ['example.com', 'expected an IP address or CIDR block'],
  ];
  for (const [entry, message] of refused) {
    test(`refuses ${entry}`, () => {
      assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', `allowed_ips: ["${entry}"]`)), 7, 23,
        'network_policies.p.endpoints[0].allowed_ips[0]', message);
      assert.ok(allowedIpProblem(entry));
    });
  }

  test('an empty allowed_ips list is refused', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'allowed_ips: []')), 7, 22,
      'network_policies.p.endpoints[0].allowed_ips', 'expected at least one address');
  });
});

suite('inspection fields and their protocols', () => {
  test('access and rules together are refused (OpenShell: mutually exclusive)', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'access: full',
      'rules: [{ allow: { method: GET, path: "/**" } }]')), 9, 9, 'network_policies.p.endpoints[0].rules', '"access" and "rules" cannot be combined');
  });

  test('without a protocol, access: full is a tunnel and is accepted; read-only is refused', () => {
    const tunnel = accept(endpointPolicy('gateway.example.com', 'port: 443', 'access: full')).network_policies.p!.endpoints[0]!;
    assert.equal(tunnel.access, 'full');
    assert.equal(tunnel.protocol, undefined);
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'access: read-only')), 7, 17,
      'network_policies.p.endpoints[0].access', 'access "read-only" cannot filter requests without an inspected protocol');
  });

  test('tls: skip is accepted on a tunnel and with rest or websocket, refused with other inspected protocols', () => {
    assert.equal(accept(endpointPolicy('a.example.com', 'port: 443', 'access: full', 'tls: skip')).network_policies.p!.endpoints[0]!.tls, 'skip');
    assert.equal(accept(endpointPolicy('a.example.com', 'port: 8080', 'protocol: rest', 'tls: skip', 'access: full')).network_policies.p!.endpoints[0]!.tls, 'skip');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: graphql', 'tls: skip', 'rules: [{ allow: { operation_type: query } }]')), 8, 14,
      'network_policies.p.endpoints[0].tls', 'tls "skip" cannot be combined with protocol graphql');
  });

  test('tls: terminate (NemoClaw presets) is accepted; none and passthrough mean automatic; other values are not', () => {
    assert.equal(accept(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'tls: terminate', 'access: full'))
      .network_policies.p!.endpoints[0]!.tls, 'terminate');
    assert.equal(accept(endpointPolicy('a.example.com', 'port: 443', 'tls: passthrough')).network_policies.p!.endpoints[0]!.tls, undefined);
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'tls: off')), 7, 14,
      'network_policies.p.endpoints[0].tls', 'expected one of "skip", "terminate", "none", "passthrough", got "off"');
  });

  test('an inspected endpoint with neither access nor rules loads and allows no request', () => {
    const endpoint = accept(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest')).network_policies.p!.endpoints[0]!;
    assert.equal(endpoint.protocol, 'rest');
    assert.equal(endpoint.access, undefined);
    assert.equal(endpoint.rules, undefined);
  });

  test('empty rules and deny_rules lists are refused', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'rules: []')), 8, 16,
      'network_policies.p.endpoints[0].rules', 'an empty rules list allows nothing');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'access: full', 'deny_rules: []')), 9, 21,
      'network_policies.p.endpoints[0].deny_rules', 'an empty deny_rules list does nothing');
  });

  test('deny_rules need something to deny from', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'deny_rules: [{ method: POST, path: "/**" }]')), 8, 9,
      'network_policies.p.endpoints[0].deny_rules', 'deny_rules need "rules" or "access"');
  });

  test('rest rules need method and path; methods are upper-cased', () => {
    const endpoint = accept(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest',
      'rules: [{ allow: { method: get, path: "/v1/**" } }]', 'deny_rules: [{ method: delete, path: "/v1/admin" }]')).network_policies.p!.endpoints[0]!;
    assert.deepEqual(endpoint.rules, [{ allow: { method: 'GET', path: '/v1/**' } }]);
    assert.deepEqual(endpoint.deny_rules, [{ method: 'DELETE', path: '/v1/admin' }]);
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'rules: [{ allow: { path: "/**" } }]')), 8, 26,
      'network_policies.p.endpoints[0].rules[0].allow', 'missing "method"');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'rules: [{ allow: { method: GET } }]')), 8, 26,
      'network_policies.p.endpoints[0].rules[0].allow', 'missing "path"');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'rules: [{ allow: { method: GET, path: v1 } }]')), 8, 47,
      'network_policies.p.endpoints[0].rules[0].allow.path', 'expected a path glob starting with "/", got "v1"');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'rules: [{ allow: { method: "GET /", path: "/" } }]')), 8, 36,
      'network_policies.p.endpoints[0].rules[0].allow.method', 'expected an HTTP method');
  });

  test('a rules entry without allow is refused', () => {
    const diagnostics = reject(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'rules: [{ method: GET, path: "/**" }]'));
    assert.deepEqual(diagnostics.map((d) => d.path), [
      'network_policies.p.endpoints[0].rules[0]',
      'network_policies.p.endpoints[0].rules[0].method',
      'network_policies.p.endpoints[0].rules[0].path',
    ]);
    assert.match(diagnostics[0]!.message, /missing required key "allow"/);
  });

  test('query matchers: a glob, { any: [...] } or { glob: ... }; nothing else', () => {
    const endpoint = accept(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest',
      'rules: [{ allow: { method: GET, path: "/", query: { a: "x*", b: { any: [y, z] }, c: { glob: "v?" } } } }]')).network_policies.p!.endpoints[0]!;
    assert.deepEqual(endpoint.rules?.[0]?.allow.query, { a: 'x*', b: { any: ['y', 'z'] }, c: { glob: 'v?' } });
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest',
      'rules: [{ allow: { method: GET, path: "/", query: { a: { any: [] } } } }]')), 8, 64,
    'network_policies.p.endpoints[0].rules[0].allow.query.a', 'expected a glob string, { any: [globs] } or { glob: glob }');
  });

  test('websocket rules: GET, WEBSOCKET_TEXT or "*", or GraphQL operations, never mixed', () => {
    accept(endpointPolicy('ws.example.com', 'port: 443', 'protocol: websocket',
      'rules: [{ allow: { method: GET, path: "/" } }, { allow: { operation_type: query } }]'));
    // GraphQL over WebSocket checks each message as an operation: a raw-text rule beside it is refused (as in OpenShell).
    assertAt(rejectOnce(endpointPolicy('ws.example.com', 'port: 443', 'protocol: websocket',
      'rules: [{ allow: { method: GET, path: "/" } }, { allow: { method: WEBSOCKET_TEXT, path: "/" } }, { allow: { operation_type: query } }]')), 8, 75,
    'network_policies.p.endpoints[0].rules[1].allow.method', 'a WEBSOCKET_TEXT rule cannot sit next to GraphQL rules');
    assertAt(rejectOnce(endpointPolicy('ws.example.com', 'port: 443', 'protocol: websocket', 'rules: [{ allow: { method: POST, path: "/" } }]')), 8, 36,
      'network_policies.p.endpoints[0].rules[0].allow.method', 'expected GET, WEBSOCKET_TEXT or "*" for a websocket rule, got "POST"');
    assertAt(rejectOnce(endpointPolicy('ws.example.com', 'port: 443', 'protocol: websocket', 'rules: [{ allow: { operation_type: query, path: "/" } }]')), 8, 51,
      'network_policies.p.endpoints[0].rules[0].allow.path', 'cannot be mixed with GraphQL fields');
  });

  test('graphql rules name operation types, not HTTP methods', () => {
    accept(endpointPolicy('gql.example.com', 'port: 443', 'protocol: graphql', 'rules: [{ allow: { operation_type: "*" } }]'));
    const diagnostics = reject(endpointPolicy('gql.example.com', 'port: 443', 'protocol: graphql', 'rules: [{ allow: { method: POST } }]'));
    assert.deepEqual(diagnostics.map((d) => d.path), [
      'network_policies.p.endpoints[0].rules[0].allow',
      'network_policies.p.endpoints[0].rules[0].allow.method',
    ]);
  });

  test('mcp: no access presets, rules or allow_all_known_mcp_methods, no "*" method, tools only on tools/call', () => {
    assertAt(rejectOnce(endpointPolicy('mcp.example.com', 'port: 443', 'protocol: mcp', 'access: full', 'mcp: { allow_all_known_mcp_methods: true }')), 8, 9,
      'network_policies.p.endpoints[0].access', 'not valid with protocol mcp');
    assertAt(rejectOnce(endpointPolicy('mcp.example.com', 'port: 443', 'protocol: mcp')), 5, 9,
      'network_policies.p.endpoints[0]', 'protocol mcp needs "rules"');
    assertAt(rejectOnce(endpointPolicy('mcp.example.com', 'port: 443', 'protocol: mcp', 'rules: [{ allow: { method: "*" } }]')), 8, 36,
      'network_policies.p.endpoints[0].rules[0].allow.method', 'method "*" is not allowed for mcp');
    assertAt(rejectOnce(endpointPolicy('mcp.example.com', 'port: 443', 'protocol: mcp', 'rules: [{ allow: { method: tools/list, tool: x } }]')), 8, 48,
      'network_policies.p.endpoints[0].rules[0].allow.tool', 'needs method "tools/call"');
    assertAt(rejectOnce(endpointPolicy('mcp.example.com', 'port: 443', 'protocol: mcp', 'rules: [{ allow: { method: "resources/*" } }]')), 8, 36,
      'network_policies.p.endpoints[0].rules[0].allow.method', 'only in the tools/ family');
    assertAt(rejectOnce(endpointPolicy('mcp.example.com', 'port: 443', 'protocol: mcp', 'rules: [{ allow: { method: initialize } }]',
      'mcp: { versions: ["2025-11-25", "2025-11-25"] }')), 9, 41, 'network_policies.p.endpoints[0].mcp.versions[1]', 'listed twice');
  });

  test('json-rpc needs rules with exact method names or "*"', () => {
    assertAt(rejectOnce(endpointPolicy('rpc.example.com', 'port: 443', 'protocol: json-rpc')), 5, 9,
      'network_policies.p.endpoints[0]', 'protocol json-rpc needs "rules"');
    assertAt(rejectOnce(endpointPolicy('rpc.example.com', 'port: 443', 'protocol: json-rpc', 'rules: [{ allow: { method: "reports.*" } }]')), 8, 36,
      'network_policies.p.endpoints[0].rules[0].allow.method', 'other globs are not supported');
  });

  test('protocol options belong to their protocol only', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'access: full', 'mcp: {}')), 9, 9,
      'network_policies.p.endpoints[0].mcp', 'valid only with protocol mcp');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'access: full', 'graphql_max_body_bytes: 1000')), 9, 9,
      'network_policies.p.endpoints[0].graphql_max_body_bytes', 'valid only with protocol graphql or websocket');
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: graphql', 'access: full', 'persisted_queries: allow_registered')), 9, 28,
      'network_policies.p.endpoints[0].persisted_queries', 'needs a graphql_persisted_queries registry');
  });

  test('protocol tcp refuses request-level fields and IP hosts', () => {
    const diagnostics = reject(endpointPolicy('10.0.0.5', 'port: 6379', 'protocol: tcp', 'enforcement: enforce', 'access: full'));
    assert.deepEqual(diagnostics.map((d) => [d.line, d.column, d.path]), [
      [5, 15, 'network_policies.p.endpoints[0].host'],
      [8, 9, 'network_policies.p.endpoints[0].enforcement'],
      [9, 9, 'network_policies.p.endpoints[0].access'],
    ]);
    const tcp = accept(endpointPolicy('cache.internal.test', 'port: 6379', 'protocol: tcp', 'allowed_ips: [10.0.0.0/8]')).network_policies.p!.endpoints[0]!;
    assert.equal(tcp.protocol, 'tcp');
  });

  test('credential signing needs a service and excludes body rewriting', () => {
    const diagnostics = reject(endpointPolicy('s3.example.com', 'port: 443', 'protocol: rest', 'access: full', 'credential_signing: sigv4',
      'request_body_credential_rewrite: true'));
    assert.deepEqual(diagnostics.map((d) => d.path), [
      'network_policies.p.endpoints[0]',
      'network_policies.p.endpoints[0].request_body_credential_rewrite',
    ]);
    assertAt(rejectOnce(endpointPolicy('s3.example.com', 'port: 443', 'protocol: rest', 'access: full', 'signing_region: eu-west-1')), 9, 9,
      'network_policies.p.endpoints[0].signing_region', 'valid only with "credential_signing"');
  });

  test('an endpoint path must be a path glob', () => {
    assertAt(rejectOnce(endpointPolicy('a.example.com', 'port: 443', 'protocol: rest', 'access: full', 'path: graphql')), 9, 15,
      'network_policies.p.endpoints[0].path', 'expected a path glob starting with "/", got "graphql"');
  });
});

suite('network policy entries and binaries', () => {
  test('endpoints and binaries default to empty lists; name stays optional', () => {
    const policy = accept(yaml('version: 1', 'network_policies:', '  nothing: {}'));
    assert.deepEqual(policy.network_policies.nothing, { endpoints: [], binaries: [] });
  });

  test('binaries are { path } mappings with absolute paths or globs', () => {
    const policy = accept(endpointPolicy('a.example.com', 'port: 443').replace(/\n$/, '\n    binaries: [{ path: "/**" }, { path: /usr/bin/python3* }]\n'));
    assert.deepEqual(policy.network_policies.p?.binaries, [{ path: '/**' }, { path: '/usr/bin/python3*' }]);
    const diagnostics = reject(yaml(
      'version: 1',
      'network_policies:',
      '  p:',
      '    binaries:',
      '      - /usr/bin/curl',
      '      - { path: bin/curl }',
      '      - { path: /usr/../bin/sh }',
      '      - { exe: /usr/bin/sh }',
    ));
    assert.deepEqual(diagnostics.map((d) => [d.line, d.column, d.path]), [
      [5, 9, 'network_policies.p.binaries[0]'],
      [6, 17, 'network_policies.p.binaries[1].path'],
      [7, 17, 'network_policies.p.binaries[2].path'],
      [8, 9, 'network_policies.p.binaries[3]'],
      [8, 11, 'network_policies.p.binaries[3].exe'],
    ]);
    assert.match(diagnostics[0]!.message, /expected a mapping such as \{ path: \/usr\/bin\/curl \}, got "\/usr\/bin\/curl"/);
  });

  test('network_policies must be a mapping of named entries', () => {
    assertAt(rejectOnce(yaml('version: 1', 'network_policies: [a, b]')), 2, 19, 'network_policies', 'expected a mapping, got a list');
  });
});

suite('network_middlewares', () => {
  test('entries need a middleware and a non-empty include list; orders are unique', () => {
    const diagnostics = reject(yaml(
      'version: 1',
      'network_middlewares:',
      '  a: { middleware: x, endpoints: { include: [a.example.com] } }',
      '  b: { middleware: y, order: 0, endpoints: { include: [] } }',
      '  c: { endpoints: { include: ["*.com"] }, order: 3 }',
    ));
    assert.deepEqual(diagnostics.map((d) => [d.line, d.column, d.path]), [
      [4, 30, 'network_middlewares.b.order'],
      [4, 55, 'network_middlewares.b.endpoints.include'],
      [5, 6, 'network_middlewares.c'],
      [5, 31, 'network_middlewares.c.endpoints.include[0]'],
    ]);
    assert.match(diagnostics[0]!.message, /order 0 is already used by "a"/);
    assert.match(diagnostics[2]!.message, /missing required key "middleware"/);
  });

  test('at most 10 middleware entries', () => {
    const entries = Array.from({ length: 11 }, (_, i) => `  m${i}: { middleware: x, order: ${i}, endpoints: { include: [a.example.com] } }`);
    assertAt(rejectOnce(yaml('version: 1', 'network_middlewares:', ...entries)), 3, 3, 'network_middlewares', 'at most 10 middleware entries');
  });
});
