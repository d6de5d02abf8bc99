// The audit tail the gateway pushes (`warden term`'s audit pane): committed records only, each
// once and in order, after the appends that made them (no polling); a rolled-back record is never
// told. End to end: a watcher subscribed with `audit` gets a record the moment a CLI command makes
// it, `audit.tail` returns the newest records, and a watch filtered to a sandbox gets none of
// the gateway's own records.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, describe, test } from 'node:test';
import { appendAudit, auditTail, createAuditWriter, followAudit, type AuditTailRecord } from '../../src/audit/index.js';
import { callGateway, openWatch } from '../../src/gateway/index.js';
import { lineReader } from '../../src/cli/lines.js';
import { openStore } from '../../src/store/index.js';
import { tempHome } from '../store/helpers.js';
import { newHome, SKIP_NO_BWRAP, waitFor, wardenAsync } from '../e2e/helpers.js';

describe('followAudit', () => {
  test('tells committed records once, in seq order, in one batch per turn; a rolled-back append is never told', async () => {
    const store = openStore(tempHome('audit-follow'));
    appendAudit(store, { kind: 'test.before', payload: {} });
    const batches: AuditTailRecord[][] = [];
    const stop = followAudit(store, (records) => batches.push(records));
    try {
      assert.throws(() => store.transaction(() => {
        appendAudit(store, { kind: 'test.rolled_back', payload: {} });
        throw new Error('roll back');
      }), /roll back/);
      appendAudit(store, { kind: 'test.one', sandbox: 'dev', actor: 'uid 0', payload: { big: 'x'.repeat(2000) } });
      const writer = createAuditWriter(store);
      await Promise.all([1, 2, 3].map((n) => writer.append({ kind: 'test.batch', payload: { n } })));
      await waitFor(() => batches.flat().length >= 4, () => JSON.stringify(batches));
      const told = batches.flat();
      assert.deepEqual(told.map((r) => r.kind), ['test.one', 'test.batch', 'test.batch', 'test.batch']);
      assert.deepEqual(told.map((r) => r.seq), [2, 3, 4, 5], 'the rolled-back record took no place; nothing before the subscription is told');
      assert.equal(told[0]!.sandbox, 'dev');
      assert.ok(told[0]!.summary.length <= 400 && told[0]!.summary.endsWith('…'), 'a large payload is summarised');
      assert.ok(batches.length <= 2, `${batches.length} batches`);
      assert.deepEqual(auditTail(store, 2).map((r) => r.seq), [4, 5]);
      await writer.close();
    } finally {
      stop();
      store.close();
    }
  });
});

describe('the gateway pushes audit records to watchers that ask for them', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  const sockets: net.Socket[] = [];
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await home.cleanup();
  });

  const watch = async (args: { sandbox?: string; audit?: boolean }) => {
    const { socket, rest } = await openWatch(home.dir, args, { autoStart: false });
    sockets.push(socket);
    const lines: Array<{ event: string; record?: AuditTailRecord }> = [];
    const onData = lineReader((line) => lines.push(JSON.parse(line) as { event: string; record?: AuditTailRecord }));
    if (rest.length > 0) onData(rest);
    socket.on('data', onData);
    socket.resume();
    return lines;
  };

  test('a provider created with the CLI reaches the audit watcher as a record, committed; audit.tail has it too', async () => {
    assert.equal((await home.run(['gateway', 'start'])).status, 0);
    const all = await watch({ audit: true });
    const plain = await watch({});
    assert.equal((await home.run(['sandbox', 'create', 'other'])).status, 0);
    const otherSandbox = await watch({ sandbox: 'other', audit: true });
    const created = await wardenAsync(['provider', 'create', 'gh', '--type', 'github', '--credential', 'GITHUB_TOKEN'], {
      env: { WARDEN_HOME: home.dir, GITHUB_TOKEN: 'ghp_notarealtokenbutlongenough0000000000' },
    }).done;
    assert.equal(created.status, 0, created.stderr);
    await waitFor(() => all.some((e) => e.record?.kind === 'provider.created'), () => JSON.stringify(all));
    const record = all.find((e) => e.record?.kind === 'provider.created')!.record!;
    assert.equal(record.sandbox, null);
    assert.match(record.actor ?? '', /^uid \d+/);
    assert.ok(!record.summary.includes('ghp_notarealtoken'), 'the credential is not in the pushed record');
    const tail = await callGateway(home.dir, 'audit.tail', { limit: 5 }, { autoStart: false });
    assert.ok(tail.some((r) => r.seq === record.seq && r.kind === 'provider.created'), JSON.stringify(tail));
    assert.deepEqual(tail.map((r) => r.seq), [...tail.map((r) => r.seq)].sort((a, b) => a - b), 'oldest first');
    // The watchers were told in the order the gateway wrote: by now the others had their chance.
    assert.deepEqual(plain.filter((e) => e.event === 'audit'), [], 'a watch without `audit` gets no audit records');
    assert.deepEqual(otherSandbox.filter((e) => e.event === 'audit'), [], 'records of no sandbox are not pushed to a watch of one sandbox');
  });
});
