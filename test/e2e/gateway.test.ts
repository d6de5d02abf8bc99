// The gateway with real sandboxes: lifecycle, exec, live policy changes, restarts, kill -9,
// concurrent clients, and the audit trail they leave.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gatewayPid, newHome, SKIP_NO_BWRAP, waitFor, writePolicy } from './helpers.js';

describe('gateway: named sandboxes', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  after(() => home.cleanup());

  test('create, exec, stop, start and delete, with the workdir kept across a stop', async () => {
    const created = await home.json<{ name: string; state: string; policyRev: number }>(['sandbox', 'create', 'dev']);
    assert.equal(created.state, 'running');
    assert.equal(created.policyRev, 1);
    assert.equal(statSync(path.join(home.dir, 'gateway.sock')).mode & 0o777, 0o600, 'only the owner may talk to the gateway');

    const hello = await home.run(['exec', 'dev', '--', 'sh', '-c', 'echo out; echo err >&2; hostname; echo kept > /sandbox/file; exit 3']);
    assert.equal(hello.status, 3);
    assert.equal(hello.stdout, 'out\nwarden-dev\n');
    assert.equal(hello.stderr, 'err\n');
    assert.equal((await home.run(['exec', 'dev', '--', 'no-such-command'])).status, 127);

    const stopped = await home.json<{ state: string }>(['sandbox', 'stop', 'dev']);
    assert.equal(stopped.state, 'stopped');
    const refused = await home.run(['exec', 'dev', '--', 'true']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /sandbox dev is stopped: start it with `warden sandbox start dev`/);

    assert.equal((await home.json<{ state: string }>(['sandbox', 'start', 'dev'])).state, 'running');
    const kept = await home.run(['exec', 'dev', '--', 'cat', '/sandbox/file']);
    assert.equal(kept.stdout, 'kept\n');

    const list = await home.json<Array<{ name: string; state: string }>>(['sandbox', 'list']);
    assert.deepEqual(list.map((s) => [s.name, s.state]), [['dev', 'running']]);
    const deleted = await home.json<{ name: string }>(['sandbox', 'delete', 'dev', '--purge']);
    assert.equal(deleted.name, 'dev');
    assert.deepEqual(await home.json<unknown[]>(['sandbox', 'list']), []);
    assert.equal(existsSync(path.join(home.dir, 'sandboxes', 'dev')), false);
  });

  test('stdin reaches the command and the exit code of a signal death is 128+N', async () => {
    await home.json(['sandbox', 'create', 'io']);
    const child = spawnSync(process.execPath, [path.resolve('bin/warden.js'), 'exec', 'io', '--', 'sh', '-c', 'tr a-z A-Z; kill -TERM $$'],
      { input: 'shout\n', encoding: 'utf8', env: { ...process.env, WARDEN_HOME: home.dir }, timeout: 60_000 });
    assert.equal(child.stdout, 'SHOUT\n');
    assert.equal(child.status, 143);
  });

  test('bad requests change nothing and say what to do', async () => {
    const missing = await home.run(['exec', 'nope', '--', 'true']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no sandbox named nope \(`warden sandbox list` shows them\)/);
    const badName = await home.run(['sandbox', 'create', '../evil']);
    assert.equal(badName.status, 1);
    assert.match(badName.stderr, /not a valid name/);
    const duplicate = await home.run(['sandbox', 'create', 'io']);
    assert.match(duplicate.stderr, /exists already/);
  });

  test('many CLI calls at once are all answered', async () => {
    const calls = await Promise.all([
      ...Array.from({ length: 6 }, () => home.run(['sandbox', 'list', '--json'])),
      ...Array.from({ length: 4 }, (_, i) => home.run(['exec', 'io', '--', 'sh', '-c', `echo ${i}`])),
    ]);
    for (const call of calls) assert.equal(call.status, 0, call.stderr);
    assert.deepEqual(calls.slice(6).map((c) => c.stdout), ['0\n', '1\n', '2\n', '3\n']);
  });
});

describe('gateway: live policy changes', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  let server: http.Server;
  let port = 0;
  before(async () => {
    server = http.createServer((_req, res) => res.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await home.cleanup();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const curl = () => home.run(['exec', 'web', '--', 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`]);

  test('an endpoint added with --wait is enforced for the next request, and every revision is kept', async () => {
    await home.json(['sandbox', 'create', 'web']);
    assert.equal((await curl()).stdout, '403', 'nothing is allowed before the update');

    const update = await home.json<{ rev: number; live: boolean }>(['policy', 'update', 'web',
      '--add-endpoint', `127.0.0.1:${port}`, '--allowed-ip', '127.0.0.1', '--binary', '/usr/bin/curl', '--reason', 'local server', '--wait']);
    assert.deepEqual([update.rev, update.live], [2, true]);
    assert.equal((await curl()).stdout, '200');

    const history = await home.json<Array<{ rev: number; reason: string | null }>>(['policy', 'history', 'web']);
    assert.deepEqual(history.map((r) => r.rev), [1, 2]);
    assert.equal(history[1]!.reason, 'local server');
    const diff = await home.run(['policy', 'diff', 'web', '1', '2']);
    assert.match(diff.stdout, new RegExp(`\\+ network_policies\\.\\S+: .*127\\.0\\.0\\.1`));

    const allowed = await home.run(['policy', 'explain', 'web', '--binary', '/usr/bin/curl', `http://127.0.0.1:${port}/`]);
    assert.equal(allowed.status, 0, allowed.stdout);
    assert.match(allowed.stdout, /^ALLOW/);
    const denied = await home.run(['policy', 'explain', 'web', '--binary', '/usr/bin/wget', `http://127.0.0.1:${port}/`]);
    assert.equal(denied.status, 1);
    assert.match(denied.stdout, /^DENY/);

    const removed = await home.json<{ rev: number }>(['policy', 'update', 'web', '--remove-endpoint', `127.0.0.1:${port}`]);
    assert.equal(removed.rev, 3);
    assert.equal((await curl()).stdout, '403', 'the removal is enforced at once too');
  });

  test('a static section cannot change while the sandbox runs; nothing is half-applied', async () => {
    const dir = path.dirname(home.dir);
    const file = writePolicy(dir, 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /etc]\n  read_write: [/tmp]\n', 'static.yaml');
    const refused = await home.run(['policy', 'set', 'web', file]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /filesystem_policy.* cannot change while sandbox web runs/);
    const history = await home.json<unknown[]>(['policy', 'history', 'web']);
    assert.equal(history.length, 3, 'no revision was added');
  });

  test('verdicts, lifecycle and revisions are in the audit log, and it verifies', async () => {
    const logs = await home.run(['logs', 'web']);
    assert.match(logs.stdout, /DENY \/usr\/bin\/curl/);
    assert.match(logs.stdout, /ALLOW \/usr\/bin\/curl/);
    assert.match(logs.stdout, /policy\.revision/);
    const verify = await home.run(['audit', 'verify']);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });
});

describe('gateway: restarts and crashes', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  after(() => home.cleanup());

  test('a gateway restart brings running sandboxes back with their workdir', async () => {
    await home.json(['sandbox', 'create', 'keep']);
    await home.run(['exec', 'keep', '--', 'sh', '-c', 'echo survived > /sandbox/note']);
    await home.json(['sandbox', 'create', 'idle']);
    await home.json(['sandbox', 'stop', 'idle']);
    assert.equal((await home.run(['gateway', 'stop'])).status, 0);
    assert.equal((await home.run(['gateway', 'status'])).status, 1);

    const list = await home.json<Array<{ name: string; state: string }>>(['sandbox', 'list']);
    assert.deepEqual(list.map((s) => [s.name, s.state]), [['idle', 'stopped'], ['keep', 'running']]);
    assert.equal((await home.run(['exec', 'keep', '--', 'cat', '/sandbox/note'])).stdout, 'survived\n');
  });

  test('kill -9 of the gateway during traffic loses no committed record and no sandbox', async () => {
    const pid = gatewayPid(home);
    const sandboxPid = (await home.json<Array<{ name: string; pid?: number }>>(['sandbox', 'list'])).find((s) => s.name === 'keep')?.pid;
    assert.ok(sandboxPid);
    const before = await home.json<{ records: number }>(['audit', 'verify']);
    const busy = Array.from({ length: 4 }, () => home.run(['exec', 'keep', '--', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do i=$((i+1)); done; echo done']));
    process.kill(pid, 'SIGKILL');
    await Promise.all(busy);
    // The sandbox died with its gateway (nothing of it runs unsupervised).
    await waitFor(() => !existsSync(`/proc/${sandboxPid}`), 'the sandbox to die with its gateway');

    const verify = await home.run(['audit', 'verify', '--json']);
    assert.equal(verify.status, 0, verify.stdout);
    assert.ok((JSON.parse(verify.stdout) as { result: { records: number } }).result.records >= before.records, 'no committed record was lost');
    const list = await home.json<Array<{ name: string; state: string }>>(['sandbox', 'list']);
    assert.deepEqual(list.map((s) => [s.name, s.state]), [['idle', 'stopped'], ['keep', 'running']], 'the new gateway restored them');
    assert.notEqual(gatewayPid(home), pid);
    assert.equal((await home.run(['exec', 'keep', '--', 'cat', '/sandbox/note'])).stdout, 'survived\n');
  });
});
