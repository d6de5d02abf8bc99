// The line warden prints on a client's stderr for a decision (run, exec, connect).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decisionNotice, type DecisionRecord } from '../../src/audit/index.js';

const base: DecisionRecord = {
  ts: '2026-01-01T00:00:00.000Z', sandbox: 'dev', action: 'connection', verdict: 'deny', code: 'no_endpoint', stage: 'policy',
  binary: { path: '/usr/bin/curl', pid: 42, ancestors: [] }, destination: { host: 'evil.test', port: 443 },
  reason: 'no network policy allows evil.test:443', latency_ms: 1,
} as DecisionRecord;

test('a denial says who was denied what and why; an allowed action prints nothing', () => {
  assert.equal(decisionNotice(base), 'warden: denied /usr/bin/curl (pid 42) -> evil.test:443: no network policy allows evil.test:443');
  assert.equal(decisionNotice({ ...base, verdict: 'allow' }), undefined);
});

test('a name that does not resolve is not called a denial', () => {
  const line = decisionNotice({ ...base, code: 'cannot_resolve', reason: 'cannot resolve nx.test: getaddrinfo ENOTFOUND nx.test' });
  assert.equal(line, 'warden: /usr/bin/curl (pid 42) -> evil.test:443 failed: cannot resolve nx.test: getaddrinfo ENOTFOUND nx.test');
  assert.doesNotMatch(line!, /denied/);
});

test('text from the sandbox cannot drive the terminal', () => {
  assert.doesNotMatch(decisionNotice({ ...base, binary: { path: '/tmp/\u001b[2Jx', pid: 1, ancestors: [] } })!, /\u001b/);
});
