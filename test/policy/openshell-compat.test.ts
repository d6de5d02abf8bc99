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
