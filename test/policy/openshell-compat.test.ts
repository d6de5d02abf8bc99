// OpenShell policy forms that warden loads with OpenShell's meaning (issue 10). Each test decides
// through explainAction, the code behind `warden policy explain`, as the parity test does.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explainAction, type ExplainRequest } from '../../src/checkpoint/index.js';
import { parsePolicy, policyWarnings, PolicyError } from '../../src/policy/loader.js';
import type { Policy } from '../../src/policy/index.js';

function load(text: string): Policy {
  return parsePolicy(text, 'compat.yaml');
}

function refusal(text: string): string {
  try {
    load(text);
  } catch (error) {
    if (error instanceof PolicyError) return error.format();
    throw error;
  }
  assert.fail('expected the policy to be refused');
}

function warnings(policy: Policy): string[] {
  return policyWarnings(policy).map((w) => `${w.path}: ${w.message}`);
}

async function verdict(policy: Policy, request: Partial<ExplainRequest> & { resolveTo?: string[] }): Promise<string> {
  const { resolveTo, ...rest } = request;
  const input: ExplainRequest = { binary: '/usr/bin/curl', ...rest };
  if (resolveTo && rest.host) input.resolve = { [rest.host]: resolveTo };
  const e = await explainAction(policy, input);
  return e.verdict === 'allow' ? 'allow' : `deny ${e.code}`;
}

function policyWith(endpoints: string): string {
  return `version: 1
network_policies:
  p:
    endpoints:
${endpoints.replace(/^/gm, '      ')}
    binaries:
      - { path: /usr/bin/curl }
`;
}

describe('endpoints with allowed_ips and no host', () => {
  const policy = load(policyWith('- { ports: [443, 9443], allowed_ips: ["10.0.0.0/8"] }'));

  test('load, and cover any name or address on their ports that resolves inside allowed_ips', async () => {
    assert.equal(policy.network_policies.p?.endpoints[0]?.host, undefined);
    assert.equal(await verdict(policy, { host: 'svc.internal', port: 9443, resolveTo: ['10.1.2.3'] }), 'allow');
    assert.equal(await verdict(policy, { host: '10.9.8.7', port: 443 }), 'allow');
  });
  test('refuse addresses outside allowed_ips, public ones included, and other ports', async () => {
    assert.equal(await verdict(policy, { host: 'svc.internal', port: 9443, resolveTo: ['8.8.8.8'] }), 'deny ssrf_blocked');
    assert.equal(await verdict(policy, { host: 'svc.internal', port: 9443, resolveTo: ['10.1.2.3', '8.8.8.8'] }), 'deny ssrf_blocked');
    assert.equal(await verdict(policy, { host: 'svc.internal', port: 8080, resolveTo: ['10.1.2.3'] }), 'deny no_endpoint');
  });
  test('an overlapping named endpoint without allowed_ips does not widen them to public addresses', async () => {
    const both = load(policyWith('- { host: "*.corp.example", port: 443 }\n- { port: 443, allowed_ips: ["10.0.0.0/8"] }'));
    assert.equal(await verdict(both, { host: 'svc.corp.example', port: 443, resolveTo: ['8.8.8.8'] }), 'deny ssrf_blocked');
    assert.equal(await verdict(both, { host: 'svc.corp.example', port: 443, resolveTo: ['10.1.1.1'] }), 'allow');
  });
  test('an endpoint with neither host nor allowed_ips is refused', () => {
    assert.match(refusal(policyWith('- { port: 443 }')), /missing required key "host" \(expected a host name, or allowed_ips/);
  });
  test('warnings do not mention them', () => {
    assert.deepEqual(warnings(policy), []);
  });
});

describe('Kubernetes control-plane ports', () => {
  const ports = [2379, 2380, 6443, 10250, 10255];
  test('are refused for allowed_ips, hostless, IP-literal and exactly named endpoints, public addresses included', async () => {
    const policy = load(policyWith([
      `- { ports: [${ports.join(', ')}], allowed_ips: ["8.8.8.0/24"] }`,
      `- { host: api.example, ports: [${ports.join(', ')}] }`,
      `- { host: 8.8.4.4, ports: [${ports.join(', ')}] }`,
      `- { host: named.example, ports: [${ports.join(', ')}], allowed_ips: ["10.0.0.0/8"] }`,
    ].join('\n')));
    for (const port of ports) {
      assert.equal(await verdict(policy, { host: '8.8.8.8', port }), 'deny port_not_allowed', `hostless ${port}`);
      assert.equal(await verdict(policy, { host: 'api.example', port, resolveTo: ['8.8.8.8'] }), 'deny port_not_allowed', `exact ${port}`);
      assert.equal(await verdict(policy, { host: '8.8.4.4', port }), 'deny port_not_allowed', `literal ${port}`);
      assert.equal(await verdict(policy, { host: 'named.example', port, resolveTo: ['10.0.0.5'] }), 'deny port_not_allowed', `allowed_ips ${port}`);
    }
  });
  test('stay open to a wildcard host without allowed_ips (held to public addresses), and other ports stay open', async () => {
    const policy = load(policyWith('- { host: "*.example.com", port: 6443 }\n- { ports: [443], allowed_ips: ["8.8.8.0/24"] }'));
    assert.equal(await verdict(policy, { host: 'api.example.com', port: 6443, resolveTo: ['8.8.8.8'] }), 'allow');
    assert.equal(await verdict(policy, { host: '8.8.8.8', port: 443 }), 'allow');
  });
});

describe('special-use IPv4 ranges', () => {
  test('the documentation ranges (TEST-NET-1/2/3) are not public', async () => {
    const policy = load(policyWith('- { host: host.example.com, port: 443 }'));
    for (const address of ['192.0.2.1', '198.51.100.1', '203.0.113.1', '198.18.0.1', '192.0.0.1']) {
      assert.equal(await verdict(policy, { host: 'host.example.com', port: 443, resolveTo: [address] }), 'deny ssrf_blocked', address);
    }
    assert.equal(await verdict(policy, { host: 'host.example.com', port: 443, resolveTo: ['8.8.8.8'] }), 'allow');
  });
});

describe("OpenShell's wildcard host forms", () => {
  test('a "*" inside the first label matches within that label only', async () => {
    const policy = load(policyWith('- { host: "*-aiplatform.googleapis.com", port: 443 }'));
    assert.equal(await verdict(policy, { host: 'us-central1-aiplatform.googleapis.com', port: 443 }), 'allow');
    assert.equal(await verdict(policy, { host: 'us-central1.aiplatform.googleapis.com', port: 443 }), 'deny no_endpoint');
    assert.equal(await verdict(policy, { host: 'a.b-aiplatform.googleapis.com', port: 443 }), 'deny no_endpoint');
  });
  test('a whole "*" middle label matches exactly one label', async () => {
    const policy = load(policyWith('- { host: "*.s3.*.amazonaws.com", port: 443 }'));
    assert.equal(await verdict(policy, { host: 'my-bucket.s3.us-east-1.amazonaws.com', port: 443 }), 'allow');
    assert.equal(await verdict(policy, { host: 's3.us-east-1.amazonaws.com', port: 443 }), 'deny no_endpoint');
    assert.equal(await verdict(policy, { host: 'my-bucket.s3.dualstack.us-east-1.amazonaws.com', port: 443 }), 'deny no_endpoint');
  });
  test('network_middlewares selectors take the same forms', () => {
    const policy = load(`version: 1
network_middlewares:
  m:
    middleware: openshell/regex
    on_error: fail_open
    endpoints:
      include: ["*-aiplatform.googleapis.com", "*.s3.*.amazonaws.com"]
`);
    assert.deepEqual(policy.network_middlewares?.m?.endpoints.include, ['*-aiplatform.googleapis.com', '*.s3.*.amazonaws.com']);
  });
});

describe('endpoints OpenShell reads differently from their words', () => {
  test('rules without a protocol: a plain tunnel, with a warning naming the endpoint', async () => {
    const policy = load(policyWith([
      '- host: gateway.discord.gg',
      '  port: 443',
      '  rules: [{ allow: { method: GET, path: "/**" } }]',
    ].join('\n')));
    assert.equal(policy.network_policies.p?.endpoints[0]?.rules, undefined);
    const said = warnings(policy);
    assert.equal(said.length, 1);
    assert.match(said[0]!, /^network_policies\.p\.endpoints\[0\]\.rules: "rules" on endpoint gateway\.discord\.gg:443 is not applied: .*plain tunnel/);
    const e = await explainAction(policy, { binary: '/usr/bin/curl', url: 'https://gateway.discord.gg/admin/x', method: 'POST' });
    assert.equal(e.verdict, 'allow');
    assert.ok(e.reasons.some((r) => /plain tunnel/.test(r)));
  });
  test('deny_rules without a protocol are refused (as OpenShell refuses them): a tunnel could not apply them', () => {
    assert.match(refusal(policyWith('- { host: a.example.com, port: 443, deny_rules: [{ method: POST, path: "/**" }] }')), /"deny_rules" cannot filter requests without an inspected protocol/);
  });
  test('tls: none and tls: passthrough load as automatic, with a warning', () => {
    for (const value of ['none', 'passthrough']) {
      const policy = load(policyWith(`- { host: api.example.com, port: 443, protocol: rest, access: read-only, tls: ${value} }`));
      assert.equal(policy.network_policies.p?.endpoints[0]?.tls, undefined);
      assert.match(warnings(policy).join('\n'), new RegExp(`tls: tls "${value}" on endpoint api.example.com:443 is read as automatic`));
    }
  });
  test('tls: skip with protocol rest: cleartext requests are checked against the rules, with a warning', async () => {
    const policy = load(policyWith('- { host: api.internal.test, port: 8080, protocol: rest, tls: skip, rules: [{ allow: { method: GET, path: "/v1/**" } }] }'));
    assert.match(warnings(policy).join('\n'), /TLS is never terminated, so the rules are checked on cleartext HTTP only/);
    const get = await explainAction(policy, { binary: '/usr/bin/curl', url: 'http://api.internal.test:8080/v1/models' });
    assert.equal(get.verdict, 'allow');
    assert.ok(get.reasons.some((r) => /tls: skip: requests are checked in cleartext HTTP only/.test(r)));
    const post = await explainAction(policy, { binary: '/usr/bin/curl', url: 'http://api.internal.test:8080/v1/models', method: 'POST' });
    assert.equal(post.code, 'l7_not_allowed');
  });
});

describe('endpoints with path selectors on one host and port', () => {
  const policy = load(policyWith([
    '- { host: api.example.com, port: 443, path: "/**", protocol: rest, enforcement: audit,',
    '    rules: [{ allow: { method: GET, path: "/**" } }], deny_rules: [{ method: DELETE, path: "/**" }] }',
    '- { host: api.example.com, port: 443, path: "/api/**", protocol: rest,',
    '    rules: [{ allow: { method: POST, path: "/api/**" } }, { allow: { method: DELETE, path: "/api/**" } }] }',
  ].join('\n')));
  test('the rules and deny rules of every covering endpoint apply', async () => {
    assert.equal(await verdict(policy, { url: 'https://api.example.com/api/item' }), 'allow');
    assert.equal(await verdict(policy, { url: 'https://api.example.com/api/item', method: 'POST' }), 'allow');
  });
  test("the most specific endpoint's enforcement decides whether a denial blocks", async () => {
    assert.equal(await verdict(policy, { url: 'https://api.example.com/api/item', method: 'DELETE' }), 'deny l7_deny_rule');
    const outside = await explainAction(policy, { binary: '/usr/bin/curl', url: 'https://api.example.com/other', method: 'DELETE' });
    assert.equal(outside.verdict, 'allow');
    assert.equal(outside.audit, true);
  });
});

describe('websocket endpoints', () => {
  test('carry WebSocket upgrades only: a plain GET is refused', async () => {
    const policy = load(policyWith('- { host: ws.example.com, port: 443, protocol: websocket, rules: [{ allow: { method: GET, path: "/ws" } }, { allow: { method: WEBSOCKET_TEXT, path: "/ws" } }] }'));
    assert.equal(await verdict(policy, { url: 'wss://ws.example.com/ws' }), 'allow');
    assert.equal(await verdict(policy, { url: 'https://ws.example.com/ws' }), 'deny l7_not_allowed');
  });
});

describe('tls: skip ambiguities refused at load (as OpenShell refuses them)', () => {
  test('a tls: skip wildcard overlapping a name it covers, on the same port, without tls: skip', () => {
    const text = `version: 1
network_policies:
  wildcard:
    endpoints: [{ host: "*.example.com", port: 443, tls: skip }]
    binaries: [{ path: /usr/bin/curl }]
  exact:
    endpoints: [{ host: api.example.com, port: 443 }]
    binaries: [{ path: /usr/bin/bash }]
`;
    assert.match(refusal(text), /wildcard\.endpoints\[0\]\.tls: tls "skip" on \*\.example\.com overlaps endpoint api\.example\.com of network_policies\.exact/);
    assert.doesNotThrow(() => load(text.replace('port: 443 }]\n    binaries: [{ path: /usr/bin/bash }]', 'port: 8443 }]\n    binaries: [{ path: /usr/bin/bash }]')));
  });
  test('a middleware selector covering a tls: skip endpoint', () => {
    const text = `version: 1
network_middlewares:
  redactor:
    middleware: openshell/regex
    endpoints: { include: ["api.example.com"] }
network_policies:
  api:
    endpoints: [{ host: "*.example.com", port: 443, tls: skip }]
    binaries: [{ path: /usr/bin/curl }]
`;
    assert.match(refusal(text), /network_middlewares\.redactor\.endpoints\.include\[0\]: "api\.example\.com" covers \*\.example\.com, an endpoint with tls "skip"/);
  });
});

describe('host-gateway names: a service on the host', () => {
  test('host.openshell.internal and host.warden.internal are the host loopback, reachable only with allowed_ips naming it', async () => {
    for (const name of ['host.openshell.internal', 'host.warden.internal']) {
      const open = load(policyWith(`- { host: ${name}, port: 11434, allowed_ips: ["127.0.0.1"] }`));
      const e = await explainAction(open, { binary: '/usr/bin/curl', host: name, port: 11434 });
      assert.equal(e.verdict, 'allow', name);
      assert.ok(e.reasons.some((r) => r.includes('127.0.0.1')), e.reasons.join('\n'));
      const closed = load(policyWith(`- { host: ${name}, port: 11434 }`));
      assert.equal(await verdict(closed, { host: name, port: 11434 }), 'deny ssrf_blocked', name);
    }
  });
});

describe('allow_encoded_slash is per endpoint', () => {
  test('an opted-in path selector accepts %2F although another endpoint on the host does not opt in', async () => {
    const policy = load(policyWith([
      '- { host: git.example.com, port: 443, path: "/repos/**", protocol: rest, allow_encoded_slash: true, rules: [{ allow: { method: GET, path: "/repos/**" } }] }',
      '- { host: git.example.com, port: 443, path: "/admin/**", protocol: rest, rules: [{ allow: { method: GET, path: "/admin/**" } }] }',
    ].join('\n')));
    assert.equal(await verdict(policy, { host: 'git.example.com', port: 443, path: '/repos/group%2Fproject', method: 'GET' }), 'allow');
    assert.equal(await verdict(policy, { host: 'git.example.com', port: 443, path: '/admin/a%2Fb', method: 'GET' }), 'deny bad_path');
    assert.equal(await verdict(policy, { host: 'git.example.com', port: 443, path: '/repos/..%2Fadmin', method: 'GET' }), 'deny bad_path');
  });
});
