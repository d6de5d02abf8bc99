// One audit log for everything: a one-shot `warden run` lands in the same hash-chained log as the
// gateway, under its run-<id> name, and secrets an agent puts in URL paths, queries, command lines
// or its environment never reach the log, its database files or its export. The scan that proves
// their absence is shown to find a canary when one is there.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore } from '../../src/store/index.js';
import { newHome, SKIP_NO_BWRAP, tempDir, warden, writePolicy } from './helpers.js';

const scratch = tempDir('warden-e2e-audit-');
after(() => scratch.cleanup());

// Canaries of several shapes, assembled at run time so no source file holds one.
const canaries = {
  pathToken: `bot${'5'.repeat(10)}:AA${'Zq'.repeat(17)}`,
  queryKey: `sk-proj-${'Qk'.repeat(12)}`,
  argvToken: `ghp_${'Av'.repeat(18)}`,
  envKey: `sk-ant-api03-${'Ev'.repeat(12)}`,
  execArgv: `xoxb-${'4'.repeat(12)}-${'Ex'.repeat(8)}`,
  execEnv: `github_pat_${'Ee'.repeat(20)}`,
};

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    const stat = statSync(full);
    if (stat.isDirectory()) return filesUnder(full);
    return stat.isFile() ? [full] : [];
  });
}

/** Which canaries appear, as bytes, in any file under `dir` or in `extra` text. */
function found(dir: string, extra = ''): string[] {
  const blobs = [...filesUnder(dir).map((file) => readFileSync(file)), Buffer.from(extra)];
  return Object.entries(canaries).filter(([, secret]) => blobs.some((blob) => blob.includes(secret))).map(([name]) => name);
}

describe('one audit log, and no secrets in it', { skip: SKIP_NO_BWRAP }, () => {
  test('a one-shot run is recorded in the audit log: started, its decisions, its end; logs and export see it', () => {
    const home = path.join(scratch.dir, 'home-run');
    const policy = writePolicy(scratch.dir, 'version: 1\nnetwork_policies:\n  only:\n    endpoints: [{ host: allowed.example, port: 80 }]\n    binaries: [{ path: /usr/bin/curl }]\n', 'only.yaml');
    const script = `echo ${canaries.argvToken} >/dev/null; curl -s -o /dev/null -w '%{http_code}\\n' 'http://denied.example/${canaries.pathToken}/getUpdates?api_key=${canaries.queryKey}&page=2'`;
    const r = warden(['run', '--name', 'run-audited', '--policy', policy, '-e', `OPENAI_API_KEY=${canaries.envKey}`, '--', 'sh', '-c', script], { env: { WARDEN_HOME: home } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '403');
    assert.match(r.stderr, /warden: denied \/usr\/bin\/curl \(pid \d+\) -> GET denied\.example:80\/<redacted>\/getUpdates: /, 'the denial line is built from the redacted record');

    const logs = warden(['logs', 'run-audited', '--json'], { env: { WARDEN_HOME: home } });
    assert.equal(logs.status, 0, logs.stderr);
    const records = logs.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; payload: Record<string, unknown> });
    assert.deepEqual(records.map((rec) => rec.kind), ['run.started', 'egress.verdict', 'run.exited']);
    const verdict = records[1]!.payload;
    assert.equal(verdict.verdict, 'deny');
    assert.equal(verdict.code, 'no_endpoint');
    assert.equal(verdict.stage, 'policy');
    assert.equal(verdict.path, '/<redacted>/getUpdates');
    assert.deepEqual(records[2]!.payload, { code: 0 });
    assert.equal(warden(['audit', 'verify'], { env: { WARDEN_HOME: home } }).status, 0);

    const exported = warden(['audit', 'export'], { env: { WARDEN_HOME: home } });
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stdout, /"sandbox":"run-audited"/);
    assert.deepEqual(found(home, exported.stdout + logs.stdout + r.stderr), [], 'no canary in WARDEN_HOME, the export, the logs or stderr');
  });

  test('a named sandbox\'s exec: command line and environment never stored', async () => {
    const home = newHome();
    try {
      await home.json(['sandbox', 'create', 'secrets']);
      const exec = await home.run(['exec', 'secrets', '-e', `GITHUB_TOKEN=${canaries.execEnv}`, '--', 'sh', '-c', `echo ${canaries.execArgv} | wc -c`]);
      assert.equal(exec.status, 0, exec.stderr);
      const logs = await home.run(['logs', 'secrets']);
      assert.match(logs.stdout, /exec\.started .*<redacted>/);
      await home.run(['gateway', 'stop']);
      assert.deepEqual(found(home.dir, logs.stdout), []);
    } finally {
      await home.cleanup();
    }
  });

  test('control: the same scan finds a canary that reaches the database', () => {
    const home = path.join(scratch.dir, 'home-run');
    assert.ok(existsSync(path.join(home, 'warden.db')), 'the first test made this home');
    const copy = path.join(scratch.dir, 'home-copy');
    const store = openStore(copy);
    store.close();
    copyFileSync(path.join(home, 'warden.db'), path.join(copy, 'warden.db'));
    assert.deepEqual(found(copy), []);
    // Written below the redacting append path, as a bug that bypassed it would.
    const raw = openStore(copy);
    try {
      const head = raw.auditRows.head()!;
      raw.auditRows.insert({ seq: head.seq + 1, ts: new Date().toISOString(), kind: 'egress.verdict', sandbox: 'x', actor: null, payload: JSON.stringify({ path: `/${canaries.pathToken}/x` }), prevHash: head.hash, hash: 'f'.repeat(64) });
    } finally {
      raw.close();
    }
    assert.deepEqual(found(copy), ['pathToken']);
  });
});
