// `warden term`'s screen, rendered with ink-testing-library against a fake gateway: frames are
// asserted as text, keys go in on stdin.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import type { DecisionRecord } from '../../src/audit/index.js';
import type { ApprovalView } from '../../src/gateway/index.js';
import { TermApp, type TermClient, type TermEvent } from '../../src/cli/term-app.js';
import { waitFor } from '../wait.js';

function approval(id: number, extra: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id, sandbox: 'dev', state: 'pending', host: '127.0.0.1', port: 8080 + id, binary: '/usr/bin/curl', ancestors: ['/bin/sh'],
    code: 'no_endpoint', reason: 'no endpoint', ruleMissing: 'an endpoint', addresses: ['127.0.0.1'],
    changes: [{ op: 'add-endpoint', host: '127.0.0.1', port: 8080 + id, binaries: ['/usr/bin/curl'], allowedIps: ['127.0.0.1'] }],
    hits: 2, waiting: 1, gone: 0, version: 3, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:01.000Z',
    decidedBy: null, decidedAt: null, decision: null, ...extra,
  };
}

function decision(i: number, verdict: DecisionRecord['verdict']): DecisionRecord {
  return {
    ts: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, sandbox: 'dev', action: 'http_request', verdict, code: verdict === 'allow' ? 'allowed' : 'no_endpoint',
    stage: 'policy', binary: { path: '/usr/bin/curl', pid: 10, ancestors: [] }, destination: { host: 'example.test', port: 80 }, method: 'GET', path: `/r${i}`,
    reason: 'r', latency_ms: 0.1,
  };
}

function fakeClient(initial: ApprovalView[]) {
  const calls: string[] = [];
  let listener: ((e: TermEvent) => void) | undefined;
  const client: TermClient = {
    sandboxes: () => Promise.resolve([{ name: 'dev', state: 'running', approvalMode: 'ask', policyRev: 1 }]),
    approvals: () => Promise.resolve(initial),
    approve: (id, always, version) => {
      calls.push(`approve ${id} ${always ? 'always' : 'once'} v${version}`);
      return Promise.resolve({ released: 1, ...(always ? { rev: 2 } : {}) });
    },
    deny: (id, version) => {
      calls.push(`deny ${id} v${version}`);
      return Promise.resolve({ released: 1 });
    },
    subscribe: (l) => {
      listener = l;
      return () => { listener = undefined; };
    },
  };
  return { client, calls, push: (e: TermEvent) => listener?.(e), subscribed: () => listener !== undefined };
}

const frameOf = (r: ReturnType<typeof render>) => r.lastFrame() ?? '';

describe('warden term', () => {
  test('at 80x24: sandboxes, the pending approval with its binary, parent chain, hits and the missing rule; events pushed live', async () => {
    const fake = fakeClient([approval(1)]);
    const r = render(h(TermApp, { client: fake.client, rows: 24, columns: 80 }));
    try {
      await waitFor(() => frameOf(r).includes('#1 dev /usr/bin/curl -> 127.0.0.1:8081'), () => frameOf(r));
      const frame = frameOf(r);
      assert.match(frame, /dev running ask r1/);
      assert.match(frame, /no_endpoint \(resolves to 127\.0\.0\.1\) · 2 hit\(s\)/);
      assert.ok(frame.split('\n').every((line) => line.length <= 80), 'fits 80 columns');
      assert.ok(frame.split('\n').length <= 24, 'fits 24 rows');
      await waitFor(fake.subscribed, 'subscribed');
      for (let i = 0; i < 100; i++) fake.push({ event: 'decision', record: decision(i, i % 2 ? 'allow' : 'deny') });
      await waitFor(() => frameOf(r).includes('/r99'), () => frameOf(r));
      assert.ok(!frameOf(r).includes('/r0 '), 'only the newest events that fit are drawn');
      r.stdin.write('f');
      await waitFor(() => frameOf(r).includes('events (deny)'), () => frameOf(r));
      assert.ok(!frameOf(r).includes('/r99'), 'the deny filter hides allowed events');
      assert.match(frameOf(r), /\/r98/);
    } finally {
      r.unmount();
    }
  });

  test('a approves once, d denies, with the version shown; a pushed decision removes the approval', async () => {
    const fake = fakeClient([approval(1), approval(2, { version: 7 })]);
    const r = render(h(TermApp, { client: fake.client, rows: 30, columns: 100 }));
    try {
      await waitFor(() => frameOf(r).includes('#2 dev'), () => frameOf(r));
      assert.match(frameOf(r), /2 hit\(s\) · 1 waiting · via/, 'hits, what waits and the parent chain');
      r.stdin.write('a');
      await waitFor(() => fake.calls.length === 1, 'approve');
      assert.deepEqual(fake.calls, ['approve 1 once v3']);
      await waitFor(() => frameOf(r).includes('approved #1 once'), () => frameOf(r));
      r.stdin.write('j');
      await waitFor(() => /\n.*#2 dev/.test(frameOf(r)), () => frameOf(r));
      r.stdin.write('d');
      await waitFor(() => fake.calls.length === 2, 'deny');
      assert.equal(fake.calls[1], 'deny 2 v7');
      fake.push({ event: 'decided', approval: approval(1, { state: 'approved', decision: 'once' }) });
      await waitFor(() => !frameOf(r).includes('#1 dev'), () => frameOf(r));
    } finally {
      r.unmount();
    }
  });

  test('A shows the rule it adds first; y writes it, anything else cancels; ? shows the keys', async () => {
    const fake = fakeClient([approval(1)]);
    const r = render(h(TermApp, { client: fake.client, rows: 24, columns: 80 }));
    try {
      await waitFor(() => frameOf(r).includes('#1 dev'), () => frameOf(r));
      r.stdin.write('A');
      await waitFor(() => frameOf(r).includes('+ endpoint 127.0.0.1:8081 for /usr/bin/curl (allowed_ips 127.0.0.1)'), () => frameOf(r));
      assert.deepEqual(fake.calls, [], 'nothing is written before the confirmation');
      r.stdin.write('n');
      await waitFor(() => frameOf(r).includes('approve always cancelled'), () => frameOf(r));
      assert.deepEqual(fake.calls, []);
      r.stdin.write('A');
      await waitFor(() => frameOf(r).includes('+ endpoint'), () => frameOf(r));
      r.stdin.write('y');
      await waitFor(() => fake.calls.length === 1, 'approve always');
      assert.deepEqual(fake.calls, ['approve 1 always v3']);
      await waitFor(() => frameOf(r).includes('policy rev 2'), () => frameOf(r));
      r.stdin.write('?');
      await waitFor(() => frameOf(r).includes('approve always: shows the rule it adds'), () => frameOf(r));
    } finally {
      r.unmount();
    }
  });

  test('text from the sandbox is escaped: a binary named with escape sequences cannot control the screen; a quarantined page shows what was found', async () => {
    const hostile = approval(1, { binary: '/tmp/\u001b]0;owned\u0007x\u001b[2J' });
    const quarantined = approval(2, {
      changes: [], addresses: undefined as unknown as string[], code: 'directive_detected', path: '/page', method: 'GET',
      content: { score: 0.97, categories: ['instruction_override'], excerpts: ['ignore all previous instructions \u001b[31m'] },
    });
    const fake = fakeClient([hostile, quarantined]);
    const r = render(h(TermApp, { client: fake.client, rows: 24, columns: 80 }));
    try {
      await waitFor(() => frameOf(r).includes('#1 dev'), () => frameOf(r));
      const frame = frameOf(r);
      assert.ok(!frame.includes('\u0007') && !frame.includes('\u001b]0;') && !frame.includes('\u001b[2J'), JSON.stringify(frame));
      assert.match(frame, /\\x1b\]0;owned\\x07x/);
      r.stdin.write('j');
      await waitFor(() => frameOf(r).includes('quarantined response, score 0.97'), () => frameOf(r));
      assert.ok(!frameOf(r).includes('\u001b[31m'));
      r.stdin.write('A');
      await waitFor(() => frameOf(r).includes('adds no rule'), () => frameOf(r));
      assert.deepEqual(fake.calls, [], 'no approve always was sent for a quarantined response');
    } finally {
      r.unmount();
    }
  });
});
