// `warden logs NAME [-f]`, run as the real CLI against a WARDEN_HOME written through the store
// and audit code: one line per record of that sandbox, --json, --since, following new records
// until SIGINT/SIGTERM, unknown and deleted sandboxes, and text from the sandbox made terminal-safe.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/index.js';
import { waitForOutput, warden, wardenAsync, type Result } from '../e2e/helpers.js';
import { append, auditHome, egress, lines, withStore, type AuditHome } from './audit-fixture.js';

function show(r: Result): string {
  return `status ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const DEV_LOG = [
  { kind: 'sandbox.created', sandbox: 'dev', actor: 'cli uid=1000', payload: { workdir: '/w/dev', presets: ['npm'] } },
  { kind: 'sandbox.started', sandbox: 'dev', actor: 'gateway', payload: { pid: 900 } },
  egress('dev', 'allow', 'api.github.com', { method: 'GET', path: '/repos/x', layer: 'l7', policy: 'github', rule: 'access read-only' }),
  egress('dev', 'deny', 'evil.example'),
  egress('ci', 'deny', 'ci-only.example'),
  { kind: 'policy.revision', sandbox: 'dev', actor: 'gateway', payload: { rev: 2, author: 'operator alice', reason: 'allow pypi', diff: { added: ['pypi'] } } },
  { kind: 'exec.started', sandbox: 'dev', actor: 'gateway', payload: { id: 'x1', argv: ['sh', '-c', 'echo hi'], pid: 77 } },
  { kind: 'exec.exited', sandbox: 'dev', actor: 'gateway', payload: { id: 'x1', argv: ['sh', '-c', 'echo hi'], code: 3 } },
  { kind: 'sandbox.failed', sandbox: 'dev', actor: 'gateway', payload: { reason: 'bwrap missing' } },
  { kind: 'sandbox.stopped', sandbox: 'dev', actor: 'gateway', payload: {} },
  { kind: 'trust.changed', sandbox: 'dev', actor: 'gateway', payload: { score: 0.5 } },
];

function withHome(fn: (home: AuditHome) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const home = auditHome('warden-cli-logs-');
    try {
      await fn(home);
    } finally {
      home.cleanup();
    }
  };
}

/** The line of record `seq`, checked to start with its time, number and kind. */
function lineOf(out: string[], record: AuditRecord): string {
  const found = out.filter((l) => l.includes(` #${record.seq} `));
  assert.equal(found.length, 1, `one line for record ${record.seq} in:\n${out.join('\n')}`);
  assert.ok(found[0]!.startsWith(`${record.ts} #${record.seq} ${record.kind} `), found[0]);
  return found[0]!;
}

describe('warden logs', () => {
  test("prints each of the sandbox's records on one human-readable line, and only its own", withHome((home) => {
    const records = append(home.home, DEV_LOG);
    const r = warden(['logs', 'dev'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    const out = lines(r.stdout);
    const dev = records.filter((x) => x.sandbox === 'dev');
    assert.equal(out.length, dev.length, r.stdout);
    assert.doesNotMatch(r.stdout, /ci-only/);
    const [created, started, allowed, denied, , revision, execStarted, execExited, failed, stopped, other] = records as [AuditRecord, ...AuditRecord[]];
    assert.match(lineOf(out, created), /sandbox\.created +by cli uid=1000 workdir=\/w\/dev$/);
    assert.match(lineOf(out, started!), /sandbox\.started +by gateway pid=900$/);
    assert.match(lineOf(out, allowed!), /egress\.verdict +ALLOW \/usr\/bin\/curl \(pid 4242\) -> api\.github\.com:443 GET \/repos\/x by github \(access read-only\)$/);
    assert.match(lineOf(out, denied!), /egress\.verdict +DENY \/usr\/bin\/curl \(pid 4242\) -> evil\.example:443: no network policy allows evil\.example:443 \[no_endpoint\]$/);
    assert.match(lineOf(out, revision!), /policy\.revision +revision 2 by operator alice: allow pypi$/);
    assert.match(lineOf(out, execStarted!), /exec\.started +exec x1 started \(pid 77\): sh -c "echo hi"$/);
    assert.match(lineOf(out, execExited!), /exec\.exited +exec x1 exited with code 3: sh -c "echo hi"$/);
    assert.match(lineOf(out, failed!), /sandbox\.failed +by gateway reason="bwrap missing"$/);
    assert.match(lineOf(out, stopped!), /sandbox\.stopped +by gateway$/);
    assert.match(lineOf(out, other!), /trust\.changed +by gateway \{"score":0\.5\}$/);
    const seqs = out.map((l) => Number(/ #(\d+) /.exec(l)![1]));
    assert.deepEqual(seqs, dev.map((x) => x.seq), 'oldest first');
  }));

  test('--json prints one object per record; --since skips the earlier ones', withHome((home) => {
    const records = append(home.home, DEV_LOG);
    const r = warden(['logs', 'dev', '--json', '--since', '4'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    const objects = lines(r.stdout).map((l) => JSON.parse(l) as { seq: number; kind: string; sandbox: string; payload: unknown; hash: string });
    const expected = records.filter((x) => x.sandbox === 'dev' && x.seq > 4);
    assert.deepEqual(objects.map((o) => [o.seq, o.kind, o.sandbox, o.payload, o.hash]), expected.map((x) => [x.seq, x.kind, 'dev', x.payload, x.hash]));
  }));

  test('text from inside the sandbox cannot reach the terminal as control characters', withHome((home) => {
    append(home.home, [egress('dev', 'deny', 'x\u001b]0;pwned\u0007\u001b[2J.example', { binary: { path: '/tmp/\u202eexe.txt', pid: 1, ancestors: [] }, reason: 'no\u009b31m' })]);
    const human = warden(['logs', 'dev'], { env: home.env });
    assert.equal(human.status, 0, show(human));
    assert.doesNotMatch(human.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'no raw control characters');
    assert.match(human.stdout, /x\\x1b\]0;pwned\\x07\\x1b\[2J\.example/);
    assert.match(human.stdout, /\/tmp\/\\u202eexe\.txt/);
    const json = warden(['logs', 'dev', '--json'], { env: home.env });
    assert.doesNotMatch(json.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    const payload = (JSON.parse(json.stdout) as { payload: { destination: { host: string }; reason: string } }).payload;
    assert.equal(payload.destination.host, 'x\u001b]0;pwned\u0007\u001b[2J.example', 'the JSON value itself is unchanged');
    assert.equal(payload.reason, 'no\u009b31m');
  }));

  test('an unknown sandbox is an error; one that exists with no records shows nothing', withHome((home) => {
    const noDatabase = warden(['logs', 'dev'], { env: home.env });
    assert.equal(noDatabase.status, 1, show(noDatabase));
    assert.match(noDatabase.stderr, /^warden: no sandbox named dev \(warden sandbox list shows them\)$/m);
    append(home.home, DEV_LOG);
    const unknown = warden(['logs', 'nope'], { env: home.env });
    assert.equal(unknown.status, 1, show(unknown));
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /no sandbox named nope \(warden sandbox list shows them\)/);
    const json = warden(['logs', 'nope', '--json'], { env: home.env });
    assert.equal(json.status, 1);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'no_such_sandbox');
    withStore(home.home, (store) => store.sandboxes.create({ name: 'quiet', workdir: '/w/quiet', policy: { version: 1 }, author: 'test' }));
    const quiet = warden(['logs', 'quiet'], { env: home.env });
    assert.equal(quiet.status, 0, show(quiet));
    assert.equal(quiet.stdout, '');
  }));

  test('a deleted sandbox still shows its history, even past --since', withHome((home) => {
    withStore(home.home, (store) => store.sandboxes.create({ name: 'gone', workdir: '/w/gone', policy: { version: 1 }, author: 'test' }));
    const records = append(home.home, [
      { kind: 'sandbox.created', sandbox: 'gone', actor: 'gateway' },
      egress('gone', 'allow', 'pypi.org'),
      { kind: 'sandbox.deleted', sandbox: 'gone', actor: 'gateway' },
    ]);
    assert.equal(withStore(home.home, (store) => store.sandboxes.delete('gone')), true);
    const r = warden(['logs', 'gone'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    assert.equal(lines(r.stdout).length, 3);
    assert.match(r.stdout, /sandbox\.deleted/);
    const past = warden(['logs', 'gone', '--since', String(records[2]!.seq)], { env: home.env });
    assert.equal(past.status, 0, show(past));
    assert.equal(past.stdout, '');
  }));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`-f prints records appended after it started, until ${signal}, then exits 0`, withHome(async (home) => {
      append(home.home, [{ kind: 'sandbox.created', sandbox: 'dev', actor: 'gateway' }]);
      const follower = wardenAsync(['logs', 'dev', '-f'], { env: home.env, timeoutMs: 30_000 });
      await waitForOutput(follower, /sandbox\.created/);
      const [, other, late] = append(home.home, [egress('ci', 'deny', 'not-for-dev.example'), egress('ci', 'deny', 'also-ci.example'), egress('dev', 'deny', 'late.example')]);
      await waitForOutput(follower, /late\.example/);
      const [again] = append(home.home, [{ kind: 'sandbox.stopped', sandbox: 'dev', actor: 'gateway' }]);
      await waitForOutput(follower, / #\d+ sandbox\.stopped/);
      process.kill(follower.pid, signal);
      const r = await follower.done;
      assert.equal(r.status, 0, show(r));
      assert.equal(r.signal, null);
      const out = lines(r.stdout);
      assert.equal(out.length, 3, r.stdout);
      assert.match(out[1]!, new RegExp(` #${late!.seq} egress\\.verdict +DENY .* -> late\\.example:443`));
      assert.match(out[2]!, new RegExp(` #${again!.seq} sandbox\\.stopped`));
      assert.ok(other!.seq < late!.seq);
      assert.doesNotMatch(r.stdout, /not-for-dev|also-ci/);
    }));
  }
});

describe('warden logs --since TIME, --tail N; audit export --sandbox UNKNOWN (issue 11)', () => {
  test('--since takes a duration or an ISO time as well as a record number; --tail N keeps the last N', withHome((home) => {
    const records = append(home.home, DEV_LOG);
    const dev = records.filter((r) => r.sandbox === 'dev');
    const recent = warden(['logs', 'dev', '--since', '5m'], { env: home.env });
    assert.equal(lines(recent.stdout).length, dev.length, show(recent));
    const future = warden(['logs', 'dev', '--since', new Date(Date.now() + 60_000).toISOString()], { env: home.env });
    assert.equal(future.status, 0, show(future));
    assert.equal(future.stdout, '');
    const tail = warden(['logs', 'dev', '--tail', '2'], { env: home.env });
    assert.deepEqual(lines(tail.stdout).map((l) => l.split(' ')[1]), dev.slice(-2).map((r) => `#${r.seq}`));
    const bad = warden(['logs', 'dev', '--since', 'yesterday'], { env: home.env });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /a duration back from now \(30s, 5m, 2h, 7d\)/);
  }));

  test('audit export --sandbox with a name that has no records is an error', withHome((home) => {
    append(home.home, DEV_LOG);
    const r = warden(['audit', 'export', '--sandbox', 'nope'], { env: home.env });
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /no sandbox named nope has records in this audit log/);
    assert.equal(warden(['audit', 'export', '--sandbox', 'dev'], { env: home.env }).status, 0);
  }));
});
