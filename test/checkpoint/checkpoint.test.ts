import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecisionRecord } from '../../src/audit/index.js';
import { createCheckpoint, type Action, type Stage, type Subject } from '../../src/checkpoint/index.js';
import { defaultPolicy, type Policy, type ProcessIdentity } from '../../src/policy/index.js';

const curl: ProcessIdentity = { pid: 42, exe: '/usr/bin/curl', exeSha256: 'a'.repeat(64), ancestors: [{ pid: 1, exe: '/bin/sh', exeSha256: 'b'.repeat(64) }] };
const subject: Subject = { sandbox: 'box', process: curl };
const toPublic: Action = { type: 'connection', layer: 'connect', host: '93.184.216.34', port: 443 };

function policyWith(network: Policy['network_policies'] = {}): Policy {
  return { ...defaultPolicy(), network_policies: network };
}

const allowCurl = policyWith({ web: { endpoints: [{ host: '93.184.216.34', ports: [443] }], binaries: [{ path: '/usr/bin/curl' }] } });

describe('the pipeline', () => {
  test('identity, then policy: an allowed connection carries the policy and the rule', async () => {
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => allowCurl });
    const d = await checkpoint.decide(toPublic, subject);
    assert.equal(d.verdict.verdict, 'allow');
    assert.equal(d.verdict.stage, 'policy');
    assert.equal(d.verdict.policy, 'web');
    assert.deepEqual(d.network?.addresses, ['93.184.216.34']);
    assert.deepEqual(checkpoint.stageNames, ['identity:identity', 'policy:network policy', 'policy:model call policy', 'policy:content']);
  });

  test('an unidentified or tainted process is denied by the identity stage, whatever the policy says', async () => {
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => allowCurl });
    const unknown = await checkpoint.decide(toPublic, { sandbox: 'box', process: null, identityError: 'no such socket' });
    assert.equal(unknown.verdict.code, 'unidentified');
    assert.equal(unknown.verdict.stage, 'identity');
    assert.match(unknown.verdict.reason, /no such socket/);
    const tainted = await checkpoint.decide(toPublic, { sandbox: 'box', process: { ...curl, tainted: 'LD_PRELOAD=/tmp/x.so' } });
    assert.equal(tainted.verdict.code, 'binary_tainted');
    assert.equal(tainted.verdict.stage, 'identity');
  });

  test('deny by default: an action nothing decides is denied', async () => {
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => allowCurl });
    for (const action of [
      { type: 'model_call', api: 'openai', route: '/v1/chat/completions', via: 'inference.local' },
      { type: 'permission_request', permission: 'network github.com:443' },
      { type: 'tool_call', tool: 'github.merge_pull_request', argumentsDigest: 'd' },
      { type: 'bus_message', to: 'mailer', text: 'hi' },
    ] satisfies Action[]) {
      const d = await checkpoint.decide(action, subject);
      assert.equal(d.verdict.verdict, 'deny', action.type);
    }
  });

  test('a new stage is one object in one file; later kinds run later, and a denial is final', async () => {
    const seen: string[] = [];
    // A governance stage that holds every request to /admin for an approver.
    const adminNeedsApproval: Stage = {
      name: 'admin paths need approval',
      kind: 'governance',
      run(ctx) {
        seen.push(`governance saw ${ctx.verdict?.verdict ?? 'nothing'}`);
        if (ctx.action.type === 'http_request' && ctx.action.target.startsWith('/admin')) {
          ctx.verdict = { ...ctx.verdict!, verdict: 'ask', code: 'approval_required', stage: 'governance', reason: 'admin paths need an approval' };
        }
      },
    };
    const tier: Stage = { name: 'record tier', kind: 'tier', run: (ctx) => void seen.push(`tier saw ${ctx.verdict?.verdict ?? 'nothing'}`) };
    const policy = policyWith({
      api: { endpoints: [{ host: '93.184.216.34', ports: [443], protocol: 'rest', access: 'full' }], binaries: [{ path: '/usr/bin/curl' }] },
    });
    // Registered tier first: the checkpoint still runs it after governance.
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => policy, stages: [tier, adminNeedsApproval] });
    const request = (target: string): Action => ({ type: 'http_request', layer: 'l7', host: '93.184.216.34', port: 443, method: 'GET', target });
    const admin = await checkpoint.decide(request('/admin/users'), subject);
    assert.equal(admin.verdict.verdict, 'ask');
    assert.equal(admin.verdict.stage, 'governance');
    assert.deepEqual(seen, ['governance saw allow', 'tier saw ask']);
    seen.length = 0;
    const denied = await checkpoint.decide({ ...request('/admin'), host: '10.0.0.1' } as Action, subject);
    assert.equal(denied.verdict.verdict, 'deny');
    assert.deepEqual(seen, [], 'no stage runs after a denial');
  });

  test('the generation moves when the policy object changes, not on every decision', async () => {
    let policy = allowCurl;
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => policy });
    const first = checkpoint.generation;
    await checkpoint.decide(toPublic, subject);
    assert.equal(checkpoint.generation, first);
    policy = policyWith();
    assert.equal(checkpoint.generation, first + 1);
    assert.equal((await checkpoint.decide(toPublic, subject)).verdict.code, 'no_endpoint', 'the next decision uses the new policy');
  });
});

describe('recording', () => {
  test('an allow is returned only after its record is committed; a denial does not wait', async () => {
    const order: string[] = [];
    let release!: () => void;
    const committed = new Promise<void>((resolve) => { release = resolve; });
    const checkpoint = createCheckpoint({
      sandbox: 'box',
      policy: () => allowCurl,
      recorder: (record) => {
        order.push(`record ${record.verdict}`);
        return record.verdict === 'allow' ? committed : new Promise(() => undefined);
      },
    });
    const pending = checkpoint.decide(toPublic, subject).then((d) => order.push(`decided ${d.verdict.verdict}`));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['record allow'], 'the allow waits for its record');
    release();
    await pending;
    assert.deepEqual(order, ['record allow', 'decided allow']);
    const denied = await checkpoint.decide({ ...toPublic, port: 22 }, subject);
    assert.equal(denied.verdict.verdict, 'deny', 'a denial is returned although its record never commits');
  });

  test('no audit record, no action: a failing recorder turns an allow into a denial', async () => {
    const records: DecisionRecord[] = [];
    const checkpoint = createCheckpoint({
      sandbox: 'box',
      policy: () => allowCurl,
      recorder: (record) => {
        records.push(record);
        if (record.verdict === 'allow') return Promise.reject(new Error('disk full'));
        return undefined;
      },
    });
    const d = await checkpoint.decide(toPublic, subject);
    assert.equal(d.verdict.verdict, 'deny');
    assert.equal(d.verdict.code, 'audit_unavailable');
    assert.deepEqual(records.map((r) => `${r.verdict} ${r.code}`), ['allow allowed', 'deny audit_unavailable']);
  });

  test('one typed record for every action, with stage, code and the kernel\'s view of the caller', async () => {
    const records: Array<[string, DecisionRecord]> = [];
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => allowCurl, recorder: (record, kind) => void records.push([kind, record]) });
    await checkpoint.decide(toPublic, subject);
    await checkpoint.decide({ type: 'tool_call', tool: 'shell.exec', argumentsDigest: 'x' }, subject);
    const [kind, record] = records[0]!;
    assert.equal(kind, 'egress.verdict');
    assert.equal(record.action, 'connection');
    assert.equal(record.stage, 'policy');
    assert.equal(record.sandbox, 'box');
    assert.deepEqual(record.binary, { path: '/usr/bin/curl', pid: 42, ancestors: ['/bin/sh'] });
    assert.deepEqual(record.destination, { host: '93.184.216.34', port: 443, ip: '93.184.216.34' });
    assert.equal(records[1]![0], 'tool.verdict');
    assert.equal(records[1]![1].target, 'shell.exec');
    assert.equal(records[1]![1].code, 'no_decision');
    assert.ok(records[1]![1].rule_missing, 'a denial says what is missing');
  });

  test('records are redacted before anyone sees them: path tokens, query, registered shapes', async () => {
    const records: DecisionRecord[] = [];
    const policy = policyWith({ api: { endpoints: [{ host: '93.184.216.34', ports: [443], protocol: 'rest', access: 'read-only' }], binaries: [{ path: '/usr/bin/curl' }] } });
    const checkpoint = createCheckpoint({ sandbox: 'box', policy: () => policy, recorder: (record) => void records.push(record) });
    const bot = 'bot123456789:AAHkq0J5o-canary-telegram-token-0123456789';
    const key = 'sk-proj-CANARYcanaryCANARYcanary0123';
    const d = await checkpoint.decide({ type: 'http_request', layer: 'l7', host: '93.184.216.34', port: 443, method: 'GET', target: `/${bot}/getUpdates?api_key=${key}&page=2` }, subject);
    assert.equal(d.verdict.verdict, 'allow');
    const text = JSON.stringify(records);
    assert.ok(!text.includes('canary-telegram') && !text.includes('CANARY'), text);
    assert.equal(records[0]!.path, '/<redacted>/getUpdates');
    assert.equal(d.record?.path, '/<redacted>/getUpdates', 'the record handed back (for display) is the redacted one');
  });
});
