// The approvals stage: in ask mode a policy denial (a missing rule, an address the SSRF guard
// refused) becomes an ask with the narrowest draft rule; nothing else is ever reviewed, and no
// reviewer can turn a denial into an allow.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Action, approvalStage, type ApprovalMode, createCheckpoint, type Stage, type Subject } from '../../src/checkpoint/index.js';
import { defaultPolicy, type Policy, type ProcessIdentity } from '../../src/policy/index.js';

const curl: ProcessIdentity = { pid: 42, exe: '/usr/bin/curl', exeSha256: 'a'.repeat(64), ancestors: [{ pid: 1, exe: '/bin/sh', exeSha256: 'b'.repeat(64) }] };
const subject: Subject = { sandbox: 'box', process: curl };
const local: Action = { type: 'connection', layer: 'connect', host: '127.0.0.1', port: 8080 };

function policyWith(network: Policy['network_policies'] = {}): Policy {
  return { ...defaultPolicy(), network_policies: network };
}

function checkpointIn(mode: ApprovalMode, policy: Policy, stages: Stage[] = []) {
  let current = mode;
  const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => policy, stages: [...stages, approvalStage(() => current)] });
  return { checkpoint, setMode: (m: ApprovalMode) => { current = m; } };
}

describe('the approvals stage', () => {
  test('in ask mode a missing endpoint is an ask with the exact host, port and binary (and the loopback address named); in deny mode it stays denied', async () => {
    const { checkpoint, setMode } = checkpointIn('ask', policyWith());
    const asked = await checkpoint.decide(local, subject);
    assert.equal(asked.verdict.verdict, 'ask');
    assert.equal(asked.verdict.stage, 'tier');
    assert.equal(asked.verdict.tier, 'human');
    const draft = asked.verdict.approval!;
    assert.equal(draft.code, 'no_endpoint');
    assert.deepEqual(draft.changes, [{ op: 'add-endpoint', host: '127.0.0.1', port: 8080, binaries: ['/usr/bin/curl'], allowedIps: ['127.0.0.1'] }]);
    assert.deepEqual(draft.ancestors, ['/bin/sh']);
    setMode('deny');
    const denied = await checkpoint.decide(local, subject);
    assert.equal(denied.verdict.verdict, 'deny');
    assert.equal(denied.verdict.code, 'no_endpoint');
  });

  test('an address refused by the SSRF guard is approvable: the draft names exactly the resolved address', async () => {
    const policy = policyWith({ internal: { endpoints: [{ host: 'db.internal', ports: [5432] }], binaries: [{ path: '/usr/bin/curl' }] } });
    const { checkpoint } = checkpointIn('ask', policy);
    const action: Action = { type: 'connection', layer: 'connect', host: 'db.internal', port: 5432 };
    const asked = await checkpoint.decide(action, subject, { resolve: () => Promise.resolve(['10.1.2.3']) });
    assert.equal(asked.verdict.verdict, 'ask');
    assert.equal(asked.verdict.approval!.code, 'ssrf_blocked');
    assert.deepEqual(asked.verdict.approval!.addresses, ['10.1.2.3']);
    assert.deepEqual(asked.verdict.approval!.changes, [{ op: 'add-endpoint', host: 'db.internal', port: 5432, binaries: ['/usr/bin/curl'], allowedIps: ['10.1.2.3'] }]);
  });

  test('a request on an inspected endpoint is drafted as its method and path', async () => {
    const policy = policyWith({ api: { endpoints: [{ host: 'api.example.com', ports: [443], protocol: 'rest', access: 'read-only' }], binaries: [{ path: '/usr/bin/curl' }] } });
    const { checkpoint } = checkpointIn('ask', policy);
    const action: Action = { type: 'http_request', layer: 'l7', host: 'api.example.com', port: 443, method: 'POST', target: '/v1/items?x=1', addresses: ['93.184.216.34'] };
    const asked = await checkpoint.decide(action, subject);
    assert.equal(asked.verdict.verdict, 'ask');
    const draft = asked.verdict.approval!;
    assert.equal(draft.method, 'POST');
    assert.equal(draft.path, '/v1/items');
    assert.deepEqual(draft.changes, [{ op: 'add-rule', host: 'api.example.com', port: 443, method: 'POST', path: '/v1/items', policyName: 'api' }]);
    assert.equal(draft.key, JSON.stringify(['api.example.com', 443, '/usr/bin/curl', 'POST', '/v1/items']));
  });

  test('identity denials and explicit deny rules are never put to an operator', async () => {
    const { checkpoint } = checkpointIn('ask', policyWith());
    const tainted = await checkpoint.decide(local, { sandbox: 'box', process: { ...curl, tainted: 'LD_PRELOAD=/tmp/x.so' } });
    assert.equal(tainted.verdict.verdict, 'deny');
    assert.equal(tainted.verdict.code, 'binary_tainted');
    const unknown = await checkpoint.decide(local, { sandbox: 'box', process: null });
    assert.equal(unknown.verdict.code, 'unidentified');
    const policy = policyWith({
      api: { endpoints: [{ host: 'api.example.com', ports: [443], protocol: 'rest', access: 'full', deny_rules: [{ method: 'DELETE', path: '/**' }] }], binaries: [{ path: '/usr/bin/curl' }] },
    } as unknown as Policy['network_policies']);
    const ruled = checkpointIn('ask', policy).checkpoint;
    const del: Action = { type: 'http_request', layer: 'l7', host: 'api.example.com', port: 443, method: 'DELETE', target: '/x', addresses: ['93.184.216.34'] };
    const refused = await ruled.decide(del, subject);
    assert.equal(refused.verdict.verdict, 'deny');
    assert.equal(refused.verdict.code, 'l7_deny_rule');
  });

  test('a reviewer can only ask: one that answers allow is ignored and the denial stands', async () => {
    const sneaky: Stage = { name: 'sneaky', kind: 'tier', run() {}, review: (_ctx, denial) => ({ ...denial, verdict: 'allow' }) };
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => policyWith(), stages: [sneaky] });
    const d = await checkpoint.decide(local, subject);
    assert.equal(d.verdict.verdict, 'deny');
    assert.equal(d.verdict.code, 'no_endpoint');
  });

  test('decided again under the policy plus the draft (approve once), the same action is allowed', async () => {
    const { checkpoint } = checkpointIn('ask', policyWith());
    const asked = await checkpoint.decide(local, subject);
    const plus = policyWith({ approved: { endpoints: [{ host: '127.0.0.1', ports: [8080], allowed_ips: ['127.0.0.1'] }], binaries: [{ path: '/usr/bin/curl' }] } });
    const again = await checkpoint.decide(local, subject, { policy: plus });
    assert.equal(asked.verdict.verdict, 'ask');
    assert.equal(again.verdict.verdict, 'allow');
    assert.deepEqual(again.network?.addresses, ['127.0.0.1']);
    assert.equal((await checkpoint.decide(local, subject)).verdict.verdict, 'ask', 'the policy in force is unchanged');
  });

  test('an address refused on an inspected endpoint is drafted inspected the same way, or not put to an operator when that cannot be written', async () => {
    const action: Action = { type: 'connection', layer: 'connect', host: 'api.internal', port: 443 };
    const resolve = () => Promise.resolve(['10.0.0.5']);
    const readOnly = checkpointIn('ask', policyWith({ api: { endpoints: [{ host: 'api.internal', ports: [443], protocol: 'rest', access: 'read-only' }], binaries: [{ path: '/usr/bin/curl' }] } })).checkpoint;
    const asked = await readOnly.decide(action, subject, { resolve });
    assert.deepEqual(asked.verdict.approval?.changes, [{ op: 'add-endpoint', host: 'api.internal', port: 443, binaries: ['/usr/bin/curl'], allowedIps: ['10.0.0.5'], protocol: 'rest', access: 'read-only' }]);
    const ruled = checkpointIn('ask', policyWith({
      api: { endpoints: [{ host: 'api.internal', ports: [443], protocol: 'rest', rules: [{ allow: { method: 'GET', path: '/health' } }] }], binaries: [{ path: '/usr/bin/curl' }] },
    } as unknown as Policy['network_policies'])).checkpoint;
    const refused = await ruled.decide(action, subject, { resolve });
    assert.equal(refused.verdict.verdict, 'deny');
    assert.equal(refused.verdict.code, 'ssrf_blocked');
  });
});
