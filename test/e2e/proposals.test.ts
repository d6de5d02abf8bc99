// Agent proposals end to end: a sandboxed curl POSTs a rule to https://warden.local/v1/proposals.
// The proposal lands in the approvals inbox with its reason and the proposer the proxy identified
// (never what the body says), admits nothing until an operator approves it always (which writes
// exactly its rule), and is bounded per sandbox in number and size. Without
// governance.proposals.allow the endpoint answers 403 proposals_disabled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callGateway } from '../../src/gateway/index.js';
import { newHome, SKIP_NO_BWRAP, tempDir, writePolicy, startLoopbackServer } from './helpers.js';

interface Proposal {
  id: number; state: string; host: string; port: number; binary: string; changes: unknown[];
  proposal?: { reason: string; binary: string; pid: number; ancestors: string[] };
}

describe('agent proposals at warden.local', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  const scratch = tempDir('warden-proposals-');
  let server: Awaited<ReturnType<typeof startLoopbackServer>>;
  let port = 0;
  before(async () => {
    server = await startLoopbackServer((_req, res) => res.end('hello\n'));
    port = server.port;
  });
  after(async () => {
    await home.cleanup();
    scratch.cleanup();
    await server.close();
  });

  /** curl in the sandbox: the body, then the status on its own line. */
  const run = async (sandbox: string, args: string[]) => {
    const result = await home.run(['exec', sandbox, '--', 'curl', '-sS', '-w', '\n%{http_code}', ...args]);
    const lines = result.stdout.split('\n');
    return { status: Number(lines.at(-1)), body: lines.slice(0, -1).join('\n'), stderr: result.stderr };
  };
  const propose = (sandbox: string, body: string) => run(sandbox, ['-H', 'content-type: application/json', '--data-binary', body, 'https://warden.local/v1/proposals']);
  const fetchPage = (sandbox: string) => run(sandbox, [`http://127.0.0.1:${port}/page`]);

  test('a proposal is filed with its reason and the verified proposer; nothing is admitted until approve --always writes exactly its rule', async () => {
    const policy = writePolicy(scratch.dir, 'version: 1\ngovernance:\n  proposals:\n    allow: true\n    max_pending: 2\n', 'proposals.yaml');
    await home.json(['sandbox', 'create', 'agent', '--policy', policy]);
    const claimed = await propose('agent', JSON.stringify({ host: '127.0.0.1', port, reason: 'x', proposer: '/usr/bin/operator' }));
    assert.equal(claimed.status, 400, claimed.body);
    assert.match(claimed.body, /"code":"bad_proposal"/, 'a body that names its proposer is refused');

    const filed = await propose('agent', JSON.stringify({ host: '127.0.0.1', port, reason: 'fetch the test page for the task' }));
    assert.equal(filed.status, 202, `${filed.body} ${filed.stderr}`);
    const answer = JSON.parse(filed.body) as { id: number; code: string };
    assert.equal(answer.code, 'proposal_pending');

    const [listed, ...others] = await home.json<Proposal[]>(['approvals', 'list']);
    assert.deepEqual(others, []);
    assert.equal(listed!.id, answer.id);
    assert.equal(listed!.state, 'pending');
    assert.equal(listed!.proposal?.reason, 'fetch the test page for the task');
    assert.equal(listed!.proposal?.binary, '/usr/bin/curl', 'the proposer is the process the proxy identified');
    assert.deepEqual(listed!.changes, [{ op: 'add-endpoint', host: '127.0.0.1', port, binaries: ['/usr/bin/curl'], allowedIps: ['127.0.0.1'] }]);
    const text = await home.run(['approvals', 'list']);
    assert.match(text.stdout, /proposed by the agent \(\/usr\/bin\/curl\): fetch the test page for the task/);

    assert.equal((await fetchPage('agent')).status, 403, 'a pending proposal admits nothing');
    const once = await home.run(['approvals', 'approve', String(answer.id)]);
    assert.equal(once.status, 1);
    assert.match(once.stderr, /proposal.*--always/);

    const approved = await home.json<{ rev: number }>(['approvals', 'approve', String(answer.id), '--always']);
    assert.equal(approved.rev, 2);
    const { policy: written } = await home.json<{ policy: { network_policies: Record<string, unknown> } }>(['policy', 'get', 'agent']);
    assert.deepEqual(Object.values(written.network_policies), [{ endpoints: [{ host: '127.0.0.1', ports: [port], allowed_ips: ['127.0.0.1'] }], binaries: [{ path: '/usr/bin/curl' }] }]);
    const page = await fetchPage('agent');
    assert.deepEqual([page.status, page.body], [200, 'hello\n']);
    const again = await propose('agent', JSON.stringify({ host: '127.0.0.1', port, reason: 'fetch the test page for the task' }));
    assert.equal(again.status, 409, again.body);
    assert.match(again.body, /"code":"already_allowed"/);
    const history = await callGateway(home.dir, 'policy.history', { name: 'agent' }, { autoStart: false });
    assert.deepEqual(history.map((r) => r.rev), [1, 2]);
    assert.match(history[1]!.diff.join('\n'), new RegExp(`^\\+ network_policies\\.[a-z0-9_]+: .*"ports":\\[${port}\\]`));
    const audit = (await home.run(['logs', 'agent', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; actor: string });
    const proposed = audit.filter((r) => r.kind === 'approval.proposed');
    assert.equal(proposed.length, 1, 'one record per proposal filed');
    assert.match(proposed[0]!.actor, /^agent \/usr\/bin\/curl pid \d+$/);
  });

  test('bounded: at most max_pending waiting proposals (429), at most 8 KiB a body (413)', async () => {
    const body = (p: number) => JSON.stringify({ host: 'example.test', port: p, reason: 'more' });
    assert.equal((await propose('agent', body(1001))).status, 202);
    assert.equal((await propose('agent', body(1002))).status, 202);
    const again = await propose('agent', body(1002));
    assert.equal(again.status, 202, 'the same proposal again is counted, not refused');
    const third = await propose('agent', body(1003));
    assert.equal(third.status, 429);
    assert.match(third.body, /"code":"proposal_limit"/);
    const bad = await propose('agent', JSON.stringify({ host: '1:2:3', port: 1005, reason: 'not an address' }));
    assert.deepEqual([bad.status, /"code":"bad_proposal"/.test(bad.body)], [400, true], bad.body);
    const large = await propose('agent', JSON.stringify({ host: 'example.test', port: 1004, reason: 'y'.repeat(9000) }));
    assert.equal(large.status, 413);
    assert.match(large.body, /"code":"proposal_too_large"/);
    const pending = await home.json<Proposal[]>(['approvals', 'list']);
    assert.deepEqual(pending.map((p) => p.port).sort(), [1001, 1002]);
  });

  test('without governance.proposals.allow: 403 proposals_disabled, and nothing is filed', async () => {
    await home.json(['sandbox', 'create', 'plain']);
    const refused = await propose('plain', JSON.stringify({ host: '127.0.0.1', port, reason: 'please' }));
    assert.equal(refused.status, 403);
    assert.match(refused.body, /"code":"proposals_disabled"/);
    assert.deepEqual(await home.json<Proposal[]>(['approvals', 'list', '--sandbox', 'plain']), []);
  });
});
