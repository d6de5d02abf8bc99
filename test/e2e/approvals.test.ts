// Operator approvals end to end: a sandbox in ask mode, a sandboxed curl held while an operator
// decides with the real CLI. Approve once: the request succeeds on its first try. Deny: 403
// approval_denied naming who and when. Approve always: exactly one rule, and the next identical
// request passes without a prompt. A gateway restart keeps the pending list.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { newHome, SKIP_NO_BWRAP, waitFor, waitForOutput, wardenAsync, type Background } from './helpers.js';

interface Approval { id: number; sandbox: string; state: string; host: string; port: number; binary: string; hits: number; waiting: number; gone: number; changes: unknown[] }

describe('approvals: held requests wait for an operator', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  const servers: http.Server[] = [];
  const hits: string[] = [];
  let port = 0;
  let otherPort = 0;
  let watcher: Background | undefined;

  const listen = async () => {
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('hello\n');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  };

  before(async () => {
    port = await listen();
    otherPort = await listen();
  });
  after(async () => {
    if (watcher && !watcher.ended()) process.kill(watcher.pid, 'SIGTERM');
    await watcher?.done;
    await home.cleanup();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  /** curl in the sandbox: prints the body, then the status on its own line. */
  const curl = (path: string, to = port) => home.run(['exec', 'ask', '--', 'curl', '-sS', '-w', '\n%{http_code}', `http://127.0.0.1:${to}${path}`]);
  const pending = () => home.json<Approval[]>(['approvals', 'list']);
  /** The watcher's n-th line (one per held request), parsed. */
  const heldLine = async (n: number): Promise<{ event: string; approval: Approval }> => {
    await waitFor(() => watcher!.stdout().split('\n').filter((l) => /"event":"(pending|hit)"/.test(l)).length >= n, () => `${n} held-request lines from approvals watch; so far ${JSON.stringify(watcher!.stdout())}`);
    const lines = watcher!.stdout().split('\n').filter((l) => /"event":"(pending|hit)"/.test(l));
    return JSON.parse(lines[n - 1]!) as { event: string; approval: Approval };
  };

  test('approve once: the held request succeeds on its first try, and nothing reached the server before', async () => {
    const created = await home.json<{ approvalMode: string }>(['sandbox', 'create', 'ask', '--approval-mode', 'ask']);
    assert.equal(created.approvalMode, 'ask');
    watcher = wardenAsync(['approvals', 'watch', '--json'], { env: { WARDEN_HOME: home.dir }, timeoutMs: 170_000 });
    await waitForOutput(watcher, '"event":"ready"');
    const held = curl('/once');
    const { event, approval } = await heldLine(1);
    assert.equal(event, 'pending');
    assert.deepEqual([approval.host, approval.port, approval.binary, approval.waiting], ['127.0.0.1', port, '/usr/bin/curl', 1]);
    assert.deepEqual(approval.changes, [{ op: 'add-endpoint', host: '127.0.0.1', port, binaries: ['/usr/bin/curl'], allowedIps: ['127.0.0.1'] }]);
    assert.ok(!hits.includes('/once'), 'a held request has not reached the server');
    const listed = await pending();
    assert.deepEqual(listed.map((a) => [a.id, a.waiting]), [[approval.id, 1]]);

    const approved = await home.json<{ released: number; state: string }>(['approvals', 'approve', String(approval.id)]);
    assert.deepEqual([approved.released, approved.state], [1, 'approved']);
    const result = await held;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n'), ['hello', '', '200']);
    assert.equal(hits.filter((h) => h === '/once').length, 1);
    assert.deepEqual(await pending(), []);
  });

  test('deny: the held request gets 403 approval_denied naming who decided and when', async () => {
    const held = curl('/denied');
    const { approval } = await heldLine(2);
    assert.equal(approval.state, 'pending', 'approve once wrote no rule: the same request is held again');
    const denied = await home.json<{ released: number; state: string }>(['approvals', 'deny', String(approval.id)]);
    assert.deepEqual([denied.released, denied.state], [1, 'denied']);
    const result = await held;
    const [body, status] = result.stdout.split('\n');
    assert.equal(status, '403');
    const answer = JSON.parse(body!) as { code: string; decided_by: string; decided_at: string };
    assert.equal(answer.code, 'approval_denied');
    assert.match(answer.decided_by, /^uid \d+/);
    assert.ok(!Number.isNaN(Date.parse(answer.decided_at)));
    assert.ok(!hits.includes('/denied'));
  });

  test('approve always: exactly one rule is added, live before the release; the next identical request passes without a prompt', async () => {
    const before = await home.json<Array<{ rev: number }>>(['policy', 'history', 'ask']);
    const held = curl('/always');
    const { approval } = await heldLine(3);
    const approved = await home.json<{ rev: number; released: number }>(['approvals', 'approve', String(approval.id), '--always']);
    assert.equal(approved.released, 1);
    assert.deepEqual((await held).stdout.split('\n'), ['hello', '', '200']);
    const history = await home.json<Array<{ rev: number; reason: string | null }>>(['policy', 'history', 'ask']);
    assert.equal(history.length, before.length + 1, 'one new revision');
    assert.match(history.at(-1)!.reason ?? '', new RegExp(`approval #${approval.id}`));
    const { policy } = await home.json<{ policy: { network_policies: Record<string, { endpoints: Array<{ host: string; ports: number[]; allowed_ips?: string[] }>; binaries: Array<{ path: string }> }> } }>(['policy', 'get', 'ask']);
    const added = Object.values(policy.network_policies);
    assert.equal(added.length, 1, 'exactly one rule');
    assert.deepEqual(added[0], { endpoints: [{ host: '127.0.0.1', ports: [port], allowed_ips: ['127.0.0.1'] }], binaries: [{ path: '/usr/bin/curl' }] });

    const again = await curl('/next');
    assert.deepEqual(again.stdout.split('\n'), ['hello', '', '200']);
    assert.deepEqual(await pending(), [], 'no prompt for the next identical request');
    const audit = (await home.run(['logs', 'ask', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; payload: { always?: boolean } });
    assert.deepEqual(audit.filter((r) => r.kind.startsWith('approval.')).map((r) => [r.kind, r.payload.always]),
      [['approval.approved', false], ['approval.denied', undefined], ['approval.approved', true]]);
  });

  test('a gateway restart keeps the pending list; the held client is marked gone', async () => {
    const held = curl('/restart', otherPort);
    const { approval } = await heldLine(4);
    assert.equal(approval.port, otherPort);
    assert.equal((await home.run(['gateway', 'stop'])).status, 0);
    await held;
    await watcher!.done;
    const listed = await pending();
    assert.deepEqual(listed.map((a) => [a.id, a.state, a.waiting, a.gone]), [[approval.id, 'pending', 0, 1]]);
    const text = await home.run(['approvals', 'list']);
    assert.match(text.stdout, /client gone/);
  });
});
