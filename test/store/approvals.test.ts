// The approvals table (schema version 2): one pending draft per (sandbox, key) with hit counts,
// decided once, refused when it changed since the version shown, and held requests marked gone
// after a restart; the sandbox's approval mode.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openStore, StoreConflictError, StoreInputError } from '../../src/store/index.js';
import { tempHome } from './helpers.js';

const policy = { version: 1, network_policies: {} };

function storeWithSandbox() {
  const store = openStore(tempHome('approvals'));
  store.sandboxes.create({ name: 'dev', workdir: '/tmp/w', policy, author: 'test' });
  return store;
}

describe('approvals table', () => {
  test('identical requests are one pending draft with hits and first/last seen; a newer draft supersedes the shown one', () => {
    const store = storeWithSandbox();
    try {
      const first = store.approvals.hit({ sandbox: 'dev', key: 'k1', draft: { n: 1 }, waiting: true });
      assert.equal(first.created, true);
      const second = store.approvals.hit({ sandbox: 'dev', key: 'k1', draft: { n: 2 }, waiting: true });
      assert.equal(second.created, false);
      assert.equal(second.record.id, first.record.id);
      assert.equal(second.record.hits, 2);
      assert.equal(second.record.waiting, 2);
      assert.deepEqual(second.record.draft, { n: 2 });
      assert.ok(second.record.version > first.record.version);
      assert.ok(second.record.lastSeen >= second.record.firstSeen);
      const other = store.approvals.hit({ sandbox: 'dev', key: 'k2', draft: {}, waiting: false });
      assert.notEqual(other.record.id, first.record.id);
      assert.deepEqual(store.approvals.list({ state: 'pending' }).map((a) => a.id), [other.record.id, first.record.id]);
    } finally {
      store.close();
    }
  });

  test('a draft is decided once, and not against a version it no longer has; after a decision the key opens a new draft', () => {
    const store = storeWithSandbox();
    try {
      const shown = store.approvals.hit({ sandbox: 'dev', key: 'k', draft: {}, waiting: true }).record;
      store.approvals.hit({ sandbox: 'dev', key: 'k', draft: {}, waiting: true });
      assert.throws(() => store.approvals.decide(shown.id, 'approved', 'op', 'once', shown.version), StoreConflictError);
      const decided = store.approvals.decide(shown.id, 'denied', 'op', 'denied');
      assert.equal(decided.state, 'denied');
      assert.equal(decided.decidedBy, 'op');
      assert.ok(decided.decidedAt);
      assert.throws(() => store.approvals.decide(shown.id, 'approved', 'op', 'once'), /denied already/);
      const next = store.approvals.hit({ sandbox: 'dev', key: 'k', draft: {}, waiting: true });
      assert.equal(next.created, true);
    } finally {
      store.close();
    }
  });

  test('held requests are released as answered or gone; after a restart every waiting one is gone', () => {
    const home = tempHome('approvals-restart');
    let store = openStore(home);
    store.sandboxes.create({ name: 'dev', workdir: '/tmp/w', policy, author: 'test' });
    const { record } = store.approvals.hit({ sandbox: 'dev', key: 'k', draft: {}, waiting: true });
    store.approvals.hit({ sandbox: 'dev', key: 'k', draft: {}, waiting: true });
    store.approvals.hit({ sandbox: 'dev', key: 'k', draft: {}, waiting: true });
    store.approvals.release(record.id, 1, false);
    store.approvals.release(record.id, 1, true);
    assert.deepEqual([store.approvals.get(record.id)!.waiting, store.approvals.get(record.id)!.gone], [1, 1]);
    store.close();
    store = openStore(home);
    try {
      assert.equal(store.approvals.abandonWaiting(), 1);
      const after = store.approvals.get(record.id)!;
      assert.deepEqual([after.state, after.waiting, after.gone, after.hits], ['pending', 0, 2, 3]);
    } finally {
      store.close();
    }
  });

  test('the approval mode is deny by default, ask when set, and nothing else', () => {
    const store = storeWithSandbox();
    try {
      assert.equal(store.sandboxes.get('dev')!.approvalMode, 'deny');
      assert.equal(store.sandboxes.setApprovalMode('dev', 'ask').approvalMode, 'ask');
      assert.throws(() => store.sandboxes.setApprovalMode('dev', 'maybe' as 'ask'), StoreInputError);
      assert.equal(store.sandboxes.create({ name: 'b', workdir: '/tmp/b', policy, author: 't', approvalMode: 'ask' }).approvalMode, 'ask');
      store.sandboxes.delete('dev');
      assert.equal(store.approvals.list({ sandbox: 'dev' }).length, 0);
    } finally {
      store.close();
    }
  });
});
